package simdutf8

import (
	"encoding/binary"

	"github.com/wsclient/wsclient/internal/utf8dfa"
)

// hiBits has the top bit of every byte of a word set: a word w holds only
// ASCII if w&hiBits == 0.
const hiBits = 0x8080808080808080

// validGeneric is the portable kernel and the path of short inputs. It
// checks ASCII 32 bytes at a time and leaves the automaton of utf8dfa
// everything from the first 32-byte chunk that holds a non-ASCII byte, which
// starts on a code point boundary since all bytes before it are ASCII. For
// short inputs it tests two overlapping words (or halves, or three bytes)
// covering the whole input. Both beat unicode/utf8.Valid, which checks its
// first byte alone and ends with a byte loop (16 ASCII bytes take it ~9 ns
// against ~2 ns here) and branches on every code point of non-ASCII text,
// where the automaton does not (about twice as fast on mixed text).
func validGeneric(b []byte) bool {
	n := len(b)
	switch {
	case n >= 32:
		p := b
		// len(p) > 32, not >= 32: p never becomes empty, which spares the
		// compiler's fixup of a slice pointing past the end (as in
		// utf8.Valid). The last 1..32 bytes are covered by the final 32
		// bytes of b.
		for len(p) > 32 {
			if (le64(p[0:])|le64(p[8:])|le64(p[16:])|le64(p[24:]))&hiBits != 0 {
				return utf8dfa.Valid(p)
			}
			p = p[32:]
		}
		e := b[n-32:]
		if (le64(e[0:])|le64(e[8:])|le64(e[16:])|le64(e[24:]))&hiBits != 0 {
			return utf8dfa.Valid(p)
		}
		return true
	case n >= 16:
		if (le64(b[0:])|le64(b[8:])|le64(b[n-16:])|le64(b[n-8:]))&hiBits != 0 {
			return utf8dfa.Valid(b)
		}
		return true
	case n >= 8:
		if (le64(b)|le64(b[n-8:]))&hiBits != 0 {
			return utf8dfa.Valid(b)
		}
		return true
	case n >= 4:
		if (binary.LittleEndian.Uint32(b)|binary.LittleEndian.Uint32(b[n-4:]))&0x80808080 != 0 {
			return utf8dfa.Valid(b)
		}
		return true
	case n > 0:
		if (b[0]|b[n/2]|b[n-1])&0x80 != 0 {
			return utf8dfa.Valid(b)
		}
	}
	return true
}

func le64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }
