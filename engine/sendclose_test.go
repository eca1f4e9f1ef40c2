package engine

import (
	"errors"
	"strings"
	"testing"

	"github.com/wsclient/wsclient/internal/testutil"
)

func TestCloseIsIdempotent(t *testing.T) {
	c, s := pair(t, nil)
	done := make(chan error, 1)
	go func() { done <- c.Close(1000, "") }()
	s.expectClose()
	s.write(frame(true, OpClose, testutil.ClosePayload(1000, "")))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if err := c.Close(1001, "again"); err != nil {
			t.Fatalf("Close #%d after Close: %v", i+2, err)
		}
	}
	c, _ = pair(t, nil)
	c.Abort()
	if err := c.Close(1000, ""); err != nil {
		t.Fatalf("Close after Abort: %v", err)
	}
}

// TestSendCloseThenReceive: SendClose returns at once; receives go on
// until the peer's close frame.
func TestSendCloseThenReceive(t *testing.T) {
	c, s := pair(t, nil)
	if err := c.SendClose(4000, "bye"); err != nil {
		t.Fatal(err)
	}
	if code, reason := s.expectClose(); code != 4000 || reason != "bye" {
		t.Fatalf("server got close %d %q", code, reason)
	}
	if err := c.Send(OpText, []byte("after")); err == nil {
		t.Fatal("Send after SendClose: no error")
	}
	if err := c.SendClose(4000, "bye"); err != nil {
		t.Fatalf("second SendClose: %v", err)
	}
	s.write(frame(true, OpText, []byte("in flight")), frame(true, OpClose, testutil.ClosePayload(4000, "bye")))
	if _, p, err := c.Recv(); err != nil || string(p) != "in flight" {
		t.Fatalf("Recv: %q, %v", p, err)
	}
	var ce *CloseError
	if _, _, err := c.Recv(); !errors.As(err, &ce) || ce.Code != 4000 || ce.Reason != "bye" {
		t.Fatalf("Recv: %v, want the peer's close 4000", err)
	}
	if c.Connected() {
		t.Fatal("Connected after the close handshake")
	}
	if _, _, err := s.readFrame(); err == nil {
		t.Fatal("client sent a second close frame")
	}
}

// TestSendCloseArgs: SendClose checks code and reason as Close does.
func TestSendCloseArgs(t *testing.T) {
	c, _ := pair(t, nil)
	for _, tc := range []struct {
		code   StatusCode
		reason string
	}{{999, ""}, {1006, ""}, {1000, strings.Repeat("x", 124)}, {1000, "\xff"}} {
		if err := c.SendClose(tc.code, tc.reason); err == nil {
			t.Errorf("SendClose(%d, %q): no error", tc.code, tc.reason)
		}
	}
	if !c.Connected() {
		t.Fatal("a refused SendClose failed the connection")
	}
}

// TestCloseAfterSendOpClose: a close frame sent with Send (or queued with
// Queue) counts as ours: Close then waits for the peer's answer instead of
// failing with "close frame already sent".
func TestCloseAfterSendOpClose(t *testing.T) {
	for _, queue := range []bool{false, true} {
		c, s := pair(t, nil)
		var err error
		if queue {
			err = c.Queue(OpClose, testutil.ClosePayload(1001, "going"))
		} else {
			err = c.Send(OpClose, testutil.ClosePayload(1001, "going"))
		}
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- c.Close(1000, "") }()
		if code, reason := s.expectClose(); code != 1001 || reason != "going" {
			t.Fatalf("queue %v: server got close %d %q", queue, code, reason)
		}
		s.write(frame(true, OpClose, testutil.ClosePayload(1001, "")))
		if err := <-done; err != nil {
			t.Fatalf("queue %v: Close after our close frame: %v", queue, err)
		}
		if pc := c.PeerClose(); pc == nil || pc.Code != 1001 {
			t.Fatalf("queue %v: PeerClose %v", queue, pc)
		}
	}
}

func TestControlPayloadTooLong(t *testing.T) {
	c, s := pair(t, nil)
	for _, tc := range []struct {
		f    func([]byte) error
		want string
	}{{c.Ping, "ping payload is 126 bytes, more than 125"}, {c.Pong, "pong payload is 126 bytes, more than 125"}} {
		err := tc.f(make([]byte, 126))
		if !errors.Is(err, ErrInvalidFrame) || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "wsclient: ") {
			t.Errorf("got %v, want ErrInvalidFrame with %q", err, tc.want)
		}
	}
	if err := c.Ping(make([]byte, 125)); err != nil {
		t.Fatal(err)
	}
	if h, p, err := s.readFrame(); err != nil || Opcode(h.OpCode) != OpPing || len(p) != 125 {
		t.Fatalf("server got %v %d bytes, %v", h.OpCode, len(p), err)
	}
}
