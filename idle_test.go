package wsclient

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/wsclient/wsclient/internal/testserver"
)

// BenchmarkIdleConnMemory reports the heap held per idle connection: 2,000
// connections to a python3-websockets server (another process), each with
// a goroutine blocked in Recv, as an App or a reader loop would have. The
// goroutine stacks are included; no read or write buffer should be.
//
//	go test -run '^$' -bench IdleConnMemory -benchtime 1x .
func BenchmarkIdleConnMemory(b *testing.B) {
	const n = 2000
	py := testserver.StartPython(b, testserver.PyOptions{})
	for range b.N {
		conns := make([]*Conn, 0, n)
		done := make(chan struct{}, n)
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		for range n {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			c, err := Dial(ctx, "ws://"+py.Addr+"/echo", nil)
			cancel()
			if err != nil {
				b.Fatal(err)
			}
			conns = append(conns, c)
			go func() {
				c.Recv() // blocks until Abort
				done <- struct{}{}
			}()
		}
		time.Sleep(200 * time.Millisecond) // let every reader block
		runtime.GC()
		var after runtime.MemStats
		runtime.ReadMemStats(&after)
		heap := float64(after.HeapInuse) - float64(before.HeapInuse)
		stack := float64(after.StackInuse) - float64(before.StackInuse)
		b.ReportMetric(heap/n, "heap-B/conn")
		b.ReportMetric(stack/n, "stack-B/conn")
		for _, c := range conns {
			c.Abort()
		}
		for range n {
			<-done
		}
	}
}
