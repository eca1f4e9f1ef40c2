package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"io"
	"net"
	"sync"

	"github.com/gobwas/ws"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// serveH2Frames serves WebSockets over HTTP/2 (RFC 8441) on ln with TLS
// (ALPN h2), as a minimal server on x/net's Framer and hpack: the HTTP/2
// counterpart of the raw-socket HTTP/1.1 server, so that the h2 rows
// measure the client rather than a general-purpose server (net/http's, on
// h2std, spends about twice the HTTP/1.1 server's CPU per byte, and on two
// cores the server's CPU is the client's ceiling). One goroutine per
// connection reads frames and runs each stream's sink or echo inline on
// its DATA as it arrives (wsPush): no goroutine per stream, no hand-off.
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

	mu      sync.Mutex
	win     *sync.Cond // the send windows grew
	sendWin int64      // connection send window
	initWin int64      // the client's SETTINGS_INITIAL_WINDOW_SIZE
	streams map[uint32]*h2ServerStream
	dead    bool
	owed    int64 // connection window to give back
}

func newH2Conn(nc net.Conn) *h2Conn {
	c := &h2Conn{nc: nc, bw: bufio.NewWriterSize(nc, 32<<10), sendWin: 65535, initWin: 65535, streams: map[uint32]*h2ServerStream{}}
	c.win = sync.NewCond(&c.mu)
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
			c.win.Broadcast()
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
			} else if s := c.streams[f.StreamID]; s != nil {
				s.sendWin += int64(f.Increment)
			}
			c.win.Broadcast()
			c.mu.Unlock()
		case *http2.RSTStreamFrame:
			c.end(f.StreamID)
		}
	}
}

func (c *h2Conn) shutdown() {
	c.nc.Close()
	c.mu.Lock()
	c.dead = true
	c.win.Broadcast()
	c.mu.Unlock()
}

// open answers an extended CONNECT with :protocol websocket with 200 and
// starts the path's mode (sink, or echo for /echo); anything else gets 400.
func (c *h2Conn) open(f *http2.MetaHeadersFrame) {
	status := "200"
	if f.PseudoValue("method") != "CONNECT" || f.PseudoValue("protocol") != "websocket" {
		status = "400"
	}
	if status == "200" {
		s := &h2ServerStream{c: c, id: f.StreamID, ws: wsPush{echo: f.PseudoValue("path") == "/echo"}}
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
}

// data runs the stream's WebSocket side on the frame's payload and gives
// the windows back (in batches: once a quarter of a window was used).
func (c *h2Conn) data(f *http2.DataFrame) {
	c.mu.Lock()
	s := c.streams[f.StreamID]
	c.owed += int64(f.Length)
	conn := int64(0)
	if c.owed >= h2ConnWindow/4 {
		conn, c.owed = c.owed, 0
	}
	stream := int64(0)
	if s != nil {
		if s.owed += int64(f.Length); s.owed >= h2StreamWindow/4 {
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
				c.fr.WriteWindowUpdate(f.StreamID, uint32(stream))
			}
			return nil
		})
	}
	if s == nil {
		return
	}
	if s.ws.feed(f.Data(), s.send) || f.StreamEnded() {
		s.finish()
	}
}

func (c *h2Conn) end(id uint32) {
	c.mu.Lock()
	delete(c.streams, id)
	c.win.Broadcast()
	c.mu.Unlock()
}

// h2ServerStream is one WebSocket.
type h2ServerStream struct {
	c       *h2Conn
	id      uint32
	ws      wsPush
	sendWin int64 // (c.mu)
	owed    int64 // (c.mu)
	// queue holds what the windows did not let send write at once; a
	// goroutine sends it as they open, so the read loop never waits.
	queue   [][]byte // (c.mu)
	sending bool     // (c.mu)
	ended   bool     // (c.mu) END_STREAM wanted once the queue is sent
}

// send writes p as DATA now if the windows allow and nothing waits before
// it, else queues it.
func (s *h2ServerStream) send(p []byte) {
	c := s.c
	c.mu.Lock()
	if !s.sending && int64(len(p)) <= min(s.sendWin, c.sendWin) {
		s.sendWin -= int64(len(p))
		c.sendWin -= int64(len(p))
		c.mu.Unlock()
		c.write(func() error { return s.writeData(p) })
		return
	}
	s.queue = append(s.queue, append([]byte(nil), p...))
	if !s.sending {
		s.sending = true
		go s.drain()
	}
	c.mu.Unlock()
}

// writeData writes p in DATA frames of at most 16 KiB (wmu held).
func (s *h2ServerStream) writeData(p []byte) error {
	for len(p) > 0 {
		k := min(len(p), 16<<10)
		if err := s.c.fr.WriteData(s.id, false, p[:k]); err != nil {
			return err
		}
		p = p[k:]
	}
	return nil
}

// drain sends the queue as the windows open, then ends the stream if
// finish asked to meanwhile.
func (s *h2ServerStream) drain() {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	for len(s.queue) > 0 {
		p := s.queue[0]
		k := int(min(int64(len(p)), s.sendWin, c.sendWin))
		if c.dead || c.streams[s.id] == nil {
			return
		}
		if k <= 0 {
			c.win.Wait()
			continue
		}
		s.sendWin -= int64(k)
		c.sendWin -= int64(k)
		if k == len(p) {
			s.queue = s.queue[1:]
		} else {
			s.queue[0] = p[k:]
		}
		c.mu.Unlock()
		c.write(func() error { return s.writeData(p[:k]) })
		c.mu.Lock()
	}
	s.sending = false
	if s.ended {
		c.mu.Unlock()
		s.endStream()
		c.mu.Lock()
	}
}

// finish ends our side of the stream (END_STREAM) after what is queued.
func (s *h2ServerStream) finish() {
	s.c.mu.Lock()
	later := s.sending
	s.ended = true
	s.c.mu.Unlock()
	if !later {
		s.endStream()
	}
}

func (s *h2ServerStream) endStream() {
	s.c.write(func() error { return s.c.fr.WriteData(s.id, true, nil) })
	s.c.end(s.id)
}

// wsPush is sink or echo (main.go) for bytes pushed to it as they arrive
// rather than read: the read loop feeds it each DATA payload.
type wsPush struct {
	echo   bool
	hdr    [14]byte
	hn     int  // header bytes gathered
	inPay  bool // the header is complete; the payload follows
	fin    bool
	op     byte
	rsv    byte
	mask   [4]byte
	left   int    // payload bytes still to come
	keep   bool   // gather the payload: echo, or a sink's text or control frame
	pay    []byte // the payload gathered
	closed bool
}

// feed takes the next bytes of the client's frames and answers through
// send; it returns true once a close frame was answered.
func (w *wsPush) feed(p []byte, send func([]byte)) bool {
	for len(p) > 0 && !w.closed {
		if !w.inPay {
			w.hdr[w.hn] = p[0]
			w.hn++
			p = p[1:]
			fin, op, _, mask, plen, hn := frameHeader(w.hdr[:w.hn])
			if hn == 0 {
				if w.hn == len(w.hdr) {
					return true // not a frame header
				}
				continue
			}
			w.fin, w.op, w.rsv, w.mask, w.left = fin, op, w.hdr[0]&0x70, mask, plen
			w.keep = w.echo || op == 1 || op >= 8
			w.pay, w.hn, w.inPay = w.pay[:0], 0, true
		} else {
			k := min(len(p), w.left)
			if w.keep {
				w.pay = append(w.pay, p[:k]...)
			}
			p, w.left = p[k:], w.left-k
		}
		if w.inPay && w.left == 0 {
			w.inPay = false
			w.answer(send)
		}
	}
	return w.closed
}

// answer acts on a whole frame: echo sends it back unmasked (a ping as a
// pong); sink answers text with an empty text frame (the clients' sync),
// pings with pongs, and discards the rest.
func (w *wsPush) answer(send func([]byte)) {
	ws.Cipher(w.pay, w.mask, 0)
	op := w.op
	switch {
	case w.echo:
	case op == 1:
		send([]byte{0x81, 0})
		return
	case op < 8:
		return
	}
	w.closed = op == 8
	send(append(appendHeader(nil, out0(w.fin, op)|w.rsv, len(w.pay)), w.pay...))
}
