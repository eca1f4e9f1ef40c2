package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wsclient/wsclient"
)

// Tuning. None of these grows with the number of connections except where
// said.
const (
	maxDials     = 512 // handshakes in flight at once
	maxClosers   = 512 // close handshakes in flight at the end
	closeWait    = 3 * time.Second
	ackToken     = "wsload-ack" // send mode: the ping payload that acknowledges
	interruptMax = time.Second  // drain bound after Ctrl-C
)

// runner runs one load test. Connections live in slots; each open one has a
// goroutine blocked in Recv (its memory is measured, see README). In open
// loop those goroutines do not send: a few scheduler goroutines walk the
// schedule and send what is due, by themselves while a socket has room,
// else through a small pool of senders.
type runner struct {
	cfg  *config
	opts *wsclient.DialOptions
	st   *stats

	base     time.Time // all times are ns since base (monotonic)
	nsPer    float64   // open loop: ns between consecutive messages of the schedule
	op       wsclient.Opcode
	tmpl     []byte // the message; its first stampLen bytes are rewritten per message when stamp is set
	stamp    bool   // messages carry a sequence number and a timestamp
	stampLen int
	bufs     sync.Pool // *[]byte copies of tmpl to stamp

	slots []slot

	mStart, mEnd atomic.Int64  // measured window [mStart, mEnd); MaxInt64 until known
	stopCh       chan struct{} // closed when sending ends
	stopping     atomic.Bool   // no new connections or reconnections
	closing      atomic.Bool   // we are closing the connections: their errors are ours

	dialCtx    context.Context
	dialCancel context.CancelFunc
	dialSem    chan struct{}
	ready      chan *slot    // connections with messages due (or a ping to send)
	done       chan struct{} // senders exit

	rampWG  sync.WaitGroup // the first dial of every connection
	bgWG    sync.WaitGroup // dials, reconnect timers, readers
	sendWG  sync.WaitGroup // senders
	schedWG sync.WaitGroup // schedulers, blasters

	live, established, failed, reconnects atomic.Int64
}

// slot is one connection of the run, across reconnections.
type slot struct {
	r   *runner
	idx int

	mu       sync.Mutex
	conn     conn   // nil while not connected
	gen      uint32 // connection generation (reconnections)
	next     uint64 // next schedule index (open loop) or sequence number to send
	owed     uint64 // open loop: indexes below owed are due
	queued   bool   // in r.ready, or held by a sender
	counted  bool   // this connection's failure was counted already
	wantPing bool   // send mode: acknowledge with a ping once all is sent
	pinged   bool
	acked    bool
	ackable  int64 // send mode: measured messages sent on this connection, not yet acknowledged
	fails    int   // consecutive failures, for the reconnect backoff
	timer    *time.Timer
	wfd      int // the socket's descriptor, for sendRoom (-1: unknown)
	sndbuf   int // its SO_SNDBUF
	credit   int // bytes the scheduler may still write without asking sendRoom

	inflight atomic.Int64 // sent on this connection, not yet echoed

	// Owned by the reader goroutine.
	expect uint64 // next sequence number expected back
	sentAt int64  // closed loop: intended time of the message in flight
	lastAt int64  // recv mode: arrival of the previous message

	sent, recv       atomic.Int64 // measured window
	allSent, allRecv atomic.Int64 // every phase, for the live progress
	recvBytes        atomic.Int64 // recv mode, measured window
}

func newRunner(cfg *config, stderr io.Writer) *runner {
	r := &runner{cfg: cfg, opts: cfg.dialOptions(), st: newStats()}
	r.op = wsclient.OpBinary
	r.stampLen = 16
	if cfg.text {
		r.op = wsclient.OpText
		r.stampLen = 32
	}
	if cfg.payload != nil {
		r.tmpl = cfg.payload
	} else {
		r.tmpl = make([]byte, cfg.size)
		for i := range r.tmpl {
			r.tmpl[i] = 'a' + byte(i%26)
		}
		r.stamp = cfg.mode != "recv" && cfg.size >= r.stampLen
	}
	if cfg.rate > 0 {
		r.nsPer = 1e9 / cfg.rate
	}
	r.slots = make([]slot, cfg.conns)
	for i := range r.slots {
		r.slots[i].r = r
		r.slots[i].idx = i
	}
	r.mStart.Store(math.MaxInt64)
	r.mEnd.Store(math.MaxInt64)
	r.stopCh = make(chan struct{})
	r.dialCtx, r.dialCancel = context.WithCancel(context.Background())
	r.dialSem = make(chan struct{}, maxDials)
	r.ready = make(chan *slot, cfg.conns)
	r.done = make(chan struct{})
	if sa := newSourceAddrs(cfg.url, stderr); sa != nil && cfg.proxy == "" {
		r.opts.NetDial = sa.dial
	}
	return r
}

func (r *runner) now() int64 { return int64(time.Since(r.base)) }

func (r *runner) openLoop() bool { return r.cfg.rate > 0 }

// at is the intended send time of connection i's k-th message: message
// k*conns+i of the whole run.
func (r *runner) at(i int, k uint64) int64 {
	return int64(float64(k*uint64(len(r.slots))+uint64(i)) * r.nsPer)
}

// firstAt returns connection i's first schedule index due at or after t.
func (r *runner) firstAt(i int, t int64) uint64 {
	k := uint64(max(0, math.Ceil((float64(t)/r.nsPer-float64(i))/float64(len(r.slots)))))
	for k > 0 && r.at(i, k-1) >= t {
		k--
	}
	for r.at(i, k) < t {
		k++
	}
	return k
}

func (r *runner) measured(t int64) bool { return t >= r.mStart.Load() && t < r.mEnd.Load() }

// getBuf returns a message buffer to stamp: the template itself when
// messages are not stamped (it is only read), else a pooled copy. The
// engine copies a message while masking it, so a buffer is free again as
// soon as Send or Queue returns.
func (r *runner) getBuf() *[]byte {
	if !r.stamp {
		return &r.tmpl
	}
	if b, ok := r.bufs.Get().(*[]byte); ok {
		return b
	}
	b := bytes.Clone(r.tmpl)
	return &b
}

func (r *runner) putBuf(b *[]byte) {
	if r.stamp {
		r.bufs.Put(b)
	}
}

// stampMsg writes the sequence number and the intended send time into buf.
func (r *runner) stampMsg(buf []byte, seq uint64, t int64) {
	if !r.stamp {
		return
	}
	if r.op == wsclient.OpText {
		var b [16]byte
		binary.BigEndian.PutUint64(b[:8], seq)
		binary.BigEndian.PutUint64(b[8:], uint64(t))
		hex.Encode(buf[:32], b[:])
		return
	}
	binary.LittleEndian.PutUint64(buf, seq)
	binary.LittleEndian.PutUint64(buf[8:], uint64(t))
}

func (r *runner) unstamp(p []byte) (seq uint64, t int64, ok bool) {
	if r.op == wsclient.OpText {
		var b [16]byte
		if _, err := hex.Decode(b[:], p[:32]); err != nil {
			return 0, 0, false
		}
		return binary.BigEndian.Uint64(b[:8]), int64(binary.BigEndian.Uint64(b[8:])), true
	}
	return binary.LittleEndian.Uint64(p), int64(binary.LittleEndian.Uint64(p[8:])), true
}

// load runs the test described by cfg until -d has been measured or ctx is
// done (Ctrl-C: the results so far are returned).
func load(ctx context.Context, cfg *config, stderr io.Writer) (*Result, error) {
	r := newRunner(cfg, stderr)
	if soft, hard := raiseFileLimit(); soft > 0 {
		if need := uint64(cfg.conns) + 64; soft < need {
			fmt.Fprintf(stderr, "wsload: the open-file limit is %d (hard limit %d), below the %d that -c %d needs: raise the hard limit (ulimit -Hn, LimitNOFILE=, /etc/security/limits.conf) or expect too_many_open_files errors\n", soft, hard, need, cfg.conns)
		}
	}
	var hl *histLog
	if cfg.histOut != "" {
		var err error
		if hl, err = createHistLog(cfg.histOut); err != nil {
			return nil, fmt.Errorf("-hist: %w", err)
		}
		defer hl.close()
	}
	r.base = time.Now()

	nsched := min(max(1, runtime.GOMAXPROCS(0)), 4, cfg.conns)
	switch {
	case cfg.mode == "recv":
	case r.openLoop():
		for i := range nsched {
			r.schedWG.Add(1)
			go r.schedule(i*cfg.conns/nsched, (i+1)*cfg.conns/nsched)
		}
	case cfg.mode == "send":
		nb := min(max(1, 4*runtime.GOMAXPROCS(0)), cfg.conns)
		for i := range nb {
			r.schedWG.Add(1)
			go r.blast(i*cfg.conns/nb, (i+1)*cfg.conns/nb)
		}
	}
	if cfg.mode != "recv" && (r.openLoop() || cfg.mode == "send") {
		// Each sender holds a message buffer: fewer of them for big messages.
		for range min(64, cfg.conns, max(4, (256<<20)/max(len(r.tmpl), 1))) {
			r.sendWG.Add(1)
			go r.sender()
		}
	}
	progStop := make(chan struct{})
	progDone := make(chan struct{})
	go r.progressLoop(progStop, progDone, hl)

	interrupted := !r.ramp(ctx)
	if !interrupted {
		ms := r.now() + int64(cfg.warmup)
		r.mStart.Store(ms)
		r.mEnd.Store(ms + int64(cfg.dur))
		interrupted = !r.waitEnd(ctx)
	}

	// Stop sending; keep reading what is still on its way.
	r.stopping.Store(true)
	now := r.now()
	if now < r.mStart.Load() {
		r.mStart.Store(now) // interrupted before the window: nothing was measured
	}
	if now < r.mEnd.Load() {
		r.mEnd.Store(now)
	}
	close(r.stopCh)
	r.dialCancel()
	r.stopTimers()
	r.schedWG.Wait()
	drain := cfg.drain
	if interrupted {
		drain = min(drain, interruptMax)
	}
	drained := r.drain(drain)
	cpu, rss := usage()
	open := r.live.Load()

	r.closeAll()
	close(r.done)
	r.sendWG.Wait()
	close(progStop)
	<-progDone
	if hl != nil {
		if err := hl.close(); err != nil {
			return nil, fmt.Errorf("-hist: %w", err)
		}
	}
	res := r.result(interrupted, cpu, rss, open)
	res.drained = drained
	return res, nil
}

// ramp opens the connections at -ramp per second and returns once every
// first attempt has ended (false if ctx ended first).
func (r *runner) ramp(ctx context.Context) bool {
	tm := time.NewTimer(time.Hour)
	defer tm.Stop()
	for i := range r.slots {
		if r.cfg.ramp > 0 {
			if d := time.Until(r.base.Add(time.Duration(float64(i) * 1e9 / r.cfg.ramp))); d > 0 {
				tm.Reset(d)
				select {
				case <-tm.C:
				case <-ctx.Done():
					return false
				}
			}
		}
		select {
		case r.dialSem <- struct{}{}:
		case <-ctx.Done():
			return false
		}
		r.rampWG.Add(1)
		r.bgWG.Add(1)
		go r.dial(&r.slots[i], true)
	}
	done := make(chan struct{})
	go func() {
		r.rampWG.Wait()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-ctx.Done():
		return false
	}
}

// waitEnd waits for the end of the measured window; it ends early when no
// connection is left and none will be reopened. It returns false if ctx
// ended first.
func (r *runner) waitEnd(ctx context.Context) bool {
	end := time.NewTimer(time.Duration(r.mEnd.Load() - r.now()))
	defer end.Stop()
	tk := time.NewTicker(100 * time.Millisecond)
	defer tk.Stop()
	for {
		select {
		case <-end.C:
			return true
		case <-ctx.Done():
			return false
		case <-tk.C:
			if !r.cfg.reconnect && r.live.Load() == 0 {
				return true
			}
		}
	}
}

// dial opens (or reopens) a slot's connection. The first dial of a slot is
// started by ramp holding a dialSem token already.
func (r *runner) dial(s *slot, first bool) {
	defer r.bgWG.Done()
	if first {
		defer r.rampWG.Done()
	} else {
		select {
		case r.dialSem <- struct{}{}:
		case <-r.dialCtx.Done():
			return
		}
	}
	c, el, err := r.dialOne()
	<-r.dialSem
	if err != nil {
		if r.dialCtx.Err() != nil {
			return // the run ended
		}
		r.failed.Add(1)
		r.st.countErr(dialErrKind(err))
		r.retry(s)
		return
	}
	if r.stopping.Load() {
		c.Abort()
		return
	}
	r.established.Add(1)
	if !first {
		r.reconnects.Add(1)
	}
	r.st.handshake(int64(el))
	gen := s.attach(c)
	r.bgWG.Add(1)
	// A new goroutine, so that the reader starts on a small stack rather
	// than on one grown by the handshake (TLS, HTTP parsing).
	go r.read(s, c, gen)
}

func (r *runner) dialOne() (conn, time.Duration, error) {
	t0 := time.Now()
	if r.cfg.tcpFloor {
		c, err := dialTCP(r.dialCtx, r.cfg.url, len(r.tmpl), r.cfg.timeout, r.opts.NetDial)
		return c, time.Since(t0), err
	}
	c, err := wsclient.Dial(r.dialCtx, r.cfg.url, r.opts)
	if err != nil {
		return nil, 0, err // not a typed nil in the interface
	}
	return c, time.Since(t0), nil
}

// retry schedules a reconnection with backoff when -reconnect is set.
func (r *runner) retry(s *slot) {
	if !r.cfg.reconnect {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r.stopping.Load() {
		return
	}
	s.fails++
	d := 100 * time.Millisecond << min(s.fails-1, 6)
	d = min(d, 5*time.Second)
	d = d*4/5 + rand.N(d*2/5) // ±20% so that dropped connections do not come back in step
	r.bgWG.Add(1)
	s.timer = time.AfterFunc(d, func() { r.dial(s, false) })
}

// stopTimers cancels pending reconnections.
func (r *runner) stopTimers() {
	for i := range r.slots {
		s := &r.slots[i]
		s.mu.Lock()
		if s.timer != nil && s.timer.Stop() {
			r.bgWG.Done()
		}
		s.timer = nil
		s.mu.Unlock()
	}
}

// attach makes c the slot's connection and returns its generation.
func (s *slot) attach(c conn) uint32 {
	r := s.r
	now := r.now()
	fd, sndbuf := sockInfo(c)
	s.mu.Lock()
	s.conn = c
	s.wfd, s.sndbuf, s.credit = fd, sndbuf, 0
	s.gen++
	s.counted, s.wantPing, s.pinged, s.acked = false, false, false, false
	s.ackable = 0
	s.fails = 0
	s.inflight.Store(0)
	if r.openLoop() {
		k := r.firstAt(s.idx, now)
		s.next, s.owed = k, k
	}
	s.expect = s.next
	s.lastAt = 0
	gen := s.gen
	s.mu.Unlock()
	r.live.Add(1)
	return gen
}

// detach ends generation gen of the slot's connection after its reader
// returned err, counting err unless it was counted or caused by us.
func (s *slot) detach(gen uint32, err error) {
	s.mu.Lock()
	counted := s.counted || s.gen != gen
	s.counted = true
	if s.gen == gen {
		s.conn = nil
	}
	s.inflight.Store(0)
	s.mu.Unlock()
	s.r.live.Add(-1)
	if !counted && !s.r.closing.Load() {
		s.r.st.countErr(connErrKind(err))
	}
}

// fail counts a send error on c (once per connection) and drops c; its
// reader then returns and reconnects if asked to.
func (s *slot) fail(c conn, gen uint32, err error) {
	s.mu.Lock()
	count := s.gen == gen && s.conn == c && !s.counted
	s.counted = true
	s.mu.Unlock()
	if count && !s.r.closing.Load() {
		s.r.st.countErr(connErrKind(err))
	}
	c.Abort()
}

// due marks schedule index k of the slot as due; it reports whether the
// slot was not queued yet (the caller then sends or hands it over).
func (s *slot) due(k uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil || k < s.next {
		return false
	}
	s.owed = max(s.owed, k+1)
	if s.queued {
		return false
	}
	s.queued = true
	return true
}

// dispatch sends what a newly queued slot owes. The scheduler sends by
// itself when the socket's send queue shows the write cannot block (a
// wake-up of a sender costs more CPU than the send; the room seen is kept
// as a credit, so small messages need that syscall rarely), for the first few
// slots of a wake-up; the others, and any connection whose server is not
// reading, go to the senders, so that a full socket never holds up the
// schedule and a scheduler that fell behind gets help.
func (r *runner) dispatch(s *slot, inline bool, buf []byte) {
	if inline {
		s.mu.Lock()
		fd, sndbuf, n := s.wfd, s.sndbuf, int(s.owed-s.next)*(len(r.tmpl)+64)
		ok := fd >= 0 && n <= s.credit
		s.mu.Unlock()
		if fd >= 0 && !ok {
			if free := sendRoom(fd, sndbuf); free >= n {
				ok = true
				s.mu.Lock()
				s.credit = free
				s.mu.Unlock()
			}
		}
		if ok {
			s.mu.Lock()
			s.credit -= n
			s.mu.Unlock()
			for r.sendOwed(s, buf) {
			}
			return
		}
	}
	r.ready <- s // never blocks: a slot is in the channel at most once
}

// inlineMax is how many slots a scheduler sends to by itself per wake-up.
const inlineMax = 8

// schedule walks the open-loop schedule of slots [lo, hi) in time order,
// sleeping until each message is due.
func (r *runner) schedule(lo, hi int) {
	defer r.schedWG.Done()
	tm := time.NewTimer(time.Hour)
	defer tm.Stop()
	sl := newSleeper()
	defer sl.close()
	b := r.getBuf()
	defer r.putBuf(b)
	buf := *b
	var batch []*slot
	var last int64 // last wake-up
	tick := int64(r.cfg.tick)
	i, k := lo, uint64(0)
	for {
		t := r.at(i, k)
		if t >= r.mEnd.Load() {
			return
		}
		r.sleepUntil(max(t, last+tick), tm, sl)
		last = r.now()
		// After the end (or Ctrl-C, which moves the end to now) every
		// message due before it is still handed out. Everything due is
		// marked first, so that a scheduler that fell behind sends each
		// connection's backlog in one write.
		now, end := r.now(), r.mEnd.Load()
		batch = batch[:0]
		for t <= now && t < end {
			if s := &r.slots[i]; s.due(k) {
				batch = append(batch, s)
			}
			if i++; i == hi {
				i, k = lo, k+1
			}
			t = r.at(i, k)
		}
		for j, s := range batch {
			r.dispatch(s, j < inlineMax, buf)
		}
	}
}

// sleepUntil sleeps until time t (ns since base), or until sending stops
// (the end of the window then is at or before now).
func (r *runner) sleepUntil(t int64, tm *time.Timer, sl *sleeper) {
	for {
		d := time.Duration(t - r.now())
		if d <= 0 {
			return
		}
		if d > 2*time.Millisecond {
			tm.Reset(d - time.Millisecond)
			select {
			case <-tm.C:
			case <-r.stopCh:
				return
			}
			continue
		}
		sl.sleep(d)
	}
}

// sender sends what is due on the slots handed to it, catching up on
// everything a slot owes (queued into one write), and the send-mode pings.
func (r *runner) sender() {
	defer r.sendWG.Done()
	b := r.getBuf()
	defer r.putBuf(b)
	buf := *b
	for {
		var s *slot
		select {
		case s = <-r.ready:
		case <-r.done:
			return
		}
		for r.sendOwed(s, buf) {
		}
	}
}

// sendOwed sends what slot s owes (or its send-mode ping) and reports
// whether there was anything; when there was not, the slot is no longer
// queued. The caller holds the slot (queued).
func (r *runner) sendOwed(s *slot, buf []byte) bool {
	s.mu.Lock()
	c, gen, from, to := s.conn, s.gen, s.next, s.owed
	if c != nil && to > from {
		s.next = to
		s.inflight.Add(int64(to - from))
		s.mu.Unlock()
		r.sendRange(s, c, gen, from, to, buf)
		return true
	}
	if c != nil && s.wantPing && !s.pinged {
		s.pinged = true
		s.mu.Unlock()
		if err := c.Ping([]byte(ackToken)); err != nil {
			s.fail(c, gen, err)
		}
		return true
	}
	s.queued = false
	s.mu.Unlock()
	return false
}

// sendRange sends schedule indexes [from, to) of slot s on c.
func (r *runner) sendRange(s *slot, c conn, gen uint32, from, to uint64, buf []byte) {
	var err error
	if to-from == 1 {
		r.stampMsg(buf, from, r.at(s.idx, from))
		err = c.Send(r.op, buf)
	} else {
		for k := from; k < to && err == nil; k++ {
			r.stampMsg(buf, k, r.at(s.idx, k))
			err = c.Queue(r.op, buf)
		}
		if err == nil {
			err = c.Flush()
		}
	}
	if err != nil {
		s.fail(c, gen, err)
		return
	}
	done := r.now()
	var m int64
	for k := from; k < to; k++ {
		if t := r.at(s.idx, k); r.measured(t) {
			m++
			if r.cfg.mode == "send" { // the time the write took from the schedule
				r.st.record(s.idx, done-t, true)
			}
		}
	}
	r.countSent(s, gen, int64(to-from), m)
}

func (r *runner) countSent(s *slot, gen uint32, all, measured int64) {
	s.allSent.Add(all)
	s.sent.Add(measured)
	if r.cfg.mode == "send" && measured > 0 {
		s.mu.Lock()
		if s.gen == gen {
			s.ackable += measured
		}
		s.mu.Unlock()
	}
}

// blast is send mode without a rate: it sends to slots [lo, hi) in turn,
// one message each, as fast as they take them.
func (r *runner) blast(lo, hi int) {
	defer r.schedWG.Done()
	b := r.getBuf()
	defer r.putBuf(b)
	buf := *b
	for {
		any := false
		for i := lo; i < hi; i++ {
			t := r.now()
			if t >= r.mEnd.Load() {
				return
			}
			s := &r.slots[i]
			s.mu.Lock()
			c, gen, seq := s.conn, s.gen, s.next
			s.next++
			s.mu.Unlock()
			if c == nil {
				continue
			}
			any = true
			r.stampMsg(buf, seq, t)
			if err := c.Send(r.op, buf); err != nil {
				s.fail(c, gen, err)
				continue
			}
			m := int64(0)
			if r.measured(t) {
				m = 1
				r.st.record(s.idx, r.now()-t, true)
			}
			r.countSent(s, gen, 1, m)
		}
		if !any {
			select {
			case <-r.stopCh:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
}

// read runs a connection's reader until the connection ends.
func (r *runner) read(s *slot, c conn, gen uint32) {
	defer r.bgWG.Done()
	var err error
	switch r.cfg.mode {
	case "echo":
		err = r.echoLoop(s, c)
	case "send":
		err = r.sinkLoop(s, c, gen)
	default:
		err = r.recvLoop(s, c)
	}
	if !r.closing.Load() {
		c.Abort()
	}
	s.detach(gen, err)
	r.retry(s)
}

func (r *runner) echoLoop(s *slot, c conn) error {
	closed := !r.openLoop()
	if closed {
		if err := r.sendNext(s, c); err != nil {
			return err
		}
	}
	for {
		op, p, err := c.Recv()
		if err != nil {
			return err
		}
		now := r.now()
		t, ok := r.match(s, op, p)
		if !ok {
			continue
		}
		m := r.measured(t)
		r.st.record(s.idx, now-t, m)
		s.inflight.Add(-1)
		s.allRecv.Add(1)
		if m {
			s.recv.Add(1)
		}
		if closed {
			if err := r.sendNext(s, c); err != nil {
				return err
			}
		}
	}
}

// sendNext is the closed loop's send: the next message, now.
func (r *runner) sendNext(s *slot, c conn) error {
	t := r.now()
	if t >= r.mEnd.Load() {
		return nil
	}
	seq := s.next
	s.next++
	s.sentAt = t
	b := r.getBuf()
	r.stampMsg(*b, seq, t)
	s.inflight.Add(1)
	err := c.Send(r.op, *b)
	r.putBuf(b)
	if err != nil {
		return err
	}
	m := int64(0)
	if r.measured(t) {
		m = 1
	}
	s.allSent.Add(1)
	s.sent.Add(m)
	return nil
}

// match checks an echo and returns the intended send time of the message
// it answers. Echoes are matched by the sequence number and time in their
// payload, or in order when the payload carries none (-payload, tiny -s).
func (r *runner) match(s *slot, op wsclient.Opcode, p []byte) (int64, bool) {
	if op != r.op || len(p) != len(r.tmpl) {
		r.st.countErr("bad_echo")
		return 0, false
	}
	var seq uint64
	var t int64
	if r.stamp {
		var ok bool
		seq, t, ok = r.unstamp(p)
		if !ok || !bytes.Equal(p[r.stampLen:], r.tmpl[r.stampLen:]) ||
			(r.openLoop() && t != r.at(s.idx, seq)) ||
			(!r.openLoop() && seq == s.expect && t != s.sentAt) {
			r.st.countErr("bad_echo")
			return 0, false
		}
	} else {
		if !bytes.Equal(p, r.tmpl) {
			r.st.countErr("bad_echo")
			return 0, false
		}
		seq = s.expect
		if r.openLoop() {
			t = r.at(s.idx, seq)
		} else {
			t = s.sentAt
		}
	}
	switch {
	case seq < s.expect:
		r.st.countErr("duplicate_echo")
		return 0, false
	case seq > s.expect: // the server skipped some: they will not come
		n := int64(seq - s.expect)
		r.st.errMu.Lock()
		r.st.errs["missing_echo"] += n
		r.st.nerr += n
		r.st.errMu.Unlock()
		s.inflight.Add(-n)
	}
	s.expect = seq + 1
	return t, true
}

// sinkLoop reads what a sink sends (normally nothing but the pong that
// acknowledges every message sent before the ping).
func (r *runner) sinkLoop(s *slot, c conn, gen uint32) error {
	for {
		f, err := c.RecvFrame()
		if err != nil {
			return err
		}
		if f.Opcode == wsclient.OpPong && string(f.Payload) == ackToken {
			s.mu.Lock()
			if s.gen == gen && s.pinged && !s.acked {
				s.acked = true
				s.recv.Add(s.ackable)
				s.allRecv.Add(s.ackable)
				s.ackable = 0
			}
			s.mu.Unlock()
		}
	}
}

// recvLoop counts what the server pushes; the latency histogram gets the
// gaps between consecutive messages.
func (r *runner) recvLoop(s *slot, c conn) error {
	for {
		_, p, err := c.Recv()
		if err != nil {
			return err
		}
		now := r.now()
		m := r.measured(now)
		if s.lastAt != 0 {
			r.st.record(s.idx, now-s.lastAt, m)
		}
		s.lastAt = now
		s.allRecv.Add(1)
		if m {
			s.recv.Add(1)
			s.recvBytes.Add(int64(len(p)))
		}
	}
}

// drain waits up to limit for the echoes (or, in send mode, the
// acknowledgements) of messages already sent; it reports whether all came.
func (r *runner) drain(limit time.Duration) bool {
	if r.cfg.mode == "recv" {
		return true
	}
	if r.cfg.mode == "send" {
		for i := range r.slots {
			s := &r.slots[i]
			s.mu.Lock()
			push := s.conn != nil && !s.queued
			if s.conn != nil {
				s.wantPing = true
			}
			s.queued = s.queued || push
			s.mu.Unlock()
			if push {
				r.ready <- s
			}
		}
	}
	deadline := time.Now().Add(limit)
	for !r.drained() {
		if !time.Now().Before(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true

}

func (r *runner) drained() bool {
	for i := range r.slots {
		s := &r.slots[i]
		s.mu.Lock()
		busy := s.conn != nil && s.queued
		if s.conn != nil && r.cfg.mode == "send" {
			busy = busy || !s.acked
		} else if s.conn != nil {
			busy = busy || s.inflight.Load() > 0
		}
		s.mu.Unlock()
		if busy {
			return false
		}
	}
	return true
}

// closeAll closes every open connection (close handshake, bounded in time)
// and waits for their readers.
func (r *runner) closeAll() {
	r.closing.Store(true)
	sem := make(chan struct{}, maxClosers)
	var wg sync.WaitGroup
	deadline := time.Now().Add(closeWait)
	for i := range r.slots {
		s := &r.slots[i]
		s.mu.Lock()
		c := s.conn
		s.mu.Unlock()
		if c == nil {
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if time.Now().Before(deadline) {
				c.Close(wsclient.StatusNormal, "")
			}
			c.Abort()
			<-sem
		}()
	}
	wg.Wait()
	r.bgWG.Wait()
}

// sourceAddrs dials loopback targets from 127.0.0.1, and moves on to
// 127.0.0.2, 127.0.0.3, ... when the ephemeral ports towards the target run
// out (EADDRNOTAVAIL): each source address has its own ~28,000 ports.
type sourceAddrs struct {
	cur    atomic.Int32 // 0: the kernel's choice; n: bind 127.0.0.(n+1)
	stderr io.Writer
	// dialer opens the connection (a test hook; net.Dialer.DialContext
	// by default).
	dialer func(d *net.Dialer, ctx context.Context, network, addr string) (net.Conn, error)
}

// newSourceAddrs returns nil unless the URL's host is an IPv4 loopback
// address.
func newSourceAddrs(rawurl string, stderr io.Writer) *sourceAddrs {
	u, err := url.Parse(rawurl)
	if err != nil || strings.Contains(strings.ToLower(u.Scheme), "unix") {
		return nil
	}
	ip := net.ParseIP(u.Hostname())
	if ip == nil || ip.To4() == nil || !ip.IsLoopback() {
		return nil
	}
	return &sourceAddrs{stderr: stderr}
}

func (sa *sourceAddrs) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	for {
		n := sa.cur.Load()
		d := &net.Dialer{KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: 30 * time.Second, Interval: 10 * time.Second, Count: 3}}
		if n > 0 {
			d.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(n+1))}
			d.Control = bindNoPort
		}
		var c net.Conn
		var err error
		if sa.dialer != nil {
			c, err = sa.dialer(d, ctx, network, addr)
		} else {
			c, err = d.DialContext(ctx, network, addr)
		}
		if err == nil || !errors.Is(err, syscall.EADDRNOTAVAIL) || n >= 253 {
			return c, err
		}
		if sa.cur.CompareAndSwap(n, n+1) {
			fmt.Fprintf(sa.stderr, "wsload: out of local ports from %s; now connecting from 127.0.0.%d\n", srcName(n), n+2)
		}
	}
}

func srcName(n int32) string {
	if n == 0 {
		return "the default source address"
	}
	return fmt.Sprintf("127.0.0.%d", n+1)
}
