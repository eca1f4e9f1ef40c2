//go:build !race

package engine

import (
	"runtime"
	"testing"
)

// collect runs two garbage collections, which leave every sync.Pool empty
// (the first moves its contents to the victim cache, the second drops
// them), as a long-running service's other garbage does between two sends.
// It allocates nothing itself. Calling it inside the AllocsPerRun function
// makes the test deterministic: a goroutine collecting in a loop would
// rarely run between two sends, since AllocsPerRun sets GOMAXPROCS to 1.
func collect() {
	runtime.GC()
	runtime.GC()
}

// TestSendAllocsUnderGC checks that steady-state sends of every size
// allocate nothing even while garbage collections run beside them: large
// send buffers must not come only from a sync.Pool that each GC empties.
func TestSendAllocsUnderGC(t *testing.T) {
	for _, n := range []int{16, 1 << 10, 16 << 10, 64 << 10, 1 << 20} {
		c := New(&discardConn{}, nil, nil)
		msg := make([]byte, n)
		c.Send(OpBinary, msg) // warm up
		a := testing.AllocsPerRun(50, func() {
			collect()
			if err := c.Send(OpBinary, msg); err != nil {
				t.Fatal(err)
			}
		})
		c.Abort()
		if a != 0 {
			t.Errorf("WriteMessage(%d B) under GC: %v allocs, want 0", n, a)
		}
	}
}

// TestWriteCallsAllocsUnderGC covers the other send calls the same way:
// SendFrame of fragmented messages, control frames.
func TestWriteCallsAllocsUnderGC(t *testing.T) {
	c := New(&discardConn{}, nil, &Config{WriteBufferSize: 4 << 10})
	defer c.Abort()
	msg := make([]byte, 20<<10)
	ping := []byte("ping")
	send := func() {
		collect()
		if err := c.SendFrame(OpBinary, msg[:9000], false); err != nil {
			t.Fatal(err)
		}
		if err := c.Ping(ping); err != nil {
			t.Fatal(err)
		}
		if err := c.SendFrame(OpContinuation, msg[9000:], true); err != nil {
			t.Fatal(err)
		}
		if err := sendFrames(c, OpBinary, msg, 6000); err != nil { // 4 frames, each over WriteBufferSize
			t.Fatal(err)
		}
	}
	send()
	if a := testing.AllocsPerRun(50, send); a != 0 {
		t.Errorf("raw frames, ping and a 4-frame message under GC: %v allocs, want 0", a)
	}
}

// TestIdleHoldsNoLargeBuffer checks that the free list behind the pool
// does not turn into memory per connection: after large sends an idle
// connection holds no buffer larger than keepBuf.
func TestIdleHoldsNoLargeBuffer(t *testing.T) {
	c := New(&discardConn{}, nil, &Config{WriteBufferSize: 4 << 10})
	defer c.Abort()
	for _, n := range []int{3000, 40 << 10, 1 << 20} {
		if err := c.Send(OpBinary, make([]byte, n)); err != nil {
			t.Fatal(err)
		}
		c.w.mu.Lock()
		for _, b := range []*buf{c.w.pend, c.w.spare} {
			if b != nil && cap(b.b) > keepBuf {
				t.Errorf("after a %d-byte send the idle writer holds a %d-byte buffer", n, cap(b.b))
			}
		}
		c.w.mu.Unlock()
	}
}

// TestStashBounded checks that the GC-proof free list keeps at most
// stashSlots buffers per class and stashBytes in all, however many buffers
// are released at once (the rest go to the sync.Pool, which GC may empty).
func TestStashBounded(t *testing.T) {
	var bs []*buf
	for _, size := range []int{600, 3000, 100 << 10, 1 << 20, 4 << 20} {
		for range 3 * stashSlots {
			bs = append(bs, getBuf(size))
		}
	}
	for _, b := range bs {
		putBuf(b)
	}
	stash.mu.Lock()
	defer stash.mu.Unlock()
	total := 0
	for k := range stash.n {
		m := int(stash.n[k].Load())
		if m > stashSlots {
			t.Errorf("class %d: %d buffers kept, more than %d", k, m, stashSlots)
		}
		for _, b := range stash.slot[k][:m] {
			if class(cap(b.b)) != k {
				t.Errorf("class %d holds a %d-byte buffer", k, cap(b.b))
			}
			total += cap(b.b)
		}
	}
	if total > stashBytes || int64(total) != stash.bytes.Load() {
		t.Errorf("stash keeps %d bytes (counted %d), limit %d", total, stash.bytes.Load(), stashBytes)
	}
	if total < stashBytes-(4<<20) {
		t.Errorf("stash keeps only %d bytes after releasing %d buffers", total, len(bs))
	}
}
