//go:build !(amd64 || arm64) || !gc || purego

package simdutf8

// Without assembly every input goes to the portable implementation.

func valid(b []byte) bool { return validGeneric(b) }

// kernels returns every kernel this build can run, simplest first.
func kernels() []kernel { return []kernel{{"generic", validGeneric}} }

// useKernel selects the kernel named name; there is only one here.
func useKernel(name string) {}
