package wsclient

import (
	"net/http"
	"sync/atomic"

	"github.com/wsclient/wsclient/engine"
)

// Conn is an open WebSocket client connection, websocket-client's WebSocket.
// It is the engine's connection (every send, receive, control, deadline and
// timeout method, Connected too, is engine.Conn's) plus what the opening
// handshake produced. Any
// number of goroutines may send at once (their frames are written together,
// group commit); one goroutine at a time may receive.
type Conn struct {
	*engine.Conn

	// fields holds the response's header fields as name, value pairs
	// (names canonical, in the response's order per name), a few hundred
	// bytes less than the http.Header map that Header builds from them
	// when it is first called: most connections never ask.
	fields      []string
	header      atomic.Pointer[http.Header] // built by the first Header call
	neg         *negotiated                 // nil when nothing was negotiated
	status      uint16                      // HTTP status of the handshake response
	httpVersion uint8                       // 1, or 2 for a stream of an HTTP/2 connection
}

// negotiated is what the server chose of the client's offers; most
// connections have none, and then no negotiated either.
type negotiated struct {
	subprotocol string
	extensions  []string
}

// newRootConn wraps ec with what the handshake response resp produced.
func newRootConn(ec *engine.Conn, status int, h http.Header, subprotocol string, extensions []string, httpVersion int) *Conn {
	n := 0
	for _, vs := range h {
		n += 2 * len(vs)
	}
	fields := make([]string, 0, n)
	for k, vs := range h {
		for _, v := range vs {
			fields = append(fields, k, v)
		}
	}
	c := &Conn{Conn: ec, fields: fields, status: uint16(status), httpVersion: uint8(httpVersion)}
	if subprotocol != "" || extensions != nil {
		c.neg = &negotiated{subprotocol, extensions}
	}
	return c
}

// Subprotocol returns the subprotocol the server chose, or "".
func (c *Conn) Subprotocol() string {
	if c.neg == nil {
		return ""
	}
	return c.neg.subprotocol
}

// Extensions returns the extensions the server accepted (raw header values).
func (c *Conn) Extensions() []string {
	if c.neg == nil {
		return nil
	}
	return c.neg.extensions
}

// Status returns the HTTP status of the handshake response (101, or 200
// over HTTP/2), like websocket-client's getstatus.
func (c *Conn) Status() int { return int(c.status) }

// HTTPVersion returns 2 when the WebSocket is a stream of an HTTP/2
// connection (RFC 8441; see DialOptions.HTTP2), 1 when it has an HTTP/1.1
// connection of its own.
func (c *Conn) HTTPVersion() int { return int(c.httpVersion) }

// Header returns the handshake response headers (websocket-client's
// getheaders). Every call returns the same map.
func (c *Conn) Header() http.Header {
	if h := c.header.Load(); h != nil {
		return *h
	}
	h := make(http.Header, len(c.fields)/2)
	for i := 0; i+1 < len(c.fields); i += 2 {
		h[c.fields[i]] = append(h[c.fields[i]], c.fields[i+1])
	}
	if c.header.CompareAndSwap(nil, &h) {
		return h
	}
	return *c.header.Load()
}
