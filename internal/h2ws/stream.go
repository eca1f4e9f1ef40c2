package h2ws

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/net/http2"
)

// Closing a stream (in the background, after Close returned):
//
//   - resetWait: first let a reset the server may be sending arrive. A
//     server that has sent its whole response may follow it with
//     RST_STREAM NO_ERROR (RFC 9113 §8.1), and libwebsockets does after its
//     close frame; a frame of ours crossing it is "data for a nonexistent
//     stream" there, which fails the whole connection (GOAWAY).
//   - then END_STREAM, and closeGrace for the server to end its side too;
//   - then RST_STREAM CANCEL if it has not.
const (
	resetWait  = 50 * time.Millisecond
	closeGrace = 250 * time.Millisecond
)

// Stream is a WebSocket's HTTP/2 stream as a net.Conn: Read takes the
// response body's DATA, Write sends request body DATA. Both honour
// deadlines, and a read that times out leaves the stream usable. Close
// closes this stream only (END_STREAM, then RST_STREAM if the server has
// not ended its side soon after); the connection stays for the other
// streams. When the connection dies, every stream's reads and writes fail
// with ErrConnLost.
//
// Flow control is x/net's: the stream's receive window (4 MiB) is given
// back as Read consumes, the connection's (1 GiB) likewise, so a large
// message streams through without stalling and without being buffered
// whole; Write copies into a send buffer that x/net drains as the
// server's window allows, so small messages written meanwhile share DATA
// frames.
type Stream struct {
	pc     *pconn // nil in tests of the stream alone
	body   io.ReadCloser
	pipe   *bodyPipe
	cancel context.CancelFunc
	addr   string // for errors

	rmu   sync.Mutex    // one reader at a time
	ready chan struct{} // pump → reader: Read will not block (cap 1)
	arm   chan struct{} // reader → pump: wait again (cap 1)
	rerr  error         // sticky read error (rmu)
	rdl   deadline
	wdl   deadline

	closeOnce sync.Once
	closed    chan struct{}
	pumpDone  chan struct{}
	finished  chan struct{} // the stream is gone from the connection
	local     net.Addr
	remote    net.Addr
}

func newStream(pc *pconn, body io.ReadCloser, pipe *bodyPipe, cancel context.CancelFunc, nc net.Conn, addr string) *Stream {
	s := &Stream{
		pc: pc, body: body, pipe: pipe, cancel: cancel, addr: addr,
		ready: make(chan struct{}, 1), arm: make(chan struct{}, 1),
		rdl: makeDeadline(), wdl: makeDeadline(),
		closed: make(chan struct{}), pumpDone: make(chan struct{}), finished: make(chan struct{}),
		local: nc.LocalAddr(), remote: nc.RemoteAddr(),
	}
	go s.pump()
	return s
}

// pump waits until the response body can be read without blocking (a
// zero-length read of x/net's body returns once data or the end is there)
// and tells Read. It holds no buffer, so an idle stream costs a parked
// goroutine and nothing else; Read does the reading into the caller's
// buffer, one copy, as a direct body read would.
func (s *Stream) pump() {
	defer close(s.pumpDone)
	for {
		_, err := s.body.Read(nil)
		s.ready <- struct{}{}
		if err != nil {
			return
		}
		select {
		case <-s.arm:
		case <-s.closed:
			return
		}
	}
}

// Read reads DATA of the stream. It returns io.EOF when the server ended
// the stream, an error wrapping ErrStreamReset or ErrConnLost when it was
// reset or the connection failed, os.ErrDeadlineExceeded after the read
// deadline (the stream stays usable) and net.ErrClosed after Close.
func (s *Stream) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	s.rmu.Lock()
	defer s.rmu.Unlock()
	for {
		if s.rerr != nil {
			return 0, s.rerr
		}
		select {
		case <-s.ready:
		case <-s.closed:
			return 0, net.ErrClosed
		case <-s.rdl.wait():
			return 0, os.ErrDeadlineExceeded
		}
		n, err := s.body.Read(p)
		if err != nil {
			s.rerr = s.classify(err)
			if n > 0 {
				return n, nil
			}
			return 0, s.rerr
		}
		s.arm <- struct{}{}
		if n > 0 {
			return n, nil
		}
	}
}

// classify turns x/net's stream errors into this package's.
func (s *Stream) classify(err error) error {
	var se http2.StreamError
	var ga http2.GoAwayError
	select {
	case <-s.closed:
		return net.ErrClosed
	default:
	}
	switch {
	case err == io.EOF:
		return io.EOF
	case errors.As(err, &se):
		return fmt.Errorf("%w (%s): %w", ErrStreamReset, s.addr, err)
	case errors.As(err, &ga):
		return fmt.Errorf("%w (%s, after GOAWAY): %w", ErrConnLost, s.addr, err)
	}
	return fmt.Errorf("%w (%s): %w", ErrConnLost, s.addr, err)
}

// Write sends p as DATA: it copies p into the stream's send buffer (64
// KiB, like a socket's) and returns, waiting for room when x/net has not
// sent the earlier bytes yet (flow control); p may be reused at once. After
// the write deadline it returns os.ErrDeadlineExceeded with what was taken
// (the stream may then have half a WebSocket frame out: close it).
func (s *Stream) Write(p []byte) (int, error) {
	n, err := s.pipe.write(p, &s.wdl, s.closed)
	if err == errReaderGone {
		err = s.writeErr()
	}
	return n, err
}

// writeErr says why x/net stopped taking the request body: the stream or
// the connection failed (our Close stops writes with net.ErrClosed
// earlier).
func (s *Stream) writeErr() error {
	s.rmu.Lock()
	rerr := s.rerr
	s.rmu.Unlock()
	if rerr != nil && rerr != io.EOF {
		return rerr
	}
	if s.pc != nil {
		st := s.pc.cc.State()
		switch {
		case st.Closed:
			return fmt.Errorf("%w (%s)", ErrConnLost, s.addr)
		case st.Closing:
			return fmt.Errorf("%w (%s, after GOAWAY)", ErrConnLost, s.addr)
		}
	}
	return fmt.Errorf("%w (%s)", ErrStreamReset, s.addr)
}

// Close ends the stream: reads and writes in progress return
// net.ErrClosed at once, and the stream is ended in the background
// (END_STREAM, then RST_STREAM if the server does not end its side; see
// resetWait). It never blocks.
func (s *Stream) Close() error {
	s.closeOnce.Do(func() {
		close(s.closed)
		go s.finish()
	})
	return nil
}

func (s *Stream) finish() {
	defer close(s.finished)
	t := time.NewTimer(resetWait)
	select {
	case <-s.pipe.rclosed: // the server reset the stream, or it failed
	case <-t.C:
	}
	s.pipe.closeWrite()
	t.Reset(closeGrace)
	select {
	case <-s.pipe.rclosed: // x/net is done with the stream: both sides ended
	case <-t.C:
	}
	t.Stop()
	s.body.Close() // RST_STREAM (CANCEL) unless the stream is over
	s.cancel()
	<-s.pumpDone
	if s.pc != nil {
		s.pc.release()
	}
}

// Done is closed once a closed stream is gone from its connection.
func (s *Stream) Done() <-chan struct{} { return s.finished }

func (s *Stream) LocalAddr() net.Addr  { return s.local }
func (s *Stream) RemoteAddr() net.Addr { return s.remote }

func (s *Stream) SetDeadline(t time.Time) error {
	s.rdl.set(t)
	s.wdl.set(t)
	return nil
}

func (s *Stream) SetReadDeadline(t time.Time) error  { s.rdl.set(t); return nil }
func (s *Stream) SetWriteDeadline(t time.Time) error { s.wdl.set(t); return nil }

// errReaderGone: x/net closed the request body (the stream ended).
var errReaderGone = errors.New("wsclient: HTTP/2 request body closed")

// sendBufSize is how much a stream takes from writers before x/net sends
// it: like a socket's send buffer, it lets Write return while x/net frames
// and writes, and lets the small messages written meanwhile go out in one
// DATA frame (x/net writes and flushes each body read as a frame).
const sendBufSize = 64 << 10

// sendBufs holds the buffers of streams with unsent data: an idle stream
// holds none.
var sendBufs = sync.Pool{New: func() any { return new([sendBufSize]byte) }}

// bodyPipe is the request body: writers copy into a buffer (taken from
// sendBufs while it holds data) and x/net reads it from the stream's own
// goroutine, at most a frame (16 KiB: see sendFrameSize) at a time, and
// sends each read as DATA once the windows allow. A write waits for room,
// within its deadline; a buffer that x/net cannot send (no window) fills
// and then stalls writers.
type bodyPipe struct {
	wmu     sync.Mutex // one writer at a time
	mu      sync.Mutex // buf, r, w
	buf     *[sendBufSize]byte
	r, w    int           // unsent bytes are buf[r:w]
	cut     int           // > r: a close frame starts there (see put)
	data    chan struct{} // writer → x/net: there are bytes (cap 1)
	room    chan struct{} // x/net → writer: bytes were taken (cap 1)
	wclosed chan struct{} // closeWrite: x/net reads io.EOF (END_STREAM) after the rest
	rclosed chan struct{} // x/net closed the body
	wonce   sync.Once
	ronce   sync.Once
}

func newBodyPipe() *bodyPipe {
	return &bodyPipe{
		data: make(chan struct{}, 1), room: make(chan struct{}, 1),
		wclosed: make(chan struct{}), rclosed: make(chan struct{}),
	}
}

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// take copies unsent bytes into b; the buffer goes back to the pool once
// empty.
func (p *bodyPipe) take(b []byte) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.w == p.r {
		return 0
	}
	end := p.w
	if p.cut > p.r {
		end = p.cut
	}
	n := copy(b, p.buf[p.r:end])
	p.r += n
	if p.r == p.w {
		sendBufs.Put(p.buf)
		p.buf, p.r, p.w, p.cut = nil, 0, 0, 0
	}
	return n
}

// Read is x/net's side.
func (p *bodyPipe) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	for {
		if n := p.take(b); n > 0 {
			signal(p.room)
			return n, nil
		}
		select {
		case <-p.data:
		case <-p.wclosed:
			if n := p.take(b); n > 0 {
				return n, nil
			}
			return 0, io.EOF
		case <-p.rclosed:
			return 0, io.ErrClosedPipe
		}
	}
}

// Close is x/net's side: the stream is over; unsent bytes are dropped.
func (p *bodyPipe) Close() error {
	p.ronce.Do(func() { close(p.rclosed) })
	p.mu.Lock()
	if p.buf != nil {
		sendBufs.Put(p.buf)
		p.buf, p.r, p.w, p.cut = nil, 0, 0, 0
	}
	p.mu.Unlock()
	return nil
}

func (p *bodyPipe) closeWrite() {
	p.wonce.Do(func() { close(p.wclosed) })
}

// put copies what fits of b into the buffer. first is set for the start
// of a Write: one that begins with a close frame (FIN, opcode 8) is not
// joined to the bytes before it in a DATA frame. libwebsockets drops the
// messages it has not answered yet when their close frame came in the same
// read (over HTTP/1.1, TLS records keep writes apart); the cost is one more
// frame, also when payload bytes happen to start a write with 0x88.
func (p *bodyPipe) put(b []byte, first bool) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.rclosed:
		return 0, errReaderGone
	default:
	}
	if p.buf == nil {
		p.buf = sendBufs.Get().(*[sendBufSize]byte)
	}
	if p.w == len(p.buf) && p.r > 0 {
		p.cut = max(0, p.cut-p.r)
		p.w = copy(p.buf[:], p.buf[p.r:p.w])
		p.r = 0
	}
	if first && len(b) > 0 && b[0] == 0x88 && p.w > p.r {
		p.cut = p.w
	}
	n := copy(p.buf[p.w:], b)
	p.w += n
	return n, nil
}

// write copies b into the stream's buffer, waiting for room as needed;
// done (the stream's Close) stops it.
func (p *bodyPipe) write(b []byte, dl *deadline, done <-chan struct{}) (n int, err error) {
	p.wmu.Lock()
	defer p.wmu.Unlock()
	for len(b) > 0 {
		select {
		case <-done:
			return n, net.ErrClosed
		default:
		}
		k, err := p.put(b, n == 0)
		if err != nil {
			return n, err
		}
		if k > 0 {
			signal(p.data)
			b = b[k:]
			n += k
			continue
		}
		select {
		case <-p.room:
		case <-done:
			return n, net.ErrClosed
		case <-p.rclosed:
			return n, errReaderGone
		case <-dl.wait():
			return n, os.ErrDeadlineExceeded
		}
	}
	return n, nil
}

// deadline is a settable deadline whose channel is closed once it passed.
// One timer is kept and reset, so moving a deadline allocates nothing; a
// new channel is made only after one expired.
type deadline struct {
	mu    sync.Mutex
	t     time.Time
	timer *time.Timer
	c     chan struct{}
}

func makeDeadline() deadline { return deadline{c: make(chan struct{})} }

func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.t = t
	if d.timer != nil {
		d.timer.Stop()
	}
	passed := isClosed(d.c)
	if t.IsZero() {
		if passed {
			d.c = make(chan struct{})
		}
		return
	}
	dur := time.Until(t)
	if dur <= 0 {
		if !passed {
			close(d.c)
		}
		return
	}
	if passed {
		d.c = make(chan struct{})
	}
	if d.timer == nil {
		d.timer = time.AfterFunc(dur, d.fire)
	} else {
		d.timer.Reset(dur)
	}
}

// fire runs on the timer; a stale run (the deadline moved later since) does
// nothing.
func (d *deadline) fire() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.t.IsZero() && !time.Now().Before(d.t) && !isClosed(d.c) {
		close(d.c)
	}
}

func (d *deadline) wait() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.c
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
