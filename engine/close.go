package engine

import (
	"fmt"
	"os"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsclient/wsclient/codec"
)

// sendClose writes our close frame once: it does nothing when one was sent
// or queued before (Send, Queue, SendFrame with OpClose; SendClose). Caller
// bounds it with a deadline.
func (c *Conn) sendClose(code ws.StatusCode, reason string) error {
	if !c.closeSent.CompareAndSwap(false, true) {
		return nil
	}
	var p [ws.MaxControlFramePayloadSize]byte // code and reason
	n := codec.PutClose(p[:], code, reason)
	return c.w.send(true, 0, ws.OpClose, p[:n], fFlush|fControl)
}

// peerClosed handles the peer's close frame (RFC 6455 §5.5.1): it is
// answered with the same code, then the TCP connection is closed.
func (c *Conn) peerClosed(ce *CloseError) {
	c.closeMu.Lock()
	first := c.peerClose == nil
	if first {
		c.peerClose = ce
	}
	c.closeMu.Unlock()
	if !first {
		return
	}
	code := ws.StatusCode(ce.Code)
	if !codec.ValidCloseCode(code) {
		code = ws.StatusNoStatusRcvd // answer with an empty close
	}
	c.deadlines().forceWrite(c.nc, later(mono(), int64(c.cfg.CloseTimeout)))
	_ = c.sendClose(code, "")
	c.closeMu.Lock()
	if c.closeDone == nil {
		c.closeDone = closedChan
	} else {
		close(c.closeDone)
	}
	c.closeMu.Unlock()
	c.w.release(ce, false)
	c.shutdown()
}

// shutdown closes the network connection once.
func (c *Conn) shutdown() {
	c.broken.Store(true)
	if c.closed.CompareAndSwap(false, true) {
		_ = c.nc.Close()
		c.releaseCompressor()
	}
}

// releaseCompressor returns the compressor's output buffer once the
// connection is closed. A sender compressing now finishes first (its write
// fails on the closed connection) and releases what it took itself.
func (c *Conn) releaseCompressor() {
	if z := c.comp; z != nil {
		z.mu.Lock()
		z.release()
		z.mu.Unlock()
	}
}

// fail fails the connection (RFC 6455 §7.1.7): it sends a close frame with
// code, closes the network connection and makes err sticky for readers and
// writers. Caller holds the read lock.
func (c *Conn) fail(code ws.StatusCode, err error) error {
	c.deadlines().forceWrite(c.nc, later(mono(), int64(c.cfg.CloseTimeout)))
	_ = c.sendClose(code, "")
	c.w.release(err, false)
	c.r.setErr(err)
	c.shutdown()
	return err
}

// pongTimeout fails the connection when an automatic pong could not be
// written within CloseTimeout: the peer sends pings but does not read. It
// wraps os.ErrDeadlineExceeded and reports Timeout() like a deadline error,
// but unlike one it is final.
type pongTimeout struct{ d time.Duration }

func (e *pongTimeout) Error() string {
	return fmt.Sprintf("wsclient: automatic pong not written within %v, the peer is not reading: %v", e.d, os.ErrDeadlineExceeded)
}

func (e *pongTimeout) Timeout() bool { return true }
func (e *pongTimeout) Unwrap() error { return os.ErrDeadlineExceeded }

// pongTimedOut fails the connection after an automatic pong was not written
// in time. No close frame is sent: the peer does not read. Closing the
// network connection ends the write that is blocked.
func (c *Conn) pongTimedOut() error {
	err := c.setNetErr(&pongTimeout{c.cfg.CloseTimeout})
	c.w.release(err, false)
	c.shutdown()
	return err
}

// Close performs the closing handshake (RFC 6455 §7.1.2; websocket-client's
// close): it sends a close frame with code and reason, waits up to
// CloseTimeout (default 3 s), or IOTimeout when that is shorter, for the
// peer's close frame, then closes the network connection. It never blocks
// longer than that, even on a dead peer or a stalled TLS connection; the
// deadlines set with SetDeadline and the others do not apply to it. It
// returns nil when the peer answered, and an error wrapping
// os.ErrDeadlineExceeded when it did not. After Close, every other call
// returns an error wrapping net.ErrClosed; a second Close, or a Close after
// Abort, does nothing and returns nil (websocket-client's close does
// nothing on a closed connection). If our close frame was sent already
// (SendClose, or Send with OpClose) or queued (Queue), Close writes
// nothing new and waits for the peer's. Code 1005 (StatusNoStatus) sends a
// close frame without a status.
//
// Messages the peer sends after our close frame are discarded, as
// websocket-client's close() does: if no goroutine is inside Recv (or
// another receive call) when Close starts, Close itself reads and drops them
// while it waits for the peer's close; if one is, that receiver keeps
// reading, gets those messages, and Close waits for it to see the peer's
// close frame. To receive every message up to the close, keep a receiver
// running and call Close from another goroutine.
func (c *Conn) Close(status StatusCode, reason string) error {
	code, reason, err := closeArgs(status, reason)
	if err != nil {
		return err
	}
	if c.localClose.Swap(true) {
		return nil // a second Close, or Close after Abort
	}
	if c.closed.Load() {
		if c.PeerClose() == nil {
			return ErrClosed // failed, not closed by the peer
		}
		return nil // the peer closed first and was answered
	}
	bound := c.cfg.CloseTimeout
	if d := c.IOTimeout(); d > 0 && d < bound {
		bound = d
	}
	deadline := later(mono(), int64(bound))
	c.deadlines().force(c.nc, deadline)
	queued := c.closeSent.Load()
	err = c.sendClose(code, reason)
	if queued {
		// Our close frame went out before, or Queue left it in the write
		// buffer: write it now. The reader does not flush when the peer
		// answers (it must not wait for writes), so only a failed write
		// that the peer's close did not follow is an error here.
		if ferr := c.w.flush(); ferr != nil && c.PeerClose() == nil {
			err = ferr
		}
	}
	if err == nil {
		if c.r.mu.TryLock() {
			err = c.awaitClose()
			c.r.mu.Unlock()
		} else {
			t := time.NewTimer(time.Until(deadlineAt(deadline)))
			select {
			case <-c.closeWait():
			case <-t.C:
				err = fmt.Errorf("wsclient: close handshake: %w", os.ErrDeadlineExceeded)
			}
			t.Stop()
		}
	}
	c.w.release(ErrClosed, true)
	c.shutdown()
	if c.r.mu.TryLock() {
		c.r.err = nil // after our Close, every call reports ErrClosed
		c.r.setErr(ErrClosed)
		c.r.mu.Unlock()
	}
	return err
}

// closeWait returns a channel closed once the peer's close frame was read
// and answered. It is made here, by the one Close that waits for another
// goroutine's receive call, not by every connection.
func (c *Conn) closeWait() <-chan struct{} {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	if c.closeDone == nil {
		c.closeDone = make(chan struct{})
	}
	return c.closeDone
}

// closedChan is the closeDone of every connection whose peer's close was
// answered before any Close waited for it.
var closedChan = func() chan struct{} { ch := make(chan struct{}); close(ch); return ch }()

// closeArgs checks a close code and reason the application gives.
func closeArgs(status StatusCode, reason string) (ws.StatusCode, string, error) {
	code := ws.StatusCode(status)
	if err := codec.CheckClose(code, reason); err != nil {
		return 0, "", fmt.Errorf("%w: %w", ErrInvalidFrame, err)
	}
	if code == ws.StatusNoStatusRcvd {
		reason = ""
	}
	return code, reason, nil
}

// SendClose sends a close frame with code and reason and returns once it
// was written, without waiting for the peer's answer (websocket-client's
// send_close). Nothing else may be sent after it. Receive calls go on
// returning what the peer still sends, then its close frame as a
// *CloseError, and the connection is closed; Close after SendClose only
// waits for that close frame. Code and reason are checked as by Close. A
// close frame sent or queued before (SendClose, Close, Send or Queue with
// OpClose) is not sent again: SendClose then only writes it if it is still
// queued.
func (c *Conn) SendClose(status StatusCode, reason string) error {
	code, reason, err := closeArgs(status, reason)
	if err != nil {
		return err
	}
	if c.closeSent.Load() {
		return c.w.flush() // a close frame Queue left in the write buffer
	}
	return c.sendClose(code, reason)
}

// awaitClose reads until the peer's close frame. Caller holds the read lock.
func (c *Conn) awaitClose() error {
	r := &c.r
	for r.err == nil {
		if err := r.nextData(); err != nil {
			break
		}
		if err := r.skip(); err != nil {
			break
		}
	}
	if r.err != nil {
		if _, ok := r.err.(*CloseError); ok && c.peerClose != nil {
			return nil
		}
		return fmt.Errorf("wsclient: close handshake: %w", r.err)
	}
	return fmt.Errorf("wsclient: close handshake: %w", os.ErrDeadlineExceeded)
}

// Abort closes the network connection at once, without a close handshake.
func (c *Conn) Abort() error {
	c.localClose.Store(true)
	c.broken.Store(true)
	if !c.closed.CompareAndSwap(false, true) {
		return ErrClosed
	}
	err := c.nc.Close()
	c.w.release(ErrClosed, true)
	c.releaseCompressor()
	if c.r.mu.TryLock() {
		c.r.setErr(ErrClosed)
		c.r.mu.Unlock()
	}
	return err
}

// Ping sends a ping with payload p (at most 125 bytes; a longer one is
// refused with ErrInvalidFrame).
func (c *Conn) Ping(p []byte) error { return c.control(ws.OpPing, p) }

// Pong sends an unsolicited pong with payload p (at most 125 bytes, as
// Ping).
func (c *Conn) Pong(p []byte) error { return c.control(ws.OpPong, p) }

func (c *Conn) control(op ws.OpCode, p []byte) error {
	if len(p) > ws.MaxControlFramePayloadSize {
		return fmt.Errorf("%w: %v payload is %d bytes, more than 125 (%w)",
			ErrInvalidFrame, Opcode(op), len(p), ws.ErrProtocolControlPayloadOverflow)
	}
	return c.w.send(true, 0, op, p, fFlush|fControl)
}

// PeerClose returns the peer's close frame once it was received, else nil.
func (c *Conn) PeerClose() *CloseError {
	c.closeMu.Lock()
	defer c.closeMu.Unlock()
	return c.peerClose
}
