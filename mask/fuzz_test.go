package mask_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/wsclient/wsclient/mask"
)

// FuzzMask requires every kernel, in place and copying, in two pieces split
// anywhere, to match the generic kernel, and Apply and Copy too; and the
// generic kernel to match the byte-by-byte definition. The latter is checked
// on inputs up to 4 KiB only: instrumented for coverage it costs ~60 ns a
// byte, which makes minimizing a large input crawl.
func FuzzMask(f *testing.F) {
	for _, n := range []int{0, 1, 125, 126, 127, 65535, 65536, 65537} {
		f.Add(testData(n), uint32(0x3d21fa37), n/2)
	}
	f.Fuzz(func(t *testing.T, data []byte, k uint32, split int) {
		var key [4]byte
		binary.LittleEndian.PutUint32(key[:], k)
		n := len(data)
		pos := int(uint(split) % 4)
		at := int(uint(split) / 4 % uint(n+1))
		kernels := mask.Kernels()
		want := bytes.Clone(data)
		kernels[0].XOR(want, mask.KeyAt(key, pos)) // generic
		if n <= 4096 {
			ref := make([]byte, n)
			refMask(ref, data, key, pos)
			if !bytes.Equal(want, ref) {
				t.Fatalf("generic n=%d pos=%d: differs from the definition", n, pos)
			}
		}

		for _, kern := range kernels {
			b := bytes.Clone(data)
			next := kern.XOR(b[:at], mask.KeyAt(key, pos))
			if got := kern.XOR(b[at:], next); got != mask.KeyAt(key, pos+n) {
				t.Fatalf("%s: XOR returned key %#08x, want %#08x", kern.Name, got, mask.KeyAt(key, pos+n))
			}
			if !bytes.Equal(b, want) {
				t.Fatalf("%s: XOR n=%d at=%d pos=%d: wrong result", kern.Name, n, at, pos)
			}

			d := make([]byte, n+1)
			d[n] = canary
			next = kern.XORCopy(d[:at], data[:at], mask.KeyAt(key, pos))
			if got := kern.XORCopy(d[at:n], data[at:], next); got != mask.KeyAt(key, pos+n) {
				t.Fatalf("%s: XORCopy returned key %#08x, want %#08x", kern.Name, got, mask.KeyAt(key, pos+n))
			}
			if !bytes.Equal(d[:n], want) || d[n] != canary {
				t.Fatalf("%s: XORCopy n=%d at=%d pos=%d: wrong result", kern.Name, n, at, pos)
			}
		}

		b := bytes.Clone(data)
		p := mask.Apply(b[:at], key, pos)
		if p = mask.Apply(b[at:], key, p); p != (pos+n)%4 || !bytes.Equal(b, want) {
			t.Fatalf("Apply n=%d at=%d pos=%d: wrong result or position %d", n, at, pos, p)
		}
		d := make([]byte, n)
		p = mask.Copy(d, data[:at], key, pos)
		if p = mask.Copy(d[at:], data[at:], key, p); p != (pos+n)%4 || !bytes.Equal(d, want) {
			t.Fatalf("Copy n=%d at=%d pos=%d: wrong result or position %d", n, at, pos, p)
		}
	})
}
