//go:build gc && !purego

package mask

import "github.com/wsclient/wsclient/internal/cpuimpl"

// NEON (ASIMD) is part of every arm64 CPU: no detection. The boolean exists
// for WSCLIENT_MASK=generic and the tests.
var useNEON bool

// minNEON is the length from which xorNEON is used. Below 16 bytes both
// paths are scalar and the Go one saves the assembly call; no arm64 hardware
// was at hand to refine this (qemu timings mean nothing).
const minNEON = 16

func xor(b []byte, key uint32) uint32 {
	if useNEON && len(b) >= minNEON {
		return xorNEON(b, key)
	}
	return xorGeneric(b, key)
}

func xorCopy(dst, src []byte, key uint32) uint32 {
	if len(dst) < len(src) {
		panicShortDst()
	}
	if useNEON && len(src) >= minNEON {
		return xorCopyNEON(dst, src, key)
	}
	return xorCopyGeneric(dst, src, key)
}

// archKernels is the NEON kernel.
var archKernels = []cpuimpl.Kernel[kernelFuncs]{
	{Name: "neon", Available: true, Use: &useNEON, Funcs: kernelFuncs{xorNEON, xorCopyNEON}},
}

// The assembly kernels in mask_arm64.s take the key and return it in the
// package's form (see kernelFuncs). xorCopyNEON writes len(src) bytes and requires
// len(dst) >= len(src).

//go:noescape
func xorNEON(b []byte, key uint32) uint32

//go:noescape
func xorCopyNEON(dst, src []byte, key uint32) uint32
