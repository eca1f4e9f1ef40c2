package wsclient

import (
	"fmt"

	"github.com/wsclient/wsclient/codec"
	"github.com/wsclient/wsclient/engine"
)

// Opcode is a WebSocket frame opcode (RFC 6455 §5.2), websocket-client's
// ABNF.OPCODE_*. It is the engine's type.
type Opcode = engine.Opcode

// Opcodes.
const (
	OpContinuation = engine.OpContinuation
	OpText         = engine.OpText
	OpBinary       = engine.OpBinary
	OpClose        = engine.OpClose
	OpPing         = engine.OpPing
	OpPong         = engine.OpPong
)

// StatusCode is a close status code (RFC 6455 §7.4). It is the engine's
// type.
type StatusCode = engine.StatusCode

// Close status codes (RFC 6455 §7.4.1, IANA registry).
const (
	StatusNormal          = engine.StatusNormal
	StatusGoingAway       = engine.StatusGoingAway
	StatusProtocolError   = engine.StatusProtocolError
	StatusUnsupportedData = engine.StatusUnsupportedData
	StatusNoStatus        = engine.StatusNoStatus
	StatusAbnormalClosure = engine.StatusAbnormalClosure
	StatusInvalidPayload  = engine.StatusInvalidPayload
	StatusPolicyViolation = engine.StatusPolicyViolation
	StatusMessageTooBig   = engine.StatusMessageTooBig
	StatusMandatoryExt    = engine.StatusMandatoryExt
	StatusInternalError   = engine.StatusInternalError
	StatusServiceRestart  = engine.StatusServiceRestart
	StatusTryAgainLater   = engine.StatusTryAgainLater
	StatusBadGateway      = engine.StatusBadGateway
)

// CloseError is returned (possibly wrapped; use errors.As) once the peer
// closed the connection, with the code and reason of its close frame. It is
// the engine's type.
type CloseError = engine.CloseError

// Frame is one received frame (websocket-client's ABNF); see
// Conn.RecvFrame. It is the engine's type.
type Frame = engine.Frame

// Errors. Match them with errors.Is.
var (
	// ErrBadHandshake: the server's opening handshake response was not an
	// acceptable 101 (wrong accept key, missing Upgrade, a subprotocol or
	// extension that was not offered, a non-101 status: see HandshakeError).
	ErrBadHandshake = codec.ErrBadHandshake
	// ErrProtocol: the peer broke RFC 6455; the connection was failed with
	// close 1002.
	ErrProtocol = engine.ErrProtocol
	// ErrInvalidFrame: Send, Queue, SendFrame or NextWriter
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
	// ErrClosed: the connection was closed locally (Close, Abort), or an
	// App has no open connection to send on (before it connects, between
	// reconnects, after it stopped), as websocket-client raises
	// WebSocketConnectionClosedException for both. It wraps net.ErrClosed.
	ErrClosed = engine.ErrClosed
)

// HandshakeError is returned (wrapped) when the server answered the opening
// handshake with a status other than 101. Body holds at most the first
// 4 KiB of the response body. errors.Is(err, ErrBadHandshake) is true.
type HandshakeError = codec.HandshakeError

func errorf(format string, a ...any) error {
	return fmt.Errorf("wsclient: "+format, a...)
}
