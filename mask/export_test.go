package mask

import (
	"encoding/binary"
	"math/bits"
)

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
	for _, k := range kernels.Kernels() {
		ks = append(ks, Kernel{k.Name, k.Funcs.xor, k.Funcs.xorCopy})
	}
	return append(ks, Kernel{"dispatch", xor, xorCopy})
}

// KeyAt returns key in the package's internal form: a little-endian uint32
// whose low byte applies to the first byte masked, here key[pos%4], as
// Apply and Copy compute it. RotateLeft32 reduces the count mod 32, so pos
// needs no reduction mod 4.
func KeyAt(key [4]byte, pos int) uint32 {
	return bits.RotateLeft32(binary.LittleEndian.Uint32(key[:]), -8*pos)
}

// KernelNames returns the names of the kernels this CPU can run, simplest
// first.
func KernelNames() []string { return kernels.Names() }

// EnvVar is the name of the environment variable read at init.
const EnvVar = envVar

// UseKernel makes Apply and Copy dispatch as if WSCLIENT_MASK named name,
// which must be one of KernelNames(), and returns a function that restores
// the previous choice: defer mask.UseKernel("sse2")().
func UseKernel(name string) (restore func()) { return kernels.Select(name) }
