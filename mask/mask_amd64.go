//go:build gc && !purego

package mask

import (
	"github.com/klauspost/cpuid/v2"

	"github.com/wsclient/wsclient/internal/cpuimpl"
)

// What the CPU (and the OS, which must save the wider registers) supports,
// read once at init.
var (
	hasAVX2   = cpuid.CPU.Has(cpuid.AVX) && cpuid.CPU.Has(cpuid.AVX2)
	hasAVX512 = cpuid.CPU.Has(cpuid.AVX512F) && cpuid.CPU.Has(cpuid.AVX512BW) && cpuid.CPU.Has(cpuid.AVX512VL) &&
		cpuid.CPU.Has(cpuid.BMI2) // every AVX-512 CPU has it; xorCopyAVX512 uses SHRX
)

// The kernels in use, set by kernels at init (and by test hooks). Plain
// booleans, not a function variable: calling through one would make every
// slice passed to Apply escape to the heap. A kernel's boolean implies those
// of the simpler ones, to which it hands short inputs.
var useSSE2, useAVX2, useAVX512 bool

// minAVX2 is the length from which the AVX2 kernels beat the SSE2 ones.
// The other kernels need no threshold. Measured through the dispatch (ns per
// call, medians of 8 interleaved runs, AMD EPYC Zen 4 class, BenchmarkApply
// and BenchmarkCopy built with every threshold at 0 and WSCLIENT_MASK forcing
// each kernel): AVX-512 is as fast as the others or faster at every length
// (within noise at 1-15 bytes, where xor sends every kernel to the same
// scalar tail), and SSE2 beats generic at every length, even at 1 byte,
// since the assembly scalar tail is cheaper than reaching the Go kernel
// from the dispatch:
//
//	Apply     1     7    15    64    96   125   128   256  1024  16384
//	generic 4.07  4.92  5.75  5.88  6.86  8.58  8.30  13.1  42.8  661
//	sse2    2.54  2.46  2.50  3.47  3.68  4.17  4.21  6.67  20.7  325
//	avx2    2.56  2.48  2.50  3.48  3.83  4.05  3.37  4.37  11.4  125
//	avx512  2.65  2.44  2.58  3.43  3.44  3.46  3.50  4.10  9.02  80.6
//
//	Copy      1     7    15    64    96   125   128   256  1024  16384
//	generic 4.65  6.66  8.72  6.81  7.94  12.2  9.36  15.0  50.2  750
//	sse2    3.09  3.01  3.33  3.35  3.68  4.81  4.26  6.27  17.6  254
//	avx2    2.87  2.92  3.21  3.76  3.94  4.63  3.24  4.27  9.43  117
//	avx512  2.74  2.74  2.73  2.81  3.2*  3.1*  2.83  3.91  6.60  81.5
//
// (*) After the masked tail of xorCopyAVX512 was made to end at the data:
// before, 7.75 ns at 96 bytes and 2.81 at 125. Under 64 bytes that kernel
// has since moved from a masked store to two overlapping chunks: 2.5-2.8 ns
// at 1-63 bytes wherever src and dst lie.
//
// AVX2 against SSE2: at 96 bytes 3.83 against 3.68 ns (Apply) and 3.94
// against 3.68 (Copy); at 128 bytes 3.37 against 4.21 and 3.24 against 4.26,
// where the AVX2 kernels' 128-byte loop starts.
const minAVX2 = 128

// minPrefetch is the length from which xorAVX512 prefetches 1 KiB ahead:
// beyond the 1 MiB L2 of Zen 4 and 5 the data streams from L3, and
// prefetching made Apply of 4 MiB 13% faster (46.2 against 52.9 us, medians
// of 8), but not of 1 MiB (9.8 against 9.5 us) nor of 64 KiB and less.
const minPrefetch = 2 << 20

// xor and xorCopy, in mask_amd64.s, jump to the kernel chosen from the
// booleans above and the input length: one call, which keeps Apply and Copy
// within the inlining budget and their callers one call away from the
// kernel. xorCopy first checks len(dst) >= len(src), or panics.

//go:noescape
func xor(b []byte, key uint32) uint32

//go:noescape
func xorCopy(dst, src []byte, key uint32) uint32

// archKernels are the assembly kernels, simplest first. SSE2 is part of
// amd64.
var archKernels = []cpuimpl.Kernel[kernelFuncs]{
	{Name: "sse2", Available: true, Use: &useSSE2, Funcs: kernelFuncs{xorSSE2, xorCopySSE2}},
	{Name: "avx2", Available: hasAVX2, Use: &useAVX2, Funcs: kernelFuncs{xorAVX2, xorCopyAVX2}},
	{Name: "avx512", Available: hasAVX512, Use: &useAVX512, Funcs: kernelFuncs{xorAVX512, xorCopyAVX512}},
}

// The assembly kernels in mask_amd64.s take the key and return it in the
// package's form (see kernelFuncs). The copying ones write len(src) bytes and
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
