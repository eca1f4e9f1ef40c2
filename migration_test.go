package wsclient

import (
	"context"
	"errors"
	"net/url"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wsclient/wsclient/internal/testserver"
)

// isTimeout reports whether err reports itself as a timeout, the one way to
// catch every timeout the library returns (websocket-client's
// WebSocketTimeoutException).
func isTimeout(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.As(err, &ne) && ne.Timeout()
}

// TestTimeoutsReportTimeout checks that every kind of timeout satisfies
// interface{ Timeout() bool } while keeping its errors.Is match.
func TestTimeoutsReportTimeout(t *testing.T) {
	hang := silentServer(t)
	py := testserver.StartPython(t, testserver.PyOptions{})
	short := 200 * time.Millisecond

	t.Run("handshake", func(t *testing.T) {
		_, err := Dial(context.Background(), "ws://"+hang+"/", &DialOptions{Timeout: short})
		if !isTimeout(err) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Dial to a silent server: %v, want a timeout matching context.DeadlineExceeded", err)
		}
	})
	t.Run("context", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), short)
		defer cancel()
		_, err := Dial(ctx, "ws://"+hang+"/", nil)
		if !isTimeout(err) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Dial with a context deadline: %v, want a timeout", err)
		}
	})
	t.Run("proxy", func(t *testing.T) {
		for _, scheme := range []string{"http", "socks5"} {
			_, err := Dial(context.Background(), "ws://"+py.Addr+"/", &DialOptions{
				Proxy:        ProxyURL(mustParse(t, scheme+"://"+hang)),
				ProxyTimeout: short,
			})
			if !isTimeout(err) {
				t.Fatalf("%s proxy that never answers: %v, want a timeout", scheme, err)
			}
		}
	})
	t.Run("read", func(t *testing.T) {
		c := dialPy(t, "ws://"+py.Addr+"/", nil)
		defer c.Abort()
		c.SetReadDeadline(time.Now().Add(short))
		_, _, err := c.Recv()
		if !isTimeout(err) || !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("Recv past its deadline: %v, want a timeout matching os.ErrDeadlineExceeded", err)
		}
	})
	t.Run("close", func(t *testing.T) {
		c := dialPy(t, "ws://"+py.Addr+"/silent", &DialOptions{CloseTimeout: short})
		err := c.Close(StatusNormal, "")
		if !isTimeout(err) || !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("Close to a server that never answers: %v, want a timeout", err)
		}
	})
	t.Run("ping", func(t *testing.T) {
		if !isTimeout(ErrPingTimeout) {
			t.Fatal("ErrPingTimeout does not report Timeout()")
		}
		var got atomic.Pointer[error]
		a := &App{URL: "ws://" + py.Addr + "/silent", OnError: func(_ *App, err error) { got.CompareAndSwap(nil, &err) }}
		err := a.RunForever(context.Background(), RunOptions{PingInterval: 150 * time.Millisecond, PingTimeout: 100 * time.Millisecond})
		p := got.Load()
		if p == nil || !isTimeout(*p) || !errors.Is(*p, ErrPingTimeout) || !errors.Is(err, ErrPingTimeout) {
			t.Fatalf("App against a server that never pongs: OnError %v, RunForever %v; want ErrPingTimeout reporting Timeout()", p, err)
		}
	})
}

func TestRunOptionsErrors(t *testing.T) {
	a := &App{URL: "ws://127.0.0.1:1/"}
	for _, o := range []RunOptions{
		{PingInterval: time.Second, PingTimeout: time.Second},
		{PingInterval: -1},
		{ReconnectMin: -time.Second},
		{PingInterval: time.Second, PingPayload: make([]byte, 126)},
	} {
		if err := a.RunForever(context.Background(), o); !errors.Is(err, ErrInvalidOption) {
			t.Errorf("%+v: %v, want ErrInvalidOption", o, err)
		}
	}
	if err := a.Close(999, ""); !errors.Is(err, ErrInvalidFrame) {
		t.Errorf("App.Close(999): %v, want ErrInvalidFrame", err)
	}
	if err := a.Close(StatusNormal, "\xff"); !errors.Is(err, ErrInvalidFrame) {
		t.Errorf("App.Close with a reason that is not UTF-8: %v, want ErrInvalidFrame", err)
	}
}

func TestAppAlreadyRunning(t *testing.T) {
	verifyNoLeaks(t)
	s := startWSServer(t)
	opened := make(chan struct{})
	a := &App{URL: s.URL(), OnOpen: func(*App) { close(opened) }}
	errc := runApp(context.Background(), a, RunOptions{})
	<-opened
	if err := a.RunForever(context.Background(), RunOptions{}); !errors.Is(err, ErrAppRunning) {
		t.Errorf("second RunForever: %v, want ErrAppRunning", err)
	}
	a.Close(StatusNormal, "")
	if err := waitRun(t, errc, 10*time.Second, "Close"); err != nil {
		t.Fatal(err)
	}
}

// TestAppOnOpenAfterReconnect: without OnReconnect, OnOpen runs again after
// each reconnect, as websocket-client calls on_open when on_reconnect is
// not set.
func TestAppOnOpenAfterReconnect(t *testing.T) {
	verifyNoLeaks(t)
	py := testserver.StartPython(t, testserver.PyOptions{})
	var opens atomic.Int32
	a := &App{URL: "ws://" + py.Addr + "/close/1000/bye"}
	a.OnOpen = func(a *App) {
		if opens.Add(1) == 3 {
			a.Close(StatusNormal, "")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := a.RunForever(ctx, RunOptions{
		Reconnect: true, ReconnectOnClose: true,
		ReconnectMin: 10 * time.Millisecond, ReconnectMax: 10 * time.Millisecond,
	})
	if err != nil || opens.Load() != 3 {
		t.Fatalf("RunForever: %v after %d OnOpen calls, want nil after 3", err, opens.Load())
	}
}

func mustParse(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
