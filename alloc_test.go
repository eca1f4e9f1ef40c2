//go:build !race

package wsclient

import (
	"testing"
	"time"

	"github.com/wsclient/wsclient/internal/testserver"
)

// TestConnAllocs proves the public API keeps the engine's promise: a Send
// and a Recv of an echoed message allocate nothing in steady state.
func TestConnAllocs(t *testing.T) {
	py := testserver.StartPython(t, testserver.PyOptions{})
	for _, d := range []time.Duration{0, time.Minute} {
		t.Run("IOTimeout="+d.String(), func(t *testing.T) {
			testConnAllocs(t, dialPy(t, "ws://"+py.Addr+"/echo", &DialOptions{IOTimeout: d}))
		})
	}
}

func testConnAllocs(t *testing.T, c *Conn) {
	for _, n := range []int{16, 1 << 10, 64 << 10} {
		msg := make([]byte, n)
		text := string(make([]byte, n))
		for range 3 { // warm the buffers
			c.SendBinary(msg)
			c.Recv()
		}
		if a := testing.AllocsPerRun(50, func() {
			if err := c.SendBinary(msg); err != nil {
				t.Fatal(err)
			}
			if _, p, err := c.Recv(); err != nil || len(p) != n {
				t.Fatal(len(p), err)
			}
		}); a != 0 {
			t.Errorf("SendBinary+Recv %d B: %v allocs, want 0", n, a)
		}
		if a := testing.AllocsPerRun(50, func() {
			if err := c.SendText(text); err != nil {
				t.Fatal(err)
			}
			if _, _, err := c.Recv(); err != nil {
				t.Fatal(err)
			}
		}); a != 0 {
			t.Errorf("SendText+Recv %d B: %v allocs, want 0", n, a)
		}
	}
}
