package wsclient

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"
)

// silentServer accepts connections and never answers.
func silentServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var conns []net.Conn // touched by the accept loop only, until it ended
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	acceptAll(t, ln, func(c net.Conn) { conns = append(conns, c) })
	return ln.Addr().String()
}

// acceptAll calls handle for every connection ln accepts, in one goroutine,
// until the test ends; then it closes ln and waits for that goroutine.
func acceptAll(t *testing.T, ln net.Listener, handle func(net.Conn)) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			handle(c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
}

// dialDeadline dials addr (a silent server) and returns the deadline the
// connect step saw, or false when it had none. cancelAfter ends the Dial
// once the deadline was seen.
func dialDeadline(t *testing.T, ctx context.Context, addr string, timeout time.Duration) (time.Time, bool, error) {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type seen struct {
		d  time.Time
		ok bool
	}
	ch := make(chan seen, 1)
	opts := &DialOptions{Timeout: timeout, NetDial: func(ctx context.Context, network, a string) (net.Conn, error) {
		d, ok := ctx.Deadline()
		ch <- seen{d, ok}
		var nd net.Dialer
		return nd.DialContext(ctx, network, a)
	}}
	errc := make(chan error, 1)
	go func() {
		_, err := Dial(ctx, "ws://"+addr+"/", opts)
		errc <- err
	}()
	var s seen
	select {
	case s = <-ch:
	case <-time.After(10 * time.Second):
		t.Fatal("Dial did not connect")
	}
	cancel()
	select {
	case err := <-errc:
		return s.d, s.ok, err
	case <-time.After(10 * time.Second):
		t.Fatal("Dial did not return after its context was cancelled")
	}
	return s.d, s.ok, nil
}

// TestHostileHandshakeDefaultTimeout: against a server that accepts and
// never answers, Dial with a context without deadline and no Timeout is
// bounded by defaultTimeout (connect plus handshake). A Timeout or a
// context deadline replaces it; a negative Timeout leaves only ctx.
func TestHostileHandshakeDefaultTimeout(t *testing.T) {
	if defaultTimeout <= 0 || defaultTimeout > time.Minute {
		t.Fatalf("defaultTimeout %v: want a bound of at most a minute", defaultTimeout)
	}
	addr := silentServer(t)

	start := time.Now()
	d, ok, err := dialDeadline(t, context.Background(), addr, 0)
	if !ok || d.Before(start.Add(defaultTimeout)) || d.After(time.Now().Add(defaultTimeout)) {
		t.Fatalf("no Timeout, no ctx deadline: connect saw deadline %v (%v), want about now+%v", d, ok, defaultTimeout)
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled Dial: %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	want, _ := ctx.Deadline()
	if d, ok, _ := dialDeadline(t, ctx, addr, 0); !ok || !d.Equal(want) {
		t.Fatalf("ctx deadline in 2 min: connect saw %v (%v), want %v", d, ok, want)
	}
	if d, ok, _ := dialDeadline(t, context.Background(), addr, -1); ok {
		t.Fatalf("negative Timeout: connect saw deadline %v, want none", d)
	}

	// A short Timeout against the silent server: Dial fails within it.
	start = time.Now()
	c, err := Dial(context.Background(), "ws://"+addr+"/", &DialOptions{Timeout: 200 * time.Millisecond})
	if c != nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Timeout 200ms: %v, %v", c, err)
	}
	if el := time.Since(start); el > 3*time.Second {
		t.Fatalf("Timeout 200ms took %v", el)
	}
}
