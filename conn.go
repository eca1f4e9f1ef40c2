package wsclient

import (
	"net/http"

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

	status      int
	header      http.Header
	subprotocol string
	extensions  []string
	httpVersion int // 1, or 2 for a stream of an HTTP/2 connection
}

// Subprotocol returns the subprotocol the server chose, or "".
func (c *Conn) Subprotocol() string { return c.subprotocol }

// Extensions returns the extensions the server accepted (raw header values).
func (c *Conn) Extensions() []string { return c.extensions }

// Status returns the HTTP status of the handshake response (101, or 200
// over HTTP/2), like websocket-client's getstatus.
func (c *Conn) Status() int { return c.status }

// HTTPVersion returns 2 when the WebSocket is a stream of an HTTP/2
// connection (RFC 8441; see DialOptions.HTTP2), 1 when it has an HTTP/1.1
// connection of its own.
func (c *Conn) HTTPVersion() int { return c.httpVersion }

// Header returns the handshake response headers (websocket-client's
// getheaders).
func (c *Conn) Header() http.Header { return c.header }
