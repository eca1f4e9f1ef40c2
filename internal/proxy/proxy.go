// Package proxy opens a tunnel to a target host:port through an HTTP
// CONNECT proxy (http, or https: CONNECT over TLS to the proxy) or a SOCKS
// proxy (socks4, socks4a, socks5 with the target resolved here, socks5h
// with the name sent to the proxy). Like gorilla/websocket's proxy.go it
// takes the function that reaches the proxy; it knows nothing of
// WebSocket. The CONNECT code is in connect.go and digest.go, SOCKS in
// socks.go, NO_PROXY matching in bypass.go.
package proxy

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wsclient/wsclient/internal/deadline"
)

// Error is returned when a proxy could not be reached or refused the
// tunnel (wsclient.ProxyError is this type; its documentation is there).
// It never holds credentials.
type Error struct {
	Proxy      string // the proxy's URL without credentials
	StatusCode int    // HTTP status of the CONNECT reply or SOCKS reply code; 0 if none
	Message    string // what failed
	Err        error  // the underlying error, if any
}

func (e *Error) Error() string {
	s := "wsclient: proxy " + e.Proxy + ": " + e.Message
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns Err.
func (e *Error) Unwrap() error { return e.Err }

// Proxy is a parsed proxy URL.
type Proxy struct {
	Scheme  string // http, https, socks4, socks4a, socks5, socks5h
	Addr    string // host:port
	Host    string // for TLS to an https proxy
	User    *url.Userinfo
	Display string // URL without credentials, e.g. "http://127.0.0.1:3128"
}

// Parse checks a proxy URL. A missing scheme means http; a missing port is
// the scheme's default (80, 443 or 1080). Errors say what is wrong, without
// a prefix, for the caller to wrap.
func Parse(u *url.URL) (*Proxy, error) {
	scheme := strings.ToLower(u.Scheme)
	if scheme == "" {
		scheme = "http"
	}
	var port string
	switch scheme {
	case "http":
		port = "80"
	case "https":
		port = "443"
	case "socks4", "socks4a", "socks5", "socks5h":
		port = "1080"
	default:
		return nil, fmt.Errorf("unsupported scheme %q (want http, https, socks4, socks4a, socks5 or socks5h)", u.Scheme)
	}
	host := u.Hostname()
	if host == "" {
		return nil, fmt.Errorf("no host in proxy URL %s://%s", scheme, u.Host)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("bad port %q", p)
		}
		port = p
	}
	addr := net.JoinHostPort(host, port)
	return &Proxy{Scheme: scheme, Addr: addr, Host: host, User: u.User, Display: scheme + "://" + addr}, nil
}

// Dialer opens tunnels through one proxy.
type Dialer struct {
	Proxy *Proxy
	// Dial reaches the proxy (network "tcp"); its errors are wrapped in an
	// *Error.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// Header holds extra headers for the CONNECT request; a
	// Proxy-Authorization here replaces the one made from Proxy.User. The
	// caller checks that names are tokens and values hold no control
	// characters (http.Header.Write drops CR and LF anyway).
	Header http.Header
	// TLSConfig configures TLS to an https proxy; ServerName defaults to
	// the proxy's host.
	TLSConfig *tls.Config
	// Timeout, when positive, bounds the whole exchange, connecting to
	// the proxy included; ctx bounds it too.
	Timeout time.Duration
	// TraceRequest and TraceResponse, when set, see each CONNECT request
	// (raw bytes) and the status and header of its reply.
	TraceRequest  func(raw []byte)
	TraceResponse func(status string, h http.Header)
}

// DialContext returns a connection to target (host:port, an IPv6 host in
// brackets) through the proxy, on which the caller runs its own protocol.
// Failures are *Error.
func (d *Dialer) DialContext(ctx context.Context, target string) (net.Conn, error) {
	if d.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.Timeout)
		defer cancel()
	}
	switch d.Proxy.Scheme {
	case "http", "https":
		return d.httpConnect(ctx, target)
	case "socks5", "socks5h":
		return d.socks5(ctx, target)
	default:
		return d.socks4(ctx, target)
	}
}

// fail builds an *Error. When ctx is done (or its deadline passed), its
// error is wrapped too, so errors.Is(err, context.DeadlineExceeded) works
// whichever of the socket deadline and ctx's timer fired first.
func (d *Dialer) fail(ctx context.Context, code int, msg string, err error) error {
	return &Error{Proxy: d.Proxy.Display, StatusCode: code, Message: msg, Err: deadline.Err(ctx, err)}
}

// open connects to the proxy (with TLS for https), its I/O bounded by ctx
// until the returned guard is released.
func (d *Dialer) open(ctx context.Context) (net.Conn, *deadline.Guard, error) {
	nc, err := d.Dial(ctx, "tcp", d.Proxy.Addr)
	if err != nil {
		return nil, nil, d.fail(ctx, 0, "cannot connect", err)
	}
	g := deadline.Bind(ctx, nc) // on the TCP connection, also under TLS
	if d.Proxy.Scheme != "https" {
		return nc, g, nil
	}
	cfg := &tls.Config{}
	if d.TLSConfig != nil {
		cfg = d.TLSConfig.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = d.Proxy.Host
	}
	tc := tls.Client(nc, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		g.Release()
		nc.Close()
		return nil, nil, d.fail(ctx, 0, "TLS handshake with the proxy", err)
	}
	return tc, g, nil
}

// finish releases nc from ctx and returns it; when ctx ended first it
// closes nc and fails.
func (d *Dialer) finish(ctx context.Context, nc net.Conn, g *deadline.Guard) (net.Conn, error) {
	if g.Release() {
		return nc, nil
	}
	nc.Close()
	err := ctx.Err()
	if err == nil {
		err = context.Canceled
	}
	return nil, d.fail(ctx, 0, "handshake interrupted", err)
}

// drop releases and closes a connection the exchange gave up on.
func drop(nc net.Conn, g *deadline.Guard) {
	g.Release()
	nc.Close()
}
