package wsclient

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

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
	raw, sock, user, problem := splitUnixAuthority(raw)
	if problem != "" {
		return nil, urlError(disp, "%s", problem)
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
		problem = t.setHost(u, scheme == "wss")
	case "ws+unix", "wss+unix":
		problem = t.setSocket(u, sock, scheme == "wss+unix")
	default:
		problem = fmt.Sprintf("unsupported scheme %q (want ws, wss, ws+unix or wss+unix)", u.Scheme)
	}
	if problem != "" {
		return nil, urlError(disp, "%s", problem)
	}
	u.Scheme = scheme
	if problem = t.setRequestURI(u); problem != "" {
		return nil, urlError(disp, "%s", problem)
	}
	t.origin = "http://" + t.hostHdr
	if t.secure {
		t.origin = "https://" + t.hostHdr
	}
	t.u = u
	return t, nil
}

// splitUnixAuthority takes the socket path given in the authority of a
// ws+unix or wss+unix URL (url.Parse rejects escapes such as %2F in a
// host), and the userinfo before it, out of raw. Other URLs are returned as
// they are. A problem is reported as text for urlError.
func splitUnixAuthority(raw string) (rest, sock string, user *url.Userinfo, problem string) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok || !strings.HasSuffix(strings.ToLower(scheme), "+unix") {
		return raw, "", nil, ""
	}
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		end = len(rest)
	}
	auth := rest[:end]
	if i := strings.LastIndexByte(auth, '@'); i > 0 { // "@name" is an abstract socket
		ui, err := url.Parse("ws://" + auth[:i+1])
		if err != nil || ui.User == nil {
			return "", "", nil, "malformed user name or password"
		}
		user, auth = ui.User, auth[i+1:]
	}
	if auth != "" {
		var err error
		if sock, err = url.PathUnescape(auth); err != nil {
			return "", "", nil, "malformed escape in the unix socket path"
		}
	}
	return scheme + "://" + rest[end:], sock, user, ""
}

// setHost fills in a ws:// or wss:// target from u.
func (t *target) setHost(u *url.URL, secure bool) (problem string) {
	t.secure = secure
	if u.Hostname() == "" {
		return "no host"
	}
	port, def := u.Port(), "80"
	if secure {
		def = "443"
	}
	if port == "" {
		port = def
	} else if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return fmt.Sprintf("bad port %q", port)
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
	return ""
}

// setSocket fills in a ws+unix:// or wss+unix:// target from u and the
// socket path taken from its authority, if any; otherwise the path holds
// the socket and, after a ':', the request path.
func (t *target) setSocket(u *url.URL, sock string, secure bool) (problem string) {
	t.secure = secure
	path := u.Path
	if sock != "" {
		t.unix = sock
	} else {
		t.unix, path = path, ""
		if i := strings.Index(t.unix, ":"); i >= 0 {
			t.unix, path = t.unix[:i], t.unix[i+1:]
		}
		u.RawPath = ""
	}
	if t.unix == "" {
		return "no unix socket path"
	}
	u.Path = path
	t.hostname = "localhost"
	t.hostHdr = "localhost"
	return ""
}

// setRequestURI sets the request target: path (at least "/") and query.
// url.Parse leaves the query as written: spaces and bad escapes in it are
// refused here rather than sent.
func (t *target) setRequestURI(u *url.URL) (problem string) {
	for i := 0; i < len(u.RawQuery); i++ {
		switch c := u.RawQuery[i]; {
		case c == ' ':
			return "space in the query (percent-encode it as %20)"
		case c == '%' && (i+2 >= len(u.RawQuery) || !isHex(u.RawQuery[i+1]) || !isHex(u.RawQuery[i+2])):
			return "malformed escape in the query"
		}
	}
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
	return ""
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// urlError reports an invalid URL, shown as disp (redacted).
func urlError(disp, format string, a ...any) error {
	return fmt.Errorf("%w %q: %s", ErrInvalidURL, disp, fmt.Sprintf(format, a...))
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
