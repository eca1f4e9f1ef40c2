package h2ws

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"net"

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

// sendFrameSize caps the server's SETTINGS_MAX_FRAME_SIZE as x/net sees it.
// x/net's request body writer holds a buffer of min(that, 512 KiB) for the
// life of each stream: with Go's servers (1 MiB) that was 512 KiB per idle
// WebSocket. 16 KiB, the size every endpoint accepts (RFC 9113 §6.5.2), is
// also what a TLS record holds, so throughput does not change.
const sendFrameSize = 16 << 10

// sniffConn passes a connection through to x/net's ClientConn, holding
// back the server's first frame, which must be SETTINGS (RFC 9113 §3.4),
// until it is whole:
//
//   - the pool must know whether it enables extended CONNECT (x/net keeps
//     that to itself) before it sends a request, to fall back or fail
//     clearly, and how many streams the connection takes;
//   - its SETTINGS_MAX_FRAME_SIZE is lowered to sendFrameSize on the way
//     (a value that only bounds the frames we send).
//
// The frame is parsed with x/net's Framer. Only x/net's read loop calls
// Read.
type sniffConn struct {
	net.Conn
	done    bool   // the first frame was read (or could not be)
	pending []byte // bytes read but not yet handed to x/net
	rerr    error  // the read error that ended the first frame
	ch      chan struct{}
	s       serverSettings
	err     error
}

func newSniffConn(nc net.Conn) *sniffConn {
	return &sniffConn{Conn: nc, ch: make(chan struct{})}
}

func (c *sniffConn) Read(p []byte) (int, error) {
	if !c.done {
		c.readFirst()
	}
	if len(c.pending) > 0 {
		n := copy(p, c.pending)
		c.pending = c.pending[n:]
		if len(c.pending) == 0 {
			c.pending = nil
		}
		return n, nil
	}
	if c.rerr != nil {
		return 0, c.rerr
	}
	return c.Conn.Read(p)
}

// readFirst reads until the first frame is whole (or is not SETTINGS, or
// the connection fails); what was read becomes pending.
func (c *sniffConn) readFirst() {
	c.done = true
	var buf []byte
	tmp := make([]byte, 4096)
	need := frameHeaderLen
	header := false
	for {
		for len(buf) < need {
			n, err := c.Conn.Read(tmp)
			buf = append(buf, tmp[:n]...)
			if err != nil && len(buf) < need {
				c.pending, c.rerr = buf, err
				c.finish(fmt.Errorf("%w: closed before the server's SETTINGS: %w", ErrConnLost, err))
				return
			}
		}
		if header {
			break
		}
		header = true
		if bytes.HasPrefix(buf, []byte("HTTP/1.")) { // an HTTP/1.x answer to the preface
			c.pending = buf
			c.finish(fmt.Errorf("%w: the server answered in HTTP/1.x", ErrNoHTTP2))
			return
		}
		fh, _ := http2.ReadFrameHeader(bytes.NewReader(buf))
		if fh.Type != http2.FrameSettings || fh.Flags.Has(http2.FlagSettingsAck) || fh.Length > maxFirstSettings {
			c.pending = buf
			c.finish(fmt.Errorf("%w: its first frame is %v (%d bytes), not SETTINGS", ErrNoHTTP2, fh.Type, fh.Length))
			return
		}
		need += int(fh.Length)
	}
	c.pending = buf
	frame := buf[:need]
	f, err := http2.NewFramer(nil, bytes.NewReader(frame)).ReadFrame()
	if err != nil {
		c.finish(fmt.Errorf("%w: its SETTINGS: %w", ErrNoHTTP2, err))
		return
	}
	sf := f.(*http2.SettingsFrame) // the header said so
	v, _ := sf.Value(http2.SettingEnableConnectProtocol)
	c.s.extendedConnect = v == 1
	c.s.maxStreams, c.s.hasMaxStreams = sf.Value(http2.SettingMaxConcurrentStreams)
	// Lower SETTINGS_MAX_FRAME_SIZE: the payload is 6-byte (identifier,
	// value) pairs (RFC 9113 §6.5.1), which the Framer just validated.
	for b := frame[frameHeaderLen:]; len(b) >= 6; b = b[6:] {
		if http2.SettingID(binary.BigEndian.Uint16(b)) == http2.SettingMaxFrameSize && binary.BigEndian.Uint32(b[2:]) > sendFrameSize {
			binary.BigEndian.PutUint32(b[2:], sendFrameSize)
		}
	}
	c.finish(nil)
}

func (c *sniffConn) finish(err error) {
	c.err = err
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
