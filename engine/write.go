package engine

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsclient/wsclient/codec"
	"github.com/wsclient/wsclient/mask"
)

// Send flags.
const (
	fFlush   = 1 << iota // write before returning (otherwise only queue)
	fControl             // control frame: may interleave with a fragmented message
	fStream              // a messageWriter's frame: it owns the data stream
	fRaw                 // WriteFrame: fragmentation is the caller's
)

// keepBuf is the largest write buffer an idle connection keeps.
const keepBuf = 2048

// errCloseSent is returned by sends after our close frame went out.
var errCloseSent = errors.New("wsclient: close frame already sent")

// ErrInvalidFrame is returned, wrapped with what is wrong, by a send whose
// frame RFC 6455 does not allow on the wire: an opcode that is reserved
// (3–7, 0xB–0xF) or does not fit in 4 bits, a message that starts with a
// continuation frame, a control frame that is fragmented, carries RSV bits
// or more than 125 bytes, a close payload that is 1 byte long or has a code
// that may not be sent (§7.4) or a reason that is not UTF-8, RSV bits no
// extension negotiated, and a WriteFrame that would break the fragmented
// message it started (§5.4). Nothing was sent; the connection is still
// usable. Where a gobwas/ws ProtocolError names the rule, it is wrapped
// too.
var ErrInvalidFrame = errors.New("wsclient: invalid frame")

// Errors of WriteFrame calls that would break the fragmentation of the
// message that WriteFrame started (RFC 6455 §5.4).
var (
	errRawContinuation = fmt.Errorf("%w: continuation frame outside a fragmented message started with SendFrame (%w)",
		ErrInvalidFrame, ws.ErrProtocolContinuationUnexpected)
	errRawOpen = fmt.Errorf("%w: data frame inside a fragmented message started with SendFrame, want a continuation (%w)",
		ErrInvalidFrame, ws.ErrProtocolContinuationExpected)
	errMessageContinuation = fmt.Errorf("%w: a message cannot start with a continuation frame (%w)",
		ErrInvalidFrame, ws.ErrProtocolContinuationUnexpected)
)

// checkFrame reports why a frame the application asks to send may not go
// on the wire (RFC 6455 §5.2, §5.5), or nil. It allocates nothing unless
// it fails. Continuation frames are checked against the stream by await.
func checkFrame(fin bool, rsv, rsvAllowed byte, op ws.OpCode, p []byte) error {
	if op <= ws.OpBinary && rsv&^rsvAllowed == 0 {
		return nil // the common case: continuation, text, binary
	}
	return checkFrameSlow(fin, rsv, rsvAllowed, op, p)
}

func checkFrameSlow(fin bool, rsv, rsvAllowed byte, op ws.OpCode, p []byte) error {
	switch {
	case op > 0xf:
		return fmt.Errorf("%w: opcode %#x does not fit in 4 bits", ErrInvalidFrame, byte(op))
	case op.IsReserved():
		return fmt.Errorf("%w: opcode %#x (%w)", ErrInvalidFrame, byte(op), ws.ErrProtocolOpCodeReserved)
	case rsv&^rsvAllowed != 0:
		return fmt.Errorf("%w: RSV bits %#x that no extension negotiated (%w)", ErrInvalidFrame, rsv&^rsvAllowed, ws.ErrProtocolNonZeroRsv)
	case !op.IsControl():
		return nil
	case !fin:
		return fmt.Errorf("%w: fragmented %v frame (%w)", ErrInvalidFrame, Opcode(op), ws.ErrProtocolControlNotFinal)
	case rsv != 0:
		return fmt.Errorf("%w: %v frame with RSV bits %#x (%w)", ErrInvalidFrame, op, rsv, ws.ErrProtocolNonZeroRsv)
	case len(p) > ws.MaxControlFramePayloadSize:
		return fmt.Errorf("%w: %v payload is %d bytes, more than 125 (%w)", ErrInvalidFrame, Opcode(op), len(p), ws.ErrProtocolControlPayloadOverflow)
	case op == ws.OpClose:
		return checkClosePayload(p)
	}
	return nil
}

// checkClosePayload checks a close frame payload the application built
// itself (RFC 6455 §5.5.1, §7.4): empty, or a code that may be sent
// followed by a UTF-8 reason.
func checkClosePayload(p []byte) error {
	code, _, err := codec.ParseClose(p)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, codec.ErrInvalidUTF8):
		return fmt.Errorf("%w: close reason is not valid UTF-8 (%w)", ErrInvalidFrame, ws.ErrProtocolInvalidUTF8)
	case len(p) < 2:
		return fmt.Errorf("%w: %w", ErrInvalidFrame, err)
	}
	return fmt.Errorf("%w: close code %d may not be sent (%w)", ErrInvalidFrame, code, err)
}

// writer serialises frames onto the connection with group commit: a sender
// masks its frame into the pending buffer under mu; if no write is in flight
// it becomes the leader and writes everything pending in one syscall, while
// senders arriving meanwhile append to the next batch and wait for it.
type writer struct {
	c    *Conn
	mu   sync.Mutex
	cond *sync.Cond // on mu; made by the first wait (see wait)

	pend  *buf // frames not yet handed to the network
	spare *buf // a second buffer, so senders can append while the leader writes

	gen    uint64 // batch that frames appended now belong to
	done   uint64 // batches < done have been written (or failed)
	err    error  // sticky write error
	errGen uint64 // batch whose write failed

	timer *time.Timer // FlushDelay timer

	// progress counts network writes completed while a pong is watched
	// (pongGuard reads it); its top bit, watched, says one is.
	progress atomic.Uint64

	writing    bool // a leader is writing (the network connection is owned)
	stream     bool // a fragmented message is open: other data messages wait
	raw        bool // ... and WriteFrame opened it (else a messageWriter)
	closing    bool // our close frame is queued: no more frames
	timerArmed bool
}

func (w *writer) init(c *Conn) {
	w.c = c
	w.errGen = ^uint64(0) // no batch has failed
}

// wait waits for a wake. The condition variable is made by the first wait:
// a connection whose senders never wait for each other carries none.
// Caller holds mu.
func (w *writer) wait() {
	if w.cond == nil {
		w.cond = sync.NewCond(&w.mu)
	}
	w.cond.Wait()
}

// wake wakes every sender waiting in wait. Caller holds mu.
func (w *writer) wake() {
	if w.cond != nil {
		w.cond.Broadcast()
	}
}

// appendFrame masks one frame into w.pend. cfg is the connection's (loaded
// once by the caller). Caller holds mu.
func (w *writer) appendFrame(cfg *Config, fin bool, rsv byte, op ws.OpCode, p []byte) {
	need := ws.MaxHeaderSize + len(p)
	switch {
	case w.pend == nil:
		size := need
		if size < cfg.WriteBufferSize && cfg.FlushDelay > 0 {
			size = cfg.WriteBufferSize
		}
		w.pend = getBuf(size)
	default:
		w.pend = reserve(w.pend, need)
	}
	b := w.pend.b
	n := len(b)
	b = b[:n+need]
	key := cfg.maskKey()
	h := ws.Header{Fin: fin, Rsv: rsv, OpCode: op, Length: int64(len(p)), Masked: true, Mask: key}
	hn := codec.PutHeader(b[n:], h)
	mask.Copy(b[n+hn:], p, key, 0)
	w.pend.b = b[:n+hn+len(p)]
	if cfg.Trace != nil {
		cfg.Trace(true, h, p)
	}
}

// send writes (or, without fFlush, queues) one frame.
//
// A frame's place in the stream is decided under mu, in the same critical
// section that appends it (or, for a large frame, claims the connection):
// once a data frame has waited for a fragmented message to end, nothing
// else may start one before it takes its place (RFC 6455 §5.4).
func (w *writer) send(fin bool, rsv byte, op ws.OpCode, p []byte, flags int) error {
	cfg := w.c.cfg
	large := ws.MaxHeaderSize+len(p) > cfg.WriteBufferSize
	w.mu.Lock()
	if err := w.await(op, flags, large); err != nil {
		w.mu.Unlock()
		return err
	}
	if op == ws.OpClose {
		w.closing = true
		w.c.closeSent.Store(true) // Close then only waits for the peer's
	}
	if flags&fRaw != 0 && !op.IsControl() {
		// A raw data frame without FIN opens a fragmented message; a
		// continuation with FIN ends it.
		w.stream, w.raw = !fin, !fin
		if fin {
			w.wake()
		}
	}
	if large {
		return w.sendLarge(fin, rsv, op, p) // unlocks
	}
	w.appendFrame(cfg, fin, rsv, op, p)
	if flags&fFlush == 0 && len(w.pend.b) < cfg.WriteBufferSize {
		w.armTimer(cfg.FlushDelay)
		w.mu.Unlock()
		return nil
	}
	return w.commit() // unlocks
}

// await waits until the frame may take its place in the stream: the first
// frame of a data message waits while another message's fragments are
// being sent, and a frame too large for the pending buffer waits for the
// write in flight. Control frames and a messageWriter's own frames do not
// wait for the stream. Caller holds mu, which await may release while it
// waits; every condition is checked again after each wait.
func (w *writer) await(op ws.OpCode, flags int, large bool) error {
	for {
		if err := w.usable(); err != nil {
			return err
		}
		switch {
		case flags&(fControl|fStream) != 0:
		case op == ws.OpContinuation: // WriteFrame continuing its message
			if !w.raw {
				return errRawContinuation
			}
		case w.raw && flags&fRaw != 0:
			return errRawOpen // waiting for itself would never end
		case w.stream:
			w.wait()
			continue
		}
		if large && w.writing {
			w.wait()
			continue
		}
		return nil
	}
}

// usable reports why no frame may be sent now. Caller holds mu.
func (w *writer) usable() error {
	if w.err != nil {
		return w.err
	}
	if w.closing {
		if w.c.closed.Load() {
			return ErrClosed
		}
		return errCloseSent
	}
	return nil
}

// commit waits until every frame appended so far is written, becoming the
// leader if no write is in flight. Caller holds mu; commit unlocks it.
func (w *writer) commit() error {
	var my uint64 // the batch we wait for: the pending one, or the one in flight
	switch {
	case w.pend != nil && len(w.pend.b) > 0:
		my = w.gen
	case w.writing:
		my = w.gen - 1 // gen > 0 whenever a leader has released mu
	default:
		w.mu.Unlock()
		return nil
	}
	if w.writing {
		// An error set by release (peer close, failure) while the leader's
		// write is in flight says nothing about our batch: wait for it.
		for w.done <= my && (w.err == nil || w.writing) {
			w.wait()
		}
		err := w.err
		if err != nil && w.done > my && w.errGen != my {
			err = nil // our batch was written before the failure
		}
		w.mu.Unlock()
		return err
	}
	w.writing = true
	err := w.flushLocked()
	if err == nil && w.done <= my && w.err != nil {
		err = w.err // failed by someone else before our batch went out
	}
	w.writing = false
	w.wake()
	w.mu.Unlock()
	return err
}

// flushLocked writes pending batches until none is left. Caller holds mu
// and has set writing; mu is released during each network write.
func (w *writer) flushLocked() error {
	var failed error // only this call's own write failure is reported
	for w.err == nil && w.pend != nil && len(w.pend.b) > 0 {
		b, g := w.takeBatch()
		w.mu.Unlock()
		w.c.armWrite()
		_, err := w.c.nc.Write(b.b)
		w.tick()
		w.mu.Lock()
		w.done = g + 1
		if err != nil {
			w.fail(err, g)
			failed = w.err
		}
		w.recycle(b)
		w.wake()
	}
	// Idle: hand large buffers back; keep one small one, so a connection
	// sending small messages does not visit the pool for each.
	if w.pend == nil && w.spare != nil && cap(w.spare.b) <= keepBuf {
		w.pend, w.spare = w.spare, nil
	}
	if w.pend != nil && len(w.pend.b) == 0 && cap(w.pend.b) > keepBuf {
		putBuf(w.pend)
		w.pend = nil
	}
	putBuf(w.spare)
	w.spare = nil
	return failed
}

// takeBatch takes the pending frames as the next batch to write; frames
// appended from now on belong to the batch after it. Caller holds mu.
func (w *writer) takeBatch() (*buf, uint64) {
	b := w.pend
	w.pend, w.spare = w.spare, nil
	g := w.gen
	w.gen++
	return b, g
}

// recycle keeps a written batch's buffer as the spare, or pools it. Caller
// holds mu.
func (w *writer) recycle(b *buf) {
	if w.spare == nil && cap(b.b) <= 2*w.c.cfg.WriteBufferSize {
		b.b = b.b[:0]
		w.spare = b
	} else {
		putBuf(b)
	}
}

// fail records a write error. Caller holds mu.
func (w *writer) fail(err error, g uint64) {
	if w.err != nil {
		return
	}
	if w.c.closed.Load() {
		err = ErrClosed
	} else {
		err = fmt.Errorf("wsclient: write: %w", err)
	}
	w.err = w.c.setNetErr(err)
	w.errGen = g
	if w.pend != nil {
		putBuf(w.pend)
		w.pend = nil
	}
}

// sendLarge writes a frame too big for the pending buffer: the payload is
// masked in ChunkSize pieces into one pooled buffer and written piece by
// piece, so memory stays bounded and the piece stays in cache between
// masking and the write. Caller holds mu, has checked (await) that no
// write is in flight and that the frame may go next; sendLarge unlocks mu.
//
// Only the frames queued before this one go first: frames appended while
// they are written came later and go after it (flushLocked would write
// them too, and one of them may be the first fragment of another message).
func (w *writer) sendLarge(fin bool, rsv byte, op ws.OpCode, p []byte) error {
	w.writing = true
	var pre *buf
	var preGen uint64
	if w.pend != nil && len(w.pend.b) > 0 {
		pre, preGen = w.takeBatch()
	}
	g := w.gen
	w.gen++
	w.mu.Unlock()
	w.c.armWrite()

	var err error
	failGen := g
	if pre != nil {
		if _, err = w.c.nc.Write(pre.b); err != nil {
			failGen = preGen
		}
	}
	if err == nil {
		err = w.writeChunked(fin, rsv, op, p)
	}

	w.mu.Lock()
	if pre != nil {
		w.recycle(pre)
	}
	w.done = g + 1
	if err != nil {
		w.fail(err, failGen)
		err = w.err
	}
	if ferr := w.flushLocked(); err == nil { // after a failure: only tidies up
		err = ferr
	}
	w.writing = false
	w.wake()
	w.mu.Unlock()
	return err
}

func (w *writer) writeChunked(fin bool, rsv byte, op ws.OpCode, p []byte) error {
	// A message smaller than ChunkSize takes a buffer of its own size (a
	// 64 KiB message does not need a 512 KiB class).
	b := getBuf(min(w.c.cfg.ChunkSize, len(p)) + ws.MaxHeaderSize)
	defer putBuf(b)
	key := w.c.cfg.maskKey()
	h := ws.Header{Fin: fin, Rsv: rsv, OpCode: op, Length: int64(len(p)), Masked: true, Mask: key}
	if w.c.cfg.Trace != nil {
		w.c.cfg.Trace(true, h, p)
	}
	out := b.b[:cap(b.b)]
	n := codec.PutHeader(out, h)
	pos := 0
	for len(p) > 0 {
		k := len(out) - n
		if k > len(p) {
			k = len(p)
		}
		pos = mask.Copy(out[n:n+k], p[:k], key, pos)
		if _, err := w.c.nc.Write(out[:n+k]); err != nil {
			return err
		}
		w.tick()
		p = p[k:]
		n = 0
	}
	if n > 0 { // empty payload: header only
		_, err := w.c.nc.Write(out[:n])
		return err
	}
	return nil
}

// flush writes every queued frame.
func (w *writer) flush() error {
	w.mu.Lock()
	if w.err != nil {
		err := w.err
		w.mu.Unlock()
		return err
	}
	return w.commit()
}

func (w *writer) armTimer(d time.Duration) {
	if d <= 0 || w.timerArmed {
		return
	}
	w.timerArmed = true
	if w.timer == nil {
		w.timer = time.AfterFunc(d, w.timerFlush)
	} else {
		w.timer.Reset(d)
	}
}

func (w *writer) timerFlush() {
	w.mu.Lock()
	w.timerArmed = false
	if w.err != nil {
		w.mu.Unlock()
		return
	}
	w.commit() // a failure is sticky and reported to the next sender
}

// release drops the writer's buffers when it is idle (on close).
func (w *writer) release(err error, force bool) {
	w.mu.Lock()
	if w.err == nil || force {
		w.err = err
	}
	if w.timer != nil {
		w.timer.Stop()
	}
	if !w.writing {
		putBuf(w.pend)
		putBuf(w.spare)
		w.pend, w.spare = nil, nil
	}
	w.wake()
	w.mu.Unlock()
}

// Send sends p as one message of type op (OpText, OpBinary, or a control
// opcode; websocket-client's send(data, opcode)) and returns once it was
// handed to the network. p is never modified and may be reused at once.
// Concurrent calls are safe and are written together (group commit). A
// control opcode sends a control frame (payload at most 125 bytes). A frame
// RFC 6455 does not allow (a reserved opcode, a malformed close payload,
// ...) is refused with ErrInvalidFrame and nothing is sent.
func (c *Conn) Send(o Opcode, p []byte) error {
	op := ws.OpCode(o)
	if err := checkMessage(op, p); err != nil {
		return err
	}
	if op.IsControl() {
		return c.control(op, p)
	}
	if c.comp != nil && len(p) >= c.cfg.Deflate.threshold() {
		return c.sendCompressed(op, p, fFlush)
	}
	return c.w.send(true, 0, op, p, fFlush)
}

// SendText sends s as a text message. s must be valid UTF-8 (not checked:
// the peer fails the connection with 1007 otherwise).
func (c *Conn) SendText(s string) error { return c.Send(OpText, stringBytes(s)) }

// SendBinary sends p as a binary message (websocket-client's send_binary).
func (c *Conn) SendBinary(p []byte) error { return c.Send(OpBinary, p) }

// SendFrame sends one frame with the given FIN bit (websocket-client's
// send_frame). It is the low-level counterpart of Send: the caller splits a
// message into frames (RFC 6455 §5.4).
//
// A data frame without FIN opens a fragmented message: until the
// continuation frame with FIN ends it, other data messages (Send, Queue,
// NextWriter, ...) wait, and SendFrame accepts only continuation and
// control frames. A continuation frame when SendFrame has no fragmented
// message open, like any frame RFC 6455 does not allow (reserved opcode,
// fragmented control frame, ...), is refused with ErrInvalidFrame. Nothing
// is sent on an error.
func (c *Conn) SendFrame(o Opcode, p []byte, fin bool) error {
	op := ws.OpCode(o)
	if err := checkFrame(fin, 0, c.rsvAllowed(), op, p); err != nil {
		return err
	}
	return c.w.send(fin, 0, op, p, fFlush|fRaw|controlFlag(op))
}

// Queue masks p into the connection's write buffer without writing it.
// Queued frames go out on Flush, when WriteBufferSize bytes are queued, with
// the next Send, or FlushDelay after the first was queued. It lets a sender
// put thousands of small messages into one syscall. Invalid frames are
// refused as by Send.
func (c *Conn) Queue(o Opcode, p []byte) error {
	op := ws.OpCode(o)
	if err := checkMessage(op, p); err != nil {
		return err
	}
	if c.comp != nil && !op.IsControl() && len(p) >= c.cfg.Deflate.threshold() {
		return c.sendCompressed(op, p, 0)
	}
	return c.w.send(true, 0, op, p, controlFlag(op))
}

// checkMessage is checkFrame for a whole message in one frame.
func checkMessage(op ws.OpCode, p []byte) error {
	if op == ws.OpContinuation {
		return errMessageContinuation
	}
	return checkFrame(true, 0, 0, op, p)
}

// sendCompressed deflates p and sends it as one frame with RSV1 set
// (RFC 7692 §6). Messages are compressed and queued in the same order.
func (c *Conn) sendCompressed(op ws.OpCode, p []byte, flags int) error {
	z := c.comp
	z.mu.Lock()
	defer z.mu.Unlock()
	out, err := z.compress(p)
	if err != nil {
		z.release()
		return fmt.Errorf("wsclient: permessage-deflate: %w", err)
	}
	err = c.w.send(true, rsv1, op, out, flags) // copies out (masking)
	// Keep a small output buffer for the next message; an idle connection
	// holds no large one, and a closed one none.
	if cap(z.out.b.b) > keepBuf || c.closed.Load() {
		z.release()
	}
	return err
}

// QueueText queues s as a text message (see Queue).
func (c *Conn) QueueText(s string) error { return c.Queue(OpText, stringBytes(s)) }

// Flush writes every queued message.
func (c *Conn) Flush() error { return c.w.flush() }

func controlFlag(op ws.OpCode) int {
	if op.IsControl() {
		return fControl
	}
	return 0
}

// messageWriter streams one message as a sequence of frames. It is an
// io.WriteCloser; Close sends the final frame. While it is open, other data
// messages wait (control frames do not).
type messageWriter struct {
	c        *Conn
	op       ws.OpCode
	fragSize int
	buf      *buf
	started  bool
	closed   bool
}

// NextWriter opens a writer for one message of type op (OpText or OpBinary).
// Data written is buffered up to fragSize bytes and sent as one frame each
// time the buffer fills (fragSize <= 0 means WriteBufferSize); Close sends
// the final frame. The message may be larger than memory. Other data
// messages wait until it is closed; pings and pongs do not.
func (c *Conn) NextWriter(o Opcode, fragSize int) (io.WriteCloser, error) {
	op := ws.OpCode(o)
	if err := c.startMessage(op); err != nil {
		return nil, err
	}
	return &messageWriter{c: c, op: op, fragSize: c.fragSize(fragSize)}, nil
}

// startMessage waits until no other fragmented message is being sent and
// claims the data stream for one of type op.
func (c *Conn) startMessage(op ws.OpCode) error {
	if op != ws.OpText && op != ws.OpBinary {
		return fmt.Errorf("%w: a message writer is for text or binary messages, not opcode %#x", ErrInvalidFrame, byte(op))
	}
	w := &c.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.await(op, 0, false); err != nil {
		return err
	}
	w.stream = true
	return nil
}

func (c *Conn) fragSize(n int) int {
	if n <= 0 {
		return c.cfg.WriteBufferSize
	}
	return n
}

func (m *messageWriter) frameOp() ws.OpCode {
	if m.started {
		return ws.OpContinuation
	}
	m.started = true
	return m.op
}

// writeFrames sends whole fragSize frames from p directly and returns how
// much it sent; the rest, shorter than a frame, is left to the caller.
func (m *messageWriter) writeFrames(p []byte) (int, error) {
	sent := 0
	for len(p) >= m.fragSize { // fragSize >= 1
		k := m.fragSize
		if err := m.c.w.send(false, 0, m.frameOp(), p[:k], fFlush|fStream); err != nil {
			return sent, err
		}
		p = p[k:]
		sent += k
	}
	return sent, nil
}

// Write buffers p, sending a frame each time fragSize bytes are buffered.
func (m *messageWriter) Write(p []byte) (int, error) {
	if m.closed {
		return 0, errors.New("wsclient: write to closed message writer")
	}
	total := len(p)
	if m.buf != nil && len(m.buf.b) > 0 {
		k := min(len(p), m.fragSize-len(m.buf.b))
		m.buf.b = append(m.buf.b, p[:k]...)
		p = p[k:]
		if len(m.buf.b) < m.fragSize {
			return total, nil
		}
		if err := m.c.w.send(false, 0, m.frameOp(), m.buf.b, fFlush|fStream); err != nil {
			return total - len(p) - len(m.buf.b), err
		}
		m.buf.b = m.buf.b[:0]
	}
	n, err := m.writeFrames(p)
	if err != nil {
		return total - len(p) + n, err
	}
	if rest := p[n:]; len(rest) > 0 {
		if m.buf == nil {
			m.buf = getBuf(m.fragSize)
		}
		m.buf.b = append(m.buf.b, rest...)
	}
	return total, nil
}

// Close sends the buffered rest as the final frame and releases the data
// stream for other messages.
func (m *messageWriter) Close() error {
	if m.closed {
		return nil
	}
	var p []byte
	if m.buf != nil {
		p = m.buf.b
	}
	err := m.c.w.send(true, 0, m.frameOp(), p, fFlush|fStream)
	m.abandon()
	return err
}

// abandon releases the stream without finishing the message.
func (m *messageWriter) abandon() {
	if m.closed {
		return
	}
	m.closed = true
	putBuf(m.buf)
	m.buf = nil
	w := &m.c.w
	w.mu.Lock()
	w.stream = false
	w.wake()
	w.mu.Unlock()
}

// watched is writer.progress's flag: a pong is being watched.
const watched = 1 << 63

// tick counts a completed network write for the pong guard, only while it
// watches one: an atomic add on every write cost the send path about 10%
// at small sizes; a load is free.
func (w *writer) tick() {
	if w.progress.Load()&watched != 0 {
		w.progress.Add(1)
	}
}
