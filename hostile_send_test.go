package wsclient

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/gobwas/ws"
	"github.com/wsclient/wsclient/internal/testutil"
)

// TestHostileSendInvalidFrames asks every send call for frames RFC 6455
// does not allow on the wire. Each must fail with ErrInvalidFrame, send
// nothing, and leave the connection usable: the server must see only the
// valid message sent after each refusal, then the close.
func TestHostileSendInvalidFrames(t *testing.T) {
	type frameSeen struct {
		op      ws.OpCode
		fin     bool
		payload string
	}
	seen := make(chan []frameSeen, 1)
	url, done := hostileServer(t, func(p *rawPeer) {
		p.accept()
		var fs []frameSeen
		defer func() { seen <- fs }()
		for {
			h, payload, err := p.readFrame()
			if err != nil {
				return
			}
			fs = append(fs, frameSeen{h.OpCode, h.Fin, string(payload)})
			if h.OpCode == ws.OpClose {
				p.nc.Write(testutil.Frame(true, 0, ws.OpClose, payload))
				return
			}
		}
	})
	c := dialHostile(t, url, nil)

	type badSend struct {
		name string
		send func() error
	}
	bad := []badSend{
		{"Send(OpPing) with 126 bytes", func() error { return c.Send(OpPing, make([]byte, 126)) }},
		{"Send(OpContinuation)", func() error { return c.Send(OpContinuation, []byte("x")) }},
		{"Queue(OpContinuation)", func() error { return c.Queue(OpContinuation, []byte("x")) }},
		{"Queue(0x11)", func() error { return c.Queue(Opcode(0x11), []byte("x")) }},
		{"Queue(OpPong) with 200 bytes", func() error { return c.Queue(OpPong, make([]byte, 200)) }},
		{"SendFrame(OpContinuation) outside a message", func() error { return c.SendFrame(OpContinuation, []byte("x"), true) }},
		{"SendFrame(OpPing) without FIN", func() error { return c.SendFrame(OpPing, []byte("x"), false) }},
		{"SendFrame(0x3)", func() error { return c.SendFrame(Opcode(0x3), []byte("x"), true) }},
		{"SendFrame(0x1f)", func() error { return c.SendFrame(Opcode(0x1f), []byte("x"), false) }},
		{"NextWriter(OpPing)", func() error { _, err := c.NextWriter(OpPing, 0); return err }},
		{"NextWriter(OpContinuation)", func() error { _, err := c.NextWriter(OpContinuation, 0); return err }},
		{"NextWriter(0x12)", func() error { _, err := c.NextWriter(Opcode(0x12), 0); return err }},
		{"NextWriter(OpClose)", func() error { _, err := c.NextWriter(OpClose, 1); return err }},
		{"NextWriter(0x7)", func() error { _, err := c.NextWriter(Opcode(0x7), 1); return err }},
		{"SendFrame(OpClose) without FIN", func() error { return c.SendFrame(OpClose, testutil.ClosePayload(1000, "x"), false) }},
	}
	for op := Opcode(3); op <= 0xf; op++ {
		if op >= 8 && op <= 0xa {
			continue
		}
		bad = append(bad, badSend{fmt.Sprintf("Send(%#x)", byte(op)), func() error { return c.Send(op, []byte("x")) }})
	}
	for _, op := range []Opcode{0x10, 0x11, 0x12, 0x21, 0x80, 0x81, 0x89, 0xff} {
		bad = append(bad, badSend{fmt.Sprintf("Send(%#x)", byte(op)), func() error { return c.Send(op, []byte("x")) }})
	}
	// Malformed close payloads last: before the fix they went out and
	// ended the connection.
	bad = append(bad, []badSend{
		{"Queue(OpClose) with code 1005", func() error { return c.Queue(OpClose, testutil.ClosePayload(1005, "")) }},
		{"SendFrame(OpClose) with code 999", func() error { return c.SendFrame(OpClose, testutil.ClosePayload(999, ""), true) }},
		{"Send(OpClose) with a 1-byte payload", func() error { return c.Send(OpClose, []byte{0x03}) }},
		{"Send(OpClose) with invalid UTF-8", func() error { return c.Send(OpClose, testutil.ClosePayload(1000, "bye\xff")) }},
		{"Send(OpClose) with a 126-byte payload", func() error { return c.Send(OpClose, testutil.ClosePayload(1000, strings.Repeat("a", 124))) }},
	}...)
	for _, code := range []uint16{0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535} {
		bad = append(bad, badSend{fmt.Sprintf("Send(OpClose) with code %d", code), func() error { return c.Send(OpClose, testutil.ClosePayload(code, "")) }})
	}

	var want []frameSeen
	for i, b := range bad {
		err := b.send()
		if !errors.Is(err, ErrInvalidFrame) {
			t.Errorf("%s: %v, want ErrInvalidFrame", b.name, err)
		} else if !strings.HasPrefix(err.Error(), "wsclient: invalid frame: ") {
			t.Errorf("%s: error text %q", b.name, err)
		}
		msg := fmt.Sprintf("ok %d", i)
		if err := c.SendText(msg); err != nil {
			t.Fatalf("after %s: connection unusable: %v", b.name, err)
		}
		want = append(want, frameSeen{ws.OpText, true, msg})
	}
	if err := c.Close(StatusNormal, "done"); err != nil {
		t.Fatalf("Close: %v", err)
	}
	want = append(want, frameSeen{ws.OpClose, true, string(testutil.ClosePayload(1000, "done"))})
	waitDone(t, done)
	got := <-seen
	if len(got) != len(want) {
		t.Errorf("server saw %d frames, want %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Errorf("frame %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestHostileSendValidControlAndClose checks that validation refuses only
// what is invalid: control frames at the 125-byte limit, a close payload
// with a reason at the 123-byte limit, an empty close payload and an
// application close code all go out.
func TestHostileSendValidControlAndClose(t *testing.T) {
	frames := make(chan []byte, 8)
	url, done := hostileServer(t, func(p *rawPeer) {
		p.accept()
		defer close(frames)
		for {
			h, payload, err := p.readFrame()
			if err != nil {
				return
			}
			frames <- append([]byte{byte(h.OpCode)}, payload...)
			if h.OpCode == ws.OpClose {
				p.nc.Write(testutil.Frame(true, 0, ws.OpClose, payload))
				io.Copy(io.Discard, p.br)
				return
			}
		}
	})
	c := dialHostile(t, url, nil)
	ping := bytes.Repeat([]byte{'p'}, 125)
	if err := c.Send(OpPing, ping); err != nil {
		t.Fatal(err)
	}
	if err := c.Queue(OpPong, ping); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	reason := strings.Repeat("é", 61) + "x" // 123 bytes
	if err := c.SendFrame(OpClose, testutil.ClosePayload(4000, reason), true); err != nil {
		t.Fatal(err)
	}
	want := [][]byte{
		append([]byte{byte(OpPing)}, ping...),
		append([]byte{byte(OpPong)}, ping...),
		append([]byte{byte(OpClose)}, testutil.ClosePayload(4000, reason)...),
	}
	for i, w := range want {
		if got := <-frames; !bytes.Equal(got, w) {
			t.Errorf("frame %d: %q, want %q", i, got, w)
		}
	}
	c.Abort()
	waitDone(t, done)

	// An empty close payload (no status) is valid too.
	url, done = hostileServer(t, func(p *rawPeer) {
		p.accept()
		h, payload, err := p.readFrame()
		if err != nil || h.OpCode != ws.OpClose || len(payload) != 0 {
			t.Errorf("server read %v %q %v, want an empty close frame", h.OpCode, payload, err)
		}
	})
	c = dialHostile(t, url, nil)
	if err := c.Send(OpClose, nil); err != nil {
		t.Fatal(err)
	}
	waitDone(t, done)
}
