package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"sync"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// serveH2Frames serves WebSockets over HTTP/2 (RFC 8441) on ln with TLS
// (ALPN h2), as a minimal server on x/net's Framer and hpack: the HTTP/2
// counterpart of the raw-socket HTTP/1.1 server, so that the h2 rows
// measure the client rather than a general-purpose server (net/http's,
// on h2std, spends about twice its HTTP/1.1 CPU per byte). One goroutine
// reads a connection's frames into per-stream buffers; each stream runs
// sink or echo in a goroutine of its own, reading from its buffer.
func serveH2Frames(ln net.Listener) {
	cfg := tlsConfig()
	cfg.NextProtos = []string{"h2"}
	for {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		go newH2Conn(tls.Server(nc, cfg)).serve()
	}
}

const (
	h2StreamWindow = 4 << 20  // SETTINGS_INITIAL_WINDOW_SIZE we grant
	h2ConnWindow   = 64 << 20 // and the connection's window
)

type h2Conn struct {
	nc  net.Conn
	bw  *bufio.Writer
	fr  *http2.Framer
	wmu sync.Mutex // writes, the hpack encoder
	hb  bytes.Buffer
	enc *hpack.Encoder

	mu       sync.Mutex
	sendWin  int64 // connection send window
	initWin  int64 // the client's SETTINGS_INITIAL_WINDOW_SIZE
	streams  map[uint32]*h2ServerStream
	dead     bool
	recvOwed int64 // connection window to give back
}

func newH2Conn(nc net.Conn) *h2Conn {
	c := &h2Conn{nc: nc, bw: bufio.NewWriterSize(nc, 32<<10), sendWin: 65535, initWin: 65535, streams: map[uint32]*h2ServerStream{}}
	c.fr = http2.NewFramer(c.bw, nc) // tls.Conn buffers records: no bufio.Reader, one copy less
	c.fr.SetReuseFrames()
	c.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	c.enc = hpack.NewEncoder(&c.hb)
	return c
}

func (c *h2Conn) write(fn func() error) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := fn(); err != nil {
		return err
	}
	return c.bw.Flush()
}

func (c *h2Conn) serve() {
	defer c.shutdown()
	preface := make([]byte, len(http2.ClientPreface))
	if _, err := io.ReadFull(c.nc, preface); err != nil || string(preface) != http2.ClientPreface {
		return
	}
	if c.write(func() error {
		c.fr.WriteSettings(
			http2.Setting{ID: http2.SettingEnableConnectProtocol, Val: 1},
			http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 10000},
			http2.Setting{ID: http2.SettingInitialWindowSize, Val: h2StreamWindow},
			http2.Setting{ID: http2.SettingMaxFrameSize, Val: 1 << 20}, // as net/http's server
		)
		return c.fr.WriteWindowUpdate(0, h2ConnWindow-65535)
	}) != nil {
		return
	}
	for {
		f, err := c.fr.ReadFrame()
		if err != nil {
			return
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if f.IsAck() {
				continue
			}
			c.mu.Lock()
			if v, ok := f.Value(http2.SettingInitialWindowSize); ok {
				for _, s := range c.streams {
					s.sendWin += int64(v) - c.initWin
				}
				c.initWin = int64(v)
			}
			c.wakeAll()
			c.mu.Unlock()
			c.write(c.fr.WriteSettingsAck)
		case *http2.PingFrame:
			if !f.IsAck() {
				c.write(func() error { return c.fr.WritePing(true, f.Data) })
			}
		case *http2.MetaHeadersFrame:
			c.open(f)
		case *http2.DataFrame:
			c.data(f)
		case *http2.WindowUpdateFrame:
			c.mu.Lock()
			if f.StreamID == 0 {
				c.sendWin += int64(f.Increment)
				c.wakeAll()
			} else if s := c.streams[f.StreamID]; s != nil {
				s.sendWin += int64(f.Increment)
				s.cond.Broadcast()
			}
			c.mu.Unlock()
		case *http2.RSTStreamFrame:
			c.end(f.StreamID)
		}
	}
}

// wakeAll wakes every stream (c.mu held).
func (c *h2Conn) wakeAll() {
	for _, s := range c.streams {
		s.cond.Broadcast()
	}
}

func (c *h2Conn) shutdown() {
	c.nc.Close()
	c.mu.Lock()
	c.dead = true
	for _, s := range c.streams {
		s.eof = true
	}
	c.wakeAll()
	c.mu.Unlock()
}

// open answers an extended CONNECT with :protocol websocket with 200 and
// starts the path's mode on the stream; anything else gets 400.
func (c *h2Conn) open(f *http2.MetaHeadersFrame) {
	status := "200"
	if f.PseudoValue("method") != "CONNECT" || f.PseudoValue("protocol") != "websocket" {
		status = "400"
	}
	path := f.PseudoValue("path")
	s := &h2ServerStream{c: c, id: f.StreamID}
	s.cond = sync.NewCond(&c.mu)
	if status == "200" {
		c.mu.Lock()
		s.sendWin = c.initWin
		c.streams[s.id] = s
		c.mu.Unlock()
	}
	c.write(func() error {
		c.hb.Reset()
		c.enc.WriteField(hpack.HeaderField{Name: ":status", Value: status})
		return c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: f.StreamID, BlockFragment: c.hb.Bytes(), EndHeaders: true, EndStream: status != "200"})
	})
	if status != "200" {
		return
	}
	go func() {
		switch path {
		case "/sink":
			sink(s)
		case "/echo":
			echo(s)
		default:
			io.Copy(io.Discard, s)
		}
		s.Close()
	}()
}

func (c *h2Conn) data(f *http2.DataFrame) {
	c.mu.Lock()
	s := c.streams[f.StreamID]
	if s != nil {
		s.buf = append(s.buf, f.Data()...)
		if f.StreamEnded() {
			s.eof = true
		}
		s.cond.Broadcast()
	}
	pad := int64(f.Length) - int64(len(f.Data()))
	if s == nil {
		pad = int64(f.Length)
	}
	c.mu.Unlock()
	if pad > 0 {
		c.giveBack(nil, int(pad))
	}
}

func (c *h2Conn) end(id uint32) {
	c.mu.Lock()
	if s := c.streams[id]; s != nil {
		s.eof = true
		delete(c.streams, id)
		s.cond.Broadcast()
	}
	c.mu.Unlock()
}

// giveBack returns consumed bytes to the windows, in batches.
func (c *h2Conn) giveBack(s *h2ServerStream, n int) {
	c.mu.Lock()
	c.recvOwed += int64(n)
	conn := int64(0)
	if c.recvOwed >= h2ConnWindow/4 {
		conn, c.recvOwed = c.recvOwed, 0
	}
	stream := int64(0)
	if s != nil {
		if s.owed += int64(n); s.owed >= h2StreamWindow/4 {
			stream, s.owed = s.owed, 0
		}
	}
	c.mu.Unlock()
	if conn > 0 || stream > 0 {
		c.write(func() error {
			if conn > 0 {
				c.fr.WriteWindowUpdate(0, uint32(conn))
			}
			if stream > 0 {
				c.fr.WriteWindowUpdate(s.id, uint32(stream))
			}
			return nil
		})
	}
}

// h2ServerStream is a stream as the net.Conn sink and echo run on.
type h2ServerStream struct {
	c       *h2Conn
	id      uint32
	cond    *sync.Cond // data, end, window (on c.mu)
	buf     []byte     // received; unread from r on (c.mu)
	r       int
	eof     bool  // (c.mu)
	sendWin int64 // (c.mu)
	owed    int64 // (c.mu)
}

func (s *h2ServerStream) Read(p []byte) (int, error) {
	c := s.c
	c.mu.Lock()
	for s.r == len(s.buf) && !s.eof {
		s.cond.Wait()
	}
	if s.r == len(s.buf) {
		c.mu.Unlock()
		return 0, io.EOF
	}
	n := copy(p, s.buf[s.r:])
	if s.r += n; s.r == len(s.buf) {
		s.buf, s.r = s.buf[:0], 0
	}
	c.mu.Unlock()
	c.giveBack(s, n)
	return n, nil
}

func (s *h2ServerStream) Write(p []byte) (int, error) {
	c := s.c
	n := 0
	for len(p) > 0 {
		c.mu.Lock()
		for (s.sendWin <= 0 || c.sendWin <= 0) && !s.eof && !c.dead {
			s.cond.Wait()
		}
		if s.eof || c.dead {
			c.mu.Unlock()
			return n, io.ErrClosedPipe
		}
		k := int(min(int64(len(p)), s.sendWin, c.sendWin, 16<<10))
		s.sendWin -= int64(k)
		c.sendWin -= int64(k)
		c.mu.Unlock()
		if err := c.write(func() error { return c.fr.WriteData(s.id, false, p[:k]) }); err != nil {
			return n, err
		}
		p, n = p[k:], n+k
	}
	return n, nil
}

// Close ends our side of the stream (END_STREAM).
func (s *h2ServerStream) Close() error {
	s.c.write(func() error { return s.c.fr.WriteData(s.id, true, nil) })
	s.c.end(s.id)
	return nil
}

func (s *h2ServerStream) LocalAddr() net.Addr                { return s.c.nc.LocalAddr() }
func (s *h2ServerStream) RemoteAddr() net.Addr               { return s.c.nc.RemoteAddr() }
func (s *h2ServerStream) SetDeadline(t time.Time) error      { return nil }
func (s *h2ServerStream) SetReadDeadline(t time.Time) error  { return nil }
func (s *h2ServerStream) SetWriteDeadline(t time.Time) error { return nil }
