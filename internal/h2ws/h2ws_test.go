package h2ws

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/wsclient/wsclient/codec"
	"github.com/wsclient/wsclient/engine"
	"github.com/wsclient/wsclient/internal/wsserver"
)

// TestEcho opens WebSockets over HTTP/2 to the project's own server, over
// TLS (ALPN h2) and in clear text (h2c, prior knowledge), and echoes
// messages up to 16 MiB through the engine: larger than the stream window
// (4 MiB) and the server's, so flow control must move as data is consumed.
func TestEcho(t *testing.T) {
	for _, tlsOn := range []bool{true, false} {
		name := "h2c"
		if tlsOn {
			name = "tls"
		}
		t.Run(name, func(t *testing.T) {
			s := startServer(t, wsserver.Options{TLS: tlsOn})
			tg := ownTarget(s)
			tg.only = true
			p := newPool(t)
			st, res := dial(t, p, tg.request("/"))
			if res.Response.StatusCode != 200 {
				t.Fatalf("status %d", res.Response.StatusCode)
			}
			c := ws(t, st)
			for _, n := range []int{0, 1, 125, 126, 65536, 1 << 20, 16 << 20} {
				p := make([]byte, n)
				for i := range p {
					p[i] = byte(i * 7)
				}
				echo(t, c, p)
			}
			if err := c.Close(1000, "bye"); err != nil {
				t.Fatalf("Close: %v", err)
			}
		})
	}
}

// TestHandshakeFields checks the request the server saw (RFC 8441 §4–5):
// :protocol websocket, sec-websocket-version 13, the subprotocol offer,
// Origin, Cookie and a custom field; no Sec-WebSocket-Key, no Upgrade.
// And the response: the chosen subprotocol.
func TestHandshakeFields(t *testing.T) {
	s := startServer(t, wsserver.Options{TLS: true})
	tg := ownTarget(s)
	r := tg.request("/headers?x=1")
	r.Protocols = []string{"superchat", "chat"}
	r.Header.Set("Cookie", "a=1; b=2")
	r.Header.Set("X-Custom", "yes")
	r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==") // HTTP/1.1 only: dropped
	r.Header.Set("Connection", "Upgrade")                         // connection-specific: dropped
	r.Header.Set("Upgrade", "websocket")
	p := newPool(t)
	st, res := dial(t, p, r)
	if res.Response.Subprotocol != "chat" {
		t.Fatalf("subprotocol %q, want chat", res.Response.Subprotocol)
	}
	c := ws(t, st)
	c.NetConn().SetDeadline(time.Now().Add(10 * time.Second))
	_, msg, err := c.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var pairs [][2]string
	if err := json.Unmarshal(msg, &pairs); err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, kv := range pairs {
		got[kv[0]] = append(got[kv[0]], kv[1])
	}
	want := map[string]string{
		"Host":                   tg.addr,
		":protocol":              "websocket",
		"Sec-Websocket-Version":  "13",
		"Sec-Websocket-Protocol": "superchat, chat",
		"Origin":                 "https://" + tg.addr,
		"X-Custom":               "yes",
	}
	for k, v := range want {
		if len(got[k]) != 1 || got[k][0] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if c := strings.Join(got["Cookie"], "; "); c != "a=1; b=2" {
		t.Errorf("Cookie = %q", c)
	}
	for _, k := range []string{"Sec-Websocket-Key", "Upgrade", "Connection", "User-Agent", "Accept-Encoding"} {
		if _, ok := got[k]; ok {
			t.Errorf("%s sent: %q", k, got[k])
		}
	}
}

// TestMultiplex: dials to one origin share a connection up to the server's
// SETTINGS_MAX_CONCURRENT_STREAMS (3 here), then open the next; dials
// racing for a new connection wait for one instead of each opening its
// own; closing a WebSocket closes its stream only, and its slot is reused.
func TestMultiplex(t *testing.T) {
	s := startServer(t, wsserver.Options{TLS: true, MaxStreams: 3})
	tg := ownTarget(s)
	p := newPool(t)
	const n = 7
	streams := make([]*Stream, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := p.Dial(context.Background(), tg.request("/"))
			if err != nil {
				errs <- err
				return
			}
			streams[i] = res.Conn
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, st := range streams {
			st.Close()
			<-st.Done()
		}
	})
	if conns, nst := p.Stats(); conns != 3 || nst != n {
		t.Fatalf("pool: %d connections, %d streams; want 3, %d", conns, nst, n)
	}
	if a := s.Accepted(); a != 3 {
		t.Fatalf("server accepted %d TCP connections, want 3", a)
	}
	cs := make([]*engine.Conn, n)
	for i, st := range streams {
		cs[i] = ws(t, st)
		echo(t, cs[i], []byte{byte(i)})
	}
	// Close one WebSocket: the others on its connection go on.
	if err := cs[0].Close(1000, ""); err != nil {
		t.Fatal(err)
	}
	<-streams[0].Done()
	for _, c := range cs[1:] {
		echo(t, c, []byte("still here"))
	}
	// Its slot is free again: the next dial needs no new connection.
	st, _ := dial(t, p, tg.request("/"))
	echo(t, ws(t, st), []byte("reused"))
	if a := s.Accepted(); a != 3 {
		t.Fatalf("server accepted %d TCP connections, want still 3", a)
	}
}

// TestReadDeadline: a read that times out returns os.ErrDeadlineExceeded
// and leaves the stream usable.
func TestReadDeadline(t *testing.T) {
	s := startServer(t, wsserver.Options{})
	tg := ownTarget(s)
	tg.only = true
	st, _ := dial(t, newPool(t), tg.request("/"))
	st.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	buf := make([]byte, 64)
	start := time.Now()
	if _, err := st.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read = %v, want os.ErrDeadlineExceeded", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("deadline took %v", d)
	}
	st.SetReadDeadline(time.Time{})
	echo(t, ws(t, st), []byte("after the timeout"))
}

// TestFallbackALPN: a TLS server that offers only http/1.1 gets the
// connection back in Auto mode (for the HTTP/1.1 handshake, which then
// succeeds on it) and fails clearly in Only mode.
func TestFallbackALPN(t *testing.T) {
	s, err := wsserver.Start(wsserver.Options{TLS: true}) // no HTTP2
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	tg := ownTarget(s)
	p := newPool(t)
	res, err := p.Dial(context.Background(), tg.request("/"))
	if err != nil {
		t.Fatal(err)
	}
	if res.HTTP1 == nil || res.Conn != nil {
		t.Fatalf("Auto: %+v, want HTTP1", res)
	}
	defer res.HTTP1.Close()
	var req bytes.Buffer
	key, err := codec.WriteRequest(&req, &codec.Request{Host: tg.addr, RequestURI: "/"})
	if err != nil {
		t.Fatal(err)
	}
	res.HTTP1.Write(req.Bytes())
	if _, err := codec.ReadResponse(bufio.NewReader(res.HTTP1), key, nil, nil); err != nil {
		t.Fatalf("HTTP/1.1 handshake on the handed-back connection: %v", err)
	}

	tg.only = true
	_, err = p.Dial(context.Background(), tg.request("/"))
	if !errors.Is(err, ErrNoHTTP2) || !strings.Contains(err.Error(), "http/1.1") {
		t.Fatalf("Only: %v, want ErrNoHTTP2 naming http/1.1", err)
	}
}

// TestNoExtendedConnect: an HTTP/2 server whose SETTINGS do not enable
// extended CONNECT fails with ErrNoExtendedConnect (Auto and Only), and Auto
// remembers it: the next Auto dial opens no connection.
func TestNoExtendedConnect(t *testing.T) {
	f := startFake(t, &fakeServer{settings: []http2.Setting{{ID: http2.SettingMaxConcurrentStreams, Val: 100}}})
	tg := f.target()
	p := newPool(t)
	for _, only := range []bool{false, false, true} {
		tg.only = only
		_, err := p.Dial(context.Background(), tg.request("/"))
		if !errors.Is(err, ErrNoExtendedConnect) {
			t.Fatalf("only=%v: %v, want ErrNoExtendedConnect", only, err)
		}
	}
	if n := tg.dials.Load(); n != 2 {
		t.Fatalf("%d connections opened, want 2 (the second Auto dial remembers, Only tries again)", n)
	}
}

// TestRefused: a :status other than 200 is a *codec.HandshakeError with the
// status, the header fields and the start of the body; the connection
// stays usable.
func TestRefused(t *testing.T) {
	f := startFake(t, &fakeServer{settings: xconnect})
	f.onHeaders = func(c *fakeConn, id uint32, fields []hpack.HeaderField) {
		if field(fields, ":path") == "/ok" {
			c.headers(id, false, ":status", "200")
			return
		}
		c.headers(id, false, ":status", "403", "x-why", "no")
		c.data(id, true, []byte("go away"))
	}
	tg := f.target()
	p := newPool(t)
	_, err := p.Dial(context.Background(), tg.request("/"))
	var he *codec.HandshakeError
	if !errors.As(err, &he) || he.StatusCode != 403 || he.Header.Get("X-Why") != "no" || string(he.Body) != "go away" {
		t.Fatalf("Dial = %v (%+v), want a HandshakeError 403 with body", err, he)
	}
	if !errors.Is(err, codec.ErrBadHandshake) {
		t.Fatalf("%v does not wrap ErrBadHandshake", err)
	}
	dial(t, p, tg.request("/ok"))
	if n := f.accepts.Load(); n != 1 {
		t.Fatalf("%d connections, want 1", n)
	}
}

// TestH2CToHTTP1Server: HTTP/2 with prior knowledge to a server that only
// speaks HTTP/1.1 fails with ErrNoHTTP2 (it answers the preface in HTTP/1.x).
func TestH2CToHTTP1Server(t *testing.T) {
	s, err := wsserver.Start(wsserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	tg := ownTarget(s)
	tg.only = true
	_, err = newPool(t).Dial(context.Background(), tg.request("/"))
	if !errors.Is(err, ErrNoHTTP2) || !strings.Contains(err.Error(), "HTTP/1.x") {
		t.Fatalf("%v, want ErrNoHTTP2 (answered in HTTP/1.x)", err)
	}
}

// TestPoolClose: Close closes every connection, failing their streams with
// ErrConnLost; the pool then opens new ones.
func TestPoolClose(t *testing.T) {
	s := startServer(t, wsserver.Options{})
	tg := ownTarget(s)
	tg.only = true
	p := newPool(t)
	st1, _ := dial(t, p, tg.request("/"))
	st2, _ := dial(t, p, tg.request("/"))
	p.Close()
	for _, st := range []*Stream{st1, st2} {
		st.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := st.Read(make([]byte, 10)); !errors.Is(err, ErrConnLost) {
			t.Fatalf("Read after Close: %v, want ErrConnLost", err)
		}
	}
	st3, _ := dial(t, p, tg.request("/"))
	echo(t, ws(t, st3), []byte("new connection"))
	if n := s.Accepted(); n != 2 {
		t.Fatalf("%d connections, want 2", n)
	}
}

// TestRacePoolClose closes the pool while its last streams close: the
// stream's release arms the connection's idle timer under the pool's lock,
// and Close must stop that timer under the same lock (a data race under
// -race before: wsdump --http2's deferred pool Close met the close of the
// stream the server had just ended).
func TestRacePoolClose(t *testing.T) {
	s := startServer(t, wsserver.Options{})
	tg := ownTarget(s)
	tg.only = true
	for range 20 {
		p := newPool(t)
		st1, _ := dial(t, p, tg.request("/"))
		st2, _ := dial(t, p, tg.request("/"))
		var wg sync.WaitGroup
		for _, st := range []*Stream{st1, st2} {
			wg.Go(func() {
				st.Close()
				<-st.Done()
			})
		}
		wg.Go(p.Close)
		wg.Wait()
	}
}

// TestRequestFieldsRefused: the extended CONNECT is refused before any
// frame is sent when a field could not be sent over HTTP/1.1 either: a
// header name that is not a token, a value holding a control character
// (tab is allowed), a subprotocol that is not a token, an extension offer
// that is empty, holds a comma or a control character.
func TestRequestFieldsRefused(t *testing.T) {
	base := func() *Request {
		return &Request{Authority: "example.com", Path: "/", Header: http.Header{}}
	}
	ok := base()
	ok.Header["X-Tab"] = []string{"a\tb"}
	ok.Protocols = []string{"chat"}
	ok.Extensions = []string{"permessage-deflate; client_max_window_bits"}
	if _, err := requestFields(ok); err != nil {
		t.Fatalf("valid request: %v", err)
	}
	for name, edit := range map[string]func(r *Request){
		"name not a token":   func(r *Request) { r.Header["X Bad"] = []string{"v"} },
		"value with CR":      func(r *Request) { r.Header["X-V"] = []string{"a\rb"} },
		"value with \\x01":   func(r *Request) { r.Header["X-V"] = []string{"a\x01b"} },
		"value with DEL":     func(r *Request) { r.Header["X-V"] = []string{"a\x7fb"} },
		"subprotocol":        func(r *Request) { r.Protocols = []string{"a b"} },
		"empty extension":    func(r *Request) { r.Extensions = []string{""} },
		"extension comma":    func(r *Request) { r.Extensions = []string{"a, b"} },
		"extension with ESC": func(r *Request) { r.Extensions = []string{"a\x1b"} },
	} {
		r := base()
		edit(r)
		if _, err := requestFields(r); err == nil || !strings.HasPrefix(err.Error(), "wsclient: ") {
			t.Errorf("%s: %v, want a wsclient error", name, err)
		}
	}
}
