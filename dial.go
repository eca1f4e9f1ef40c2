package wsclient

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/wsclient/wsclient/codec"
	"github.com/wsclient/wsclient/engine"
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
	// the server's choice must be one of them (case-insensitive).
	Subprotocols []string

	// Timeout bounds connecting plus the opening handshake, proxies, TLS
	// and redirects included (timeout=); a deadline of ctx applies too.
	// Zero means 45 s when ctx has no deadline (a server that accepts and
	// never answers cannot hang Dial); negative means no bound but ctx's.
	// After Dial use Conn.SetDeadline.
	Timeout time.Duration
	// CloseTimeout bounds Conn.Close's handshake (default 3 s).
	CloseTimeout time.Duration

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

// target is a parsed WebSocket URL.
type target struct {
	u        *url.URL // normalized, for redirects and cookies
	secure   bool
	unix     string // socket path for ws+unix
	addr     string // host:port to dial
	hostname string // for SNI
	hostHdr  string // Host header
	origin   string
	uri      string // request URI
	user     *url.Userinfo
}

// parseURL checks and splits a WebSocket URL before any I/O. Accepted:
// ws://, wss://, and ws+unix:// / wss+unix:// in one of two forms:
//
//	ws+unix:///run/app.sock            socket /run/app.sock, path /
//	ws+unix:///run/app.sock:/chat?x=1  socket /run/app.sock, path /chat?x=1
//	ws+unix://%2Frun%2Fapp.sock/chat   socket in the escaped host, path /chat
//
// Userinfo (user:password@ before the socket or host) is sent as Basic
// Authorization whatever the scheme. Errors show the URL through redactURL.
func parseURL(raw string) (*target, error) {
	disp := redactURL(raw) // what errors show: userinfo is never printed
	// url.Parse rejects escapes such as %2F in a host: take a Unix socket
	// path given in the authority, and the userinfo before it, out first.
	var sock string
	var user *url.Userinfo
	if scheme, rest, ok := strings.Cut(raw, "://"); ok && strings.HasSuffix(strings.ToLower(scheme), "+unix") {
		end := strings.IndexAny(rest, "/?#")
		if end < 0 {
			end = len(rest)
		}
		auth := rest[:end]
		if i := strings.LastIndexByte(auth, '@'); i > 0 { // "@name" is an abstract socket
			ui, err := url.Parse("ws://" + auth[:i+1])
			if err != nil || ui.User == nil {
				return nil, urlError(disp, "malformed user name or password")
			}
			user, auth = ui.User, auth[i+1:]
		}
		if auth != "" {
			var err error
			if sock, err = url.PathUnescape(auth); err != nil {
				return nil, urlError(disp, "malformed escape in the unix socket path")
			}
		}
		raw = scheme + "://" + rest[end:]
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, urlError(disp, "%s", parseProblem(raw, err))
	}
	if user != nil {
		u.User = user
	}
	t := &target{user: u.User}
	u.User = nil
	u.Fragment, u.RawFragment = "", ""
	scheme := strings.ToLower(u.Scheme)
	switch scheme {
	case "ws", "wss":
		t.secure = scheme == "wss"
		if u.Hostname() == "" {
			return nil, urlError(disp, "no host")
		}
		port := u.Port()
		def := "80"
		if t.secure {
			def = "443"
		}
		if port == "" {
			port = def
		} else if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, urlError(disp, "bad port %q", port)
		}
		t.hostname = u.Hostname()
		t.addr = net.JoinHostPort(t.hostname, port)
		t.hostHdr = t.hostname
		if strings.Contains(t.hostname, ":") {
			t.hostHdr = "[" + t.hostname + "]"
		}
		if port != def {
			t.hostHdr += ":" + port
		}
	case "ws+unix", "wss+unix":
		t.secure = scheme == "wss+unix"
		path := u.Path
		if sock != "" {
			t.unix = sock
		} else {
			t.unix = path
			path = ""
			if i := strings.Index(t.unix, ":"); i >= 0 {
				t.unix, path = t.unix[:i], t.unix[i+1:]
			}
			u.RawPath = ""
		}
		if t.unix == "" {
			return nil, urlError(disp, "no unix socket path")
		}
		u.Path = path
		t.hostname = "localhost"
		t.hostHdr = "localhost"
	default:
		return nil, urlError(disp, "unsupported scheme %q (want ws, wss, ws+unix or wss+unix)", u.Scheme)
	}
	u.Scheme = scheme
	t.uri = u.EscapedPath()
	if u.Host == "" || t.unix != "" {
		t.uri = (&url.URL{Path: u.Path}).EscapedPath()
	}
	if t.uri == "" {
		t.uri = "/"
	}
	if !strings.HasPrefix(t.uri, "/") {
		t.uri = "/" + t.uri
	}
	if u.RawQuery != "" {
		t.uri += "?" + u.RawQuery
	}
	if t.secure {
		t.origin = "https://" + t.hostHdr
	} else {
		t.origin = "http://" + t.hostHdr
	}
	t.u = u
	return t, nil
}

// urlError reports an invalid URL, shown as disp (redacted).
func urlError(disp, format string, a ...any) error {
	return fmt.Errorf("wsclient: invalid URL %q: %s", disp, fmt.Sprintf(format, a...))
}

// parseProblem says what url.Parse disliked in raw. Its message quotes
// pieces of the URL, which may be part of a password when raw has
// userinfo: then only a hint is given.
func parseProblem(raw string, err error) string {
	if _, rest, ok := strings.Cut(raw, "://"); ok && strings.Contains(rest, "@") {
		return "malformed (a '/', '?', '#', '@' or '%' in a user name or password must be percent-encoded)"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// httpURL is the http(s) form of the target, for the cookie jar.
func (t *target) httpURL() *url.URL {
	u := *t.u
	u.Scheme = "http"
	if t.secure {
		u.Scheme = "https"
	}
	if t.unix != "" {
		u.Host = "localhost"
	}
	return &u
}

// Dial connects to a WebSocket server at rawurl (ws://, wss://, ws+unix://,
// wss+unix://) and performs the opening handshake, like websocket-client's
// create_connection. A nil opts means defaults. ctx bounds connecting and
// the handshake only; the returned Conn is not tied to it. Without a
// deadline in ctx or a Timeout, connecting plus the handshake may take at
// most 45 s.
func Dial(ctx context.Context, rawurl string, opts *DialOptions) (*Conn, error) {
	if opts == nil {
		opts = &DialOptions{}
	}
	t, err := parseURL(rawurl)
	if err != nil {
		return nil, err
	}
	timeout := opts.Timeout
	if _, has := ctx.Deadline(); timeout == 0 && !has {
		timeout = defaultTimeout
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	limit := opts.RedirectLimit
	if limit == 0 {
		limit = 3
	}
	log := opts.Logger
	if log == nil {
		log = traceLogger.Load()
	}
	dropCreds := false
	for redirects := 0; ; redirects++ {
		c, redir, err := dialOnce(ctx, t, opts, log, dropCreds, redirects == 0)
		if err != nil || redir == nil {
			return c, err
		}
		loc := redir.Header.Get("Location")
		if redirects >= limit {
			return nil, fmt.Errorf("wsclient: stopped after %d redirects (last to %s): %w", redirects, redactURL(loc), ErrBadHandshake)
		}
		next, err := followRedirect(t, loc, redir)
		if err != nil {
			return nil, err
		}
		if next.unix != t.unix || !strings.EqualFold(next.addr, t.addr) { // another origin
			dropCreds = true
		}
		t = next
	}
}

// followRedirect resolves a redirect's Location against t. A redirect may
// only lead to ws:// or wss:// (http:// and https:// are taken as those):
// never to a Unix socket, whatever t's scheme, and never from wss to ws,
// which would send the request and its credentials in cleartext (browsers
// refuse it too). Refusals wrap the redirect response (a *HandshakeError).
func followRedirect(t *target, loc string, resp *HandshakeError) (*target, error) {
	refuse := func(why string) error {
		return fmt.Errorf("wsclient: refused redirect to %q: %s: %w", redactURL(loc), why, resp)
	}
	ref, err := url.Parse(loc)
	if err != nil {
		return nil, refuse("malformed Location")
	}
	next := t.u.ResolveReference(ref)
	switch strings.ToLower(next.Scheme) {
	case "ws", "http":
		if t.secure {
			return nil, refuse("it would downgrade wss to ws")
		}
		next.Scheme = "ws"
	case "wss", "https":
		next.Scheme = "wss"
	default: // ws+unix (also a relative Location on a Unix socket), ftp, ...
		return nil, refuse("a redirect may only lead to ws:// or wss://")
	}
	if ref.User == nil && next.Host == t.u.Host {
		next.User = t.user
	}
	return parseURL(next.String())
}

// dialOnce runs one connect + handshake. A redirect to follow is returned
// as its response.
func dialOnce(ctx context.Context, t *target, opts *DialOptions, log *slog.Logger, dropCreds, first bool) (*Conn, *HandshakeError, error) {
	nc, err := connect(ctx, t, opts, first)
	if err != nil {
		return nil, nil, err
	}
	ok := false
	defer func() {
		if !ok {
			nc.Close()
		}
	}()
	// Bound the handshake by ctx: its deadline, and cancellation.
	if d, has := ctx.Deadline(); has {
		nc.SetDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	ctxErr := func(err error) error {
		cerr := ctx.Err()
		if d, has := ctx.Deadline(); cerr == nil && has && !time.Now().Before(d) {
			cerr = context.DeadlineExceeded // the socket deadline beat ctx's timer
		}
		if cerr != nil {
			return fmt.Errorf("%w: %w", cerr, err)
		}
		return err
	}

	if t.secure {
		tc, err := tlsClient(ctx, nc, t, opts)
		if err != nil {
			return nil, nil, ctxErr(err)
		}
		nc = tc
	}

	req := buildRequest(t, opts, dropCreds)
	if opts.Compression != nil {
		offer, err := opts.Compression.offer()
		if err != nil {
			return nil, nil, err
		}
		req.Extensions = []string{offer}
	}
	var out bytes.Buffer
	key, err := codec.WriteRequest(&out, req)
	if err != nil {
		return nil, nil, errorf("handshake: %w", err)
	}
	if log != nil {
		traceRequest(log, out.Bytes())
	}
	if _, err := nc.Write(out.Bytes()); err != nil {
		return nil, nil, ctxErr(errorf("handshake with %s: %w", t.hostHdr, err))
	}
	br := bufio.NewReaderSize(nc, 4096)
	resp, err := codec.ReadResponse(br, key, opts.Subprotocols, req.Extensions)
	var he *codec.HandshakeError
	if errors.As(err, &he) {
		if log != nil {
			traceResponse(log, he.Status, he.Header)
		}
		storeCookies(opts.Jar, t, he.Header)
		switch he.StatusCode {
		case 301, 302, 303, 307, 308:
			if he.Header.Get("Location") != "" && opts.RedirectLimit >= 0 {
				return nil, he, nil
			}
		}
		return nil, nil, err
	}
	if err != nil {
		return nil, nil, ctxErr(fmt.Errorf("wsclient: handshake with %s: %w", t.hostHdr, err))
	}
	if log != nil {
		traceResponse(log, resp.Status, resp.Header)
	}
	storeCookies(opts.Jar, t, resp.Header)
	stop()
	if ctx.Err() != nil {
		return nil, nil, ctx.Err()
	}
	nc.SetDeadline(time.Time{})

	var pre []byte
	if n := br.Buffered(); n > 0 {
		pre, _ = br.Peek(n)
	}
	cfg := &engine.Config{
		MaxMessageSize:     opts.MaxMessageSize,
		ReadBufferSize:     opts.ReadBufferSize,
		WriteBufferSize:    opts.WriteBufferSize,
		FlushDelay:         opts.FlushDelay,
		CloseTimeout:       opts.CloseTimeout,
		SkipUTF8Validation: opts.SkipUTF8Validation,
		DisableAutoPong:    opts.DisableAutoPong,
		MaskKey:            opts.MaskKey,
	}
	if opts.Compression != nil {
		if cfg.Deflate, err = opts.Compression.accept(resp.Extensions); err != nil {
			return nil, nil, err
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
	if log != nil {
		cfg.Trace = frameTracer(log)
	}
	ok = true
	return &Conn{
		Conn:        engine.New(nc, pre, cfg),
		status:      resp.StatusCode,
		header:      resp.Header,
		subprotocol: resp.Subprotocol,
		extensions:  resp.Extensions,
	}, nil, nil
}

// connect opens the network connection.
func connect(ctx context.Context, t *target, opts *DialOptions, first bool) (net.Conn, error) {
	if opts.NetConn != nil && first {
		return opts.NetConn, nil
	}
	network, addr := "tcp", t.addr
	if t.unix != "" {
		network, addr = "unix", t.unix
	} else if p, err := proxyFor(t, opts); err != nil {
		return nil, err
	} else if p != nil {
		return dialProxy(ctx, t, opts, p)
	}
	var nc net.Conn
	var err error
	if opts.NetDial != nil {
		nc, err = opts.NetDial(ctx, network, addr)
	} else {
		ka := net.KeepAliveConfig{Enable: true, Idle: 30 * time.Second, Interval: 10 * time.Second, Count: 3}
		if opts.KeepAlive != nil {
			ka = *opts.KeepAlive
		}
		d := net.Dialer{KeepAliveConfig: ka}
		if !ka.Enable {
			d.KeepAlive = -1
		}
		nc, err = d.DialContext(ctx, network, addr)
	}
	if err != nil {
		return nil, errorf("connect to %s: %w", addr, err)
	}
	if tc, ok := nc.(*net.TCPConn); ok && opts.DisableNoDelay {
		tc.SetNoDelay(false)
	}
	return nc, nil
}

func tlsClient(ctx context.Context, nc net.Conn, t *target, opts *DialOptions) (net.Conn, error) {
	var cfg *tls.Config
	if opts.TLSConfig != nil {
		cfg = opts.TLSConfig.Clone()
	} else {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = t.hostname
	}
	if cfg.RootCAs == nil {
		if bundle := os.Getenv("WEBSOCKET_CLIENT_CA_BUNDLE"); bundle != "" {
			pool, err := loadCABundle(bundle)
			if err != nil {
				return nil, err
			}
			cfg.RootCAs = pool
		}
	}
	if cfg.KeyLogWriter == nil {
		if name := os.Getenv("SSLKEYLOGFILE"); name != "" {
			f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
			if err != nil {
				return nil, errorf("SSLKEYLOGFILE: %w", err)
			}
			cfg.KeyLogWriter = f // kept open for the process, like Python's ssl
		}
	}
	tc := tls.Client(nc, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, errorf("TLS handshake with %s: %w", t.hostHdr, err)
	}
	return tc, nil
}

// loadCABundle reads a PEM file, or every file in a directory.
func loadCABundle(path string) (*x509.CertPool, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, errorf("WEBSOCKET_CLIENT_CA_BUNDLE: %w", err)
	}
	pool := x509.NewCertPool()
	files := []string{path}
	if fi.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, errorf("WEBSOCKET_CLIENT_CA_BUNDLE: %w", err)
		}
		files = files[:0]
		for _, e := range entries {
			if !e.IsDir() {
				files = append(files, filepath.Join(path, e.Name()))
			}
		}
	}
	added := false
	for _, f := range files {
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, errorf("WEBSOCKET_CLIENT_CA_BUNDLE: %w", err)
		}
		if pool.AppendCertsFromPEM(pem) {
			added = true
		}
	}
	if !added {
		return nil, errorf("WEBSOCKET_CLIENT_CA_BUNDLE %s: no PEM certificates found", path)
	}
	return pool, nil
}

func buildRequest(t *target, opts *DialOptions, dropCreds bool) *codec.Request {
	h := http.Header{}
	for k, v := range opts.Header {
		h[http.CanonicalHeaderKey(k)] = append([]string(nil), v...)
	}
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
		Protocols:  opts.Subprotocols,
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
