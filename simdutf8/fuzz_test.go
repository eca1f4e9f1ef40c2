package simdutf8_test

import (
	"testing"
	"unicode/utf8"

	"github.com/wsclient/wsclient/simdutf8"
)

// FuzzValid requires every kernel, and Valid, to agree with unicode/utf8 on
// the input and on every suffix starting in its first 64 bytes (so that the
// same bytes meet every alignment).
func FuzzValid(f *testing.F) {
	for _, n := range []int{0, 1, 125, 126, 127, 65535, 65536, 65537} {
		f.Add(corpus("emoji", n))
	}
	f.Add([]byte("\xed\xa0\x80"))
	f.Add([]byte("\xf4\x90\x80\x80"))
	f.Add([]byte("ab\xe2\x82"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for i := 0; i <= len(data) && i < 64; i++ {
			b := data[i:]
			want := utf8.Valid(b)
			for _, k := range simdutf8.Kernels() {
				if got := k.Valid(b); got != want {
					t.Fatalf("%s: from %d: got %v, want %v\n% x", k.Name, i, got, want, b)
				}
			}
			if got := simdutf8.Valid(b); got != want {
				t.Fatalf("Valid: from %d: got %v, want %v", i, got, want)
			}
		}
	})
}
