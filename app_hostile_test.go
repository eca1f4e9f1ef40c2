package wsclient

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/wsclient/wsclient/internal/testserver"
	"github.com/wsclient/wsclient/internal/testutil"
	"github.com/wsclient/wsclient/internal/wsserver"
)

// App against peers and goroutines that race it: Close at any moment, a
// close started from a callback, a server that stops reading while the
// App writes. The robustness suite runs these names with -race -count=20.

// verifyNoLeaks checks, after every cleanup of the test (servers closed),
// that no goroutine started during it is left.
func verifyNoLeaks(t *testing.T) {
	t.Helper()
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) })
}

func startWSServer(t *testing.T) *wsserver.Server {
	t.Helper()
	s, err := wsserver.Start(wsserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// runApp runs a.RunForever in a goroutine; the channel gets its result.
func runApp(ctx context.Context, a *App, o RunOptions) <-chan error {
	errc := make(chan error, 1)
	go func() { errc <- a.RunForever(ctx, o) }()
	return errc
}

// waitRun waits for RunForever's result; a RunForever still running after
// limit (far longer than any close handshake here) is the failure.
func waitRun(t *testing.T, errc <-chan error, limit time.Duration, what string) error {
	t.Helper()
	select {
	case err := <-errc:
		return err
	case <-time.After(limit):
		t.Fatalf("%s: RunForever still running after %v", what, limit)
		return nil
	}
}

// openCounter counts opened connections (OnOpen, OnReconnect) and OnClose
// calls, and the opens that started after Close was called.
type openCounter struct {
	closeCalled          atomic.Bool
	opens, closes, after atomic.Int32
}

func (c *openCounter) app(url string) *App {
	open := func(a *App) {
		c.opens.Add(1)
		if c.closeCalled.Load() {
			c.after.Add(1)
		}
	}
	return &App{
		URL:         url,
		OnOpen:      open,
		OnReconnect: open,
		OnClose:     func(a *App, code StatusCode, reason string) { c.closes.Add(1) },
	}
}

func (c *openCounter) check(t *testing.T, what string) {
	t.Helper()
	if o, cl := c.opens.Load(), c.closes.Load(); o != cl {
		t.Errorf("%s: %d connections opened, %d OnClose calls", what, o, cl)
	}
	if n := c.after.Load(); n > 1 {
		t.Errorf("%s: %d OnOpen/OnReconnect after Close", what, n)
	}
}

// TestRaceAppCloseAnyMoment calls Close at moments spread over
// RunForever's life: before it starts, while it dials, during the
// handshake, while connected, and between reconnects (a server that closes
// every connection at once). RunForever must end each time.
func TestRaceAppCloseAnyMoment(t *testing.T) {
	verifyNoLeaks(t)
	s := startWSServer(t)
	for i := range 24 {
		path, o := "echo", RunOptions{}
		if i%2 == 1 {
			path = "close/1001/bye"
			o = RunOptions{Reconnect: true, ReconnectOnClose: true, ReconnectMin: time.Millisecond, ReconnectMax: 2 * time.Millisecond}
		}
		c := &openCounter{}
		a := c.app(s.URL() + path)
		errc := runApp(context.Background(), a, o)
		time.Sleep(time.Duration(i/2) * 250 * time.Microsecond)
		c.closeCalled.Store(true)
		if err := a.Close(StatusNormal, ""); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := waitRun(t, errc, 10*time.Second, path); err != nil {
			t.Errorf("%s: RunForever after Close: %v", path, err)
		}
		c.check(t, path)
	}
}

// heldHandshake is a server that reads the opening handshake request,
// reports it on req and answers 101 only once release is closed; then it
// reads until the client goes away.
func heldHandshake(t *testing.T) (url string, req <-chan struct{}, release chan<- struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	reqc, rel := make(chan struct{}, 1), make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer nc.Close()
				nc.SetDeadline(time.Now().Add(20 * time.Second))
				br := bufio.NewReader(nc)
				r, err := http.ReadRequest(br)
				if err != nil {
					return
				}
				select {
				case reqc <- struct{}{}:
				default:
				}
				<-rel
				nc.Write([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
					testutil.AcceptKey(r.Header.Get("Sec-WebSocket-Key")) + "\r\n\r\n"))
				var b [512]byte
				for {
					if _, err := br.Read(b[:]); err != nil {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	return "ws://" + ln.Addr().String() + "/", reqc, rel
}

// TestRaceAppCloseDuringHandshake: Close while the server holds its 101
// answer. The handshake is abandoned; the server's late 101 opens nothing.
func TestRaceAppCloseDuringHandshake(t *testing.T) {
	verifyNoLeaks(t)
	url, req, release := heldHandshake(t)
	c := &openCounter{}
	a := c.app(url)
	a.Options.CloseTimeout = 200 * time.Millisecond
	errc := runApp(context.Background(), a, RunOptions{Reconnect: true, ReconnectMin: time.Millisecond})
	<-req
	c.closeCalled.Store(true)
	if err := a.Close(StatusNormal, ""); err != nil {
		t.Fatal(err)
	}
	close(release)
	if err := waitRun(t, errc, 5*time.Second, "close during handshake"); err != nil {
		t.Fatalf("RunForever: %v", err)
	}
	c.check(t, "close during handshake")
}

// TestRaceAppCloseDuringReconnectWait: Close while RunForever waits to
// redial (after a failed dial, and after a lost connection) ends it at
// once instead of sleeping out a 30 s backoff.
func TestRaceAppCloseDuringReconnectWait(t *testing.T) {
	verifyNoLeaks(t)
	s := startWSServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "ws://" + ln.Addr().String() + "/"
	ln.Close()
	for _, url := range []string{refused, s.URL() + "close/1001/bye"} {
		waiting := make(chan struct{}, 4)
		a := &App{
			URL:     url,
			OnError: func(a *App, err error) { waiting <- struct{}{} },
			OnClose: func(a *App, code StatusCode, reason string) { waiting <- struct{}{} },
		}
		o := RunOptions{Reconnect: true, ReconnectOnClose: true, ReconnectMin: 30 * time.Second, ReconnectMax: 30 * time.Second}
		errc := runApp(context.Background(), a, o)
		<-waiting
		time.Sleep(20 * time.Millisecond) // RunForever is in its backoff now
		a.Close(StatusNormal, "")
		// The backoff is at least 15 s; a RunForever that sleeps it out fails.
		if err := waitRun(t, errc, 5*time.Second, url); err != nil {
			t.Fatalf("%s: RunForever: %v", url, err)
		}
	}
}

// TestHostileAppCloseCodeFromCallback: OnMessage calls Close(4000,
// "custom") and keeps running; the server answers 4000 "custom", and that
// is what OnClose gets, however long the callback takes to return.
func TestHostileAppCloseCodeFromCallback(t *testing.T) {
	verifyNoLeaks(t)
	s := startWSServer(t)
	py := testserver.StartPython(t, testserver.PyOptions{})
	for _, url := range []string{s.URL() + "echo", "ws://" + py.Addr + "/echo"} {
		for _, linger := range []time.Duration{0, 100 * time.Millisecond} {
			ev := &events{}
			a := recordingApp(url, ev)
			a.OnOpen = func(a *App) { a.SendText("hi") }
			a.OnMessage = func(a *App, op Opcode, p []byte) {
				ev.add("msg %s", p)
				a.Close(4000, "custom")
				time.Sleep(linger)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err := a.RunForever(ctx, RunOptions{})
			cancel()
			if err != nil {
				t.Fatalf("%s: %v", url, err)
			}
			if got, want := ev.String(), "msg hi | close 4000 custom"; got != want {
				t.Errorf("%s, callback returns after %v: events %q, want %q", url, linger, got, want)
			}
		}
	}
}

// TestHostileAppPingTimeoutWhileWriteBlocked: the server stops reading
// while the App sends large messages, so every write (the ping's too)
// blocks. The ping timeout still fires, measured from when the ping was
// due: ErrPingTimeout goes to OnError, the connection is dropped (OnClose
// 1006) and RunForever reconnects.
func TestHostileAppPingTimeoutWhileWriteBlocked(t *testing.T) {
	verifyNoLeaks(t)
	py := testserver.StartPython(t, testserver.PyOptions{})
	ev := &events{}
	a := recordingApp("ws://"+py.Addr+"/silent", ev)
	a.Options.CloseTimeout = 200 * time.Millisecond
	a.Options.NetDial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		nc, err := d.DialContext(ctx, network, addr)
		if tc, ok := nc.(*net.TCPConn); ok {
			tc.SetWriteBuffer(16 << 10)
		}
		return nc, err
	}
	big := make([]byte, 1<<20)
	flood := func(a *App) {
		for a.SendBinary(big) == nil {
		}
		ev.add("send failed")
	}
	a.OnOpen, a.OnReconnect = flood, flood
	closes := 0
	a.OnClose = func(a *App, code StatusCode, reason string) {
		ev.add("close %d", code)
		if closes++; closes == 2 {
			a.Close(StatusNormal, "")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := a.RunForever(ctx, RunOptions{PingInterval: 500 * time.Millisecond, PingTimeout: 400 * time.Millisecond,
		Reconnect: true, ReconnectMin: 10 * time.Millisecond, ReconnectMax: 10 * time.Millisecond})
	if err != nil || ctx.Err() != nil {
		t.Fatalf("RunForever: %v, ctx: %v (events %s)", err, ctx.Err(), ev)
	}
	pt := "error " + ErrPingTimeout.Error()
	want := "send failed | " + pt + " (400ms) | close 1006"
	if got := ev.String(); got != want+" | "+want {
		t.Fatalf("events:\n got %s\nwant %s | %s", got, want, want)
	}
}
