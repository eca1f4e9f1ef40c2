//go:build !race

package simdutf8_test

import (
	"testing"

	"github.com/wsclient/wsclient/simdutf8"
)

// TestZeroAllocs checks that Valid allocates nothing, with every kernel, even
// on buffers on the caller's stack: were the slice to escape, the array would
// be moved to the heap.
func TestZeroAllocs(t *testing.T) {
	text := corpus("cjk", 4096)
	for _, name := range simdutf8.KernelNames() {
		t.Run(name, func(t *testing.T) {
			defer simdutf8.UseKernel(name)()
			for _, n := range []int{0, 7, 31, 64, 125, 1000, 4096} {
				allocs := testing.AllocsPerRun(100, func() {
					var buf [4096]byte
					copy(buf[:], text[:n])
					if !simdutf8.Valid(buf[:n]) && n%3 == 0 {
						t.Fatal("unexpected")
					}
				})
				if allocs != 0 {
					t.Errorf("n=%d: expected 0 allocations, got %v", n, allocs)
				}
			}
		})
	}
}
