package h2ws

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"sync/atomic"

	"golang.org/x/net/http2"
)

// serverSettings is what the server's first SETTINGS frame said.
type serverSettings struct {
	extendedConnect bool   // SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 8441 §3)
	maxStreams      uint32 // SETTINGS_MAX_CONCURRENT_STREAMS, 0 if absent
	hasMaxStreams   bool
}

// frameHeaderLen is the size of an HTTP/2 frame header (RFC 9113 §4.1).
const frameHeaderLen = 9

// maxFirstSettings bounds the server's first frame: it is sent before the
// server knows our SETTINGS_MAX_FRAME_SIZE, so it fits the default 16 KiB
// (RFC 9113 §4.2).
const maxFirstSettings = 16 << 10

// sniffConn passes a connection through to x/net's ClientConn and reads, on
// the way, the server's first frame, which must be SETTINGS (RFC 9113
// §3.4): x/net keeps whether it enables extended CONNECT to itself, and the
// pool must know that before it sends a request (to fall back, or to fail
// clearly) and how many streams the connection takes. The frame is parsed
// with x/net's Framer; only x/net's read loop calls Read.
type sniffConn struct {
	net.Conn
	done   atomic.Bool
	buf    []byte        // the first frame so far
	header bool          // its header is in buf
	length int           // its payload length, once header
	ch     chan struct{} // closed once s or err is set
	s      serverSettings
	err    error
}

func newSniffConn(nc net.Conn) *sniffConn {
	return &sniffConn{Conn: nc, ch: make(chan struct{})}
}

func (c *sniffConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if !c.done.Load() {
		c.observe(p[:n], err)
	}
	return n, err
}

func (c *sniffConn) observe(p []byte, err error) {
	for len(p) > 0 && !c.done.Load() {
		need := frameHeaderLen + c.length
		k := min(len(p), need-len(c.buf))
		c.buf = append(c.buf, p[:k]...)
		p = p[k:]
		switch {
		case len(c.buf) < need:
		case !c.header:
			c.header = true
			if bytes.HasPrefix(c.buf, []byte("HTTP/1.")) { // an HTTP/1.x answer to the preface
				c.finish(fmt.Errorf("%w: the server answered in HTTP/1.x", ErrNoHTTP2))
				return
			}
			fh, _ := http2.ReadFrameHeader(bytes.NewReader(c.buf))
			if fh.Type != http2.FrameSettings || fh.Flags.Has(http2.FlagSettingsAck) || fh.Length > maxFirstSettings {
				c.finish(errorf("HTTP/2 server's first frame is %v (%d bytes), not SETTINGS", fh.Type, fh.Length))
				return
			}
			c.length = int(fh.Length)
			if c.length == 0 {
				c.parse()
			}
		default:
			c.parse()
		}
	}
	if err != nil && !c.done.Load() {
		c.finish(errorf("HTTP/2 connection closed before the server's SETTINGS: %w", err))
	}
}

func (c *sniffConn) parse() {
	f, err := http2.NewFramer(nil, bytes.NewReader(c.buf)).ReadFrame()
	if err != nil {
		c.finish(errorf("HTTP/2 server's SETTINGS: %w", err))
		return
	}
	sf := f.(*http2.SettingsFrame) // the header said so
	v, _ := sf.Value(http2.SettingEnableConnectProtocol)
	c.s.extendedConnect = v == 1
	c.s.maxStreams, c.s.hasMaxStreams = sf.Value(http2.SettingMaxConcurrentStreams)
	c.finish(nil)
}

func (c *sniffConn) finish(err error) {
	c.err = err
	c.buf = nil
	c.done.Store(true)
	close(c.ch)
}

// settings waits for the server's first SETTINGS frame.
func (c *sniffConn) settings(ctx context.Context) (serverSettings, error) {
	select {
	case <-c.ch:
		return c.s, c.err
	case <-ctx.Done():
		return serverSettings{}, ctx.Err()
	}
}
