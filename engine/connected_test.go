package engine

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/wsclient/wsclient/internal/testutil"
)

func TestConnectedAfterTimeoutAndClose(t *testing.T) {
	c, s := pair(t, nil)
	if !c.Connected() {
		t.Fatal("Connected false after New")
	}
	c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	s.write(frame(true, OpText, []byte("hello"))[:4]) // half a frame
	if _, _, err := c.Recv(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Recv: %v, want a timeout", err)
	}
	if !c.Connected() {
		t.Fatal("Connected false after a timeout mid-frame")
	}
	c.SetReadDeadline(time.Time{})
	s.write(frame(true, OpText, []byte("hello"))[4:])
	if _, p, err := c.Recv(); err != nil || string(p) != "hello" {
		t.Fatalf("Recv after the timeout: %q %v", p, err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Close(1000, "") }()
	s.expectClose()
	if !c.Connected() {
		t.Error("Connected false before the peer answered our close")
	}
	s.write(frame(true, OpClose, testutil.ClosePayload(1000, "")))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if c.Connected() {
		t.Fatal("Connected true after the close handshake")
	}
}

func TestConnectedFailures(t *testing.T) {
	t.Run("protocol error", func(t *testing.T) {
		c, s := pair(t, nil)
		s.write(frame(true, Opcode(3), nil)) // reserved opcode
		if _, _, err := c.Recv(); !errors.Is(err, ErrProtocol) {
			t.Fatalf("Recv: %v", err)
		}
		if c.Connected() {
			t.Fatal("Connected true after a protocol error")
		}
	})
	t.Run("write error", func(t *testing.T) {
		c, s := pair(t, nil)
		s.nc.(*net.TCPConn).SetLinger(0) // reset, so writes fail
		s.nc.Close()
		var err error
		for i := 0; i < 100 && err == nil; i++ {
			err = c.Send(OpBinary, make([]byte, 1024))
			time.Sleep(time.Millisecond)
		}
		if err == nil {
			t.Fatal("writes to a reset connection kept succeeding")
		}
		if c.Connected() {
			t.Fatalf("Connected true after a write failed: %v", err)
		}
	})
	t.Run("peer vanished", func(t *testing.T) {
		c, s := pair(t, nil)
		s.nc.Close()
		if _, _, err := c.Recv(); err == nil {
			t.Fatal("Recv: no error")
		}
		if c.Connected() {
			t.Fatal("Connected true after the peer closed the TCP connection")
		}
	})
}
