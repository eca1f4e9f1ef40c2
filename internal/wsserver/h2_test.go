package wsserver_test

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/codec"
	"github.com/wsclient/wsclient/engine"
	"github.com/wsclient/wsclient/internal/h2ws"
	"github.com/wsclient/wsclient/internal/wsserver"
)

func h2Request(s *wsserver.Server, path string) *h2ws.Request {
	secure := strings.HasPrefix(s.URL(), "wss:")
	cfg := &tls.Config{RootCAs: s.CertPool(), ServerName: "localhost"}
	addr := s.Addr().String()
	return &h2ws.Request{
		Key:  h2ws.Key{Network: "tcp", Addr: addr, Secure: secure, TLS: cfg},
		Only: true,
		Connect: func(ctx context.Context) (net.Conn, error) {
			var d net.Dialer
			nc, err := d.DialContext(ctx, "tcp", addr)
			if err != nil || !secure {
				return nc, err
			}
			tc := tls.Client(nc, h2ws.TLSConfig(cfg))
			return tc, tc.HandshakeContext(ctx)
		},
		Authority: addr,
		Path:      path,
	}
}

func h2Pool(t *testing.T) *h2ws.Pool {
	p := h2ws.NewPool()
	t.Cleanup(func() {
		for range 500 {
			if p.CloseIdleConnections(); func() bool { c, _ := p.Stats(); return c == 0 }() {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
	return p
}

// TestHTTP2Settings: with HTTP2 the server offers h2 in ALPN and its first
// SETTINGS enable extended CONNECT (the xconnect import took effect before
// net/http read GODEBUG) with the configured stream limit.
func TestHTTP2Settings(t *testing.T) {
	s := start(t, wsserver.Options{TLS: true, HTTP2: true, MaxStreams: 7})
	tc, err := tls.Dial("tcp", s.Addr().String(), &tls.Config{RootCAs: s.CertPool(), ServerName: "localhost", NextProtos: []string{"h2", "http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	if p := tc.ConnectionState().NegotiatedProtocol; p != "h2" {
		t.Fatalf("ALPN chose %q", p)
	}
	io.WriteString(tc, http2.ClientPreface)
	fr := http2.NewFramer(tc, tc)
	fr.WriteSettings()
	tc.SetDeadline(time.Now().Add(5 * time.Second))
	f, err := fr.ReadFrame()
	if err != nil {
		t.Fatal(err)
	}
	sf, ok := f.(*http2.SettingsFrame)
	if !ok {
		t.Fatalf("first frame %v", f.Header())
	}
	if v, ok := sf.Value(http2.SettingEnableConnectProtocol); !ok || v != 1 {
		t.Fatalf("SETTINGS_ENABLE_CONNECT_PROTOCOL = %d, %v; want 1", v, ok)
	}
	if v, _ := sf.Value(http2.SettingMaxConcurrentStreams); v != 7 {
		t.Fatalf("SETTINGS_MAX_CONCURRENT_STREAMS = %d, want 7", v)
	}
}

// TestHTTP2Echo: WebSockets over HTTP/2, TLS and h2c, on the same port as
// HTTP/1.1 ones.
func TestHTTP2Echo(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		s := start(t, wsserver.Options{TLS: tlsOn, HTTP2: true, Subprotocols: []string{"chat"}})
		r := h2Request(s, "/echo")
		r.Protocols = []string{"chat"}
		res, err := h2Pool(t).Dial(context.Background(), r)
		if err != nil {
			t.Fatal(err)
		}
		if res.Response.Subprotocol != "chat" {
			t.Fatalf("subprotocol %q", res.Response.Subprotocol)
		}
		c := engine.New(res.Conn, nil, &engine.Config{})
		c.NetConn().SetDeadline(time.Now().Add(10 * time.Second))
		if err := c.Send(1, []byte("over h2")); err != nil {
			t.Fatal(err)
		}
		if _, p, err := c.Recv(); err != nil || string(p) != "over h2" {
			t.Fatalf("echo: %q, %v", p, err)
		}
		// HTTP/1.1 still works on the same port.
		dial(t, s.URL(), &wsclient.DialOptions{TLSConfig: &tls.Config{RootCAs: s.CertPool()}}).Close(1000, "")
		if err := c.Close(1000, ""); err != nil {
			t.Fatal(err)
		}
		<-res.Conn.Done()
	}
}

// TestHTTP2Refusals: requests over HTTP/2 that are not WebSocket
// handshakes get a 4xx/5xx.
func TestHTTP2Refusals(t *testing.T) {
	s := start(t, wsserver.Options{TLS: true, HTTP2: true})
	p := h2Pool(t)
	for _, tc := range []struct {
		path, version string
		want          int
	}{
		{"/echo", "12", 400},
		{"/close/abc", "", 404},
	} {
		r := h2Request(s, tc.path)
		if tc.version != "" {
			r.Header = http.Header{"Sec-Websocket-Version": {tc.version}}
		}
		_, err := p.Dial(context.Background(), r)
		var he *codec.HandshakeError
		if !errors.As(err, &he) || he.StatusCode != tc.want {
			t.Fatalf("%s version %q: %v, want status %d", tc.path, tc.version, err, tc.want)
		}
	}
	// A plain HTTP/2 GET.
	tr := &http2.Transport{TLSClientConfig: &tls.Config{RootCAs: s.CertPool(), ServerName: "localhost"}}
	defer tr.CloseIdleConnections()
	resp, err := tr.RoundTrip(must(http.NewRequest("GET", "https://"+s.Addr().String()+"/", nil)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Fatalf("GET over h2: %d, want 400", resp.StatusCode)
	}
}

// TestHTTP2ServerClose: Close closes HTTP/2 WebSockets with 1001 like
// HTTP/1.1 ones, before net/http's Shutdown (which waits for handlers).
// With clients leaving while the server closes, a handler returns while
// the close frame's write on its stream may still be in progress: under
// -race this catches a response writer used after its handler returned.
func TestHTTP2ServerClose(t *testing.T) {
	for range 5 {
		s, err := wsserver.Start(wsserver.Options{TLS: true, HTTP2: true})
		if err != nil {
			t.Fatal(err)
		}
		p := h2Pool(t)
		var streams []*h2ws.Stream
		var leaving []*engine.Conn
		got := make(chan error, 16)
		for range cap(got) {
			res, err := p.Dial(context.Background(), h2Request(s, "/"))
			if err != nil {
				t.Fatal(err)
			}
			streams = append(streams, res.Conn)
			c := engine.New(res.Conn, nil, &engine.Config{})
			defer c.Abort()
			if len(streams)%2 == 0 {
				leaving = append(leaving, c)
				continue
			}
			go func() {
				c.NetConn().SetReadDeadline(time.Now().Add(10 * time.Second))
				_, _, err := c.Recv()
				got <- err
			}()
		}
		go func() {
			for _, c := range leaving {
				c.Abort()
			}
		}()
		start := time.Now()
		s.Close()
		if d := time.Since(start); d > 2500*time.Millisecond {
			t.Fatalf("Close took %v", d)
		}
		for range cap(got) - len(leaving) {
			var ce *engine.CloseError
			if err := <-got; !errors.As(err, &ce) || ce.Code != 1001 {
				t.Fatalf("client got %v, want close 1001", err)
			}
		}
		for _, st := range streams {
			<-st.Done()
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
