//go:build !race

package codec

import (
	"testing"

	"github.com/gobwas/ws"
)

// checkAllocs fails unless f allocates nothing.
func checkAllocs(t *testing.T, name string, f func()) {
	t.Helper()
	if n := testing.AllocsPerRun(1000, f); n != 0 {
		t.Errorf(
			"%s: expected 0 allocations, got %v",
			name, n)
	}
}

func TestAllocsFrame(t *testing.T) {
	var buf [ws.MaxHeaderSize]byte
	h := ws.Header{Fin: true, OpCode: ws.OpBinary, Length: 1 << 20, Masked: true, Mask: [4]byte{1, 2, 3, 4}}
	n := PutHeader(buf[:], h)
	msb := []byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0}
	checkAllocs(t, "PutHeader", func() { sinkInt = PutHeader(buf[:], h) })
	checkAllocs(t, "ParseHeader", func() {
		var h ws.Header // on the caller's stack: &h must not escape
		sinkInt, sinkErr = ParseHeader(buf[:n], &h)
		sinkHeader = h
	})
	checkAllocs(t, "ParseHeader into a kept header", func() { sinkInt, sinkErr = ParseHeader(buf[:n], &sinkHeader) })
	checkAllocs(t, "ParseHeader short", func() { sinkInt, sinkErr = ParseHeader(buf[:n-1], &sinkHeader) })
	checkAllocs(t, "ParseHeader MSB", func() { sinkInt, sinkErr = ParseHeader(msb, &sinkHeader) })
	checkAllocs(t, "HeaderSize", func() { sinkInt = HeaderSize(buf[0], buf[1]) })

	// CheckServerFrame, on success and on every error.
	frames := []ws.Header{
		{Fin: true, OpCode: ws.OpText},
		{Fin: true, OpCode: 0x3},
		{Fin: true, OpCode: ws.OpPing, Length: 126},
		{OpCode: ws.OpPing},
		{Fin: true, OpCode: ws.OpText, Rsv: 4},
		{Fin: true, OpCode: ws.OpText, Masked: true},
		{Fin: true, OpCode: ws.OpContinuation},
	}
	for _, f := range frames {
		checkAllocs(t, "CheckServerFrame", func() { sinkErr = CheckServerFrame(f, 0, false) })
		checkAllocs(t, "CheckServerFrame fragmented", func() { sinkErr = CheckServerFrame(f, 0x4, true) })
	}
}

func TestAllocsClose(t *testing.T) {
	payloads := [][]byte{
		nil,
		{0x03},
		{0x03, 0xe8, 'b', 'y', 'e'},
		{0x03, 0xe8, 0xff},
		{0x03, 0xed},
		{0x00, 0x01},
		{0x03, 0xec},
		{0x07, 0xd0},
		make([]byte, 126),
	}
	for _, p := range payloads {
		checkAllocs(t, "ParseClose", func() { _, _, sinkErr = ParseClose(p) })
	}
	var buf [ws.MaxControlFramePayloadSize]byte
	checkAllocs(t, "PutClose", func() { sinkInt = PutClose(buf[:], ws.StatusGoingAway, "going away") })
	checkAllocs(t, "ValidCloseCode", func() { sinkBool = ValidCloseCode(1004) })
	checkAllocs(t, "CheckClose", func() { sinkErr = CheckClose(4000, "déjà vu") })
	checkAllocs(t, "CheckClose without a code", func() { sinkErr = CheckClose(ws.StatusNoStatusRcvd, "") })
}

func TestAllocsUTF8(t *testing.T) {
	text := benchText("mixed", 4096)
	var v Validator
	checkAllocs(t, "Validator.Write whole", func() {
		v = Validator{}
		sinkBool = v.Write(text) && v.Done()
	})
	checkAllocs(t, "Validator.Write split", func() {
		v = Validator{}
		for p := text; len(p) > 0; {
			k := min(7, len(p))
			sinkBool = v.Write(p[:k])
			p = p[k:]
		}
	})
	checkAllocs(t, "Validator.Write invalid", func() {
		v = Validator{}
		sinkBool = v.Write([]byte{0xe0, 0x80})
	})
}
