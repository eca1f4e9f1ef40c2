//go:build gc && !purego

package simdutf8

import (
	"encoding/binary"

	"github.com/klauspost/cpuid/v2"

	"github.com/wsclient/wsclient/internal/cpuimpl"
)

// What the CPU (and the OS, which must save the wider registers) supports,
// read once at init.
var (
	hasAVX2   = cpuid.CPU.Has(cpuid.AVX) && cpuid.CPU.Has(cpuid.AVX2)
	hasAVX512 = cpuid.CPU.Has(cpuid.AVX512F) && cpuid.CPU.Has(cpuid.AVX512BW) && cpuid.CPU.Has(cpuid.BMI2)
)

// The kernels in use, set by kernels at init (and by test hooks). Plain
// booleans, not a function variable: calling through one would make every
// slice passed to Valid escape to the heap.
var useAVX2, useAVX512 bool

// minAVX2 is the length from which the AVX2 kernel is used whatever the
// text. From 64 bytes (one block) up to it, the input is first scanned for
// ASCII 32 bytes at a time, and only one that holds a non-ASCII byte goes to
// the kernel: on short ASCII the generic path beats the kernel's tail copy
// and setup, on anything else the kernel wins by far (BENCH.md).
const minAVX2 = 256

// minAVX512 is the length from which the AVX-512 kernel is used whatever
// the text. Shorter inputs are first tested for ASCII a word at a time,
// which is faster than the kernel's setup, and go to the kernel only if they
// hold a non-ASCII byte: its masked load makes any length a single block,
// and it beat the generic path on non-ASCII text from 16 bytes up (BENCH.md).
const minAVX512 = 64

func valid(b []byte) bool {
	if useAVX512 {
		if len(b) >= minAVX512 || !asciiShort(b) {
			return validAVX512(b)
		}
		return true
	}
	if useAVX2 {
		if len(b) >= minAVX2 {
			return validAVX2(b)
		}
		if len(b) >= 64 {
			return ascii(b) || validAVX2(b)
		}
	}
	return validGeneric(b)
}

// archKernels are the assembly kernels, simplest first.
var archKernels = []cpuimpl.Kernel[func([]byte) bool]{
	{Name: "avx2", Available: hasAVX2, Use: &useAVX2, Funcs: validAVX2},
	{Name: "avx512", Available: hasAVX512, Use: &useAVX512, Funcs: validAVX512},
}

// asciiShort reports whether b, shorter than 64 bytes, is all ASCII, with
// at most eight overlapping word loads and no loop.
func asciiShort(b []byte) bool {
	n := len(b)
	switch {
	case n >= 32:
		return (le64(b[0:])|le64(b[8:])|le64(b[16:])|le64(b[24:])|
			le64(b[n-32:])|le64(b[n-24:])|le64(b[n-16:])|le64(b[n-8:]))&hiBits == 0
	case n >= 16:
		return (le64(b[0:])|le64(b[8:])|le64(b[n-16:])|le64(b[n-8:]))&hiBits == 0
	case n >= 8:
		return (le64(b)|le64(b[n-8:]))&hiBits == 0
	case n >= 4:
		return (binary.LittleEndian.Uint32(b)|binary.LittleEndian.Uint32(b[n-4:]))&0x80808080 == 0
	case n > 0:
		return (b[0]|b[n/2]|b[n-1])&0x80 == 0
	}
	return true
}

// ascii reports whether b, at least 32 bytes long, is all ASCII.
func ascii(b []byte) bool {
	var acc uint64
	p := b
	for len(p) > 32 {
		acc |= le64(p[0:]) | le64(p[8:]) | le64(p[16:]) | le64(p[24:])
		p = p[32:]
	}
	e := b[len(b)-32:]
	acc |= le64(e[0:]) | le64(e[8:]) | le64(e[16:]) | le64(e[24:])
	return acc&hiBits == 0
}

// validAVX2 runs the AVX2 kernel on the whole 64-byte blocks of b, then on
// the rest of b copied into a zeroed block on the stack: the zeros after it
// are ASCII, so a sequence cut short by the end of b is caught as one
// followed by an ASCII byte.
func validAVX2(b []byte) bool {
	var tail [64]byte
	n := len(b) &^ 63
	copy(tail[:], b[n:])
	return utf8AVX2(b[:n], &tail)
}

// utf8AVX2, in valid_amd64.s, reports whether blocks, a multiple of 64 bytes
// long, followed by tail, is valid UTF-8.
//
//go:noescape
func utf8AVX2(blocks []byte, tail *[64]byte) bool

// validAVX512, in valid_amd64.s, reports whether b is valid UTF-8. It loads
// the last len(b)%64 bytes with a masked load, which reads nothing past the
// end of b.
//
//go:noescape
func validAVX512(b []byte) bool
