package engine

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// slowReader hands out at most n bytes per Read, one Read per every.
type slowReader struct {
	r     io.Reader
	n     int
	every time.Duration
}

func (s *slowReader) Read(p []byte) (int, error) {
	time.Sleep(s.every)
	return s.r.Read(p[:min(len(p), s.n)])
}

// TestHostilePongBehindSlowWrite: the bound on the automatic pong must not
// fail a healthy connection whose peer reads slowly but steadily. The pong
// waits behind a large message that takes several CloseTimeouts to go out;
// the writer keeps making progress, so the pong is written after it and
// the receiver carries on.
func TestHostilePongBehindSlowWrite(t *testing.T) {
	const closeTimeout = 150 * time.Millisecond
	c, s := pair(t, &Config{CloseTimeout: closeTimeout, ChunkSize: 16 << 10, WriteBufferSize: 4 << 10})
	// Socket buffers small enough that the message cannot sit in them, not
	// so small that loopback TCP stalls on delayed ACKs.
	c.NetConn().(*net.TCPConn).SetWriteBuffer(32 << 10)
	s.nc.(*net.TCPConn).SetReadBuffer(64 << 10)
	big := bytes.Repeat([]byte{'b'}, 1<<20)
	sent := make(chan error, 1)
	go func() { sent <- c.WriteMessage(ws.OpBinary, big) }()

	// The peer reads 32 KiB every 20 ms: about 0.65 s for the message, less
	// what the socket buffers hold, several times CloseTimeout.
	br := bufio.NewReaderSize(&slowReader{r: s.nc, n: 32 << 10, every: 20 * time.Millisecond}, 32<<10)
	h, err := ws.ReadHeader(br)
	if err != nil || h.OpCode != ws.OpBinary || h.Length != int64(len(big)) {
		t.Fatalf("first client frame %+v, %v", h, err)
	}
	// The large frame is being written: now ping, then send a message.
	s.write(frame(true, ws.OpPing, []byte("hi")), frame(true, ws.OpText, []byte("after")))
	start := time.Now()
	got := make(chan error, 1)
	var waited time.Duration // until the pong was written and ReadMessage went on
	go func() {
		op, p, err := c.ReadMessage()
		waited = time.Since(start)
		if err == nil && (op != ws.OpText || string(p) != "after") {
			t.Errorf("ReadMessage = %v %q", op, p)
		}
		got <- err
	}()

	if _, err := io.CopyN(io.Discard, br, h.Length); err != nil {
		t.Fatalf("reading the large frame: %v", err)
	}
	if err := <-sent; err != nil {
		t.Fatalf("WriteMessage: %v", err)
	}
	h, err = ws.ReadHeader(br)
	if err != nil || h.OpCode != ws.OpPong {
		t.Fatalf("frame after the large message: %+v, %v (want the pong)", h, err)
	}
	if err := <-got; err != nil {
		t.Fatalf("ReadMessage failed after %v with the peer reading steadily: %v", waited, err)
	}
	if waited < 2*closeTimeout {
		t.Fatalf("the pong waited only %v behind the large message; the test needs several CloseTimeouts", waited)
	}
}
