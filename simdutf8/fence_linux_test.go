package simdutf8_test

import (
	"fmt"
	"runtime/debug"
	"testing"

	"github.com/wsclient/wsclient/internal/testutil"
	"github.com/wsclient/wsclient/simdutf8"
)

// TestNoReadOutside puts the input right against inaccessible pages, at the
// end and at the start of the usable memory: a kernel that reads a byte
// outside it faults. The texts end with a complete or a cut sequence.
func TestNoReadOutside(t *testing.T) {
	lengths := []int{4095, 4096, 65537}
	for n := 0; n <= 300; n++ {
		lengths = append(lengths, n)
	}
	mem := testutil.FencedPages(t, 65537)
	for _, k := range simdutf8.Kernels() {
		t.Run(k.Name, func(t *testing.T) {
			defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
			var what string
			defer func() {
				if err := recover(); err != nil {
					t.Fatalf("%s: %v", what, err)
				}
			}()
			for _, kind := range []string{"ascii", "cjk", "emoji"} {
				for _, n := range lengths {
					text := corpus(kind, n+2)
					for _, cut := range []int{0, 1, 2} {
						for _, atEnd := range []bool{true, false} {
							b := mem[:n]
							if atEnd {
								b = mem[len(mem)-n:]
							}
							copy(b, text[cut:])
							what = fmt.Sprintf("%s n=%d cut=%d atEnd=%v", kind, n, cut, atEnd)
							check(t, k, b, "%s", what)
						}
					}
				}
			}
		})
	}
}
