package codec

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
	"unicode/utf8"

	"github.com/wsclient/wsclient/internal/testutil"
	"github.com/wsclient/wsclient/simdutf8"
)

// encodeN encodes r in n bytes (1–4) with the UTF-8 bit layout, whether or
// not that is the minimal form: overlong forms, surrogates and values above
// U+10FFFF included. n = 5 and 6 give the obsolete long forms.
func encodeN(r rune, n int) []byte {
	if n == 1 {
		return []byte{byte(r)}
	}
	b := make([]byte, n)
	for i := n - 1; i > 0; i-- {
		b[i] = 0x80 | byte(r&0x3f)
		r >>= 6
	}
	b[0] = byte(0xff<<(8-n)) | byte(r)
	return b
}

// boundaryRunes are the first and last code points of each encoded length
// and around the surrogate gap.
var boundaryRunes = []rune{
	0, 0x7f,
	0x80, 0x7ff,
	0x800, 0xfff, 0x1000, 0xcfff, 0xd000, 0xd7ff, 0xe000, 0xfffd, 0xfffe, 0xffff,
	0x10000, 0x3ffff, 0x40000, 0xfffff, 0x100000, 0x10ffff,
}

// utf8Pieces returns short byte strings covering every class of valid and
// invalid input.
func utf8Pieces() [][]byte {
	var ps [][]byte
	add := func(b []byte) { ps = append(ps, b) }
	for _, r := range boundaryRunes {
		add(utf8.AppendRune(nil, r))
	}
	// Overlong forms: every code point encoded in more bytes than needed.
	for _, r := range []rune{0, '/', 0x7f, 0x80, 0x7ff, 0x800, 0xffff} {
		for n := utf8.RuneLen(r) + 1; n <= 4; n++ {
			add(encodeN(r, n))
		}
	}
	// Surrogates: the edges here, every one of them in TestValidatorSurrogates.
	for _, r := range []rune{0xd800, 0xdbff, 0xdc00, 0xdfff} {
		add(encodeN(r, 3))
	}
	// Above U+10FFFF, and the obsolete 5- and 6-byte forms.
	for _, r := range []rune{0x110000, 0x13ffff, 0x140000, 0x1fffff} {
		add(encodeN(r, 4))
	}
	add(encodeN(0x200000, 5))
	add(encodeN(0x4000000, 6))
	// Bytes that never appear, and lone continuation bytes.
	for _, c := range []byte{0xc0, 0xc1, 0xf5, 0xf6, 0xf7, 0xf8, 0xfb, 0xfc, 0xfd, 0xfe, 0xff, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf} {
		add([]byte{c})
	}
	// Truncated sequences: every proper prefix of every multi-byte piece so far.
	for _, p := range ps[:len(ps):len(ps)] {
		for i := 1; i < len(p); i++ {
			add(p[:i])
		}
	}
	// Continuation bytes at the edges of the special second-byte ranges.
	for _, lead := range []byte{0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4} {
		for _, c := range []byte{0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0} {
			add([]byte{lead, c})
			add([]byte{lead, c, 0x80})
			add([]byte{lead, c, 0x80, 0x80})
		}
	}
	return ps
}

// utf8Corpus returns utf8Pieces alone, between ASCII, and in every ordered
// pair (so each piece is seen before and after every other, in particular
// truncated sequences followed by new leads).
func utf8Corpus() [][]byte {
	ps := utf8Pieces()
	var c [][]byte
	for _, p := range ps {
		c = append(c, p, cat([]byte("a"), p, []byte("b")), cat(p, p, p))
	}
	for _, p := range ps {
		for _, q := range ps {
			c = append(c, cat(p, q))
		}
	}
	return c
}

func cat(ps ...[]byte) []byte { return bytes.Join(ps, nil) }

// feed writes parts to a fresh Validator and reports Write && ... && Done.
// It also checks that failures are sticky.
func feed(t *testing.T, parts ...[]byte) bool {
	t.Helper()
	var v Validator
	ok := true
	for _, p := range parts {
		got := v.Write(p)
		if !ok && got {
			t.Fatalf(
				"Write succeeded after a failed Write: parts %q",
				parts)
		}
		ok = got
	}
	if ok != v.Write(nil) {
		t.Fatalf(
			"Write(nil) = %v after Write returned %v",
			!ok, ok)
	}
	return ok && v.Done()
}

func TestValidatorEverySplit(t *testing.T) {
	for _, s := range utf8Corpus() {
		want := utf8.Valid(s)
		if got := simdutf8.Valid(s); got != want {
			t.Fatalf(
				"simdutf8.Valid(% x) = %v, want %v",
				s, got, want)
		}
		for i := 0; i <= len(s); i++ {
			if got := feed(t, s[:i], s[i:]); got != want {
				t.Fatalf(
					"split % x | % x: got %v, want %v",
					s[:i], s[i:], got, want)
			}
			for j := i; j <= len(s); j++ {
				if got := feed(t, s[:i], s[i:j], s[j:]); got != want {
					t.Fatalf(
						"split % x | % x | % x: got %v, want %v",
						s[:i], s[i:j], s[j:], got, want)
				}
			}
		}
	}
}

func TestValidatorSurrogates(t *testing.T) {
	for r := rune(0xd800); r <= 0xdfff; r++ {
		s := cat([]byte("x"), encodeN(r, 3), []byte("y"))
		for i := 0; i <= len(s); i++ {
			if feed(t, s[:i], s[i:]) {
				t.Fatalf(
					"surrogate U+%04X accepted (split at %d)",
					r, i)
			}
		}
	}
}

// checkFailFast feeds s in the given chunk sizes (cycled) and checks that
// every Write returns whether the bytes so far can begin valid UTF-8.
func checkFailFast(t *testing.T, s []byte, sizes []int) {
	t.Helper()
	var v Validator
	end := 0
	for i := 0; end < len(s); i++ {
		next := min(end+sizes[i%len(sizes)], len(s))
		got := v.Write(s[end:next])
		end = next
		if want := testutil.PossiblyValidUTF8(s[:end]); got != want {
			t.Fatalf(
				"Write ending at % x = %v, want %v",
				s[:end], got, want)
		}
		if got && v.Done() != utf8.Valid(s[:end]) {
			t.Fatalf(
				"Done after % x = %v, want %v",
				s[:end], v.Done(), !v.Done())
		}
	}
}

func TestValidatorFailFast(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, s := range utf8Corpus() {
		checkFailFast(t, s, []int{1})
		checkFailFast(t, s, []int{1 + rng.IntN(4), 1 + rng.IntN(4)})
	}
}

func TestValidatorFailFastExamples(t *testing.T) {
	tests := []struct {
		in   []byte
		ok   bool // Write's result
		done bool // Done after a successful Write
	}{
		{in: []byte{0xed, 0xa0}},            // surrogate
		{in: []byte{0xe0, 0x80}},            // overlong
		{in: []byte{0xe0, 0x9f}},            // overlong
		{in: []byte{0xf0, 0x80}},            // overlong
		{in: []byte{0xf0, 0x8f}},            // overlong
		{in: []byte{0xf4, 0x90}},            // above U+10FFFF
		{in: []byte{0xc0}},                  // never valid
		{in: []byte{0xc1}},                  // never valid
		{in: []byte{0xf5}},                  // never valid
		{in: []byte{0xff}},                  // never valid
		{in: []byte{'a', 0xce, 0xba, 0x80}}, // lead expected, got continuation
		{in: []byte{0xce, 0xba, 0xe1, 0xbd, 0x80}, ok: true, done: true},
		{in: []byte{0xce, 0xba, 0xe1}, ok: true},
		{in: []byte{0xed, 0x9f}, ok: true},
		{in: []byte{0xe0, 0xa0}, ok: true},
		{in: []byte{0xf0, 0x90, 0x80}, ok: true},
		{in: []byte{0xf4, 0x8f, 0xbf}, ok: true},
		{in: []byte{0xf4, 0x8f, 0xbf, 0xbf}, ok: true, done: true},
	}
	for _, tt := range tests {
		var v Validator
		if got := v.Write(tt.in); got != tt.ok || (got && v.Done() != tt.done) {
			t.Errorf(
				"Write(% x) = %v, Done = %v; want %v, %v",
				tt.in, got, v.Done(), tt.ok, tt.done)
		}
		// The same, one byte per Write: the last Write decides.
		v = Validator{}
		ok := true
		for i := range tt.in {
			ok = v.Write(tt.in[i : i+1])
		}
		if ok != tt.ok {
			t.Errorf(
				"Write(% x) byte by byte = %v, want %v",
				tt.in, ok, tt.ok)
		}
	}
}

func TestValidatorReset(t *testing.T) {
	var v Validator
	if v.Write([]byte{0xff}) || v.Done() {
		t.Fatal("0xFF accepted")
	}
	v = Validator{}
	if !v.Write([]byte{0xe2, 0x82}) || v.Done() {
		t.Fatal("pending sequence not reported")
	}
	v = Validator{}
	if !v.Write([]byte("ok")) || !v.Done() {
		t.Fatal("Reset did not drop the pending sequence")
	}
}

// randomText returns n bytes of random runes from every length class, valid
// or, when corrupt is set, with a few random byte changes.
func randomText(rng *rand.Rand, n int, corrupt bool) []byte {
	b := make([]byte, 0, n+4)
	for len(b) < n {
		var r rune
		switch rng.IntN(5) {
		case 0:
			r = rune(rng.IntN(0x80))
		case 1:
			r = rune(0x80 + rng.IntN(0x800-0x80))
		case 2:
			r = rune(0x800 + rng.IntN(0xd800-0x800))
		case 3:
			r = rune(0xe000 + rng.IntN(0x10000-0xe000))
		default:
			r = rune(0x10000 + rng.IntN(0x110000-0x10000))
		}
		b = utf8.AppendRune(b, r)
	}
	if corrupt && len(b) > 0 {
		for range 1 + rng.IntN(3) {
			switch i := rng.IntN(len(b)); rng.IntN(3) {
			case 0:
				b[i] = byte(rng.Uint32())
			case 1:
				b = b[:i]
			default:
				b = append(b[:i], append([]byte{byte(rng.Uint32())}, b[i:]...)...)
			}
			if len(b) == 0 {
				break
			}
		}
	}
	return b
}

func TestValidatorRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 3000 {
		s := randomText(rng, rng.IntN(300), i%2 == 1)
		want := utf8.Valid(s)
		if simdutf8.Valid(s) != want {
			t.Fatalf(
				"simdutf8.Valid(% x) != %v",
				s, want)
		}
		// Random splits into 3 or more parts.
		for range 5 {
			var parts [][]byte
			rest := s
			for len(rest) > 0 || len(parts) < 3 {
				k := min(rng.IntN(8), len(rest))
				parts, rest = append(parts, rest[:k]), rest[k:]
			}
			if got := feed(t, parts...); got != want {
				t.Fatalf(
					"parts %q: got %v, want %v",
					parts, got, want)
			}
		}
		if i < 300 {
			checkFailFast(t, s, []int{1, 2, 3, 5, 7})
		}
	}
	// Large buffers, so that the bulk path runs on long runs.
	for i := range 40 {
		s := randomText(rng, 1<<14+rng.IntN(1<<14), i%2 == 1)
		want := utf8.Valid(s)
		for range 5 {
			var v Validator
			ok := true
			for rest := s; len(rest) > 0; {
				k := min(1+rng.IntN(3000), len(rest))
				ok = v.Write(rest[:k]) && ok
				rest = rest[k:]
			}
			if got := ok && v.Done(); got != want {
				t.Fatalf(
					"large buffer %d: got %v, want %v",
					i, got, want)
			}
		}
	}
}

var sinkBool bool

// benchText returns size bytes of ASCII, or of mixed Latin, CJK and emoji
// text (padded with ASCII to the exact size).
func benchText(kind string, size int) []byte {
	if kind == "ascii" {
		return bytes.Repeat([]byte("x"), size)
	}
	unit := []byte("Grüße, café ñandú — 日本語のテキスト、中文字符 🎉🚀😀 ")
	b := make([]byte, 0, size)
	for len(b) < size {
		for _, r := range string(unit) {
			if len(b)+utf8.RuneLen(r) > size {
				break
			}
			b = utf8.AppendRune(b, r)
		}
		if len(b)+4 > size {
			for len(b) < size {
				b = append(b, ' ')
			}
		}
	}
	if !utf8.Valid(b) || len(b) != size {
		panic("bad bench text")
	}
	return b
}

func BenchmarkUTF8(b *testing.B) {
	for _, kind := range []string{"ascii", "mixed"} {
		for _, size := range []int{16, 1024, 64 << 10} {
			text := benchText(kind, size)
			b.Run(fmt.Sprintf("%s/utf8.Valid/%d", kind, size), func(b *testing.B) {
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					sinkBool = utf8.Valid(text)
				}
			})
			b.Run(fmt.Sprintf("%s/simdutf8.Valid/%d", kind, size), func(b *testing.B) {
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					sinkBool = simdutf8.Valid(text)
				}
			})
			b.Run(fmt.Sprintf("%s/Validator/%d", kind, size), func(b *testing.B) {
				var v Validator
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					v = Validator{}
					sinkBool = v.Write(text) && v.Done()
				}
			})
			if size < 4096 {
				continue
			}
			// Reads of an odd size that cut code points.
			b.Run(fmt.Sprintf("%s/Validator-1447B-chunks/%d", kind, size), func(b *testing.B) {
				var v Validator
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					v = Validator{}
					ok := true
					for p := text; len(p) > 0; {
						k := min(1447, len(p))
						ok = v.Write(p[:k]) && ok
						p = p[k:]
					}
					sinkBool = ok && v.Done()
				}
			})
		}
	}
}

// TestValidUTF8EveryPosition places one non-ASCII byte or sequence at every
// position of ASCII buffers of every length up to 200, so that each word the
// ASCII fast path loads, overlapping tails included, is seen to be checked.
func TestValidUTF8EveryPosition(t *testing.T) {
	for n := 1; n <= 200; n++ {
		base := bytes.Repeat([]byte("a"), n)
		for i := range n {
			for _, seq := range [][]byte{{0xff}, {0x80}, {0xc3, 0xa9}, {0xe2, 0x82, 0xac}, {0xf0, 0x9f, 0x98, 0x80}, {0xed, 0xa0, 0x80}} {
				s := append(append(append([]byte(nil), base[:i]...), seq...), base[i:]...)
				s = s[:n] // may truncate seq at the end
				want := utf8.Valid(s)
				if got := simdutf8.Valid(s); got != want {
					t.Fatalf(
						"simdutf8.Valid(% x) = %v, want %v",
						s, got, want)
				}
				if got := feed(t, s); got != want {
					t.Fatalf(
						"Validator(% x) = %v, want %v",
						s, got, want)
				}
			}
		}
	}
}

// TestValidUTF8Exhaustive compares simdutf8.Valid, which the Validator and
// ParseClose use, with utf8.Valid on every 1- to
// 3-byte input, and on every 4-byte input made of bytes at the edges of the
// UTF-8 byte classes, both alone (the byte loop of the automaton in
// simdutf8's portable kernel, under purego) and across the boundary of its
// 16-byte blocks.
func TestValidUTF8Exhaustive(t *testing.T) {
	if testing.Short() {
		t.Skip("16M inputs")
	}
	var b [3]byte
	for n := 1; n <= 3; n++ {
		for x := range 1 << (8 * n) {
			for i := range n {
				b[i] = byte(x >> (8 * i))
			}
			if simdutf8.Valid(b[:n]) != utf8.Valid(b[:n]) {
				t.Fatalf(
					"simdutf8.Valid(% x) = %v",
					b[:n], !utf8.Valid(b[:n]))
			}
		}
	}
	edges := []byte{0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xff}
	buf := make([]byte, 36)
	for _, c0 := range edges {
		for _, c1 := range edges {
			for _, c2 := range edges {
				for _, c3 := range edges {
					seq := []byte{c0, c1, c2, c3}
					if simdutf8.Valid(seq) != utf8.Valid(seq) {
						t.Fatalf(
							"simdutf8.Valid(% x) = %v",
							seq, !utf8.Valid(seq))
					}
					for off := 12; off <= 16; off++ {
						copy(buf, "é") // non-ASCII first: the automaton runs from the start
						for i := 2; i < len(buf); i++ {
							buf[i] = 'a'
						}
						copy(buf[off:], seq)
						if simdutf8.Valid(buf) != utf8.Valid(buf) {
							t.Fatalf(
								"simdutf8.Valid(% x) = %v",
								buf, !utf8.Valid(buf))
						}
					}
				}
			}
		}
	}
}

// TestValidUTF8SplitByASCII puts runs of ASCII inside multi-byte sequences,
// after non-ASCII and at every alignment, so that skipping ASCII blocks in
// the middle of a code point would be noticed.
func TestValidUTF8SplitByASCII(t *testing.T) {
	seqs := [][]byte{{0xc3, 0xa9}, {0xe2, 0x82, 0xac}, {0xed, 0x9f, 0xbf}, {0xf0, 0x9f, 0x98, 0x80}, {0xf4, 0x8f, 0xbf, 0xbf}}
	for _, seq := range seqs {
		for cut := 1; cut < len(seq); cut++ {
			for lead := range 20 {
				for k := range 40 {
					s := cat([]byte("é"), bytes.Repeat([]byte("b"), lead), seq[:cut], bytes.Repeat([]byte("a"), k), seq[cut:], []byte("z"))
					want := utf8.Valid(s)
					if simdutf8.Valid(s) != want {
						t.Fatalf(
							"simdutf8.Valid(% x) = %v",
							s, !want)
					}
					if feed(t, s) != want {
						t.Fatalf(
							"Validator(% x) = %v",
							s, !want)
					}
				}
			}
		}
	}
}
