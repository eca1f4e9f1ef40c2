package engine

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/wsclient/wsclient/codec"
	"github.com/wsclient/wsclient/internal/testutil"
)

func randBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestSendReceiveSizes(t *testing.T) {
	c, s := pair(t, &Config{WriteBufferSize: 4096, ChunkSize: 1000})
	for _, n := range []int{0, 1, 125, 126, 127, 4082, 4083, 65535, 65536, 1<<20 + 3} {
		for _, op := range []Opcode{OpBinary, OpText} {
			msg := randBytes(n, uint64(n))
			if op == OpText {
				msg = bytes.Repeat([]byte("é"), n/2)
			}
			orig := bytes.Clone(msg)
			errc := make(chan error, 1)
			go func() { errc <- c.Send(op, msg) }()
			gotOp, got, err := s.readMessage()
			if err != nil {
				t.Fatal(err)
			}
			if err := <-errc; err != nil {
				t.Fatalf("WriteMessage(%d): %v", n, err)
			}
			if gotOp != op || !bytes.Equal(got, orig) {
				t.Fatalf("size %d op %v: server got op %v, %d bytes, equal=%v", n, op, gotOp, len(got), bytes.Equal(got, orig))
			}
			if !bytes.Equal(msg, orig) {
				t.Fatalf("size %d: WriteMessage modified the caller's buffer", n)
			}
			// Echo back as the server, fragmented in 3 when large.
			go func() {
				if len(got) > 1000 {
					s.write(frame(false, op, got[:300]), frame(false, OpContinuation, got[300:700]), frame(true, OpContinuation, got[700:]))
				} else {
					s.write(frame(true, op, got))
				}
			}()
			rop, rp, err := c.Recv()
			if err != nil {
				t.Fatalf("ReadMessage(%d): %v", n, err)
			}
			if rop != op || !bytes.Equal(rp, orig) {
				t.Fatalf("size %d: ReadMessage got op %v, %d bytes", n, rop, len(rp))
			}
		}
	}
}

// protocolCases are server byte streams the client must reject.
func protocolCases() []struct {
	name string
	in   []byte
	code uint16
	err  error
} {
	long := bytes.Repeat([]byte{'a'}, 126)
	type tc = struct {
		name string
		in   []byte
		code uint16
		err  error
	}
	masked := []byte{0x82, 0x81, 1, 2, 3, 4, 'x'}
	return []tc{
		{"rsv1 without extension", testutil.Frame(true, 4, ws.OpBinary, []byte("x")), 1002, ErrProtocol},
		{"rsv2", testutil.Frame(true, 2, ws.OpBinary, []byte("x")), 1002, ErrProtocol},
		{"rsv3", testutil.Frame(true, 1, ws.OpText, []byte("x")), 1002, ErrProtocol},
		{"opcode 3", frame(true, 3, nil), 1002, ErrProtocol},
		{"opcode 7", frame(true, 7, nil), 1002, ErrProtocol},
		{"opcode 11", frame(true, 0xB, nil), 1002, ErrProtocol},
		{"opcode 15", frame(true, 0xF, nil), 1002, ErrProtocol},
		{"fragmented ping", frame(false, OpPing, nil), 1002, ErrProtocol},
		{"126-byte ping", frame(true, OpPing, long), 1002, ErrProtocol},
		{"masked server frame", masked, 1002, ErrProtocol},
		{"continuation without start", frame(true, OpContinuation, []byte("x")), 1002, ErrProtocol},
		{"data inside fragmented message", append(frame(false, OpText, []byte("a")), frame(true, OpText, []byte("b"))...), 1002, ErrProtocol},
		{"length with MSB set", []byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0}, 1002, ErrProtocol},
		{"length over limit", []byte{0x82, 127, 0, 0, 0, 0, 0, 0x10, 0, 0}, 1009, ErrMessageTooBig},
		{"fragments over limit", append(frame(false, OpBinary, make([]byte, 600)), frame(true, OpContinuation, make([]byte, 600))...), 1009, ErrMessageTooBig},
		{"invalid utf8", frame(true, OpText, []byte{'a', 0xff}), 1007, codec.ErrInvalidUTF8},
		{"surrogate utf8", frame(true, OpText, []byte{0xed, 0xa0, 0x80}), 1007, codec.ErrInvalidUTF8},
		{"utf8 split across fragments, invalid", append(frame(false, OpText, []byte{'a', 0xe2}), frame(true, OpContinuation, []byte{0x28, 0xa1})...), 1007, codec.ErrInvalidUTF8},
		{"truncated utf8 at message end", append(frame(false, OpText, []byte{'a', 0xe2}), frame(true, OpContinuation, []byte{0x82})...), 1007, codec.ErrInvalidUTF8},
		{"close 1-byte payload", frame(true, OpClose, []byte{3}), 1002, ErrProtocol},
		{"close reason invalid utf8", frame(true, OpClose, append(testutil.ClosePayload(1000, "ok"), 0xff)), 1007, codec.ErrInvalidUTF8},
	}
}

func TestProtocolErrors(t *testing.T) {
	cases := protocolCases()
	for _, code := range []uint16{0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535} {
		cases = append(cases, struct {
			name string
			in   []byte
			code uint16
			err  error
		}{fmt.Sprintf("close code %d", code), frame(true, OpClose, testutil.ClosePayload(code, "")), 1002, ErrProtocol})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, s := pair(t, &Config{MaxMessageSize: 1000})
			go s.write(tc.in)
			_, _, err := c.Recv()
			if !errors.Is(err, tc.err) {
				t.Fatalf("ReadMessage error = %v, want %v", err, tc.err)
			}
			if code, _ := s.expectClose(); code != tc.code {
				t.Fatalf("client sent close %d, want %d", code, tc.code)
			}
			// The error is sticky and the connection unusable.
			if _, _, err2 := c.Recv(); !errors.Is(err2, tc.err) {
				t.Fatalf("second ReadMessage error = %v, want %v", err2, tc.err)
			}
			if err := c.Send(OpText, []byte("x")); err == nil {
				t.Fatal("WriteMessage after failure succeeded")
			}
		})
	}
}

func TestValidCloseCodesAccepted(t *testing.T) {
	for _, code := range []uint16{1000, 1001, 1003, 1007, 1011, 1014, 3000, 4999} {
		c, s := pair(t, nil)
		go s.write(frame(true, OpClose, testutil.ClosePayload(code, "bye now")))
		_, _, err := c.Recv()
		var ce *CloseError
		if !errors.As(err, &ce) || ce.Code != StatusCode(code) || ce.Reason != "bye now" {
			t.Fatalf("code %d: got %v", code, err)
		}
		if got, _ := s.expectClose(); got != code {
			t.Fatalf("client answered close %d, want %d", got, code)
		}
		// Every later call reports the peer's close.
		if _, _, err := c.Recv(); !errors.As(err, &ce) {
			t.Fatalf("second read: %v", err)
		}
		if err := c.Send(OpText, nil); !errors.As(err, &ce) {
			t.Fatalf("write after peer close: %v", err)
		}
	}
}

func TestEmptyClosePayload(t *testing.T) {
	c, s := pair(t, nil)
	go s.write(frame(true, OpClose, nil))
	_, _, err := c.Recv()
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != 1005 {
		t.Fatalf("got %v", err)
	}
	if code, _ := s.expectClose(); code != 1005 {
		t.Fatalf("client answered %d, want an empty close", code)
	}
}

func TestControlInterleavedWithFragments(t *testing.T) {
	var seen []string
	c, s := pair(t, &Config{OnControl: func(op Opcode, p []byte) { seen = append(seen, fmt.Sprintf("%d:%s", op, p)) }})
	go s.write(
		frame(false, OpText, []byte("hel")),
		frame(true, OpPing, []byte("p1")),
		frame(false, OpContinuation, []byte("lo ")),
		frame(true, OpPong, []byte("p2")),
		frame(true, OpContinuation, []byte("wörld")),
	)
	op, p, err := c.Recv()
	if err != nil || op != OpText || string(p) != "hello wörld" {
		t.Fatalf("got %v %q %v", op, p, err)
	}
	h, pong, err := s.readFrame()
	if err != nil || Opcode(h.OpCode) != OpPong || string(pong) != "p1" {
		t.Fatalf("auto pong: %+v %q %v", h, pong, err)
	}
	if strings.Join(seen, ",") != "9:p1,10:p2" {
		t.Fatalf("OnControl saw %v", seen)
	}
}

func TestDisableAutoPong(t *testing.T) {
	c, s := pair(t, &Config{DisableAutoPong: true})
	go s.write(frame(true, OpPing, []byte("x")), frame(true, OpText, []byte("m")))
	if _, p, err := c.Recv(); err != nil || string(p) != "m" {
		t.Fatal(p, err)
	}
	c.Send(OpBinary, []byte("after"))
	h, _, _ := s.readFrame()
	if Opcode(h.OpCode) != OpBinary {
		t.Fatalf("first client frame %v, want binary (no pong)", h.OpCode)
	}
}

func TestReadFrame(t *testing.T) {
	c, s := pair(t, nil)
	go s.write(
		frame(false, OpBinary, []byte("ab")),
		frame(true, OpPing, []byte("pp")),
		frame(true, OpContinuation, []byte("cd")),
	)
	want := []struct {
		op  Opcode
		fin bool
		p   string
	}{{OpBinary, false, "ab"}, {OpPing, true, "pp"}, {OpContinuation, true, "cd"}}
	for _, w := range want {
		f, err := c.RecvFrame()
		if err != nil || f.Opcode != w.op || f.Fin != w.fin || string(f.Payload) != w.p {
			t.Fatalf("got %+v %v, want %+v", f, err, w)
		}
	}
}

func TestReadResumesAfterTimeoutMidFrame(t *testing.T) {
	c, s := pair(t, nil)
	msg := bytes.Repeat([]byte("äbc"), 1000) // split inside a code point below
	b := frame(true, OpText, msg)
	s.write(b[:1]) // half a header
	c.NetConn().SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, _, err := c.Recv(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("want deadline error, got %v", err)
	}
	s.write(b[1:1001])
	c.NetConn().SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if _, _, err := c.Recv(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("want deadline error, got %v", err)
	}
	s.write(b[1001:])
	c.NetConn().SetReadDeadline(time.Time{})
	_, p, err := c.Recv()
	if err != nil || !bytes.Equal(p, msg) {
		t.Fatalf("after timeouts: %d bytes, %v", len(p), err)
	}
}

func TestSlowDrip(t *testing.T) {
	c, s := pair(t, nil)
	b := append(frame(false, OpText, []byte("héllo ")), frame(true, OpContinuation, []byte("wörld"))...)
	go func() {
		for i := range b {
			s.write(b[i : i+1])
			time.Sleep(time.Millisecond)
		}
	}()
	_, p, err := c.Recv()
	if err != nil || string(p) != "héllo wörld" {
		t.Fatalf("%q %v", p, err)
	}
}

func TestServerClosesMidFrame(t *testing.T) {
	c, s := pair(t, nil)
	b := frame(true, OpBinary, make([]byte, 100))
	s.write(b[:50])
	s.nc.Close()
	_, _, err := c.Recv()
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != 1006 || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("got %v, want CloseError 1006 wrapping io.ErrUnexpectedEOF", err)
	}
}

func TestCloseHandshake(t *testing.T) {
	c, s := pair(t, nil)
	done := make(chan error, 1)
	go func() { done <- c.Close(1000, "done") }()
	code, reason := s.expectClose()
	if code != 1000 || reason != "done" {
		t.Fatalf("server got close %d %q", code, reason)
	}
	s.write(frame(true, OpText, []byte("late data is discarded")), frame(true, OpClose, testutil.ClosePayload(1000, "")))
	if err := <-done; err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, _, err := c.Recv(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("read after Close: %v", err)
	}
	if err := c.Send(OpText, nil); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write after Close: %v", err)
	}
	if err := c.Close(1000, ""); err != nil {
		t.Fatalf("second Close: %v, want nil (a no-op, as in websocket-client)", err)
	}
}

func TestCloseWhileAnotherGoroutineReads(t *testing.T) {
	c, s := pair(t, nil)
	readErr := make(chan error, 1)
	go func() {
		_, _, err := c.Recv()
		readErr <- err
	}()
	time.Sleep(20 * time.Millisecond) // let the reader block
	done := make(chan error, 1)
	go func() { done <- c.Close(1001, "") }()
	if code, _ := s.expectClose(); code != 1001 {
		t.Fatalf("server got %d", code)
	}
	s.write(frame(true, OpClose, testutil.ClosePayload(1001, "")))
	if err := <-done; err != nil {
		t.Fatalf("Close: %v", err)
	}
	var ce *CloseError
	if err := <-readErr; !errors.As(err, &ce) {
		t.Fatalf("reader got %v", err)
	}
}

func TestCloseTimeoutDeadPeer(t *testing.T) {
	c, s := pair(t, &Config{CloseTimeout: 200 * time.Millisecond})
	_ = s // the peer never answers
	start := time.Now()
	err := c.Close(1000, "")
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Close on a silent peer: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Close took %v", d) // generous: behaviour, not speed
	}
}

func TestCloseStalledWriter(t *testing.T) {
	// The peer reads nothing: a large send fills the socket buffers and
	// blocks; Close must still return within its timeout.
	c, s := pair(t, &Config{CloseTimeout: 200 * time.Millisecond})
	_ = s
	go c.Send(OpBinary, make([]byte, 64<<20))
	time.Sleep(50 * time.Millisecond)
	done := make(chan error, 1)
	go func() { done <- c.Close(1000, "") }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Close hung on a stalled connection")
	}
}

func TestCloseArgs(t *testing.T) {
	c, _ := pair(t, nil)
	if err := c.Close(1005+1, ""); err == nil {
		t.Error("close code 1006 accepted")
	}
	if err := c.Close(1000, strings.Repeat("x", 124)); err == nil {
		t.Error("124-byte reason accepted")
	}
	if err := c.Close(1000, "\xff"); err == nil {
		t.Error("invalid UTF-8 reason accepted")
	}
}

func TestAbort(t *testing.T) {
	c, s := pair(t, nil)
	if err := c.Abort(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.readFrame(); !errors.Is(err, io.EOF) {
		t.Fatalf("server saw %v, want EOF without a close frame", err)
	}
	if err := c.Send(OpText, nil); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("write after Abort: %v", err)
	}
}

func TestConcurrentSenders(t *testing.T) {
	c, s := pair(t, &Config{WriteBufferSize: 8192, ChunkSize: 4096})
	const senders, each = 8, 200
	var wg sync.WaitGroup
	for g := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				n := 16 + (g*7919+i*131)%20000 // small and large (chunked) messages
				msg := bytes.Repeat([]byte{byte('a' + g)}, n)
				copy(msg, fmt.Sprintf("%d:%d:", g, i))
				if err := c.Send(OpBinary, msg); err != nil {
					t.Errorf("sender %d: %v", g, err)
					return
				}
			}
		}()
	}
	next := make([]int, senders)
	for range senders * each {
		_, p, err := s.readMessage()
		if err != nil {
			t.Fatal(err)
		}
		var g, i int
		if _, err := fmt.Sscanf(string(p[:min(len(p), 12)]), "%d:%d:", &g, &i); err != nil {
			t.Fatalf("unparsable message %q", p[:min(len(p), 12)])
		}
		if i != next[g] {
			t.Fatalf("sender %d: got message %d, want %d", g, i, next[g])
		}
		next[g]++
		n := 16 + (g*7919+i*131)%20000
		tag := fmt.Sprintf("%d:%d:", g, i)
		if len(p) != n {
			t.Fatalf("message %s: %d bytes, want %d", tag, len(p), n)
		}
		for _, b := range p[len(tag):] {
			if b != byte('a'+g) {
				t.Fatalf("message %s corrupted or interleaved", tag)
			}
		}
	}
	wg.Wait()
}

func TestQueueAndFlush(t *testing.T) {
	c, s := pair(t, &Config{WriteBufferSize: 1 << 16})
	const n = 5000
	go func() {
		for i := range n {
			if err := c.Queue(OpText, []byte(fmt.Sprintf("m%05d", i))); err != nil {
				t.Error(err)
				return
			}
		}
		if err := c.Flush(); err != nil {
			t.Error(err)
		}
	}()
	for i := range n {
		_, p, err := s.readMessage()
		if err != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("m%05d", i); string(p) != want {
			t.Fatalf("got %q want %q", p, want)
		}
	}
}

func TestFlushDelay(t *testing.T) {
	c, s := pair(t, &Config{FlushDelay: 10 * time.Millisecond})
	if err := c.Queue(OpText, []byte("soon")); err != nil {
		t.Fatal(err)
	}
	_, p, err := s.readMessage() // arrives without Flush
	if err != nil || string(p) != "soon" {
		t.Fatalf("%q %v", p, err)
	}
}

func TestStreamingWriterAndReader(t *testing.T) {
	c, s := pair(t, nil)
	msg := randBytes(100_000, 3)
	go func() {
		w, err := c.NextWriter(OpBinary, 4096)
		if err != nil {
			t.Error(err)
			return
		}
		for p := msg; len(p) > 0; {
			k := min(len(p), 1000+len(p)%777)
			if _, err := w.Write(p[:k]); err != nil {
				t.Error(err)
				return
			}
			p = p[k:]
		}
		if err := w.Close(); err != nil {
			t.Error(err)
		}
	}()
	frames := 0
	var got []byte
	for {
		h, p, err := s.readFrame()
		if err != nil {
			t.Fatal(err)
		}
		if h.Length > 4096 {
			t.Fatalf("frame of %d bytes, fragment size 4096", h.Length)
		}
		if (frames == 0) != (Opcode(h.OpCode) == OpBinary) {
			t.Fatalf("frame %d has opcode %v", frames, h.OpCode)
		}
		frames++
		got = append(got, p...)
		if h.Fin {
			break
		}
	}
	if !bytes.Equal(got, msg) || frames < 24 {
		t.Fatalf("streamed %d bytes in %d frames", len(got), frames)
	}

	// Reader side: a fragmented message with a ping in the middle.
	go s.write(frame(false, OpText, msg[:0]), frame(false, OpContinuation, []byte("abc")),
		frame(true, OpPing, nil), frame(true, OpContinuation, []byte("def")), frame(true, OpBinary, []byte("next")))
	op, r, err := c.NextReader()
	if err != nil || op != OpText {
		t.Fatal(op, err)
	}
	all, err := io.ReadAll(r)
	if err != nil || string(all) != "abcdef" {
		t.Fatalf("%q %v", all, err)
	}
	if _, p, err := c.Recv(); err != nil || string(p) != "next" {
		t.Fatalf("%q %v", p, err)
	}
}

// TestWriteFragmentedNotInterleaved sends a message of 50 frames, with
// SendFrame or through a NextWriter, while another goroutine sends small
// messages: none may land between its frames (RFC 6455 §5.4).
func TestWriteFragmentedNotInterleaved(t *testing.T) {
	big := bytes.Repeat([]byte("F"), 50_000)
	for name, send := range map[string]func(c *Conn) error{
		"SendFrame": func(c *Conn) error { return sendFrames(c, OpBinary, big, 1000) },
		"NextWriter": func(c *Conn) error {
			w, err := c.NextWriter(OpBinary, 1000)
			if err != nil {
				return err
			}
			if _, err := w.Write(big); err != nil {
				return err
			}
			return w.Close()
		},
	} {
		t.Run(name, func(t *testing.T) {
			c, s := pair(t, nil)
			var wg sync.WaitGroup
			wg.Add(2)
			go func() {
				defer wg.Done()
				if err := send(c); err != nil {
					t.Error(err)
				}
			}()
			go func() {
				defer wg.Done()
				for range 20 {
					c.Send(OpText, []byte("small"))
				}
			}()
			for range 21 {
				op, p, err := s.readMessage() // fails if a data frame interleaves
				if err != nil {
					t.Fatal(err)
				}
				if op == OpBinary && !bytes.Equal(p, big) || op == OpText && string(p) != "small" {
					t.Fatalf("bad message %v %d", op, len(p))
				}
			}
			wg.Wait()
		})
	}
}

func TestMaskKeysVary(t *testing.T) {
	c, s := pair(t, nil)
	go func() {
		for range 4 {
			c.Send(OpBinary, []byte("x"))
		}
	}()
	keys := map[[4]byte]bool{}
	for range 4 {
		h, _, err := s.readFrame()
		if err != nil {
			t.Fatal(err)
		}
		keys[h.Mask] = true
	}
	if len(keys) < 2 {
		t.Fatal("mask key did not change between frames")
	}
}

func TestPreBufferedBytes(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	c := New(a, frame(true, OpText, []byte("early")), nil)
	defer c.Abort()
	_, p, err := c.Recv()
	if err != nil || string(p) != "early" {
		t.Fatalf("%q %v", p, err)
	}
}
