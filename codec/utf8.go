package codec

import (
	"errors"
	"unicode/utf8"

	"github.com/wsclient/wsclient/internal/utf8dfa"
	"github.com/wsclient/wsclient/simdutf8"
)

// ErrInvalidUTF8 reports a text message or close reason received with
// invalid UTF-8 (RFC 6455 §8.1); a connection fails with close code 1007
// (§7.4.1).
var ErrInvalidUTF8 = errors.New("wsclient: invalid UTF-8 in text message")

// validString is simdutf8.Valid for a close reason of at most maxCloseReason
// bytes, copied to the stack so no conversion allocates.
func validString(s string) bool {
	var buf [maxCloseReason]byte
	n := copy(buf[:], s)
	if n < len(s) {
		return false
	}
	return simdutf8.Valid(buf[:n])
}

// Validator validates UTF-8 text incrementally (RFC 6455 §8.1: a text
// message may be split into frames, and a frame into reads, anywhere, even
// inside a code point). The zero value is ready to use; assign
// Validator{} to start over for a new message.
//
// Nothing is re-scanned from the start of the message: a code point cut at
// the end of one Write is carried as the state of the UTF-8 automaton of
// simdutf8's portable kernel (the pending bytes, at most 3, need not be
// kept) and finished by the next Write; the rest goes through simdutf8.Valid,
// the whole-buffer check (RFC 3629, as RFC 6455 §5.6 and §8.1 require for
// text) through which every validation of the package goes. Write fails
// as soon as the bytes seen so far cannot begin valid UTF-8, whatever
// follows: a truncated surrogate (0xED 0xA0), overlong prefix (0xE0 0x80,
// 0xF0 0x80), prefix above U+10FFFF (0xF4 0x90) or impossible byte (0xC0,
// 0xC1, 0xF5–0xFF) fails on the Write that delivers it (the "fail fast"
// cases of Autobahn 6.x).
//
// A Validator never allocates.
type Validator struct {
	state utf8dfa.State // utf8dfa.Accept between code points
}

// Write feeds the next bytes of the message to v and reports whether
// everything fed since the last Reset can still begin valid UTF-8. After it
// returns false it keeps returning false until Reset.
func (v *Validator) Write(p []byte) bool {
	// Fast path: nothing pending and p ends with ASCII, so no code point is
	// cut at either end and p goes straight to the bulk check.
	if v.state == utf8dfa.Accept && (len(p) == 0 || p[len(p)-1] < utf8.RuneSelf) {
		if simdutf8.Valid(p) {
			return true
		}
		v.state = utf8dfa.Error
		return false
	}
	return v.write(p)
}

// write is Write when a code point is pending, v failed, or p may end inside
// a code point.
func (v *Validator) write(p []byte) bool {
	// Finish the pending code point: at most 3 bytes.
	s := v.state
	for s != utf8dfa.Accept && s != utf8dfa.Error && len(p) > 0 {
		s = utf8dfa.Step(s, p[0])
		p = p[1:]
	}
	if s != utf8dfa.Accept {
		v.state = s // failed, or p used up
		return s != utf8dfa.Error
	}
	// The middle in bulk, then the automaton over a cut code point at the end.
	cut := tailStart(p)
	if !simdutf8.Valid(p[:cut]) {
		v.state = utf8dfa.Error
		return false
	}
	for _, c := range p[cut:] {
		s = utf8dfa.Step(s, c)
	}
	v.state = s
	return s != utf8dfa.Error
}

// Done reports whether the bytes fed since the last Reset are complete,
// valid UTF-8: every Write succeeded and no code point is left unfinished
// (RFC 6455 §8.1: a text message must be valid once all of it arrived).
// Call it at the end of a message. It does not reset v.
func (v *Validator) Done() bool {
	return v.state == utf8dfa.Accept
}

// tailStart returns the index in p where a trailing incomplete multi-byte
// sequence starts, or len(p) if p does not end inside one (what it ends with
// may still be invalid: that is for simdutf8.Valid to find). Only the last 3 bytes
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
