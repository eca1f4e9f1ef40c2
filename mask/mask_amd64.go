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

// minAVX2 is the length from which the AVX2 kernels beat the SSE2 ones,
// where their 128-byte loop starts: 3.37 against 4.21 ns (Apply) at 128
// bytes, but 3.83 against 3.68 at 96. The other kernels need no threshold:
// AVX-512 is as fast as the others or faster at every length, and SSE2 beats
// generic even at 1 byte. BENCH.md has the table, the method and the CPU.
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
