package wsclient

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsclient/wsclient/internal/testserver"
)

// countingServer accepts connections, counts them and closes them.
func countingServer(t *testing.T) (addr string, accepted *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted = new(atomic.Int32)
	acceptAll(t, ln, func(c net.Conn) {
		accepted.Add(1)
		c.Close()
	})
	return ln.Addr().String(), accepted
}

// TestInvalidURLErrors: every problem with the URL (scheme, host, port,
// escapes, query, Unix socket path) wraps ErrInvalidURL, and nothing is
// dialed.
func TestInvalidURLErrors(t *testing.T) {
	addr, accepted := countingServer(t)
	_, port, _ := net.SplitHostPort(addr)
	for _, u := range []string{
		"http://127.0.0.1:" + port + "/",      // scheme
		"127.0.0.1:" + port,                   // no scheme
		"ws://",                               // no host
		"ws://:" + port + "/",                 // no host, a port
		"ws://127.0.0.1:99999/",               // port out of range
		"ws://127.0.0.1:x/",                   // port not a number
		"ws://127.0.0.1:" + port + "/%zz",     // escape in the path
		"ws://127.0.0.1:" + port + "/?q=%zz",  // escape in the query
		"ws://127.0.0.1:" + port + "/?a b",    // space in the query
		"ws://127.0.0.1:" + port + "/\x01",    // control character
		"ws://u:p/w@127.0.0.1:" + port + "/",  // unescaped password
		"ws+unix://",                          // no socket path
		"ws+unix://%zz/x",                     // escape in the socket path
		"wss+unix://u:p%zz@%2Ftmp%2Fs.sock/x", // escape in the userinfo
	} {
		_, err := Dial(context.Background(), u, &DialOptions{Timeout: 5 * time.Second})
		if !errors.Is(err, ErrInvalidURL) {
			t.Errorf("%q: %v, want an error wrapping ErrInvalidURL", u, err)
		} else if errors.Is(err, ErrInvalidOption) {
			t.Errorf("%q: %v also wraps ErrInvalidOption", u, err)
		}
	}
	if n := accepted.Load(); n != 0 {
		t.Fatalf("%d connections for invalid URLs", n)
	}
}

// TestInvalidOptionErrors: every DialOptions problem wraps
// ErrInvalidOption and is found before any I/O.
func TestInvalidOptionErrors(t *testing.T) {
	addr, accepted := countingServer(t)
	proxy := func(raw string) func(*url.URL) (*url.URL, error) {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		return ProxyURL(u)
	}
	cases := map[string]*DialOptions{
		"subprotocol with a space":    {Subprotocols: []string{"chat", "a b"}},
		"empty subprotocol":           {Subprotocols: []string{""}},
		"subprotocol with a comma":    {Subprotocols: []string{"a,b"}},
		"compression level 42":        {Compression: &CompressionOptions{Level: 42}},
		"compression level -1":        {Compression: &CompressionOptions{Level: -1}},
		"compression window bits 7":   {Compression: &CompressionOptions{ClientMaxWindowBits: 7}},
		"compression server bits 16":  {Compression: &CompressionOptions{ServerMaxWindowBits: 16}},
		"header name with a space":    {Header: http.Header{"Bad Name": {"x"}}},
		"header value with CRLF":      {Header: http.Header{"X-Ok": {"a\r\nInjected: 1"}}},
		"two Sec-WebSocket-Key":       {Header: http.Header{"Sec-WebSocket-Key": {"a", "b"}}},
		"Host with CRLF":              {Host: "h\r\nX: 1"},
		"Origin with NUL":             {Origin: "http://o\x00"},
		"Cookie with LF":              {Cookie: "a=b\nX: 1"},
		"ProxyHeader name":            {ProxyHeader: http.Header{"Bad Name": {"x"}}, Proxy: proxy("http://" + addr)},
		"ProxyHeader value":           {ProxyHeader: http.Header{"X": {"a\rb"}}, Proxy: proxy("http://" + addr)},
		"proxy scheme":                {Proxy: proxy("ftp://" + addr)},
		"proxy port":                  {Proxy: proxy("http://127.0.0.1:99999")},
		"proxy without host":          {Proxy: proxy("socks5://:1080")},
		"ProxyHeader without a proxy": {ProxyHeader: http.Header{"X": {"a\rb"}}, NoProxy: true},
	}
	for name, opts := range cases {
		opts.Timeout = 5 * time.Second
		_, err := Dial(context.Background(), "ws://"+addr+"/", opts)
		if !errors.Is(err, ErrInvalidOption) {
			t.Errorf("%s: %v, want an error wrapping ErrInvalidOption", name, err)
		} else if errors.Is(err, ErrInvalidURL) {
			t.Errorf("%s: %v also wraps ErrInvalidURL", name, err)
		}
		if strings.Contains(err.Error(), "Injected") || strings.Contains(err.Error(), "a=b") {
			t.Errorf("%s: the error quotes the value: %v", name, err)
		}
	}
	if n := accepted.Load(); n != 0 {
		t.Fatalf("%d connections for invalid options", n)
	}
}

// TestValidOptionsStillDial: what the checks allow reaches a real server.
func TestValidOptionsStillDial(t *testing.T) {
	py := testserver.StartPython(t, testserver.PyOptions{Subprotocols: true})
	c := dialPy(t, "ws://"+py.Addr+"/echo?room=1&x=%41", &DialOptions{
		Subprotocols: []string{"superchat"},
		Header:       http.Header{"X-Tab": {"a\tb"}, "Sec-WebSocket-Key": {"dGhlIHNhbXBsZSBub25jZQ=="}},
		Compression:  &CompressionOptions{Level: 9, ClientMaxWindowBits: 15, ServerMaxWindowBits: 8},
		Origin:       "http://example.com",
		Cookie:       "a=b; c=d",
	})
	if c.Subprotocol() != "superchat" {
		t.Fatalf("subprotocol %q", c.Subprotocol())
	}
	c.Close(StatusNormal, "")
}
