// Package h2ws opens WebSockets over HTTP/2 (RFC 8441): an extended CONNECT
// request with :protocol websocket on a stream of a shared HTTP/2
// connection, whose DATA frames then carry the WebSocket frames. The
// stream is handed back as a net.Conn for the frame engine.
//
// HTTP/2 itself is a small client on golang.org/x/net/http2's Framer and
// hpack (no home-made framing or HPACK), on a connection the caller opens
// (TCP, proxies, NetDial and TLS stay the caller's). It speaks only what a
// WebSocket needs: extended CONNECT once the server's SETTINGS carry
// SETTINGS_ENABLE_CONNECT_PROTOCOL, DATA both ways with flow control,
// SETTINGS, PING, WINDOW_UPDATE, RST_STREAM and GOAWAY. One goroutine per
// connection reads frames; a stream has none of its own, so an open
// WebSocket costs its buffers while they hold data and little else. This
// package adds the pool (one connection per origin and TLS settings, up to
// the server's SETTINGS_MAX_CONCURRENT_STREAMS, then another), the
// WebSocket handshake fields, and a net.Conn with deadlines over the
// stream.
//
// Errors start with "wsclient: ", the prefix of the whole library.
package h2ws

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/wsclient/wsclient/codec"
)

// Errors. Match them with errors.Is.
var (
	// ErrNoHTTP2: the server chose HTTP/1.1 (or nothing) in ALPN, or the
	// connection has no TLS state to tell, and HTTP/2 was required.
	ErrNoHTTP2 = errors.New("wsclient: server does not speak HTTP/2")
	// ErrNoExtendedConnect: the server speaks HTTP/2 but its SETTINGS do
	// not enable extended CONNECT (SETTINGS_ENABLE_CONNECT_PROTOCOL = 1,
	// RFC 8441 §3), so it cannot carry WebSockets.
	// It wraps ErrNoHTTP2: to a caller, both mean no WebSockets over HTTP/2.
	ErrNoExtendedConnect = fmt.Errorf("%w: no WebSockets over HTTP/2 (RFC 8441: no SETTINGS_ENABLE_CONNECT_PROTOCOL)", ErrNoHTTP2)
	// ErrStreamReset: the server reset the WebSocket's stream (RST_STREAM).
	ErrStreamReset = errors.New("wsclient: HTTP/2 stream reset by the server")
	// ErrConnLost: the HTTP/2 connection carrying the stream failed or was
	// closed (GOAWAY included); every stream on it fails with this error.
	ErrConnLost = errors.New("wsclient: HTTP/2 connection lost")
)

// Key identifies the connections dials may share: the same network
// address, scheme, TLS settings and proxy.
type Key struct {
	Network string // "tcp" or "unix"
	Addr    string // "host:port", or the socket path
	// Secure means TLS with ALPN h2 (https); otherwise HTTP/2 with prior
	// knowledge (h2c, http).
	Secure     bool
	ServerName string      // TLS server name
	TLS        *tls.Config // the caller's TLS configuration, compared by identity
	Proxy      string      // the proxy URL, "" for a direct connection
	// Extra separates connections by anything else the caller wants; it
	// must be comparable.
	Extra any
}

// Request is one WebSocket to open.
type Request struct {
	Key Key
	// Only makes a server without RFC 8441 an error (ErrNoHTTP2,
	// ErrNoExtendedConnect). Otherwise (Auto) a TLS connection on which the
	// server chose http/1.1 is handed back in Result.HTTP1, and
	// ErrNoExtendedConnect tells the caller to open an HTTP/1.1 connection.
	Only bool
	// Connect opens a new connection to Key: TCP (through the proxy, if
	// any) and, when Key.Secure, the TLS handshake offering h2 (see
	// TLSConfig). The context is the dial's.
	Connect func(ctx context.Context) (net.Conn, error)

	// Authority is the :authority pseudo-header (HTTP/1.1's Host).
	Authority string
	// Path is the :path pseudo-header: the request URI, path and query.
	Path string
	// Protocols is the Sec-WebSocket-Protocol offer, in order of preference.
	Protocols []string
	// Extensions are the Sec-WebSocket-Extensions offers, one per element.
	Extensions []string
	// Header holds Origin, Cookie, Authorization and any other field.
	// Fields HTTP/2 forbids or RFC 8441 replaced (Host, Connection,
	// Upgrade, Keep-Alive, Proxy-Connection, Transfer-Encoding, TE,
	// Sec-WebSocket-Key, Sec-WebSocket-Accept) are dropped. A
	// Sec-WebSocket-Version here replaces 13.
	Header http.Header
}

// Result is an opened WebSocket, or, in Auto mode, a connection on which
// the server chose HTTP/1.1.
type Result struct {
	// Conn is the WebSocket's stream; nil when HTTP1 is set.
	Conn *Stream
	// Response is the server's answer (status 200, header fields, the
	// chosen subprotocol and extensions).
	Response *codec.Response
	// HTTP1 is a new TLS connection on which the server picked http/1.1 in
	// ALPN: run the HTTP/1.1 handshake on it.
	HTTP1 net.Conn
}

// TLSConfig returns a copy of cfg (nil: an empty one) that offers h2 then
// http/1.1 in ALPN (RFC 7301), for Request.Connect.
func TLSConfig(cfg *tls.Config) *tls.Config {
	if cfg == nil {
		cfg = &tls.Config{}
	}
	c := cfg.Clone()
	c.NextProtos = []string{"h2", "http/1.1"}
	return c
}

// HTTP1TLSConfig returns a copy of cfg that offers only http/1.1, for the
// HTTP/1.1 connection that follows ErrNoExtendedConnect in Auto mode.
func HTTP1TLSConfig(cfg *tls.Config) *tls.Config {
	if cfg == nil {
		cfg = &tls.Config{}
	}
	c := cfg.Clone()
	c.NextProtos = []string{"http/1.1"}
	return c
}

// dropped are the request fields that do not go into the extended CONNECT:
// connection-specific fields (RFC 9113 §8.2.2), Host (it is :authority),
// and the key and accept that :protocol superseded (RFC 8441 §5).
var dropped = map[string]bool{
	"Host": true, "Connection": true, "Upgrade": true, "Keep-Alive": true,
	"Proxy-Connection": true, "Transfer-Encoding": true, "Te": true,
	"Content-Length":    true,
	"Sec-Websocket-Key": true, "Sec-Websocket-Accept": true,
}

// Dropped reports whether the request field name is left out of the
// extended CONNECT (see Request.Header).
func Dropped(name string) bool { return dropped[http.CanonicalHeaderKey(name)] }

func errorf(format string, a ...any) error {
	return fmt.Errorf("wsclient: "+format, a...)
}
