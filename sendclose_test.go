package wsclient

import (
	"errors"
	"strings"
	"testing"
)

// TestCloseParity ports websocket-client's close habits against real
// servers: a second close() is a no-op, send_close() does not wait, a close
// frame sent with send(…, OPCODE_CLOSE) is followed by a close() that only
// waits, and an oversized ping is refused with an error naming the opcode.
func TestCloseParity(t *testing.T) {
	for _, s := range parityServers(t) {
		t.Run(s.name, func(t *testing.T) {
			t.Run("second Close", func(t *testing.T) {
				c := dialPy(t, s.base+"/echo", nil)
				if err := c.Close(StatusNormal, ""); err != nil {
					t.Fatal(err)
				}
				if err := c.Close(StatusNormal, ""); err != nil {
					t.Fatalf("second Close: %v, want nil", err)
				}
				c = dialPy(t, s.base+"/echo", nil)
				c.Abort()
				if err := c.Close(StatusNormal, ""); err != nil {
					t.Fatalf("Close after Abort: %v, want nil", err)
				}
			})
			t.Run("SendClose", func(t *testing.T) {
				c := dialPy(t, s.base+"/echo", nil)
				if err := c.SendText("last words"); err != nil {
					t.Fatal(err)
				}
				if err := c.SendClose(4000, "bye"); err != nil {
					t.Fatal(err)
				}
				if err := c.SendText("too late"); err == nil {
					t.Fatal("Send after SendClose: no error")
				}
				// The echo of "last words" may come before the server's
				// close (wsserver), or not at all (python3-websockets sends
				// nothing once it has read a close frame).
				var ce *CloseError
				_, p, err := c.Recv()
				if err == nil && string(p) == "last words" {
					_, p, err = c.Recv()
				}
				if !errors.As(err, &ce) || ce.Code != 4000 {
					t.Fatalf("Recv after SendClose: %q, %v; want the server's close 4000", p, err)
				}
				if c.Connected() {
					t.Fatal("Connected after the close handshake")
				}
				if err := c.Close(StatusNormal, ""); err != nil {
					t.Fatalf("Close after the handshake: %v", err)
				}
			})
			t.Run("Send OpClose then Close", func(t *testing.T) {
				c := dialPy(t, s.base+"/echo", nil)
				if err := c.Send(OpClose, []byte{0x03, 0xe9}); err != nil { // 1001
					t.Fatal(err)
				}
				if err := c.Close(StatusNormal, ""); err != nil {
					t.Fatalf("Close after Send(OpClose): %v, want it to wait for the server's close", err)
				}
				if pc := c.PeerClose(); pc == nil || pc.Code != StatusGoingAway {
					t.Fatalf("PeerClose: %v, want the answer to our 1001", pc)
				}
			})
			t.Run("Ping too long", func(t *testing.T) {
				c := dialPy(t, s.base+"/echo", nil)
				err := c.Ping(make([]byte, 126))
				if !errors.Is(err, ErrInvalidFrame) || !strings.Contains(err.Error(), "ping payload is 126 bytes, more than 125") {
					t.Fatalf("Ping(126 bytes): %v", err)
				}
				if err := c.Pong(make([]byte, 200)); !errors.Is(err, ErrInvalidFrame) || !strings.Contains(err.Error(), "pong payload is 200 bytes") {
					t.Fatalf("Pong(200 bytes): %v", err)
				}
				if err := c.SendText("usable"); err != nil {
					t.Fatal(err)
				}
				if _, p, err := c.Recv(); err != nil || string(p) != "usable" {
					t.Fatalf("Recv: %q, %v", p, err)
				}
			})
		})
	}
}
