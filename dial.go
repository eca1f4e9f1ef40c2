package wsclient

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/wsclient/wsclient/codec"
	"github.com/wsclient/wsclient/engine"
	"github.com/wsclient/wsclient/internal/deadline"
	"github.com/wsclient/wsclient/internal/h2ws"
	"github.com/wsclient/wsclient/internal/proxy"
)

// DialOptions configures Dial. The zero value (or a nil pointer) gives
// websocket-client's defaults. Each field names its websocket-client
// (create_connection) counterpart.
type DialOptions struct {
	// Header holds extra request headers (header=). A Sec-WebSocket-Key or
	// Sec-WebSocket-Version given here replaces the generated one.
	Header http.Header
	// Cookie is sent as the Cookie header (cookie=), before cookies from Jar.
	Cookie string
	// Jar, if set, supplies cookies for the handshake and stores the
	// Set-Cookie headers of handshake responses (websocket-client keeps one
	// process-wide jar; net/http/cookiejar is the Go equivalent).
	Jar http.CookieJar
	// Origin is the Origin header (origin=). Empty means websocket-client's
	// default: "http://host[:port]", or "https://host[:port]" for wss.
	Origin string
	// SuppressOrigin sends no Origin header (suppress_origin=).
	SuppressOrigin bool
	// Host overrides the Host header (host=).
	Host string
	// Subprotocols are offered in Sec-WebSocket-Protocol (subprotocols=);
	// the server's choice must be one of them (case-insensitive). A
	// Sec-WebSocket-Protocol in Header is an offer too: its comma-separated
	// entries are added after these, and the field is sent once.
	Subprotocols []string

	// Timeout bounds connecting plus the opening handshake, proxies, TLS
	// and redirects included (timeout=); a deadline of ctx applies too.
	// Zero means 45 s when ctx has no deadline (a server that accepts and
	// never answers cannot hang Dial); negative means no bound but ctx's.
	// After Dial, IOTimeout bounds each call.
	Timeout time.Duration
	// CloseTimeout bounds Conn.Close's handshake (default 3 s).
	CloseTimeout time.Duration
	// IOTimeout, when positive, bounds each blocking call after Dial
	// returns (websocket-client's timeout=, which also bounds every later
	// recv and send, and settimeout): each receive, each network write,
	// Ping, Pong and Close's wait, counted afresh for every call. 0 means
	// none. A receive that times out leaves the connection usable; a
	// write that times out fails it. Conn.SetIOTimeout changes it later.
	IOTimeout time.Duration

	// TLSConfig configures wss (sslopt=). ServerName defaults to the URL's
	// host. Certificates are verified unless InsecureSkipVerify is set
	// explicitly. When RootCAs is nil, WEBSOCKET_CLIENT_CA_BUNDLE (a PEM
	// file or a directory of them) is honoured as websocket-client does;
	// when KeyLogWriter is nil, SSLKEYLOGFILE is.
	TLSConfig *tls.Config

	// NetDial, if set, opens the network connection (network is "tcp" or
	// "unix").
	NetDial func(ctx context.Context, network, addr string) (net.Conn, error)
	// NetConn, if set, is an already connected socket to run the handshake
	// on (socket=). TLS is still done for wss.
	NetConn net.Conn
	// KeepAlive sets TCP keepalive (sockopt=). nil means websocket-client's
	// defaults: on, idle 30 s, interval 10 s, count 3.
	KeepAlive *net.KeepAliveConfig
	// DisableNoDelay leaves Nagle's algorithm on (TCP_NODELAY is set by
	// default, as websocket-client does).
	DisableNoDelay bool

	// Proxy returns the proxy for a target URL (ws:// or wss://; a nil URL
	// means a direct connection), like http.Transport.Proxy. nil means
	// ProxyFromEnvironment (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, NO_PROXY),
	// which never proxies loopback. ProxyURL(u) gives one fixed proxy:
	// websocket-client's http_proxy_host and http_proxy_port are u.Host,
	// http_proxy_auth is u.User and proxy_type is u.Scheme: http (CONNECT),
	// https (CONNECT over TLS to the proxy), socks4, socks4a, socks5
	// (target resolved here) or socks5h (resolved by the proxy). ws+unix
	// targets and NetConn never use a proxy. Failures are *ProxyError.
	Proxy func(target *url.URL) (*url.URL, error)
	// NoProxy turns proxies off, the environment's included.
	NoProxy bool
	// ProxyBypass lists hosts reached directly whatever Proxy returns
	// (http_no_proxy), in NO_PROXY syntax: "example.com" (and its
	// subdomains), ".example.com" (subdomains only), "10.0.0.0/8",
	// "[::1]:8080", "*". Loopback is not special here.
	ProxyBypass []string
	// ProxyHeader holds extra headers for the HTTP CONNECT request. A
	// Proxy-Authorization here replaces the one made from the proxy URL.
	ProxyHeader http.Header
	// ProxyTLSConfig configures TLS to an https:// proxy (TLSConfig is for
	// the target). ServerName defaults to the proxy's host.
	ProxyTLSConfig *tls.Config
	// ProxyTimeout bounds connecting to the proxy plus its CONNECT or
	// SOCKS exchange (http_proxy_timeout); Timeout and ctx apply too.
	ProxyTimeout time.Duration

	// HTTP2 opens the WebSocket as a stream of an HTTP/2 connection (RFC
	// 8441) when the server offers it (HTTP2Auto, for wss) or always
	// (HTTP2Only; h2c with prior knowledge for ws://). The default,
	// HTTP2Off, uses an HTTP/1.1 Upgrade. Every other option applies as
	// over HTTP/1.1. See HTTP2Mode.
	HTTP2 HTTP2Mode
	// HTTP2Pool holds the HTTP/2 connections that dials share; nil uses a
	// package default (like http.DefaultTransport). See HTTP2Pool for what
	// makes two dials share a connection.
	HTTP2Pool *HTTP2Pool

	// RedirectLimit is how many 301/302/303/307/308 redirects are followed
	// (redirect_limit=, default 3); negative follows none. Running out is an
	// error. Authorization and Cookie are dropped on a cross-host redirect.
	// A redirect may only lead to ws:// or wss:// (http:// and https:// are
	// taken as those), never to a Unix socket and never from wss to ws:
	// those are refused with an error wrapping the 30x *HandshakeError.
	RedirectLimit int

	// SkipUTF8Validation turns off validation of received text
	// (skip_utf8_validation=).
	SkipUTF8Validation bool
	// MaxMessageSize bounds received messages (default 64 MiB; negative:
	// none). A larger one fails the connection with close 1009.
	MaxMessageSize int64
	// ReadBufferSize and WriteBufferSize size the pooled buffers (defaults
	// 32 KiB and 64 KiB). WriteBufferSize is also how much Queue collects
	// before it writes by itself.
	ReadBufferSize, WriteBufferSize int
	// FlushDelay, when positive, writes queued messages (Queue) that long
	// after the first was queued, without Flush.
	FlushDelay time.Duration
	// DisableAutoPong stops answering pings automatically.
	DisableAutoPong bool
	// Compression, if set, offers permessage-deflate (RFC 7692); it is used
	// when the server accepts it.
	Compression *CompressionOptions

	// Logger receives trace output (handshake and frames) at Debug level.
	// nil means the logger set by EnableTrace, if any. Credentials are
	// redacted.
	Logger *slog.Logger

	// MaskKey replaces the random mask key source (get_mask_key=). For
	// tests only: RFC 6455 §5.3 requires unpredictable keys.
	MaskKey func() [4]byte

	// OnPing and OnPong, if set, are called by the receiving goroutine for
	// every ping (after it was answered, unless DisableAutoPong) and every
	// pong the server sends. payload is valid only during the call. They
	// run inside Recv and the other receive calls, so they must not block.
	OnPing, OnPong func(payload []byte)
}

// defaultTimeout bounds connecting plus the handshake when neither
// DialOptions.Timeout nor ctx gives a deadline (gorilla's DefaultDialer
// uses the same 45 s).
const defaultTimeout = 45 * time.Second

// Dial connects to a WebSocket server at rawurl (ws://, wss://, ws+unix://,
// wss+unix://) and performs the opening handshake, like websocket-client's
// create_connection. A nil opts means defaults. ctx bounds connecting and
// the handshake only; the returned Conn is not tied to it. Without a
// deadline in ctx or a Timeout, connecting plus the handshake may take at
// most 45 s.
//
// The URL and opts are checked before any I/O (errors wrap ErrInvalidURL
// and ErrInvalidOption). Then, for the URL and each redirect: with
// DialOptions.HTTP2, a stream of a pooled HTTP/2 connection (the pool
// connects as below when it needs a new connection) and the extended
// CONNECT handshake; else, or when HTTP2Auto finds no RFC 8441: choose the
// route (direct, HTTP CONNECT or SOCKS proxy), connect, TLS for wss, the
// opening handshake, and the new connection.
func Dial(ctx context.Context, rawurl string, opts *DialOptions) (*Conn, error) {
	if opts == nil {
		opts = &DialOptions{}
	}
	t, err := parseURL(rawurl)
	if err != nil {
		return nil, err
	}
	if err := opts.check(); err != nil {
		return nil, err
	}
	ctx, cancel := withDialTimeout(ctx, opts.Timeout)
	defer cancel()
	d := newDialer(opts)
	for redirects := 0; ; redirects++ {
		c, redir, err := d.dialOnce(ctx, t, redirects == 0)
		if err != nil || redir == nil {
			return c, err
		}
		if t, err = d.redirect(t, redir, redirects); err != nil {
			return nil, err
		}
	}
}

// withDialTimeout bounds ctx by timeout (DialOptions.Timeout), or by
// defaultTimeout when timeout is zero and ctx has no deadline.
func withDialTimeout(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	if _, has := ctx.Deadline(); timeout == 0 && !has {
		timeout = defaultTimeout
	}
	if timeout > 0 {
		return context.WithTimeout(ctx, timeout)
	}
	return ctx, func() {}
}

// dialer is one Dial: its options and what carries over between redirects.
type dialer struct {
	opts      *DialOptions
	protocols []string     // the subprotocol offer
	log       *slog.Logger // nil: no trace
	limit     int          // redirects to follow
	dropCreds bool         // a redirect left the origin
}

func newDialer(opts *DialOptions) *dialer {
	d := &dialer{opts: opts, protocols: opts.subprotocols(), log: opts.Logger, limit: opts.RedirectLimit}
	if d.log == nil {
		d.log = traceLogger.Load()
	}
	if d.limit == 0 {
		d.limit = 3
	}
	return d
}

// dialOnce connects to t and runs the handshake: over HTTP/2 when
// DialOptions.HTTP2 asks for it, else (or when HTTP2Auto falls back) over
// HTTP/1.1. A redirect to follow is returned as its response.
func (d *dialer) dialOnce(ctx context.Context, t *target, first bool) (*Conn, *HandshakeError, error) {
	var c *Conn
	var tc net.Conn // HTTP2Auto: a TLS connection on which ALPN chose http/1.1
	var err error
	if d.useHTTP2(t) {
		c, tc, err = d.dialHTTP2(ctx, t, first)
	}
	if c == nil && err == nil {
		c, err = d.dialHTTP1(ctx, t, first, tc)
	}
	if he := d.redirectResponse(err); he != nil {
		return nil, he, nil
	}
	return c, nil, err
}

// dialHTTP1 opens the WebSocket with an HTTP/1.1 Upgrade (RFC 6455 §4) on a
// connection of its own: tc when not nil (TLS already done), else a new
// one.
func (d *dialer) dialHTTP1(ctx context.Context, t *target, first bool, tc net.Conn) (*Conn, error) {
	nc := tc
	if nc == nil {
		var err error
		if nc, err = d.connect(ctx, t, first); err != nil {
			return nil, err
		}
	}
	g := deadline.Bind(ctx, nc) // bounds TLS and the handshake by ctx
	nc, br, resp, err := d.handshake(ctx, g, nc, t, tc != nil)
	if err == nil && !g.Release() {
		if err = ctx.Err(); err == nil {
			err = context.Canceled
		}
	}
	if err != nil {
		g.Release()
		nc.Close()
		return nil, err
	}
	var pre []byte // what the server sent right after its response
	if n := br.Buffered(); n > 0 {
		pre, _ = br.Peek(n)
	}
	c, err := d.newConn(nc, pre, resp, 1)
	if err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

// connect opens the network connection on the route chosen for t:
// DialOptions.NetConn (first attempt only), the Unix socket, a tunnel
// through a proxy, or a direct TCP connection.
func (d *dialer) connect(ctx context.Context, t *target, first bool) (net.Conn, error) {
	if d.opts.NetConn != nil && first {
		return d.opts.NetConn, nil
	}
	p, err := proxyFor(t, d.opts)
	if err != nil {
		return nil, err
	}
	return d.connectVia(ctx, t, p)
}

// connectVia opens a connection to t through the proxy p, or a direct one
// (TCP, or the Unix socket) when p is nil.
func (d *dialer) connectVia(ctx context.Context, t *target, p *proxy.Proxy) (net.Conn, error) {
	if p != nil {
		return d.viaProxy(ctx, p, t)
	}
	network, addr := "tcp", t.addr
	if t.unix != "" {
		network, addr = "unix", t.unix
	}
	nc, err := d.netDial(ctx, network, addr)
	if err != nil {
		return nil, errorf("connect to %s: %w", addr, err)
	}
	return nc, nil
}

// netDial opens a TCP or Unix connection, to the target or to a proxy:
// with DialOptions.NetDial, or a net.Dialer with websocket-client's
// keepalive defaults. TCP_NODELAY stays on unless DisableNoDelay.
func (d *dialer) netDial(ctx context.Context, network, addr string) (net.Conn, error) {
	var nc net.Conn
	var err error
	if d.opts.NetDial != nil {
		nc, err = d.opts.NetDial(ctx, network, addr)
	} else {
		ka := net.KeepAliveConfig{Enable: true, Idle: 30 * time.Second, Interval: 10 * time.Second, Count: 3}
		if d.opts.KeepAlive != nil {
			ka = *d.opts.KeepAlive
		}
		nd := net.Dialer{KeepAliveConfig: ka}
		if !ka.Enable {
			nd.KeepAlive = -1
		}
		nc, err = nd.DialContext(ctx, network, addr)
	}
	if err != nil {
		return nil, err
	}
	if tc, ok := nc.(*net.TCPConn); ok && d.opts.DisableNoDelay {
		tc.SetNoDelay(false)
	}
	return nc, nil
}

// handshake runs TLS for a secure target (unless tlsDone), then the
// opening handshake, on nc, whose I/O g bounds. It returns the connection
// to keep (nc, or TLS over it), the reader holding what the server sent
// past its response, and the response. A non-101 response is a
// *HandshakeError.
func (d *dialer) handshake(ctx context.Context, g *deadline.Guard, nc net.Conn, t *target, tlsDone bool) (net.Conn, *bufio.Reader, *codec.Response, error) {
	if t.secure && !tlsDone {
		cfg := d.opts.TLSConfig
		if d.useHTTP2(t) { // HTTP2Auto, after a server without RFC 8441
			cfg = h2ws.HTTP1TLSConfig(cfg)
		}
		tc, err := tlsClient(ctx, nc, t, cfg)
		if err != nil {
			return nc, nil, nil, g.Err(err)
		}
		nc = tc
	}
	req, err := d.request(t)
	if err != nil {
		return nc, nil, nil, err
	}
	var out bytes.Buffer
	key, err := codec.WriteRequest(&out, req)
	if err != nil {
		return nc, nil, nil, fmt.Errorf("%w: handshake request: %w", ErrInvalidOption, err)
	}
	if d.log != nil {
		traceRequest(d.log, out.Bytes())
	}
	if _, err := nc.Write(out.Bytes()); err != nil {
		return nc, nil, nil, g.Err(errorf("handshake with %s: %w", t.hostHdr, err))
	}
	br := bufio.NewReaderSize(nc, 4096)
	resp, err := codec.ReadResponse(br, key, d.protocols, req.Extensions)
	var he *codec.HandshakeError
	if errors.As(err, &he) {
		d.received(t, he.Status, he.Header)
		return nc, nil, nil, err
	}
	if err != nil {
		return nc, nil, nil, g.Err(errorf("handshake with %s: %w", t.hostHdr, err))
	}
	d.received(t, resp.Status, resp.Header)
	return nc, br, resp, nil
}

// request builds the opening handshake request for t.
func (d *dialer) request(t *target) (*codec.Request, error) {
	req := buildRequest(t, d.opts, d.protocols, d.dropCreds)
	if d.opts.Compression != nil {
		offer, err := deflateOffer(d.opts.Compression)
		if err != nil {
			return nil, err
		}
		req.Extensions = []string{offer}
	}
	return req, nil
}

// received traces a handshake response and stores its cookies.
func (d *dialer) received(t *target, status string, h http.Header) {
	if d.log != nil {
		traceResponse(d.log, status, h)
	}
	storeCookies(d.opts.Jar, t, h)
}

// redirectResponse returns err's response when it is a redirect to
// follow: 301, 302, 303, 307 or 308 with a Location, redirects on.
func (d *dialer) redirectResponse(err error) *HandshakeError {
	var he *codec.HandshakeError
	if d.opts.RedirectLimit < 0 || !errors.As(err, &he) || he.Header.Get("Location") == "" {
		return nil
	}
	switch he.StatusCode {
	case 301, 302, 303, 307, 308:
		return he
	}
	return nil
}

// redirect returns the target of a redirect response, or why it may not
// be followed. Once a redirect leaves the origin, credentials stay off for
// the rest of the Dial.
func (d *dialer) redirect(t *target, resp *HandshakeError, redirects int) (*target, error) {
	loc := resp.Header.Get("Location")
	if redirects >= d.limit {
		return nil, fmt.Errorf("wsclient: stopped after %d redirects (last to %s): %w", redirects, redactURL(loc), ErrBadHandshake)
	}
	next, err := followRedirect(t, loc, resp)
	if err != nil {
		return nil, err
	}
	if next.unix != t.unix || !strings.EqualFold(next.addr, t.addr) { // another origin
		d.dropCreds = true
	}
	return next, nil
}

// newConn starts the engine on the handshaken connection (over
// httpVersion 1 or 2); pre holds bytes the server sent right after its
// response.
func (d *dialer) newConn(nc net.Conn, pre []byte, resp *codec.Response, httpVersion int) (*Conn, error) {
	opts := d.opts
	cfg := &engine.Config{
		MaxMessageSize:     opts.MaxMessageSize,
		ReadBufferSize:     opts.ReadBufferSize,
		WriteBufferSize:    opts.WriteBufferSize,
		FlushDelay:         opts.FlushDelay,
		CloseTimeout:       opts.CloseTimeout,
		IOTimeout:          opts.IOTimeout,
		SkipUTF8Validation: opts.SkipUTF8Validation,
		DisableAutoPong:    opts.DisableAutoPong,
		MaskKey:            opts.MaskKey,
	}
	if opts.Compression != nil {
		var err error
		if cfg.Deflate, err = acceptDeflate(opts.Compression, resp.Extensions); err != nil {
			return nil, err
		}
	}
	if opts.OnPing != nil || opts.OnPong != nil {
		onPing, onPong := opts.OnPing, opts.OnPong
		cfg.OnControl = func(op Opcode, p []byte) {
			switch {
			case op == OpPing && onPing != nil:
				onPing(p)
			case op == OpPong && onPong != nil:
				onPong(p)
			}
		}
	}
	if d.log != nil {
		cfg.Trace = frameTracer(d.log)
	}
	return newRootConn(engine.New(nc, pre, cfg), resp.StatusCode, resp.Header, resp.Subprotocol, resp.Extensions, httpVersion), nil
}

// buildRequest builds the opening handshake request for t with the
// subprotocol offer protocols (any Sec-WebSocket-Protocol of Header is in
// it) and without credentials once a redirect left the origin.
func buildRequest(t *target, opts *DialOptions, protocols []string, dropCreds bool) *codec.Request {
	h := http.Header{}
	for k, v := range opts.Header {
		h[http.CanonicalHeaderKey(k)] = append([]string(nil), v...)
	}
	h.Del("Sec-WebSocket-Protocol") // in protocols
	if dropCreds {
		h.Del("Authorization")
		h.Del("Cookie")
	}
	host := t.hostHdr
	if opts.Host != "" {
		host = opts.Host
	}
	if h.Get("Host") != "" {
		host = h.Get("Host")
		h.Del("Host")
	}
	if !opts.SuppressOrigin && h.Get("Origin") == "" {
		origin := t.origin
		if opts.Origin != "" {
			origin = opts.Origin
		}
		h.Set("Origin", origin)
	}
	var cookies []string
	if opts.Cookie != "" && !dropCreds {
		cookies = append(cookies, opts.Cookie)
	}
	if opts.Jar != nil {
		for _, ck := range opts.Jar.Cookies(t.httpURL()) {
			cookies = append(cookies, ck.Name+"="+ck.Value)
		}
	}
	if len(cookies) > 0 {
		if old := h.Get("Cookie"); old != "" {
			cookies = append([]string{old}, cookies...)
		}
		h.Set("Cookie", strings.Join(cookies, "; "))
	}
	if t.user != nil && h.Get("Authorization") == "" && !dropCreds {
		pw, _ := t.user.Password()
		h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(t.user.Username()+":"+pw)))
	}
	return &codec.Request{
		Host:       host,
		RequestURI: t.uri,
		Protocols:  protocols,
		Header:     h,
	}
}

func storeCookies(jar http.CookieJar, t *target, h http.Header) {
	if jar == nil || len(h["Set-Cookie"]) == 0 {
		return
	}
	if cs := (&http.Response{Header: h}).Cookies(); len(cs) > 0 {
		jar.SetCookies(t.httpURL(), cs)
	}
}
