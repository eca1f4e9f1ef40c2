package engine

import (
	"errors"
	"fmt"
	"net"
	"strconv"
)

// Opcode is a WebSocket frame opcode (RFC 6455 §5.2), websocket-client's
// ABNF.OPCODE_*.
type Opcode byte

// Opcodes (RFC 6455 §11.8).
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

// String returns the opcode's name as wsdump prints it ("text", "binary",
// ...), or "opcode(N)" for a reserved one.
func (o Opcode) String() string {
	switch o {
	case OpContinuation:
		return "cont"
	case OpText:
		return "text"
	case OpBinary:
		return "binary"
	case OpClose:
		return "close"
	case OpPing:
		return "ping"
	case OpPong:
		return "pong"
	}
	return "opcode(" + strconv.Itoa(int(o)) + ")"
}

// StatusCode is a close status code (RFC 6455 §7.4).
type StatusCode uint16

// Close status codes (RFC 6455 §7.4.1, IANA registry).
const (
	StatusNormal          StatusCode = 1000
	StatusGoingAway       StatusCode = 1001
	StatusProtocolError   StatusCode = 1002
	StatusUnsupportedData StatusCode = 1003
	StatusNoStatus        StatusCode = 1005 // never on the wire: "no status in the close frame"
	StatusAbnormalClosure StatusCode = 1006 // never on the wire: "lost without a close frame"
	StatusInvalidPayload  StatusCode = 1007
	StatusPolicyViolation StatusCode = 1008
	StatusMessageTooBig   StatusCode = 1009
	StatusMandatoryExt    StatusCode = 1010
	StatusInternalError   StatusCode = 1011
	StatusServiceRestart  StatusCode = 1012
	StatusTryAgainLater   StatusCode = 1013
	StatusBadGateway      StatusCode = 1014
)

// statusText returns the code's name from the IANA registry ("normal
// closure", ...), or "application code" for codes outside it.
func statusText(c StatusCode) string {
	switch c {
	case 1000:
		return "normal closure"
	case 1001:
		return "going away"
	case 1002:
		return "protocol error"
	case 1003:
		return "unsupported data"
	case 1005:
		return "no status"
	case 1006:
		return "abnormal closure"
	case 1007:
		return "invalid payload data"
	case 1008:
		return "policy violation"
	case 1009:
		return "message too big"
	case 1010:
		return "mandatory extension"
	case 1011:
		return "internal error"
	case 1012:
		return "service restart"
	case 1013:
		return "try again later"
	case 1014:
		return "bad gateway"
	case 1015:
		return "TLS handshake"
	}
	return "application code"
}

// Frame is one received frame (websocket-client's ABNF). Payload is owned by
// the Conn and valid until the next receive call, Close or Abort.
type Frame struct {
	Fin    bool
	Opcode Opcode
	// Compressed is set on every frame of a message sent compressed
	// (permessage-deflate, RFC 7692: RSV1 on its first frame). Payload then
	// holds the compressed bytes as they were on the wire.
	Compressed bool
	Payload    []byte
	// Inflated is set on the last frame of a compressed message: the whole
	// message, inflated, size-limited and, for text, UTF-8-checked. It is
	// nil otherwise and owned by the Conn like Payload.
	Inflated []byte
}

// CloseError is returned (possibly wrapped; use errors.As) once the peer has
// closed the connection: Code and Reason are from its close frame
// (RFC 6455 §7.1.5, §7.1.6). Code is StatusNoStatus when the frame carried
// none and StatusAbnormalClosure when the connection was lost without a
// close frame.
type CloseError struct {
	Code   StatusCode
	Reason string
	err    error // cause, for 1006
}

func (e *CloseError) Error() string {
	if e.Code == StatusAbnormalClosure {
		if e.err != nil {
			return fmt.Sprintf("wsclient: connection closed without a close frame (1006): %v", e.err)
		}
		return "wsclient: connection closed without a close frame (1006)"
	}
	if e.Reason == "" {
		return fmt.Sprintf("wsclient: closed by peer: %d %s", e.Code, statusText(e.Code))
	}
	return fmt.Sprintf("wsclient: closed by peer: %d %s: %q", e.Code, statusText(e.Code), e.Reason)
}

// Unwrap returns the network error behind an abnormal closure, if any.
func (e *CloseError) Unwrap() error { return e.err }

// Errors returned by Conn. Use errors.Is.
var (
	// ErrProtocol wraps a ws.ProtocolError describing what the peer broke;
	// the connection was failed with close 1002.
	ErrProtocol = errors.New("wsclient: protocol error")
	// ErrMessageTooBig means a received message exceeded MaxMessageSize;
	// the connection was failed with close 1009.
	ErrMessageTooBig = errors.New("wsclient: message too big")
	// ErrClosed is returned by every call after the connection was closed
	// locally (Close or Abort). It wraps net.ErrClosed.
	ErrClosed = fmt.Errorf("wsclient: use of closed connection: %w", net.ErrClosed)
)
