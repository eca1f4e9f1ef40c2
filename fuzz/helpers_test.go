package fuzz

import (
	"bytes"
	"errors"
	"io"
	"net"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsclient/wsclient/codec"
	"github.com/wsclient/wsclient/mask"
)

// seedLengths are the payload lengths around the 7-, 16- and 64-bit length
// encodings (RFC 6455 §5.2) that every target is seeded with (STYLE rule 12).
var seedLengths = []int{0, 1, 125, 126, 127, 65535, 65536, 65537}

// memConn is an in-memory net.Conn: reads serve a fixed server byte stream
// in chunks of sizes the fuzzer picks, then io.EOF; writes are recorded. No
// goroutine and no timer is involved, so a run is deterministic.
type memConn struct {
	in     []byte
	chunks []byte
	ci     int
	out    bytes.Buffer
	closed bool
}

func (c *memConn) Read(p []byte) (int, error) {
	if c.closed {
		return 0, net.ErrClosed
	}
	if len(c.in) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), len(c.in))
	if len(c.chunks) > 0 {
		k := int(c.chunks[c.ci%len(c.chunks)])
		c.ci++
		n = min(n, 1+k*k) // 1 .. 65026 bytes per read
	}
	copy(p, c.in[:n])
	c.in = c.in[n:]
	return n, nil
}

func (c *memConn) Write(p []byte) (int, error) {
	if c.closed {
		return 0, net.ErrClosed
	}
	return c.out.Write(p)
}

func (c *memConn) Close() error                     { c.closed = true; return nil }
func (c *memConn) LocalAddr() net.Addr              { return memAddr{} }
func (c *memConn) RemoteAddr() net.Addr             { return memAddr{} }
func (c *memConn) SetDeadline(time.Time) error      { return nil }
func (c *memConn) SetReadDeadline(time.Time) error  { return nil }
func (c *memConn) SetWriteDeadline(time.Time) error { return nil }

type memAddr struct{}

func (memAddr) Network() string { return "mem" }
func (memAddr) String() string  { return "mem" }

func cat(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

// clientFrame is one frame the client wrote, unmasked.
type clientFrame struct {
	h ws.Header
	p []byte
}

// parseClientFrames splits what a client wrote into frames and unmasks
// them. Every client frame must be masked (RFC 6455 §5.3).
func parseClientFrames(b []byte) ([]clientFrame, error) {
	var fs []clientFrame
	for len(b) > 0 {
		var h ws.Header
		n, err := codec.ParseHeader(b, &h)
		if err != nil {
			return fs, err
		}
		if !h.Masked {
			return fs, errors.New("unmasked client frame")
		}
		if int64(len(b)-n) < h.Length {
			return fs, errors.New("truncated client frame")
		}
		p := append([]byte(nil), b[n:n+int(h.Length)]...)
		mask.Apply(p, h.Mask, 0)
		fs = append(fs, clientFrame{h, p})
		b = b[n+int(h.Length):]
	}
	return fs, nil
}
