package simdutf8

// Hooks for the external tests (package simdutf8_test).

// Kernel is one implementation: Valid reports whether its whole input is
// valid UTF-8, at any length.
type Kernel struct {
	Name  string
	Valid func(b []byte) bool
}

// Kernels returns every kernel this CPU can run, simplest first, called
// directly (whatever the input length), plus "dispatch": the length-based
// choice that Valid makes.
func Kernels() []Kernel {
	var ks []Kernel
	for _, k := range kernels.Kernels() {
		ks = append(ks, Kernel{k.Name, k.Funcs})
	}
	return append(ks, Kernel{"dispatch", valid})
}

// KernelNames returns the names of the kernels this CPU can run, simplest
// first.
func KernelNames() []string { return kernels.Names() }

// EnvVar is the name of the environment variable read at init.
const EnvVar = envVar

// UseKernel makes Valid dispatch as if WSCLIENT_UTF8 named name, which must
// be one of KernelNames(), and returns a function that restores the previous
// choice: defer simdutf8.UseKernel("avx2")().
func UseKernel(name string) (restore func()) { return kernels.Select(name) }
