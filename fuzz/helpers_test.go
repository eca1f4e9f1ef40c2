package fuzz

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"time"
	"unicode/utf8"

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

// frame builds an unmasked server frame by hand (independently of
// codec.PutHeader).
func frame(fin bool, rsv byte, op ws.OpCode, p []byte) []byte {
	b0 := rsv<<4 | byte(op)
	if fin {
		b0 |= 0x80
	}
	var b []byte
	switch n := len(p); {
	case n < 126:
		b = []byte{b0, byte(n)}
	case n <= 0xffff:
		b = []byte{b0, 126, byte(n >> 8), byte(n)}
	default:
		b = binary.BigEndian.AppendUint64([]byte{b0, 127}, uint64(n))
	}
	return append(b, p...)
}

func closePayload(code uint16, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, code), reason...)
}

func cat(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

// possiblyValid reports whether p can begin valid UTF-8: it is valid, or
// valid up to an incomplete last code point that some bytes could complete.
// It is a slow reference built on unicode/utf8 only.
func possiblyValid(p []byte) bool {
	if utf8.Valid(p) {
		return true
	}
	for k := 1; k <= 3 && k <= len(p); k++ {
		if !utf8.Valid(p[:len(p)-k]) {
			continue
		}
		tail := p[len(p)-k:]
		if utf8.RuneStart(tail[0]) && completes(tail) {
			return true
		}
	}
	return false
}

// completes reports whether some continuation bytes make tail one valid
// code point. The second byte decides validity (RFC 3629 ranges: A0–BF
// after E0, 80–9F after ED, 90–BF after F0, 80–8F after F4); any byte from
// 80 to BF may follow it, so trying 80, 90 and A0 there suffices.
func completes(tail []byte) bool {
	for size := len(tail) + 1; size <= utf8.UTFMax; size++ {
		for _, b2 := range []byte{0x80, 0x90, 0xa0} {
			c := make([]byte, size)
			copy(c, tail)
			for i := len(tail); i < size; i++ {
				c[i] = 0x80
				if i == 1 {
					c[i] = b2
				}
			}
			if utf8.FullRune(c) && utf8.Valid(c) {
				return true
			}
		}
	}
	return false
}

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
		h, n, err := codec.ParseHeader(b)
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
