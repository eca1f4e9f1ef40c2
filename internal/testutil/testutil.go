// Package testutil holds the helpers that the tests of several packages
// share: a hand-built server frame, a close payload, the handshake's accept
// value, a slow reference for
// incremental UTF-8 validation, memory fenced by inaccessible pages, and the
// goroutine and pooled-buffer leak check run after a package's tests. Only
// tests import it, and it imports no package of this module, so that a
// package's internal tests can use it.
package testutil

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"testing"
	"unicode/utf8"

	"github.com/gobwas/ws"
	"go.uber.org/goleak"
)

// Frame builds an unmasked frame as a server sends it (RFC 6455 §5.2), by
// hand, independently of codec.PutHeader and ws.WriteHeader: rsv holds the
// RSV1-3 bits in its low three bits.
func Frame(fin bool, rsv byte, op ws.OpCode, p []byte) []byte {
	b0 := rsv<<4 | byte(op)
	if fin {
		b0 |= 0x80
	}
	var b []byte
	switch n := len(p); {
	case n < 126:
		b = []byte{b0, byte(n)}
	case n <= 0xffff:
		b = []byte{b0, 126, byte(n >> 8), byte(n)}
	default:
		b = binary.BigEndian.AppendUint64([]byte{b0, 127}, uint64(n))
	}
	return append(b, p...)
}

// ClosePayload returns the payload of a close frame (RFC 6455 §5.5.1): code
// in network byte order, then reason, neither checked.
func ClosePayload(code uint16, reason string) []byte {
	return append(binary.BigEndian.AppendUint16(nil, code), reason...)
}

// AcceptKey returns the Sec-WebSocket-Accept value a server answers to the
// client's Sec-WebSocket-Key (RFC 6455 §1.3, §4.2.2):
// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")), for test
// servers that write their handshake response by hand.
func AcceptKey(key string) string {
	sum := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// PossiblyValidUTF8 reports whether p can begin valid UTF-8: it is valid, or
// valid up to an incomplete last code point that some bytes could complete.
// It is a slow reference built on unicode/utf8 only, for validators that
// must fail as soon as the bytes so far cannot begin valid text.
func PossiblyValidUTF8(p []byte) bool {
	if utf8.Valid(p) {
		return true
	}
	for k := 1; k <= 3 && k <= len(p); k++ {
		if !utf8.Valid(p[:len(p)-k]) {
			continue
		}
		tail := p[len(p)-k:]
		if utf8.RuneStart(tail[0]) && completes(tail) {
			return true
		}
	}
	return false
}

// completes reports whether some continuation bytes make tail one valid
// code point. The second byte decides validity (RFC 3629 ranges: A0–BF
// after E0, 80–9F after ED, 90–BF after F0, 80–8F after F4); any byte from
// 80 to BF may follow it, so trying 80, 90 and A0 there suffices.
func completes(tail []byte) bool {
	for size := len(tail) + 1; size <= utf8.UTFMax; size++ {
		for _, b2 := range []byte{0x80, 0x90, 0xa0} {
			c := make([]byte, size)
			copy(c, tail)
			for i := len(tail); i < size; i++ {
				c[i] = 0x80
				if i == 1 {
					c[i] = b2
				}
			}
			if utf8.FullRune(c) && utf8.Valid(c) {
				return true
			}
		}
	}
	return false
}

// Main runs the tests of m and exits. If they all passed it fails them
// when a goroutine is left running (go.uber.org/goleak, nothing ignored) or
// when poolBalance, if not nil, reports pooled buffers taken and never
// returned (engine.PoolBalance, which counts in wsclient_poolcheck builds).
// A package calls it from its TestMain and says there what must be stopped.
func Main(m *testing.M, poolBalance func() int64) {
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
		if poolBalance != nil {
			if n := poolBalance(); n != 0 {
				fmt.Fprintf(os.Stderr, "poolcheck: %d pooled buffers taken and never returned\n", n)
				code = 1
			}
		}
	}
	os.Exit(code)
}

// FrameSender is a connection that sends one frame at a time
// (engine.Conn and the root package's Conn); O is its opcode type.
type FrameSender[O ~byte] interface {
	SendFrame(op O, p []byte, fin bool) error
}

// SendFrames sends p as one message in frames of at most size bytes with
// SendFrame (RFC 6455 §5.4): op on the first frame, continuations (opcode
// 0) after, FIN on the last (a single empty frame for an empty p).
func SendFrames[O ~byte](c FrameSender[O], op O, p []byte, size int) error {
	for {
		k := min(len(p), size)
		fin := k == len(p)
		if err := c.SendFrame(op, p[:k], fin); err != nil {
			return err
		}
		if fin {
			return nil
		}
		p, op = p[k:], 0
	}
}

// AllocCost measures what making something costs, per call: setup prepares
// a round (outside the measure) and returns build, which AllocCost calls
// for i in [0, n) with garbage collection off, so every allocation counts
// once. It returns the bytes and objects allocated and the bytes still
// live after a collection (build must keep what it makes), each the least
// of three rounds: an allocation of the runtime's own during one (a timer
// heap growing, ...) is not build's.
func AllocCost(n int, setup func() (build func(i int))) (bytes, objects, live float64) {
	for round := range 3 {
		build := setup()
		runtime.GC()
		gc := debug.SetGCPercent(-1)
		var m0, m1, m2 runtime.MemStats
		runtime.ReadMemStats(&m0)
		for i := range n {
			build(i)
		}
		runtime.ReadMemStats(&m1)
		debug.SetGCPercent(gc)
		runtime.GC()
		runtime.ReadMemStats(&m2)
		runtime.KeepAlive(build)
		b := float64(m1.TotalAlloc-m0.TotalAlloc) / float64(n)
		o := float64(m1.Mallocs-m0.Mallocs) / float64(n)
		l := (float64(m2.HeapAlloc) - float64(m0.HeapAlloc)) / float64(n)
		if round == 0 {
			bytes, objects, live = b, o, l
		}
		bytes, objects, live = min(bytes, b), min(objects, o), min(live, l)
	}
	return bytes, objects, live
}
