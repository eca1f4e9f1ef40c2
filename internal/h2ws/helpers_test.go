package h2ws

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/wsclient/wsclient/engine"
	"github.com/wsclient/wsclient/internal/wsserver"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// target says how tests reach a server.
type target struct {
	addr   string
	secure bool
	roots  *x509.CertPool // nil: InsecureSkipVerify
	alpn   []string       // nil: h2, http/1.1
	only   bool
	dials  atomic.Int32 // Connect calls
	tlsCfg *tls.Config  // the Key's TLS identity
}

func newTarget(addr string, secure bool, roots *x509.CertPool) *target {
	return &target{addr: addr, secure: secure, roots: roots,
		tlsCfg: &tls.Config{RootCAs: roots, InsecureSkipVerify: roots == nil, ServerName: "localhost"}}
}

func (tg *target) request(path string) *Request {
	return &Request{
		Key:  Key{Network: "tcp", Addr: tg.addr, Secure: tg.secure, ServerName: "localhost", TLS: tg.tlsCfg},
		Only: tg.only,
		Connect: func(ctx context.Context) (net.Conn, error) {
			tg.dials.Add(1)
			var d net.Dialer
			nc, err := d.DialContext(ctx, "tcp", tg.addr)
			if err != nil || !tg.secure {
				return nc, err
			}
			cfg := TLSConfig(tg.tlsCfg)
			if tg.alpn != nil {
				cfg.NextProtos = tg.alpn
			}
			tc := tls.Client(nc, cfg)
			if err := tc.HandshakeContext(ctx); err != nil {
				nc.Close()
				return nil, err
			}
			return tc, nil
		},
		Authority: tg.addr,
		Path:      path,
		Header:    http.Header{"Origin": {"https://" + tg.addr}},
	}
}

func ownTarget(s *wsserver.Server) *target {
	u := s.URL()
	return newTarget(s.Addr().String(), strings.HasPrefix(u, "wss:"), s.CertPool())
}

func startServer(t *testing.T, o wsserver.Options) *wsserver.Server {
	t.Helper()
	o.HTTP2 = true
	if o.Subprotocols == nil {
		o.Subprotocols = []string{"chat"}
	}
	s, err := wsserver.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// newPool returns a pool whose streams and connections are all gone when
// the test ends (goleak checks).
func newPool(t *testing.T) *Pool {
	p := NewPool()
	t.Cleanup(func() { shutdownPool(t, p) })
	return p
}

func shutdownPool(t *testing.T, p *Pool) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		p.CloseIdleConnections()
		if c, _ := p.Stats(); c == 0 {
			return
		}
		if time.Now().After(deadline) {
			c, s := p.Stats()
			t.Errorf("pool still holds %d connections with %d streams", c, s)
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func dial(t *testing.T, p *Pool, r *Request) (*Stream, *Result) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := p.Dial(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if res.Conn == nil {
		t.Fatalf("Dial: no stream (HTTP1 = %v)", res.HTTP1)
	}
	t.Cleanup(func() { res.Conn.Close(); <-res.Conn.Done() })
	return res.Conn, res
}

// ws runs the frame engine on s.
func ws(t *testing.T, s *Stream) *engine.Conn {
	t.Helper()
	c := engine.New(s, nil, &engine.Config{CloseTimeout: 2 * time.Second})
	t.Cleanup(func() { c.Abort() })
	return c
}

func echo(t *testing.T, c *engine.Conn, p []byte) {
	t.Helper()
	c.NetConn().SetDeadline(time.Now().Add(20 * time.Second))
	defer c.NetConn().SetDeadline(time.Time{})
	// Write while reading: the echo comes back as it is sent, and a message
	// larger than the windows and buffers both ways would otherwise stall.
	werr := make(chan error, 1)
	go func() { werr <- c.Send(2, p) }()
	op, got, err := c.Recv()
	if err := <-werr; err != nil {
		t.Fatal(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if op != 2 || !bytes.Equal(got, p) {
		t.Fatalf("echo of %d bytes: got opcode %v, %d bytes", len(p), op, len(got))
	}
}

// fakeServer is a scripted HTTP/2 server on x/net's Framer and hpack, for
// what real servers will not do on demand: refuse, reset, go away, never
// open the window, send oversized headers.
type fakeServer struct {
	t        *testing.T
	ln       net.Listener
	settings []http2.Setting
	// onHeaders is called for each request; fields are the decoded
	// header block.
	onHeaders func(c *fakeConn, id uint32, fields []hpack.HeaderField)
	// onData, if set, gets the request DATA; otherwise it is discarded.
	onData func(c *fakeConn, id uint32, p []byte)
	// noWindow sends no WINDOW_UPDATE for received DATA.
	noWindow bool
	// onFrame, if set, sees the header of every frame read.
	onFrame func(h http2.FrameHeader)
	accepts atomic.Int32

	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []*fakeConn
}

type fakeConn struct {
	s   *fakeServer
	nc  net.Conn
	wmu sync.Mutex
	fr  *http2.Framer
	hb  bytes.Buffer
	enc *hpack.Encoder
}

func startFake(t *testing.T, f *fakeServer) *fakeServer {
	t.Helper()
	f.t = t
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f.ln = ln
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			f.accepts.Add(1)
			c := &fakeConn{s: f, nc: nc, fr: http2.NewFramer(nc, nc)}
			c.enc = hpack.NewEncoder(&c.hb)
			c.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
			f.mu.Lock()
			f.conns = append(f.conns, c)
			f.mu.Unlock()
			f.wg.Add(1)
			go func() {
				defer f.wg.Done()
				defer nc.Close()
				c.serve()
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		f.mu.Lock()
		for _, c := range f.conns {
			c.nc.Close()
		}
		f.mu.Unlock()
		f.wg.Wait()
	})
	return f
}

func (f *fakeServer) target() *target {
	tg := newTarget(f.ln.Addr().String(), false, nil)
	tg.only = true
	return tg
}

func (c *fakeConn) serve() {
	preface := make([]byte, len(http2.ClientPreface))
	if _, err := io.ReadFull(c.nc, preface); err != nil || string(preface) != http2.ClientPreface {
		return
	}
	c.wmu.Lock()
	c.fr.WriteSettings(c.s.settings...)
	c.wmu.Unlock()
	for {
		f, err := c.fr.ReadFrame()
		if err != nil {
			return
		}
		if c.s.onFrame != nil {
			c.s.onFrame(f.Header())
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				c.wmu.Lock()
				c.fr.WriteSettingsAck()
				c.wmu.Unlock()
			}
		case *http2.MetaHeadersFrame:
			if c.s.onHeaders != nil {
				c.s.onHeaders(c, f.StreamID, f.Fields)
			}
		case *http2.DataFrame:
			if n := len(f.Data()); n > 0 && !c.s.noWindow {
				c.wmu.Lock()
				c.fr.WriteWindowUpdate(0, uint32(n))
				c.fr.WriteWindowUpdate(f.StreamID, uint32(n))
				c.wmu.Unlock()
			}
			if c.s.onData != nil {
				c.s.onData(c, f.StreamID, append([]byte(nil), f.Data()...))
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				c.wmu.Lock()
				c.fr.WritePing(true, f.Data)
				c.wmu.Unlock()
			}
		}
	}
}

// headers sends a HEADERS frame with the given name, value pairs.
func (c *fakeConn) headers(id uint32, end bool, kv ...string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.hb.Reset()
	for i := 0; i+1 < len(kv); i += 2 {
		c.enc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
	}
	c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: c.hb.Bytes(), EndHeaders: true, EndStream: end})
}

func (c *fakeConn) data(id uint32, end bool, p []byte) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.fr.WriteData(id, end, p)
}

func (c *fakeConn) rst(id uint32, code http2.ErrCode) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.fr.WriteRSTStream(id, code)
}

func (c *fakeConn) goAway(last uint32) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.fr.WriteGoAway(last, http2.ErrCodeNo, []byte("bye"))
}

// field returns the value of name in fields.
func field(fields []hpack.HeaderField, name string) string {
	for _, f := range fields {
		if f.Name == name {
			return f.Value
		}
	}
	return ""
}

var xconnect = []http2.Setting{{ID: http2.SettingEnableConnectProtocol, Val: 1}}
