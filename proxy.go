package wsclient

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"net/textproto"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"
	"golang.org/x/net/http/httpproxy"
)

// Proxies
//
// A proxy is chosen per target by DialOptions.Proxy (ProxyFromEnvironment
// when nil) and reached with DialOptions.NetDial or the default dialer.
// Schemes: http (CONNECT), https (CONNECT over TLS to the proxy), socks4,
// socks4a, socks5 (the client resolves the target) and socks5h (the proxy
// resolves it). The CONNECT code is here, SOCKS in proxy_socks.go.

// maxProxyReply bounds the status line plus header section of a CONNECT
// reply.
const maxProxyReply = 16 << 10

// ProxyURL returns a DialOptions.Proxy function that always returns u, like
// http.ProxyURL. This is websocket-client's http_proxy_host,
// http_proxy_port, http_proxy_auth (as user:password in u) and proxy_type
// (as u's scheme) in one value:
//
//	opts.Proxy = wsclient.ProxyURL(&url.URL{Scheme: "socks5h", Host: "proxy:1080",
//		User: url.UserPassword("user", "pass")})
func ProxyURL(u *url.URL) func(target *url.URL) (*url.URL, error) {
	return func(*url.URL) (*url.URL, error) { return u, nil }
}

// ProxyFromEnvironment is the default DialOptions.Proxy. It reads
// HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY (and their lower-case
// forms, which win when both are set) on every call, with the rules of
// golang.org/x/net/http/httpproxy: ws:// targets use HTTP_PROXY, wss://
// targets HTTPS_PROXY, and either falls back to ALL_PROXY when its own
// variable is empty (curl's rule). A value without a scheme means http://;
// an unparsable value is ignored. NO_PROXY holds comma-separated host names
// (with their subdomains), ".domains" (subdomains only), IP addresses,
// CIDR blocks, each with an optional ":port", or "*".
//
// Like net/http and websocket-client, it never proxies localhost or
// loopback addresses: to send such traffic through a proxy, set Proxy
// explicitly (e.g. with ProxyURL). When REQUEST_METHOD is set (CGI),
// HTTP_PROXY is ignored, as it may come from a request header.
func ProxyFromEnvironment(target *url.URL) (*url.URL, error) {
	cfg := httpproxy.FromEnvironment()
	if cfg.CGI { // HTTP_PROXY may come from a request's Proxy header
		cfg.HTTPProxy, cfg.CGI = "", false
	}
	if all := getenvAny("all_proxy", "ALL_PROXY"); all != "" {
		if cfg.HTTPProxy == "" {
			cfg.HTTPProxy = all
		}
		if cfg.HTTPSProxy == "" {
			cfg.HTTPSProxy = all
		}
	}
	if cfg.HTTPProxy == "" && cfg.HTTPSProxy == "" {
		return nil, nil
	}
	u := *target
	switch strings.ToLower(u.Scheme) {
	case "ws", "http":
		u.Scheme = "http"
	case "wss", "https":
		u.Scheme = "https"
	default: // ws+unix and the like never use a proxy
		return nil, nil
	}
	pu, err := cfg.ProxyFunc()(&u)
	if err != nil {
		// Not expected (httpproxy ignores unparsable values), but its
		// errors quote the variable's value, password included.
		return nil, errors.New("wsclient: invalid proxy URL in HTTP_PROXY, HTTPS_PROXY or ALL_PROXY")
	}
	return pu, nil
}

func getenvAny(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// ProxyError is returned when a proxy could not be reached or refused the
// tunnel: 407 (authentication required or wrong), 403, 502 and other
// replies to CONNECT, SOCKS refusals and authentication failures, and
// network errors and timeouts on the way to the proxy (in Err, so
// errors.Is(err, context.DeadlineExceeded) and errors.As(err, *net.OpError)
// work). It never holds credentials.
type ProxyError struct {
	// Proxy is the proxy's URL without credentials, e.g.
	// "http://127.0.0.1:3128".
	Proxy string
	// StatusCode is the HTTP status of the CONNECT reply (e.g. 407) or the
	// SOCKS reply code (SOCKS5: 1-8, e.g. 5 = connection refused; SOCKS4:
	// 91-93); 0 when the proxy did not answer with one.
	StatusCode int
	// Message says what failed, e.g. "CONNECT example.com:443: 407 Proxy
	// Authentication Required".
	Message string
	// Err is the underlying error, if any.
	Err error
}

func (e *ProxyError) Error() string {
	s := "wsclient: proxy " + e.Proxy + ": " + e.Message
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns Err.
func (e *ProxyError) Unwrap() error { return e.Err }

// proxy is a parsed proxy URL.
type proxy struct {
	scheme  string // http, https, socks4, socks4a, socks5, socks5h
	addr    string // host:port
	host    string // for TLS to an https proxy
	user    *url.Userinfo
	display string // URL without credentials
}

func parseProxy(u *url.URL) (*proxy, error) {
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
		return nil, errorf("proxy: unsupported scheme %q (want http, https, socks4, socks4a, socks5 or socks5h)", u.Scheme)
	}
	host := u.Hostname()
	if host == "" {
		return nil, errorf("proxy: no host in proxy URL %s://%s", scheme, u.Host)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, errorf("proxy: bad port %q", p)
		}
		port = p
	}
	addr := net.JoinHostPort(host, port)
	return &proxy{
		scheme:  scheme,
		addr:    addr,
		host:    host,
		user:    u.User,
		display: scheme + "://" + addr,
	}, nil
}

// fail builds a *ProxyError. When ctx is done (or its deadline passed), its
// error is wrapped too, so errors.Is(err, context.DeadlineExceeded) works
// whichever of the socket deadline and ctx's timer fired first.
func (p *proxy) fail(ctx context.Context, code int, msg string, err error) error {
	if err != nil {
		cerr := ctx.Err()
		if d, has := ctx.Deadline(); cerr == nil && has && !time.Now().Before(d) {
			cerr = context.DeadlineExceeded
		}
		if cerr != nil && !errors.Is(err, cerr) {
			err = fmt.Errorf("%w: %w", cerr, err)
		}
	}
	return &ProxyError{Proxy: p.display, StatusCode: code, Message: msg, Err: err}
}

// proxyFor returns the proxy for t, or nil for a direct connection.
func proxyFor(t *target, opts *DialOptions) (*proxy, error) {
	if opts.NoProxy || t.unix != "" {
		return nil, nil
	}
	host, port, _ := net.SplitHostPort(t.addr)
	if len(opts.ProxyBypass) > 0 && matchNoProxy(opts.ProxyBypass, host, port) {
		return nil, nil
	}
	choose := opts.Proxy
	if choose == nil {
		choose = ProxyFromEnvironment
	}
	u := *t.u
	pu, err := choose(&u)
	if err != nil {
		return nil, errorf("choosing a proxy: %w", err)
	}
	if pu == nil {
		return nil, nil
	}
	return parseProxy(pu)
}

// dialProxy connects to t through p and returns the tunnel, on which the
// caller runs TLS for wss and the WebSocket handshake.
func dialProxy(ctx context.Context, t *target, opts *DialOptions, p *proxy) (net.Conn, error) {
	if opts.ProxyTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.ProxyTimeout)
		defer cancel()
	}
	log := opts.Logger
	if log == nil {
		log = traceLogger.Load()
	}
	if log != nil {
		log.LogAttrs(ctx, slog.LevelDebug, "--- proxy ---", slog.String("proxy", p.display), slog.String("target", t.addr))
	}
	d := &proxyDialer{p: p, opts: opts, log: log}
	switch p.scheme {
	case "http", "https":
		return d.httpConnect(ctx, t)
	case "socks5", "socks5h":
		return d.socks5(ctx, t)
	default:
		return d.socks4(ctx, t)
	}
}

type proxyDialer struct {
	p    *proxy
	opts *DialOptions
	log  *slog.Logger
}

// open connects to the proxy (with TLS for https) and bounds the
// connection by ctx until the returned release is called. release reports
// whether ctx stayed alive; on false the caller must fail.
func (d *proxyDialer) open(ctx context.Context) (nc net.Conn, release func() bool, err error) {
	direct := *d.opts
	direct.Proxy, direct.NoProxy = nil, true
	nc, err = connect(ctx, &target{addr: d.p.addr}, &direct, false)
	if err != nil {
		if inner := errors.Unwrap(err); inner != nil {
			err = inner // drop connect's "wsclient: connect to" prefix
		}
		return nil, nil, d.p.fail(ctx, 0, "cannot connect", err)
	}
	raw := nc // the TCP connection, also under TLS to the proxy
	if dl, has := ctx.Deadline(); has {
		raw.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { raw.SetDeadline(time.Unix(1, 0)) })
	release = func() bool {
		if !stop() {
			return false
		}
		raw.SetDeadline(time.Time{})
		return true
	}
	if d.p.scheme == "https" {
		cfg := &tls.Config{}
		if d.opts.ProxyTLSConfig != nil {
			cfg = d.opts.ProxyTLSConfig.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName = d.p.host
		}
		tc := tls.Client(raw, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			stop()
			raw.Close()
			return nil, nil, d.p.fail(ctx, 0, "TLS handshake with the proxy", err)
		}
		nc = tc
	}
	return nc, release, nil
}

// finish releases nc from ctx. On failure it closes nc.
func (d *proxyDialer) finish(ctx context.Context, nc net.Conn, release func() bool) (net.Conn, error) {
	if !release() {
		nc.Close()
		err := ctx.Err()
		if err == nil {
			err = context.Canceled
		}
		return nil, d.p.fail(ctx, 0, "handshake interrupted", err)
	}
	return nc, nil
}

// httpConnect opens an HTTP CONNECT tunnel. Credentials in the proxy URL
// are sent as Basic with the first request (as websocket-client and
// net/http do); a 407 with a Digest challenge is answered once on a new
// connection.
func (d *proxyDialer) httpConnect(ctx context.Context, t *target) (net.Conn, error) {
	hdr := http.Header{}
	for k, vs := range d.opts.ProxyHeader {
		if !httpguts.ValidHeaderFieldName(k) {
			return nil, errorf("proxy: invalid ProxyHeader name %q", k)
		}
		for _, v := range vs {
			if !httpguts.ValidHeaderFieldValue(v) {
				return nil, errorf("proxy: invalid ProxyHeader value for %s", k)
			}
		}
		hdr[textproto.CanonicalMIMEHeaderKey(k)] = vs
	}
	hdr.Del("Host") // always the target
	user := d.p.user
	if hdr.Get("Proxy-Authorization") != "" {
		user = nil // the caller's own header wins
	} else if user != nil {
		pw, _ := user.Password()
		hdr.Set("Proxy-Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user.Username()+":"+pw)))
	}
	for attempt := 0; ; attempt++ {
		nc, release, err := d.open(ctx)
		if err != nil {
			return nil, err
		}
		var req bytes.Buffer
		writeConnect(&req, t.addr, hdr)
		if d.log != nil {
			traceRequest(d.log, req.Bytes())
		}
		if _, err := nc.Write(req.Bytes()); err != nil {
			release()
			nc.Close()
			return nil, d.p.fail(ctx, 0, "CONNECT "+t.addr, err)
		}
		br := bufio.NewReaderSize(nc, 4096)
		reply, err := readProxyReply(br)
		if err != nil {
			release()
			nc.Close()
			return nil, d.p.fail(ctx, 0, "CONNECT "+t.addr+": bad reply", err)
		}
		if d.log != nil {
			traceResponse(d.log, reply.status, reply.header)
		}
		if reply.code/100 == 2 {
			if nc, err = d.finish(ctx, nc, release); err != nil {
				return nil, err
			}
			if n := br.Buffered(); n > 0 { // the server spoke first: keep its bytes
				pre, _ := br.Peek(n)
				return &prefixConn{Conn: nc, pre: bytes.Clone(pre)}, nil
			}
			return nc, nil
		}
		release()
		nc.Close()
		if reply.code == http.StatusProxyAuthRequired && user != nil && attempt < 2 {
			ch := findDigest(reply.header.Values("Proxy-Authenticate"))
			// Retry once with Digest, and once more if the nonce was stale.
			if ch != nil && (attempt == 0 || ch.stale) {
				pw, _ := user.Password()
				if auth, err := ch.authorize(user.Username(), pw, "CONNECT", t.addr, newCnonce()); err == nil {
					hdr.Set("Proxy-Authorization", auth)
					continue
				}
			}
		}
		return nil, &ProxyError{Proxy: d.p.display, StatusCode: reply.code, Message: "CONNECT " + t.addr + ": " + reply.status}
	}
}

// writeConnect writes a CONNECT request; addr is host:port with an IPv6
// host in brackets (net.JoinHostPort).
func writeConnect(b *bytes.Buffer, addr string, h http.Header) {
	b.WriteString("CONNECT " + addr + " HTTP/1.1\r\nHost: " + addr + "\r\n")
	h.Write(b) // sorted; drops CR/LF in values
	b.WriteString("\r\n")
}

// proxyReply is a parsed reply to CONNECT.
type proxyReply struct {
	code   int
	status string // "407 Proxy Authentication Required"
	header http.Header
}

var errReplyTooLarge = errors.New("reply header larger than 16 KiB")

// readProxyReply reads a CONNECT reply's status line and header section,
// at most maxProxyReply bytes, and nothing past them.
func readProxyReply(br *bufio.Reader) (*proxyReply, error) {
	budget := maxProxyReply
	line, err := readReplyLine(br, &budget)
	if err != nil {
		return nil, err
	}
	proto, rest, _ := strings.Cut(line, " ")
	if !strings.HasPrefix(proto, "HTTP/1.") || len(proto) != len("HTTP/1.1") {
		return nil, fmt.Errorf("malformed status line %q", clip(line))
	}
	codeStr, reason, _ := strings.Cut(rest, " ")
	code, err := strconv.Atoi(codeStr)
	if err != nil || len(codeStr) != 3 || code < 100 {
		return nil, fmt.Errorf("malformed status line %q", clip(line))
	}
	r := &proxyReply{code: code, status: strings.TrimSpace(codeStr + " " + reason), header: http.Header{}}
	var last string
	for {
		line, err := readReplyLine(br, &budget)
		if err != nil {
			return nil, err
		}
		if line == "" {
			return r, nil
		}
		if line[0] == ' ' || line[0] == '\t' { // obsolete line folding
			if last == "" {
				return nil, fmt.Errorf("malformed header line %q", clip(line))
			}
			vs := r.header[last]
			vs[len(vs)-1] += " " + strings.TrimSpace(line)
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return nil, fmt.Errorf("malformed header line %q", clip(line))
		}
		last = textproto.CanonicalMIMEHeaderKey(name)
		r.header[last] = append(r.header[last], strings.TrimSpace(value))
	}
}

// readReplyLine reads one line without its CRLF (or LF), taking its length
// from budget.
func readReplyLine(br *bufio.Reader, budget *int) (string, error) {
	var line []byte
	for {
		frag, err := br.ReadSlice('\n')
		if len(frag) > *budget {
			return "", errReplyTooLarge
		}
		*budget -= len(frag)
		line = append(line, frag...)
		if err == nil {
			break
		}
		if err != bufio.ErrBufferFull {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return "", err
		}
	}
	line = bytes.TrimSuffix(line[:len(line)-1], []byte{'\r'})
	if bytes.ContainsAny(line, "\r\x00") { // RFC 9112 §2.2: reject bare CR
		return "", fmt.Errorf("invalid character in reply line %q", clip(string(line)))
	}
	return string(line), nil
}

// clip shortens a proxy's text for an error message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// prefixConn returns bytes read past the proxy's reply before reading on.
type prefixConn struct {
	net.Conn
	pre []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.pre) > 0 {
		n := copy(p, c.pre)
		c.pre = c.pre[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// challenge is one WWW-Authenticate / Proxy-Authenticate challenge.
type challenge struct {
	scheme string            // lower case
	params map[string]string // keys lower case, values unquoted
}

// parseChallenges splits a Proxy-Authenticate value (RFC 9110 §11.6.1),
// which may hold several challenges: `Basic realm="a", Digest realm="b",
// nonce="n", qop="auth,auth-int"`. It is lenient and never fails; junk
// yields fewer or emptier challenges.
func parseChallenges(s string) []challenge {
	var out []challenge
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			return out
		}
		tok := token(s)
		if tok == "" { // not a token: skip a character
			s = s[1:]
			continue
		}
		s = s[len(tok):]
		rest := strings.TrimLeft(s, " \t")
		if strings.HasPrefix(rest, "=") && len(out) > 0 {
			// auth-param of the current challenge
			s = strings.TrimLeft(rest[1:], " \t")
			var val string
			val, s = paramValue(s)
			out[len(out)-1].params[strings.ToLower(tok)] = val
			continue
		}
		out = append(out, challenge{scheme: strings.ToLower(tok), params: map[string]string{}})
		// token68 (e.g. Negotiate data) or the first auth-param follows
		if t68 := token68(rest); t68 != "" {
			s = rest[len(t68):]
		}
	}
}

func token(s string) string {
	i := 0
	for i < len(s) && isTokenChar(s[i]) {
		i++
	}
	return s[:i]
}

func isTokenChar(c byte) bool {
	return c > 0x20 && c < 0x7f && !strings.ContainsRune(`()<>@,;:\"/[]?={}`, rune(c))
}

// token68 matches a token68 including its trailing '='s.
func token68(s string) string {
	i := 0
	for i < len(s) && (isAlnum(s[i]) || strings.IndexByte("-._~+/", s[i]) >= 0) {
		i++
	}
	if i == 0 {
		return ""
	}
	for i < len(s) && s[i] == '=' {
		i++
	}
	if i < len(s) && s[i] != ',' && s[i] != ' ' && s[i] != '\t' {
		return ""
	}
	return s[:i]
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// paramValue reads a token or quoted-string and returns it and the rest.
func paramValue(s string) (string, string) {
	if !strings.HasPrefix(s, `"`) {
		v := token(s)
		return v, s[len(v):]
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		case '"':
			return b.String(), s[i+1:]
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), "" // unterminated: take the rest
}

// digestChallenge is a Digest challenge (RFC 7616) we can answer.
type digestChallenge struct {
	realm, nonce, opaque, algorithm string
	qop                             string // "auth" or "" (RFC 2069 mode)
	stale                           bool
}

// findDigest returns the first answerable Digest challenge.
func findDigest(values []string) *digestChallenge {
	for _, v := range values {
		for _, c := range parseChallenges(v) {
			if c.scheme != "digest" || c.params["nonce"] == "" {
				continue
			}
			d := &digestChallenge{
				realm:     c.params["realm"],
				nonce:     c.params["nonce"],
				opaque:    c.params["opaque"],
				algorithm: c.params["algorithm"],
				stale:     strings.EqualFold(c.params["stale"], "true"),
			}
			if q, ok := c.params["qop"]; ok {
				for _, o := range strings.Split(q, ",") {
					if strings.EqualFold(strings.TrimSpace(o), "auth") {
						d.qop = "auth"
					}
				}
				if d.qop == "" {
					continue // only auth-int offered
				}
			}
			if digestHash(d.algorithm) == nil {
				continue
			}
			return d
		}
	}
	return nil
}

func digestHash(algorithm string) func() hash.Hash {
	switch strings.TrimSuffix(strings.ToUpper(algorithm), "-SESS") {
	case "", "MD5":
		return md5.New
	case "SHA-256":
		return sha256.New
	}
	return nil
}

func newCnonce() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// authorize computes the Proxy-Authorization value for method and uri
// (RFC 7616 §3.4, nc = 1).
func (d *digestChallenge) authorize(user, pass, method, uri, cnonce string) (string, error) {
	newHash := digestHash(d.algorithm)
	if newHash == nil {
		return "", fmt.Errorf("unsupported digest algorithm %q", d.algorithm)
	}
	h := func(s string) string {
		x := newHash()
		x.Write([]byte(s))
		return hex.EncodeToString(x.Sum(nil))
	}
	const nc = "00000001"
	ha1 := h(user + ":" + d.realm + ":" + pass)
	if strings.HasSuffix(strings.ToUpper(d.algorithm), "-SESS") {
		ha1 = h(ha1 + ":" + d.nonce + ":" + cnonce)
	}
	ha2 := h(method + ":" + uri)
	var resp string
	if d.qop == "auth" {
		resp = h(ha1 + ":" + d.nonce + ":" + nc + ":" + cnonce + ":auth:" + ha2)
	} else {
		resp = h(ha1 + ":" + d.nonce + ":" + ha2)
	}
	var b strings.Builder
	b.WriteString("Digest username=" + quote(user) + ", realm=" + quote(d.realm) +
		", nonce=" + quote(d.nonce) + ", uri=" + quote(uri))
	if d.algorithm != "" {
		b.WriteString(", algorithm=" + d.algorithm)
	}
	b.WriteString(", response=" + quote(resp))
	if d.qop != "" {
		b.WriteString(", qop=auth, nc=" + nc + ", cnonce=" + quote(cnonce))
	}
	if d.opaque != "" {
		b.WriteString(", opaque=" + quote(d.opaque))
	}
	return b.String(), nil
}

// quote makes a quoted-string; CR and LF are dropped.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\r', '\n':
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// matchNoProxy reports whether host (no brackets) and port match one of
// entries, in NO_PROXY syntax (golang.org/x/net/http/httpproxy): "*", IP
// addresses and CIDR blocks, "name" (itself and subdomains), ".name" or
// "*.name" (subdomains only), each with an optional ":port". An entry may
// hold several comma-separated ones. Unlike httpproxy, loopback is not
// special. Matching is case-insensitive.
func matchNoProxy(entries []string, host, port string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	ip, ipErr := netip.ParseAddr(host)
	for _, e := range entries {
		for _, ent := range strings.Split(e, ",") {
			ent = strings.ToLower(strings.TrimSpace(ent))
			if ent == "" {
				continue
			}
			if ent == "*" {
				return true
			}
			if pfx, err := netip.ParsePrefix(ent); err == nil {
				if ipErr == nil && pfx.Contains(ip.Unmap()) {
					return true
				}
				continue
			}
			ehost, eport := ent, ""
			if h, p, err := net.SplitHostPort(ent); err == nil {
				ehost, eport = h, p
			} else if strings.HasPrefix(ent, "[") && strings.HasSuffix(ent, "]") {
				ehost = ent[1 : len(ent)-1]
			}
			if eport != "" && eport != port {
				continue
			}
			if eip, err := netip.ParseAddr(ehost); err == nil {
				if ipErr == nil && eip.Unmap() == ip.Unmap() {
					return true
				}
				continue
			}
			ehost = strings.TrimSuffix(strings.TrimPrefix(ehost, "*"), ".")
			if ehost == "" || ehost == "." {
				continue
			}
			if strings.HasPrefix(ehost, ".") {
				if strings.HasSuffix(host, ehost) {
					return true
				}
			} else if host == ehost || strings.HasSuffix(host, "."+ehost) {
				return true
			}
		}
	}
	return false
}
