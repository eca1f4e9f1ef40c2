package wsclient

import (
	"io"
	"net"
	"net/http"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsclient/wsclient/engine"
)

// Conn is an open WebSocket client connection, websocket-client's WebSocket.
// Any number of goroutines may send at once (their frames are written
// together, group commit); one goroutine at a time may receive.
type Conn struct {
	_           noCopy
	e           *engine.Conn
	status      int
	header      http.Header
	subprotocol string
	extensions  []string
}

type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

// Send sends p as one message of type op (websocket-client's send(data,
// opcode)). It returns once the frame was handed to the network; p is never
// modified and may be reused at once. A control opcode sends a control frame
// (payload at most 125 bytes).
func (c *Conn) Send(op Opcode, p []byte) error {
	if err := c.e.WriteMessage(ws.OpCode(op), p); err != nil {
		return convErr(err)
	}
	return nil
}

// SendText sends s as a text message. s must be valid UTF-8 (not checked:
// the peer will fail the connection with 1007 otherwise).
func (c *Conn) SendText(s string) error {
	return c.Send(OpText, stringBytes(s))
}

// SendBinary sends p as a binary message (websocket-client's send_binary).
func (c *Conn) SendBinary(p []byte) error { return c.Send(OpBinary, p) }

// Queue masks a message into the write buffer without writing it; queued
// messages are written together by Flush, when the buffer
// (DialOptions.WriteBufferSize) is full, by the next Send, or after
// DialOptions.FlushDelay. It lets a sender put thousands of small messages
// into one syscall.
func (c *Conn) Queue(op Opcode, p []byte) error {
	return convErr(c.e.QueueMessage(ws.OpCode(op), p))
}

// QueueText queues s as a text message (see Queue).
func (c *Conn) QueueText(s string) error { return c.Queue(OpText, stringBytes(s)) }

// Flush writes every queued message.
func (c *Conn) Flush() error { return convErr(c.e.Flush()) }

// SendFragmented sends p as one message split into frames of at most
// fragSize bytes (RFC 6455 §5.4).
func (c *Conn) SendFragmented(op Opcode, p []byte, fragSize int) error {
	return convErr(c.e.WriteFragmented(ws.OpCode(op), p, fragSize))
}

// SendFrame sends one raw frame with the given FIN bit (websocket-client's
// send_frame). Continuing a fragmented message correctly is up to the caller.
func (c *Conn) SendFrame(op Opcode, p []byte, fin bool) error {
	return convErr(c.e.WriteFrame(fin, 0, ws.OpCode(op), p))
}

// NextWriter returns a writer that streams one message of type op
// (OpText or OpBinary) as frames of fragSize bytes (0: the write buffer
// size). Close sends the final frame. Other data messages wait until it is
// closed; pings and pongs do not.
func (c *Conn) NextWriter(op Opcode, fragSize int) (io.WriteCloser, error) {
	w, err := c.e.NextWriter(ws.OpCode(op), fragSize)
	if err != nil {
		return nil, convErr(err)
	}
	return w, nil
}

// Recv returns the next message, whole (websocket-client's recv_data).
// Pings are answered automatically unless DialOptions.DisableAutoPong.
// The returned slice belongs to the Conn and is valid until the next Recv,
// Close or Abort: copy it to keep it.
//
// Once the server closed the connection, Recv returns a *CloseError with
// its code and reason.
func (c *Conn) Recv() (Opcode, []byte, error) {
	op, p, err := c.e.ReadMessage()
	if err != nil {
		return 0, nil, convErr(err)
	}
	return Opcode(op), p, nil
}

// RecvText is Recv for callers that expect text; binary messages are
// returned as their bytes converted to a string.
func (c *Conn) RecvText() (string, error) {
	_, p, err := c.Recv()
	return string(p), err
}

// Frame is one received frame (websocket-client's ABNF).
type Frame struct {
	Fin     bool
	Rsv     byte // RSV1 = 0x4, RSV2 = 0x2, RSV3 = 0x1
	Opcode  Opcode
	Payload []byte // valid until the next RecvFrame, Close or Abort
	// Inflated is set on the last frame of a compressed message (RSV1 on
	// its first frame; see DialOptions.Compression): the whole message,
	// decompressed and checked. Payload stays the compressed bytes as they
	// were on the wire. Valid as long as Payload.
	Inflated []byte
}

// RecvFrame returns the next frame, data or control, like websocket-client's
// recv_frame. Control frames are also handled (pings answered, close
// answered); fragmentation, size limit and UTF-8 are still checked. With
// compression, frames keep their compressed payload and the message's last
// frame also carries it inflated (Frame.Inflated).
func (c *Conn) RecvFrame() (Frame, error) {
	f, err := c.e.ReadFrame()
	if err != nil {
		return Frame{}, convErr(err)
	}
	return Frame{Fin: f.Header.Fin, Rsv: f.Header.Rsv, Opcode: Opcode(f.Header.OpCode), Payload: f.Payload, Inflated: f.Inflated}, nil
}

// NextReader waits for the next data message and returns its opcode and a
// reader of its payload, for messages too large to hold in memory. A
// compressed message (permessage-deflate) is the exception: it is inflated
// whole first, within MaxMessageSize, and then read from memory.
func (c *Conn) NextReader() (Opcode, io.Reader, error) {
	op, r, err := c.e.NextReader()
	if err != nil {
		return 0, nil, convErr(err)
	}
	return Opcode(op), &convReader{r}, nil
}

type convReader struct{ r *engine.MessageReader }

func (c *convReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if err != nil && err != io.EOF {
		err = convErr(err)
	}
	return n, err
}

// Ping sends a ping with payload p (at most 125 bytes).
func (c *Conn) Ping(p []byte) error { return convErr(c.e.Ping(p)) }

// Pong sends a pong with payload p (at most 125 bytes).
func (c *Conn) Pong(p []byte) error { return convErr(c.e.Pong(p)) }

// Close performs the closing handshake (RFC 6455 §7.1.2): it sends a close
// frame with code and reason, waits up to DialOptions.CloseTimeout
// (default 3 s) for the server's close frame, then closes the network
// connection. It never blocks longer than that, even on a dead peer or a
// stalled TLS connection. It returns nil when the server answered, and an
// error wrapping os.ErrDeadlineExceeded when it did not. After Close, every
// call returns an error wrapping net.ErrClosed.
//
// Messages the server sends after our close frame are discarded, as
// websocket-client's close() does: if no goroutine is inside Recv (or
// another receive call) when Close starts, Close itself reads and drops them
// while it waits for the server's close; if one is, that receiver keeps
// reading, gets those messages, and Close waits for it to see the server's
// close frame. To receive every message up to the close, keep a receiver
// running and call Close from another goroutine.
func (c *Conn) Close(code StatusCode, reason string) error {
	return convErr(c.e.Close(ws.StatusCode(code), reason))
}

// Abort closes the network connection at once, without a close handshake.
func (c *Conn) Abort() error { return c.e.Abort() }

// Subprotocol returns the subprotocol the server chose, or "".
func (c *Conn) Subprotocol() string { return c.subprotocol }

// Extensions returns the extensions the server accepted (raw header values).
func (c *Conn) Extensions() []string { return c.extensions }

// Status returns the HTTP status of the handshake response (101), like
// websocket-client's getstatus.
func (c *Conn) Status() int { return c.status }

// Header returns the handshake response headers (websocket-client's
// getheaders).
func (c *Conn) Header() http.Header { return c.header }

// NetConn returns the underlying network connection (websocket-client's
// sock). Reading from or writing to it directly corrupts the stream.
func (c *Conn) NetConn() net.Conn { return c.e.NetConn() }

// SetDeadline sets the read and write deadlines (websocket-client's
// settimeout, as an absolute time). A read that times out in the middle of
// a frame leaves the connection usable: the next read continues the frame.
func (c *Conn) SetDeadline(t time.Time) error { return c.e.NetConn().SetDeadline(t) }

// SetReadDeadline sets the deadline for Recv and friends.
func (c *Conn) SetReadDeadline(t time.Time) error { return c.e.NetConn().SetReadDeadline(t) }

// SetWriteDeadline sets the deadline for Send and friends. A write that
// times out leaves the connection unusable (a frame may be half written).
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.e.NetConn().SetWriteDeadline(t) }

// LocalAddr returns the local network address.
func (c *Conn) LocalAddr() net.Addr { return c.e.NetConn().LocalAddr() }

// RemoteAddr returns the remote network address.
func (c *Conn) RemoteAddr() net.Addr { return c.e.NetConn().RemoteAddr() }
