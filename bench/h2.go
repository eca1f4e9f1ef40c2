package main

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/wsclient/wsclient"
)

// WebSockets over HTTP/2 (RFC 8441) against HTTP/1.1, both wss to the
// benchserver, both wsclient: "http/1.1" is one TLS connection per
// WebSocket (the wss listener, a raw-socket server), "http/2" streams of
// shared connections (the h2 listener, a minimal server on x/net's Framer,
// one connection for up to 10,000 streams), and "http/2 net/http" the same
// through net/http's HTTP/2 server (h2std), which is the bottleneck there.

const (
	h1Lib    = "http/1.1"
	h2Lib    = "http/2"
	h2StdLib = "http/2 net/http"
)

var h2Libs = []string{h1Lib, h2Lib, h2StdLib}

var h2OpenScenario = &Scenario{
	Name: "h2-open", Title: "Opening wss WebSockets to one origin, 50 dials at a time: HTTP/1.1 (a TLS connection each) vs HTTP/2 (streams of one connection)",
	Metric: "ms", Unit: "ms", Lower: true, Cases: []Case{{Name: "1,000 WebSockets", Size: 1000}},
	Libs: h2Libs, RatioTo: h1Lib, Rounds: 3, Run: h2OpenCell,
	Note: "Time to open all of them (TCP, TLS and the opening handshake, or a stream and an extended CONNECT); B/conn in the detail table is the client's live heap (HeapAlloc after GC) per open WebSocket, with 8 KiB per goroutine left running (none per WebSocket; one per HTTP/2 connection). -quick opens 100.",
}

var h2SendScenario = &Scenario{
	Name: "h2-send", Title: "One WebSocket's send throughput to a sink: HTTP/2 stream vs HTTP/1.1 connection (wss)",
	Metric: "MB/s", Unit: "MB/s", Cases: casesOf(1<<10, 64<<10),
	Libs: h2Libs, RatioTo: h1Lib, Run: h2SendCell,
}

var h2EchoScenario = &Scenario{
	Name: "h2-echo", Title: "Echo round trip latency (p50): HTTP/2 stream vs HTTP/1.1 connection (wss)",
	Metric: "p50", Unit: "µs", Lower: true, Cases: casesOf(16, 1<<10),
	Libs: h2Libs, RatioTo: h1Lib, Run: h2EchoCell,
}

// h2Dialer returns a dial function for lib and, for HTTP/2, the pool to
// close at the end of the cell.
func h2Dialer(cfg *Config, lib, path string) (func(ctx context.Context) (*wsclient.Conn, error), *wsclient.HTTP2Pool) {
	o := &wsclient.DialOptions{TLSConfig: insecureTLS, MaxMessageSize: maxMsg}
	u := cfg.Srv.URL(true, path)
	var pool *wsclient.HTTP2Pool
	if lib == h2Lib || lib == h2StdLib {
		pool = new(wsclient.HTTP2Pool)
		o.HTTP2, o.HTTP2Pool = wsclient.HTTP2Only, pool
		addr := cfg.Srv.H2
		if lib == h2StdLib {
			addr = cfg.Srv.H2Std
		}
		u = "wss://" + addr + path
	}
	return func(ctx context.Context) (*wsclient.Conn, error) { return wsclient.Dial(ctx, u, o) }, pool
}

func h2OpenCell(cfg *Config, lib string, c Case) (Metrics, error) {
	n := c.Size
	if cfg.Quick {
		n = 100
	}
	dialFn, pool := h2Dialer(cfg, lib, "/sink")
	conns := make([]*wsclient.Conn, n)
	defer func() {
		for _, cl := range conns {
			if cl != nil {
				cl.Abort()
			}
		}
		if pool != nil {
			pool.Close()
		}
	}()
	// use is the live heap (HeapAlloc after GC, once it settled:
	// connections of the previous cell may still be closing) plus 8 KiB per
	// goroutine. HeapInuse and StackInuse are too coarse: they count whole
	// spans, which other cells' garbage and exited goroutines' stacks leave
	// behind.
	use := func() uint64 {
		var last uint64
		for range 50 {
			runtime.GC()
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			cur := m.HeapAlloc + 8<<10*uint64(runtime.NumGoroutine())
			if last != 0 && max(cur, last)-min(cur, last) < 8<<10 {
				return cur
			}
			last = cur
			time.Sleep(20 * time.Millisecond)
		}
		return last
	}
	m0 := use()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	const parallel = 50
	next := make(chan int)
	errs := make(chan error, parallel)
	var wg sync.WaitGroup
	t0 := time.Now()
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				cl, err := dialFn(ctx)
				if err != nil {
					errs <- err
					return
				}
				conns[i] = cl
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	el := time.Since(t0)
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	if pool != nil {
		if nc, _ := pool.Stats(); nc != 1 {
			return nil, fmt.Errorf("%d HTTP/2 connections, want 1", nc)
		}
	}
	m1 := use()
	return Metrics{"ms": float64(el) / 1e6, "B/conn": (float64(m1) - float64(m0)) / float64(n)}, nil
}

func h2SendCell(cfg *Config, lib string, c Case) (Metrics, error) {
	dialFn, pool := h2Dialer(cfg, lib, "/sink")
	if pool != nil {
		defer pool.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	wc, err := dialFn(ctx)
	if err != nil {
		return nil, err
	}
	cl := wsclientConn{wc}
	defer cl.Close()
	p := payload(c.Size)
	m, _, err := timedSends(cfg, cl, chunkFor(c.Size), c.Size, func() error { return cl.Send(false, p) }, nil)
	return m, err
}

func h2EchoCell(cfg *Config, lib string, c Case) (Metrics, error) {
	dialFn, pool := h2Dialer(cfg, lib, "/echo")
	if pool != nil {
		defer pool.Close()
	}
	p := payload(c.Size)
	return echoLatency(cfg, func() (func() error, func() error, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		wc, err := dialFn(ctx)
		cancel()
		if err != nil {
			return nil, nil, err
		}
		rt := func() error {
			if err := wc.SendBinary(p); err != nil {
				return err
			}
			_, q, err := wc.Recv()
			if err == nil && len(q) != len(p) {
				err = fmt.Errorf("echo returned %d bytes, want %d", len(q), len(p))
			}
			return err
		}
		return rt, wc.Abort, nil
	})
}
