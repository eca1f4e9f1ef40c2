package engine

import (
	"bufio"
	"errors"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// frameOrder checks the data frames a client sent against RFC 6455 §5.4:
// inside a fragmented message only continuation (and control) frames.
type frameOrder struct {
	t          *testing.T
	fragmented bool
	msgs       []int // sizes of the complete data messages seen
	cur        int
}

func (o *frameOrder) check(h ws.Header, p []byte) {
	o.t.Helper()
	if h.OpCode.IsControl() {
		return
	}
	switch {
	case Opcode(h.OpCode) == OpContinuation && !o.fragmented:
		o.t.Errorf("continuation frame (%d B) outside a fragmented message", len(p))
	case Opcode(h.OpCode) != OpContinuation && o.fragmented:
		o.t.Errorf("%v frame (%d B, fin %v) inside a fragmented message", h.OpCode, len(p), h.Fin)
	}
	o.cur += len(p)
	o.fragmented = !h.Fin
	if h.Fin {
		o.msgs = append(o.msgs, o.cur)
		o.cur = 0
	}
}

// waitWriter polls the writer's state until cond holds.
func waitWriter(t *testing.T, c *Conn, what string, cond func(w *writer) bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; {
		c.w.mu.Lock()
		ok := cond(&c.w)
		c.w.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestRaceLargeSendBeforeFragment pins one interleaving the stress test
// (TestRaceSendFraming in the root package) meets only now and then: a
// message too large for the write buffer is decided while queued frames
// are still pending; while those are being written, another goroutine opens
// a message writer and appends its first fragment. That fragment came after
// the large message and must be written after it, not between the queued
// frames and it (where the large message would land inside the fragmented
// one).
func TestRaceLargeSendBeforeFragment(t *testing.T) {
	cli, srv := net.Pipe() // writes block until the server reads: the gate
	defer srv.Close()
	c := New(cli, nil, &Config{WriteBufferSize: 4 << 10})
	defer c.Abort()

	if err := c.Queue(OpBinary, make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
	large := make([]byte, 10<<10)
	done := make(chan error, 2)
	go func() { done <- c.Send(OpBinary, large) }()
	// The large sender now writes the queued frame (blocked: nobody reads).
	waitWriter(t, c, "the large sender writes", func(w *writer) bool { return w.writing })

	mw, err := c.NextWriter(OpBinary, 100)
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		_, err := mw.Write(make([]byte, 250))
		if err == nil {
			err = mw.Close()
		}
		done <- err
	}()
	waitWriter(t, c, "the first fragment is pending", func(w *writer) bool { return w.pend != nil && len(w.pend.b) > 0 })

	o := &frameOrder{t: t}
	s := &rawServer{t: t, nc: srv, br: bufio.NewReader(srv)}
	for len(o.msgs) < 3 {
		h, p, err := s.readFrame()
		if err != nil {
			t.Fatal(err)
		}
		o.check(h, p)
	}
	for range 2 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if want := []int{10, len(large), 250}; !slices.Equal(o.msgs, want) {
		t.Errorf("messages in order of sizes %v, want %v", o.msgs, want)
	}
}

// TestRaceRawFragmentsAndSend checks that a fragmented message sent frame
// by frame with SendFrame holds other data messages back until its final
// frame, small and large ones alike, while control frames pass.
func TestRaceRawFragmentsAndSend(t *testing.T) {
	c, s := pair(t, &Config{WriteBufferSize: 4 << 10})
	if err := c.SendFrame(OpText, []byte("first "), false); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 3)
	go func() { done <- c.Send(OpBinary, make([]byte, 10)) }()
	go func() { done <- c.Send(OpBinary, make([]byte, 9000)) }()
	go func() {
		err := c.Queue(OpBinary, make([]byte, 20))
		if err == nil {
			err = c.Flush()
		}
		done <- err
	}()
	// Let them reach the wait. If one is late, it goes after the message:
	// the test can miss the bug then, but cannot fail because of it.
	time.Sleep(20 * time.Millisecond)
	if err := c.Ping([]byte("p")); err != nil {
		t.Fatal(err)
	}
	if err := c.SendFrame(OpContinuation, []byte("second "), false); err != nil {
		t.Fatal(err)
	}
	if err := c.SendFrame(OpContinuation, []byte("last"), true); err != nil {
		t.Fatal(err)
	}
	o := &frameOrder{t: t}
	for len(o.msgs) < 4 {
		h, p, err := s.readFrame()
		if err != nil {
			t.Fatal(err)
		}
		o.check(h, p)
	}
	for range 3 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if o.msgs[0] != len("first second last") {
		t.Errorf("first message %d B, want the raw fragmented one", o.msgs[0])
	}
}

// TestRaceRawFrameErrors checks the SendFrame calls that would break the
// fragmented message they are part of: they fail and send nothing.
func TestRaceRawFrameErrors(t *testing.T) {
	c, s := pair(t, nil)
	if err := c.SendFrame(OpContinuation, []byte("x"), true); !errors.Is(err, ws.ErrProtocolContinuationUnexpected) {
		t.Errorf("bare continuation: %v, want ErrProtocolContinuationUnexpected", err)
	}
	mw, err := c.NextWriter(OpText, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SendFrame(OpContinuation, []byte("x"), true); !errors.Is(err, ws.ErrProtocolContinuationUnexpected) {
		t.Errorf("continuation into a message writer's message: %v, want ErrProtocolContinuationUnexpected", err)
	}
	if _, err := mw.Write([]byte("mw")); err != nil {
		t.Fatal(err)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.SendFrame(OpBinary, []byte("a"), false); err != nil {
		t.Fatal(err)
	}
	if err := c.SendFrame(OpText, []byte("b"), true); !errors.Is(err, ws.ErrProtocolContinuationExpected) {
		t.Errorf("new message inside a raw fragmented one: %v, want ErrProtocolContinuationExpected", err)
	}
	if err := c.SendFrame(OpContinuation, []byte("c"), true); err != nil {
		t.Fatal(err)
	}
	o := &frameOrder{t: t}
	for len(o.msgs) < 2 {
		h, p, err := s.readFrame()
		if err != nil {
			t.Fatal(err)
		}
		o.check(h, p)
	}
	if !slices.Equal(o.msgs, []int{2, 2}) {
		t.Errorf("messages of sizes %v, want [2 2] (the refused frames sent nothing)", o.msgs)
	}
}
