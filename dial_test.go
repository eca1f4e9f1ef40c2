package wsclient

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wsclient/wsclient/internal/testserver"
	"github.com/wsclient/wsclient/internal/testutil"
)

func TestParseURL(t *testing.T) {
	cases := []struct {
		in                         string
		addr, unix, host, uri, org string
		secure                     bool
	}{
		{in: "ws://example.com", addr: "example.com:80", host: "example.com", uri: "/", org: "http://example.com"},
		{in: "wss://example.com/a/b?x=1#frag", addr: "example.com:443", host: "example.com", uri: "/a/b?x=1", org: "https://example.com", secure: true},
		{in: "ws://example.com:8080/p%20q", addr: "example.com:8080", host: "example.com:8080", uri: "/p%20q", org: "http://example.com:8080"},
		{in: "WS://EXAMPLE.com:80/", addr: "EXAMPLE.com:80", host: "EXAMPLE.com", uri: "/", org: "http://EXAMPLE.com"},
		{in: "ws://[::1]:9000/x", addr: "[::1]:9000", host: "[::1]:9000", uri: "/x", org: "http://[::1]:9000"},
		{in: "wss://[::1]/x", addr: "[::1]:443", host: "[::1]", uri: "/x", org: "https://[::1]", secure: true},
		{in: "ws://u:secret@h/", addr: "h:80", host: "h", uri: "/", org: "http://h"},
		{in: "ws+unix:///tmp/s.sock", unix: "/tmp/s.sock", host: "localhost", uri: "/", org: "http://localhost"},
		{in: "ws+unix:///tmp/s.sock:/chat?room=1", unix: "/tmp/s.sock", host: "localhost", uri: "/chat?room=1", org: "http://localhost"},
		{in: "wss+unix://%2Ftmp%2Fs.sock/chat", unix: "/tmp/s.sock", host: "localhost", uri: "/chat", org: "https://localhost", secure: true},
	}
	for _, c := range cases {
		tg, err := parseURL(c.in)
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if tg.addr != c.addr && c.unix == "" || tg.unix != c.unix || tg.hostHdr != c.host || tg.uri != c.uri || tg.origin != c.org || tg.secure != c.secure {
			t.Errorf("%s: got addr %q unix %q host %q uri %q origin %q secure %v", c.in, tg.addr, tg.unix, tg.hostHdr, tg.uri, tg.origin, tg.secure)
		}
	}
	for _, bad := range []string{"http://example.com", "example.com", "ws://", "ws://h:99999/", "ws://h:x/", "ftp://h/", "ws+unix://", "ws://u:secret@h:bad/"} {
		_, err := parseURL(bad)
		if err == nil {
			t.Errorf("%s: no error", bad)
		} else if strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: error leaks the password: %v", bad, err)
		}
	}
}

func dialPy(t *testing.T, url string, opts *DialOptions) *Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, url, opts)
	if err != nil {
		t.Fatalf("Dial %s: %v", url, err)
	}
	t.Cleanup(func() { c.Abort() })
	return c
}

func TestEchoPython(t *testing.T) {
	py := testserver.StartPython(t, testserver.PyOptions{})
	c := dialPy(t, "ws://"+py.Addr+"/echo", nil)
	if c.Status() != 101 {
		t.Fatalf("status %d", c.Status())
	}
	sizes := []int{0, 1, 125, 126, 65535, 65536, 1 << 20, 16 << 20}
	if testing.Short() {
		sizes = sizes[:6]
	}
	for _, n := range sizes {
		bin := make([]byte, n)
		for i := range bin {
			bin[i] = byte(i*7 + i>>8)
		}
		txt := strings.Repeat("héllo wörld ✓ 😀 ", n/23+1)
		for _, fragmented := range []bool{false, true} {
			var err error
			if fragmented {
				err = sendFrames(c, OpBinary, bin, 4000)
			} else {
				err = c.SendBinary(bin)
			}
			if err != nil {
				t.Fatal(err)
			}
			op, got, err := c.Recv()
			if err != nil || op != OpBinary || !bytes.Equal(got, bin) {
				t.Fatalf("binary %d (fragmented %v): op %v, %d bytes, %v", n, fragmented, op, len(got), err)
			}
			if fragmented {
				err = sendFrames(c, OpText, []byte(txt), 4000) // splits inside code points
			} else {
				err = c.SendText(txt)
			}
			if err != nil {
				t.Fatal(err)
			}
			op, got, err = c.Recv()
			if err != nil || op != OpText || string(got) != txt {
				t.Fatalf("text %d (fragmented %v): op %v, %d bytes, %v", len(txt), fragmented, op, len(got), err)
			}
		}
	}
	if err := c.Close(StatusNormal, "bye"); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := c.SendText("x"); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("send after close: %v", err)
	}
}

func TestFragmentedFromPython(t *testing.T) {
	py := testserver.StartPython(t, testserver.PyOptions{})
	c := dialPy(t, "ws://"+py.Addr+"/frag", nil)
	var frames []string
	for {
		f, err := c.RecvFrame()
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, fmt.Sprintf("%v:%v:%s", f.Opcode, f.Fin, f.Payload))
		if f.Fin {
			break
		}
	}
	// websockets ends a fragmented message with an empty final frame.
	if got := strings.Join(frames, " "); got != "text:false:frag cont:false:men cont:false:ted cont:true:" {
		t.Fatalf("frames: %s", got)
	}
}

func TestServerClosePython(t *testing.T) {
	py := testserver.StartPython(t, testserver.PyOptions{})
	c := dialPy(t, "ws://"+py.Addr+"/close/1001/going%20away", nil)
	_, _, err := c.Recv()
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != StatusGoingAway || ce.Reason != "going away" {
		t.Fatalf("Recv: %v", err)
	}
}

func TestRequestHeadersPython(t *testing.T) {
	py := testserver.StartPython(t, testserver.PyOptions{Subprotocols: true})
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse("http://" + py.Addr + "/")
	jar.SetCookies(u, []*http.Cookie{{Name: "jarred", Value: "1"}})
	c := dialPy(t, "ws://user:pa55@"+py.Addr+"/headers", &DialOptions{
		Header:       http.Header{"X-Token": {"t0k"}},
		Cookie:       "a=b",
		Jar:          jar,
		Subprotocols: []string{"nope", "superchat"},
	})
	_, p, err := c.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var items [][2]string
	if err := json.Unmarshal(p, &items); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, kv := range items {
		got[http.CanonicalHeaderKey(kv[0])] = kv[1]
	}
	want := map[string]string{
		"X-Token":                "t0k",
		"Cookie":                 "a=b; jarred=1",
		"Origin":                 "http://" + py.Addr,
		"Host":                   py.Addr,
		"Authorization":          "Basic dXNlcjpwYTU1",
		"Sec-Websocket-Protocol": "nope, superchat",
		"Sec-Websocket-Version":  "13",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("header %s = %q, want %q", k, got[k], v)
		}
	}
	if c.Subprotocol() != "superchat" {
		t.Errorf("Subprotocol() = %q", c.Subprotocol())
	}
}

func TestCookieJarStoresSetCookie(t *testing.T) {
	py := testserver.StartPython(t, testserver.PyOptions{})
	jar, _ := cookiejar.New(nil)
	dialPy(t, "ws://"+py.Addr+"/cookie", &DialOptions{Jar: jar})
	u, _ := url.Parse("http://" + py.Addr + "/")
	if cs := jar.Cookies(u); len(cs) != 1 || cs[0].Value != "abc123" {
		t.Fatalf("jar holds %v", cs)
	}
	c := dialPy(t, "ws://"+py.Addr+"/headers", &DialOptions{Jar: jar, SuppressOrigin: true})
	_, p, _ := c.Recv()
	if !strings.Contains(string(p), `"session=abc123"`) || strings.Contains(string(p), `"Origin"`) {
		t.Fatalf("second dial sent %s", p)
	}
}

func TestTLSPython(t *testing.T) {
	certs := testserver.NewCerts(t)
	py := testserver.StartPython(t, testserver.PyOptions{CertFile: certs.CertFile, KeyFile: certs.KeyFile})
	port := strings.TrimPrefix(py.Addr, "127.0.0.1:")
	c := dialPy(t, "wss://localhost:"+port+"/echo", &DialOptions{TLSConfig: &tls.Config{RootCAs: certs.Pool}})
	if err := c.SendText("secure"); err != nil {
		t.Fatal(err)
	}
	if _, p, err := c.Recv(); err != nil || string(p) != "secure" {
		t.Fatalf("%q %v", p, err)
	}
	c.Close(StatusNormal, "")

	// Untrusted: the system roots do not know our CA.
	_, err := Dial(context.Background(), "wss://localhost:"+port+"/echo", &DialOptions{Timeout: 5 * time.Second})
	var uerr *tlsVerifyErr
	if err == nil || !errors.As(err, &uerr) {
		t.Fatalf("untrusted certificate: got %v", err)
	}

	// WEBSOCKET_CLIENT_CA_BUNDLE, as websocket-client honours it.
	t.Setenv("WEBSOCKET_CLIENT_CA_BUNDLE", certs.CAFile)
	c2 := dialPy(t, "wss://localhost:"+port+"/echo", nil)
	c2.Close(StatusNormal, "")
}

type tlsVerifyErr = tls.CertificateVerificationError

func TestUnixSocketPython(t *testing.T) {
	py := testserver.StartPython(t, testserver.PyOptions{Unix: true})
	for _, u := range []string{"ws+unix://" + py.Addr + ":/echo", "ws+unix://" + url.PathEscape(py.Addr) + "/echo"} {
		c := dialPy(t, u, nil)
		if err := c.SendText("over unix"); err != nil {
			t.Fatal(err)
		}
		if _, p, err := c.Recv(); err != nil || string(p) != "over unix" {
			t.Fatalf("%s: %q %v", u, p, err)
		}
		c.Close(StatusNormal, "")
	}
}

// goServer is a plain HTTP server for redirects and bad handshakes.
func goServer(t *testing.T, h http.HandlerFunc) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

func TestRedirects(t *testing.T) {
	py := testserver.StartPython(t, testserver.PyOptions{})
	var sawAuth []string
	var addr string
	addr = goServer(t, func(w http.ResponseWriter, r *http.Request) {
		sawAuth = append(sawAuth, r.URL.Path+"="+r.Header.Get("Authorization"))
		switch r.URL.Path {
		case "/relative":
			http.Redirect(w, r, "/absolute", http.StatusFound)
		case "/absolute":
			w.Header().Set("Location", "ws://"+py.Addr+"/headers") // another host:port
			w.WriteHeader(http.StatusTemporaryRedirect)
		case "/loop":
			w.Header().Set("Location", "ws://"+addr+"/loop")
			w.WriteHeader(http.StatusMovedPermanently)
		}
	})
	c := dialPy(t, "ws://u:pw@"+addr+"/relative", &DialOptions{Header: http.Header{"Cookie": {"secret=1"}}})
	_, p, err := c.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(p), "Authorization") || strings.Contains(string(p), "secret=1") {
		t.Fatalf("credentials followed a cross-host redirect: %s", p)
	}
	if strings.Join(sawAuth, ",") != "/relative=Basic dTpwdw==,/absolute=Basic dTpwdw==" {
		t.Fatalf("same-host redirect lost credentials: %v", sawAuth)
	}

	_, err = Dial(context.Background(), "ws://"+addr+"/loop", nil)
	if !errors.Is(err, ErrBadHandshake) || !strings.Contains(err.Error(), "redirects") {
		t.Fatalf("redirect loop: %v", err)
	}
	_, err = Dial(context.Background(), "ws://"+addr+"/relative", &DialOptions{RedirectLimit: -1})
	var he *HandshakeError
	if !errors.As(err, &he) || he.StatusCode != http.StatusFound {
		t.Fatalf("redirects off: %v", err)
	}
}

func TestBadHandshakes(t *testing.T) {
	addr := goServer(t, func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Sec-WebSocket-Key")
		hj := func(resp string) {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Write([]byte(resp))
			conn.Close()
		}
		switch r.URL.Path {
		case "/forbidden":
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprint(w, "go away")
		case "/badaccept":
			hj("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAA\r\n\r\n")
		case "/noupgrade":
			hj("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + testutil.AcceptKey(key) + "\r\n\r\n")
		case "/subproto":
			hj("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + testutil.AcceptKey(key) + "\r\nSec-WebSocket-Protocol: evil\r\n\r\n")
		case "/hang": // says nothing until the client gives up
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.SetReadDeadline(time.Now().Add(3 * time.Second))
			io.Copy(io.Discard, conn)
			conn.Close()
		}
	})
	_, err := Dial(context.Background(), "ws://"+addr+"/forbidden", nil)
	var he *HandshakeError
	if !errors.As(err, &he) || he.StatusCode != 403 || string(he.Body) != "go away" || !errors.Is(err, ErrBadHandshake) {
		t.Fatalf("403: %v", err)
	}
	for _, p := range []string{"/badaccept", "/noupgrade", "/subproto"} {
		_, err := Dial(context.Background(), "ws://"+addr+p, &DialOptions{Subprotocols: []string{"chat"}})
		if !errors.Is(err, ErrBadHandshake) {
			t.Errorf("%s: %v", p, err)
		}
	}
	start := time.Now()
	_, err = Dial(context.Background(), "ws://"+addr+"/hang", &DialOptions{Timeout: 200 * time.Millisecond})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("hanging server: %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatalf("Timeout not applied: %v", time.Since(start))
	}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	if _, err = Dial(ctx, "ws://"+addr+"/hang", nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: %v", err)
	}
}

func TestDialRefused(t *testing.T) {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	_, err := Dial(context.Background(), "ws://user:hunter2@"+addr+"/", nil)
	var oe *net.OpError
	if !errors.As(err, &oe) {
		t.Fatalf("refused: %v", err)
	}
	if strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("password in error: %v", err)
	}
}

func TestTraceRedacts(t *testing.T) {
	py := testserver.StartPython(t, testserver.PyOptions{})
	var buf bytes.Buffer
	EnableTrace(&buf)
	defer EnableTrace(nil)
	c := dialPy(t, "ws://user:hunter2@"+py.Addr+"/echo", &DialOptions{Cookie: "sid=topsecret"})
	c.SendText("traced message")
	c.Recv()
	c.Close(StatusNormal, "")
	out := buf.String()
	for _, secret := range []string{"hunter2", "dXNlcjpodW50ZXIy", "topsecret"} {
		if strings.Contains(out, secret) {
			t.Errorf("trace leaks %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{"GET /echo HTTP/1.1", "101", "send frame", "recv frame", "traced message", "[redacted]"} {
		if !strings.Contains(out, want) {
			t.Errorf("trace lacks %q:\n%s", want, out)
		}
	}
}

// sendFrames sends p as one message in frames of at most size bytes (see
// testutil.SendFrames).
func sendFrames(c *Conn, op Opcode, p []byte, size int) error {
	return testutil.SendFrames[Opcode](c, op, p, size)
}
