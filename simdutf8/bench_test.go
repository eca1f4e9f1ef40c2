package simdutf8_test

import (
	"strconv"
	"testing"
	"unicode/utf8"

	"github.com/wsclient/wsclient/simdutf8"
)

// BenchmarkValid/<impl>/<corpus>/<size> measures unicode/utf8.Valid
// ("stdlib"), every kernel this CPU can run called directly, and
// "dispatch", what Valid does (the generic path below each kernel's
// threshold), on valid text of each kind.
func BenchmarkValid(b *testing.B) {
	impls := []simdutf8.Kernel{{Name: "stdlib", Valid: utf8.Valid}}
	impls = append(impls, simdutf8.Kernels()...)
	for _, impl := range impls {
		b.Run(impl.Name, func(b *testing.B) {
			for _, kind := range []string{"ascii", "latin", "cjk", "emoji"} {
				b.Run(kind, func(b *testing.B) {
					for _, size := range []int{16, 125, 1024, 16384, 1 << 20} {
						b.Run(strconv.Itoa(size), func(b *testing.B) {
							text := corpus(kind, size)
							if !utf8.Valid(text) {
								b.Fatal("invalid corpus")
							}
							b.SetBytes(int64(size))
							b.ReportAllocs()
							b.ResetTimer()
							for range b.N {
								if !impl.Valid(text) {
									b.Fatal("invalid")
								}
							}
						})
					}
				})
			}
		})
	}
}
