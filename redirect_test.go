package wsclient

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsclient/wsclient/internal/testserver"
)

// Redirect rules (issue 16): a 30x may only lead to ws:// or wss://
// (http:// and https:// count as those), never to a Unix socket, and never
// from a secure scheme to ws://.

// unixTrap listens on a Unix socket and counts the connections it gets.
// It answers like a local service would, with text that must not reach the
// client's error.
func unixTrap(t *testing.T) (sock string, reached *atomic.Int32) {
	t.Helper()
	sock = filepath.Join(t.TempDir(), "x.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	reached = new(atomic.Int32)
	acceptAll(t, ln, func(c net.Conn) {
		reached.Add(1)
		c.Write([]byte("HTTP/1.1 500 local-socket-secret\r\nContent-Length: 0\r\n\r\n"))
		c.Close()
	})
	return sock, reached
}

// redirector answers /N with a 302 to locs[N].
func redirector(locs []string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		i, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
		if err != nil || i < 0 || i >= len(locs) {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Location", locs[i])
		w.WriteHeader(http.StatusFound)
	}
}

// TestRedirectNeverToUnixSocket: a server's redirect to ws+unix:// or
// wss+unix:// (any spelling, escaped or not) is refused before anything
// reaches the socket, with an error naming the refused Location.
func TestRedirectNeverToUnixSocket(t *testing.T) {
	sock, reached := unixTrap(t)
	locs := []string{
		"ws+unix://" + sock + ":/path",
		"wss+unix://" + sock,
		"WS+UNIX://" + url.PathEscape(sock) + "/path",
		"ws+unix://" + sock,
	}
	addr := goServer(t, redirector(locs))
	for i, loc := range locs {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, err := Dial(ctx, "ws://"+addr+"/"+strconv.Itoa(i), &DialOptions{Header: http.Header{"X-App-Secret": {"s3"}}})
		cancel()
		if c != nil {
			c.Abort()
		}
		if err == nil || !errors.Is(err, ErrBadHandshake) || !strings.Contains(err.Error(), "refused redirect") {
			t.Errorf("redirect to %s: got %v, want a refused redirect wrapping ErrBadHandshake", loc, err)
		} else if strings.Contains(err.Error(), "local-socket-secret") {
			t.Errorf("redirect to %s: the socket's reply is in the error: %v", loc, err)
		}
		var he *HandshakeError
		if !errors.As(err, &he) || he.StatusCode != http.StatusFound {
			t.Errorf("redirect to %s: error does not carry the 302 response: %v", loc, err)
		}
	}
	if n := reached.Load(); n != 0 {
		t.Fatalf("the Unix socket was reached %d times through redirects", n)
	}
}

// TestRedirectFromUnixSocket: on a ws+unix connection a relative Location
// resolves to a Unix socket too, and is refused the same way.
func TestRedirectFromUnixSocket(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "srv.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var paths atomic.Int32
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths.Add(1)
		http.Redirect(w, r, "/next", http.StatusFound)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = Dial(ctx, "ws+unix://"+sock+":/first", nil)
	if !errors.Is(err, ErrBadHandshake) || !strings.Contains(err.Error(), "refused redirect") {
		t.Fatalf("relative redirect on ws+unix: %v", err)
	}
	if n := paths.Load(); n != 1 {
		t.Fatalf("the server saw %d requests, want 1 (the redirect was followed)", n)
	}
}

// TestRedirectOnlyWebSocketSchemes: http(s):// Locations are taken as
// ws(s):// (websocket-client does the same); other schemes are refused.
func TestRedirectOnlyWebSocketSchemes(t *testing.T) {
	var target string
	locs := []string{"ftp://example.com/", "file:///etc/passwd", "http://TARGET/ok"}
	var hits atomic.Int32
	addr := goServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ok" {
			hits.Add(1)
			w.WriteHeader(http.StatusTeapot)
			return
		}
		i, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
		w.Header().Set("Location", strings.Replace(locs[i], "TARGET", target, 1))
		w.WriteHeader(http.StatusFound)
	})
	target = addr
	for i, loc := range locs[:2] {
		_, err := Dial(context.Background(), "ws://"+addr+"/"+strconv.Itoa(i), &DialOptions{Timeout: 5 * time.Second})
		if !errors.Is(err, ErrBadHandshake) || !strings.Contains(err.Error(), "refused redirect") {
			t.Errorf("redirect to %s: %v", loc, err)
		}
	}
	_, err := Dial(context.Background(), "ws://"+addr+"/2", &DialOptions{Timeout: 5 * time.Second})
	var he *HandshakeError
	if !errors.As(err, &he) || he.StatusCode != http.StatusTeapot || hits.Load() != 1 {
		t.Fatalf("redirect to http:// was not followed as ws://: %v", err)
	}
}

// sniffListener serves TLS and plain HTTP on one port (by the first byte
// of each connection), as a server that redirects wss:// to ws:// on the
// same host and port does.
type sniffListener struct {
	net.Listener
	cfg *tls.Config
}

func (l *sniffListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	var b [1]byte
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _ := c.Read(b[:])
	c.SetReadDeadline(time.Time{})
	pc := &peekedConn{Conn: c, first: b[:n]}
	if n == 1 && b[0] == 0x16 { // TLS handshake record
		return tls.Server(pc, l.cfg), nil
	}
	return pc, nil
}

// peekedConn gives back the bytes Accept read to tell TLS from HTTP.
type peekedConn struct {
	net.Conn
	first []byte
}

func (c *peekedConn) Read(p []byte) (int, error) {
	if len(c.first) > 0 {
		n := copy(p, c.first)
		c.first = c.first[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// TestRedirectNoDowngrade: a wss:// server's redirect to ws:// (or
// http://) is refused, even to the same host and port, before anything is
// sent in cleartext: Authorization (from the URL), Cookie and the
// application's headers would travel unencrypted (browsers never follow
// it; curl drops credentials on a scheme change, CVE-2022-27774). The
// error names the refused Location without its password.
func TestRedirectNoDowngrade(t *testing.T) {
	certs := testserver.NewCerts(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	var plain atomic.Int32
	var mu sync.Mutex
	var leaked []string
	locs := map[string]string{
		"/same":     "ws://localhost:" + port + "/plain",
		"/http":     "http://localhost:" + port + "/plain",
		"/withpass": "ws://a:leakedpw@localhost:" + port + "/plain",
		"/upper":    "WS://127.0.0.1:" + port + "/plain",
		"/secure":   "wss://localhost:" + port + "/end",
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil {
			plain.Add(1)
			mu.Lock()
			leaked = append(leaked, r.Header.Get("Authorization"), r.Header.Get("Cookie"), r.Header.Get("X-Token"))
			mu.Unlock()
			w.WriteHeader(http.StatusForbidden)
			return
		}
		if loc, ok := locs[r.URL.Path]; ok {
			w.Header().Set("Location", loc)
			w.WriteHeader(http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusTeapot)
	})}
	go srv.Serve(&sniffListener{Listener: ln, cfg: &tls.Config{Certificates: []tls.Certificate{certs.Server}}})
	t.Cleanup(func() { srv.Close() })

	opts := &DialOptions{
		TLSConfig: &tls.Config{RootCAs: certs.Pool},
		Cookie:    "sid=cookievalue",
		Header:    http.Header{"X-Token": {"tokenvalue"}},
		Timeout:   5 * time.Second,
	}
	for _, path := range []string{"/same", "/http", "/withpass", "/upper"} {
		_, err := Dial(context.Background(), "wss://user:urlpw@localhost:"+port+path, opts)
		if !errors.Is(err, ErrBadHandshake) || !strings.Contains(err.Error(), "refused redirect") {
			t.Errorf("%s: wss to %s: got %v, want a refused redirect", path, locs[path], err)
			continue
		}
		want := strings.Replace(locs[path], "leakedpw", "xxxxx", 1)
		if !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(want)) {
			t.Errorf("%s: error does not name the Location %s: %v", path, want, err)
		}
		for _, secret := range []string{"leakedpw", "urlpw", "cookievalue", "tokenvalue"} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: error holds %q: %v", path, secret, err)
			}
		}
	}
	if n := plain.Load(); n != 0 {
		t.Fatalf("%d requests went out in cleartext after a wss redirect; they carried %q", n, leaked)
	}

	// wss to wss is followed.
	_, err = Dial(context.Background(), "wss://localhost:"+port+"/secure", opts)
	var he *HandshakeError
	if !errors.As(err, &he) || he.StatusCode != http.StatusTeapot {
		t.Fatalf("wss to wss: %v", err)
	}
}
