package main

import (
	"io"
	"log"
	"net"
	"net/http"
	"time"

	// net/http's HTTP/2 server enables extended CONNECT (RFC 8441) only
	// with GODEBUG=http2xconnect=1, which this sets before net/http's init.
	_ "github.com/wsclient/wsclient/internal/xconnect"
)

// serveH2 serves WebSockets over HTTP/2 on ln with TLS (ALPN h2).
func serveH2(ln net.Listener) {
	cfg := tlsConfig()
	cfg.NextProtos = []string{"h2"}
	var p http.Protocols
	p.SetHTTP2(true)
	srv := &http.Server{
		Handler:   http.HandlerFunc(handleH2),
		TLSConfig: cfg,
		Protocols: &p,
		HTTP2: &http.HTTP2Config{
			MaxConcurrentStreams:          10000,
			MaxReceiveBufferPerStream:     4 << 20,
			MaxReceiveBufferPerConnection: 64 << 20,
		},
		ErrorLog: log.New(io.Discard, "", 0),
	}
	log.Fatal(srv.ServeTLS(ln, "", ""))
}

// handleH2 answers an extended CONNECT with :protocol websocket (RFC 8441
// §5) with 200 and runs the path's mode on the stream.
func handleH2(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect || r.Header.Get(":protocol") != "websocket" {
		http.Error(w, "benchserver: WebSocket over HTTP/2 only", http.StatusBadRequest)
		return
	}
	rc := http.NewResponseController(w)
	w.WriteHeader(http.StatusOK)
	if rc.Flush() != nil {
		return
	}
	c := &h2Stream{body: r.Body, w: w, rc: rc}
	switch r.URL.Path {
	case "/sink":
		sink(c)
	case "/echo":
		echo(c)
	}
}

// h2Stream is the stream as a net.Conn for sink and echo: reads from the
// request body, writes flushed to the response.
type h2Stream struct {
	body io.Reader
	w    io.Writer
	rc   *http.ResponseController
}

func (c *h2Stream) Read(p []byte) (int, error) { return c.body.Read(p) }

func (c *h2Stream) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	if err == nil {
		err = c.rc.Flush()
	}
	return n, err
}

func (c *h2Stream) Close() error                       { return nil }
func (c *h2Stream) LocalAddr() net.Addr                { return nil }
func (c *h2Stream) RemoteAddr() net.Addr               { return nil }
func (c *h2Stream) SetDeadline(t time.Time) error      { return c.rc.SetReadDeadline(t) }
func (c *h2Stream) SetReadDeadline(t time.Time) error  { return c.rc.SetReadDeadline(t) }
func (c *h2Stream) SetWriteDeadline(t time.Time) error { return c.rc.SetWriteDeadline(t) }
