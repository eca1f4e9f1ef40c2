package wsclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os/exec"
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
	if err := a.SendText("x"); !errors.Is(err, ErrClosed) {
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

// fragScript runs websocket-client's WebSocketApp (Debian's
// python3-websocket) against argv[1] with the callbacks named in argv[2]
// and prints the events as fragApp records them.
const fragScript = `import sys, websocket
url, mode = sys.argv[1], sys.argv[2].split(",")
ev = []
s = lambda d: d.decode() if isinstance(d, bytes) else d
def on_message(a, d):
    ev.append("msg " + s(d))
    if "cont" not in mode: a.close()
def on_data(a, d, op, fin): ev.append("data %s %s" % (s(d), str(bool(fin)).lower()))
def on_cont(a, d, fin):
    ev.append("cont %s %s" % (s(d), str(bool(fin)).lower()))
    if fin: a.close()
kw = {"on_message": on_message}
if "data" in mode: kw["on_data"] = on_data
if "cont" in mode: kw["on_cont_message"] = on_cont
websocket.WebSocketApp(url, **kw).run_forever()
print(" | ".join(ev))
`

// fragApp records OnMessage, OnData and OnContMessage (those named in
// mode) as fragScript prints them, and their opcodes in ops. It closes
// once the message is complete.
func fragApp(url, mode string, ev, ops *events) *App {
	a := &App{URL: url}
	a.OnMessage = func(a *App, op Opcode, p []byte) {
		ev.add("msg %s", p)
		ops.add("msg %v", op)
		if !strings.Contains(mode, "cont") {
			a.Close(StatusNormal, "")
		}
	}
	if strings.Contains(mode, "data") {
		a.OnData = func(a *App, op Opcode, p []byte, fin bool) {
			ev.add("data %s %v", p, fin)
			ops.add("data %v", op)
		}
	}
	if strings.Contains(mode, "cont") {
		a.OnContMessage = func(a *App, p []byte, fin bool) {
			ev.add("cont %s %v", p, fin)
			if fin {
				a.Close(StatusNormal, "")
			}
		}
	}
	return a
}

// TestAppFragments: fragment callbacks follow websocket-client's
// WebSocketApp exactly, checked against the python3-websockets server's
// fragmented message ("frag" "men" "ted" and an empty final frame) and
// against websocket-client itself on the same server.
func TestAppFragments(t *testing.T) {
	py := testserver.StartPython(t, testserver.PyOptions{})
	url := "ws://" + py.Addr + "/frag"
	for _, tc := range []struct{ mode, want, ops string }{
		{"", "msg fragmented", "msg text"},
		{"data", "data fragmented true | msg fragmented", "data text | msg text"},
		{"cont", "msg frag | cont men false | cont ted false | cont  true", "msg text"},
		{"data,cont", "data frag true | msg frag | data men false | cont men false | data ted false | cont ted false | data  true | cont  true",
			"data text | msg text | data cont | data cont | data cont"},
	} {
		t.Run("mode="+tc.mode, func(t *testing.T) {
			ev, ops := &events{}, &events{}
			if err := fragApp(url, tc.mode, ev, ops).RunForever(context.Background(), RunOptions{}); err != nil {
				t.Fatal(err)
			}
			if got := ev.String(); got != tc.want {
				t.Errorf("events:\n got %s\nwant %s", got, tc.want)
			}
			if got := ops.String(); got != tc.ops {
				t.Errorf("opcodes:\n got %s\nwant %s", got, tc.ops)
			}
			// websocket-client on the same server: the same calls.
			py := "/usr/bin/python3"
			testserver.Require(t, "Debian python3-websocket (/usr/bin/python3)", exec.Command(py, "-c", "import websocket").Run() == nil)
			out, err := exec.Command(py, "-c", fragScript, url, tc.mode).Output()
			if err != nil {
				t.Fatalf("websocket-client: %v", err)
			}
			if got := strings.TrimSpace(string(out)); got != tc.want {
				t.Errorf("websocket-client's events:\n got %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestAppFragmentsCompressed: with OnContMessage set, a compressed
// fragmented message arrives whole and inflated in OnMessage.
func TestAppFragmentsCompressed(t *testing.T) {
	py := testserver.StartPython(t, testserver.PyOptions{Deflate: map[string]any{}})
	ev, ops := &events{}, &events{}
	a := fragApp("ws://"+py.Addr+"/frag", "data,cont", ev, ops)
	a.Options.Compression = &CompressionOptions{}
	a.OnMessage = func(a *App, op Opcode, p []byte) {
		ev.add("msg %s", p)
		if !strings.Contains(strings.Join(a.Conn().Extensions(), ","), "permessage-deflate") {
			t.Errorf("not compressed: extensions %q", a.Conn().Extensions())
		}
		a.Close(StatusNormal, "")
	}
	if err := a.RunForever(context.Background(), RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if got, want := ev.String(), "data fragmented true | msg fragmented"; got != want {
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

// TestAppPingTimeoutAlone: RunOptions{PingTimeout} alone is accepted and
// pings every 2×PingTimeout, so a silent server is detected.
func TestAppPingTimeoutAlone(t *testing.T) {
	verifyNoLeaks(t)
	const pt = 100 * time.Millisecond
	o := RunOptions{PingTimeout: pt}
	if err := o.check(); err != nil || o.PingInterval != 2*pt {
		t.Fatalf("check: %v, PingInterval %v, want %v", err, o.PingInterval, 2*pt)
	}
	py := testserver.StartPython(t, testserver.PyOptions{})
	ev := &events{}
	a := recordingApp("ws://"+py.Addr+"/silent", ev)
	a.Options.CloseTimeout = 100 * time.Millisecond
	start := time.Now()
	err := a.RunForever(context.Background(), RunOptions{PingTimeout: pt})
	if !errors.Is(err, ErrPingTimeout) {
		t.Fatalf("got %v (events %s)", err, ev)
	}
	// The first ping is due 2×pt after the connection opened.
	if d := time.Since(start); d < 3*pt {
		t.Fatalf("ping timeout after %v, before the first ping was due and timed out (%v)", d, 3*pt)
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

// TestAppReconnectFixedDelay: with ReconnectMin == ReconnectMax every wait
// between a lost connection and the next dial is that long, not jittered
// below it (websocket-client's reconnect=N); otherwise waits are jittered.
func TestAppReconnectFixedDelay(t *testing.T) {
	verifyNoLeaks(t)
	const fixed = 200 * time.Millisecond
	for _, b := range []time.Duration{time.Millisecond, time.Second} {
		o := RunOptions{ReconnectMin: fixed, ReconnectMax: fixed}
		if d := o.reconnectDelay(b); d != fixed {
			t.Errorf("min == max == %v, backoff %v: delay %v", fixed, b, d)
		}
	}
	o := RunOptions{ReconnectMin: time.Second, ReconnectMax: 30 * time.Second}
	seen := map[time.Duration]bool{}
	for range 100 {
		d := o.reconnectDelay(8 * time.Second)
		if d < 4*time.Second || d > 8*time.Second {
			t.Fatalf("backoff 8s: delay %v outside [4s, 8s]", d)
		}
		seen[d] = true
	}
	if len(seen) < 50 {
		t.Errorf("backoff 8s: only %d distinct delays in 100: no jitter", len(seen))
	}

	py := testserver.StartPython(t, testserver.PyOptions{})
	var mu sync.Mutex
	var closed time.Time
	var gaps []time.Duration
	a := &App{URL: "ws://" + py.Addr + "/drop"}
	a.Options.NetDial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		mu.Lock()
		if !closed.IsZero() {
			gaps = append(gaps, time.Since(closed))
		}
		mu.Unlock()
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	a.OnClose = func(a *App, code StatusCode, reason string) {
		mu.Lock()
		defer mu.Unlock()
		closed = time.Now()
		if len(gaps) == 3 {
			a.Close(StatusNormal, "")
		}
	}
	if err := a.RunForever(context.Background(), RunOptions{Reconnect: true, ReconnectMin: fixed, ReconnectMax: fixed}); err != nil {
		t.Fatal(err)
	}
	for i, g := range gaps {
		if g < fixed {
			t.Errorf("wait %d before redialing: %v, want %v", i+1, g, fixed)
		}
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
