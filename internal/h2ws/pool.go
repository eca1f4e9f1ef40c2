package h2ws

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"golang.org/x/net/http2"

	"github.com/wsclient/wsclient/codec"
)

// Pool shares HTTP/2 connections between WebSockets: dials with the same
// Key use one connection until it carries as many streams as the server's
// SETTINGS_MAX_CONCURRENT_STREAMS allows (1000 when the server sets
// none), then the next, opened as needed. Dials that find no room while a
// connection for their Key is being opened wait for it instead of opening
// their own. A connection left without streams is closed after
// IdleTimeout, or by CloseIdleConnections. The zero Pool is not usable:
// make one with NewPool.
type Pool struct {
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
	// defaultMaxStreams bounds the streams of a connection whose server
	// sets no SETTINGS_MAX_CONCURRENT_STREAMS.
	defaultMaxStreams = 1000
	// writeByteTimeout fails a connection on which nothing could be
	// written for that long: a stalled connection would otherwise block
	// every stream on it, closes included.
	writeByteTimeout = 30 * time.Second
)

// NewPool returns an empty pool.
func NewPool() *Pool {
	return &Pool{conns: map[Key][]*pconn{}, dials: map[Key]*dialCall{}, noX: map[Key]time.Time{}}
}

// dialCall is a connection being opened; waiters share its outcome.
type dialCall struct {
	done  chan struct{}
	err   error
	http1 bool // the server chose HTTP/1.1: every dial needs its own connection
}

// release is called once per stream when it is gone. A connection left
// without streams closes after IdleTimeout, at once if it is going away.
func (p *Pool) release(c *pconn) {
	p.mu.Lock()
	c.active--
	_, closing := c.state()
	idleDead := c.active == 0 && closing
	if idleDead {
		p.removeLocked(c)
	} else if c.active == 0 {
		if c.idle == nil {
			c.idle = time.AfterFunc(IdleTimeout, func() { p.closeIfIdle(c) })
		} else {
			c.idle.Reset(IdleTimeout)
		}
	}
	p.mu.Unlock()
	if idleDead {
		go c.close()
	}
}

// closeIfIdle closes c if it carries no stream: when its idle timer fires,
// or (goneAway) when it received GOAWAY and so takes no new streams.
func (p *Pool) closeIfIdle(c *pconn) {
	p.mu.Lock()
	idle := c.active == 0
	if idle {
		p.removeLocked(c)
	}
	p.mu.Unlock()
	if idle {
		c.close()
	}
}

// goneAway is called by c's read loop, which close waits for.
func (p *Pool) goneAway(c *pconn) { go p.closeIfIdle(c) }

func (p *Pool) removeLocked(c *pconn) {
	if c.idle != nil {
		c.idle.Stop()
	}
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
// connections that failed or went away without streams.
func (p *Pool) pickLocked(k Key) *pconn {
	var dead []*pconn
	var pick *pconn
	for _, c := range p.conns[k] {
		failed, closing := c.state()
		if closing {
			if c.active == 0 || failed {
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
		go c.close()
	}
	if pick != nil {
		pick.active++
		if pick.idle != nil {
			pick.idle.Stop()
		}
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
		if _, closing := c.state(); attempt < 2 && ctx.Err() == nil && closing && !isHandshakeErr(err) {
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
	c, err = newConn(p, k, nc)
	if err != nil {
		return nil, nil, err
	}
	if err = c.awaitSettings(ctx); err != nil {
		c.close()
		if ctx.Err() != nil {
			err = fmt.Errorf("wsclient: HTTP/2 connection to %s: %w", k.Addr, ctx.Err())
		}
		return nil, nil, err
	}
	return c, nil, nil
}

// open sends the extended CONNECT on c (a stream is reserved) and checks
// the answer.
func (c *pconn) open(ctx context.Context, r *Request) (*Stream, *codec.Response, error) {
	s := newStream(c)
	fields, err := requestFields(r)
	if err == nil {
		err = c.openStream(s, fields)
	}
	if err != nil {
		c.forget(s) // gives the reserved place back, once
		return nil, nil, err
	}
	f, err := s.response(ctx.Done())
	if f == nil {
		c.reset(s, http2.ErrCodeCancel)
		if ctx.Err() != nil {
			return nil, nil, errorf("HTTP/2 handshake with %s: %w", r.Authority, ctx.Err())
		}
		if !errors.Is(err, codec.ErrBadHandshake) {
			err = fmt.Errorf("%w (during the handshake)", err)
		}
		return nil, nil, err
	}
	resp, err := response(f)
	if err == nil {
		err = codec.CheckConnectResponse(resp, r.Protocols, r.Extensions)
	}
	if err != nil {
		var he *codec.HandshakeError
		if errors.As(err, &he) {
			he.Body = s.errorBody(ctx.Done())
		}
		c.reset(s, http2.ErrCodeCancel)
		if ctx.Err() != nil {
			return nil, nil, errorf("HTTP/2 handshake with %s: %w: %w", r.Authority, ctx.Err(), err)
		}
		return nil, nil, err
	}
	return s, resp, nil
}

// errorBody returns the start of a refusal's body, at most 4 KiB, like the
// HTTP/1.1 handshake's HandshakeError.Body; done (the dial's context)
// bounds the wait.
func (s *Stream) errorBody(done <-chan struct{}) []byte {
	const limit = 4096
	wait(s, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.rbuf.n >= limit || s.rend || s.err != nil
	}, done)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rbuf.n == 0 {
		return nil
	}
	b := make([]byte, min(s.rbuf.n, limit))
	return b[:s.rbuf.read(b)]
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
		c.close()
	}
}

// Close closes every connection of the pool, failing the streams on them
// (ErrConnLost). The pool stays usable: later dials open new connections.
func (p *Pool) Close() {
	p.mu.Lock()
	var all []*pconn
	for _, list := range p.conns {
		for _, c := range list {
			if c.idle != nil { // release arms it under p.mu
				c.idle.Stop()
			}
		}
		all = append(all, list...)
	}
	clear(p.conns)
	p.mu.Unlock()
	for _, c := range all {
		c.close()
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
