package engine

import (
	"math/rand/v2"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"
)

// Defaults used when a Config field is zero.
const (
	defaultMaxMessageSize  = 64 << 20
	defaultReadBufferSize  = 32 << 10
	defaultWriteBufferSize = 64 << 10
	defaultChunkSize       = 256 << 10
	defaultCloseTimeout    = 3 * time.Second
)

const rsv1 = 0x4 // ws.Header.Rsv bit of RSV1 (RFC 7692 "Per-Message Compressed")

// Config tunes a Conn. The zero value gives the defaults.
type Config struct {
	// MaxMessageSize bounds a received message (all its fragments together).
	// 0 means defaultMaxMessageSize (64 MiB); a negative value means no limit.
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
	// automatic pong (default 3 s; see Recv).
	CloseTimeout time.Duration

	// IOTimeout, when positive, bounds each blocking send and receive
	// call (websocket-client's timeout= and settimeout; see
	// Conn.SetIOTimeout). 0 means none.
	IOTimeout time.Duration

	// SkipUTF8Validation turns off validation of received text messages.
	SkipUTF8Validation bool

	// DisableAutoPong stops the Conn from answering pings by itself.
	DisableAutoPong bool

	// OnControl, if set, is called by the reading goroutine for every ping,
	// pong and close frame after it was handled. payload is valid only
	// during the call.
	OnControl func(op Opcode, payload []byte)

	// Trace, if set, is called for every frame sent and received with the
	// header and the unmasked payload (for received frames possibly only the
	// bytes available so far). payload is valid only during the call.
	Trace func(sent bool, h ws.Header, payload []byte)

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
		d.MaxMessageSize = defaultMaxMessageSize
	}
	d.ReadBufferSize = sizeOr(d.ReadBufferSize, defaultReadBufferSize, 512)
	d.WriteBufferSize = sizeOr(d.WriteBufferSize, defaultWriteBufferSize, 256)
	d.ChunkSize = sizeOr(d.ChunkSize, defaultChunkSize, 512)
	if d.CloseTimeout <= 0 {
		d.CloseTimeout = defaultCloseTimeout
	}
	return d
}

// sizeOr returns n, or def when n is not positive, but at least least.
func sizeOr(n, def, least int) int {
	if n <= 0 {
		n = def
	}
	return max(n, least)
}

// defaultConfig is the Config of every connection made with a nil one.
var defaultConfig = func() *Config { d := (*Config)(nil).withDefaults(); return &d }()

// lastConfig is the last hook-free Config New copied; the next connection
// whose Config is equal shares it (see sharedConfig).
var lastConfig atomic.Pointer[Config]

// sharedConfig returns cfg with the defaults applied, as a Config the
// connection only reads. A connection does not keep a copy of its own when
// another's is equal and holds no reference the application could change
// afterwards (no hooks, no Deflate): a program that opens many connections
// with the same options keeps one Config for all of them.
func sharedConfig(cfg *Config) *Config {
	if cfg == nil {
		return defaultConfig
	}
	d := cfg.withDefaults()
	if d.plain() {
		if d.equal(defaultConfig) {
			return defaultConfig
		}
		if p := lastConfig.Load(); p != nil && d.equal(p) {
			return p
		}
	}
	p := new(Config)
	*p = d
	if d.plain() {
		lastConfig.Store(p)
	}
	return p
}

// plain reports whether c holds no hook and no pointer, so that a copy of
// it may be shared.
func (c *Config) plain() bool {
	return c.OnControl == nil && c.Trace == nil && c.Deflate == nil && c.MaskKey == nil
}

// equal compares the plain fields of two Configs. A field added to Config
// must be added here or to plain (TestSharedConfigFields checks).
func (c *Config) equal(d *Config) bool {
	return c.MaxMessageSize == d.MaxMessageSize &&
		c.ReadBufferSize == d.ReadBufferSize &&
		c.WriteBufferSize == d.WriteBufferSize &&
		c.ChunkSize == d.ChunkSize &&
		c.FlushDelay == d.FlushDelay &&
		c.CloseTimeout == d.CloseTimeout &&
		c.IOTimeout == d.IOTimeout &&
		c.SkipUTF8Validation == d.SkipUTF8Validation &&
		c.DisableAutoPong == d.DisableAutoPong
}

// Conn is a client-side WebSocket connection over an established network
// connection (the opening handshake is done by the caller). Any number of
// goroutines may send at once; one goroutine at a time may receive.
//
// Memory: an open connection is one object of a few hundred bytes
// (TestIdleConnAlloc bounds it); what only some connections use (deadline
// bookkeeping, compression, the close wait, the automatic pong's timer,
// the read buffer of a connection that never read) is allocated when first
// used, and the Config is shared (see sharedConfig).
type Conn struct {
	_   noCopy
	nc  net.Conn
	cfg *Config // read-only, possibly shared with other connections

	r reader
	w writer

	timeout atomic.Int64              // IOTimeout in nanoseconds; 0: none
	dl      atomic.Pointer[deadlines] // made by the first IOTimeout or deadline

	comp *compressor   // nil without permessage-deflate
	dec  *decompressor // nil without permessage-deflate

	closeSent  atomic.Bool // our close frame was sent or queued (or writing it failed)
	closed     atomic.Bool // the network connection is closed
	localClose atomic.Bool // Close or Abort was called
	broken     atomic.Bool // the connection can no longer be used (Connected false)

	closeMu   sync.Mutex    // guards the fields below
	closeDone chan struct{} // closed once the peer's close frame was answered; made by closeWait or peerClosed
	peerClose *CloseError   // peer's close, once received
	netErr    error         // first fatal network error
}

// New wraps nc, which has completed the opening handshake. pre holds bytes
// already read past the handshake (they are the start of the frame stream).
// cfg may be nil.
func New(nc net.Conn, pre []byte, cfg *Config) *Conn {
	c := &Conn{nc: nc, cfg: sharedConfig(cfg)}
	if c.cfg.Deflate != nil {
		c.comp = newCompressor(c.cfg.Deflate)
		c.dec = new(decompressor)
	}
	if d := c.cfg.IOTimeout; d > 0 {
		c.timeout.Store(int64(d))
		c.deadlines() // the hot path never allocates it
	}
	c.r.init(c, pre)
	c.w.init(c)
	return c
}

// rsvAllowed returns the RSV bits the negotiated extensions use
// (ws.Header.Rsv layout).
func (c *Conn) rsvAllowed() byte {
	if c.dec != nil {
		return rsv1 // permessage-deflate
	}
	return 0
}

// NetConn returns the underlying network connection (websocket-client's
// sock). Reading from or writing to it directly corrupts the stream.
func (c *Conn) NetConn() net.Conn { return c.nc }

func (c *Config) maskKey() [4]byte {
	if c.MaskKey != nil {
		return c.MaskKey()
	}
	var k [4]byte
	v := rand.Uint32()
	k[0], k[1], k[2], k[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
	return k
}

// setNetErr records the first fatal network error.
func (c *Conn) setNetErr(err error) error {
	c.broken.Store(true)
	c.closeMu.Lock()
	if c.netErr == nil {
		c.netErr = err
	}
	err = c.netErr
	c.closeMu.Unlock()
	return err
}

// Connected reports whether the connection is open (websocket-client's
// connected): true from New (a successful Dial) until the close handshake
// completes, Abort runs, or a read or write fails the connection (the peer
// closed or vanished, a protocol error, a write that timed out). A receive
// call that timed out leaves the connection usable and Connected true; so
// does sending our close frame, until the peer's close frame arrives. Safe
// to call from any goroutine.
func (c *Conn) Connected() bool { return !c.broken.Load() }

type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}
