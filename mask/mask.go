package mask

import (
	"encoding/binary"
	"math/bits"

	"github.com/wsclient/wsclient/internal/cpuimpl"
)

// Apply XORs b in place with key (RFC 6455 §5.3): b[i] ^= key[(pos+i)%4].
// pos is the position in key of b[0], the number of payload bytes masked
// before b modulo 4. Apply returns the position for the byte after b,
// (pos+len(b)) % 4, with which the next piece of the same payload continues.
func Apply(b []byte, key [4]byte, pos int) int {
	// The key rotated to start at pos, written out in the package's form:
	// that keeps Apply within the inlining budget, so that a caller calls the
	// kernel directly.
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
	// xorCopy checks the lengths (see panicShortDst); the key is written out
	// as in Apply, which keeps Copy within the inlining budget.
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
func Impl() string { return kernels.Name() }

// envVar names the environment variable that may force a simpler kernel.
const envVar = "WSCLIENT_MASK"

// kernelFuncs is one kernel, for tests and benchmarks, taking and returning
// the package's key form (a little-endian uint32 whose low byte applies to
// the first byte, rotated for the byte after the input). xorCopy writes
// len(src) bytes and requires len(dst) >= len(src).
type kernelFuncs struct {
	xor     func(b []byte, key uint32) uint32
	xorCopy func(dst, src []byte, key uint32) uint32
}

// kernels are the kernels this CPU can run: the portable one and those of
// archKernels. The choice among them, made at init, is kept in the booleans
// of the architecture's file, which xor and xorCopy read.
var kernels = cpuimpl.New(envVar, kernelFuncs{xorGeneric, xorCopyGeneric}, archKernels...)
