//go:build !(amd64 || arm64) || !gc || purego

package mask

import "github.com/wsclient/wsclient/internal/cpuimpl"

// Without assembly every input goes to the portable kernel.

func xor(b []byte, key uint32) uint32 { return xorGeneric(b, key) }

func xorCopy(dst, src []byte, key uint32) uint32 {
	if len(dst) < len(src) {
		panicShortDst()
	}
	return xorCopyGeneric(dst, src, key)
}

// archKernels is empty: the portable kernel is the only one.
var archKernels []cpuimpl.Kernel[kernelFuncs]
