package codec

import (
	"encoding/binary"
	"errors"
	"math"
	"unicode/utf8"

	"github.com/wsclient/wsclient/simdutf8"
)

// ErrInvalidUTF8 reports a text message or close reason received with
// invalid UTF-8 (RFC 6455 §8.1); a connection fails with close code 1007
// (§7.4.1).
var ErrInvalidUTF8 = errors.New("wsclient: invalid UTF-8 in text message")

// validBulk reports whether p is entirely valid UTF-8. It is the one place
// the bulk of every validation goes through, so that a SIMD kernel can be
// plugged in here without touching Validator.
//
// It skips ASCII 32 bytes at a time, then hands the rest, from the first
// block holding a non-ASCII byte, to validDFA. Both beat utf8.Valid, which
// this replaced (measurements in the package benchmarks, BenchmarkUTF8):
// utf8.Valid checks its first byte alone and ends with a byte loop, so 16
// ASCII bytes take it ~9 ns against ~2 ns here; on long ASCII it runs the
// same 32-byte loop; on mixed Latin/CJK/emoji text validDFA is about twice
// as fast. Tests compare both with utf8.Valid.
func validBulk(p []byte) bool {
	if len(p) >= simdMin {
		return simdutf8.Valid(p)
	}
	const hi = 0x8080808080808080
	n := len(p)
	switch {
	case n >= 32:
		q := p
		// "> 32", not ">= 32": q never becomes empty, which spares the
		// compiler's fixup of a slice pointing past the end (as in utf8.Valid).
		for len(q) > 32 {
			if (le64(q[0:8])|le64(q[8:16])|le64(q[16:24])|le64(q[24:32]))&hi != 0 {
				return validDFA(q)
			}
			q = q[32:]
		}
		// 1 to 32 bytes left: the last 32 bytes of p cover them.
		t := p[n-32:]
		if (le64(t[0:8])|le64(t[8:16])|le64(t[16:24])|le64(t[24:32]))&hi != 0 {
			return validDFA(q)
		}
		return true
	case n >= 16: // 16 to 31 bytes: the first and last 16 cover them
		if (le64(p[:8])|le64(p[8:16])|le64(p[n-16:n-8])|le64(p[n-8:]))&hi != 0 {
			return validDFA(p)
		}
		return true
	case n >= 8:
		if (le64(p[:8])|le64(p[n-8:]))&hi != 0 {
			return validDFA(p)
		}
		return true
	case n >= 4:
		if (le32(p[:4])|le32(p[n-4:]))&0x80808080 != 0 {
			return validDFA(p)
		}
		return true
	case n > 0:
		if (p[0]|p[n/2]|p[n-1])&0x80 != 0 {
			return validDFA(p)
		}
		return true
	}
	return true
}

// simdMin is the length from which validBulk hands p to simdutf8.Valid,
// whose vector kernels (AVX-512, AVX2, NEON) beat the path below from one
// 64-byte block up, on ASCII as on other text (simdutf8/BENCH.md). Without
// one (purego, other architectures) simdutf8 runs unicode/utf8, which
// validDFA beats, so it is never used.
var simdMin = func() int {
	if simdutf8.Impl() == "generic" {
		return math.MaxInt
	}
	return 64
}()

// validDFA reports whether p, which must start at a code point boundary, is
// valid UTF-8, with a shift-based DFA: dfa[b] packs, for every state, the
// next state after byte b, as a 6-bit shift amount at the bit offset of the
// current state, so one step is a table load and a shift whose count is the
// state itself. With no branch per byte it is not slowed by text that mixes
// 1- to 4-byte sequences, where utf8.Valid mispredicts. Blocks of 16 ASCII
// bytes found between code points are skipped a word at a time.
func validDFA(p []byte) bool {
	const hi = 0x8080808080808080
	s := uint64(dfaAccept)
	for len(p) >= 16 {
		if s&63 == dfaAccept && (le64(p[0:8])|le64(p[8:16]))&hi == 0 {
			p = p[16:]
			continue
		}
		q := p[:16:16]
		s = dfa[q[0]] >> (s & 63)
		s = dfa[q[1]] >> (s & 63)
		s = dfa[q[2]] >> (s & 63)
		s = dfa[q[3]] >> (s & 63)
		s = dfa[q[4]] >> (s & 63)
		s = dfa[q[5]] >> (s & 63)
		s = dfa[q[6]] >> (s & 63)
		s = dfa[q[7]] >> (s & 63)
		s = dfa[q[8]] >> (s & 63)
		s = dfa[q[9]] >> (s & 63)
		s = dfa[q[10]] >> (s & 63)
		s = dfa[q[11]] >> (s & 63)
		s = dfa[q[12]] >> (s & 63)
		s = dfa[q[13]] >> (s & 63)
		s = dfa[q[14]] >> (s & 63)
		s = dfa[q[15]] >> (s & 63)
		if s&63 == dfaError { // absorbing: stop early
			return false
		}
		p = p[16:]
	}
	for _, c := range p {
		s = dfa[c] >> (s & 63)
	}
	return s&63 == dfaAccept
}

// DFA states (RFC 3629 §4), each the bit offset of its 6-bit field in a dfa
// entry. dfaAccept is 0 so that the zero Validator is ready.
const (
	dfaAccept = 6 * iota // between code points
	dfaError             // invalid, whatever follows
	dfaNeed1             // one continuation byte 80–BF to go
	dfaNeed2             // two to go
	dfaNeed3             // three to go
	dfaE0                // after E0: A0–BF, then one more
	dfaED                // after ED: 80–9F (no surrogates), then one more
	dfaF0                // after F0: 90–BF, then two more
	dfaF4                // after F4: 80–8F (≤ U+10FFFF), then two more
)

// dfa is the transition table of validDFA and Validator.
var dfa = func() (t [256]uint64) {
	set := func(from uint64, lo, hi int, to uint64) {
		for c := lo; c <= hi; c++ {
			t[c] &^= 63 << from
			t[c] |= to << from
		}
	}
	for from := uint64(dfaAccept); from <= dfaF4; from += 6 {
		set(from, 0x00, 0xff, dfaError) // unless set below
	}
	set(dfaAccept, 0x00, 0x7f, dfaAccept)
	set(dfaAccept, 0xc2, 0xdf, dfaNeed1)
	set(dfaAccept, 0xe0, 0xe0, dfaE0)
	set(dfaAccept, 0xe1, 0xec, dfaNeed2)
	set(dfaAccept, 0xed, 0xed, dfaED)
	set(dfaAccept, 0xee, 0xef, dfaNeed2)
	set(dfaAccept, 0xf0, 0xf0, dfaF0)
	set(dfaAccept, 0xf1, 0xf3, dfaNeed3)
	set(dfaAccept, 0xf4, 0xf4, dfaF4)
	set(dfaNeed1, 0x80, 0xbf, dfaAccept)
	set(dfaNeed2, 0x80, 0xbf, dfaNeed1)
	set(dfaNeed3, 0x80, 0xbf, dfaNeed2)
	set(dfaE0, 0xa0, 0xbf, dfaNeed1)
	set(dfaED, 0x80, 0x9f, dfaNeed1)
	set(dfaF0, 0x90, 0xbf, dfaNeed2)
	set(dfaF4, 0x80, 0x8f, dfaNeed2)
	return t
}()

func le64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }
func le32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }

// ValidUTF8 reports whether p is entirely valid UTF-8 (RFC 3629, as RFC 6455
// §5.6 and §8.1 require for text): no overlong forms, no surrogates
// (U+D800–U+DFFF), nothing above U+10FFFF, no truncated sequence.
func ValidUTF8(p []byte) bool {
	return validBulk(p)
}

// validBulkString is validBulk for a close reason of at most MaxCloseReason
// bytes, copied to the stack so no conversion allocates.
func validBulkString(s string) bool {
	var buf [MaxCloseReason]byte
	n := copy(buf[:], s)
	if n < len(s) {
		return false
	}
	return validBulk(buf[:n])
}

// Validator validates UTF-8 text incrementally (RFC 6455 §8.1: a text
// message may be split into frames, and a frame into reads, anywhere, even
// inside a code point). The zero value is ready to use.
//
// Nothing is re-scanned from the start of the message: a code point cut at
// the end of one Write is carried as the state of the validDFA automaton
// (the pending bytes, at most 3, need not be kept) and finished by the next
// Write; the rest goes through the same bulk check as ValidUTF8. Write fails
// as soon as the bytes seen so far cannot begin valid UTF-8, whatever
// follows: a truncated surrogate (0xED 0xA0), overlong prefix (0xE0 0x80,
// 0xF0 0x80), prefix above U+10FFFF (0xF4 0x90) or impossible byte (0xC0,
// 0xC1, 0xF5–0xFF) fails on the Write that delivers it (the "fail fast"
// cases of Autobahn 6.x).
//
// A Validator never allocates.
type Validator struct {
	state uint8 // a dfa state: dfaAccept between code points
}

// Write feeds the next bytes of the message to v and reports whether
// everything fed since the last Reset can still begin valid UTF-8. After it
// returns false it keeps returning false until Reset.
func (v *Validator) Write(p []byte) bool {
	// Fast path: nothing pending and p ends with ASCII, so no code point is
	// cut at either end and p goes straight to the bulk check.
	if v.state == dfaAccept && (len(p) == 0 || p[len(p)-1] < utf8.RuneSelf) {
		if validBulk(p) {
			return true
		}
		v.state = dfaError
		return false
	}
	return v.write(p)
}

// write is Write when a code point is pending, v failed, or p may end inside
// a code point.
func (v *Validator) write(p []byte) bool {
	// Finish the pending code point: at most 3 bytes.
	s := uint64(v.state)
	for s != dfaAccept && s != dfaError && len(p) > 0 {
		s = dfa[p[0]] >> s & 63
		p = p[1:]
	}
	if s != dfaAccept {
		v.state = uint8(s) // failed, or p used up
		return s != dfaError
	}
	// The middle in bulk, then the automaton over a cut code point at the end.
	cut := tailStart(p)
	if !validBulk(p[:cut]) {
		v.state = dfaError
		return false
	}
	for _, c := range p[cut:] {
		s = dfa[c] >> s & 63
	}
	v.state = uint8(s)
	return s != dfaError
}

// Done reports whether the bytes fed since the last Reset are complete,
// valid UTF-8: every Write succeeded and no code point is left unfinished
// (RFC 6455 §8.1: a text message must be valid once all of it arrived).
// Call it at the end of a message. It does not reset v.
func (v *Validator) Done() bool {
	return v.state == dfaAccept
}

// Reset makes v ready for a new message.
func (v *Validator) Reset() {
	v.state = dfaAccept
}

// tailStart returns the index in p where a trailing incomplete multi-byte
// sequence starts, or len(p) if p does not end inside one (what it ends with
// may still be invalid: that is for validBulk to find). Only the last 3 bytes
// need a look, since a sequence is at most 4 bytes long.
func tailStart(p []byte) int {
	n := len(p)
	for i := n - 1; i >= 0 && i >= n-3; i-- {
		c := p[i]
		if c < 0x80 { // ASCII
			return n
		}
		if c >= 0xc0 { // a lead byte, possibly an impossible one
			size := 2
			if c >= 0xe0 {
				size = 3
			}
			if c >= 0xf0 {
				size = 4
			}
			if i+size > n {
				return i
			}
			return n
		}
		// a continuation byte: its lead is further back
	}
	return n
}
