package wsclient

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/wsclient/wsclient/internal/testserver"
	"github.com/wsclient/wsclient/internal/wsserver"
)

// h2Server starts the project's server with HTTP/2 (RFC 8441) and returns
// it with DialOptions (HTTP2Only) trusting it and a pool of the test's own.
func h2Server(t *testing.T, o wsserver.Options) (*wsserver.Server, *DialOptions) {
	t.Helper()
	o.HTTP2 = true
	s, err := wsserver.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, &DialOptions{
		HTTP2:     HTTP2Only,
		HTTP2Pool: testPool(t),
		TLSConfig: &tls.Config{RootCAs: s.CertPool()},
		Timeout:   10 * time.Second,
	}
}

// testPool is a pool emptied when the test ends (TestMain checks that no
// goroutine is left).
func testPool(t *testing.T) *HTTP2Pool {
	p := new(HTTP2Pool)
	t.Cleanup(func() { emptyPool(t, p) })
	return p
}

// emptyPool waits until the streams of p ended (they close in the
// background) and closes its connections.
func emptyPool(t *testing.T, p *HTTP2Pool) {
	for range 500 {
		p.CloseIdleConnections()
		if c, _ := p.Stats(); c == 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	p.Close()
	t.Error("HTTP/2 connections with streams left in the pool")
}

// mustDial dials and aborts the connection when the test ends, waiting
// until an HTTP/2 stream is gone from its connection.
func mustDial(t *testing.T, url string, o *DialOptions) *Conn {
	t.Helper()
	c, err := Dial(context.Background(), url, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Abort()
		if s, ok := c.NetConn().(interface{ Done() <-chan struct{} }); ok {
			<-s.Done()
		}
	})
	return c
}

func echoText(t *testing.T, c *Conn, msg string) {
	t.Helper()
	if err := c.SendText(msg); err != nil {
		t.Fatal(err)
	}
	if m, err := c.RecvText(); err != nil || m != msg {
		t.Fatalf("echo: %d bytes, %v; want %d bytes", len(m), err, len(msg))
	}
}

// TestHTTP2Dial: Dial with HTTP2Only over TLS and h2c: the WebSocket is an
// HTTP/2 stream (HTTPVersion 2, status 200); the extended CONNECT carries
// what the HTTP/1.1 request would (Origin, Cookie from the option and the
// jar, Authorization from the URL, custom headers, the Host override as
// :authority, the subprotocol offer) and :protocol websocket; Set-Cookie of
// the answer goes to the jar.
func TestHTTP2Dial(t *testing.T) {
	for _, tlsOn := range []bool{true, false} {
		s, o := h2Server(t, wsserver.Options{TLS: tlsOn, Subprotocols: []string{"chat"}})
		u, _ := url.Parse(s.URL())
		scheme := map[bool]string{true: "https", false: "http"}[tlsOn]
		jar, _ := cookiejar.New(nil)
		jar.SetCookies(&url.URL{Scheme: scheme, Host: u.Host}, []*http.Cookie{{Name: "jar", Value: "j"}})
		o.Jar, o.Cookie, o.Host = jar, "opt=o", "example.test"
		o.Header = http.Header{"X-Custom": {"c"}}
		o.Subprotocols = []string{"chat"}
		c := mustDial(t, strings.Replace(s.URL(), "://", "://user:pw@", 1)+"headers", o)
		if c.HTTPVersion() != 2 || c.Status() != 200 || c.Subprotocol() != "chat" {
			t.Fatalf("HTTPVersion %d, Status %d, Subprotocol %q", c.HTTPVersion(), c.Status(), c.Subprotocol())
		}
		_, p, err := c.Recv()
		if err != nil {
			t.Fatal(err)
		}
		var pairs [][2]string
		json.Unmarshal(p, &pairs)
		got := map[string]string{}
		for _, kv := range pairs {
			got[kv[0]] += kv[1]
		}
		for k, v := range map[string]string{
			"Host": "example.test", ":protocol": "websocket", "Sec-Websocket-Version": "13",
			"Origin": scheme + "://" + u.Host, "Cookie": "opt=o; jar=j", "Authorization": "Basic dXNlcjpwdw==",
			"X-Custom": "c", "Sec-Websocket-Protocol": "chat", "Sec-Websocket-Key": "",
		} {
			if got[k] != v {
				t.Errorf("tls=%v: %s = %q, want %q", tlsOn, k, got[k], v)
			}
		}
		echoText(t, c, "over h2")
		if err := c.Close(StatusNormal, ""); err != nil {
			t.Fatal(err)
		}
	}
}

// TestHTTP2Unix: ws+unix:// and wss+unix:// with HTTP2Only: HTTP/2 (h2c,
// or TLS with ALPN h2) on a Unix socket, and WebSockets to the same socket
// share one connection.
func TestHTTP2Unix(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		sock := filepath.Join(t.TempDir(), "h2.sock")
		s, o := h2Server(t, wsserver.Options{Unix: sock, TLS: tlsOn})
		o.TLSConfig.ServerName = "127.0.0.1" // the self-signed certificate's name
		if !strings.Contains(s.URL(), "+unix://") {
			t.Fatalf("server URL %s", s.URL())
		}
		a, b := mustDial(t, s.URL()+"echo", o), mustDial(t, s.URL()+"echo", o)
		for _, c := range []*Conn{a, b} {
			if c.HTTPVersion() != 2 {
				t.Fatalf("tls=%v: HTTP/%d over the Unix socket", tlsOn, c.HTTPVersion())
			}
			echoText(t, c, "h2 over unix")
		}
		if n := s.Accepted(); n != 1 {
			t.Fatalf("tls=%v: %d connections to the socket for two WebSockets, want 1", tlsOn, n)
		}
		a.Close(StatusNormal, "")
		b.Close(StatusNormal, "")
	}
}

// TestHTTP2Shared: WebSockets dialed with one pool to one origin share one
// TCP connection; closing one leaves the others open. HTTP2Auto uses the
// same connection.
func TestHTTP2Shared(t *testing.T) {
	s, o := h2Server(t, wsserver.Options{TLS: true})
	var cs []*Conn
	for i := range 5 {
		if i == 4 {
			o.HTTP2 = HTTP2Auto
		}
		cs = append(cs, mustDial(t, s.URL(), o))
	}
	if n := s.Accepted(); n != 1 {
		t.Fatalf("server accepted %d connections, want 1", n)
	}
	if conns, streams := o.HTTP2Pool.Stats(); conns != 1 || streams != 5 {
		t.Fatalf("pool: %d connections, %d streams", conns, streams)
	}
	cs[0].Close(StatusNormal, "")
	for _, c := range cs[1:] {
		if c.HTTPVersion() != 2 {
			t.Fatalf("HTTP/%d", c.HTTPVersion())
		}
		echoText(t, c, "x")
	}
}

// TestHTTP2DefaultPool: a nil HTTP2Pool is the package's default pool,
// shared by dials without a pool of their own.
func TestHTTP2DefaultPool(t *testing.T) {
	s, o := h2Server(t, wsserver.Options{TLS: true})
	o.HTTP2Pool = nil
	t.Cleanup(func() { emptyPool(t, defaultHTTP2Pool) })
	for range 2 {
		echoText(t, mustDial(t, s.URL(), o), "default pool")
	}
	if conns, streams := defaultHTTP2Pool.Stats(); conns != 1 || streams != 2 || s.Accepted() != 1 {
		t.Fatalf("default pool: %d connections, %d streams; server accepted %d", conns, streams, s.Accepted())
	}
}

// countDials is a NetDial that counts the connections it opens and keeps
// them.
type countDials struct {
	mu    sync.Mutex
	conns []net.Conn
}

func (d *countDials) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err == nil {
		d.mu.Lock()
		d.conns = append(d.conns, nc)
		d.mu.Unlock()
	}
	return nc, err
}

func (d *countDials) count() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.conns)
}

// TestHTTP2AutoFallback: HTTP2Auto connects to HTTP/1.1-only servers (nginx
// terminating TLS, python3-websockets) over HTTP/1.1 on the TLS connection
// it opened (one connection per dial); HTTP2Only fails with ErrNoHTTP2
// there.
func TestHTTP2AutoFallback(t *testing.T) {
	certs := testserver.NewCerts(t)
	backend, err := wsserver.Start(wsserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Close()
	ng := testserver.StartNginx(t, backend.Addr().String(), certs)
	py := testserver.StartPython(t, testserver.PyOptions{CertFile: certs.CertFile, KeyFile: certs.KeyFile})
	for name, addr := range map[string]string{"nginx": ng.Addr, "python": py.Addr} {
		var nd countDials
		o := &DialOptions{HTTP2: HTTP2Auto, HTTP2Pool: testPool(t), TLSConfig: &tls.Config{RootCAs: certs.Pool},
			NetDial: nd.dial, Timeout: 10 * time.Second}
		c := mustDial(t, "wss://"+addr+"/", o)
		if c.HTTPVersion() != 1 || c.Status() != 101 || nd.count() != 1 {
			t.Fatalf("%s Auto: HTTP/%d status %d over %d connections", name, c.HTTPVersion(), c.Status(), nd.count())
		}
		echoText(t, c, "h1")
		c.Close(StatusNormal, "")
		o.HTTP2 = HTTP2Only
		if _, err := Dial(context.Background(), "wss://"+addr+"/", o); !errors.Is(err, ErrNoHTTP2) || !strings.Contains(err.Error(), "not h2") {
			t.Fatalf("%s Only: %v, want ErrNoHTTP2 (ALPN did not choose h2)", name, err)
		}
	}
}

// TestHTTP2H2CFallback: ws:// with HTTP2Auto stays HTTP/1.1; HTTP2Only (h2c
// with prior knowledge) to an HTTP/1.1-only server fails with ErrNoHTTP2.
func TestHTTP2H2CFallback(t *testing.T) {
	s, err := wsserver.Start(wsserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	o := &DialOptions{HTTP2: HTTP2Auto, HTTP2Pool: testPool(t), Timeout: 10 * time.Second}
	c := mustDial(t, s.URL(), o)
	if c.HTTPVersion() != 1 {
		t.Fatalf("ws:// Auto: HTTP/%d", c.HTTPVersion())
	}
	c.Close(StatusNormal, "")
	o.HTTP2 = HTTP2Only
	if _, err := Dial(context.Background(), s.URL(), o); !errors.Is(err, ErrNoHTTP2) {
		t.Fatalf("h2c Only: %v, want ErrNoHTTP2", err)
	}
}

// noXConnectServer serves h2 without SETTINGS_ENABLE_CONNECT_PROTOCOL when
// ALPN picks h2, and proxies HTTP/1.1 to backend otherwise. It counts both.
func noXConnectServer(t *testing.T, certs *testserver.Certs, backend string) (addr string, h2conns, h1conns *atomic.Int32) {
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{certs.Server}, NextProtos: []string{"h2", "http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	h2conns, h1conns = new(atomic.Int32), new(atomic.Int32)
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	serve := func(tc *tls.Conn) {
		defer tc.Close()
		if tc.Handshake() != nil {
			return
		}
		if tc.ConnectionState().NegotiatedProtocol == "h2" {
			h2conns.Add(1)
			http2.NewFramer(tc, nil).WriteSettings(http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 100})
			io.Copy(io.Discard, tc)
			return
		}
		h1conns.Add(1)
		bc, err := net.Dial("tcp", backend)
		if err != nil {
			return
		}
		defer bc.Close()
		go func() { io.Copy(bc, tc); bc.Close() }()
		io.Copy(tc, bc)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); serve(nc.(*tls.Conn)) }()
		}
	}()
	return ln.Addr().String(), h2conns, h1conns
}

// TestHTTP2AutoNoExtendedConnect: a server that speaks HTTP/2 but does not
// enable extended CONNECT gets HTTP/1.1 on a new connection in Auto mode
// (the second dial remembers and goes straight to HTTP/1.1), and
// ErrNoHTTP2 (saying there is no extended CONNECT) in Only mode.
func TestHTTP2AutoNoExtendedConnect(t *testing.T) {
	certs := testserver.NewCerts(t)
	backend, err := wsserver.Start(wsserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Close()
	addr, h2conns, h1conns := noXConnectServer(t, certs, backend.Addr().String())
	o := &DialOptions{HTTP2: HTTP2Auto, HTTP2Pool: testPool(t), TLSConfig: &tls.Config{RootCAs: certs.Pool}, Timeout: 10 * time.Second}
	for range 2 {
		c := mustDial(t, "wss://"+addr+"/", o)
		if c.HTTPVersion() != 1 {
			t.Fatalf("Auto: HTTP/%d", c.HTTPVersion())
		}
		echoText(t, c, "fallback")
		c.Close(StatusNormal, "")
	}
	if h2conns.Load() != 1 || h1conns.Load() != 2 {
		t.Errorf("%d HTTP/2 and %d HTTP/1.1 connections; want 1 and 2", h2conns.Load(), h1conns.Load())
	}
	o.HTTP2 = HTTP2Only
	if _, err := Dial(context.Background(), "wss://"+addr+"/", o); !errors.Is(err, ErrNoHTTP2) || !strings.Contains(err.Error(), "SETTINGS_ENABLE_CONNECT_PROTOCOL") {
		t.Fatalf("Only: %v, want ErrNoHTTP2 saying there is no extended CONNECT", err)
	}
}

// TestHTTP2Compression: permessage-deflate over an HTTP/2 stream, through
// nghttpx (RFC 8441 front end) to python3-websockets, which compresses.
func TestHTTP2Compression(t *testing.T) {
	certs := testserver.NewCerts(t)
	py := testserver.StartPython(t, testserver.PyOptions{Deflate: map[string]any{}})
	addr := testserver.StartNghttpx(t, py.Addr, certs)
	o := &DialOptions{HTTP2: HTTP2Only, HTTP2Pool: testPool(t), TLSConfig: &tls.Config{RootCAs: certs.Pool},
		Compression: &CompressionOptions{}, Timeout: 10 * time.Second}
	c := mustDial(t, "wss://"+addr+"/echo", o)
	if c.HTTPVersion() != 2 || len(c.Extensions()) != 1 || !strings.HasPrefix(c.Extensions()[0], "permessage-deflate") {
		t.Fatalf("HTTP/%d, extensions %q", c.HTTPVersion(), c.Extensions())
	}
	msg := strings.Repeat(`{"compressible": true}`, 5000)
	for range 3 {
		echoText(t, c, msg)
	}
	if err := c.Close(StatusNormal, ""); err != nil {
		t.Fatal(err)
	}
}

// TestHTTP2Proxy: the HTTP/2 connection goes through an HTTP CONNECT proxy
// like an HTTP/1.1 one, once for all the WebSockets sharing it; another
// proxy user gets a connection of its own.
func TestHTTP2Proxy(t *testing.T) {
	s, o := h2Server(t, wsserver.Options{TLS: true})
	px, err := wsserver.StartProxy("", "")
	if err != nil {
		t.Fatal(err)
	}
	defer px.Close()
	pu, _ := url.Parse(px.URL())
	o.Proxy = ProxyURL(pu)
	for range 3 {
		c := mustDial(t, s.URL(), o)
		if c.HTTPVersion() != 2 {
			t.Fatalf("HTTP/%d", c.HTTPVersion())
		}
		echoText(t, c, "via proxy")
	}
	if n := px.Tunnels(); n != 1 {
		t.Fatalf("%d tunnels through the proxy, want 1", n)
	}
	other := *pu
	other.User = url.UserPassword("someone", "else")
	o.Proxy = ProxyURL(&other)
	echoText(t, mustDial(t, s.URL(), o), "other user")
	if n := px.Tunnels(); n != 2 {
		t.Fatalf("%d tunnels through the proxy, want 2 (one per proxy user)", n)
	}
}

// TestHTTP2SOCKS: over a SOCKS5 proxy (microsocks), h2c with the name
// resolved by the proxy (socks5h).
func TestHTTP2SOCKS(t *testing.T) {
	s, o := h2Server(t, wsserver.Options{})
	addr, _ := startMicrosocks(t, false, "", "")
	o.Proxy = ProxyURL(&url.URL{Scheme: "socks5h", Host: addr})
	_, port, _ := net.SplitHostPort(s.Addr().String())
	c := mustDial(t, "ws://127.0.0.1:"+port+"/", o)
	if c.HTTPVersion() != 2 {
		t.Fatalf("HTTP/%d", c.HTTPVersion())
	}
	echoText(t, c, "via socks")
}

// TestHTTP2Trace: the trace shows the extended CONNECT and the HTTP/2
// answer, with credentials redacted (the URL's password, Authorization,
// Cookie, a token in :path).
func TestHTTP2Trace(t *testing.T) {
	s, o := h2Server(t, wsserver.Options{TLS: true})
	var buf bytes.Buffer
	EnableTrace(&buf)
	defer EnableTrace(nil)
	o.Cookie = "sid=topsecret"
	c := mustDial(t, strings.Replace(s.URL(), "://", "://u:hunter2@", 1)+"?token=tok3n", o)
	echoText(t, c, "traced")
	c.Close(StatusNormal, "")
	out := buf.String()
	for _, secret := range []string{"hunter2", "dTpodW50ZXIy", "topsecret", "tok3n"} {
		if strings.Contains(out, secret) {
			t.Errorf("trace leaks %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{":method: CONNECT", ":protocol: websocket", ":path: /?token=xxxxx", ":status 200 OK (HTTP/2)", "[redacted]", "traced"} {
		if !strings.Contains(out, want) {
			t.Errorf("trace lacks %q:\n%s", want, out)
		}
	}
}

// TestHTTP2Refused: a refusal is a *HandshakeError with the status, as over
// HTTP/1.1.
func TestHTTP2Refused(t *testing.T) {
	s, o := h2Server(t, wsserver.Options{TLS: true})
	_, err := Dial(context.Background(), s.URL()+"close/bad", o)
	var he *HandshakeError
	if !errors.As(err, &he) || he.StatusCode != 404 || !errors.Is(err, ErrBadHandshake) {
		t.Fatalf("%v, want a HandshakeError 404", err)
	}
}

// TestHTTP2Redirect: a 307 answer to the extended CONNECT is followed like
// one to an HTTP/1.1 Upgrade, and its Set-Cookie goes to the jar.
func TestHTTP2Redirect(t *testing.T) {
	s, o := h2Server(t, wsserver.Options{})
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	hs := &http.Server{Protocols: &p, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "moved", Value: "yes"})
		http.Redirect(w, r, s.URL()+"headers", http.StatusTemporaryRedirect)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go hs.Serve(ln)
	defer hs.Close()
	o.Jar, _ = cookiejar.New(nil)
	c := mustDial(t, "ws://"+ln.Addr().String()+"/old", o)
	if c.HTTPVersion() != 2 {
		t.Fatalf("HTTP/%d", c.HTTPVersion())
	}
	if _, p, err := c.Recv(); err != nil || !strings.Contains(string(p), `"moved=yes"`) {
		t.Fatalf("headers after the redirect: %s, %v", p, err)
	}
}

// TestHTTP2Options: DialOptions that are not about HTTP/2 work on a stream
// too: NetDial opens the connection, OnPong sees the server's pong,
// MaxMessageSize fails a large message with 1009, and an HTTP2 mode out of
// range is refused before any I/O.
func TestHTTP2Options(t *testing.T) {
	s, o := h2Server(t, wsserver.Options{TLS: true})
	var nd countDials
	pongs := make(chan string, 1)
	o.NetDial, o.OnPong, o.MaxMessageSize = nd.dial, func(p []byte) { pongs <- string(p) }, 100
	c := mustDial(t, s.URL(), o)
	if nd.count() != 1 {
		t.Fatalf("NetDial opened %d connections", nd.count())
	}
	c.Ping([]byte("h2 ping"))
	c.SendText("small")
	if m, err := c.RecvText(); err != nil || m != "small" || <-pongs != "h2 ping" {
		t.Fatalf("echo %q %v", m, err)
	}
	c.SendText(strings.Repeat("x", 200))
	var ce *CloseError
	if _, _, err := c.Recv(); !errors.Is(err, ErrMessageTooBig) && !(errors.As(err, &ce) && ce.Code == StatusMessageTooBig) {
		t.Fatalf("Recv of 200 bytes over MaxMessageSize 100: %v", err)
	}
	o.HTTP2 = HTTP2Mode(7)
	if _, err := Dial(context.Background(), s.URL(), o); !errors.Is(err, ErrInvalidOption) || nd.count() != 1 {
		t.Fatalf("HTTP2Mode(7): %v after %d connections, want ErrInvalidOption before any", err, nd.count())
	}
	if HTTP2Auto.String() != "auto" || HTTP2Mode(7).String() != "HTTP2Mode(7)" {
		t.Fatalf("String: %s, %s", HTTP2Auto, HTTP2Mode(7))
	}
}

// TestHTTP2AppReconnect: App over HTTP/2 reconnects after its stream ends,
// on the same HTTP/2 connection.
func TestHTTP2AppReconnect(t *testing.T) {
	s, o := h2Server(t, wsserver.Options{TLS: true})
	var mu sync.Mutex
	var versions []int
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	a := &App{URL: s.URL(), Options: *o}
	a.OnOpen = func(a *App) {
		mu.Lock()
		defer mu.Unlock()
		versions = append(versions, a.Conn().HTTPVersion())
		if len(versions) == 1 {
			go s.DropClients() // ends the stream without a close frame
		} else {
			cancel()
		}
	}
	a.RunForever(ctx, RunOptions{Reconnect: true, ReconnectMin: 10 * time.Millisecond, ReconnectMax: 50 * time.Millisecond})
	mu.Lock()
	defer mu.Unlock()
	if len(versions) != 2 || versions[0] != 2 || versions[1] != 2 {
		t.Fatalf("versions of the opened connections: %v", versions)
	}
	if n := s.Accepted(); n != 1 {
		t.Fatalf("server accepted %d connections, want 1 (the reconnect reused it)", n)
	}
}

// TestHTTP2AppConnLost: Apps whose WebSockets share one HTTP/2 connection
// all see ErrHTTP2ConnLost when it dies and reconnect, on one new
// connection.
func TestHTTP2AppConnLost(t *testing.T) {
	s, o := h2Server(t, wsserver.Options{TLS: true})
	var nd countDials
	o.NetDial = nd.dial
	const apps = 3
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	opened, lost, closed := make(chan int, 2*apps), make(chan error, apps), make(chan StatusCode, 2*apps)
	for i := range apps {
		a := &App{URL: s.URL(), Options: *o}
		a.OnOpen = func(a *App) { opened <- i }
		a.OnError = func(a *App, err error) {
			if errors.Is(err, ErrHTTP2ConnLost) {
				lost <- err
			}
		}
		a.OnClose = func(a *App, code StatusCode, reason string) { closed <- code }
		wg.Add(1)
		go func() {
			defer wg.Done()
			a.RunForever(ctx, RunOptions{Reconnect: true, ReconnectMin: 10 * time.Millisecond, ReconnectMax: 50 * time.Millisecond})
		}()
	}
	defer wg.Wait()
	defer cancel()
	wait := func(ch chan int, what string) {
		for range apps {
			select {
			case <-ch:
			case <-time.After(10 * time.Second):
				t.Fatalf("not every App %s", what)
			}
		}
	}
	wait(opened, "opened")
	if nd.count() != 1 {
		t.Fatalf("%d connections for %d Apps, want 1", nd.count(), apps)
	}
	nd.conns[0].Close() // the HTTP/2 connection dies under every stream
	for range apps {
		select {
		case <-lost:
			select {
			case code := <-closed:
				if code != StatusAbnormalClosure {
					t.Errorf("OnClose got %d after the connection died, want 1006", code)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("no OnClose after ErrHTTP2ConnLost")
			}
		case <-time.After(10 * time.Second):
			t.Fatal("not every App saw ErrHTTP2ConnLost")
		}
	}
	wait(opened, "reconnected")
	if nd.count() != 2 || s.Accepted() != 2 {
		t.Fatalf("%d connections dialed, %d accepted; want 2 (the reconnects share one)", nd.count(), s.Accepted())
	}
}

// TestHTTP2NetConn: a NetConn carries the HTTP/2 connection of its dial. In
// HTTP2Auto, a server whose HTTP/2 lacks RFC 8441 has consumed it: the dial
// fails with ErrNoHTTP2 rather than writing HTTP/1.1 to a closed
// socket.
func TestHTTP2NetConn(t *testing.T) {
	s, o := h2Server(t, wsserver.Options{TLS: true})
	nc, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	o.NetConn = nc
	c := mustDial(t, s.URL(), o)
	if c.HTTPVersion() != 2 {
		t.Fatalf("HTTP/%d", c.HTTPVersion())
	}
	echoText(t, c, "own socket")

	certs := testserver.NewCerts(t)
	addr, h2conns, h1conns := noXConnectServer(t, certs, s.Addr().String())
	nc, err = net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	o = &DialOptions{HTTP2: HTTP2Auto, HTTP2Pool: testPool(t), TLSConfig: &tls.Config{RootCAs: certs.Pool}, NetConn: nc, Timeout: 10 * time.Second}
	if _, err := Dial(context.Background(), "wss://"+addr+"/", o); !errors.Is(err, ErrNoHTTP2) || !strings.Contains(err.Error(), "NetConn") {
		t.Fatalf("Auto with NetConn: %v, want ErrNoHTTP2 naming NetConn", err)
	}
	if h2conns.Load() != 1 || h1conns.Load() != 0 {
		t.Fatalf("%d HTTP/2 and %d HTTP/1.1 connections", h2conns.Load(), h1conns.Load())
	}
}
