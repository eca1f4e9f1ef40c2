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
}

// Subprotocol returns the subprotocol the server chose, or "".
func (c *Conn) Subprotocol() string { return c.subprotocol }

// Extensions returns the extensions the server accepted (raw header values).
func (c *Conn) Extensions() []string { return c.extensions }

// Status returns the HTTP status of the handshake response (101), like
// websocket-client's getstatus.
func (c *Conn) Status() int { return c.status }

// Header returns the handshake response headers (websocket-client's
// getheaders).
func (c *Conn) Header() http.Header { return c.header }
