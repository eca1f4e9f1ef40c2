package wsclient

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wsclient/wsclient/internal/wsserver"
)

// TestRaceSendFraming has 8 goroutines send on one connection at once with
// every send call (Send, Queue+Flush, NextWriter, SendFrame, Ping, Pong)
// and sizes around and above a 4 KiB WriteBufferSize, to a
// wsserver sink, which fails the connection with close 1002 when a data
// frame of another message lands inside a fragmented one (RFC 6455 §5.4;
// control frames may interleave). Every send must succeed, and the server
// must have received every message and byte.
func TestRaceSendFraming(t *testing.T) {
	var logMu sync.Mutex
	var logs []string
	srv, err := wsserver.Start(wsserver.Options{Mode: wsserver.Sink, Logf: func(format string, args ...any) {
		logMu.Lock()
		logs = append(logs, fmt.Sprintf(format, args...))
		logMu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	const wbs = 4 << 10
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := Dial(ctx, srv.URL(), &DialOptions{WriteBufferSize: wbs})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Abort()
	c.SetWriteDeadline(time.Now().Add(30 * time.Second))

	// Around the write buffer: 4096-14 is the largest frame built in one
	// piece; larger ones take the chunked path.
	sizes := []int{0, 1, 125, 1000, wbs/2 + 7, wbs - 14, wbs - 13, wbs, wbs + 100, 2*wbs + 3, 3 * wbs, 5*wbs + 1}
	const workers, rounds = 8, 40
	var wg sync.WaitGroup
	var mu sync.Mutex
	var msgs, total int64
	errs := make(chan error, workers)
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var n, bytes int64
			defer func() {
				mu.Lock()
				msgs += n
				total += bytes
				mu.Unlock()
			}()
			for i := range rounds {
				size := sizes[(g*5+i*7)%len(sizes)]
				p := make([]byte, size)
				for j := range p {
					p[j] = byte(g)
				}
				m, b, err := raceSend(c, g, (g+i)%8, p)
				if err != nil {
					errs <- fmt.Errorf("worker %d round %d: %w", g, i, err)
					return
				}
				n, bytes = n+m, bytes+b
			}
			if err := c.Flush(); err != nil {
				errs <- fmt.Errorf("worker %d flush: %w", g, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// The close handshake completes after the server has read every frame
	// sent before the close.
	if err := c.Close(StatusNormal, ""); err != nil {
		var ce *CloseError
		if errors.As(err, &ce) {
			t.Errorf("server closed the connection: %d %s", ce.Code, ce.Reason)
		} else {
			t.Errorf("close: %v", err)
		}
	}
	gotMsgs, gotBytes := srv.Stats()
	if gotMsgs != msgs || gotBytes != total {
		t.Errorf("server received %d messages, %d bytes; sent %d, %d", gotMsgs, gotBytes, msgs, total)
	}
	srv.Close()
	logMu.Lock()
	defer logMu.Unlock()
	for _, l := range logs {
		t.Errorf("server: %s", l)
	}
}

// raceSend sends p one way (kind) and returns how many data messages and
// payload bytes it sent.
func raceSend(c *Conn, g, kind int, p []byte) (msgs, bytes int64, err error) {
	size := int64(len(p))
	switch {
	case kind == 0:
		return 1, size, c.SendBinary(p)
	case kind == 1:
		if err = c.Queue(OpBinary, p); err == nil {
			if err = c.Queue(OpText, p[:len(p)/2]); err == nil {
				err = c.Flush()
			}
		}
		return 2, size + size/2, err
	case kind == 2: // one Write: whole frames straight from p, the tail buffered
		w, err := c.NextWriter(OpBinary, 1+len(p)/3)
		if err != nil {
			return 0, 0, err
		}
		if _, err = w.Write(p); err != nil {
			w.Close()
			return 0, 0, err
		}
		return 1, size, w.Close()
	case kind == 3:
		w, err := c.NextWriter(OpBinary, 1500)
		if err != nil {
			return 0, 0, err
		}
		for q := p; len(q) > 0 && err == nil; {
			k := min(len(q), 700)
			_, err = w.Write(q[:k])
			q = q[k:]
		}
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		return 1, size, err
	case kind == 4 && g == 0: // raw fragments: one goroutine owns them
		half := len(p) / 2
		if err = c.SendFrame(OpBinary, p[:half], false); err == nil {
			if err = c.Ping([]byte("mid")); err == nil {
				err = c.SendFrame(OpContinuation, p[half:], true)
			}
		}
		return 1, size, err
	case kind == 4:
		return 1, min(size, 3), c.Send(OpText, p[:min(size, 3)])
	case kind == 5:
		if err = c.Ping([]byte("ping")); err == nil {
			err = c.SendBinary(p)
		}
		return 1, size, err
	case kind == 6:
		if err = c.Pong(nil); err == nil {
			err = c.Queue(OpBinary, p)
		}
		return 1, size, err
	}
	return 1, size, c.Send(OpBinary, p)
}
