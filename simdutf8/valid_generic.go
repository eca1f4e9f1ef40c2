package simdutf8

import (
	"encoding/binary"
	"unicode/utf8"
)

// hiBits has the top bit of every byte of a word set: a word w holds only
// ASCII if w&hiBits == 0.
const hiBits = 0x8080808080808080

// validGeneric is the portable reference and the path of short inputs. It
// checks ASCII 32 bytes at a time and leaves unicode/utf8 everything from
// the first 32-byte chunk that holds a non-ASCII byte, which starts on a code
// point boundary since all bytes before it are ASCII. For short inputs it
// tests two overlapping words (or halves, or three bytes) covering the whole
// input, which saves utf8.Valid's byte-at-a-time start and end.
func validGeneric(b []byte) bool {
	n := len(b)
	switch {
	case n >= 32:
		p := b
		// len(p) > 32, so that p never becomes empty: the last 1..32
		// bytes are covered by the final 32 bytes of b.
		for len(p) > 32 {
			if (le64(p[0:])|le64(p[8:])|le64(p[16:])|le64(p[24:]))&hiBits != 0 {
				return utf8.Valid(p)
			}
			p = p[32:]
		}
		e := b[n-32:]
		if (le64(e[0:])|le64(e[8:])|le64(e[16:])|le64(e[24:]))&hiBits != 0 {
			return utf8.Valid(p)
		}
		return true
	case n >= 16:
		if (le64(b[0:])|le64(b[8:])|le64(b[n-16:])|le64(b[n-8:]))&hiBits != 0 {
			return utf8.Valid(b)
		}
		return true
	case n >= 8:
		if (le64(b)|le64(b[n-8:]))&hiBits != 0 {
			return utf8.Valid(b)
		}
		return true
	case n >= 4:
		if (binary.LittleEndian.Uint32(b)|binary.LittleEndian.Uint32(b[n-4:]))&0x80808080 != 0 {
			return utf8.Valid(b)
		}
		return true
	case n > 0:
		if (b[0]|b[n/2]|b[n-1])&0x80 != 0 {
			return utf8.Valid(b)
		}
	}
	return true
}

func le64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }

// asciiShort reports whether b, shorter than 64 bytes, is all ASCII, with
// at most eight overlapping word loads and no loop.
func asciiShort(b []byte) bool {
	n := len(b)
	switch {
	case n >= 32:
		return (le64(b[0:])|le64(b[8:])|le64(b[16:])|le64(b[24:])|
			le64(b[n-32:])|le64(b[n-24:])|le64(b[n-16:])|le64(b[n-8:]))&hiBits == 0
	case n >= 16:
		return (le64(b[0:])|le64(b[8:])|le64(b[n-16:])|le64(b[n-8:]))&hiBits == 0
	case n >= 8:
		return (le64(b)|le64(b[n-8:]))&hiBits == 0
	case n >= 4:
		return (binary.LittleEndian.Uint32(b)|binary.LittleEndian.Uint32(b[n-4:]))&0x80808080 == 0
	case n > 0:
		return (b[0]|b[n/2]|b[n-1])&0x80 == 0
	}
	return true
}

// ascii reports whether b, at least 32 bytes long, is all ASCII.
func ascii(b []byte) bool {
	var acc uint64
	p := b
	for len(p) > 32 {
		acc |= le64(p[0:]) | le64(p[8:]) | le64(p[16:]) | le64(p[24:])
		p = p[32:]
	}
	e := b[len(b)-32:]
	acc |= le64(e[0:]) | le64(e[8:]) | le64(e[16:]) | le64(e[24:])
	return acc&hiBits == 0
}
