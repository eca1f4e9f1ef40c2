package codec

import (
	"encoding/binary"
	"errors"
	"unicode/utf8"
)

// ErrInvalidUTF8 reports a text message or close reason received with
// invalid UTF-8 (RFC 6455 §8.1); a connection fails with close code 1007
// (§7.4.1).
var ErrInvalidUTF8 = errors.New("websocket: invalid UTF-8 in text message")

// validBulk reports whether p is entirely valid UTF-8. It is the one place
// the bulk of every validation goes through, so that a SIMD kernel can be
// plugged in here without touching Validator.
//
// It skips ASCII a word at a time before handing the rest to utf8.Valid,
// because measurements beat the standard library there: utf8.Valid checks
// its first byte alone and finishes with a byte loop, so 16 ASCII bytes take
// it ~8 ns against ~2 ns here, and on long ASCII it runs the same 32-byte
// loop as this one. From the first word holding a non-ASCII byte on, it is
// utf8.Valid (a word boundary after ASCII is a code point boundary).
func validBulk(p []byte) bool {
	const hi = 0x8080808080808080
	n := len(p)
	switch {
	case n >= 32:
		q := p
		// "> 32", not ">= 32": q never becomes empty, which spares the
		// compiler's fixup of a slice pointing past the end (as in utf8.Valid).
		for len(q) > 32 {
			if (le64(q[0:8])|le64(q[8:16])|le64(q[16:24])|le64(q[24:32]))&hi != 0 {
				return utf8.Valid(q)
			}
			q = q[32:]
		}
		// 1 to 32 bytes left: the last 32 bytes of p cover them.
		t := p[n-32:]
		if (le64(t[0:8])|le64(t[8:16])|le64(t[16:24])|le64(t[24:32]))&hi != 0 {
			return utf8.Valid(q)
		}
		return true
	case n >= 16: // 16 to 31 bytes: the first and last 16 cover them
		if (le64(p[:8])|le64(p[8:16])|le64(p[n-16:n-8])|le64(p[n-8:]))&hi != 0 {
			return utf8.Valid(p)
		}
		return true
	case n >= 8:
		if (le64(p[:8])|le64(p[n-8:]))&hi != 0 {
			return utf8.Valid(p)
		}
		return true
	case n >= 4:
		if (le32(p[:4])|le32(p[n-4:]))&0x80808080 != 0 {
			return utf8.Valid(p)
		}
		return true
	case n > 0:
		if (p[0]|p[n/2]|p[n-1])&0x80 != 0 {
			return utf8.Valid(p)
		}
		return true
	}
	return true
}

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
// the end of one Write is carried (at most 3 bytes) and completed from the
// next Write; the rest goes through the same bulk check as ValidUTF8. Write fails as soon as the bytes
// seen so far cannot begin valid UTF-8, whatever follows: a truncated
// surrogate (0xED 0xA0), overlong prefix (0xE0 0x80, 0xF0 0x80), prefix above
// U+10FFFF (0xF4 0x90) or impossible byte (0xC0, 0xC1, 0xF5–0xFF) fails on
// the Write that delivers it (the "fail fast" cases of Autobahn 6.x).
//
// A Validator never allocates.
type Validator struct {
	buf [4]byte // buf[:n] is the pending incomplete sequence
	n   uint8   // pending bytes (0–3), or failed
}

// failed is the Validator.n value after a failed Write.
const failed = 0xff

// Write feeds the next bytes of the message to v and reports whether
// everything fed since the last Reset can still begin valid UTF-8. After it
// returns false it keeps returning false until Reset.
func (v *Validator) Write(p []byte) bool {
	// Fast path: nothing pending and p ends with ASCII, so no code point is
	// cut at either end and p goes straight to the bulk check.
	if v.n == 0 && (len(p) == 0 || p[len(p)-1] < utf8.RuneSelf) {
		if validBulk(p) {
			return true
		}
		v.n = failed
		return false
	}
	return v.write(p)
}

// write is Write when a sequence is pending, v failed, or p may end inside a
// code point.
func (v *Validator) write(p []byte) bool {
	if v.n != 0 {
		if v.n == failed {
			return false
		}
		var ok bool
		if p, ok = v.complete(p); !ok {
			v.n = failed
			return false
		}
		if v.n != 0 { // p was used up and the sequence is still incomplete
			return true
		}
	}
	cut := tailStart(p)
	if !validBulk(p[:cut]) {
		v.n = failed
		return false
	}
	if cut < len(p) {
		t := p[cut:]
		if !validPrefix(t) {
			v.n = failed
			return false
		}
		v.n = uint8(copy(v.buf[:], t))
	}
	return true
}

// complete moves the bytes that the pending sequence still needs from the
// start of p into v.buf and returns the rest of p. It reports false if the
// sequence became impossible.
func (v *Validator) complete(p []byte) ([]byte, bool) {
	have := int(v.n)
	need := int(lead[v.buf[0]]&7) - have // 1–3: buf[0] passed validPrefix
	k := min(need, len(p))
	copy(v.buf[have:], p[:k])
	if !validPrefix(v.buf[:have+k]) {
		return p, false
	}
	if k < need {
		v.n = uint8(have + k)
	} else {
		v.n = 0
	}
	return p[k:], true
}

// Done reports whether the bytes fed since the last Reset are complete,
// valid UTF-8: every Write succeeded and no code point is left unfinished
// (RFC 6455 §8.1: a text message must be valid once all of it arrived).
// Call it at the end of a message. It does not reset v.
func (v *Validator) Done() bool {
	return v.n == 0
}

// Reset makes v ready for a new message.
func (v *Validator) Reset() {
	*v = Validator{}
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
		if c >= 0xc0 { // a lead byte (or an impossible 0xC0, 0xC1, 0xF5+: size 0)
			if i+int(lead[c]&7) > n {
				return i
			}
			return n
		}
		// a continuation byte: its lead is further back
	}
	return n
}

// validPrefix reports whether b, which starts with a lead byte and is at most
// as long as the sequence that lead announces, can begin a valid multi-byte
// sequence (RFC 3629 §4).
func validPrefix(b []byte) bool {
	x := lead[b[0]]
	size := int(x & 7)
	if size < 2 || len(b) > size {
		return false
	}
	if len(b) > 1 {
		r := second[x>>4]
		if b[1] < r.lo || b[1] > r.hi {
			return false
		}
		for _, c := range b[2:] {
			if c&0xc0 != 0x80 {
				return false
			}
		}
	}
	return true
}

// lead describes each possible first byte: the sequence size in the low 3
// bits (0 = cannot start a sequence, 1 = ASCII) and, in the high bits, the
// index in second of the range allowed for the next byte (RFC 3629 §4).
var lead = func() (t [256]uint8) {
	for c := range 0x80 {
		t[c] = 1
	}
	for c := 0xc2; c <= 0xdf; c++ {
		t[c] = 2
	}
	for c := 0xe0; c <= 0xef; c++ {
		t[c] = 3
	}
	t[0xe0] |= 1 << 4 // A0–BF: no overlong 3-byte forms
	t[0xed] |= 2 << 4 // 80–9F: no surrogates
	for c := 0xf0; c <= 0xf4; c++ {
		t[c] = 4
	}
	t[0xf0] |= 3 << 4 // 90–BF: no overlong 4-byte forms
	t[0xf4] |= 4 << 4 // 80–8F: nothing above U+10FFFF
	return t
}()

// second holds the ranges allowed for the second byte of a sequence, indexed
// by the high bits of its lead entry.
var second = [5]struct{ lo, hi byte }{
	{0x80, 0xbf},
	{0xa0, 0xbf},
	{0x80, 0x9f},
	{0x90, 0xbf},
	{0x80, 0x8f},
}
