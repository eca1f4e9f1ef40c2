package simdutf8_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/wsclient/wsclient/simdutf8"
)

// check fails t if kernel k disagrees with unicode/utf8 on b, describing
// the case with format and args (formatted only then).
func check(t *testing.T, k simdutf8.Kernel, b []byte, format string, args ...any) {
	t.Helper()
	if got, want := k.Valid(b), utf8.Valid(b); got != want {
		t.Fatalf("%s: %s: len %d: got %v, want %v\n% x", k.Name, fmt.Sprintf(format, args...), len(b), got, want, b)
	}
}

// interesting are byte values on either side of every boundary the
// algorithm cares about.
var interesting = []byte{
	0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf,
	0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff,
}

// TestEveryCodePoint checks every code point (and every surrogate, encoded as
// if it were one), each inside ASCII at a position that moves through
// the vector lanes and blocks.
func TestEveryCodePoint(t *testing.T) {
	step := rune(1)
	if testing.Short() {
		step = 7
	}
	for _, k := range simdutf8.Kernels() {
		t.Run(k.Name, func(t *testing.T) {
			buf := bytes.Repeat([]byte{'a'}, 140)
			for c := rune(0); c < 0x110000; c += step {
				var b []byte
				if 0xd800 <= c && c < 0xe000 { // the encoding utf8 refuses to make
					b = []byte{0xed, byte(0x80 | c>>6&0x3f), byte(0x80 | c&0x3f)}
				} else {
					b = utf8.AppendRune(nil, c)
				}
				at := int(c % 131)
				copy(buf[at:], b)
				if x := buf[:at+len(b)+int(c%3)]; k.Valid(x) != utf8.Valid(x) {
					check(t, k, x, "U+%04X at %d", c, at)
				}
				copy(buf[at:], "aaaa")
			}
		})
	}
}

// TestSequences checks every string of one or two bytes, and every string of
// three and four bytes with a non-ASCII first byte, any second byte, and
// interesting bytes after it: all overlong forms, surrogates, code points
// above U+10FFFF and the bytes C0, C1 and F5..FF among them. Each string is
// placed at a position that moves through the vector lanes and blocks.
func TestSequences(t *testing.T) {
	for _, k := range simdutf8.Kernels() {
		t.Run(k.Name, func(t *testing.T) {
			buf := bytes.Repeat([]byte{'a'}, 200)
			i := 0
			try := func(s ...byte) {
				i++
				at := i % 133
				copy(buf[at:], s)
				for _, after := range []int{0, i % 5} {
					if x := buf[:at+len(s)+after]; k.Valid(x) != utf8.Valid(x) {
						check(t, k, x, "% x at %d, %d bytes after", s, at, after)
					}
				}
				copy(buf[at:], "aaaa")
			}
			for b0 := range 256 {
				try(byte(b0))
				for b1 := range 256 {
					try(byte(b0), byte(b1))
				}
			}
			for b0 := 0x80; b0 < 256; b0++ {
				for b1 := range 256 {
					for _, b2 := range interesting {
						try(byte(b0), byte(b1), b2)
						if b0 >= 0xf0 {
							for _, b3 := range interesting {
								try(byte(b0), byte(b1), b2, b3)
							}
						}
					}
				}
			}
		})
	}
}

// TestKnownForms spells out the classic cases.
func TestKnownForms(t *testing.T) {
	cases := []struct {
		s     string
		valid bool
	}{
		{"", true},
		{"a", true},
		{"\u00e9", true},
		{"\u20ac", true},
		{"\U0001F600", true},
		{"\U0010FFFF", true},
		{"\uD7FF", true},
		{"\uE000", true},
		{"\xc0\x80", false},         // overlong NUL
		{"\xc1\xbf", false},         // overlong 2
		{"\xe0\x80\x80", false},     // overlong 3
		{"\xe0\x9f\xbf", false},     // overlong 3, largest
		{"\xf0\x80\x80\x80", false}, // overlong 4
		{"\xf0\x8f\xbf\xbf", false}, // overlong 4, largest
		{"\xed\xa0\x80", false},     // surrogate D800
		{"\xed\xbf\xbf", false},     // surrogate DFFF
		{"\xf4\x90\x80\x80", false}, // U+110000
		{"\xf5\x80\x80\x80", false},
		{"\xf8\x88\x80\x80\x80", false},
		{"\xff", false},
		{"\x80", false},
		{"\xc2", false},
		{"\xe2\x82", false},
		{"\xf0\x9f\x98", false},
		{"\xc2\xc2\xa9", false},
		{"\xe2\x82\xac\xac", false},
	}
	for _, k := range simdutf8.Kernels() {
		for _, c := range cases {
			for _, pad := range []int{0, 1, 13, 29, 31, 32, 61, 63, 64, 100, 127, 128, 200} {
				b := append(bytes.Repeat([]byte{'x'}, pad), c.s...)
				if got := k.Valid(b); got != c.valid {
					t.Errorf("%s: %q after %d bytes: got %v, want %v", k.Name, c.s, pad, got, c.valid)
				}
				b = append(b, "yz"...)
				check(t, k, b, "%q after %d bytes, then 2 more", c.s, pad)
			}
		}
	}
}

// TestTruncations cuts valid text of every kind after every byte.
func TestTruncations(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	texts := [][]byte{randomText(r, 300, false)}
	for _, kind := range []string{"latin", "cjk", "emoji"} {
		texts = append(texts, corpus(kind, 300))
	}
	for _, k := range simdutf8.Kernels() {
		for ti, text := range texts {
			for n := range len(text) + 1 {
				check(t, k, text[:n], "text %d cut at %d", ti, n)
				check(t, k, text[n:], "text %d from %d", ti, n)
			}
		}
	}
}

// TestRandom checks random valid and invalid text of every length from 0 to
// 1000 at every alignment from 0 to 63.
func TestRandom(t *testing.T) {
	maxLen, step := 1000, 1
	if testing.Short() {
		step = 7
	}
	r := rand.New(rand.NewPCG(3, 4))
	buf := make([]byte, maxLen+64)
	ks := simdutf8.Kernels()
	for n := 0; n <= maxLen; n += step {
		for _, invalid := range []bool{false, true} {
			text := randomText(r, n, invalid)
			for off := range 64 {
				b := buf[off : off+n]
				copy(b, text)
				want := utf8.Valid(b)
				for _, k := range ks {
					if k.Valid(b) != want {
						check(t, k, b, "random (invalid %v) at offset %d", invalid, off)
					}
				}
			}
		}
	}
}

// TestInvalidAtEveryPosition puts a bad byte, or a good byte in a bad place,
// at every position of valid texts of 64, 128 and 256 bytes.
func TestInvalidAtEveryPosition(t *testing.T) {
	bad := []byte{0x80, 0xbf, 0xc0, 0xc2, 0xe0, 0xed, 0xf0, 0xf4, 0xf5, 0xff, 'a'}
	for _, k := range simdutf8.Kernels() {
		for _, n := range []int{64, 128, 256} {
			for _, kind := range []string{"ascii", "latin", "cjk", "emoji"} {
				text := corpus(kind, n)
				b := slices.Clone(text)
				for i := range n {
					for _, x := range bad {
						b[i] = x
						if k.Valid(b) != utf8.Valid(b) {
							check(t, k, b, "%s %d with %#x at %d", kind, n, x, i)
						}
					}
					b[i] = text[i]
				}
			}
		}
	}
}

// TestLong checks long inputs, valid and with one error near the end.
func TestLong(t *testing.T) {
	for _, k := range simdutf8.Kernels() {
		for _, kind := range []string{"ascii", "latin", "cjk", "emoji"} {
			for _, n := range []int{4095, 4096, 65537, 1 << 20} {
				b := corpus(kind, n)
				check(t, k, b, "%s", kind)
				b[n-5] = 0xff
				check(t, k, b, "%s with 0xff near the end", kind)
				b[n-5] = 'a'
				b[n-1] = 0xc3
				check(t, k, b, "%s with a lead byte last", kind)
			}
		}
	}
}

// TestValidUsesEveryKernel runs Valid with each kernel forced.
func TestValidUsesEveryKernel(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, name := range simdutf8.KernelNames() {
		func() {
			defer simdutf8.UseKernel(name)()
			if got := simdutf8.Impl(); got != name {
				t.Fatalf("Impl() = %q after UseKernel(%q)", got, name)
			}
			for n := range 600 {
				ascii := corpus("ascii", n)
				bad := slices.Clone(ascii)
				if n > 0 {
					bad[r.IntN(n)] = 0x80 | byte(r.Uint32())
				}
				for _, b := range [][]byte{randomText(r, n, n%2 == 1), ascii, bad} {
					if got, want := simdutf8.Valid(b), utf8.Valid(b); got != want {
						t.Fatalf("%s: Valid(% x) = %v, want %v", name, b, got, want)
					}
				}
			}
		}()
	}
}

// TestImpl checks that Impl names the kernel WSCLIENT_UTF8 names, if this
// CPU has it, or else the best, and that generic is always there.
func TestImpl(t *testing.T) {
	names := simdutf8.KernelNames()
	env := os.Getenv(simdutf8.EnvVar)
	want := names[len(names)-1]
	if slices.Contains(names, env) {
		want = env
	}
	if names[0] != "generic" || simdutf8.Impl() != want {
		t.Errorf("KernelNames() = %v, %s=%q, Impl() = %q", names, simdutf8.EnvVar, env, simdutf8.Impl())
	}
	t.Logf("%s=%q: Impl() = %q, kernels %v", simdutf8.EnvVar, env, simdutf8.Impl(), names)
}
