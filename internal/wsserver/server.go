// Package wsserver is a small RFC 6455 server for demos, examples, tests
// and benchmarks, built on this module's codec and mask packages. It is
// what cmd/wsecho serves and what cmd/wsdump starts when given no URL.
//
// A server has a default mode, and the request path can pick another:
//
//	/echo               echo every frame back (unmasked), streaming
//	/sink               read and discard everything (counted in Stats)
//	/send?rate=&size=&count=&binary=1
//	                    send messages at a fixed rate (0: as fast as possible)
//	/headers            first send the request headers as JSON, then echo
//	/close/CODE[/WHY]   close at once with CODE and reason WHY
//	anything else       the server's Options.Mode
//
// With Options.HTTP2 it also serves WebSockets over HTTP/2 (RFC 8441,
// extended CONNECT; see h2.go), on the same port as HTTP/1.1.
//
// Every mode answers pings, completes the close handshake, and fails the
// connection with close 1002 when the client breaks the protocol (an
// unmasked frame, reserved bits, a bad control frame, bad fragmentation).
// It listens on loopback (127.0.0.1:0) unless told otherwise.
package wsserver

import (
	"bufio"
	"context"
	"crypto/sha1"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsclient/wsclient/codec"
)

// Mode selects what the server does with a connection.
type Mode string

// Modes.
const (
	Echo Mode = "echo" // send every frame back
	Sink Mode = "sink" // discard everything, as fast as possible
	Send Mode = "send" // send messages at Options.Rate
)

// ParseMode checks a mode name.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.ToLower(s)); m {
	case Echo, Sink, Send:
		return m, nil
	}
	return "", fmt.Errorf("unknown mode %q (want echo, sink or send)", s)
}

// Options configures Start. The zero value is an echo server on a random
// loopback port.
type Options struct {
	// Addr is the address to listen on (default "127.0.0.1:0": loopback,
	// a free port).
	Addr string
	// Unix, if set, is a Unix socket path to listen on instead of Addr;
	// URL is then ws+unix:// (or wss+unix://) with the path.
	Unix string
	// Mode is what connections to a path without a mode of its own get
	// (default Echo).
	Mode Mode
	// TLS serves wss with a self-signed certificate generated at start
	// (see CertPool and CertPEM).
	TLS bool
	// Rate is how many messages per second Send mode sends (0: as fast as
	// the connection takes them).
	Rate int
	// Size is the payload size of Send mode's messages (default 16).
	Size int
	// Count makes Send mode close (1000) after that many messages (0: never).
	Count int
	// Binary makes Send mode send binary messages instead of text.
	Binary bool
	// Subprotocols the server accepts, in its order of preference over the
	// client's offer; "*" accepts whatever the client offers first.
	Subprotocols []string
	// Logf, if set, receives connection errors and events.
	Logf func(format string, args ...any)
	// HTTP2 also serves WebSockets over HTTP/2 (RFC 8441): with TLS, ALPN
	// offers h2 before http/1.1; without, HTTP/2 with prior knowledge (h2c)
	// is accepted next to HTTP/1.1 on the same port.
	HTTP2 bool
	// MaxStreams is the HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS (default
	// net/http's, 250).
	MaxStreams int
}

// Server is a running server. Close stops it.
type Server struct {
	opts    Options
	ln      net.Listener
	hs      *http.Server
	url     string
	certPEM []byte
	pool    *x509.CertPool

	mu     sync.Mutex
	conns  map[*conn]struct{}
	closed bool
	wg     sync.WaitGroup // connections and closers

	serveDone chan struct{}
	msgs      atomic.Int64
	bytes     atomic.Int64
	accepted  atomic.Int64 // TCP connections
}

// Start listens and serves in the background.
func Start(o Options) (*Server, error) {
	if o.Addr == "" {
		o.Addr = "127.0.0.1:0"
	}
	if o.Mode == "" {
		o.Mode = Echo
	}
	if _, err := ParseMode(string(o.Mode)); err != nil {
		return nil, err
	}
	if o.Size <= 0 {
		o.Size = 16
	}
	if o.Rate < 0 || o.Count < 0 {
		return nil, errors.New("wsserver: negative Rate or Count")
	}
	network, addr := "tcp", o.Addr
	if o.Unix != "" {
		network, addr = "unix", o.Unix
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		return nil, err
	}
	s := &Server{opts: o, conns: map[*conn]struct{}{}, serveDone: make(chan struct{})}
	ln = countingListener{ln, &s.accepted}
	host, port, _ := net.SplitHostPort(ln.Addr().String())
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	scheme := "ws"
	if o.TLS {
		h, _, _ := net.SplitHostPort(o.Addr)
		cert, pemBytes, err := selfSigned(h)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("wsserver: certificate: %w", err)
		}
		s.certPEM = pemBytes
		s.pool = x509.NewCertPool()
		s.pool.AddCert(cert.Leaf)
		protos := []string{"http/1.1"} // Hijack needs HTTP/1.1
		if o.HTTP2 {
			protos = []string{"h2", "http/1.1"}
		}
		ln = tls.NewListener(ln, &tls.Config{
			Certificates: []tls.Certificate{cert},
			NextProtos:   protos,
		})
		scheme = "wss"
	}
	s.ln = ln
	s.url = scheme + "://" + net.JoinHostPort(host, port) + "/"
	if o.Unix != "" {
		s.url = scheme + "+unix://" + o.Unix + ":/"
	}
	s.hs = &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	if o.HTTP2 {
		configureHTTP2(s.hs, o)
	}
	go func() {
		defer close(s.serveDone)
		s.hs.Serve(ln)
	}()
	return s, nil
}

// URL returns the server's URL, e.g. "ws://127.0.0.1:41234/".
func (s *Server) URL() string { return s.url }

// Addr returns the listening address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// CertPool returns a pool trusting the server's self-signed certificate
// (nil without TLS), for a client's tls.Config.RootCAs.
func (s *Server) CertPool() *x509.CertPool { return s.pool }

// CertPEM returns the self-signed certificate in PEM form (nil without
// TLS), e.g. for WEBSOCKET_CLIENT_CA_BUNDLE.
func (s *Server) CertPEM() []byte { return s.certPEM }

// Stats returns how many data messages and payload bytes the server has
// received, over all connections.
func (s *Server) Stats() (messages, bytes int64) { return s.msgs.Load(), s.bytes.Load() }

// Accepted returns how many TCP connections the server has accepted: with
// HTTP/2, WebSockets sharing a connection count once.
func (s *Server) Accepted() int64 { return s.accepted.Load() }

// Conns returns the number of open WebSocket connections.
func (s *Server) Conns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

func (s *Server) logf(format string, args ...any) {
	if s.opts.Logf != nil {
		s.opts.Logf(format, args...)
	}
}

func (s *Server) snapshot() []*conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	cs := make([]*conn, 0, len(s.conns))
	for c := range s.conns {
		cs = append(cs, c)
	}
	return cs
}

// CloseClients starts the closing handshake on every open connection with
// code and reason; the server keeps accepting new ones.
func (s *Server) CloseClients(code ws.StatusCode, reason string) {
	for _, c := range s.snapshot() {
		s.wg.Add(1)
		go func() { // startClose waits for a frame being echoed
			defer s.wg.Done()
			c.startClose(code, reason)
		}()
	}
}

// DropClients closes every open connection's socket at once, without a
// close frame (the clients see an abnormal closure, 1006).
func (s *Server) DropClients() {
	for _, c := range s.snapshot() {
		c.nc.Close()
	}
}

// Close stops accepting, closes every connection with 1001 (going away),
// waits up to 2 s for the clients to answer, drops the rest, and returns
// once every goroutine of the server has ended.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()

	if s.opts.HTTP2 {
		// HTTP/2 WebSockets run inside handlers, which Shutdown waits for:
		// close them first.
		s.closeConns()
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	if s.hs.Shutdown(ctx) != nil {
		s.hs.Close()
	}
	cancel()
	<-s.serveDone
	s.closeConns()
	return nil
}

// closeConns closes every connection with 1001, waits up to 2 s for the
// clients to answer and drops the rest.
func (s *Server) closeConns() {
	s.CloseClients(ws.StatusGoingAway, "server shutting down")
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		s.DropClients()
		<-done
	}
}

// ServeHTTP answers the opening handshake (RFC 6455 §4.2) and runs the
// connection.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.ProtoMajor == 2 {
		s.serveH2(w, r)
		return
	}
	if !hasToken(r.Header, "Connection", "upgrade") || !hasToken(r.Header, "Upgrade", "websocket") {
		w.Header().Set("Upgrade", "websocket")
		http.Error(w, "wsecho: this is a WebSocket server: connect with a WebSocket client (ws:// or wss://)", http.StatusUpgradeRequired)
		return
	}
	if r.Method != http.MethodGet {
		http.Error(w, "wsecho: the opening handshake must be a GET", http.StatusMethodNotAllowed)
		return
	}
	if r.Header.Get("Sec-WebSocket-Version") != "13" {
		w.Header().Set("Sec-WebSocket-Version", "13")
		http.Error(w, "wsecho: unsupported Sec-WebSocket-Version (want 13)", http.StatusUpgradeRequired)
		return
	}
	key := r.Header.Get("Sec-WebSocket-Key")
	if k, err := base64.StdEncoding.DecodeString(key); err != nil || len(k) != 16 {
		http.Error(w, "wsecho: bad Sec-WebSocket-Key", http.StatusBadRequest)
		return
	}
	rt, err := s.route(r)
	if err != nil {
		http.Error(w, "wsecho: "+err.Error(), http.StatusNotFound)
		return
	}
	proto := s.chooseProtocol(r.Header)

	hj, ok := w.(http.Hijacker)
	if !ok {
		http.Error(w, "wsecho: cannot take over the connection", http.StatusInternalServerError)
		return
	}
	nc, brw, err := hj.Hijack()
	if err != nil {
		s.logf("hijack: %v", err)
		return
	}
	nc.SetDeadline(time.Time{})
	s.run(newConn(s, nc, brw.Reader), r, rt, func(c *conn) {
		resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + acceptKey(key) + "\r\n"
		if proto != "" {
			resp += "Sec-WebSocket-Protocol: " + proto + "\r\n"
		}
		c.bw.WriteString(resp + "\r\n")
	})
}

// run registers c, writes the handshake response (hello) and, for the
// headers route, the request headers, then serves c until it ends.
func (s *Server) run(c *conn, r *http.Request, rt route, hello func(c *conn)) {
	nc := c.nc
	c.wmu.Lock() // until the response is out: Close may send a close frame at once
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.wmu.Unlock()
		nc.Close()
		return
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		s.wg.Done()
	}()

	hello(c)
	if rt.mode == "headers" {
		c.writeFrame(ws.OpText, headersJSON(r))
	}
	err := c.bw.Flush()
	c.wmu.Unlock()
	if err != nil {
		nc.Close()
		return
	}
	err = c.serve(rt)
	if err != nil && !errors.Is(err, net.ErrClosed) && !errors.Is(err, io.EOF) {
		s.logf("%s: %v", nc.RemoteAddr(), err)
	}
}

// countingListener counts accepted connections.
type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// route is what a connection does, from the request path.
type route struct {
	mode   Mode // Echo, Sink, Send, or "headers" (echo after the headers)
	rate   int
	size   int
	count  int
	binary bool
	code   ws.StatusCode // "close": close at once with code and reason
	reason string
}

func (s *Server) route(r *http.Request) (route, error) {
	o := s.opts
	rt := route{mode: o.Mode, rate: o.Rate, size: o.Size, count: o.Count, binary: o.Binary}
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	switch parts[0] {
	case "echo":
		rt.mode = Echo
	case "sink":
		rt.mode = Sink
	case "send":
		rt.mode = Send
	case "headers":
		rt.mode = "headers"
	case "close":
		if len(parts) < 2 {
			return rt, errors.New("want /close/CODE[/REASON]")
		}
		n, err := strconv.Atoi(parts[1])
		if err != nil || !codec.ValidCloseCode(ws.StatusCode(n)) {
			return rt, fmt.Errorf("bad close code %q", parts[1])
		}
		rt.mode, rt.code = "close", ws.StatusCode(n)
		if len(parts) > 2 {
			rt.reason, _ = url.PathUnescape(strings.Join(parts[2:], "/"))
			if codec.CheckClose(rt.code, rt.reason) != nil {
				return rt, errors.New("bad close reason")
			}
		}
	}
	q := r.URL.Query()
	for name, p := range map[string]*int{"rate": &rt.rate, "size": &rt.size, "count": &rt.count} {
		if v := q.Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return rt, fmt.Errorf("bad %s=%q", name, v)
			}
			*p = n
		}
	}
	if v := q.Get("binary"); v != "" {
		rt.binary = v != "0" && v != "false"
	}
	if rt.size <= 0 {
		rt.size = 16
	}
	return rt, nil
}

func (s *Server) chooseProtocol(h http.Header) string {
	var offered []string
	for _, v := range h.Values("Sec-WebSocket-Protocol") {
		for p := range strings.SplitSeq(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				offered = append(offered, p)
			}
		}
	}
	for _, want := range s.opts.Subprotocols {
		for _, p := range offered {
			if want == "*" || want == p {
				return p
			}
		}
	}
	return ""
}

// acceptKey returns the Sec-WebSocket-Accept value answering key (RFC 6455
// §1.3, §4.2.2): base64(SHA-1(key + the protocol's GUID)).
func acceptKey(key string) string {
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(sum[:])
}

func hasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// headersJSON is the request headers as [[name, value], ...], sorted, with
// Host first, like the Python test server's /headers.
func headersJSON(r *http.Request) []byte {
	pairs := [][2]string{{"Host", r.Host}}
	keys := make([]string, 0, len(r.Header))
	for k := range r.Header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range r.Header[k] {
			pairs = append(pairs, [2]string{k, v})
		}
	}
	b, _ := json.Marshal(pairs)
	return b
}

// bufReader is what Hijack hands back; bytes it buffered are the client's
// first frames.
type bufReader = bufio.Reader
