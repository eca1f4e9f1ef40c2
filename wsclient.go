package wsclient

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/gobwas/ws"

	"github.com/wsclient/wsclient/codec"
	"github.com/wsclient/wsclient/engine"
)

// Opcode is a WebSocket frame opcode (RFC 6455 §5.2), websocket-client's
// ABNF.OPCODE_*.
type Opcode byte

// Opcodes.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

// String returns the opcode's name as wsdump prints it ("text", "binary", ...).
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

// IsControl reports whether o is a control opcode (close, ping, pong).
func (o Opcode) IsControl() bool { return o&0x8 != 0 }

// StatusCode is a close status code (RFC 6455 §7.4).
type StatusCode uint16

// Close status codes (RFC 6455 §7.4.1, IANA registry).
const (
	StatusNormal            StatusCode = 1000
	StatusGoingAway         StatusCode = 1001
	StatusProtocolError     StatusCode = 1002
	StatusUnsupportedData   StatusCode = 1003
	StatusNoStatus          StatusCode = 1005 // never on the wire: "no status in the close frame"
	StatusAbnormalClosure   StatusCode = 1006 // never on the wire: "lost without a close frame"
	StatusInvalidPayload    StatusCode = 1007
	StatusPolicyViolation   StatusCode = 1008
	StatusMessageTooBig     StatusCode = 1009
	StatusMandatoryExt      StatusCode = 1010
	StatusInternalError     StatusCode = 1011
	StatusServiceRestart    StatusCode = 1012
	StatusTryAgainLater     StatusCode = 1013
	StatusBadGateway        StatusCode = 1014
	StatusTLSHandshakeError StatusCode = 1015 // never on the wire
)

// CloseError is returned (possibly wrapped; use errors.As) once the peer has
// closed the connection, with the code and reason of its close frame.
// Code is StatusNoStatus when the frame carried none and
// StatusAbnormalClosure when the connection was lost without a close frame.
type CloseError struct {
	Code   StatusCode
	Reason string

	err *engine.CloseError
}

func (e *CloseError) Error() string {
	if e.err != nil {
		return e.err.Error()
	}
	return (&engine.CloseError{Code: ws.StatusCode(e.Code), Reason: e.Reason}).Error()
}

// Unwrap returns the network error behind an abnormal closure, if any.
func (e *CloseError) Unwrap() error {
	if e.err != nil {
		return e.err.Unwrap()
	}
	return nil
}

// Errors. Match them with errors.Is.
var (
	// ErrBadHandshake: the server's opening handshake response was not an
	// acceptable 101 (wrong accept key, missing Upgrade, a subprotocol or
	// extension that was not offered, a non-101 status: see HandshakeError).
	ErrBadHandshake = codec.ErrBadHandshake
	// ErrProtocol: the peer broke RFC 6455; the connection was failed with
	// close 1002.
	ErrProtocol = engine.ErrProtocol
	// ErrInvalidFrame: Send, Queue, SendFrame, SendFragmented or NextWriter
	// was asked for a frame RFC 6455 does not allow (a reserved opcode, a
	// bare continuation frame, a malformed close payload, ...). Nothing was
	// sent; the connection is still usable.
	ErrInvalidFrame = engine.ErrInvalidFrame
	// ErrMessageTooBig: a received message exceeded MaxMessageSize; the
	// connection was failed with close 1009.
	ErrMessageTooBig = engine.ErrMessageTooBig
	// ErrInvalidUTF8: a received text message or close reason was not
	// UTF-8; the connection was failed with close 1007.
	ErrInvalidUTF8 = codec.ErrInvalidUTF8
	// ErrClosed: the connection was closed locally (Close, Abort). It wraps
	// net.ErrClosed.
	ErrClosed = engine.ErrClosed
	// ErrNotConnected: an App has no open connection to send on.
	ErrNotConnected = errors.New("wsclient: not connected")
)

// HandshakeError is returned (wrapped) when the server answered the opening
// handshake with a status other than 101. Body holds at most the first
// 4 KiB of the response body. errors.Is(err, ErrBadHandshake) is true.
type HandshakeError = codec.HandshakeError

// convErr turns engine close errors into *CloseError. Cold path only.
func convErr(err error) error {
	if err == nil {
		return nil
	}
	var ce *engine.CloseError
	if errors.As(err, &ce) {
		return &CloseError{Code: StatusCode(ce.Code), Reason: ce.Reason, err: ce}
	}
	return err
}

func errorf(format string, a ...any) error {
	return fmt.Errorf("wsclient: "+format, a...)
}
