package wsclient

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/wsclient/wsclient/internal/testserver"
)

// The interop matrix: the client against other implementations started on
// loopback — Debian's python3-websockets, Debian's node-ws, and nginx as a
// TLS terminator (wss → nginx → ws) in front of each of them. Text and
// binary messages from 0 B to 16 MiB (16 MiB without -short), fragmented
// sends, pings, and close codes round-tripped both ways.

type interopTarget struct {
	name string
	url  string // echo endpoint; url + "close/CODE/WHY" closes at once
	tls  *tls.Config
	// closeSeen, when set, reports whether the server read a close frame
	// from the client with this "code reason" (node-ws logs each one).
	closeSeen func(want string) bool
}

func interopTargets(t *testing.T) []interopTarget {
	var ts []interopTarget
	py := testserver.StartPython(t, testserver.PyOptions{})
	node := testserver.StartNode(t)
	// Events of earlier connections may still be queued: look for the one
	// expected.
	nodeClose := func(want string) bool {
		timeout := time.After(5 * time.Second)
		for {
			select {
			case ev := <-node.Events:
				if ev == "CLOSE "+want {
					return true
				}
			case <-timeout:
				return false
			}
		}
	}
	certs := testserver.NewCerts(t)
	tlsCfg := &tls.Config{RootCAs: certs.Pool}
	ngPy := testserver.StartNginx(t, py.Addr, certs)
	ngNode := testserver.StartNginx(t, node.Addr, certs)
	ts = append(ts,
		interopTarget{name: "python3-websockets", url: "ws://" + py.Addr + "/"},
		interopTarget{name: "node-ws", url: "ws://" + node.Addr + "/", closeSeen: nodeClose},
		interopTarget{name: "nginx-tls+python3-websockets", url: "wss://" + ngPy.Addr + "/", tls: tlsCfg},
		interopTarget{name: "nginx-tls+node-ws", url: "wss://" + ngNode.Addr + "/", tls: tlsCfg, closeSeen: nodeClose},
	)
	return ts
}

// interopText returns valid UTF-8 of exactly n bytes with 1- to 4-byte code
// points.
func interopText(n int) []byte {
	const pattern = "aé€😀 κόσμε 日本語 "
	b := make([]byte, 0, n)
	for len(b) < n {
		for _, r := range pattern {
			var tmp [4]byte
			k := copy(tmp[:], string(r))
			if len(b)+k > n {
				break
			}
			b = append(b, tmp[:k]...)
		}
		if len(b)+4 > n {
			for len(b) < n {
				b = append(b, 'z')
			}
		}
	}
	return b
}

func interopBinary(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, uint64(n)))
	b := make([]byte, n)
	for i := 0; i+8 <= n; i += 8 {
		binary.LittleEndian.PutUint64(b[i:], r.Uint64())
	}
	for i := n &^ 7; i < n; i++ {
		b[i] = byte(r.Uint32())
	}
	return b
}

// controlLog records the control frames a Conn receives.
type controlLog struct {
	ch chan string
}

func newControlLog() *controlLog { return &controlLog{ch: make(chan string, 64)} }

func (l *controlLog) record(op Opcode, p []byte) {
	s := op.String()
	switch {
	case op == OpClose && len(p) >= 2:
		s = fmt.Sprintf("close %d %s", binary.BigEndian.Uint16(p), p[2:])
	case op == OpClose:
		s = "close"
	default:
		s += " " + string(p)
	}
	select {
	case l.ch <- s:
	default:
	}
}

func (l *controlLog) wait(t *testing.T, prefix string) string {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case s := <-l.ch:
			if strings.HasPrefix(s, prefix) {
				return s
			}
		case <-timeout:
			t.Fatalf("no %q control frame received", prefix)
			return ""
		}
	}
}

func (it interopTarget) dial(t *testing.T, path string, log *controlLog) *Conn {
	t.Helper()
	opts := &DialOptions{TLSConfig: it.tls, Timeout: 10 * time.Second}
	if log != nil {
		opts.OnPing = func(p []byte) { log.record(OpPing, p) }
		opts.OnPong = func(p []byte) { log.record(OpPong, p) }
	}
	c, err := Dial(context.Background(), it.url+path, opts)
	if err != nil {
		t.Fatalf("Dial %s: %v", it.url+path, err)
	}
	t.Cleanup(func() { c.Abort() })
	return c
}

func TestInterop(t *testing.T) {
	// Payloads are built once: under -race building 16 MiB costs seconds.
	type payload struct {
		op Opcode
		p  []byte
	}
	var payloads []payload
	for _, n := range []int{0, 1, 125, 126, 127, 65535, 65536, 65537, 1 << 20} {
		payloads = append(payloads, payload{OpText, interopText(n)}, payload{OpBinary, interopBinary(n, 1)})
	}
	// 16 MiB binary everywhere, 16 MiB text (UTF-8 validated on both
	// sides) against node-ws only, to keep the matrix quick on loaded CI.
	var bigBinary, bigText []byte
	if !testing.Short() {
		bigBinary, bigText = interopBinary(16<<20, 2), interopText(16<<20)
	}
	for _, it := range interopTargets(t) {
		t.Run(it.name, func(t *testing.T) {
			t.Run("messages", func(t *testing.T) {
				c := it.dial(t, "", nil)
				check := func(op Opcode, p []byte) {
					t.Helper()
					if err := c.Send(op, p); err != nil {
						t.Fatalf("Send %v %d B: %v", op, len(p), err)
					}
					gop, got, err := c.Recv()
					if err != nil || gop != op || !bytes.Equal(got, p) {
						t.Fatalf("%v %d B: echo is %v %d B, %v", op, len(p), gop, len(got), err)
					}
				}
				for _, pl := range payloads {
					check(pl.op, pl.p)
				}
				if bigBinary != nil {
					check(OpBinary, bigBinary)
				}
				if bigText != nil && it.name == "node-ws" {
					check(OpText, bigText)
				}
				if err := c.Close(StatusNormal, ""); err != nil {
					t.Fatalf("Close: %v", err)
				}
			})
			t.Run("fragmented", func(t *testing.T) {
				c := it.dial(t, "", nil)
				for _, tc := range []struct {
					op   Opcode
					p    []byte
					frag int
				}{
					{OpText, interopText(10000), 7}, // code points cut between frames
					{OpText, interopText(100), 1},
					{OpBinary, interopBinary(300000, 3), 65536},
					{OpBinary, interopBinary(1000, 4), 125},
				} {
					if err := sendFrames(c, tc.op, tc.p, tc.frag); err != nil {
						t.Fatalf("SendFrame: %v", err)
					}
					op, got, err := c.Recv()
					if err != nil || op != tc.op || !bytes.Equal(got, tc.p) {
						t.Fatalf("%v %d B in %d B frames: echo is %v %d B, %v", tc.op, len(tc.p), tc.frag, op, len(got), err)
					}
				}
				w, err := c.NextWriter(OpText, 4)
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range []string{"stre", "é", "amed ", "😀"} {
					if _, err := w.Write([]byte(s)); err != nil {
						t.Fatal(err)
					}
				}
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				if op, got, err := c.Recv(); err != nil || op != OpText || string(got) != "streéamed 😀" {
					t.Fatalf("streamed message echo: %v %q, %v", op, got, err)
				}
				c.Close(StatusNormal, "")
			})
			t.Run("ping", func(t *testing.T) {
				log := newControlLog()
				c := it.dial(t, "", log)
				if err := c.Ping([]byte("are you there")); err != nil {
					t.Fatal(err)
				}
				c.SendText("after ping")
				if _, got, err := c.Recv(); err != nil || string(got) != "after ping" {
					t.Fatalf("%q %v", got, err)
				}
				if s := log.wait(t, "pong"); s != "pong are you there" {
					t.Fatalf("pong: %q", s)
				}
				c.Close(StatusNormal, "")
			})
			t.Run("client close 4001", func(t *testing.T) {
				log := newControlLog()
				c := it.dial(t, "", log)
				if err := c.Close(4001, "x"); err != nil {
					t.Fatalf("Close: %v (the server did not answer)", err)
				}
				if pc := c.PeerClose(); pc == nil || pc.Code != 4001 || pc.Reason != "x" {
					t.Fatalf("server answered %v, want close 4001 x", pc)
				}
				if it.closeSeen != nil {
					if !it.closeSeen("4001 x") {
						t.Fatal("node-ws never read close 4001 \"x\" from the client")
					}
				}
				if _, _, err := c.Recv(); !errors.Is(err, ErrClosed) {
					t.Fatalf("Recv after Close: %v", err)
				}
			})
			t.Run("server close 4002", func(t *testing.T) {
				c := it.dial(t, "close/4002/why", nil)
				_, _, err := c.Recv()
				var ce *CloseError
				if !errors.As(err, &ce) || ce.Code != 4002 || ce.Reason != "why" {
					t.Fatalf("Recv: %v, want CloseError 4002 why", err)
				}
				if it.closeSeen != nil {
					if !it.closeSeen("4002 ") {
						t.Fatal("node-ws never read the client's answer 4002")
					}
				}
			})
			t.Run("server close 1000", func(t *testing.T) {
				c := it.dial(t, "close/1000/", nil)
				_, _, err := c.Recv()
				var ce *CloseError
				if !errors.As(err, &ce) || ce.Code != StatusNormal || ce.Reason != "" {
					t.Fatalf("Recv: %v, want CloseError 1000", err)
				}
				if it.closeSeen != nil {
					if !it.closeSeen("1000 ") {
						t.Fatal("node-ws never read the client's answer 1000")
					}
				}
			})
		})
	}
}
