package wsclient

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"runtime"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/klauspost/compress/flate"
	"github.com/wsclient/wsclient/internal/testutil"
)

// smallSendBuf dials TCP with a small socket send buffer, so that a peer
// that stops reading blocks our writes after a few KiB.
func smallSendBuf(ctx context.Context, network, addr string) (net.Conn, error) {
	nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetWriteBuffer(4096)
	}
	return nc, nil
}

// TestHostilePingFlood: a server floods pings and never reads. The
// automatic pongs soon block in the write; Recv must not hang there past
// its read deadline forever: the pong is bounded by CloseTimeout, and when
// it cannot be written in time the connection fails with a timeout error.
func TestHostilePingFlood(t *testing.T) {
	stop := make(chan struct{})
	url, done := hostileServer(t, func(p *rawPeer) {
		if tc, ok := p.nc.(*net.TCPConn); ok {
			tc.SetReadBuffer(4096)
		}
		p.accept()
		ping := testutil.Frame(true, 0, ws.OpPing, bytes.Repeat([]byte{'p'}, 125))
		burst := bytes.Repeat(ping, 64)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := p.nc.Write(burst); err != nil {
				return // the client gave up and closed
			}
		}
	})
	defer waitDone(t, done)
	defer close(stop)

	const closeTimeout = 300 * time.Millisecond
	c := dialHostile(t, url, &DialOptions{NetDial: smallSendBuf, CloseTimeout: closeTimeout})

	// A deadline that passes while Recv is still reading pings is the
	// ordinary, resumable read timeout: go on until the pongs block.
	var err error
	for i := 0; ; i++ {
		c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		start := time.Now()
		err = recvWithin(t, c, 10*time.Second)
		t.Logf("Recv returned after %v: %v", time.Since(start).Round(time.Millisecond), err)
		var readTimeout *net.OpError
		if !errors.As(err, &readTimeout) || !readTimeout.Timeout() || i == 20 {
			break
		}
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Recv error = %v, want one wrapping os.ErrDeadlineExceeded", err)
	}
	var te interface{ Timeout() bool }
	if !errors.As(err, &te) || !te.Timeout() {
		t.Errorf("Recv error %v does not report Timeout()", err)
	}
	// The connection failed: every call reports it at once.
	if _, _, err2 := c.Recv(); err2 == nil {
		t.Error("Recv after the pong timeout succeeded")
	}
	if err2 := c.SendText("x"); err2 == nil {
		t.Error("Send after the pong timeout succeeded")
	}
}

// recvWithin calls Recv until it fails, and fails the test if that takes
// longer than limit.
func recvWithin(t *testing.T, c *Conn, limit time.Duration) error {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		for {
			if _, _, err := c.Recv(); err != nil {
				errc <- err
				return
			}
		}
	}()
	select {
	case err := <-errc:
		return err
	case <-time.After(limit):
		c.Abort() // unblock the receiver
		<-errc
		t.Fatalf("Recv still blocked %v after its read deadline: the automatic pong is not bounded", limit)
		return nil
	}
}

// zeroBomb returns a permessage-deflate payload (trailing 00 00 ff ff
// stripped) that inflates to n MiB of zeros: one compressed MiB, flushed,
// repeated (each copy ends on a sync flush, so copies concatenate).
func zeroBomb(n int) []byte {
	var b bytes.Buffer
	fw, _ := flate.NewWriter(&b, flate.BestCompression)
	fw.Write(make([]byte, 1<<20))
	fw.Flush()
	z := bytes.Repeat(b.Bytes(), n)
	return z[:len(z)-4]
}

// heapPeak samples the live heap every 200 µs until stop is closed and
// returns the highest value seen.
func heapPeak(stop <-chan struct{}) <-chan uint64 {
	out := make(chan uint64, 1)
	go func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var peak uint64
		tick := time.NewTicker(200 * time.Microsecond)
		defer tick.Stop()
		for {
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
			select {
			case <-stop:
				out <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return out
}

// TestHostileCompressionBomb: 256 KiB on the wire that inflate to 256 MiB,
// against the default 64 MiB MaxMessageSize. The client must fail the
// connection with 1009 having allocated no more than the limit plus a small
// constant, whichever receive call reads it.
func TestHostileCompressionBomb(t *testing.T) {
	bomb := testutil.Frame(true, 4, ws.OpBinary, zeroBomb(256))
	const slack = 4 << 20
	for _, tc := range recvAPIs { // each reads until its first error: the bomb
		t.Run(tc.name, func(t *testing.T) {
			codes := make(chan uint16, 1)
			url := deflateServer(t, "permessage-deflate", func(nc net.Conn, br *bufio.Reader) {
				nc.Write(bomb)
				codes <- readClose(br)
			})
			c := dialDeflate(t, url)
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			stop := make(chan struct{})
			peak := heapPeak(stop)
			err := tc.recv(c)
			close(stop)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrMessageTooBig) {
				t.Fatalf("receive: %v, want ErrMessageTooBig", err)
			}
			allocated := after.TotalAlloc - before.TotalAlloc
			grew := int64(<-peak) - int64(before.HeapAlloc)
			t.Logf("allocated %d MiB, heap peak +%d MiB", allocated>>20, grew>>20)
			// Allocated bytes bound the heap's growth whenever the GC runs;
			// the sampled peak shows what was live.
			limit := int64(64 << 20) // the default MaxMessageSize
			if allocated > uint64(limit+slack) {
				t.Errorf("allocated %d bytes reading a bomb, more than the %d-byte limit + %d", allocated, limit, slack)
			}
			if grew > limit+slack {
				t.Errorf("heap peaked %d bytes above its start, more than the %d-byte limit + %d", grew, limit, slack)
			}
			select {
			case code := <-codes:
				if code != 1009 {
					t.Fatalf("client sent close %d, want 1009", code)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("no close frame from the client")
			}
		})
	}
}
