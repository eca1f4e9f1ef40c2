package wsclient

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// smallSendBuf dials TCP with a small socket send buffer, so that a peer
// that stops reading blocks our writes after a few KiB.
func smallSendBuf(ctx context.Context, network, addr string) (net.Conn, error) {
	nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetWriteBuffer(4096)
	}
	return nc, nil
}

// TestHostilePingFlood: a server floods pings and never reads. The
// automatic pongs soon block in the write; Recv must not hang there past
// its read deadline forever: the pong is bounded by CloseTimeout, and when
// it cannot be written in time the connection fails with a timeout error.
func TestHostilePingFlood(t *testing.T) {
	stop := make(chan struct{})
	url, done := hostileServer(t, func(p *rawPeer) {
		if tc, ok := p.nc.(*net.TCPConn); ok {
			tc.SetReadBuffer(4096)
		}
		p.accept()
		ping := sframe(true, 0, ws.OpPing, bytes.Repeat([]byte{'p'}, 125))
		burst := bytes.Repeat(ping, 64)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := p.nc.Write(burst); err != nil {
				return // the client gave up and closed
			}
		}
	})
	defer waitDone(t, done)
	defer close(stop)

	const closeTimeout = 300 * time.Millisecond
	c := dialHostile(t, url, &DialOptions{NetDial: smallSendBuf, CloseTimeout: closeTimeout})

	// A deadline that passes while Recv is still reading pings is the
	// ordinary, resumable read timeout: go on until the pongs block.
	var err error
	for i := 0; ; i++ {
		c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		start := time.Now()
		err = recvWithin(t, c, 10*time.Second)
		t.Logf("Recv returned after %v: %v", time.Since(start).Round(time.Millisecond), err)
		var readTimeout *net.OpError
		if !errors.As(err, &readTimeout) || !readTimeout.Timeout() || i == 20 {
			break
		}
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Recv error = %v, want one wrapping os.ErrDeadlineExceeded", err)
	}
	var te interface{ Timeout() bool }
	if !errors.As(err, &te) || !te.Timeout() {
		t.Errorf("Recv error %v does not report Timeout()", err)
	}
	// The connection failed: every call reports it at once.
	if _, _, err2 := c.Recv(); err2 == nil {
		t.Error("Recv after the pong timeout succeeded")
	}
	if err2 := c.SendText("x"); err2 == nil {
		t.Error("Send after the pong timeout succeeded")
	}
}

// recvWithin calls Recv until it fails, and fails the test if that takes
// longer than limit.
func recvWithin(t *testing.T, c *Conn, limit time.Duration) error {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		for {
			if _, _, err := c.Recv(); err != nil {
				errc <- err
				return
			}
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-time.After(limit):
		c.Abort() // unblock the receiver
		<-errc
		t.Fatalf("Recv still blocked %v after its read deadline: the automatic pong is not bounded", limit)
		return nil
	}
}
