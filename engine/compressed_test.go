package engine

import (
	"testing"

	"github.com/gobwas/ws"
	"github.com/wsclient/wsclient/internal/testutil"
)

// TestReadFrameCompressed: Frame.Compressed marks every data frame of a
// message whose first frame had RSV1 under permessage-deflate, and nothing
// else (control frames between its fragments, uncompressed messages).
func TestReadFrameCompressed(t *testing.T) {
	c, s := pair(t, &Config{Deflate: &Deflate{ServerNoContextTakeover: true}})
	z := deflated(t, []byte("hello, compressed world"))
	z = z[:len(z)-len(tail)]
	s.write(
		testutil.Frame(false, rsv1, ws.OpText, z[:5]),
		frame(true, OpPing, []byte("p")),
		frame(true, OpContinuation, z[5:]),
		frame(true, OpText, []byte("plain")),
	)
	want := []struct {
		op         Opcode
		compressed bool
	}{
		{OpText, true}, {OpPing, false}, {OpContinuation, true}, {OpText, false},
	}
	for i, w := range want {
		f, err := c.RecvFrame()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if f.Opcode != w.op || f.Compressed != w.compressed {
			t.Errorf("frame %d: %v Compressed=%v, want %v Compressed=%v", i, f.Opcode, f.Compressed, w.op, w.compressed)
		}
		if i == 2 && string(f.Inflated) != "hello, compressed world" {
			t.Errorf("last frame inflated to %q", f.Inflated)
		}
	}
	if _, p, err := s.readFrame(); err != nil || string(p) != "p" {
		t.Errorf("pong %q, %v", p, err)
	}
}
