package wsserver

import (
	"bufio"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsclient/wsclient/codec"
	"github.com/wsclient/wsclient/mask"
)

const (
	readBufferSize  = 128 << 10
	writeBufferSize = 64 << 10
	closeWait       = 2 * time.Second // how long to wait for the client's close frame
)

// conn is one server-side WebSocket connection. A single goroutine reads
// (readLoop); writes take wmu, since Send mode's sender, the reader's pongs
// and Server.Close write concurrently.
type conn struct {
	s  *Server
	nc net.Conn

	rb   []byte // read buffer; unread bytes are rb[r:w]
	r, w int

	fragmented bool // a fragmented data message is in progress
	ctl        [ws.MaxControlFramePayloadSize]byte

	wmu       sync.Mutex
	bw        *bufio.Writer
	hdr       [ws.MaxHeaderSize]byte
	closeSent bool
}

func newConn(s *Server, nc net.Conn, br *bufReader) *conn {
	c := &conn{s: s, nc: nc, rb: make([]byte, readBufferSize), bw: bufio.NewWriterSize(nc, writeBufferSize)}
	if n := br.Buffered(); n > 0 { // the client's first frames, read with the request
		p, _ := br.Peek(n)
		c.w = copy(c.rb, p)
	}
	return c
}

// serve runs the connection until it ends and closes the socket.
func (c *conn) serve(rt route) error {
	defer c.nc.Close()
	switch rt.mode {
	case "close":
		c.startClose(rt.code, rt.reason)
		return c.readLoop(Sink)
	case Send:
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.sendLoop(rt, stop)
		}()
		err := c.readLoop(Sink)
		c.nc.Close() // unblocks a sender stuck in a write
		close(stop)
		wg.Wait()
		return err
	case Sink:
		return c.readLoop(Sink)
	}
	return c.readLoop(Echo)
}

// readLoop reads frames until the close handshake is done or the
// connection fails. Data frames are echoed (Echo) or discarded (Sink).
func (c *conn) readLoop(mode Mode) error {
	for {
		h, err := c.readHeader()
		if err != nil {
			return err
		}
		if err := c.check(h); err != nil {
			c.fail(ws.StatusProtocolError)
			return err
		}
		if h.OpCode.IsControl() {
			done, err := c.control(h)
			if done || err != nil {
				return err
			}
			continue
		}
		if h.Fin {
			c.s.msgs.Add(1)
		}
		c.s.bytes.Add(h.Length)
		if mode == Echo {
			err = c.echo(h)
		} else {
			err = c.skip(h.Length)
		}
		if err != nil {
			return err
		}
	}
}

// check applies the rules a server enforces on client frames (RFC 6455
// §5.1–§5.5); no extension is negotiated, so RSV bits must be 0.
func (c *conn) check(h ws.Header) error {
	switch {
	case !h.Masked:
		return ws.ErrProtocolMaskRequired
	case h.Rsv != 0:
		return ws.ErrProtocolNonZeroRsv
	case h.OpCode.IsReserved():
		return ws.ErrProtocolOpCodeReserved
	case h.OpCode.IsControl():
		if h.Length > ws.MaxControlFramePayloadSize {
			return ws.ErrProtocolControlPayloadOverflow
		}
		if !h.Fin {
			return ws.ErrProtocolControlNotFinal
		}
		return nil
	case h.OpCode == ws.OpContinuation:
		if !c.fragmented {
			return ws.ErrProtocolContinuationUnexpected
		}
	default:
		if c.fragmented {
			return ws.ErrProtocolContinuationExpected
		}
	}
	c.fragmented = !h.Fin
	return nil
}

// control handles a ping, pong or close frame. done means the close
// handshake is complete.
func (c *conn) control(h ws.Header) (done bool, err error) {
	n := int(h.Length)
	if err := c.fill(n); err != nil {
		return false, err
	}
	p := c.ctl[:n]
	copy(p, c.rb[c.r:c.r+n])
	c.r += n
	mask.Apply(p, h.Mask, 0)
	switch h.OpCode {
	case ws.OpPing:
		c.wmu.Lock()
		defer c.wmu.Unlock()
		if !c.closeSent {
			c.writeFrame(ws.OpPong, p)
			return false, c.bw.Flush()
		}
	case ws.OpClose:
		code, reason, err := codec.ParseClose(p)
		if err != nil {
			if errors.Is(err, codec.ErrInvalidUTF8) {
				c.fail(ws.StatusInvalidFramePayloadData)
			} else {
				c.fail(ws.StatusProtocolError)
			}
			return true, err
		}
		c.wmu.Lock()
		defer c.wmu.Unlock()
		if !c.closeSent { // answer with the same code (RFC 6455 §5.5.1)
			c.closeSent = true
			var b [ws.MaxControlFramePayloadSize]byte
			c.writeFrame(ws.OpClose, b[:codec.PutClose(b[:], code, string(reason))])
			c.bw.Flush()
		}
		return true, nil
	}
	return false, nil
}

// echo streams a data frame's payload back unmasked, chunk by chunk, so
// memory stays bounded whatever the frame size.
func (c *conn) echo(h ws.Header) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent { // no data after our close frame (RFC 6455 §5.5.1)
		return c.skip(h.Length)
	}
	h.Masked = false
	c.bw.Write(c.hdr[:codec.PutHeader(c.hdr[:], h)])
	pos := 0
	for remain := h.Length; remain > 0; {
		if c.r == c.w {
			if err := c.bw.Flush(); err != nil {
				return err
			}
			if err := c.readSome(); err != nil {
				return err
			}
		}
		k := int(min(int64(c.w-c.r), remain))
		chunk := c.rb[c.r : c.r+k]
		pos = mask.Apply(chunk, h.Mask, pos)
		c.bw.Write(chunk)
		c.r += k
		remain -= int64(k)
	}
	if c.r == c.w { // nothing more to echo right away: send now
		return c.bw.Flush()
	}
	return nil
}

// skip discards n payload bytes without unmasking them.
func (c *conn) skip(n int64) error {
	for {
		avail := int64(c.w - c.r)
		if avail >= n {
			c.r += int(n)
			return nil
		}
		n -= avail
		c.r, c.w = 0, 0
		if err := c.readSome(); err != nil {
			return err
		}
	}
}

// readHeader reads the next frame header.
func (c *conn) readHeader() (ws.Header, error) {
	var h ws.Header
	if err := c.fill(2); err != nil {
		return h, err
	}
	n := codec.HeaderSize(c.rb[c.r], c.rb[c.r+1])
	if err := c.fill(n); err != nil {
		return h, err
	}
	if _, err := codec.ParseHeader(c.rb[c.r:c.w], &h); err != nil {
		c.fail(ws.StatusProtocolError)
		return h, err
	}
	c.r += n
	return h, nil
}

// fill makes at least need bytes readable in rb[r:w]. Before blocking on
// the network it flushes what is waiting to be written.
func (c *conn) fill(need int) error {
	if c.w-c.r >= need {
		return nil
	}
	if len(c.rb)-c.r < need {
		c.w = copy(c.rb, c.rb[c.r:c.w])
		c.r = 0
	}
	c.wmu.Lock()
	err := c.bw.Flush()
	c.wmu.Unlock()
	if err != nil {
		return err
	}
	for c.w-c.r < need {
		if err := c.readSome(); err != nil {
			if errors.Is(err, io.EOF) && c.w > c.r {
				return io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

// readSome reads once into the free end of rb.
func (c *conn) readSome() error {
	if c.r == c.w {
		c.r, c.w = 0, 0
	}
	n, err := c.nc.Read(c.rb[c.w:])
	c.w += n
	if n > 0 {
		return nil
	}
	if err == nil {
		err = io.ErrNoProgress
	}
	return err
}

// writeFrame buffers one unmasked frame. The caller holds wmu.
func (c *conn) writeFrame(op ws.OpCode, p []byte) {
	h := ws.Header{Fin: true, OpCode: op, Length: int64(len(p))}
	c.bw.Write(c.hdr[:codec.PutHeader(c.hdr[:], h)])
	c.bw.Write(p)
}

// startClose sends a close frame (once) and bounds the wait for the
// client's answer.
func (c *conn) startClose(code ws.StatusCode, reason string) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.closeSent {
		return
	}
	c.closeSent = true
	var b [ws.MaxControlFramePayloadSize]byte
	c.writeFrame(ws.OpClose, b[:codec.PutClose(b[:], code, reason)])
	c.bw.Flush()
	c.nc.SetReadDeadline(time.Now().Add(closeWait))
}

// fail closes the connection with code after a protocol error, reading
// (and discarding) until the client answers or a second passes, so that
// the close frame is not lost to a TCP reset.
func (c *conn) fail(code ws.StatusCode) {
	c.startClose(code, "")
	c.nc.SetReadDeadline(time.Now().Add(time.Second))
	io.Copy(io.Discard, c.nc)
}

// sendLoop is Send mode's writer: rt.rate messages per second (0: as fast
// as the client reads), rt.count of them (0: no end), then close 1000.
func (c *conn) sendLoop(rt route, stop <-chan struct{}) {
	op := ws.OpText
	if rt.binary {
		op = ws.OpBinary
	}
	payload := make([]byte, rt.size)
	for i := range payload {
		payload[i] = 'a' + byte(i%26)
	}
	var hdr [ws.MaxHeaderSize]byte
	frame := append(hdr[:codec.PutHeader(hdr[:], ws.Header{Fin: true, OpCode: op, Length: int64(len(payload))})], payload...)

	var tick <-chan time.Time
	if rt.rate > 0 {
		t := time.NewTicker(max(time.Second/time.Duration(rt.rate), time.Millisecond))
		defer t.Stop()
		tick = t.C
	}
	start := time.Now()
	sent := 0
	for {
		owed := 64
		if tick != nil {
			select {
			case <-stop:
				return
			case <-tick:
			}
			owed = int(int64(rt.rate)*int64(time.Since(start))/int64(time.Second)) - sent
		} else {
			select {
			case <-stop:
				return
			default:
			}
		}
		if rt.count > 0 {
			owed = min(owed, rt.count-sent)
		}
		c.wmu.Lock()
		if c.closeSent {
			c.wmu.Unlock()
			return
		}
		var err error
		for range owed {
			if _, err = c.bw.Write(frame); err != nil {
				break
			}
		}
		if tick != nil || (rt.count > 0 && sent+owed >= rt.count) {
			if err == nil {
				err = c.bw.Flush()
			}
		}
		c.wmu.Unlock()
		if err != nil {
			return
		}
		sent += owed
		if rt.count > 0 && sent >= rt.count {
			c.startClose(ws.StatusNormalClosure, "")
			return
		}
	}
}
