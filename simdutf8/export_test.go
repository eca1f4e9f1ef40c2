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
	for _, k := range kernels() {
		ks = append(ks, Kernel{k.name, k.valid})
	}
	return append(ks, Kernel{"dispatch", valid})
}

// ChooseKernel is chooseKernel, the parsing of WSCLIENT_UTF8.
var ChooseKernel = chooseKernel

// KernelNames is kernelNames.
var KernelNames = kernelNames

// EnvVar is the name of the environment variable read at init.
const EnvVar = envVar

// UseKernel makes Valid dispatch as if WSCLIENT_UTF8 named name, which must
// be one of KernelNames(), and returns a function that restores the previous
// choice: defer simdutf8.UseKernel("avx2")().
func UseKernel(name string) (restore func()) {
	old := impl
	impl = name
	useKernel(name)
	return func() {
		impl = old
		useKernel(old)
	}
}

// ForceGeneric makes Valid use the portable Go implementation and returns a
// function that restores the previous choice: defer simdutf8.ForceGeneric()().
func ForceGeneric() (restore func()) { return UseKernel("generic") }
