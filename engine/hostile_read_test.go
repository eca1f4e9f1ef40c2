package engine

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"runtime"
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
	go func() { sent <- c.Send(OpBinary, big) }()

	// The peer reads 32 KiB every 20 ms: about 0.65 s for the message, less
	// what the socket buffers hold, several times CloseTimeout.
	br := bufio.NewReaderSize(&slowReader{r: s.nc, n: 32 << 10, every: 20 * time.Millisecond}, 32<<10)
	h, err := ws.ReadHeader(br)
	if err != nil || Opcode(h.OpCode) != OpBinary || h.Length != int64(len(big)) {
		t.Fatalf("first client frame %+v, %v", h, err)
	}
	// The large frame is being written: now ping, then send a message.
	s.write(frame(true, OpPing, []byte("hi")), frame(true, OpText, []byte("after")))
	start := time.Now()
	got := make(chan error, 1)
	var waited time.Duration // until the pong was written and ReadMessage went on
	go func() {
		op, p, err := c.Recv()
		waited = time.Since(start)
		if err == nil && (op != OpText || string(p) != "after") {
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
	if err != nil || Opcode(h.OpCode) != OpPong {
		t.Fatalf("frame after the large message: %+v, %v (want the pong)", h, err)
	}
	if err := <-got; err != nil {
		t.Fatalf("ReadMessage failed after %v with the peer reading steadily: %v", waited, err)
	}
	if waited < 2*closeTimeout {
		t.Fatalf("the pong waited only %v behind the large message; the test needs several CloseTimeouts", waited)
	}
}

// deflated compresses p as a permessage-deflate sender does, with the tail
// the receiver appends.
func deflated(t *testing.T, p []byte) []byte {
	t.Helper()
	comp := newCompressor(&Deflate{ClientNoContextTakeover: true})
	defer comp.release()
	z, err := comp.compress(p)
	if err != nil {
		t.Fatal(err)
	}
	return append(bytes.Clone(z), tail...)
}

// allocated returns how many bytes f allocated.
func allocated(f func()) uint64 {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestHostileInflateMemory: a legitimate compressed message larger than the
// receive buffer is inflated within its own size plus a constant, not
// into buffers grown by doubling and copying (old and new alive at once,
// up to twice the limit). The connection keeps the buffer, and the next
// message of that size is inflated into it without allocating.
func TestHostileInflateMemory(t *testing.T) {
	const limit = 8 << 20
	msg := make([]byte, 5<<20)
	for i := range msg {
		msg[i] = byte(i>>10) ^ byte(i*7)>>5 // compressible, not trivial
	}
	in := deflated(t, msg)
	var d decompressor
	var out *buf
	var err error
	first := allocated(func() { out, err = d.inflate(in, nil, limit, false) })
	if err != nil || !bytes.Equal(out.b, msg) {
		t.Fatalf("inflate: %v, %d bytes (want %d, equal)", err, len(out.b), len(msg))
	}
	const slack = 3 << 19 // the first guess (1 MiB), scratch and inflater state
	if first > uint64(len(msg))+slack {
		t.Errorf("inflating %d bytes allocated %d, more than the message + %d", len(msg), first, slack)
	}
	again := allocated(func() { out, err = d.inflate(in, out, limit, false) })
	if err != nil || !bytes.Equal(out.b, msg) {
		t.Fatalf("second inflate: %v", err)
	}
	if again > 4<<10 {
		t.Errorf("inflating into the kept buffer allocated %d bytes", again)
	}
	putBuf(out)

	// Over the limit: fails having allocated no more than the first guess.
	var big *buf
	over := allocated(func() { big, err = d.inflate(in, nil, 1<<20, false) })
	if !errors.Is(err, ErrMessageTooBig) {
		t.Fatalf("inflate over the limit: %v", err)
	}
	putBuf(big)
	if over > 1<<20+slack {
		t.Errorf("failing a 5 MiB message against a 1 MiB limit allocated %d bytes", over)
	}
}
