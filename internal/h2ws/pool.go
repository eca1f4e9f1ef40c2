package h2ws

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http2"

	"github.com/wsclient/wsclient/codec"
)

// Pool shares HTTP/2 connections between WebSockets: dials with the same
// Key use one connection until it carries as many streams as the server's
// SETTINGS_MAX_CONCURRENT_STREAMS allows (x/net's 1000 when the server sets
// none), then the next, opened as needed. Dials that find no room while a
// connection for their Key is being opened wait for it instead of opening
// their own. A connection left without streams is closed after
// IdleTimeout, or by CloseIdleConnections. The zero Pool is not usable:
// make one with NewPool.
type Pool struct {
	tr *http2.Transport

	mu    sync.Mutex
	conns map[Key][]*pconn
	dials map[Key]*dialCall
	// noX remembers, for a while, origins whose HTTP/2 lacks extended
	// CONNECT, so Auto dials go straight to HTTP/1.1 instead of opening a
	// useless HTTP/2 connection each time.
	noX map[Key]time.Time
}

// Defaults of NewPool.
const (
	// IdleTimeout is how long a connection without streams stays open.
	IdleTimeout = 90 * time.Second
	// noXMemory is how long a server without RFC 8441 is remembered.
	noXMemory = 5 * time.Minute
	// defaultMaxStreams is x/net's limit when the server sets none.
	defaultMaxStreams = 1000
	// writeByteTimeout fails a connection on which nothing could be
	// written for that long: a stalled connection would otherwise block
	// every stream on it, closes included.
	writeByteTimeout = 30 * time.Second
)

// NewPool returns an empty pool.
func NewPool() *Pool {
	return &Pool{
		tr: &http2.Transport{
			DisableCompression: true, // no accept-encoding on a CONNECT
			// Response header fields are bounded as over HTTP/1.1 (an
			// oversized HEADERS fails the stream, not the process).
			MaxHeaderListSize: codec.MaxHeaderBytes,
			IdleConnTimeout:   IdleTimeout,
			WriteByteTimeout:  writeByteTimeout,
		},
		conns: map[Key][]*pconn{},
		dials: map[Key]*dialCall{},
		noX:   map[Key]time.Time{},
	}
}

// pconn is one pooled HTTP/2 connection.
type pconn struct {
	p        *Pool
	key      Key
	cc       *http2.ClientConn
	nc       net.Conn
	settings serverSettings
	active   int // streams open or being opened (Pool.mu)
}

// dialCall is a connection being opened; waiters share its outcome.
type dialCall struct {
	done  chan struct{}
	err   error
	http1 bool // the server chose HTTP/1.1: every dial needs its own connection
}

// limit is how many streams c may carry now.
func (c *pconn) limit() int {
	if m := c.cc.State().MaxConcurrentStreams; m != 0 {
		return int(m)
	}
	if c.settings.hasMaxStreams {
		return int(c.settings.maxStreams)
	}
	return defaultMaxStreams
}

// release is called once per stream when it is gone.
func (c *pconn) release() {
	p := c.p
	p.mu.Lock()
	c.active--
	idleDead := c.active == 0 && c.cc.State().Closing
	if idleDead {
		p.removeLocked(c)
	}
	p.mu.Unlock()
	if idleDead {
		c.cc.Close()
	}
}

func (p *Pool) removeLocked(c *pconn) {
	list := p.conns[c.key]
	for i, x := range list {
		if x == c {
			list = append(list[:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(p.conns, c.key)
	} else {
		p.conns[c.key] = list
	}
}

// pickLocked reserves a stream on a usable connection for k, dropping
// connections that closed or went away without streams.
func (p *Pool) pickLocked(k Key) *pconn {
	var dead []*pconn
	var pick *pconn
	for _, c := range p.conns[k] {
		st := c.cc.State()
		if st.Closed || st.Closing {
			if c.active == 0 || st.Closed {
				dead = append(dead, c)
			}
			continue
		}
		if pick == nil && c.active < c.limit() {
			pick = c
		}
	}
	for _, c := range dead {
		p.removeLocked(c)
		go c.cc.Close()
	}
	if pick != nil {
		pick.active++
	}
	return pick
}

// Dial opens a WebSocket over HTTP/2 (RFC 8441) as r describes, on a pooled
// connection or a new one.
func (p *Pool) Dial(ctx context.Context, r *Request) (*Result, error) {
	for attempt := 0; ; attempt++ {
		c, h1, err := p.get(ctx, r)
		if err != nil {
			return nil, err
		}
		if h1 != nil {
			return &Result{HTTP1: h1}, nil
		}
		s, resp, err := c.open(ctx, r)
		if err == nil {
			return &Result{Conn: s, Response: resp}, nil
		}
		// The connection went away (GOAWAY, closed) between the pick and
		// the request: the server did not process it, so try another.
		if st := c.cc.State(); attempt < 2 && ctx.Err() == nil && (st.Closed || st.Closing) && !isHandshakeErr(err) {
			continue
		}
		return nil, err
	}
}

func isHandshakeErr(err error) bool {
	var he *codec.HandshakeError
	return errors.As(err, &he) || errors.Is(err, codec.ErrBadHandshake)
}

// get returns a connection with a stream reserved, or (Auto) a new TLS
// connection on which the server chose HTTP/1.1.
func (p *Pool) get(ctx context.Context, r *Request) (*pconn, net.Conn, error) {
	k := r.Key
	for {
		p.mu.Lock()
		if c := p.pickLocked(k); c != nil {
			p.mu.Unlock()
			return c, nil, nil
		}
		if t, ok := p.noX[k]; ok && !r.Only {
			if time.Since(t) < noXMemory {
				p.mu.Unlock()
				return nil, nil, fmt.Errorf("%w (%s, remembered)", ErrNoExtendedConnect, k.Addr)
			}
			delete(p.noX, k)
		}
		if d := p.dials[k]; d != nil {
			p.mu.Unlock()
			select {
			case <-d.done:
			case <-ctx.Done():
				return nil, nil, fmt.Errorf("wsclient: HTTP/2 connection to %s: %w", k.Addr, ctx.Err())
			}
			switch {
			case d.http1:
				return p.connect(ctx, r, nil)
			case d.err != nil && !errors.Is(d.err, context.Canceled) && !errors.Is(d.err, context.DeadlineExceeded):
				return nil, nil, d.err
			}
			continue
		}
		d := &dialCall{done: make(chan struct{})}
		p.dials[k] = d
		p.mu.Unlock()
		return p.connect(ctx, r, d)
	}
}

// connect opens a new connection for r.Key and, if it speaks HTTP/2 with
// extended CONNECT, pools it with a stream reserved. d, if not nil, is the
// dialCall others wait on.
func (p *Pool) connect(ctx context.Context, r *Request, d *dialCall) (c *pconn, h1 net.Conn, err error) {
	k := r.Key
	defer func() {
		p.mu.Lock()
		if c != nil {
			c.active++
			p.conns[k] = append(p.conns[k], c)
		}
		if errors.Is(err, ErrNoExtendedConnect) {
			p.noX[k] = time.Now()
		}
		if d != nil {
			delete(p.dials, k)
			d.err, d.http1 = err, h1 != nil
			close(d.done)
		}
		p.mu.Unlock()
	}()
	nc, err := r.Connect(ctx)
	if err != nil {
		return nil, nil, err
	}
	if k.Secure {
		proto := "(no TLS state)"
		if cs, ok := nc.(interface{ ConnectionState() tls.ConnectionState }); ok {
			proto = cs.ConnectionState().NegotiatedProtocol
		}
		if proto != "h2" {
			if !r.Only && proto != "(no TLS state)" {
				return nil, nc, nil
			}
			nc.Close()
			if proto == "" {
				proto = "none"
			}
			return nil, nil, fmt.Errorf("%w: %s chose ALPN protocol %s, not h2", ErrNoHTTP2, k.Addr, proto)
		}
	}
	sc := newSniffConn(nc)
	cc, err := p.tr.NewClientConn(sc)
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("%w (%s): %w", ErrConnLost, k.Addr, err)
	}
	s, err := sc.settings(ctx)
	if err != nil && ctx.Err() == nil {
		err = fmt.Errorf("%w (%s)", err, k.Addr)
	}
	if err == nil && !s.extendedConnect {
		err = fmt.Errorf("%w (%s)", ErrNoExtendedConnect, k.Addr)
	}
	if err == nil && s.hasMaxStreams && s.maxStreams == 0 {
		err = errorf("HTTP/2 server %s allows no streams (SETTINGS_MAX_CONCURRENT_STREAMS 0)", k.Addr)
	}
	if err != nil {
		cc.Close()
		if ctx.Err() != nil {
			err = fmt.Errorf("wsclient: HTTP/2 connection to %s: %w", k.Addr, ctx.Err())
		}
		return nil, nil, err
	}
	return &pconn{p: p, key: k, cc: cc, nc: nc, settings: s}, nil, nil
}

// open sends the extended CONNECT on c (a stream is reserved) and checks
// the answer.
func (c *pconn) open(ctx context.Context, r *Request) (*Stream, *codec.Response, error) {
	sctx, cancel := context.WithCancel(context.WithoutCancel(ctx)) // the stream outlives the dial
	stop := context.AfterFunc(ctx, cancel)
	pipe := newBodyPipe()
	fail := func(err error) (*Stream, *codec.Response, error) {
		stop()
		cancel()
		c.release()
		return nil, nil, err
	}
	req, err := newRequest(sctx, r, pipe)
	if err != nil {
		return fail(err)
	}
	res, err := c.cc.RoundTrip(req)
	if err != nil {
		return fail(roundTripErr(ctx, r.Authority, err))
	}
	resp := &codec.Response{StatusCode: res.StatusCode, Status: res.Status, Header: res.Header}
	if err := codec.CheckConnectResponse(resp, r.Protocols, r.Extensions); err != nil {
		var he *codec.HandshakeError
		if errors.As(err, &he) {
			he.Body = readErrorBody(res.Body)
		}
		res.Body.Close()
		if ctx.Err() != nil {
			return fail(fmt.Errorf("wsclient: HTTP/2 handshake with %s: %w: %w", r.Authority, ctx.Err(), err))
		}
		return fail(err)
	}
	if !stop() {
		res.Body.Close()
		return fail(fmt.Errorf("wsclient: HTTP/2 handshake with %s: %w", r.Authority, ctx.Err()))
	}
	return newStream(c, res.Body, pipe, cancel, c.nc, r.Authority), resp, nil
}

// roundTripErr says why the extended CONNECT got no answer, with this
// package's sentinels: the dial's context ended, the server reset the
// stream (ErrStreamReset), its header list was over the limit (a bad
// handshake, as over HTTP/1.1), or the connection failed (ErrConnLost).
func roundTripErr(ctx context.Context, authority string, err error) error {
	var se http2.StreamError
	switch {
	case ctx.Err() != nil:
		return errorf("HTTP/2 handshake with %s: %w", authority, ctx.Err())
	case strings.Contains(err.Error(), "header list larger"): // x/net's errResponseHeaderListSize (unexported) in a StreamError
		return fmt.Errorf("%w: %w: HTTP/2 handshake with %s: %w", codec.ErrBadHandshake, codec.ErrHeaderTooLarge, authority, err)
	case errors.As(err, &se):
		return fmt.Errorf("%w (%s, during the handshake): %w", ErrStreamReset, authority, err)
	}
	return fmt.Errorf("%w (%s, during the handshake): %w", ErrConnLost, authority, err)
}

// readErrorBody returns the start of a refusal's body, at most 4 KiB, like
// the HTTP/1.1 handshake's HandshakeError.Body. The dial's context bounds
// the read (it cancels the stream).
func readErrorBody(body io.Reader) []byte {
	b, _ := io.ReadAll(io.LimitReader(body, 4096))
	if len(b) == 0 {
		return nil
	}
	return b
}

// CloseIdleConnections closes the connections that carry no stream.
func (p *Pool) CloseIdleConnections() {
	p.mu.Lock()
	var idle []*pconn
	for _, list := range p.conns {
		for _, c := range list {
			if c.active == 0 {
				idle = append(idle, c)
			}
		}
	}
	for _, c := range idle {
		p.removeLocked(c)
	}
	p.mu.Unlock()
	for _, c := range idle {
		c.cc.Close()
	}
}

// Close closes every connection of the pool, failing the streams on them
// (ErrConnLost). The pool stays usable: later dials open new connections.
func (p *Pool) Close() {
	p.mu.Lock()
	var all []*pconn
	for _, list := range p.conns {
		all = append(all, list...)
	}
	clear(p.conns)
	p.mu.Unlock()
	for _, c := range all {
		c.cc.Close()
	}
}

// Stats returns how many connections the pool holds and how many streams
// they carry (open, or being opened or closed).
func (p *Pool) Stats() (conns, streams int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, list := range p.conns {
		conns += len(list)
		for _, c := range list {
			streams += c.active
		}
	}
	return conns, streams
}
