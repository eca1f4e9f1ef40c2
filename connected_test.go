package wsclient

import (
	"errors"
	"os"
	"testing"
	"time"
)

// TestConnected follows websocket-client's .connected through a
// connection's life against real servers: true after Dial and after a
// receive that timed out, false once the close handshake completed, after
// Abort, after the peer closed and after the peer vanished.
func TestConnected(t *testing.T) {
	for _, s := range parityServers(t) {
		t.Run(s.name, func(t *testing.T) {
			c := dialPy(t, s.base+"/echo", nil)
			if !c.Connected() {
				t.Fatal("Connected false right after Dial")
			}
			c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			if _, _, err := c.Recv(); !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("Recv on a quiet connection: %v, want a timeout", err)
			}
			if !c.Connected() {
				t.Fatal("Connected false after a receive timed out")
			}
			c.SetReadDeadline(time.Time{})
			if err := c.SendText("still here"); err != nil {
				t.Fatal(err)
			}
			if _, p, err := c.Recv(); err != nil || string(p) != "still here" {
				t.Fatalf("Recv after the timeout: %q, %v", p, err)
			}
			if err := c.Close(StatusNormal, ""); err != nil {
				t.Fatal(err)
			}
			if c.Connected() {
				t.Fatal("Connected true after Close")
			}

			c = dialPy(t, s.base+"/echo", nil)
			c.Abort()
			if c.Connected() {
				t.Fatal("Connected true after Abort")
			}

			c = dialPy(t, s.base+"/close/4001/bye", nil)
			var ce *CloseError
			if _, _, err := c.Recv(); !errors.As(err, &ce) || ce.Code != 4001 {
				t.Fatalf("Recv from a closing server: %v", err)
			}
			if c.Connected() {
				t.Fatal("Connected true after the server closed")
			}

			if s.py {
				c = dialPy(t, s.base+"/drop", nil)
				if _, _, err := c.Recv(); !errors.As(err, &ce) || ce.Code != StatusAbnormalClosure {
					t.Fatalf("Recv from a dropped connection: %v", err)
				}
				if c.Connected() {
					t.Fatal("Connected true after the server dropped the connection")
				}
			}
		})
	}
}
