package mask

import (
	"encoding/binary"
	"math/bits"
	"os"
)

// Apply XORs b in place with key (RFC 6455 §5.3): b[i] ^= key[(pos+i)%4].
// pos is the position in key of b[0], the number of payload bytes masked
// before b modulo 4. Apply returns the position for the byte after b,
// (pos+len(b)) % 4, with which the next piece of the same payload continues.
func Apply(b []byte, key [4]byte, pos int) int {
	// keyAt, written out: that keeps Apply within the inlining budget, so
	// that a caller calls the kernel directly.
	xor(b, bits.RotateLeft32(binary.LittleEndian.Uint32(key[:]), -8*pos))
	return (pos + len(b)) & 3
}

// Copy masks src into dst in one pass with key (RFC 6455 §5.3):
// dst[i] = src[i] ^ key[(pos+i)%4] for every i < len(src). The bytes of dst
// past len(src) are left alone and src is not modified. It returns the
// position for the byte after src, (pos+len(src)) % 4.
//
// Copy panics if len(dst) < len(src). dst and src may be the same slice, but
// must not otherwise overlap.
func Copy(dst, src []byte, key [4]byte, pos int) int {
	// xorCopy checks the lengths (see panicShortDst); keyAt is written out.
	// That keeps Copy within the inlining budget, as Apply.
	xorCopy(dst, src, bits.RotateLeft32(binary.LittleEndian.Uint32(key[:]), -8*pos))
	return (pos + len(src)) & 3
}

// panicShortDst is Copy's panic when len(dst) < len(src), raised by xorCopy
// before it writes anything.
func panicShortDst() {
	panic("mask: Copy: len(dst) < len(src)")
}

// Impl returns the name of the best kernel in use: "avx512", "avx2", "sse2",
// "neon" or "generic". Inputs too short to profit from it take a simpler one.
func Impl() string { return impl }

// impl is the name reported by Impl, set once at init.
var impl string

// envVar names the environment variable that may force a simpler kernel.
const envVar = "WSCLIENT_MASK"

func init() {
	impl = chooseKernel(os.Getenv(envVar), kernelNames())
	useKernel(impl)
}

// chooseKernel returns the kernel to use given the value of WSCLIENT_MASK and
// the kernels this CPU can run, simplest first: env if it names one of them,
// otherwise the last (best) one. An unknown or unsupported name is ignored.
func chooseKernel(env string, avail []string) string {
	for _, name := range avail {
		if name == env {
			return name
		}
	}
	return avail[len(avail)-1]
}

// keyAt returns key as the package's internal key form: a little-endian
// uint32 whose low byte applies to the first byte masked, here key[pos%4].
// Every kernel takes the key in this form and returns it rotated for the
// byte after its input. RotateLeft32 reduces the count mod 32, so pos needs
// no reduction mod 4.
func keyAt(key [4]byte, pos int) uint32 {
	return bits.RotateLeft32(binary.LittleEndian.Uint32(key[:]), -8*pos)
}

// kernel is one implementation, for tests and benchmarks. xorCopy writes
// len(src) bytes and requires len(dst) >= len(src).
type kernel struct {
	name    string
	xor     func(b []byte, key uint32) uint32
	xorCopy func(dst, src []byte, key uint32) uint32
}

// kernelNames returns the names of kernels(), simplest first.
func kernelNames() []string {
	ks := kernels()
	names := make([]string, len(ks))
	for i, k := range ks {
		names[i] = k.name
	}
	return names
}
