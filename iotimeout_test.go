package wsclient

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"
)

// recvTimesOut runs Recv on a quiet connection and checks that it timed out
// after at least min, and well before max.
func recvTimesOut(t *testing.T, c *Conn, min, max time.Duration) {
	t.Helper()
	start := time.Now()
	_, p, err := c.Recv()
	took := time.Since(start)
	var ne net.Error
	if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("Recv on a quiet connection: %q, %v; want a timeout", p, err)
	}
	if took < min || took > max {
		t.Fatalf("Recv timed out after %v, want between %v and %v", took, min, max)
	}
}

// TestIOTimeout ports websocket-client's timeout=/settimeout polling loop:
// a receive on a quiet connection returns a timeout after IOTimeout and the
// connection stays usable; SetIOTimeout changes it, 0 turns it off.
func TestIOTimeout(t *testing.T) {
	const d = 150 * time.Millisecond
	for _, s := range parityServers(t) {
		t.Run(s.name, func(t *testing.T) {
			c := dialPy(t, s.base+"/echo", &DialOptions{IOTimeout: d})
			if c.IOTimeout() != d {
				t.Fatalf("IOTimeout() = %v, want %v", c.IOTimeout(), d)
			}
			recvTimesOut(t, c, d, 20*d)
			recvTimesOut(t, c, d, 20*d) // counted afresh for each call
			if !c.Connected() {
				t.Fatal("a receive timeout failed the connection")
			}
			if err := c.SendText("poll"); err != nil {
				t.Fatal(err)
			}
			if _, p, err := c.Recv(); err != nil || string(p) != "poll" {
				t.Fatalf("Recv after timeouts: %q, %v", p, err)
			}

			c.SetIOTimeout(0)
			if c.IOTimeout() != 0 {
				t.Fatalf("IOTimeout() = %v after SetIOTimeout(0)", c.IOTimeout())
			}
			got := make(chan error, 1)
			go func() {
				_, p, err := c.Recv()
				if err == nil && string(p) != "no timeout" {
					err = errors.New("got " + string(p))
				}
				got <- err
			}()
			select {
			case err := <-got:
				t.Fatalf("Recv without IOTimeout returned early: %v", err)
			case <-time.After(3 * d):
			}
			if err := c.SendText("no timeout"); err != nil {
				t.Fatal(err)
			}
			if err := <-got; err != nil {
				t.Fatal(err)
			}

			c.SetIOTimeout(d / 2)
			recvTimesOut(t, c, d/2, 20*d)
			// An earlier absolute deadline still wins.
			c.SetIOTimeout(time.Minute)
			c.SetReadDeadline(time.Now().Add(d))
			recvTimesOut(t, c, d*3/4, 20*d)
			c.SetReadDeadline(time.Time{})
			if err := c.Close(StatusNormal, ""); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestIOTimeoutSend: a send to a server that stopped reading times out
// after IOTimeout instead of blocking forever, and fails the connection.
func TestIOTimeoutSend(t *testing.T) {
	for _, s := range parityServers(t) {
		if !s.py {
			continue // /silent is python3-websockets' (transport.pause_reading)
		}
		const d = 200 * time.Millisecond
		c := dialPy(t, s.base+"/silent", &DialOptions{IOTimeout: d})
		msg := make([]byte, 1<<20)
		var err error
		var took time.Duration
		for i := 0; i < 500 && err == nil; i++ {
			start := time.Now()
			err = c.SendBinary(msg)
			took = time.Since(start)
		}
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("Send to a server that does not read: %v, want a timeout", err)
		}
		if took < d || took > 20*d {
			t.Fatalf("Send timed out after %v", took)
		}
		if c.Connected() {
			t.Fatal("Connected after a write timed out")
		}
	}
}

// TestAppIOTimeoutQuiet: with Options.IOTimeout, an App on a connection
// that stays quiet for several IOTimeouts keeps it open: the dispatcher
// does not take IOTimeout ending a read as an error.
func TestAppIOTimeoutQuiet(t *testing.T) {
	verifyNoLeaks(t)
	for _, s := range parityServers(t) {
		t.Run(s.name, func(t *testing.T) {
			ev := &events{}
			a := recordingApp(s.base+"/echo", ev)
			a.Options.IOTimeout = 50 * time.Millisecond
			a.OnOpen = func(a *App) {
				ev.add("open")
				time.AfterFunc(300*time.Millisecond, func() { a.SendText("after a quiet spell") })
			}
			a.OnMessage = func(a *App, op Opcode, p []byte) {
				ev.add("msg %s", p)
				a.Close(StatusNormal, "")
			}
			errc := runApp(context.Background(), a, RunOptions{})
			if err := waitRun(t, errc, 10*time.Second, "quiet App"); err != nil {
				t.Fatalf("RunForever: %v (events %s)", err, ev)
			}
			if got, want := ev.String(), "open | msg after a quiet spell | close 1000 "; got != want {
				t.Fatalf("events:\n got %s\nwant %s", got, want)
			}
		})
	}
}

// TestAppIOTimeoutUserDeadline: a read deadline the application set on the
// App's connection still ends it, with IOTimeout set too (the dispatcher
// does not spin on it).
func TestAppIOTimeoutUserDeadline(t *testing.T) {
	verifyNoLeaks(t)
	ev := &events{}
	a := recordingApp(startWSServer(t).URL()+"echo", ev)
	a.Options.IOTimeout = 5 * time.Second
	a.Options.CloseTimeout = 100 * time.Millisecond
	a.OnOpen = func(a *App) {
		ev.add("open")
		a.Conn().SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	}
	start := time.Now()
	err := waitRun(t, runApp(context.Background(), a, RunOptions{}), 10*time.Second, "App with a read deadline")
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("RunForever: %v (events %s)", err, ev)
	}
	if took := time.Since(start); took > 4*time.Second {
		t.Fatalf("the read deadline ended the connection only after %v", took)
	}
	if ev.count("close 1006") != 1 || ev.count("error") != 1 {
		t.Fatalf("events: %s", ev)
	}
}
