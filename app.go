package wsclient

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsclient/wsclient/codec"
)

// App is an event-driven client with keepalive pings and reconnects:
// websocket-client's WebSocketApp. Every callback is optional (nil is
// ignored) and gets the App, so it can send or close from inside. Callbacks
// run one at a time on the goroutine that called RunForever, in order.
//
//	app := &wsclient.App{
//		URL: "wss://example.com/feed",
//		OnOpen:    func(a *wsclient.App) { a.SendText(`{"subscribe":"ticker"}`) },
//		OnMessage: func(a *wsclient.App, op wsclient.Opcode, msg []byte) { fmt.Printf("%s\n", msg) },
//	}
//	err := app.RunForever(ctx, wsclient.RunOptions{PingInterval: 20 * time.Second, PingTimeout: 10 * time.Second, Reconnect: true})
type App struct {
	// URL and Options are what each (re)connect dials.
	//
	// Options.IOTimeout bounds the App's writes (Send, pings, the close
	// handshake) and each read, but a read that IOTimeout ended is not an
	// error for the App: its dispatcher keeps reading, as
	// websocket-client's dispatcher waits for data without a timeout, so
	// a quiet connection stays open (and a message that stalled half-way
	// continues). Use RunOptions.PingTimeout to find a dead peer. A write
	// that timed out fails the connection: the dispatcher then ends it at
	// its next read timeout. A read deadline set on Conn() still ends the
	// connection when it passes, as without IOTimeout.
	URL     string
	Options DialOptions
	// HeaderFunc, if set, is called before every (re)connect and its headers
	// are added to Options.Header (websocket-client's callable header=), e.g.
	// for fresh auth tokens.
	HeaderFunc func() http.Header

	// OnOpen is called after the first successful connect.
	OnOpen func(a *App)
	// OnReconnect is called instead of OnOpen after each later connect;
	// when it is nil, OnOpen is called again (as websocket-client does).
	OnReconnect func(a *App)
	// OnMessage is called with each data message (websocket-client's
	// on_message): the whole message, or, when OnContMessage is set, the
	// first frame of a fragmented message (the later frames go to
	// OnContMessage), exactly as websocket-client does. data is valid only
	// until OnMessage returns: copy it (bytes.Clone) to keep it.
	OnMessage func(a *App, op Opcode, data []byte)
	// OnData is websocket-client's on_data: it is called just before each
	// OnMessage call with the same data, op and fin true, and, when
	// OnContMessage is set, just before each OnContMessage call with the
	// same data, OpContinuation and fin. Without OnContMessage it therefore
	// runs once per whole message. op is always the message's opcode
	// (websocket-client passes 0 for a fragmented message there, against
	// its own documentation). data is valid during the call.
	OnData func(a *App, op Opcode, data []byte, fin bool)
	// OnContMessage is websocket-client's on_cont_message. Setting it
	// delivers messages frame by frame as they arrive: the first frame of
	// a message goes to OnMessage, each later frame to OnContMessage with
	// its FIN bit (fin true on the last), so OnMessage's data followed by
	// the OnContMessage data up to fin is the message. An unfragmented
	// message goes to OnMessage only. A compressed message
	// (permessage-deflate) cannot be inflated frame by frame: it goes to
	// OnMessage whole, inflated, once its last frame arrived, as if
	// unfragmented. data is valid during the call.
	OnContMessage func(a *App, data []byte, fin bool)
	// OnError is called with every error: failed dials, lost connections,
	// ping timeouts, panics in callbacks (as *PanicError).
	OnError func(a *App, err error)
	// OnClose is called exactly once for every connection that was opened
	// (OnOpen or OnReconnect), however it ended. code and reason are those
	// of the completed close handshake, whoever started it: the server's
	// close frame, also when Close or a cancelled ctx started the handshake.
	// code is StatusAbnormalClosure (1006) when the connection was lost or
	// dropped (ping timeout) without a close frame.
	OnClose func(a *App, code StatusCode, reason string)
	// OnPing and OnPong are called for received pings and pongs (pings are
	// answered automatically unless Options.DisableAutoPong).
	OnPing func(a *App, payload []byte)
	OnPong func(a *App, payload []byte)

	mu         sync.Mutex
	conn       *Conn
	running    bool
	cancel     context.CancelFunc // ends the running RunForever
	stopped    bool               // Close was called; cleared when RunForever returns
	stopCode   StatusCode         // Close's code and reason
	stopReason string
	lastPong   atomic.Int64 // when the last pong arrived, as time.Since(appEpoch)
}

// appEpoch is the origin of App.lastPong (monotonic clock).
var appEpoch = time.Now()

// RunOptions tunes RunForever (websocket-client's run_forever arguments).
type RunOptions struct {
	// PingInterval sends a ping this often (ping_interval); 0 sends none,
	// unless PingTimeout is set alone: the interval is then twice
	// PingTimeout (as websocket-client, which accepts ping_timeout alone).
	PingInterval time.Duration
	// PingTimeout: when no pong arrives this long after a ping was due,
	// the connection is treated as dead (ping_timeout): ErrPingTimeout goes
	// to OnError and the connection is dropped (OnClose gets 1006), then
	// RunForever reconnects or returns. It is measured from the moment the
	// ping was due, so it fires even while the ping cannot be written (a
	// send blocked on a peer that stopped reading). It must be shorter than
	// PingInterval. It is what finds a dead peer: App.Options.IOTimeout
	// does not end a quiet connection (see App.URL).
	PingTimeout time.Duration
	// PingPayload is sent in each ping (ping_payload), at most 125 bytes.
	PingPayload []byte

	// Reconnect redials after the connection is lost or a dial fails
	// (reconnect=), with exponential backoff and jitter between
	// ReconnectMin (default 1 s) and ReconnectMax (default 30 s): the n-th
	// wait in a row is drawn from [b/2, b] with b = ReconnectMin·2ⁿ⁻¹, at
	// most ReconnectMax. When ReconnectMin equals ReconnectMax (a
	// ReconnectMax below ReconnectMin counts as equal), every wait is
	// exactly that long, without jitter: websocket-client's reconnect=N is
	// ReconnectMin: N * time.Second, ReconnectMax: N * time.Second.
	Reconnect                  bool
	ReconnectMin, ReconnectMax time.Duration
	// ReconnectOnClose also reconnects after the server closed the
	// connection gracefully (off by default, as in websocket-client).
	ReconnectOnClose bool
	// StableAfter is how long a connection must stay up for the backoff to
	// start again from ReconnectMin (default 30 s).
	StableAfter time.Duration
}

// ErrPingTimeout is reported when no pong arrived within PingTimeout. Like
// every timeout the library returns, it reports Timeout() true:
// errors.As(err, &ne) with ne interface{ Timeout() bool } matches it.
var ErrPingTimeout error = &timeoutError{"wsclient: no pong within ping timeout"}

// ErrAppRunning is returned by RunForever when the App is already running.
var ErrAppRunning = errors.New("wsclient: App is already running")

// timeoutError is an error that reports itself as a timeout (net.Error's
// Timeout), for sentinels such as ErrPingTimeout.
type timeoutError struct{ s string }

func (e *timeoutError) Error() string { return e.s }
func (e *timeoutError) Timeout() bool { return true }

// PanicError reports a panic recovered in an App callback. The connection
// is closed with 1011 (internal error).
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("wsclient: panic in App callback: %v\n%s", e.Value, e.Stack)
}

func (o *RunOptions) check() error {
	switch {
	case o.PingInterval < 0 || o.PingTimeout < 0 || o.ReconnectMin < 0 || o.ReconnectMax < 0 || o.StableAfter < 0:
		return fmt.Errorf("%w: RunOptions durations must not be negative", ErrInvalidOption)
	case o.PingTimeout > 0 && o.PingInterval > 0 && o.PingTimeout >= o.PingInterval:
		return fmt.Errorf("%w: PingTimeout (%v) must be shorter than PingInterval (%v)", ErrInvalidOption, o.PingTimeout, o.PingInterval)
	case len(o.PingPayload) > 125:
		return fmt.Errorf("%w: PingPayload is %d bytes, more than 125", ErrInvalidOption, len(o.PingPayload))
	}
	if o.PingTimeout > 0 && o.PingInterval == 0 {
		o.PingInterval = 2 * o.PingTimeout
	}
	if o.ReconnectMin == 0 {
		o.ReconnectMin = time.Second
	}
	if o.ReconnectMax == 0 {
		o.ReconnectMax = 30 * time.Second
	}
	if o.ReconnectMax < o.ReconnectMin {
		o.ReconnectMax = o.ReconnectMin
	}
	if o.StableAfter == 0 {
		o.StableAfter = 30 * time.Second
	}
	return nil
}

// reconnectDelay is the wait before a redial at the given backoff: exactly
// ReconnectMin when it equals ReconnectMax, else jittered in
// [backoff/2, backoff].
func (o *RunOptions) reconnectDelay(backoff time.Duration) time.Duration {
	if o.ReconnectMin == o.ReconnectMax {
		return o.ReconnectMin
	}
	return backoff/2 + rand.N(backoff/2+1)
}

// RunForever connects and dispatches events until ctx is cancelled, Close
// is called, or the connection ends without Reconnect. Cancelling ctx sends
// close 1000 and returns nil; Close ends it the same way with its own code,
// whenever it is called: before RunForever starts (then RunForever returns
// nil at once), during a dial or handshake (abandoned: nothing opens),
// while connected, or while waiting to reconnect. A server close (without
// ReconnectOnClose) returns nil; a failed first dial without Reconnect
// returns its error; a lost connection without Reconnect returns what
// broke it. No goroutine started by RunForever outlives it.
func (a *App) RunForever(ctx context.Context, o RunOptions) error {
	if err := o.check(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx) // cancelled by Close too
	defer cancel()
	a.mu.Lock()
	if a.running {
		a.mu.Unlock()
		return ErrAppRunning
	}
	a.running, a.cancel = true, cancel
	if a.stopped { // Close came first
		cancel()
	}
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		a.running, a.cancel, a.stopped = false, nil, false
		a.mu.Unlock()
	}()

	opened := false
	backoff := o.ReconnectMin
	for ctx.Err() == nil {
		c, err := a.dial(ctx)
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return nil
			}
			a.report(err)
			if !o.Reconnect {
				return err
			}
		case ctx.Err() != nil:
			// Stopped while the handshake completed: the connection is
			// closed without being opened (no OnOpen, no OnClose).
			code, reason := a.closeArgs()
			c.Close(code, reason)
			return nil
		default:
			start := time.Now()
			graceful, err := a.session(ctx, c, &o, opened)
			opened = true
			if ctx.Err() != nil {
				return nil
			}
			if graceful && !o.ReconnectOnClose {
				return nil
			}
			if !o.Reconnect {
				return err
			}
			if time.Since(start) >= o.StableAfter {
				backoff = o.ReconnectMin
			}
		}
		t := time.NewTimer(o.reconnectDelay(backoff))
		backoff = min(2*backoff, o.ReconnectMax)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
	return nil
}

// closeArgs returns the code and reason to close with: Close's, or 1000
// when ctx was cancelled.
func (a *App) closeArgs() (StatusCode, string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.stopped {
		return a.stopCode, a.stopReason
	}
	return StatusNormal, ""
}

func (a *App) dial(ctx context.Context) (*Conn, error) {
	opts := a.Options
	if a.HeaderFunc != nil {
		h := opts.Header.Clone()
		if h == nil {
			h = http.Header{}
		}
		for k, v := range a.HeaderFunc() {
			h[http.CanonicalHeaderKey(k)] = v
		}
		opts.Header = h
	}
	userPing, userPong := opts.OnPing, opts.OnPong
	opts.OnPing = func(p []byte) {
		if userPing != nil {
			userPing(p)
		}
		if a.OnPing != nil {
			a.OnPing(a, p)
		}
	}
	opts.OnPong = func(p []byte) {
		a.lastPong.Store(int64(time.Since(appEpoch)))
		if userPong != nil {
			userPong(p)
		}
		if a.OnPong != nil {
			a.OnPong(a, p)
		}
	}
	return Dial(ctx, a.URL, &opts)
}

func (a *App) report(err error) {
	if a.OnError != nil {
		defer func() { recover() }() // a panicking OnError must not kill the loop
		a.OnError(a, err)
	}
}

// session runs one connection: callbacks, pings, and the end of it. It
// reports whether the server closed gracefully and the error that ended it.
// Cancelling ctx (RunForever's, or Close) starts the close handshake.
func (a *App) session(ctx context.Context, c *Conn, o *RunOptions, reopened bool) (graceful bool, err error) {
	a.mu.Lock()
	a.conn = c
	a.mu.Unlock()
	defer func() {
		a.mu.Lock()
		a.conn = nil
		a.mu.Unlock()
	}()

	done := make(chan struct{})
	var wg sync.WaitGroup
	defer func() {
		close(done)
		wg.Wait()
	}()
	closing := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		defer close(closing)
		code, reason := a.closeArgs()
		c.Close(code, reason)
	})

	var pingErr atomic.Pointer[error]
	if o.PingInterval > 0 {
		a.keepalive(c, o, done, &wg, &pingErr)
	}

	err = a.dispatch(c, reopened)
	if p := pingErr.Load(); p != nil {
		err = *p
	}
	var pe *PanicError
	if errors.As(err, &pe) {
		c.Close(StatusInternalError, "")
	}
	if !stop() {
		<-closing // our close handshake started: let it finish
	}
	code, reason := closeStatus(c, err)
	graceful = code != StatusAbnormalClosure && pe == nil && pingErr.Load() == nil
	if !graceful && ctx.Err() == nil {
		a.report(err)
	}
	c.Abort()
	if a.OnClose != nil {
		func() {
			defer func() {
				if r := recover(); r != nil {
					a.report(&PanicError{Value: r, Stack: debug.Stack()})
				}
			}()
			a.OnClose(a, code, reason)
		}()
	}
	return graceful, err
}

// keepalive starts the pinger, which only times, and the goroutine that
// writes the pings it asks for, so that a write stuck behind a stalled peer
// cannot delay the timeout. On a timeout it stores the error and aborts the
// connection, which unblocks writers stuck on the dead peer too.
func (a *App) keepalive(c *Conn, o *RunOptions, done <-chan struct{}, wg *sync.WaitGroup, pingErr *atomic.Pointer[error]) {
	pings := make(chan struct{}, 1)
	wg.Add(2)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			case <-pings:
				c.Ping(o.PingPayload) // a failure: the reader sees the broken connection
			}
		}
	}()
	go func() {
		defer wg.Done()
		if err := a.pinger(o, pings, done); err != nil {
			pingErr.Store(&err)
			c.Abort()
		}
	}()
}

// closeStatus returns the code and reason of the completed close handshake,
// whoever started it: the peer's close frame may have been read by Close
// rather than by the dispatcher (a callback that called Close and kept
// running). Without one it is 1006.
func closeStatus(c *Conn, err error) (StatusCode, string) {
	if pc := c.PeerClose(); pc != nil {
		return pc.Code, pc.Reason
	}
	var ce *CloseError
	if errors.As(err, &ce) {
		return ce.Code, ce.Reason
	}
	return StatusAbnormalClosure, ""
}

// dispatch reads until the connection ends, calling the callbacks. A panic
// in a callback is returned as *PanicError.
func (a *App) dispatch(c *Conn, reopened bool) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	// websocket-client calls on_open again after a reconnect when there is
	// no on_reconnect.
	if reopened && a.OnReconnect != nil {
		a.OnReconnect(a)
	} else if a.OnOpen != nil {
		a.OnOpen(a)
	}
	if a.OnContMessage == nil {
		for { // whole messages, zero copy
			start := recvStart(c)
			op, p, err := c.Recv()
			if err != nil {
				if idleTimeout(c, start, err) {
					continue
				}
				return err
			}
			a.message(op, p)
		}
	}
	// Frame by frame (websocket-client's fire_cont_frame).
	var msgOp Opcode
	var compressed bool // the message in progress is permessage-deflate
	for {
		start := recvStart(c)
		f, err := c.RecvFrame()
		if err != nil {
			if idleTimeout(c, start, err) {
				continue
			}
			return err
		}
		switch {
		case isControl(f.Opcode):
			// OnPing/OnPong already ran
		case f.Opcode != OpContinuation:
			msgOp, compressed = f.Opcode, f.Compressed
			if !compressed {
				a.message(msgOp, f.Payload)
			} else if f.Fin {
				a.message(msgOp, f.Inflated)
			}
		case compressed:
			if f.Fin {
				a.message(msgOp, f.Inflated)
			}
		default:
			if a.OnData != nil {
				a.OnData(a, OpContinuation, f.Payload, f.Fin)
			}
			a.OnContMessage(a, f.Payload, f.Fin)
		}
	}
}

// recvStart returns when a receive call bounded by IOTimeout starts (the
// zero time without IOTimeout).
func recvStart(c *Conn) time.Time {
	if c.IOTimeout() > 0 {
		return time.Now()
	}
	return time.Time{}
}

// idleTimeout reports whether err, from a receive call that started at
// start, is IOTimeout ending a wait on a connection that is still usable:
// the dispatcher then keeps reading. A timeout that came sooner than
// IOTimeout is a read deadline the application set, and ends the
// connection as it does without IOTimeout (and cannot make the dispatcher
// spin on a deadline in the past).
func idleTimeout(c *Conn, start time.Time, err error) bool {
	d := c.IOTimeout()
	if start.IsZero() || d <= 0 || !c.Connected() {
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() && time.Since(start) >= d
}

// message calls OnData and OnMessage, as websocket-client does for a
// message or the first frame of one.
func (a *App) message(op Opcode, p []byte) {
	if a.OnData != nil {
		a.OnData(a, op, p, true)
	}
	if a.OnMessage != nil {
		a.OnMessage(a, op, p)
	}
}

// pinger asks for a ping (on pings) every PingInterval and returns
// ErrPingTimeout when no pong arrived within PingTimeout of the moment a
// ping was due, whether or not the ping could be written by then.
func (a *App) pinger(o *RunOptions, pings chan<- struct{}, done <-chan struct{}) error {
	tick := time.NewTicker(o.PingInterval)
	defer tick.Stop()
	var wait *time.Timer
	defer func() {
		if wait != nil {
			wait.Stop()
		}
	}()
	var expired <-chan time.Time // armed while a ping awaits its pong
	var due time.Duration        // when that ping was due (since appEpoch)
	for {
		select {
		case <-done:
			return nil
		case at := <-tick.C:
			select {
			case pings <- struct{}{}:
			default: // the previous ping is still being written: no second one
			}
			if o.PingTimeout > 0 && expired == nil {
				due = at.Sub(appEpoch)
				left := o.PingTimeout - time.Since(at)
				if wait == nil {
					wait = time.NewTimer(left)
				} else {
					wait.Reset(left)
				}
				expired = wait.C
			}
		case <-expired:
			expired = nil
			if time.Duration(a.lastPong.Load()) < due {
				return fmt.Errorf("%w (%v)", ErrPingTimeout, o.PingTimeout)
			}
		}
	}
}

func (a *App) current() (*Conn, error) {
	a.mu.Lock()
	c := a.conn
	a.mu.Unlock()
	if c == nil {
		return nil, fmt.Errorf("%w: the App has no connection", ErrClosed)
	}
	return c, nil
}

// Send sends a message on the current connection. It returns
// an error wrapping ErrClosed while there is none. Safe from any goroutine and from
// callbacks.
func (a *App) Send(op Opcode, p []byte) error {
	c, err := a.current()
	if err != nil {
		return err
	}
	return c.Send(op, p)
}

// SendText sends a text message (see Send).
func (a *App) SendText(s string) error {
	c, err := a.current()
	if err != nil {
		return err
	}
	return c.SendText(s)
}

// SendBinary sends a binary message (see Send).
func (a *App) SendBinary(p []byte) error { return a.Send(OpBinary, p) }

// Conn returns the current connection, or nil while disconnected.
func (a *App) Conn() *Conn {
	c, _ := a.current()
	return c
}

// Close stops the App: it starts the closing handshake of the current
// connection with code and reason (OnClose then gets the code and reason of
// the server's answer) and stops RunForever from reconnecting. A dial or
// handshake in progress is abandoned and a reconnect wait cut short;
// RunForever returns nil once the connection ended. Called before
// RunForever starts, it makes RunForever return nil at once. It does not
// wait, so it is safe from callbacks. A second Close is a no-op.
func (a *App) Close(code StatusCode, reason string) error {
	if err := codec.CheckClose(ws.StatusCode(code), reason); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidFrame, err)
	}
	a.mu.Lock()
	if a.stopped {
		a.mu.Unlock()
		return nil
	}
	a.stopped, a.stopCode, a.stopReason = true, code, reason
	cancel := a.cancel
	a.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	return nil
}

// isControl reports whether op is a control opcode (close, ping, pong;
// RFC 6455 §5.5).
func isControl(op Opcode) bool { return op&0x8 != 0 }
