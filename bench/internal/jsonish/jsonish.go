// Package jsonish makes the JSON-like text the compression benchmarks send
// and the benchmark server floods: records with varying numbers and names,
// which compress about as well as real API traffic (to roughly a fifth).
package jsonish

import (
	"fmt"
	"math/rand/v2"
)

// Make returns n bytes of JSON-like text, the same for the same n and seed.
func Make(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, 0, n+128)
	for len(b) < n {
		b = fmt.Appendf(b, `{"id":%d,"user":"user-%d","tags":["t%d","t%d"],"score":%d.%02d,"active":%t},`,
			r.IntN(1_000_000), r.IntN(5000), r.IntN(20), r.IntN(20), r.IntN(100), r.IntN(100), r.IntN(2) == 0)
	}
	return b[:n]
}
