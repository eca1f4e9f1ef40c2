package engine

import (
	"math"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Deadlines are kept as instants of one clock, nanoseconds since epoch, so
// that they fit in an atomic int64 and keep the monotonic reading.
var epoch = time.Now()

// noDeadline is the instant of "no deadline".
const noDeadline = math.MaxInt64

// maxSlack bounds how much later than IOTimeout a call may time out (see
// slack).
const maxSlack = int64(5 * time.Millisecond)

func mono() int64 { return int64(time.Since(epoch)) }

// instant converts a deadline to the engine's clock (saturating).
func instant(t time.Time) int64 {
	if t.IsZero() {
		return noDeadline
	}
	return int64(t.Sub(epoch))
}

// deadlineAt converts an instant back for net.Conn.
func deadlineAt(x int64) time.Time {
	if x == noDeadline {
		return time.Time{}
	}
	return epoch.Add(time.Duration(x))
}

// later returns a+d, d >= 0, saturating at noDeadline.
func later(a, d int64) int64 {
	if s := a + d; s >= a && s < noDeadline {
		return s
	}
	return noDeadline
}

// slack is how far past now+IOTimeout a deadline is armed. A call that
// finds the armed deadline at least IOTimeout away does not arm it again,
// so a connection busy with many small calls sets a deadline at most once
// per slack instead of once per call (a SetDeadline costs more than the
// send or receive of a small message), and each call times out between
// IOTimeout and IOTimeout plus slack after it started: never early.
func slack(d int64) int64 { return min(d/8, maxSlack) }

// deadlines implements IOTimeout on top of the network connection's
// deadlines: it keeps the absolute deadlines the user set (SetDeadline,
// ...) and the deadline armed on the network connection for each
// direction. The timeout itself is Conn.timeout. A connection gets its
// deadlines when IOTimeout, a deadline or the close handshake first needs
// them (Conn.deadlines): one that uses none carries none.
type deadlines struct {
	// mu serialises changes of the network connection's deadlines. The
	// fast path (IOTimeout 0, or an armed deadline still good) does not
	// take it.
	mu     sync.Mutex
	r, w   deadlineSide
	forced bool // the close handshake set its own bound: IOTimeout no longer arms
}

type deadlineSide struct {
	user  atomic.Int64 // instant set by the user, noDeadline if none
	armed atomic.Int64 // instant set on the network connection
}

// deadlines returns the connection's deadlines, making them on first use.
func (c *Conn) deadlines() *deadlines {
	if dl := c.dl.Load(); dl != nil {
		return dl
	}
	dl := new(deadlines)
	dl.r.user.Store(noDeadline)
	dl.r.armed.Store(noDeadline)
	dl.w.user.Store(noDeadline)
	dl.w.armed.Store(noDeadline)
	if c.dl.CompareAndSwap(nil, dl) {
		return dl
	}
	return c.dl.Load()
}

// good reports whether the armed deadline suits a call that starts now,
// lo = now+IOTimeout and hi = lo+slack: the user's deadline when it is
// earlier than lo, else an instant in [lo, min(user, hi)].
func (s *deadlineSide) good(lo, hi int64) bool {
	u := s.user.Load()
	a := s.armed.Load() // after user: a concurrent setter stores user first
	if u < lo {
		return a == u
	}
	return a >= lo && a <= min(u, hi)
}

// armRead bounds a receive call by IOTimeout from now, its first network
// read. With IOTimeout 0 it is one atomic load.
func (c *Conn) armRead() {
	if d := c.timeout.Load(); d != 0 {
		c.arm(d, true)
	}
}

// armWrite bounds a network write that starts now by IOTimeout (see
// armRead).
func (c *Conn) armWrite() {
	if d := c.timeout.Load(); d != 0 {
		c.arm(d, false)
	}
}

func (c *Conn) arm(d int64, read bool) {
	dl := c.deadlines()
	s := &dl.w
	if read {
		s = &dl.r
	}
	now := mono()
	lo := later(now, d)
	if s.good(lo, later(lo, slack(d))) {
		return
	}
	dl.mu.Lock()
	defer dl.mu.Unlock()
	if d = c.timeout.Load(); d == 0 || dl.forced {
		return // SetIOTimeout(0) restored the user's deadlines meanwhile
	}
	lo = later(now, d)
	hi := later(lo, slack(d))
	if s.good(lo, hi) {
		return
	}
	x := min(s.user.Load(), hi)
	setDeadline(c.nc, read, x)
	s.armed.Store(x)
}

func setDeadline(nc net.Conn, read bool, x int64) error {
	if read {
		return nc.SetReadDeadline(deadlineAt(x))
	}
	return nc.SetWriteDeadline(deadlineAt(x))
}

// setUser records a deadline set by the user and arms it, or, when
// IOTimeout ends sooner, now+IOTimeout.
func (c *Conn) setUser(read, write bool, t time.Time) error {
	u := instant(t)
	dl := c.deadlines()
	nc := c.nc
	dl.mu.Lock()
	defer dl.mu.Unlock()
	x := u
	if d := c.timeout.Load(); d != 0 {
		x = min(u, later(later(mono(), d), slack(d)))
	}
	var err error
	switch {
	case read && write:
		err = nc.SetDeadline(deadlineAt(x))
	case read:
		err = nc.SetReadDeadline(deadlineAt(x))
	default:
		err = nc.SetWriteDeadline(deadlineAt(x))
	}
	if read {
		dl.r.user.Store(u)
		dl.r.armed.Store(x)
	}
	if write {
		dl.w.user.Store(u)
		dl.w.armed.Store(x)
	}
	return err
}

// force arms x on the network connection for both directions, whatever the
// user's deadlines are: the close handshake's own bound. IOTimeout arms
// nothing after it.
func (dl *deadlines) force(nc net.Conn, x int64) {
	dl.mu.Lock()
	dl.forced = true
	_ = nc.SetDeadline(deadlineAt(x))
	dl.r.armed.Store(x)
	dl.w.armed.Store(x)
	dl.mu.Unlock()
}

// forceWrite is force for the write direction only.
func (dl *deadlines) forceWrite(nc net.Conn, x int64) {
	dl.mu.Lock()
	dl.forced = true
	_ = nc.SetWriteDeadline(deadlineAt(x))
	dl.w.armed.Store(x)
	dl.mu.Unlock()
}

// SetIOTimeout sets the IOTimeout (websocket-client's settimeout): from the
// next call on, each blocking receive call (Recv, RecvText, RecvFrame,
// NextReader and each Read of its reader) and each network write (Send,
// SendText, SendBinary, SendFrame, the NextWriter's frames, Flush, a Queue
// that writes, Ping, Pong, the automatic pong and the FlushDelay flush) is
// bounded by d, counted afresh for every call from its
// first wait for the network (a receive served from data already read sets
// no deadline). A call times out between d and d plus a little slack (at
// most d/8 and 5 ms) after that, never earlier; a deadline set with
// SetDeadline, SetReadDeadline or SetWriteDeadline still ends it when it
// comes first. Close waits at most min(d, CloseTimeout) for the peer's
// close frame. 0 (or a negative d) turns it off: only the deadlines set by
// the user apply again. Safe to call concurrently with sends and receives
// (a call already blocked keeps the bound it started with).
//
// A receive that times out returns an error wrapping
// os.ErrDeadlineExceeded (Timeout() true) and leaves the connection usable:
// the next receive continues where it stopped, also in the middle of a
// frame. A write that times out fails the connection (a frame may be half
// written): Connected turns false. A send that waits behind another
// goroutine's write in flight (group commit) waits for that write too, so
// it may take up to twice d.
func (c *Conn) SetIOTimeout(d time.Duration) {
	d = max(d, 0)
	dl := c.deadlines()
	dl.mu.Lock()
	defer dl.mu.Unlock()
	if c.timeout.Swap(int64(d)) == 0 || d != 0 || dl.forced {
		return
	}
	// Off: put the user's deadlines back in place of ours.
	for _, read := range [2]bool{true, false} {
		s := &dl.w
		if read {
			s = &dl.r
		}
		u := s.user.Load()
		if s.armed.Load() != u {
			_ = setDeadline(c.nc, read, u)
			s.armed.Store(u)
		}
	}
}

// IOTimeout returns the IOTimeout (websocket-client's gettimeout); 0 means
// none.
func (c *Conn) IOTimeout() time.Duration { return time.Duration(c.timeout.Load()) }

// SetDeadline sets the read and write deadlines, an absolute time
// (time.Time{}: none). A read that times out in the middle of a frame
// leaves the connection usable: the next read continues the frame. With an
// IOTimeout, whichever ends first bounds each call. Set deadlines here, not
// on NetConn: the Conn keeps track of them.
func (c *Conn) SetDeadline(t time.Time) error { return c.setUser(true, true, t) }

// SetReadDeadline sets the deadline for Recv and the other receive calls
// (see SetDeadline).
func (c *Conn) SetReadDeadline(t time.Time) error { return c.setUser(true, false, t) }

// SetWriteDeadline sets the deadline for Send and the other send calls
// (see SetDeadline). A write that times out leaves the connection unusable
// (a frame may be half written).
func (c *Conn) SetWriteDeadline(t time.Time) error { return c.setUser(false, true, t) }
