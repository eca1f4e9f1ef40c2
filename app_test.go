package wsclient

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/wsclient/wsclient/internal/testserver"
)

// events records App callbacks in order.
type events struct {
	mu  sync.Mutex
	log []string
}

func (e *events) add(format string, a ...any) {
	e.mu.Lock()
	e.log = append(e.log, fmt.Sprintf(format, a...))
	e.mu.Unlock()
}

func (e *events) String() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return strings.Join(e.log, " | ")
}

func (e *events) count(prefix string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, l := range e.log {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

func recordingApp(url string, ev *events) *App {
	return &App{
		URL:         url,
		OnOpen:      func(a *App) { ev.add("open") },
		OnReconnect: func(a *App) { ev.add("reconnect") },
		OnMessage:   func(a *App, op Opcode, p []byte) { ev.add("msg %v %s", op, p) },
		OnError:     func(a *App, err error) { ev.add("error %v", err) },
		OnClose:     func(a *App, code StatusCode, reason string) { ev.add("close %d %s", code, reason) },
	}
}

func TestRunOptionsChecked(t *testing.T) {
	a := &App{URL: "ws://127.0.0.1:1/"}
	for _, o := range []RunOptions{
		{PingInterval: time.Second, PingTimeout: time.Second},
		{PingInterval: time.Second, PingTimeout: 2 * time.Second},
		{PingInterval: -1},
		{PingTimeout: time.Second},
		{ReconnectMin: -time.Second},
	} {
		if err := a.RunForever(context.Background(), o); err == nil || strings.Contains(err.Error(), "connect") {
			t.Errorf("%+v: got %v, want a check error before dialing", o, err)
		}
	}
}

func TestAppEchoAndCtxCancel(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	py := testserver.StartPython(t, testserver.PyOptions{})
	ev := &events{}
	ctx, cancel := context.WithCancel(context.Background())
	a := recordingApp("ws://"+py.Addr+"/echo", ev)
	a.OnOpen = func(a *App) {
		ev.add("open")
		if err := a.SendText("hi"); err != nil {
			t.Error(err)
		}
	}
	a.OnMessage = func(a *App, op Opcode, p []byte) {
		ev.add("msg %v %s", op, p)
		cancel()
	}
	if err := a.RunForever(ctx, RunOptions{PingInterval: 50 * time.Millisecond, PingTimeout: 40 * time.Millisecond}); err != nil {
		t.Fatalf("RunForever after cancel: %v", err)
	}
	if got := ev.String(); got != "open | msg text hi | close 1000 " {
		t.Fatalf("events: %s", got)
	}
	if err := a.SendText("x"); !errors.Is(err, ErrNotConnected) {
		t.Fatalf("send while disconnected: %v", err)
	}
}

func TestAppServerClose(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	py := testserver.StartPython(t, testserver.PyOptions{})
	ev := &events{}
	a := recordingApp("ws://"+py.Addr+"/close/1001/maintenance", ev)
	if err := a.RunForever(context.Background(), RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if got := ev.String(); got != "open | close 1001 maintenance" {
		t.Fatalf("events: %s", got)
	}
}

func TestAppFirstDialFails(t *testing.T) {
	ev := &events{}
	a := recordingApp("ws://127.0.0.1:1/", ev)
	err := a.RunForever(context.Background(), RunOptions{})
	if err == nil || !strings.Contains(err.Error(), "connect") {
		t.Fatalf("got %v", err)
	}
	if ev.count("close") != 0 || ev.count("error") != 1 {
		t.Fatalf("events: %s", ev)
	}
}

func TestAppFragments(t *testing.T) {
	py := testserver.StartPython(t, testserver.PyOptions{})
	ev := &events{}
	a := recordingApp("ws://"+py.Addr+"/frag", ev)
	a.OnData = func(a *App, op Opcode, p []byte, fin bool) { ev.add("data %v %s %v", op, p, fin) }
	a.OnContMessage = func(a *App, p []byte, fin bool) { ev.add("cont %s %v", p, fin) }
	a.OnMessage = func(a *App, op Opcode, p []byte) {
		ev.add("msg %v %s", op, p)
		a.Close(StatusNormal, "done") // from inside a callback
	}
	if err := a.RunForever(context.Background(), RunOptions{}); err != nil {
		t.Fatal(err)
	}
	want := "open | data text frag false | data cont men false | cont men false | data cont ted false | cont ted false | data cont  true | cont  true | msg text fragmented | close 1000 done"
	if got := ev.String(); got != want {
		t.Fatalf("events:\n got %s\nwant %s", got, want)
	}
}

func TestAppPingTimeout(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	py := testserver.StartPython(t, testserver.PyOptions{})
	ev := &events{}
	a := recordingApp("ws://"+py.Addr+"/silent", ev)
	a.Options.CloseTimeout = 100 * time.Millisecond
	start := time.Now()
	err := a.RunForever(context.Background(), RunOptions{PingInterval: 100 * time.Millisecond, PingTimeout: 50 * time.Millisecond})
	if !errors.Is(err, ErrPingTimeout) {
		t.Fatalf("got %v (events %s)", err, ev)
	}
	if d := time.Since(start); d < 150*time.Millisecond || d > 10*time.Second {
		t.Fatalf("ping timeout after %v", d)
	}
	if ev.count("close 1006") != 1 || ev.count("error") != 1 {
		t.Fatalf("events: %s", ev)
	}
}

func TestAppReconnectBackoff(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	py := testserver.StartPython(t, testserver.PyOptions{})
	ev := &events{}
	var stamps []time.Time
	a := recordingApp("ws://"+py.Addr+"/drop", ev)
	a.OnClose = func(a *App, code StatusCode, reason string) {
		ev.add("close %d", code)
		stamps = append(stamps, time.Now())
		if len(stamps) == 4 {
			a.Close(StatusNormal, "")
		}
	}
	err := a.RunForever(context.Background(), RunOptions{Reconnect: true, ReconnectMin: 40 * time.Millisecond, ReconnectMax: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if ev.count("open") != 1 || ev.count("reconnect") != 3 || ev.count("close 1006") != 4 {
		t.Fatalf("events: %s", ev)
	}
	// Delays are drawn from [b/2, b] with b = 40, 80, 160 ms, so the third
	// gap is at least 80 ms and longer than the first (at most 40 ms + dial).
	if g1, g3 := stamps[1].Sub(stamps[0]), stamps[3].Sub(stamps[2]); g3 < 80*time.Millisecond || g3 <= g1 {
		t.Fatalf("backoff did not grow: gaps %v then %v", g1, g3)
	}
}

func TestAppCallbackPanic(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	py := testserver.StartPython(t, testserver.PyOptions{})
	ev := &events{}
	a := recordingApp("ws://"+py.Addr+"/echo", ev)
	a.OnOpen = func(a *App) { a.SendText("boom") }
	a.OnMessage = func(a *App, op Opcode, p []byte) { panic("callback bug") }
	err := a.RunForever(context.Background(), RunOptions{})
	var pe *PanicError
	if !errors.As(err, &pe) || pe.Value != "callback bug" || len(pe.Stack) == 0 {
		t.Fatalf("got %v", err)
	}
	if ev.count("error wsclient: panic") != 1 || ev.count("close") != 1 {
		t.Fatalf("events: %s", ev)
	}
}
