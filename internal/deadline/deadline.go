// Package deadline bounds a net.Conn's I/O by a context while a dial step
// (proxy exchange, TLS, WebSocket handshake) runs on it.
package deadline

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"
)

// Guard ties a connection's I/O to a context until Release.
type Guard struct {
	ctx  context.Context
	c    net.Conn
	stop func() bool
}

// Bind sets ctx's deadline, if any, on c, and makes cancelling ctx
// interrupt c's pending and later I/O (its deadline moves to the past),
// until Release is called.
func Bind(ctx context.Context, c net.Conn) *Guard {
	if d, ok := ctx.Deadline(); ok {
		c.SetDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	return &Guard{ctx: ctx, c: c, stop: stop}
}

// Release stops watching the context and clears c's deadline. It reports
// false when the context ended first: c's deadline may then be in the past
// and the caller must fail. Calling it again after a true result is a
// harmless no-op that reports false.
func (g *Guard) Release() bool {
	if !g.stop() || g.ctx.Err() != nil {
		return false
	}
	// The socket deadline can fire before ctx's own timer: a deadline that
	// has passed counts as the context having ended.
	if d, ok := g.ctx.Deadline(); ok && !time.Now().Before(d) {
		return false
	}
	g.c.SetDeadline(time.Time{})
	return true
}

// Err returns Err(ctx, err) for the guarded context.
func (g *Guard) Err(err error) error { return Err(g.ctx, err) }

// Err returns err wrapped together with ctx's error when ctx is done or its
// deadline has passed (the socket deadline can fire before ctx's own
// timer), so that errors.Is(err, context.DeadlineExceeded) or
// context.Canceled holds. Otherwise, or when err already matches, it
// returns err as is.
func Err(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	cerr := ctx.Err()
	if d, has := ctx.Deadline(); cerr == nil && has && !time.Now().Before(d) {
		cerr = context.DeadlineExceeded
	}
	if cerr == nil || errors.Is(err, cerr) {
		return err
	}
	return fmt.Errorf("%w: %w", cerr, err)
}
