//go:build !race

package wsclient

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// TestSendAllocsUnderGC proves through the public API that steady-state
// sends allocate nothing while garbage collections run beside them (the
// README's "0 allocations per send" for a long-running service). A
// goroutine collects in a loop; since AllocsPerRun runs at GOMAXPROCS 1 it
// gets the processor only now and then, so two collections before each
// send make the worst case certain: every sync.Pool is empty then. The server is a loopback
// socket read into a fixed buffer, so it allocates nothing either
// (AllocsPerRun counts the whole process).
func TestSendAllocsUnderGC(t *testing.T) {
	url, done := hostileServer(t, func(p *rawPeer) {
		p.accept()
		b := make([]byte, 64<<10)
		for {
			if _, err := p.br.Read(b); err != nil {
				return
			}
		}
	})
	c := dialHostile(t, url, nil)
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // allocates nothing: AllocsPerRun counts the whole process
		defer wg.Done()
		for !stop.Load() {
			runtime.GC()
		}
	}()
	defer func() {
		stop.Store(true)
		wg.Wait()
	}()
	for _, n := range []int{16, 16 << 10, 64 << 10, 1 << 20} {
		msg := make([]byte, n)
		for range 2 { // warm up
			if err := c.SendBinary(msg); err != nil {
				t.Fatal(err)
			}
		}
		if a := testing.AllocsPerRun(30, func() {
			runtime.GC()
			runtime.GC()
			if err := c.SendBinary(msg); err != nil {
				t.Fatal(err)
			}
		}); a != 0 {
			t.Errorf("SendBinary(%d B) under GC: %v allocs, want 0", n, a)
		}
		if a := testing.AllocsPerRun(30, func() {
			runtime.GC()
			runtime.GC()
			if err := sendFrames(c, OpBinary, msg, 8<<10); err != nil {
				t.Fatal(err)
			}
		}); a != 0 {
			t.Errorf("SendFrame of %d B in 8 KiB frames under GC: %v allocs, want 0", n, a)
		}
	}
	c.Abort()
	waitDone(t, done)
}
