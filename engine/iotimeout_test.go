package engine

import (
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// deadlineCounter counts the deadlines set on a network connection.
type deadlineCounter struct {
	net.Conn
	reads, writes atomic.Int32
}

func (d *deadlineCounter) SetDeadline(t time.Time) error {
	d.reads.Add(1)
	d.writes.Add(1)
	return d.Conn.SetDeadline(t)
}

func (d *deadlineCounter) SetReadDeadline(t time.Time) error {
	d.reads.Add(1)
	return d.Conn.SetReadDeadline(t)
}

func (d *deadlineCounter) SetWriteDeadline(t time.Time) error {
	d.writes.Add(1)
	return d.Conn.SetWriteDeadline(t)
}

func pairCounted(t *testing.T, cfg *Config) (*Conn, *rawServer, *deadlineCounter) {
	t.Helper()
	var dc *deadlineCounter
	c, s := pairWrap(t, cfg, func(nc net.Conn) net.Conn {
		dc = &deadlineCounter{Conn: nc}
		return dc
	})
	return c, s, dc
}

// recvTimeout runs Recv and checks that it timed out no sooner than min
// and well before max.
func recvTimeout(t *testing.T, c *Conn, min, max time.Duration) {
	t.Helper()
	start := time.Now()
	_, p, err := c.Recv()
	took := time.Since(start)
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Recv: %q, %v; want a timeout", p, err)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("Recv: %v does not report Timeout()", err)
	}
	if took < min || took > max {
		t.Fatalf("Recv timed out after %v, want between %v and %v", took, min, max)
	}
}

func TestIOTimeoutRecv(t *testing.T) {
	const d = 100 * time.Millisecond
	c, s := pair(t, &Config{IOTimeout: d})
	if c.IOTimeout() != d {
		t.Fatalf("IOTimeout() = %v", c.IOTimeout())
	}
	for range 2 { // re-armed per call
		recvTimeout(t, c, d, 20*d)
	}
	if !c.Connected() {
		t.Fatal("a receive timeout failed the connection")
	}
	// A message that stalls half-way: the call times out, the next one
	// continues the frame.
	f := frame(true, OpText, []byte("stalled message"))
	s.write(f[:7])
	recvTimeout(t, c, d, 20*d)
	s.write(f[7:])
	if _, p, err := c.Recv(); err != nil || string(p) != "stalled message" {
		t.Fatalf("Recv after the timeout: %q, %v", p, err)
	}
	// NextReader, its Read and RecvFrame are bounded too.
	if _, _, err := c.NextReader(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("NextReader: %v", err)
	}
	if _, err := c.RecvFrame(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("RecvFrame: %v", err)
	}
	s.write(frame(false, OpBinary, []byte("first")))
	_, rd, err := c.NextReader()
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	if n, err := rd.Read(buf); err != nil || string(buf[:n]) != "first" {
		t.Fatalf("Read: %q, %v", buf[:n], err)
	}
	if _, err := rd.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read of a stalled message: %v", err)
	}
}

// TestIOTimeoutUserDeadlines: an absolute deadline still wins when it is
// earlier than IOTimeout; a later one does not extend a call.
func TestIOTimeoutUserDeadlines(t *testing.T) {
	c, _ := pair(t, &Config{IOTimeout: 5 * time.Second})
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	recvTimeout(t, c, 40*time.Millisecond, 2*time.Second)
	recvTimeout(t, c, 0, time.Second) // still past

	c.SetIOTimeout(100 * time.Millisecond)
	c.SetReadDeadline(time.Now().Add(time.Hour))
	recvTimeout(t, c, 100*time.Millisecond, 2*time.Second)

	// Writes: a write deadline in the past fails a send at once.
	c.SetWriteDeadline(time.Now().Add(-time.Second))
	if err := c.Send(OpText, []byte("late")); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Send past the write deadline: %v", err)
	}
}

// TestSetIOTimeoutOff: turning IOTimeout off puts the user's deadlines
// back, so the deadline armed for the last call cannot fire on a later one.
func TestSetIOTimeoutOff(t *testing.T) {
	c, s := pair(t, &Config{IOTimeout: 50 * time.Millisecond})
	if err := c.Send(OpText, []byte("arms the write deadline")); err != nil {
		t.Fatal(err)
	}
	s.readMessage()
	recvTimeout(t, c, 50*time.Millisecond, 2*time.Second)
	c.SetIOTimeout(0)
	if c.IOTimeout() != 0 {
		t.Fatal(c.IOTimeout())
	}
	got := make(chan error, 1)
	go func() {
		_, p, err := c.Recv()
		if err == nil && string(p) != "later" {
			err = errors.New("got " + string(p))
		}
		got <- err
	}()
	time.Sleep(300 * time.Millisecond)
	if err := c.Send(OpText, []byte("after IOTimeout was turned off")); err != nil {
		t.Fatalf("Send: %v", err)
	}
	s.write(frame(true, OpText, []byte("later")))
	if err := <-got; err != nil {
		t.Fatalf("Recv: %v", err)
	}

	// With a user deadline set before: it is the one in force again.
	c.SetReadDeadline(time.Now().Add(time.Second))
	c.SetIOTimeout(30 * time.Millisecond)
	recvTimeout(t, c, 30*time.Millisecond, 700*time.Millisecond)
	c.SetIOTimeout(0)
	recvTimeout(t, c, 0, 3*time.Second)
}

// TestIOTimeoutAutoPongAfterQuiet: after a quiet spell longer than
// IOTimeout, the automatic pong is written under a fresh deadline, not the
// one armed for the last send (which has passed).
func TestIOTimeoutAutoPongAfterQuiet(t *testing.T) {
	c, s := pair(t, &Config{IOTimeout: 50 * time.Millisecond})
	if err := c.Send(OpText, []byte("hi")); err != nil {
		t.Fatal(err)
	}
	s.readMessage()
	time.Sleep(200 * time.Millisecond)
	s.write(frame(true, OpPing, []byte("p")), frame(true, OpText, []byte("data")))
	if _, p, err := c.Recv(); err != nil || string(p) != "data" {
		t.Fatalf("Recv: %q, %v", p, err)
	}
	h, p, err := s.readFrame()
	if err != nil || Opcode(h.OpCode) != OpPong || string(p) != "p" {
		t.Fatalf("server got %v %q, %v; want the pong", h.OpCode, p, err)
	}
	if err := c.Send(OpText, []byte("still fine")); err != nil || !c.Connected() {
		t.Fatalf("Send: %v, connected %v", err, c.Connected())
	}
}

// TestIOTimeoutWrite: a peer that stops reading makes a send time out
// after IOTimeout; the connection is then failed.
func TestIOTimeoutWrite(t *testing.T) {
	const d = 100 * time.Millisecond
	c, _ := pair(t, &Config{IOTimeout: d})
	msg := make([]byte, 1<<20)
	var err error
	var took time.Duration
	for i := 0; i < 200 && err == nil; i++ {
		start := time.Now()
		err = c.Send(OpBinary, msg)
		took = time.Since(start)
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Send to a peer that does not read: %v, want a timeout", err)
	}
	if took < d || took > 20*d {
		t.Fatalf("Send timed out after %v", took)
	}
	if c.Connected() {
		t.Fatal("Connected after a write timed out")
	}
}

// TestIOTimeoutPingAndClose: Ping and Close are bounded by it; Close by
// IOTimeout when it is shorter than CloseTimeout.
func TestIOTimeoutPingAndClose(t *testing.T) {
	const d = 100 * time.Millisecond
	c, _ := pair(t, &Config{IOTimeout: d, CloseTimeout: time.Minute, WriteBufferSize: 256})
	// Fill the socket buffers with queued pings until one blocks.
	var err error
	for i := 0; i < 1e6 && err == nil; i++ {
		err = c.Ping(make([]byte, 125))
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Ping to a peer that does not read: %v", err)
	}

	c, _ = pair(t, &Config{IOTimeout: d, CloseTimeout: time.Minute})
	start := time.Now()
	err = c.Close(1000, "")
	if took := time.Since(start); took < d || took > 20*d {
		t.Fatalf("Close to a peer that does not answer took %v", took)
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Close: %v", err)
	}
}

// TestIOTimeoutRearm: a busy connection does not set a deadline per call;
// IOTimeout 0 sets none.
func TestIOTimeoutRearm(t *testing.T) {
	for _, d := range []time.Duration{0, time.Minute} {
		c, s, dc := pairCounted(t, &Config{IOTimeout: d})
		go func() {
			for i := 0; i < 1000; i++ {
				s.write(frame(true, OpBinary, []byte("x")))
			}
		}()
		const n = 1000
		for range n {
			if err := c.Send(OpBinary, []byte("y")); err != nil {
				t.Fatal(err)
			}
			if _, _, err := c.Recv(); err != nil {
				t.Fatal(err)
			}
		}
		r, w := dc.reads.Load(), dc.writes.Load()
		if d == 0 && (r != 0 || w != 0) {
			t.Errorf("IOTimeout 0: %d read and %d write deadlines set, want none", r, w)
		}
		// Each re-arm is at least maxSlack after the previous one; allow
		// for a slow machine.
		if d != 0 && (r < 1 || w < 1 || r > n/10 || w > n/10) {
			t.Errorf("IOTimeout %v: %d read and %d write deadlines for %d calls each", d, r, w, n)
		}
	}
}

// TestIOTimeoutConcurrent changes IOTimeout and deadlines while another
// goroutine sends and receives (for -race), then checks that none of the
// deadlines armed meanwhile is left in force.
func TestIOTimeoutConcurrent(t *testing.T) {
	c, s := pair(t, &Config{IOTimeout: time.Millisecond})
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(3)
	go func() { // the server echoes until "bye"
		defer wg.Done()
		for {
			op, p, err := s.readMessage()
			if err != nil {
				t.Error(err)
				return
			}
			if string(p) == "bye" {
				return
			}
			s.write(frame(true, op, p))
		}
	}()
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				c.Send(OpText, []byte("bye"))
				return
			default:
			}
			if err := c.Send(OpBinary, []byte("ping-pong")); err != nil {
				t.Error(err)
				return
			}
			for {
				_, _, err := c.Recv()
				if err == nil {
					break
				}
				if !errors.Is(err, os.ErrDeadlineExceeded) {
					t.Error(err)
					return
				}
			}
		}
	}()
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			c.SetIOTimeout(time.Duration(i%3) * 20 * time.Millisecond)
			if i%7 == 0 {
				c.SetDeadline(time.Time{})
			}
			c.IOTimeout()
			time.Sleep(100 * time.Microsecond)
		}
	}()
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	c.SetIOTimeout(0)

	// No deadline is left: a receive waits until data comes.
	got := make(chan error, 1)
	go func() {
		_, _, err := c.Recv()
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("Recv returned %v with IOTimeout and deadlines off", err)
	case <-time.After(200 * time.Millisecond):
	}
	s.write(frame(true, OpText, []byte("end")))
	if err := <-got; err != nil {
		t.Fatal(err)
	}
}
