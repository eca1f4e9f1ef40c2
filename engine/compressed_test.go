package engine

import (
	"testing"

	"github.com/gobwas/ws"
)

// TestReadFrameCompressed: Frame.Compressed marks every data frame of a
// message whose first frame had RSV1 under permessage-deflate, and nothing
// else (control frames between its fragments, uncompressed messages).
func TestReadFrameCompressed(t *testing.T) {
	c, s := pair(t, &Config{Deflate: &Deflate{ServerNoContextTakeover: true}})
	z := deflated(t, []byte("hello, compressed world"))
	z = z[:len(z)-len(tail)]
	s.write(
		frameRsv(false, rsv1, ws.OpText, z[:5]),
		frame(true, ws.OpPing, []byte("p")),
		frame(true, ws.OpContinuation, z[5:]),
		frame(true, ws.OpText, []byte("plain")),
	)
	want := []struct {
		op         ws.OpCode
		compressed bool
	}{
		{ws.OpText, true}, {ws.OpPing, false}, {ws.OpContinuation, true}, {ws.OpText, false},
	}
	for i, w := range want {
		f, err := c.ReadFrame()
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if f.Header.OpCode != w.op || f.Compressed != w.compressed {
			t.Errorf("frame %d: %v Compressed=%v, want %v Compressed=%v", i, f.Header.OpCode, f.Compressed, w.op, w.compressed)
		}
		if i == 2 && string(f.Inflated) != "hello, compressed world" {
			t.Errorf("last frame inflated to %q", f.Inflated)
		}
	}
	if _, p, err := s.readFrame(); err != nil || string(p) != "p" {
		t.Errorf("pong %q, %v", p, err)
	}
}
