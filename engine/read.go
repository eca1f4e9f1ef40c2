package engine

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsclient/wsclient/codec"
	"github.com/wsclient/wsclient/simdutf8"
)

// reader holds all receive state in the Conn, so that a read interrupted by
// a deadline in the middle of a frame continues where it stopped.
type reader struct {
	c  *Conn
	mu sync.Mutex // one receiver at a time

	rb   *buf // read buffer; rb.b[r:w] is unread. &smallBuf or pooled.
	r, w int

	// An idle connection reads into smallBuf, a smallRead-byte array of
	// its own made by the first read, so a receiver blocked on a quiet
	// connection holds no pooled buffer (and a connection that never reads
	// holds none at all). A read that fills it switches to a pooled
	// ReadBufferSize buffer.
	smallBuf buf
	lastLen  int64 // size of the last message: large ones keep the pooled buffer

	hdr    ws.Header // current frame
	remain int64     // payload bytes of hdr not read yet
	msgLen int64     // bytes of the data message in progress received so far

	zb  *buf // compressed message for Recv
	msg *buf // message assembly for Recv
	fb  *buf // frame payload for RecvFrame

	err error // sticky: the connection can no longer be read

	pong *pongGuard // bounds the automatic pong; made by the first ping

	hdrOK    bool      // hdr is valid and its payload is being read
	inMsg    bool      // a data message is in progress (fragmented or not)
	newMsg   bool      // hdr starts a new message
	msgOp    ws.OpCode // opcode of the message in progress
	validate bool      // validate payload bytes as they arrive
	text     bool      // msgOp is text and validation is on
	deflated bool      // the message is compressed (RSV1, RFC 7692)
	timed    bool      // the current receive call has armed its IOTimeout
	utf8     codec.Validator
}

func (r *reader) init(c *Conn, pre []byte) {
	r.c = c
	if len(pre) > 0 {
		size := max(c.cfg.ReadBufferSize, len(pre))
		r.rb = getBuf(size)
		r.rb.b = r.rb.b[:cap(r.rb.b)]
		r.w = copy(r.rb.b, pre)
		r.lastLen = int64(len(pre))
	}
}

const smallRead = 512

// fill makes at least need bytes available in the read buffer.
func (r *reader) fill(need int) error {
	if r.rb == nil {
		if r.smallBuf.b == nil {
			r.smallBuf.b = make([]byte, smallRead)
		}
		r.rb = &r.smallBuf
		r.r, r.w = 0, 0
	}
	if r.w-r.r >= need {
		return nil
	}
	if r.r == r.w {
		r.r, r.w = 0, 0
	}
	for r.w-r.r < need {
		if len(r.rb.b)-r.w < need-(r.w-r.r) {
			r.makeRoom(need)
		}
		n, err := r.netRead(r.rb.b[r.w:])
		r.w += n
		if r.rb == &r.smallBuf && r.w == smallRead {
			r.makeRoom(smallRead + 1) // more is likely waiting
		}
		if err != nil {
			if r.w-r.r >= need {
				return nil // report the error on the next read
			}
			return r.netErr(err, r.w-r.r > 0 || r.hdrOK)
		}
	}
	return nil
}

// netRead reads from the network connection. The first read of a receive
// call arms its IOTimeout: a call served from the read buffer reads no
// clock and sets no deadline.
func (r *reader) netRead(p []byte) (int, error) {
	if !r.timed {
		r.timed = true
		r.c.armRead()
	}
	return r.c.nc.Read(p)
}

// makeRoom compacts the unread bytes to the front and, if the buffer
// cannot hold need bytes, moves them to a pooled ReadBufferSize buffer.
func (r *reader) makeRoom(need int) {
	if r.rb == &r.smallBuf || len(r.rb.b) < need {
		nb := getBuf(max(r.c.cfg.ReadBufferSize, need))
		nb.b = nb.b[:cap(nb.b)]
		r.w = copy(nb.b, r.rb.b[r.r:r.w])
		r.r = 0
		if r.rb != &r.smallBuf {
			putBuf(r.rb)
		}
		r.rb = nb
		return
	}
	r.w = copy(r.rb.b, r.rb.b[r.r:r.w])
	r.r = 0
}

// idle hands the pooled read buffer back when nothing is buffered and the
// last message was small: the next read starts in the small array.
func (r *reader) idle() {
	if r.rb != nil && r.rb != &r.smallBuf && r.r == r.w && r.lastLen <= smallRead {
		putBuf(r.rb)
		r.rb = nil
	}
}

// netErr converts a network read error. A timeout keeps every bit of state
// (the next read resumes the frame); anything else is fatal.
func (r *reader) netErr(err error, midFrame bool) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return err
	}
	if r.c.closed.Load() {
		return r.setErr(ErrClosed)
	}
	if r.c.peerClose != nil {
		return r.setErr(r.c.peerClose)
	}
	if errors.Is(err, io.EOF) {
		if midFrame {
			err = io.ErrUnexpectedEOF
		}
		return r.setErr(&CloseError{Code: StatusAbnormalClosure, err: err})
	}
	return r.setErr(r.c.setNetErr(fmt.Errorf("wsclient: read: %w", err)))
}

// setErr makes err sticky and releases the read buffers.
func (r *reader) setErr(err error) error {
	r.c.broken.Store(true)
	if r.err == nil {
		r.err = err
	}
	r.release()
	return r.err
}

func (r *reader) release() {
	if r.rb != &r.smallBuf {
		putBuf(r.rb)
	}
	putBuf(r.msg)
	putBuf(r.fb)
	putBuf(r.zb)
	r.rb, r.msg, r.fb, r.zb = nil, nil, nil, nil
	r.smallBuf.b = nil
	r.r, r.w = 0, 0
}

// nextHeader reads and checks the next frame header.
func (r *reader) nextHeader() error {
	if err := r.fill(2); err != nil {
		return err
	}
	b := r.rb.b[r.r:r.w]
	n := codec.HeaderSize(b[0], b[1])
	if len(b) < n {
		if err := r.fill(n); err != nil {
			return err
		}
		b = r.rb.b[r.r:r.w]
	}
	c := r.c
	cfg := c.cfg
	var h ws.Header
	n, err := codec.ParseHeader(b, &h)
	if err != nil {
		return c.fail(ws.StatusProtocolError, protoErr(err))
	}
	r.r += n
	if err := codec.CheckServerFrame(h, c.rsvAllowed(), r.inMsg); err != nil {
		return c.fail(ws.StatusProtocolError, protoErr(err))
	}
	if !h.OpCode.IsControl() {
		if h.OpCode != ws.OpContinuation {
			r.inMsg, r.newMsg = true, true
			r.msgOp, r.msgLen = h.OpCode, 0
			r.text = h.OpCode == ws.OpText && !cfg.SkipUTF8Validation
			r.deflated = h.Rsv&rsv1 != 0
			r.validate = r.text && !r.deflated // compressed text is checked after inflating
			r.utf8 = codec.Validator{}
		} else if h.Rsv&rsv1 != 0 {
			// RFC 7692 §6.1: RSV1 only on the first frame of a message.
			return c.fail(ws.StatusProtocolError, protoErr(errContinuationRSV1))
		}
		if max := cfg.MaxMessageSize; max > 0 && h.Length > max-r.msgLen {
			return c.fail(ws.StatusMessageTooBig, fmt.Errorf("%w: more than %d bytes", ErrMessageTooBig, max))
		}
	}
	r.hdr, r.hdrOK, r.remain = h, true, h.Length
	if r.fb != nil {
		r.fb.b = r.fb.b[:0] // RecvFrame's payload is the current frame's
	}
	if cfg.Trace != nil && !h.OpCode.IsControl() {
		cfg.Trace(false, h, r.rb.b[r.r:r.r+int(min(int64(r.w-r.r), h.Length))])
	}
	return nil
}

var errContinuationRSV1 = ws.ProtocolError("RSV1 set on a continuation frame")

func protoErr(err error) error {
	return fmt.Errorf("%w: %w", ErrProtocol, err)
}

// read reads payload bytes of the current frame into dst (len(dst) <=
// remain), straight from the network when dst is large and nothing is
// buffered.
func (r *reader) read(dst []byte) (int, error) {
	if r.rb != nil && r.w > r.r {
		n := copy(dst, r.rb.b[r.r:r.w])
		r.r += n
		r.remain -= int64(n)
		return n, nil
	}
	if len(dst) >= r.c.cfg.ReadBufferSize/2 {
		n, err := r.netRead(dst)
		r.remain -= int64(n)
		if err != nil && n == 0 {
			return 0, r.netErr(err, true)
		}
		return n, nil
	}
	if err := r.fill(1); err != nil {
		return 0, err
	}
	n := copy(dst, r.rb.b[r.r:r.w])
	r.r += n
	r.remain -= int64(n)
	return n, nil
}

// readData reads data payload into dst, validating text on the way.
func (r *reader) readData(dst []byte) (int, error) {
	n, err := r.read(dst)
	if n > 0 {
		r.msgLen += int64(n)
		if r.validate && !r.utf8.Write(dst[:n]) {
			return n, r.c.fail(ws.StatusInvalidFramePayloadData, codec.ErrInvalidUTF8)
		}
	}
	return n, err
}

// inflateMessage decompresses r.zb into r.msg, bounded by MaxMessageSize,
// and validates text.
func (r *reader) inflateMessage() error {
	c := r.c
	r.zb = reserve(r.zb, len(tail))
	r.zb.b = append(r.zb.b, tail...)
	in := r.zb.b
	if r.msg != nil {
		r.msg.b = r.msg.b[:0]
	}
	var err error
	r.msg, err = c.dec.inflate(in, r.msg, c.cfg.MaxMessageSize, !c.cfg.Deflate.ServerNoContextTakeover)
	switch {
	case errors.Is(err, ErrMessageTooBig):
		return c.fail(ws.StatusMessageTooBig, err)
	case err != nil:
		return c.fail(ws.StatusProtocolError, protoErr(err))
	case r.text && !simdutf8.Valid(r.msg.b):
		return c.fail(ws.StatusInvalidFramePayloadData, codec.ErrInvalidUTF8)
	}
	return nil
}

// endFrame finishes a data frame whose payload was read.
func (r *reader) endFrame() error {
	r.hdrOK = false
	if !r.hdr.Fin {
		return nil
	}
	r.inMsg = false
	if r.validate && !r.utf8.Done() {
		return r.c.fail(ws.StatusInvalidFramePayloadData, codec.ErrInvalidUTF8)
	}
	return nil
}

// skip discards the rest of the current data frame's payload.
func (r *reader) skip() error {
	for r.remain > 0 {
		if err := r.fill(1); err != nil {
			return err
		}
		n := int(min(int64(r.w-r.r), r.remain))
		r.r += n
		r.remain -= int64(n)
	}
	r.hdrOK = false
	if r.hdr.Fin {
		r.inMsg = false
	}
	return nil
}

// step makes a frame current and handles it if it is a control frame: it
// reads the next header unless one is current (a read interrupted by a
// deadline resumes its frame), then reads, answers and reports a control
// frame whole. It is the one place where every receive call and Close read
// headers and control frames. ctl reports a control frame, handled, with
// its payload in ctlPayload.
func (r *reader) step() (ctl bool, err error) {
	if !r.hdrOK {
		if err := r.nextHeader(); err != nil {
			return false, err
		}
	}
	if !r.hdr.OpCode.IsControl() {
		return false, nil
	}
	return true, r.readControl()
}

// ctlPayload returns the payload of the control frame readControl has
// just read: the bytes before r.r in the read buffer, valid until the next
// read.
func (r *reader) ctlPayload() []byte {
	n := int(r.hdr.Length)
	return r.rb.b[r.r-n : r.r : r.r]
}

// nextData steps past control frames until a data frame is current.
func (r *reader) nextData() error {
	for {
		if ctl, err := r.step(); err != nil || !ctl {
			return err
		}
	}
}

// readPayload reads the rest of the current data frame's payload, appended
// to *dst, which grows with what arrives (never by the declared length).
func (r *reader) readPayload(dst **buf) error {
	for r.remain > 0 {
		*dst = grow(*dst, r.remain)
		b := (*dst).b
		room := min(int64(cap(b)-len(b)), r.remain)
		n, err := r.readData(b[len(b) : len(b)+int(room)])
		if err != nil {
			return err // n == 0 unless the error is fatal
		}
		(*dst).b = b[:len(b)+n]
	}
	return nil
}

// readControl reads the whole payload of the current control frame into
// the read buffer (at most 125 bytes: it always fits) and handles it: pings
// are answered, a close is answered and reported. The payload stays in the
// read buffer (ctlPayload) until the next read.
func (r *reader) readControl() error {
	if err := r.fill(int(r.hdr.Length)); err != nil {
		return err // a timeout keeps what arrived: the next call resumes
	}
	r.r += int(r.hdr.Length)
	p := r.ctlPayload()
	r.remain = 0
	r.hdrOK = false
	c := r.c
	if c.cfg.Trace != nil {
		c.cfg.Trace(false, r.hdr, p)
	}
	switch r.hdr.OpCode {
	case ws.OpPing:
		if !c.cfg.DisableAutoPong {
			if err := r.autoPong(p); err != nil {
				return err
			}
		}
	case ws.OpClose:
		code, reason, err := codec.ParseClose(p)
		if err != nil {
			if errors.Is(err, codec.ErrInvalidUTF8) {
				return c.fail(ws.StatusInvalidFramePayloadData, err)
			}
			return c.fail(ws.StatusProtocolError, protoErr(err))
		}
		ce := &CloseError{Code: StatusCode(code), Reason: string(reason)}
		c.peerClosed(ce)
		if c.cfg.OnControl != nil {
			c.cfg.OnControl(OpClose, p)
		}
		return r.setErr(ce)
	}
	if c.cfg.OnControl != nil {
		c.cfg.OnControl(Opcode(r.hdr.OpCode), p)
	}
	return nil
}

// autoPong answers a ping (RFC 6455 §5.5.2) from the reading goroutine.
// The write is bounded by CloseTimeout (see pongGuard): a peer that stops
// reading while it keeps sending pings cannot block the receiver forever.
// When the pong is not written in time the connection is failed and a
// timeout error returned (os.ErrDeadlineExceeded, Timeout() true). Any
// other write error (the connection closing, our close frame already sent)
// surfaces on the next write or read.
func (r *reader) autoPong(p []byte) error {
	c := r.c
	if r.pong == nil {
		r.pong = new(pongGuard)
	}
	r.pong.arm(c)
	_ = c.w.send(true, 0, ws.OpPong, p, fFlush|fControl)
	if r.pong.disarm(c) {
		return r.setErr(c.pongTimedOut())
	}
	return nil
}

// pongGuard bounds the write of an automatic pong without touching the
// network connection's deadlines (the user's write deadline stays as it
// was): a timer checks the pong CloseTimeout after it was due. If the
// writer completed a network write meanwhile (a large message queued ahead
// of the pong, read slowly but steadily by the peer), it waits another
// CloseTimeout; if not, the peer is not reading, and the connection is
// closed, which ends the blocked write.
type pongGuard struct {
	mu      sync.Mutex
	t       *time.Timer // created by the first pong, reused after
	due     time.Time   // zero: no pong in flight
	mark    uint64      // writer progress when due was set
	expired bool        // the pong was not written in time
}

func (g *pongGuard) arm(c *Conn) {
	d := c.cfg.CloseTimeout
	g.mu.Lock()
	g.due = time.Now().Add(d)
	g.mark = c.w.progress.Or(watched) | watched // a write completing after this counts
	g.expired = false
	if g.t == nil {
		g.t = time.AfterFunc(d, func() { g.check(c) })
	} else {
		g.t.Reset(d)
	}
	g.mu.Unlock()
}

// disarm ends the pong's watch and reports whether it had expired.
func (g *pongGuard) disarm(c *Conn) bool {
	g.mu.Lock()
	expired := g.expired
	g.due = time.Time{}
	c.w.progress.And(^uint64(watched))
	g.t.Stop()
	g.mu.Unlock()
	return expired
}

// check runs on the timer's goroutine.
func (g *pongGuard) check(c *Conn) {
	g.mu.Lock()
	if g.due.IsZero() || g.expired {
		g.mu.Unlock()
		return // written meanwhile
	}
	now := time.Now()
	if wait := g.due.Sub(now); wait > 0 {
		g.t.Reset(wait) // a firing from an earlier arm
		g.mu.Unlock()
		return
	}
	if p := c.w.progress.Load(); p != g.mark {
		d := c.cfg.CloseTimeout
		g.mark, g.due = p, now.Add(d)
		g.t.Reset(d)
		g.mu.Unlock()
		return
	}
	g.expired = true
	g.mu.Unlock()
	c.pongTimedOut()
}

// begin locks the reader and reports a sticky error. It starts every
// receive call.
func (r *reader) begin() error {
	r.mu.Lock()
	if r.err != nil {
		err := r.err
		r.mu.Unlock()
		return err
	}
	if r.c.closed.Load() {
		err := r.setErr(ErrClosed)
		r.mu.Unlock()
		return err
	}
	r.timed = false // IOTimeout is armed by the first network read
	return nil
}

// grow makes room for more payload in b, at most want bytes, never more
// than twice what is already held (so a peer's declared length alone never
// sizes an allocation).
func grow(b *buf, want int64) *buf {
	if b == nil {
		return getBuf(int(min(want, 4096)))
	}
	if cap(b.b)-len(b.b) > 0 {
		return b
	}
	return reserve(b, int(min(want, int64(cap(b.b)))))
}

// Recv returns the next data message, whole. Control frames that
// arrive meanwhile are handled (pings answered unless DisableAutoPong).
// The returned slice is owned by the Conn and valid until the next
// Recv, Close or Abort; copy it to keep it.
//
// After the peer closed the connection it returns a *CloseError.
//
// An automatic pong is written by the receiving goroutine, bounded by
// CloseTimeout (default 3 s) whatever the read and write deadlines are
// (they are left untouched): if the pong is not written within that time,
// counted afresh whenever other frames ahead of it make progress, the peer
// is not reading, and the connection is failed (closed without a close
// frame). The receive call then returns an error that wraps
// os.ErrDeadlineExceeded and reports Timeout(), and so does every later
// call. A read deadline does not interrupt a pong being written.
func (c *Conn) Recv() (Opcode, []byte, error) {
	r := &c.r
	if err := r.begin(); err != nil {
		return 0, nil, err
	}
	defer r.mu.Unlock()
	return r.readMessage()
}

// RecvText is Recv for callers that expect text; a binary message is
// returned as its bytes converted to a string (a copy).
func (c *Conn) RecvText() (string, error) {
	_, p, err := c.Recv()
	return string(p), err
}

// readMessage implements Recv. Caller holds mu.
func (r *reader) readMessage() (Opcode, []byte, error) {
	for {
		if err := r.nextData(); err != nil {
			return 0, nil, err
		}
		if r.newMsg {
			r.newMsg = false
			if r.msg != nil {
				r.msg.b = r.msg.b[:0]
			}
			if r.zb != nil {
				r.zb.b = r.zb.b[:0]
			}
		}
		dst := &r.msg
		if r.deflated {
			dst = &r.zb
		}
		if err := r.readPayload(dst); err != nil {
			return 0, nil, err
		}
		fin := r.hdr.Fin
		if err := r.endFrame(); err != nil {
			return 0, nil, err
		}
		if fin {
			if r.deflated {
				if err := r.inflateMessage(); err != nil {
					return 0, nil, err
				}
			}
			var p []byte
			if r.msg != nil {
				p = r.msg.b
			}
			r.lastLen = r.msgLen
			r.idle()
			return Opcode(r.msgOp), p, nil
		}
	}
}

// RecvFrame returns the next frame, data or control, like websocket-client's
// recv_frame. Frames are returned as they are on the wire: the payload of a
// compressed message (RSV1, permessage-deflate) is not inflated, but the
// message's last frame carries the whole inflated message in Inflated.
// Control frames are handled as by Recv before they are returned;
// fragmentation, size limits and UTF-8 of text are still checked across the
// frames of a message (for compressed text, once inflated).
func (c *Conn) RecvFrame() (Frame, error) {
	r := &c.r
	if err := r.begin(); err != nil {
		return Frame{}, err
	}
	defer r.mu.Unlock()
	ctl, err := r.step()
	if err != nil {
		return Frame{}, err
	}
	h := r.hdr
	if ctl {
		return Frame{Fin: h.Fin, Opcode: Opcode(h.OpCode), Payload: r.ctlPayload()}, nil
	}
	if r.newMsg && r.deflated && r.zb != nil {
		r.zb.b = r.zb.b[:0]
	}
	r.newMsg = false
	if err := r.readPayload(&r.fb); err != nil {
		return Frame{}, err
	}
	var p []byte
	if r.fb != nil {
		p = r.fb.b
	}
	if r.deflated {
		// Keep the compressed bytes: the message is inflated at its end.
		// Their total is bounded by MaxMessageSize, checked per header.
		r.zb = reserve(r.zb, len(p))
		r.zb.b = append(r.zb.b, p...)
	}
	if err := r.endFrame(); err != nil {
		return Frame{}, err
	}
	f := Frame{Fin: h.Fin, Opcode: Opcode(h.OpCode), Compressed: r.deflated, Payload: p}
	if h.Fin && r.deflated {
		if err := r.inflateMessage(); err != nil {
			return Frame{}, err
		}
		f.Inflated = r.msg.b[:len(r.msg.b):len(r.msg.b)]
	}
	return f, nil
}

// messageReader streams the payload of one message across its frames.
type messageReader struct {
	c        *Conn
	eof      bool
	inMemory bool   // a compressed message, already inflated into whole
	whole    []byte // valid until the next receive call
}

// NextReader waits for the next data message and returns its opcode and a
// reader of its payload, for messages too large to hold in memory. The
// reader is valid until it returns io.EOF or the next call of a receive
// method; control frames are handled while it reads. A compressed message
// (permessage-deflate) is inflated whole first, within MaxMessageSize.
func (c *Conn) NextReader() (Opcode, io.Reader, error) {
	r := &c.r
	if err := r.begin(); err != nil {
		return 0, nil, err
	}
	defer r.mu.Unlock()
	for {
		if err := r.nextData(); err != nil {
			return 0, nil, err
		}
		if !r.newMsg {
			// The rest of a message a previous reader left: drop it.
			if err := r.skip(); err != nil {
				return 0, nil, err
			}
			continue
		}
		if r.deflated {
			// Compressed messages are inflated whole (bounded by
			// MaxMessageSize) and then read from memory.
			op, p, err := r.readMessage()
			if err != nil {
				return 0, nil, err
			}
			return op, &messageReader{c: c, whole: p, inMemory: true}, nil
		}
		r.newMsg = false
		return Opcode(r.msgOp), &messageReader{c: c}, nil
	}
}

// Read reads payload bytes of the message; it returns io.EOF at its end.
func (m *messageReader) Read(p []byte) (int, error) {
	if m.eof {
		return 0, io.EOF
	}
	if m.inMemory {
		if len(m.whole) == 0 {
			m.eof = true
			return 0, io.EOF
		}
		n := copy(p, m.whole)
		m.whole = m.whole[n:]
		return n, nil
	}
	r := &m.c.r
	if err := r.begin(); err != nil {
		return 0, err
	}
	defer r.mu.Unlock()
	for {
		if err := r.nextData(); err != nil {
			return 0, err
		}
		if r.remain > 0 {
			if len(p) == 0 {
				return 0, nil
			}
			k := min(int64(len(p)), r.remain)
			return r.readData(p[:k])
		}
		fin := r.hdr.Fin
		if err := r.endFrame(); err != nil {
			return 0, err
		}
		if fin {
			m.eof = true
			return 0, io.EOF
		}
	}
}
