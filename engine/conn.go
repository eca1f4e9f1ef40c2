package engine

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
)

// Defaults used when a Config field is zero.
const (
	DefaultMaxMessageSize  = 64 << 20
	DefaultReadBufferSize  = 32 << 10
	DefaultWriteBufferSize = 64 << 10
	DefaultChunkSize       = 256 << 10
	DefaultCloseTimeout    = 3 * time.Second
)

const rsv1 = 0x4 // ws.Header.Rsv bit of RSV1 (RFC 7692 "Per-Message Compressed")

// Direction tells a Trace hook whether a frame was sent or received.
type Direction byte

// Frame directions for Config.Trace.
const (
	Sent     Direction = '>'
	Received Direction = '<'
)

// Config tunes a Conn. The zero value gives the defaults.
type Config struct {
	// MaxMessageSize bounds a received message (all its fragments together).
	// 0 means DefaultMaxMessageSize (64 MiB); a negative value means no limit.
	// A larger message fails the connection with close 1009 and
	// ErrMessageTooBig.
	MaxMessageSize int64

	// ReadBufferSize is the size of the pooled read buffer (default 32 KiB).
	ReadBufferSize int

	// WriteBufferSize is how many bytes of queued frames (Queue) are kept
	// before they are written without an explicit Flush, and the largest
	// frame that is built in one piece (default 64 KiB).
	WriteBufferSize int

	// ChunkSize is the piece size in which payloads larger than
	// WriteBufferSize are masked and written (default 256 KiB, fits L2).
	ChunkSize int

	// FlushDelay, when positive, flushes queued frames (Queue) by itself
	// that long after the first of them was queued.
	FlushDelay time.Duration

	// CloseTimeout bounds the close handshake and the write of each
	// automatic pong (default 3 s; see ReadMessage).
	CloseTimeout time.Duration

	// SkipUTF8Validation turns off validation of received text messages.
	SkipUTF8Validation bool

	// DisableAutoPong stops the Conn from answering pings by itself.
	DisableAutoPong bool

	// RSVAllowed is the set of RSV bits negotiated extensions may use
	// (ws.Header.Rsv layout: RSV1 = 0x4). Other bits are protocol errors.
	RSVAllowed byte

	// OnControl, if set, is called by the reading goroutine for every ping,
	// pong and close frame after it was handled. payload is valid only
	// during the call.
	OnControl func(op ws.OpCode, payload []byte)

	// Trace, if set, is called for every frame sent and received with the
	// header and the unmasked payload (for received frames possibly only the
	// bytes available so far). payload is valid only during the call.
	Trace func(dir Direction, h ws.Header, payload []byte)

	// Deflate, if set, turns on permessage-deflate with the parameters
	// negotiated in the handshake (RFC 7692). RSV1 is then allowed.
	Deflate *Deflate

	// MaskKey, if set, replaces the random mask key source. For tests only:
	// RFC 6455 §5.3 requires unpredictable keys.
	MaskKey func() [4]byte
}

func (c *Config) withDefaults() Config {
	var d Config
	if c != nil {
		d = *c
	}
	if d.MaxMessageSize == 0 {
		d.MaxMessageSize = DefaultMaxMessageSize
	}
	if d.ReadBufferSize <= 0 {
		d.ReadBufferSize = DefaultReadBufferSize
	}
	if d.ReadBufferSize < 512 {
		d.ReadBufferSize = 512
	}
	if d.WriteBufferSize <= 0 {
		d.WriteBufferSize = DefaultWriteBufferSize
	}
	if d.WriteBufferSize < 256 {
		d.WriteBufferSize = 256
	}
	if d.ChunkSize <= 0 {
		d.ChunkSize = DefaultChunkSize
	}
	if d.ChunkSize < 512 {
		d.ChunkSize = 512
	}
	if d.CloseTimeout <= 0 {
		d.CloseTimeout = DefaultCloseTimeout
	}
	return d
}

// Conn is a client-side WebSocket connection over an established network
// connection (the opening handshake is done by the caller). Any number of
// goroutines may send at once; one goroutine at a time may receive.
type Conn struct {
	_   noCopy
	nc  net.Conn
	cfg Config

	r reader
	w writer

	comp *compressor // nil without permessage-deflate
	dec  decompressor

	closeMu    sync.Mutex
	closeSent  bool          // a close frame was written (or writing failed)
	closed     atomic.Bool   // the network connection is closed
	localClose atomic.Bool   // Close or Abort was called
	closeDone  chan struct{} // closed when the peer's close frame was read
	peerClose  *CloseError   // peer's close, once received
	closeCode  ws.StatusCode // code we sent, if any
	netErr     error         // first fatal network error
	netErrOnce sync.Once
}

// New wraps nc, which has completed the opening handshake. pre holds bytes
// already read past the handshake (they are the start of the frame stream).
// cfg may be nil.
func New(nc net.Conn, pre []byte, cfg *Config) *Conn {
	c := &Conn{nc: nc, cfg: cfg.withDefaults(), closeDone: make(chan struct{})}
	if c.cfg.Deflate != nil {
		c.cfg.RSVAllowed |= rsv1
		c.comp = newCompressor(c.cfg.Deflate)
	}
	c.r.init(c, pre)
	c.w.init(c)
	return c
}

// NetConn returns the underlying network connection.
func (c *Conn) NetConn() net.Conn { return c.nc }

// Config returns the effective configuration (defaults filled in).
func (c *Conn) Config() Config { return c.cfg }

func (c *Conn) maskKey() [4]byte {
	if c.cfg.MaskKey != nil {
		return c.cfg.MaskKey()
	}
	var k [4]byte
	v := rand.Uint32()
	k[0], k[1], k[2], k[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
	return k
}

// CloseError is returned once the peer has closed the connection: Code and
// Reason are from its close frame (RFC 6455 §7.1.5, §7.1.6). Code 1005 means
// the close frame had no status; 1006 means the connection was lost without a
// close frame.
type CloseError struct {
	Code   ws.StatusCode
	Reason string
	err    error // cause, for 1006
}

func (e *CloseError) Error() string {
	if e.Code == ws.StatusAbnormalClosure {
		if e.err != nil {
			return fmt.Sprintf("websocket: connection closed without a close frame (1006): %v", e.err)
		}
		return "websocket: connection closed without a close frame (1006)"
	}
	if e.Reason == "" {
		return fmt.Sprintf("websocket: closed by peer: %d %s", e.Code, statusText(e.Code))
	}
	return fmt.Sprintf("websocket: closed by peer: %d %s: %q", e.Code, statusText(e.Code), e.Reason)
}

// Unwrap returns the network error behind an abnormal closure, if any.
func (e *CloseError) Unwrap() error { return e.err }

func statusText(c ws.StatusCode) string {
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

// Errors returned by Conn. Use errors.Is.
var (
	// ErrProtocol wraps a ws.ProtocolError describing what the peer broke;
	// the connection was failed with close 1002.
	ErrProtocol = errors.New("websocket: protocol error")
	// ErrMessageTooBig means a received message exceeded MaxMessageSize;
	// the connection was failed with close 1009.
	ErrMessageTooBig = errors.New("websocket: message too big")
	// ErrClosed is returned by every call after the connection was closed
	// locally (Close or Abort). It wraps net.ErrClosed.
	ErrClosed = fmt.Errorf("websocket: use of closed connection: %w", net.ErrClosed)
	// ErrWriteInProgress is returned when a message writer is already open.
	errNotText = errors.New("websocket: close reason is not valid UTF-8")
)

// netError records the first fatal network error.
func (c *Conn) setNetErr(err error) error {
	c.netErrOnce.Do(func() { c.netErr = err })
	return c.netErr
}

type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}
