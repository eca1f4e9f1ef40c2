package mask

// Hooks for the external tests (package mask_test).

// Kernel is one implementation with the package's internal key form (see
// KeyAt): XOR masks in place and XORCopy copies (len(dst) == len(src)); both
// return the key rotated for the byte after their input.
type Kernel struct {
	Name    string
	XOR     func(b []byte, key uint32) uint32
	XORCopy func(dst, src []byte, key uint32) uint32
}

// Kernels returns every kernel this CPU can run, simplest first, called
// directly (whatever the input length), plus "dispatch": the length-based
// choice that Apply and Copy make.
func Kernels() []Kernel {
	var ks []Kernel
	for _, k := range kernels() {
		ks = append(ks, Kernel{k.name, k.xor, k.xorCopy})
	}
	return append(ks, Kernel{"dispatch", xor, xorCopy})
}

// KeyAt is keyAt: key as a little-endian uint32 rotated to start at pos.
var KeyAt = keyAt

// ChooseKernel is chooseKernel, the parsing of WSCLIENT_MASK.
var ChooseKernel = chooseKernel

// KernelNames is kernelNames.
var KernelNames = kernelNames

// EnvVar is the name of the environment variable read at init.
const EnvVar = envVar

// UseKernel makes Apply and Copy dispatch as if WSCLIENT_MASK named name,
// which must be one of KernelNames(), and returns a function that restores
// the previous choice: defer mask.UseKernel("sse2")().
func UseKernel(name string) (restore func()) {
	old := impl
	impl = name
	useKernel(name)
	return func() {
		impl = old
		useKernel(old)
	}
}

// ForceGeneric makes Apply and Copy use the portable Go kernel and returns a
// function that restores the previous choice: defer mask.ForceGeneric()().
func ForceGeneric() (restore func()) { return UseKernel("generic") }
