//go:build gc && !purego

package mask

import "github.com/klauspost/cpuid/v2"

// What the CPU (and the OS, which must save the wider registers) supports,
// read once at init.
var (
	hasAVX2   = cpuid.CPU.Has(cpuid.AVX) && cpuid.CPU.Has(cpuid.AVX2)
	hasAVX512 = cpuid.CPU.Has(cpuid.AVX512F) && cpuid.CPU.Has(cpuid.AVX512BW) && cpuid.CPU.Has(cpuid.AVX512VL)
)

// The kernels in use, set once by useKernel at init (and by test hooks).
// Plain booleans, not a function variable: calling through one would make
// every slice passed to Apply escape to the heap.
var useSSE2, useAVX2, useAVX512 bool

// minAVX2 is the length from which the AVX2 kernels beat the SSE2 ones.
// The other kernels need no threshold: measured through the dispatch (ns per
// call, medians of 6 interleaved runs, AMD EPYC Zen 4, BenchmarkApply and
// BenchmarkCopy with every threshold at 0 and WSCLIENT_MASK forcing each
// kernel), AVX-512 is at least as fast as the others at every length, and
// SSE2 beats generic at every length, even at 1 byte, since the assembly
// scalar tail is cheaper than calling the Go kernel from the dispatch:
//
//	Apply     1     7    15    64   125   256  1024  16384
//	generic 4.05  5.35  6.30  5.94  9.89  14.6  45.5  667
//	sse2    3.19  3.01  3.11  3.97  4.14  7.00  22.3  361
//	avx2    3.16  2.93  3.04  4.48  4.50  4.71  11.3  112
//	avx512  2.77  2.56  2.29  3.78  3.83  4.27  9.26  86.1
//
//	Copy      1     7    15    64   125   256  1024  16384
//	generic 5.74  7.48  10.1  8.00  13.9  16.3  51.1  757
//	sse2    4.27  4.43  5.00  5.24  5.94  7.71  19.9  289
//	avx2    4.45  5.03  4.81  6.05  6.28  5.58  11.0  118
//	avx512  4.34  4.19  4.41  4.74  4.34  5.07  7.80  84.9
//
// AVX2 against SSE2 between 64 and 256 bytes (fastest of 6 runs; the
// medians were too noisy): 96 bytes 4.55 against 4.05 ns (Apply) and 5.73
// against 5.27 (Copy); 128 bytes 3.77 against 4.52 and 4.87 against 5.59.
const minAVX2 = 128

// xor and xorCopy, in mask_amd64.s, jump to the kernel chosen from the
// booleans above and the input length: one call, which keeps Apply and Copy
// within the inlining budget and their callers one call away from the
// kernel. xorCopy first checks len(dst) >= len(src), or panics.

//go:noescape
func xor(b []byte, key uint32) uint32

//go:noescape
func xorCopy(dst, src []byte, key uint32) uint32

// kernels returns every kernel this CPU can run, simplest first.
func kernels() []kernel {
	ks := []kernel{
		{"generic", xorGeneric, xorCopyGeneric},
		{"sse2", xorSSE2, xorCopySSE2}, // part of amd64
	}
	if hasAVX2 {
		ks = append(ks, kernel{"avx2", xorAVX2, xorCopyAVX2})
	}
	if hasAVX512 {
		ks = append(ks, kernel{"avx512", xorAVX512, xorCopyAVX512})
	}
	return ks
}

// useKernel makes name, one of kernelNames(), the best kernel in use.
func useKernel(name string) {
	useAVX512 = name == "avx512"
	useAVX2 = useAVX512 || name == "avx2"
	useSSE2 = useAVX2 || name == "sse2"
}

// The assembly kernels in mask_amd64.s take the key and return it in the
// package's form (see keyAt). The copying ones write len(src) bytes and
// require len(dst) >= len(src).

//go:noescape
func xorSSE2(b []byte, key uint32) uint32

//go:noescape
func xorAVX2(b []byte, key uint32) uint32

//go:noescape
func xorAVX512(b []byte, key uint32) uint32

//go:noescape
func xorCopySSE2(dst, src []byte, key uint32) uint32

//go:noescape
func xorCopyAVX2(dst, src []byte, key uint32) uint32

//go:noescape
func xorCopyAVX512(dst, src []byte, key uint32) uint32
