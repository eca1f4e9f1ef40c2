//go:build !race

package engine

import (
	"strings"
	"testing"
)

func TestSendAllocs(t *testing.T) {
	for _, n := range []int{16, 1 << 10, 64 << 10, 1 << 20} {
		for _, op := range []Opcode{OpText, OpBinary} {
			c := New(&discardConn{}, nil, nil)
			defer c.Abort()
			msg := make([]byte, n)
			c.Send(op, msg) // warm the pool
			if a := testing.AllocsPerRun(200, func() {
				if err := c.Send(op, msg); err != nil {
					t.Fatal(err)
				}
			}); a != 0 {
				t.Errorf("WriteMessage(%v, %d B): %v allocs, want 0", op, n, a)
			}
		}
	}
}

func TestQueueAllocs(t *testing.T) {
	c := New(&discardConn{}, nil, nil)
	defer c.Abort()
	msg := make([]byte, 16)
	c.Queue(OpBinary, msg)
	c.Flush()
	if a := testing.AllocsPerRun(1000, func() {
		c.Queue(OpBinary, msg)
	}); a != 0 {
		t.Errorf("QueueMessage: %v allocs, want 0", a)
	}
	if a := testing.AllocsPerRun(100, func() { c.Flush() }); a != 0 {
		t.Errorf("Flush: %v allocs, want 0", a)
	}
}

func TestReceiveAllocs(t *testing.T) {
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
			c := New(&discardConn{stream: stream}, nil, nil)
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
				t.Errorf("ReadMessage(%v, %d B): %v allocs, want 0", op, n, a)
			}
		}
	}
}

func TestPingAutoPongAllocs(t *testing.T) {
	stream := append(frame(true, OpPing, []byte("ping")), frame(true, OpBinary, []byte("data"))...)
	c := New(&discardConn{stream: stream}, nil, nil)
	defer c.Abort()
	c.Recv()
	if a := testing.AllocsPerRun(500, func() { c.Recv() }); a != 0 {
		t.Errorf("ReadMessage with ping: %v allocs, want 0", a)
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
