// Package utf8dfa is the UTF-8 automaton (RFC 3629) shared by simdutf8's
// portable kernel, which runs it over whole inputs with [Valid], and
// codec.Validator, which carries its [State] from one write to the next
// with [Step] when a write ends inside a code point.
//
// The automaton is shift-based: the table entry of a byte packs, for every
// state, the next state as a 6-bit shift amount at the bit offset of the
// current state, so one step is a table load and a shift whose count is the
// state itself. With no branch per byte it is not slowed by text that mixes
// 1- to 4-byte sequences, where unicode/utf8.Valid mispredicts: on mixed
// Latin, CJK and emoji text it is about twice as fast.
package utf8dfa

import "encoding/binary"

// State is a state of the automaton: the bit offset of its 6-bit field in a
// table entry.
type State uint8

// The states. Accept is 0, so that the zero value of a state is ready.
const (
	Accept State = 6 * iota // between code points
	Error                   // invalid, whatever follows
	need1                   // one continuation byte 80–BF to go
	need2                   // two to go
	need3                   // three to go
	e0                      // after E0: A0–BF, then one more
	ed                      // after ED: 80–9F (no surrogates), then one more
	f0                      // after F0: 90–BF, then two more
	f4                      // after F4: 80–8F (≤ U+10FFFF), then two more
)

// Step returns the state after byte c in state s. Error is absorbing.
func Step(s State, c byte) State { return State(table[c] >> s & 63) }

// Valid reports whether p, which must start at a code point boundary, is
// valid UTF-8. Blocks of 16 ASCII bytes found between code points are
// skipped a word at a time.
func Valid(p []byte) bool {
	const hi = 0x8080808080808080
	s := uint64(Accept)
	for len(p) >= 16 {
		if s&63 == uint64(Accept) && (le64(p[0:8])|le64(p[8:16]))&hi == 0 {
			p = p[16:]
			continue
		}
		q := p[:16:16]
		s = table[q[0]] >> (s & 63)
		s = table[q[1]] >> (s & 63)
		s = table[q[2]] >> (s & 63)
		s = table[q[3]] >> (s & 63)
		s = table[q[4]] >> (s & 63)
		s = table[q[5]] >> (s & 63)
		s = table[q[6]] >> (s & 63)
		s = table[q[7]] >> (s & 63)
		s = table[q[8]] >> (s & 63)
		s = table[q[9]] >> (s & 63)
		s = table[q[10]] >> (s & 63)
		s = table[q[11]] >> (s & 63)
		s = table[q[12]] >> (s & 63)
		s = table[q[13]] >> (s & 63)
		s = table[q[14]] >> (s & 63)
		s = table[q[15]] >> (s & 63)
		if s&63 == uint64(Error) { // absorbing: stop early
			return false
		}
		p = p[16:]
	}
	for _, c := range p {
		s = table[c] >> (s & 63)
	}
	return s&63 == uint64(Accept)
}

// table is the transition table of Valid and Step.
var table = func() (t [256]uint64) {
	set := func(from State, lo, hi int, to State) {
		for c := lo; c <= hi; c++ {
			t[c] &^= 63 << from
			t[c] |= uint64(to) << from
		}
	}
	for from := Accept; from <= f4; from += 6 {
		set(from, 0x00, 0xff, Error) // unless set below
	}
	set(Accept, 0x00, 0x7f, Accept)
	set(Accept, 0xc2, 0xdf, need1)
	set(Accept, 0xe0, 0xe0, e0)
	set(Accept, 0xe1, 0xec, need2)
	set(Accept, 0xed, 0xed, ed)
	set(Accept, 0xee, 0xef, need2)
	set(Accept, 0xf0, 0xf0, f0)
	set(Accept, 0xf1, 0xf3, need3)
	set(Accept, 0xf4, 0xf4, f4)
	set(need1, 0x80, 0xbf, Accept)
	set(need2, 0x80, 0xbf, need1)
	set(need3, 0x80, 0xbf, need2)
	set(e0, 0xa0, 0xbf, need1)
	set(ed, 0x80, 0x9f, need1)
	set(f0, 0x90, 0xbf, need2)
	set(f4, 0x80, 0x8f, need2)
	return t
}()

func le64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }
