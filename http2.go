package wsclient

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/wsclient/wsclient/codec"
	"github.com/wsclient/wsclient/internal/h2ws"
	"github.com/wsclient/wsclient/internal/proxy"
)

// HTTP2Mode selects whether Dial opens WebSockets over HTTP/2 (RFC 8441,
// extended CONNECT): many WebSockets to one origin then share one TCP and
// TLS connection (see HTTP2Pool).
type HTTP2Mode int

// HTTP/2 modes.
const (
	// HTTP2Off opens every WebSocket with an HTTP/1.1 Upgrade (RFC 6455
	// §4), on a connection of its own. The default.
	HTTP2Off HTTP2Mode = iota
	// HTTP2Auto, for wss, offers h2 and http/1.1 in ALPN: when the server
	// picks h2 and its SETTINGS enable extended CONNECT, the WebSocket is a
	// stream of a pooled HTTP/2 connection; when it picks http/1.1, the
	// HTTP/1.1 handshake runs on that same TLS connection; when it speaks
	// HTTP/2 without RFC 8441, a new connection does HTTP/1.1 (and the
	// origin is remembered for a few minutes). ws:// URLs use HTTP/1.1.
	HTTP2Auto
	// HTTP2Only requires HTTP/2: a server that does not offer RFC 8441 is
	// an error (ErrNoHTTP2). For ws:// it means h2c
	// with prior knowledge.
	HTTP2Only
)

// String returns "off", "auto" or "only".
func (m HTTP2Mode) String() string {
	switch m {
	case HTTP2Off:
		return "off"
	case HTTP2Auto:
		return "auto"
	case HTTP2Only:
		return "only"
	}
	return "HTTP2Mode(" + strconv.Itoa(int(m)) + ")"
}

// HTTP/2 errors. Match them with errors.Is. A refusal (a :status other
// than 200) is a *HandshakeError, as over HTTP/1.1.
var (
	// ErrNoHTTP2: HTTP2Only, and the server does not offer WebSockets
	// over HTTP/2: it did not pick h2 in ALPN (or, for h2c, answered in
	// HTTP/1.x or not in HTTP/2 at all), or its HTTP/2 does not enable
	// extended CONNECT (no SETTINGS_ENABLE_CONNECT_PROTOCOL, RFC 8441 §3).
	// The message says which.
	ErrNoHTTP2 = h2ws.ErrNoHTTP2
	// ErrHTTP2StreamReset: the server reset the WebSocket's stream
	// (RST_STREAM), during the handshake or after: the reads and writes
	// of an open WebSocket then fail with an error wrapping it.
	ErrHTTP2StreamReset = h2ws.ErrStreamReset
	// ErrHTTP2ConnLost: the HTTP/2 connection carrying the WebSocket
	// failed or went away (GOAWAY included), during the handshake or
	// after: the reads and writes of every WebSocket on it fail with an
	// error wrapping it (App reports it to OnError, OnClose gets 1006, and
	// it reconnects when asked to).
	ErrHTTP2ConnLost = h2ws.ErrConnLost
)

// HTTP2Pool shares HTTP/2 connections between WebSockets, like
// http.Transport's pool: dials with HTTP2Auto or HTTP2Only to the same
// address and scheme, with the same DialOptions.TLSConfig (the same
// pointer) and the same proxy (and proxy credentials), use one connection
// until it carries the server's SETTINGS_MAX_CONCURRENT_STREAMS, then
// another. Closing a WebSocket closes its stream only; a connection left
// without streams is closed after 90 s.
//
// Options that shape the connection rather than the WebSocket (NetDial,
// KeepAlive, DisableNoDelay, ProxyHeader, ProxyTLSConfig, ProxyTimeout)
// apply when a dial opens a new connection: dials that need different ones
// to the same origin should use pools of their own. A NetConn is used by
// its own dial (and redials with the same NetConn) only. Per-WebSocket
// options (headers, cookies, subprotocols, compression, limits, trace,
// OnPing and OnPong) apply to each stream. It is safe for concurrent use;
// the zero value is an empty pool ready to use (new(HTTP2Pool)), and a nil
// DialOptions.HTTP2Pool means a package default pool.
type HTTP2Pool struct {
	once sync.Once
	p    *h2ws.Pool
}

// pool returns the h2ws pool, made on first use.
func (p *HTTP2Pool) pool() *h2ws.Pool {
	p.once.Do(func() { p.p = h2ws.NewPool() })
	return p.p
}

var defaultHTTP2Pool = new(HTTP2Pool)

// CloseIdleConnections closes the pool's connections that carry no
// WebSocket.
func (p *HTTP2Pool) CloseIdleConnections() { p.pool().CloseIdleConnections() }

// Close closes every connection of the pool: the WebSockets on them fail
// with errors wrapping ErrHTTP2ConnLost. The pool stays
// usable. A program about to exit, or a test, may call it after closing
// its WebSockets (their streams end in the background, within a few
// hundred milliseconds, so CloseIdleConnections could still find them
// open).
func (p *HTTP2Pool) Close() { p.pool().Close() }

// Stats returns how many HTTP/2 connections the pool holds and how many
// WebSockets (streams) they carry.
func (p *HTTP2Pool) Stats() (conns, streams int) { return p.pool().Stats() }

// useHTTP2 reports whether Dial tries HTTP/2 for t.
func (d *dialer) useHTTP2(t *target) bool {
	return d.opts.HTTP2 == HTTP2Only || d.opts.HTTP2 == HTTP2Auto && t.secure
}

// dialHTTP2 opens the WebSocket as a stream of a pooled HTTP/2 connection
// (RFC 8441). In HTTP2Auto it returns neither a Conn nor an error when
// HTTP/1.1 must carry it: with tc, the TLS connection on which the server
// chose http/1.1 in ALPN; without, on a new connection (the server's
// HTTP/2 lacks extended CONNECT).
func (d *dialer) dialHTTP2(ctx context.Context, t *target, first bool) (c *Conn, tc net.Conn, err error) {
	r, err := d.h2Request(t, first)
	if err != nil {
		return nil, nil, err
	}
	if d.log != nil {
		traceRequest(d.log, []byte(h2RequestText(r)))
	}
	pool := d.opts.HTTP2Pool
	if pool == nil {
		pool = defaultHTTP2Pool
	}
	res, err := pool.pool().Dial(ctx, r)
	var he *codec.HandshakeError
	switch {
	case errors.As(err, &he):
		d.received(t, ":status "+he.Status+" (HTTP/2)", he.Header)
		return nil, nil, err
	case err != nil && !r.Only && errors.Is(err, h2ws.ErrNoExtendedConnect):
		if d.opts.NetConn != nil && first { // the pool closed the NetConn it was given
			return nil, nil, fmt.Errorf("%w; HTTP/1.1 cannot follow on the NetConn it consumed", err)
		}
		d.fallback(ctx, err.Error())
		return nil, nil, nil
	case err != nil:
		return nil, nil, err
	case res.HTTP1 != nil:
		d.fallback(ctx, "ALPN chose http/1.1")
		return nil, res.HTTP1, nil
	}
	d.received(t, ":status "+res.Response.Status+" (HTTP/2)", res.Response.Header)
	if c, err = d.newConn(res.Conn, nil, res.Response, 2); err != nil {
		res.Conn.Close()
		return nil, nil, err
	}
	return c, nil, nil
}

// fallback traces HTTP2Auto's turn to HTTP/1.1.
func (d *dialer) fallback(ctx context.Context, why string) {
	if d.log != nil {
		d.log.LogAttrs(ctx, slog.LevelDebug, "--- HTTP/2 not used ---", slog.String("reason", why))
	}
}

// h2Request is the extended CONNECT for t: the fields of the HTTP/1.1
// request (Origin, cookies, Authorization, headers, the subprotocol and
// extension offers), and how the pool opens a connection when it needs one.
func (d *dialer) h2Request(t *target, first bool) (*h2ws.Request, error) {
	req, err := d.request(t)
	if err != nil {
		return nil, err
	}
	key := h2ws.Key{Network: "tcp", Addr: t.addr, Secure: t.secure, ServerName: t.hostname, TLS: d.opts.TLSConfig}
	if t.unix != "" {
		key.Network, key.Addr = "unix", t.unix
	}
	var p *proxy.Proxy // chosen once: the key says which route the connection takes
	if d.opts.NetConn != nil && first {
		key.Extra = d.opts.NetConn
	} else if p, err = proxyFor(t, d.opts); err != nil {
		return nil, err
	} else if p != nil {
		key.Proxy = d.proxyKey(p)
	}
	return &h2ws.Request{
		Key:  key,
		Only: d.opts.HTTP2 == HTTP2Only,
		Connect: func(ctx context.Context) (net.Conn, error) {
			return d.h2Connect(ctx, t, first, p)
		},
		Authority:  req.Host,
		Path:       req.RequestURI,
		Protocols:  req.Protocols,
		Extensions: req.Extensions,
		Header:     req.Header,
	}, nil
}

// proxyKey names the route through p for the pool: the proxy's URL and a
// digest of its credentials (a tunnel authenticated as one user is not
// lent to another; the pool keeps no secret).
func (d *dialer) proxyKey(p *proxy.Proxy) string {
	var creds string
	if p.User != nil {
		creds = p.User.String()
	}
	creds += "\x00" + strings.Join(d.opts.ProxyHeader.Values("Proxy-Authorization"), "\x00")
	sum := sha256.Sum256([]byte(creds))
	return p.Display + "#" + string(sum[:8])
}

// h2Connect opens a new connection for the pool: the route chosen for t
// (NetConn, Unix socket, proxy p or TCP), then, for wss, TLS offering h2
// and http/1.1 in ALPN. The dial's ctx bounds it.
func (d *dialer) h2Connect(ctx context.Context, t *target, first bool, p *proxy.Proxy) (net.Conn, error) {
	var nc net.Conn
	var err error
	if d.opts.NetConn != nil && first {
		nc = d.opts.NetConn
	} else if nc, err = d.connectVia(ctx, t, p); err != nil {
		return nil, err
	}
	if !t.secure {
		return nc, nil
	}
	tc, err := tlsClient(ctx, nc, t, h2ws.TLSConfig(d.opts.TLSConfig))
	if err != nil {
		nc.Close()
		return nil, err
	}
	return tc, nil
}

// h2RequestText is the extended CONNECT as the trace shows it: the
// pseudo-header fields, then the others, one "name: value" per line
// (traceRequest redacts Cookie, Authorization and other secrets).
func h2RequestText(r *h2ws.Request) string {
	scheme := "http"
	if r.Key.Secure {
		scheme = "https"
	}
	path := r.Path
	if path == "" {
		path = "/"
	}
	var b strings.Builder
	b.WriteString(":method: CONNECT\r\n:protocol: websocket\r\n:scheme: " + scheme +
		"\r\n:authority: " + r.Authority + "\r\n:path: " + path + "\r\n")
	if r.Header.Get("Sec-WebSocket-Version") == "" {
		b.WriteString("sec-websocket-version: 13\r\n")
	}
	if len(r.Protocols) > 0 {
		b.WriteString("sec-websocket-protocol: " + strings.Join(r.Protocols, ", ") + "\r\n")
	}
	if len(r.Extensions) > 0 {
		b.WriteString("sec-websocket-extensions: " + strings.Join(r.Extensions, ", ") + "\r\n")
	}
	for _, k := range slices.Sorted(maps.Keys(r.Header)) {
		if h2ws.Dropped(k) {
			continue
		}
		for _, v := range r.Header[k] {
			b.WriteString(strings.ToLower(k) + ": " + v + "\r\n")
		}
	}
	return b.String()
}
