package utf8dfa

import (
	"bytes"
	"testing"
	"unicode/utf8"
)

// steps runs Step over p from Accept.
func steps(p []byte) State {
	s := Accept
	for _, c := range p {
		s = Step(s, c)
	}
	return s
}

// TestSequences compares Valid and Step with unicode/utf8 on every string
// of up to three bytes, and every four-byte string with a non-ASCII lead
// and a continuation-range edge or ASCII after the second byte. Strings but
// the three-byte ones are also tried after 16 ASCII bytes (the skipped
// block) and before 16 more (the unrolled block ending mid-sequence).
func TestSequences(t *testing.T) {
	edges := []byte{0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc2, 0xf4, 0xff}
	pad := bytes.Repeat([]byte{'a'}, 16)
	check := func(padded bool, s ...byte) {
		want := utf8.Valid(s)
		if Valid(s) != want || (steps(s) == Accept) != want {
			t.Fatalf("% x: Valid %v, Step ends in state %d; utf8.Valid %v", s, Valid(s), steps(s), want)
		}
		if !padded {
			return
		}
		for _, p := range [][]byte{append(pad[:16:16], s...), append(s[:len(s):len(s)], pad...)} {
			if Valid(p) != want {
				t.Fatalf("Valid(% x) = %v", p, !want)
			}
		}
	}
	for b0 := range 256 {
		check(true, byte(b0))
		for b1 := range 256 {
			check(true, byte(b0), byte(b1))
			for b2 := range 256 {
				check(false, byte(b0), byte(b1), byte(b2))
			}
			if b0 < 0x80 {
				continue
			}
			for _, b2 := range edges {
				for _, b3 := range edges {
					check(true, byte(b0), byte(b1), b2, b3)
				}
			}
		}
	}
}

// TestErrorAbsorbing checks that no byte leaves Error, and that a prefix
// leaves Accept and Error exactly when some continuation could complete it.
func TestErrorAbsorbing(t *testing.T) {
	for c := range 256 {
		if Step(Error, byte(c)) != Error {
			t.Fatalf("Step(Error, %#x) left Error", c)
		}
	}
	for _, tc := range []struct {
		p      string
		viable bool
	}{
		{"\xe0", true}, {"\xe0\xa0", true}, {"\xe0\x9f", false},
		{"\xed\x9f", true}, {"\xed\xa0", false},
		{"\xf0\x90\x80", true}, {"\xf0\x8f", false},
		{"\xf4\x8f\xbf", true}, {"\xf4\x90", false},
		{"\xc1", false}, {"\xf5", false}, {"\x80", false},
	} {
		if s := steps([]byte(tc.p)); (s != Error) != tc.viable || s == Accept {
			t.Errorf("Step over % x: state %d, want viable %v and not Accept", tc.p, s, tc.viable)
		}
	}
}
