package mask

import (
	"encoding/binary"
	"math/bits"
)

// xorGeneric XORs b in place with key (RFC 6455 §5.3) and returns the key
// rotated for the byte after b. It is the reference for the assembly kernels
// and the fallback where they are missing: 8 bytes at a time with the key
// doubled to 64 bits, then 4, then single bytes. Loads and stores are
// explicitly little-endian, which matches the key form on any byte order.
func xorGeneric(b []byte, key uint32) uint32 {
	if len(b) >= 8 {
		k := uint64(key) | uint64(key)<<32
		for len(b) >= 32 {
			v0 := binary.LittleEndian.Uint64(b[0:8]) ^ k
			v1 := binary.LittleEndian.Uint64(b[8:16]) ^ k
			v2 := binary.LittleEndian.Uint64(b[16:24]) ^ k
			v3 := binary.LittleEndian.Uint64(b[24:32]) ^ k
			binary.LittleEndian.PutUint64(b[0:8], v0)
			binary.LittleEndian.PutUint64(b[8:16], v1)
			binary.LittleEndian.PutUint64(b[16:24], v2)
			binary.LittleEndian.PutUint64(b[24:32], v3)
			b = b[32:]
		}
		for len(b) >= 8 {
			binary.LittleEndian.PutUint64(b, binary.LittleEndian.Uint64(b)^k)
			b = b[8:]
		}
	}
	if len(b) >= 4 {
		binary.LittleEndian.PutUint32(b, binary.LittleEndian.Uint32(b)^key)
		b = b[4:]
	}
	for i := range b {
		b[i] ^= byte(key >> (8 * i))
	}
	return bits.RotateLeft32(key, -8*len(b))
}

// xorCopyGeneric sets dst[i] = src[i] ^ key byte i%4 for every i < len(src)
// and returns the key rotated for the byte after src; len(dst) must be
// len(src). It is the copying twin of xorGeneric, kept separate on purpose:
// xorGeneric written as xorCopyGeneric(b, b, key) was about 40% slower
// under -tags purego (16 B to 1 KiB, Zen 5), since the compiler then keeps
// two slices and their bounds checks.
func xorCopyGeneric(dst, src []byte, key uint32) uint32 {
	dst = dst[:len(src)]
	if len(src) >= 8 {
		k := uint64(key) | uint64(key)<<32
		for len(src) >= 32 && len(dst) >= 32 {
			v0 := binary.LittleEndian.Uint64(src[0:8]) ^ k
			v1 := binary.LittleEndian.Uint64(src[8:16]) ^ k
			v2 := binary.LittleEndian.Uint64(src[16:24]) ^ k
			v3 := binary.LittleEndian.Uint64(src[24:32]) ^ k
			binary.LittleEndian.PutUint64(dst[0:8], v0)
			binary.LittleEndian.PutUint64(dst[8:16], v1)
			binary.LittleEndian.PutUint64(dst[16:24], v2)
			binary.LittleEndian.PutUint64(dst[24:32], v3)
			src, dst = src[32:], dst[32:]
		}
		for len(src) >= 8 && len(dst) >= 8 {
			binary.LittleEndian.PutUint64(dst, binary.LittleEndian.Uint64(src)^k)
			src, dst = src[8:], dst[8:]
		}
	}
	if len(src) >= 4 && len(dst) >= 4 {
		binary.LittleEndian.PutUint32(dst, binary.LittleEndian.Uint32(src)^key)
		src, dst = src[4:], dst[4:]
	}
	for i := range src {
		dst[i] = src[i] ^ byte(key>>(8*i))
	}
	return bits.RotateLeft32(key, -8*len(src))
}
