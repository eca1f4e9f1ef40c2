package h2ws

import (
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"

	"github.com/wsclient/wsclient/codec"
)

// Closing a stream (in the background, after Close returned): what is
// still in the send buffer goes first (closeGrace at most); then
//
//   - if the server has ended its side (servers do with their close frame,
//     so after a completed close handshake it has), RST_STREAM CANCEL and
//     nothing else. A server that has sent its whole response may
//     reset the stream itself (RST_STREAM NO_ERROR, RFC 9113 §8.1), and
//     libwebsockets does right after its close frame; DATA of ours crossing
//     that reset, even an empty END_STREAM, is "data for a nonexistent
//     sid" there, which fails the whole connection (GOAWAY), while a
//     RST_STREAM crossing it is ignored. No wait makes END_STREAM safe: the
//     reset may be any time behind;
//   - else END_STREAM, closeGrace for the server to end its side too, and
//     RST_STREAM CANCEL if it has not.
const closeGrace = 250 * time.Millisecond

// Stream is a WebSocket's HTTP/2 stream as a net.Conn: Read takes the
// server's DATA, Write sends DATA. Both honour deadlines, and a read that
// times out leaves the stream usable. Close closes this stream only (see
// closeGrace); the connection stays for the other streams. When the
// connection dies, every stream's reads and writes fail with ErrConnLost.
//
// A stream has no goroutine of its own: the connection's read loop files
// DATA into the stream's receive buffer (pooled 16 KiB chunks, held only
// while unread, at most the 4 MiB window), and Write frames the caller's
// bytes itself. The windows are given back as Read consumes, so a large
// message streams through without stalling and without being buffered
// whole. When the server's window is short, Write copies what it cannot
// send into a 64 KiB send buffer, as a socket would, and returns; a
// goroutine sends it as the window opens, and only while there is some.
type Stream struct {
	c  *pconn
	id uint32

	rwake  chan struct{} // cap 1: data, end, failure or response headers arrived
	rmu    sync.Mutex    // one reader at a time
	wmu    sync.Mutex    // one writer at a time
	closed atomic.Bool   // Close was called

	mu      sync.Mutex              // below
	resp    *http2.MetaHeadersFrame // the answer, until the dial took it
	open    bool                    // the server answered (2xx or not)
	rbuf    recvBuf
	recvWin int64 // what the server may still send (the read loop checks)
	owed    int64 // bytes read but not yet given back
	rend    bool  // the server ended its side (END_STREAM)
	sentEnd bool  // we ended ours
	err     error // the stream failed: reset, or the connection
	isGone  bool  // no longer on the connection
	ended   bool  // finish is over
	doneCh  chan struct{}

	sendWin int64 // the server's window for this stream (c.mu)
	backlog atomic.Pointer[sendBuf]

	dl atomic.Pointer[deadlines] // made by the first Set*Deadline
}

// deadlines are a stream's read and write deadlines.
type deadlines struct{ r, w deadline }

// deadlines returns the stream's deadlines, made on first use.
func (s *Stream) deadlines() *deadlines {
	if d := s.dl.Load(); d != nil {
		return d
	}
	s.dl.CompareAndSwap(nil, new(deadlines))
	return s.dl.Load()
}

// readDeadline and writeDeadline are closed once the deadline passed; nil
// (never ready) when none was ever set.
func (s *Stream) readDeadline() <-chan struct{} {
	if d := s.dl.Load(); d != nil {
		return d.r.wait()
	}
	return nil
}

func (s *Stream) writeDeadline() <-chan struct{} {
	if d := s.dl.Load(); d != nil {
		return d.w.wait()
	}
	return nil
}

func newStream(c *pconn) *Stream {
	return &Stream{c: c, rwake: make(chan struct{}, 1), recvWin: streamWindow}
}

// addr names the server in errors.
func (s *Stream) addr() string { return s.c.key.Addr }

func signal(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// onHeaders takes the server's HEADERS (read loop).
func (s *Stream) onHeaders(f *http2.MetaHeadersFrame) {
	s.mu.Lock()
	switch {
	case f.Truncated:
		s.err = fmt.Errorf("%w: %w: HTTP/2 response headers from %s are over %d bytes", codec.ErrBadHandshake, codec.ErrHeaderTooLarge, s.addr(), codec.MaxHeaderBytes)
	case s.resp == nil:
		if st := f.PseudoValue("status"); len(st) == 3 && st[0] == '1' {
			s.mu.Unlock()
			return // informational (1xx): the answer follows
		}
		s.resp, s.open = f, true
	}
	if f.StreamEnded() {
		s.rend = true
	}
	truncated := f.Truncated
	s.mu.Unlock()
	signal(s.rwake)
	if truncated {
		s.c.reset(s, http2.ErrCodeCancel)
	} else if f.StreamEnded() {
		s.endedBoth()
	}
}

// onData files a DATA frame's payload (read loop); it returns how many
// bytes of the frame's length the reader will give back.
func (s *Stream) onData(f *http2.DataFrame) (int, error) {
	p := f.Data()
	s.mu.Lock()
	if int64(f.Length) > s.recvWin {
		s.mu.Unlock()
		return 0, fmt.Errorf("%w (%s): the server sent beyond the stream's window", ErrStreamReset, s.addr())
	}
	s.recvWin -= int64(f.Length)
	took := 0
	if !s.closed.Load() && s.err == nil && s.open {
		s.rbuf.write(p)
		took = len(p)
	}
	if f.StreamEnded() {
		s.rend = true
	}
	s.mu.Unlock()
	signal(s.rwake)
	if f.StreamEnded() {
		s.endedBoth()
	}
	return took, nil
}

// endedBoth forgets the stream once both sides ended it.
func (s *Stream) endedBoth() {
	s.mu.Lock()
	both := s.rend && s.sentEnd
	s.mu.Unlock()
	if both {
		s.c.forget(s)
	}
}

// fail ends the stream with err (the first failure wins).
func (s *Stream) fail(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
	s.wake()
}

// gone is called once the connection forgot the stream.
func (s *Stream) gone() {
	s.mu.Lock()
	s.isGone = true
	if s.err == nil && !(s.rend && s.sentEnd) {
		s.err = fmt.Errorf("%w (%s)", ErrStreamReset, s.addr())
	}
	s.mu.Unlock()
	s.wake()
}

// wake wakes everything that may wait on the stream.
func (s *Stream) wake() {
	signal(s.rwake)
	if b := s.backlog.Load(); b != nil {
		signal(b.room)
		signal(b.window)
	}
}

// windowOpened is called when the server's window for the stream grew.
func (s *Stream) windowOpened() {
	if b := s.backlog.Load(); b != nil {
		signal(b.window)
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
	if s.closed.Load() {
		return 0, net.ErrClosed
	}
	s.rmu.Lock()
	defer s.rmu.Unlock()
	for {
		if s.closed.Load() {
			return 0, net.ErrClosed
		}
		s.mu.Lock()
		if s.rbuf.n > 0 {
			n := s.rbuf.read(p)
			s.owed += int64(n)
			give := int64(0)
			if s.owed >= streamWindow/4 && !s.rend {
				give, s.owed = s.owed, 0
				s.recvWin += give
			}
			s.mu.Unlock()
			s.c.consumed(n)
			if give > 0 {
				s.c.write(func() error { return s.c.fr.WriteWindowUpdate(s.id, uint32(give)) })
			}
			return n, nil
		}
		err := s.err
		if err == nil && s.rend {
			err = io.EOF
		}
		s.mu.Unlock()
		if err != nil {
			return 0, err
		}
		select {
		case <-s.rwake:
		case <-s.readDeadline():
			return 0, os.ErrDeadlineExceeded
		}
	}
}

// Write sends p as DATA. What the windows allow is framed and written at
// once; the rest is copied into the stream's send buffer (64 KiB, like a
// socket's) and sent as the server opens the window, so Write returns
// without waiting a round trip; it waits only while that buffer is full.
// After the write deadline it returns os.ErrDeadlineExceeded with what was
// taken (the stream may then have half a WebSocket frame out: close it).
func (s *Stream) Write(p []byte) (int, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	n := 0
	for len(p) > 0 {
		if err := s.writeErr(); err != nil {
			return n, err
		}
		b := s.backlog.Load()
		if b == nil || b.empty() {
			if k := s.c.reserve(s, len(p)); k > 0 {
				if err := s.c.writeData(s.id, p[:k], false); err != nil {
					return n, err
				}
				p, n = p[k:], n+k
				continue
			}
		}
		if b == nil {
			b = newSendBuf()
			s.backlog.Store(b)
		}
		k := b.put(s, p, n == 0)
		p, n = p[k:], n+k
		if len(p) == 0 {
			break
		}
		select {
		case <-b.room:
		case <-s.writeDeadline():
			return n, os.ErrDeadlineExceeded
		}
	}
	return n, nil
}

// writeErr says why the stream takes no more writes, if it does not.
func (s *Stream) writeErr() error {
	if s.closed.Load() {
		return net.ErrClosed
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	if s.isGone {
		return fmt.Errorf("%w (%s)", ErrStreamReset, s.addr())
	}
	return nil
}

// Close ends the stream: reads and writes in progress return
// net.ErrClosed at once, and the stream is ended in the background (what
// the send buffer holds, then RST_STREAM if the server has ended its side,
// else END_STREAM and RST_STREAM if the server does not end its side soon;
// see closeGrace). It never blocks.
func (s *Stream) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.wake()
	go s.finish()
	return nil
}

func (s *Stream) finish() {
	s.rmu.Lock() // a Read in progress has returned: rwake is ours
	defer s.rmu.Unlock()
	s.waitUntil(closeGrace, func() bool { // the send buffer drains
		if b := s.backlog.Load(); b != nil && !b.empty() { // b.mu is never taken under s.mu
			return s.sendDead()
		}
		return true
	})
	s.mu.Lock()
	end := !s.isGone && s.err == nil && !s.sentEnd && !s.rend
	if end {
		s.sentEnd = true
	}
	s.mu.Unlock()
	if end && s.c.writeData(s.id, nil, true) == nil {
		s.waitUntil(closeGrace, s.goneNow)
	}
	s.c.reset(s, http2.ErrCodeCancel) // only sends RST_STREAM if still open
	s.mu.Lock()
	s.rbuf.free()
	s.mu.Unlock()
	if b := s.backlog.Load(); b != nil {
		b.free()
	}
	s.mu.Lock()
	s.ended = true
	if s.doneCh != nil {
		close(s.doneCh)
	}
	s.mu.Unlock()
}

// Done is closed once a closed stream is gone from its connection. The
// channel is made on the first call (most streams are never asked).
func (s *Stream) Done() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.doneCh == nil {
		s.doneCh = make(chan struct{})
		if s.ended {
			close(s.doneCh)
		}
	}
	return s.doneCh
}

// goneNow reports whether the connection forgot the stream.
func (s *Stream) goneNow() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.isGone
}

// waitUntil waits at most d for cond to hold (see wait).
func (s *Stream) waitUntil(d time.Duration, cond func() bool) {
	t := time.NewTimer(d)
	defer t.Stop()
	wait(s, cond, t.C)
}

// wait checks cond (which takes the locks it needs) each time the read
// loop wakes the stream, until it holds or stop is ready, and reports
// whether it held. Used where no Read runs: the dial and Close.
func wait[T any](s *Stream, cond func() bool, stop <-chan T) bool {
	for !cond() {
		select {
		case <-s.rwake:
		case <-stop:
			return cond()
		}
	}
	return true
}

// response waits for the server's answer to the extended CONNECT, or for
// done (the dial's context): then it returns nil, nil.
func (s *Stream) response(done <-chan struct{}) (*http2.MetaHeadersFrame, error) {
	var resp *http2.MetaHeadersFrame
	var err error
	wait(s, func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		resp, err = s.resp, s.err
		s.resp = nil
		return resp != nil || err != nil
	}, done)
	return resp, err
}

func (s *Stream) LocalAddr() net.Addr  { return s.c.nc.LocalAddr() }
func (s *Stream) RemoteAddr() net.Addr { return s.c.nc.RemoteAddr() }

func (s *Stream) SetDeadline(t time.Time) error {
	d := s.deadlines()
	d.r.set(t)
	d.w.set(t)
	return nil
}

func (s *Stream) SetReadDeadline(t time.Time) error  { s.deadlines().r.set(t); return nil }
func (s *Stream) SetWriteDeadline(t time.Time) error { s.deadlines().w.set(t); return nil }

// recvBuf holds a stream's unread DATA in pooled chunks: an idle stream
// holds none.
type recvBuf struct {
	chunks []*chunk
	n      int // unread bytes
}

const chunkSize = 16 << 10

type chunk struct {
	b    [chunkSize]byte
	r, w int
}

var chunks = sync.Pool{New: func() any { return new(chunk) }}

func (b *recvBuf) write(p []byte) {
	b.n += len(p)
	for len(p) > 0 {
		if len(b.chunks) == 0 || b.chunks[len(b.chunks)-1].w == chunkSize {
			b.chunks = append(b.chunks, chunks.Get().(*chunk))
		}
		c := b.chunks[len(b.chunks)-1]
		k := copy(c.b[c.w:], p)
		c.w += k
		p = p[k:]
	}
}

func (b *recvBuf) read(p []byte) int {
	n := 0
	for n < len(p) && len(b.chunks) > 0 {
		c := b.chunks[0]
		k := copy(p[n:], c.b[c.r:c.w])
		c.r += k
		n += k
		if c.r == c.w {
			c.r, c.w = 0, 0
			chunks.Put(c)
			copy(b.chunks, b.chunks[1:])
			b.chunks[len(b.chunks)-1] = nil
			b.chunks = b.chunks[:len(b.chunks)-1]
		}
	}
	b.n -= n
	return n
}

func (b *recvBuf) free() {
	for _, c := range b.chunks {
		c.r, c.w = 0, 0
		chunks.Put(c)
	}
	b.chunks, b.n = nil, 0
}

// sendBufSize is how much a stream takes from writers beyond the server's
// window: like a socket's send buffer, it lets Write return while the
// window is short, and lets the small messages written meanwhile go out in
// one DATA frame.
const sendBufSize = 64 << 10

// sendBufs holds the buffers of streams with unsent data: a stream holds
// one only while it has some.
var sendBufs = sync.Pool{New: func() any { return new([sendBufSize]byte) }}

// sendBuf is a stream's send buffer, made the first time the window was
// short. A goroutine (drain) sends its bytes as the window opens, and
// exits once it is empty.
type sendBuf struct {
	mu       sync.Mutex // below; held while drain writes
	buf      *[sendBufSize]byte
	r, w     int           // unsent bytes are buf[r:w]
	cut      int           // > r: a close frame starts there (see put)
	draining bool          // a drain goroutine runs
	room     chan struct{} // drain → writer: bytes were sent (cap 1)
	window   chan struct{} // read loop → drain: the window grew (cap 1)
}

func newSendBuf() *sendBuf {
	return &sendBuf{room: make(chan struct{}, 1), window: make(chan struct{}, 1)}
}

func (b *sendBuf) empty() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.r == b.w
}

// put copies what fits of p into the buffer and makes sure a drain runs.
// first is set for the start of a Write: one that begins with a close
// frame (FIN, opcode 8) is not joined to the bytes before it in a DATA
// frame. libwebsockets drops the messages it has not answered yet when
// their close frame came in the same read (over HTTP/1.1, TLS records keep
// writes apart); the cost is one more frame, also when payload bytes
// happen to start a write with 0x88.
func (b *sendBuf) put(s *Stream, p []byte, first bool) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.buf == nil {
		b.buf = sendBufs.Get().(*[sendBufSize]byte)
	}
	if b.w == len(b.buf) && b.r > 0 {
		b.cut = max(0, b.cut-b.r)
		b.w = copy(b.buf[:], b.buf[b.r:b.w])
		b.r = 0
	}
	if first && len(p) > 0 && p[0] == 0x88 && b.w > b.r {
		b.cut = b.w
	}
	n := copy(b.buf[b.w:], p)
	b.w += n
	if n > 0 && !b.draining {
		b.draining = true
		go b.drain(s)
	}
	return n
}

// drain sends the buffer's bytes as the windows allow, then exits.
func (b *sendBuf) drain(s *Stream) {
	for {
		b.mu.Lock()
		if b.r == b.w || s.sendDead() {
			b.draining = false
			b.release()
			b.mu.Unlock()
			signal(b.room)
			signal(s.rwake) // finish waits for the buffer to drain
			return
		}
		end := b.w
		if b.cut > b.r {
			end = b.cut
		}
		k := s.c.reserve(s, end-b.r)
		if k > 0 {
			err := s.c.writeData(s.id, b.buf[b.r:b.r+k], false)
			b.r += k
			if b.cut <= b.r {
				b.cut = 0
			}
			if err != nil {
				b.r = b.w
			}
			b.mu.Unlock()
			signal(b.room)
			continue
		}
		b.mu.Unlock()
		<-b.window
	}
}

// sendDead: the stream can send nothing any more.
func (s *Stream) sendDead() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err != nil || s.isGone || s.sentEnd
}

// release returns an empty buffer to the pool (b.mu held).
func (b *sendBuf) release() {
	if b.buf != nil {
		sendBufs.Put(b.buf)
		b.buf, b.r, b.w, b.cut = nil, 0, 0, 0
	}
}

func (b *sendBuf) free() {
	b.mu.Lock()
	if !b.draining {
		b.release()
	}
	b.mu.Unlock()
}

// deadline is a settable deadline whose channel is closed once it passed.
// One timer is kept and reset, so moving a deadline allocates nothing; a
// new channel is made only after one expired. A deadline never set has
// no channel (wait returns nil, which blocks forever).
type deadline struct {
	mu    sync.Mutex
	t     time.Time
	timer *time.Timer
	c     chan struct{}
}

func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.t = t
	if d.timer != nil {
		d.timer.Stop()
	}
	if t.IsZero() {
		if d.c != nil && isClosed(d.c) {
			d.c = nil
		}
		return
	}
	if d.c == nil || isClosed(d.c) {
		d.c = make(chan struct{})
	}
	dur := time.Until(t)
	if dur <= 0 {
		close(d.c)
		return
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

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
