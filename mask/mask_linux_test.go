package mask_test

import (
	"bytes"
	"runtime/debug"
	"testing"

	"github.com/wsclient/wsclient/internal/testutil"
	"github.com/wsclient/wsclient/mask"
)

// TestNoAccessOutside puts b (Apply) and src and dst (Copy) right against
// inaccessible pages, at the end and at the start of the usable memory: a
// kernel that reads or writes a byte outside them faults.
func TestNoAccessOutside(t *testing.T) {
	lengths := []int{4095, 4096, 65537, 1<<20 + 3, 2<<20 + 1029}
	for n := 0; n <= 300; n++ {
		lengths = append(lengths, n)
	}
	src := testData(lengths[4])
	want := wantFor(src)
	bmem := testutil.FencedPages(t, len(src))
	dmem := testutil.FencedPages(t, len(src))
	for _, k := range mask.Kernels() {
		t.Run(k.Name, func(t *testing.T) {
			// A fault then panics, in this goroutine only, and fails the
			// test below instead of crashing the binary.
			defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
			var n, pos int
			var what string
			defer func() {
				if err := recover(); err != nil {
					t.Fatalf("%s n=%d pos=%d: %v", what, n, pos, err)
				}
			}()
			for _, n = range lengths {
				for pos = range 4 {
					key := mask.KeyAt(testKey, pos)
					for _, atEnd := range []bool{true, false} {
						b, d := bmem[:n], dmem[:n]
						if atEnd {
							b, d = bmem[len(bmem)-n:], dmem[len(dmem)-n:]
						}
						copy(b, src)
						what = "XOR"
						k.XOR(b, key)
						if !bytes.Equal(b, want[pos][:n]) {
							t.Fatalf("XOR n=%d pos=%d: wrong result", n, pos)
						}
						copy(b, src)
						what = "XORCopy"
						k.XORCopy(d, b, key)
						if !bytes.Equal(d, want[pos][:n]) {
							t.Fatalf("XORCopy n=%d pos=%d: wrong result", n, pos)
						}
					}
				}
			}
		})
	}
}
