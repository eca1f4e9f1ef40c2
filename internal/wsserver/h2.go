package wsserver

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	// Go's HTTP/2 server advertises SETTINGS_ENABLE_CONNECT_PROTOCOL and
	// accepts :protocol only with GODEBUG=http2xconnect=1.
	_ "github.com/wsclient/wsclient/internal/xconnect"
)

// configureHTTP2 makes hs serve HTTP/2 next to HTTP/1.1: over TLS through
// ALPN (the listener offers h2), and in clear text with prior knowledge
// (h2c). Extended CONNECT is on through the xconnect import.
func configureHTTP2(hs *http.Server, o Options) {
	var p http.Protocols
	p.SetHTTP1(true)
	p.SetHTTP2(true)
	p.SetUnencryptedHTTP2(!o.TLS)
	hs.Protocols = &p
	hs.HTTP2 = &http.HTTP2Config{
		MaxConcurrentStreams: o.MaxStreams,
		// Windows sized for throughput on one stream and on the whole
		// connection (net/http's defaults are 1 MiB for both).
		MaxReceiveBufferPerStream:     4 << 20,
		MaxReceiveBufferPerConnection: 16 << 20,
	}
}

// serveH2 answers a WebSocket opening handshake over HTTP/2 (RFC 8441 §5):
// an extended CONNECT with :protocol websocket and Sec-WebSocket-Version 13
// gets a 200 (no Sec-WebSocket-Key/Accept), and the stream's DATA frames
// then carry the WebSocket frames, served like an HTTP/1.1 connection's.
func (s *Server) serveH2(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect || r.Header.Get(":protocol") == "" {
		http.Error(w, "wsecho: this is a WebSocket server: over HTTP/2, open a WebSocket with an extended CONNECT (RFC 8441)", http.StatusBadRequest)
		return
	}
	if p := r.Header.Get(":protocol"); !strings.EqualFold(p, "websocket") {
		http.Error(w, "wsecho: unsupported :protocol (want websocket)", http.StatusNotImplemented)
		return
	}
	if r.Header.Get("Sec-WebSocket-Version") != "13" {
		w.Header().Set("Sec-WebSocket-Version", "13")
		http.Error(w, "wsecho: unsupported Sec-WebSocket-Version (want 13)", http.StatusBadRequest)
		return
	}
	rt, err := s.route(r)
	if err != nil {
		http.Error(w, "wsecho: "+err.Error(), http.StatusNotFound)
		return
	}
	proto := s.chooseProtocol(r.Header)
	rc := http.NewResponseController(w)
	nc := &h2Conn{w: w, rc: rc, body: r.Body, local: localAddr(r), remote: h2Addr(r.RemoteAddr), done: make(chan struct{})}
	c := newConn(s, nc, bufio.NewReaderSize(nil, 16))
	s.run(c, r, rt, func(c *conn) {
		if proto != "" {
			w.Header().Set("Sec-WebSocket-Protocol", proto)
		}
		w.WriteHeader(http.StatusOK)
		if err := rc.Flush(); err != nil {
			nc.Close()
		}
	})
	// The response writer is not to be used once the handler returns:
	// after Close, a write still in progress elsewhere (CloseClients'
	// close frame, under wmu) is over once wmu is free, and later writes
	// see the stream closed.
	nc.Close()
	c.wmu.Lock()
	c.wmu.Unlock()
}

// h2Conn is an HTTP/2 stream seen as a net.Conn by the server's connection
// code: reads come from the request body, writes go to the response and
// are flushed at once (conn buffers them itself). Close ends the handler's
// use of the stream; the handler's return then ends the stream.
type h2Conn struct {
	w             http.ResponseWriter
	rc            *http.ResponseController
	body          io.ReadCloser
	local, remote net.Addr

	mu     sync.Mutex // serializes Close with the deadline setters
	closed bool
	done   chan struct{}
}

func (c *h2Conn) Read(p []byte) (int, error) {
	n, err := c.body.Read(p)
	if err != nil && c.isClosed() {
		err = net.ErrClosed
	}
	return n, err
}

func (c *h2Conn) Write(p []byte) (int, error) {
	if c.isClosed() {
		return 0, net.ErrClosed
	}
	n, err := c.w.Write(p)
	if err == nil {
		err = c.rc.Flush()
	}
	if err != nil && c.isClosed() {
		err = net.ErrClosed
	}
	return n, err
}

func (c *h2Conn) isClosed() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// Close unblocks a read or write in progress (through deadlines in the
// past); later calls fail with net.ErrClosed.
func (c *h2Conn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	close(c.done)
	past := time.Unix(1, 0)
	c.rc.SetReadDeadline(past)
	c.rc.SetWriteDeadline(past)
	return nil
}

func (c *h2Conn) SetDeadline(t time.Time) error {
	return errors.Join(c.SetReadDeadline(t), c.SetWriteDeadline(t))
}

func (c *h2Conn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return net.ErrClosed
	}
	return c.rc.SetReadDeadline(t)
}

func (c *h2Conn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return net.ErrClosed
	}
	return c.rc.SetWriteDeadline(t)
}

func (c *h2Conn) LocalAddr() net.Addr  { return c.local }
func (c *h2Conn) RemoteAddr() net.Addr { return c.remote }

func localAddr(r *http.Request) net.Addr {
	if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok {
		return a
	}
	return h2Addr("")
}

// h2Addr is a remote address as net/http reports it ("ip:port").
type h2Addr string

func (a h2Addr) Network() string { return "tcp" }
func (a h2Addr) String() string  { return string(a) }
