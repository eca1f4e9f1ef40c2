//go:build !race

package mask_test

import (
	"testing"

	"github.com/wsclient/wsclient/mask"
)

// TestZeroAllocs checks that Apply and Copy allocate nothing, with every
// kernel, even on buffers that live on the caller's stack: were the slices to
// escape, the arrays would be moved to the heap.
func TestZeroAllocs(t *testing.T) {
	for _, name := range mask.KernelNames() {
		t.Run(name, func(t *testing.T) {
			defer mask.UseKernel(name)()
			for _, n := range []int{0, 7, 31, 64, 125, 1000, 4096} {
				allocs := testing.AllocsPerRun(100, func() {
					var src, dst [4096]byte
					pos := mask.Apply(src[:n], testKey, 1)
					mask.Copy(dst[:], src[:n], testKey, pos)
				})
				if allocs != 0 {
					t.Errorf("n=%d: expected 0 allocations, got %v", n, allocs)
				}
			}
		})
	}
}
