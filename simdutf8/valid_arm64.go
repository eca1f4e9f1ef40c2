//go:build gc && !purego

package simdutf8

import "github.com/wsclient/wsclient/internal/cpuimpl"

// NEON (ASIMD) is part of every arm64 CPU: no detection. The boolean exists
// for WSCLIENT_UTF8=generic and the tests.
var useNEON bool

// minNEON is the length from which validNEON is used: one whole block. No
// arm64 hardware was at hand to refine it (qemu timings mean nothing).
const minNEON = 64

func valid(b []byte) bool {
	if useNEON && len(b) >= minNEON {
		return validNEON(b)
	}
	return validGeneric(b)
}

// archKernels is the NEON kernel.
var archKernels = []cpuimpl.Kernel[func([]byte) bool]{
	{Name: "neon", Available: true, Use: &useNEON, Funcs: validNEON},
}

// validNEON runs the NEON kernel on the whole 64-byte blocks of b, then on
// the rest of b copied into a zeroed block on the stack: the zeros after it
// are ASCII, so a sequence cut short by the end of b is caught as one
// followed by an ASCII byte.
func validNEON(b []byte) bool {
	var tail [64]byte
	n := len(b) &^ 63
	copy(tail[:], b[n:])
	return utf8NEON(b[:n], &tail)
}

// utf8NEON, in valid_arm64.s, reports whether blocks, a multiple of 64 bytes
// long, followed by tail, is valid UTF-8.
//
//go:noescape
func utf8NEON(blocks []byte, tail *[64]byte) bool
