//go:build !(amd64 || arm64) || !gc || purego

package mask

// Without assembly every input goes to the portable kernel.

func xor(b []byte, key uint32) uint32 { return xorGeneric(b, key) }

func xorCopy(dst, src []byte, key uint32) uint32 {
	if len(dst) < len(src) {
		panicShortDst()
	}
	return xorCopyGeneric(dst, src, key)
}

// kernels returns every kernel this build can run, simplest first.
func kernels() []kernel {
	return []kernel{{"generic", xorGeneric, xorCopyGeneric}}
}

// useKernel selects the kernel named name; there is only one here.
func useKernel(name string) {}
