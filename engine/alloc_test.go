//go:build !race

package engine

import (
	"io"
	"strings"
	"testing"
	"time"
)

// ioTimeouts are the IOTimeout settings the allocation tests run with: none,
// one that is re-armed once in a while, and one so short that every call
// arms it afresh (discardConn never blocks).
var ioTimeouts = []time.Duration{0, time.Minute, time.Nanosecond}

func TestSendAllocs(t *testing.T) {
	for _, d := range ioTimeouts {
		for _, n := range []int{16, 1 << 10, 64 << 10, 1 << 20} {
			for _, op := range []Opcode{OpText, OpBinary} {
				c := New(&discardConn{}, nil, &Config{IOTimeout: d})
				defer c.Abort()
				msg := make([]byte, n)
				c.Send(op, msg) // warm the pool
				if a := testing.AllocsPerRun(200, func() {
					if err := c.Send(op, msg); err != nil {
						t.Fatal(err)
					}
				}); a != 0 {
					t.Errorf("Send(%v, %d B), IOTimeout %v: %v allocs, want 0", op, n, d, a)
				}
			}
		}
	}
}

func TestQueueAllocs(t *testing.T) {
	for _, d := range ioTimeouts {
		c := New(&discardConn{}, nil, &Config{IOTimeout: d})
		defer c.Abort()
		msg := make([]byte, 16)
		c.Queue(OpBinary, msg)
		c.Flush()
		if a := testing.AllocsPerRun(1000, func() {
			c.Queue(OpBinary, msg)
		}); a != 0 {
			t.Errorf("Queue, IOTimeout %v: %v allocs, want 0", d, a)
		}
		if a := testing.AllocsPerRun(100, func() { c.Flush() }); a != 0 {
			t.Errorf("Flush, IOTimeout %v: %v allocs, want 0", d, a)
		}
	}
}

func TestReceiveAllocs(t *testing.T) {
	for _, d := range ioTimeouts {
		testReceiveAllocs(t, d)
	}
}

func testReceiveAllocs(t *testing.T, d time.Duration) {
	for _, n := range []int{16, 1 << 10, 64 << 10, 1 << 20} {
		for _, op := range []Opcode{OpText, OpBinary} {
			msg := make([]byte, n)
			for i := range msg {
				msg[i] = 'a' + byte(i%26)
			}
			// Fragmented, with a pong in between, to cover reassembly.
			var stream []byte
			stream = append(stream, frame(false, op, msg[:n/2])...)
			stream = append(stream, frame(true, OpPong, []byte("p"))...)
			stream = append(stream, frame(true, OpContinuation, msg[n/2:])...)
			c := New(&discardConn{stream: stream}, nil, &Config{IOTimeout: d})
			defer c.Abort()
			for range 3 { // warm up: buffers grow to size
				if _, _, err := c.Recv(); err != nil {
					t.Fatal(err)
				}
			}
			if a := testing.AllocsPerRun(100, func() {
				if _, p, err := c.Recv(); err != nil || len(p) != n {
					t.Fatal(len(p), err)
				}
			}); a != 0 {
				t.Errorf("Recv(%v, %d B), IOTimeout %v: %v allocs, want 0", op, n, d, a)
			}
		}
	}
}

func TestPingAutoPongAllocs(t *testing.T) {
	for _, d := range ioTimeouts {
		stream := append(frame(true, OpPing, []byte("ping")), frame(true, OpBinary, []byte("data"))...)
		c := New(&discardConn{stream: stream}, nil, &Config{IOTimeout: d})
		defer c.Abort()
		c.Recv()
		if a := testing.AllocsPerRun(500, func() { c.Recv() }); a != 0 {
			t.Errorf("Recv with ping, IOTimeout %v: %v allocs, want 0", d, a)
		}
	}
}

// TestIOTimeoutArmAllocs: arming IOTimeout on a real TCP connection (each
// call comes after a pause longer than the slack, so each one arms)
// allocates nothing.
func TestIOTimeoutArmAllocs(t *testing.T) {
	c, s := pair(t, &Config{IOTimeout: time.Minute})
	go io.Copy(io.Discard, s.nc)
	const runs = 20
	for range runs + 3 { // AllocsPerRun runs f once more
		s.write(frame(true, OpBinary, []byte("data")))
	}
	msg := make([]byte, 16)
	for range 2 { // warm up
		c.Send(OpBinary, msg)
		c.Recv()
	}
	if a := testing.AllocsPerRun(runs, func() {
		time.Sleep(2 * time.Duration(maxSlack))
		if err := c.Send(OpBinary, msg); err != nil {
			t.Fatal(err)
		}
		if _, _, err := c.Recv(); err != nil {
			t.Fatal(err)
		}
	}); a != 0 {
		t.Errorf("Send+Recv re-arming IOTimeout: %v allocs, want 0", a)
	}
}

// TestCompressorIdle checks that a connection that sent a large compressed
// message keeps no large output buffer while idle, and none once closed.
func TestCompressorIdle(t *testing.T) {
	c := New(&discardConn{}, nil, &Config{Deflate: &Deflate{}})
	msg := make([]byte, 1<<20)
	for i := range msg {
		msg[i] = byte(i * 7919 >> 3)
	}
	if err := c.Send(OpBinary, msg); err != nil {
		t.Fatal(err)
	}
	if b := c.comp.out.b; b != nil && cap(b.b) > keepBuf {
		t.Fatalf("idle compressor holds a %d-byte buffer", cap(b.b))
	}
	if err := c.Send(OpText, []byte(strings.Repeat("small json ", 40))); err != nil {
		t.Fatal(err)
	}
	c.Abort()
	if c.comp.out.b != nil {
		t.Fatal("closed connection still holds the compressor's buffer")
	}
}
