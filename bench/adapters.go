package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	coder "github.com/coder/websocket"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
	gorilla "github.com/gorilla/websocket"
	"github.com/lxzan/gws"

	"github.com/wsclient/wsclient"
)

// Client is one WebSocket connection of the library under test, used the
// way its documentation recommends for speed.
type Client interface {
	// Send sends p as one message (text or binary).
	Send(text bool, p []byte) error
	// Recv returns the next whole message; the slice may be reused by the
	// next Recv.
	Recv() (text bool, p []byte, err error)
	Close() error
}

// Batcher is a Client that can put many messages into one write.
type Batcher interface {
	Queue(p []byte) error
	Flush() error
}

// Lib describes one client library (or baseline).
type Lib struct {
	Name string
	// Peer marks the Go libraries wsclient is compared with.
	Peer bool
	// Safe means Send may be called from several goroutines at once;
	// otherwise the harness wraps it in a mutex (what each library's docs
	// ask for).
	Safe bool
	// Validates means received text is checked for UTF-8.
	Validates bool
	// Batch is how the library batches messages ("" when it does not).
	Batch string
	Dial  func(ctx context.Context, url string) (Client, error)
	// DialDeflate dials with permessage-deflate offered, connecting
	// through nd (which counts the bytes on the wire); nil when the library
	// has no compression.
	DialDeflate func(ctx context.Context, url string, nd netDial) (Client, error)
}

type netDial = func(ctx context.Context, network, addr string) (net.Conn, error)

const maxMsg = 64 << 20

var insecureTLS = &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13}

func libs() []*Lib {
	return []*Lib{
		{Name: "wsclient", Safe: true, Validates: true, Batch: "Queue+Flush", Dial: dialWSClient, DialDeflate: dialWSClientDeflate},
		{Name: "gorilla", Peer: true, Dial: dialGorilla, DialDeflate: dialGorillaDeflate},
		{Name: "coder", Peer: true, Safe: true, Dial: dialCoder, DialDeflate: dialCoderDeflate},
		{Name: "gobwas", Peer: true, Validates: true, Batch: "ws.WriteHeader+bufio", Dial: dialGobwas},
		{Name: "gws", Peer: true, Safe: true, Validates: true, Dial: dialGWS},
		{Name: "raw", Batch: "64 KiB buffer", Dial: dialRaw},
	}
}

// --- wsclient

type wsclientConn struct{ c *wsclient.Conn }

func dialWSClient(ctx context.Context, u string) (Client, error) {
	c, err := wsclient.Dial(ctx, u, &wsclient.DialOptions{TLSConfig: insecureTLS.Clone(), MaxMessageSize: maxMsg})
	if err != nil {
		return nil, err
	}
	return wsclientConn{c}, nil
}

// dialWSClientDeflate offers permessage-deflate with the defaults
// (compression level and threshold of CompressionOptions' zero value).
func dialWSClientDeflate(ctx context.Context, u string, nd netDial) (Client, error) {
	c, err := wsclient.Dial(ctx, u, &wsclient.DialOptions{
		MaxMessageSize: maxMsg,
		NetDial:        nd,
		Compression:    &wsclient.CompressionOptions{},
	})
	if err != nil {
		return nil, err
	}
	return wsclientConn{c}, nil
}

func (w wsclientConn) Send(text bool, p []byte) error {
	if text {
		return w.c.Send(wsclient.OpText, p)
	}
	return w.c.Send(wsclient.OpBinary, p)
}

func (w wsclientConn) Recv() (bool, []byte, error) {
	op, p, err := w.c.Recv()
	return op == wsclient.OpText, p, err
}
func (w wsclientConn) Queue(p []byte) error { return w.c.Queue(wsclient.OpBinary, p) }
func (w wsclientConn) Flush() error         { return w.c.Flush() }
func (w wsclientConn) Close() error         { return w.c.Close(wsclient.StatusNormal, "") }

// --- gorilla/websocket: WriteMessage (one frame per write buffer), reads
// through NextReader into a reused buffer (ReadMessage allocates).

type gorillaConn struct {
	c   *gorilla.Conn
	buf bytes.Buffer
}

func dialGorilla(ctx context.Context, u string) (Client, error) {
	d := gorilla.Dialer{
		ReadBufferSize:  32 << 10,
		WriteBufferSize: 64 << 10,
		TLSClientConfig: insecureTLS.Clone(),
	}
	c, _, err := d.DialContext(ctx, u, nil)
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(maxMsg)
	return &gorillaConn{c: c}, nil
}

// dialGorillaDeflate enables gorilla's compression (no context takeover,
// its default level).
func dialGorillaDeflate(ctx context.Context, u string, nd netDial) (Client, error) {
	d := gorilla.Dialer{
		ReadBufferSize:    32 << 10,
		WriteBufferSize:   64 << 10,
		EnableCompression: true,
		NetDialContext:    nd,
	}
	c, _, err := d.DialContext(ctx, u, nil)
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(maxMsg)
	c.EnableWriteCompression(true)
	return &gorillaConn{c: c}, nil
}

func (g *gorillaConn) Send(text bool, p []byte) error {
	if text {
		return g.c.WriteMessage(gorilla.TextMessage, p)
	}
	return g.c.WriteMessage(gorilla.BinaryMessage, p)
}

func (g *gorillaConn) Recv() (bool, []byte, error) {
	mt, r, err := g.c.NextReader()
	if err != nil {
		return false, nil, err
	}
	g.buf.Reset()
	_, err = g.buf.ReadFrom(r)
	return mt == gorilla.TextMessage, g.buf.Bytes(), err
}

func (g *gorillaConn) Close() error {
	g.c.WriteControl(gorilla.CloseMessage, gorilla.FormatCloseMessage(1000, ""), time.Now().Add(time.Second))
	return g.c.Close()
}

// --- coder/websocket: Write (concurrency-safe), Reader into a reused
// buffer, compression disabled.

type coderConn struct {
	c   *coder.Conn
	buf bytes.Buffer
}

func dialCoder(ctx context.Context, u string) (Client, error) {
	opts := &coder.DialOptions{CompressionMode: coder.CompressionDisabled}
	if strings.HasPrefix(u, "wss:") {
		opts.HTTPClient = &http.Client{Transport: &http.Transport{TLSClientConfig: insecureTLS.Clone()}}
	}
	c, _, err := coder.Dial(ctx, u, opts)
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(maxMsg)
	return &coderConn{c: c}, nil
}

// dialCoderDeflate uses coder's no-context-takeover mode (what the server
// grants) with its default threshold.
func dialCoderDeflate(ctx context.Context, u string, nd netDial) (Client, error) {
	c, _, err := coder.Dial(ctx, u, &coder.DialOptions{
		CompressionMode: coder.CompressionNoContextTakeover,
		HTTPClient:      &http.Client{Transport: &http.Transport{DialContext: nd}},
	})
	if err != nil {
		return nil, err
	}
	c.SetReadLimit(maxMsg)
	return &coderConn{c: c}, nil
}

func (c *coderConn) Send(text bool, p []byte) error {
	if text {
		return c.c.Write(context.Background(), coder.MessageText, p)
	}
	return c.c.Write(context.Background(), coder.MessageBinary, p)
}

func (c *coderConn) Recv() (bool, []byte, error) {
	mt, r, err := c.c.Reader(context.Background())
	if err != nil {
		return false, nil, err
	}
	c.buf.Reset()
	_, err = c.buf.ReadFrom(r)
	return mt == coder.MessageText, c.buf.Bytes(), err
}

func (c *coderConn) Close() error { return c.c.CloseNow() }

// --- gobwas/ws, plain wsutil usage as its README shows:
// wsutil.WriteClientMessage and wsutil.ReadServerData on the net.Conn.
// Batching uses its low-level API (ws.WriteHeader + ws.Cipher) into a
// bufio.Writer.

type gobwasConn struct {
	conn net.Conn
	rw   io.ReadWriter
	bw   *bufio.Writer
	tmp  []byte
}

func dialGobwas(ctx context.Context, u string) (Client, error) {
	d := ws.Dialer{TLSConfig: insecureTLS.Clone()}
	conn, br, _, err := d.Dial(ctx, u)
	if err != nil {
		return nil, err
	}
	g := &gobwasConn{conn: conn, rw: conn}
	if br != nil { // the server spoke first (flood): keep what was read
		g.rw = struct {
			io.Reader
			io.Writer
		}{br, conn}
	}
	return g, nil
}

func (g *gobwasConn) Send(text bool, p []byte) error {
	if text {
		return wsutil.WriteClientMessage(g.conn, ws.OpText, p)
	}
	return wsutil.WriteClientMessage(g.conn, ws.OpBinary, p)
}

func (g *gobwasConn) Recv() (bool, []byte, error) {
	p, op, err := wsutil.ReadServerData(g.rw)
	return op == ws.OpText, p, err
}

func (g *gobwasConn) Queue(p []byte) error {
	if g.bw == nil {
		g.bw = bufio.NewWriterSize(g.conn, 64<<10)
	}
	h := ws.Header{Fin: true, OpCode: ws.OpBinary, Masked: true, Mask: ws.NewMask(), Length: int64(len(p))}
	if err := ws.WriteHeader(g.bw, h); err != nil {
		return err
	}
	g.tmp = append(g.tmp[:0], p...)
	ws.Cipher(g.tmp, h.Mask, 0)
	_, err := g.bw.Write(g.tmp)
	return err
}

func (g *gobwasConn) Flush() error { return g.bw.Flush() }

func (g *gobwasConn) Close() error {
	wsutil.WriteClientMessage(g.conn, ws.OpClose, ws.NewCloseFrameBody(1000, ""))
	return g.conn.Close()
}

// --- lxzan/gws: event-driven; ReadLoop runs in its own goroutine and
// OnMessage hands messages over a channel. CheckUtf8Enabled is on.

type gwsConn struct {
	gws.BuiltinEventHandler
	c    *gws.Conn
	msgs chan *gws.Message
	errc chan error
	last *gws.Message
}

func dialGWS(ctx context.Context, u string) (Client, error) {
	g := &gwsConn{msgs: make(chan *gws.Message, 1), errc: make(chan error, 1)}
	opt := &gws.ClientOption{
		Addr:                u,
		TlsConfig:           insecureTLS.Clone(),
		ReadMaxPayloadSize:  maxMsg,
		WriteMaxPayloadSize: maxMsg,
		CheckUtf8Enabled:    true,
	}
	if dl, ok := ctx.Deadline(); ok {
		opt.HandshakeTimeout = time.Until(dl)
	}
	c, _, err := gws.NewClient(g, opt)
	if err != nil {
		return nil, err
	}
	g.c = c
	go c.ReadLoop()
	return g, nil
}

func (g *gwsConn) OnMessage(_ *gws.Conn, m *gws.Message) { g.msgs <- m }
func (g *gwsConn) OnClose(_ *gws.Conn, err error) {
	if err == nil {
		err = io.EOF
	}
	g.errc <- err
}

func (g *gwsConn) Send(text bool, p []byte) error {
	if text {
		return g.c.WriteMessage(gws.OpcodeText, p)
	}
	return g.c.WriteMessage(gws.OpcodeBinary, p)
}

func (g *gwsConn) Recv() (bool, []byte, error) {
	if g.last != nil {
		g.last.Close()
		g.last = nil
	}
	select {
	case m := <-g.msgs:
		g.last = m
		return m.Opcode == gws.OpcodeText, m.Bytes(), nil
	case err := <-g.errc:
		return false, nil, err
	}
}

func (g *gwsConn) Close() error {
	g.c.WriteClose(1000, nil)
	return g.c.NetConn().Close()
}

// --- raw: the ceiling. A hand-written handshake, then pre-built masked
// frames written straight to the socket (see rawFrames); reads parse
// headers only, no validation.

type rawConn struct {
	conn   net.Conn
	br     *bufio.Reader
	buf    []byte
	frames map[int][]byte // size -> one pre-built masked binary frame
	batch  []byte
}

func dialRaw(ctx context.Context, u string) (Client, error) {
	pu, err := url.Parse(u)
	if err != nil {
		return nil, err
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", pu.Host)
	if err != nil {
		return nil, err
	}
	if pu.Scheme == "wss" {
		tc := tls.Client(conn, insecureTLS.Clone())
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, err
		}
		conn = tc
	}
	var k [16]byte
	binary.LittleEndian.PutUint64(k[:], rand.Uint64())
	binary.LittleEndian.PutUint64(k[8:], rand.Uint64())
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n",
		pu.RequestURI(), pu.Host, base64.StdEncoding.EncodeToString(k[:]))
	br := bufio.NewReaderSize(conn, 64<<10)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		conn.Close()
		return nil, err
	}
	resp.Body.Close()
	if resp.StatusCode != 101 {
		conn.Close()
		return nil, fmt.Errorf("raw: handshake status %d", resp.StatusCode)
	}
	return &rawConn{conn: conn, br: br, frames: map[int][]byte{}}, nil
}

func appendMasked(b []byte, op byte, p []byte) []byte {
	b0 := 0x80 | op
	switch n := len(p); {
	case n < 126:
		b = append(b, b0, 0x80|byte(n))
	case n < 1<<16:
		b = append(b, b0, 0x80|126, byte(n>>8), byte(n))
	default:
		b = append(b, b0, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	var key [4]byte
	binary.LittleEndian.PutUint32(key[:], rand.Uint32())
	b = append(b, key[:]...)
	s := len(b)
	b = append(b, p...)
	ws.Cipher(b[s:], key, 0)
	return b
}

// Send writes a frame; for binary messages it reuses one pre-built frame
// per size (the payload content is the harness's fixed pattern), which is
// what makes raw the ceiling: no masking or header work per message.
func (r *rawConn) Send(text bool, p []byte) error {
	if text {
		_, err := r.conn.Write(appendMasked(nil, 1, p))
		return err
	}
	f, ok := r.frames[len(p)]
	if !ok {
		f = appendMasked(nil, 2, p)
		r.frames[len(p)] = f
	}
	_, err := r.conn.Write(f)
	return err
}

func (r *rawConn) Queue(p []byte) error {
	f, ok := r.frames[len(p)]
	if !ok {
		f = appendMasked(nil, 2, p)
		r.frames[len(p)] = f
	}
	if len(r.batch)+len(f) > 64<<10 && len(r.batch) > 0 {
		if err := r.Flush(); err != nil {
			return err
		}
	}
	r.batch = append(r.batch, f...)
	return nil
}

func (r *rawConn) Flush() error {
	_, err := r.conn.Write(r.batch)
	r.batch = r.batch[:0]
	return err
}

func (r *rawConn) Recv() (bool, []byte, error) {
	r.buf = r.buf[:0]
	msgOp := byte(0xff)
	for {
		var h [10]byte
		if _, err := io.ReadFull(r.br, h[:2]); err != nil {
			return false, nil, err
		}
		n := int(h[1] & 0x7f)
		switch n {
		case 126:
			if _, err := io.ReadFull(r.br, h[2:4]); err != nil {
				return false, nil, err
			}
			n = int(binary.BigEndian.Uint16(h[2:]))
		case 127:
			if _, err := io.ReadFull(r.br, h[2:10]); err != nil {
				return false, nil, err
			}
			n = int(binary.BigEndian.Uint64(h[2:]))
		}
		if h[1]&0x80 != 0 {
			return false, nil, errors.New("raw: masked server frame")
		}
		s := len(r.buf)
		if cap(r.buf)-s < n {
			nb := make([]byte, s, s+n)
			copy(nb, r.buf)
			r.buf = nb
		}
		r.buf = r.buf[:s+n]
		if _, err := io.ReadFull(r.br, r.buf[s:]); err != nil {
			return false, nil, err
		}
		op := h[0] & 0x0f
		if op >= 8 {
			r.buf = r.buf[:s]
			if op == 8 {
				return false, nil, io.EOF
			}
			continue
		}
		if msgOp == 0xff {
			msgOp = op
		}
		if h[0]&0x80 != 0 {
			return msgOp == 1, r.buf, nil
		}
	}
}

func (r *rawConn) Close() error {
	r.conn.Write(appendMasked(nil, 8, []byte{0x03, 0xe8}))
	return r.conn.Close()
}

// lockedClient serialises Send for libraries that allow one writer only.
type lockedClient struct {
	Client
	mu sync.Mutex
}

func (l *lockedClient) Send(text bool, p []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.Client.Send(text, p)
}
