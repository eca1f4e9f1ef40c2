package mask_test

import (
	"strconv"
	"testing"

	"github.com/gobwas/ws"

	"github.com/wsclient/wsclient/mask"
)

// benchSizes are the payload lengths benchmarked, in bytes.
var benchSizes = []int{1, 7, 15, 16, 31, 64, 125, 256, 1024, 4096, 16384, 65536, 1 << 20, 4 << 20}

// The buffers hold random bytes: zeros would flatter copy(), since writing
// zeros was measured much faster here (about 1.8x at 1 MiB). Every
// implementation masks the same buffers, allocated once per size: from
// about 1 MiB the time depends on where the pages fall in the caches (runs
// on fresh buffers were 9 or 12.5 us at 1 MiB), which must not favour one.
var benchBufs = map[int][2][]byte{}

// benchBuf returns the two buffers of n bytes shared by the benchmarks.
func benchBuf(n int) (a, b []byte) {
	if _, ok := benchBufs[n]; !ok {
		benchBufs[n] = [2][]byte{testData(n), testData(n)}
	}
	return benchBufs[n][0], benchBufs[n][1]
}

// BenchmarkApply masks a buffer in place, reused across iterations:
//
//	auto/N      Apply, with the kernel the dispatch picks for N bytes
//	<kernel>/N  one kernel (generic, sse2, avx2, avx512, neon) called directly
//	wscipher/N  github.com/gobwas/ws Cipher, the baseline
//
// The loops call Apply and Cipher directly, as a caller would, rather than
// through a function value: at a few bytes the call itself is most of the
// time. The kernels are called through a function value.
func BenchmarkApply(b *testing.B) {
	bench := func(name string, loop func(b *testing.B, buf []byte)) {
		for _, n := range benchSizes {
			b.Run(name+"/"+strconv.Itoa(n), func(b *testing.B) {
				buf, _ := benchBuf(n)
				b.SetBytes(int64(n))
				b.ReportAllocs()
				b.ResetTimer()
				loop(b, buf)
			})
		}
	}
	bench("auto", func(b *testing.B, buf []byte) {
		for range b.N {
			mask.Apply(buf, testKey, 0)
		}
	})
	for _, k := range kernels() {
		key := mask.KeyAt(testKey, 0)
		bench(k.Name, func(b *testing.B, buf []byte) {
			for range b.N {
				k.XOR(buf, key)
			}
		})
	}
	bench("wscipher", func(b *testing.B, buf []byte) {
		for range b.N {
			ws.Cipher(buf, testKey, 0)
		}
	})
}

// BenchmarkCopy masks src into dst, both reused across iterations, with the
// same names as BenchmarkApply, where wscipher/N is what a gobwas/ws user
// does to mask without touching src (wsutil.CipherWriter): copy, then
// ws.Cipher; plus copy/N, plain copy(dst, src): the memory bandwidth ceiling.
func BenchmarkCopy(b *testing.B) {
	bench := func(name string, loop func(b *testing.B, dst, src []byte)) {
		for _, n := range benchSizes {
			b.Run(name+"/"+strconv.Itoa(n), func(b *testing.B) {
				src, dst := benchBuf(n)
				b.SetBytes(int64(n))
				b.ReportAllocs()
				b.ResetTimer()
				loop(b, dst, src)
			})
		}
	}
	bench("auto", func(b *testing.B, dst, src []byte) {
		for range b.N {
			mask.Copy(dst, src, testKey, 0)
		}
	})
	for _, k := range kernels() {
		key := mask.KeyAt(testKey, 0)
		bench(k.Name, func(b *testing.B, dst, src []byte) {
			for range b.N {
				k.XORCopy(dst, src, key)
			}
		})
	}
	bench("wscipher", func(b *testing.B, dst, src []byte) {
		for range b.N {
			copy(dst, src)
			ws.Cipher(dst, testKey, 0)
		}
	})
	bench("copy", func(b *testing.B, dst, src []byte) {
		for range b.N {
			copy(dst, src)
		}
	})
}

// kernels returns the kernels benchmarked one by one: all but "dispatch",
// which "auto" measures through the public API.
func kernels() []mask.Kernel {
	ks := mask.Kernels()
	return ks[:len(ks)-1]
}
