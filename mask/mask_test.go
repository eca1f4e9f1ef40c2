package mask_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/wsclient/wsclient/mask"
)

// testKey has four different bytes, so that a key applied at the wrong
// position shows.
var testKey = [4]byte{0x37, 0xfa, 0x21, 0x3d}

// refMask is RFC 6455 §5.3 written out byte by byte: the reference every
// kernel is compared with.
func refMask(dst, src []byte, key [4]byte, pos int) {
	for i := range src {
		dst[i] = src[i] ^ key[(pos+i)&3]
	}
}

// emulated reports whether the tests probably run under qemu-user (the
// project's CI runs arm64 and s390x there), where the big cases are cut down
// to keep the run within a minute. Natively on amd64 everything runs.
func emulated() bool { return runtime.GOARCH != "amd64" }

// reduced reports whether the expensive parts of the matrix are cut down.
func reduced() bool { return testing.Short() || emulated() || raceEnabled }

// testLengths returns every length 0..300 plus a few long ones; the last
// one exceeds the length from which xorAVX512 prefetches (2 MiB).
func testLengths() []int {
	var ns []int
	for n := 0; n <= 300; n++ {
		ns = append(ns, n)
	}
	return append(ns, 4095, 4096, 65537, 1<<20+3, 2<<20+1029)
}

// offsets returns the start offsets (of b, src or dst) tried for length n:
// all of 0..63, or a few for long inputs when the run is reduced, and
// always for the longest.
func offsets(n int) []int {
	if n > 300 && reduced() || n > 2<<20 {
		return []int{0, 1, 7, 32, 63}
	}
	offs := make([]int, 64)
	for i := range offs {
		offs[i] = i
	}
	return offs
}

// raceEnabled is set under the race detector, which slows the Go kernel
// tenfold and has nothing to find in the full offset matrix: the runs
// without it cover that.
var raceEnabled bool

// dstOffsets returns the dst offsets tried for length n with src at offset
// soff: all of 0..63 up to 300 bytes, a single one for longer inputs or when
// the run is reduced.
func dstOffsets(n, soff int) []int {
	if n > 300 || reduced() {
		return []int{(soff*7 + 1) & 63}
	}
	return offsets(n)
}

// guard is the number of canary bytes on each side of a slice under test,
// and canary their value.
const (
	guard  = 64
	canary = 0xa5
)

// testData returns n random bytes, the same on every call.
func testData(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// fenced returns b of length n at offset off inside buf, with canary bytes
// on both sides; buf is grown as needed.
func fenced(buf *[]byte, n, off int) (b []byte) {
	size := guard + off + n + guard
	if cap(*buf) < size {
		*buf = make([]byte, size)
	}
	all := (*buf)[:size]
	fill(all[:guard+off])
	fill(all[guard+off+n:])
	return all[guard+off : guard+off+n]
}

// canaries is longer than any guard region.
var canaries = bytes.Repeat([]byte{canary}, guard+64)

func fill(b []byte) { copy(b, canaries) }

// checkFence fails t if a byte of buf outside b, which fenced placed at
// offset off, changed from canary.
func checkFence(t *testing.T, what string, buf, b []byte, n, off int) {
	before, after := buf[:guard+off], buf[guard+off+n:guard+off+n+guard]
	if !bytes.Equal(before, canaries[:len(before)]) || !bytes.Equal(after, canaries[:len(after)]) {
		t.Fatalf("%s: n=%d off=%d: bytes around the slice changed:\n% x\n% x", what, n, off, before, after)
	}
}

// wantFor returns, for each pos 0..3, src masked from that position.
func wantFor(src []byte) [4][]byte {
	var want [4][]byte
	for pos := range want {
		want[pos] = make([]byte, len(src))
		refMask(want[pos], src, testKey, pos)
	}
	return want
}

func TestKernelsAgainstReference(t *testing.T) {
	ns := testLengths()
	src := testData(ns[len(ns)-1])
	want := wantFor(src)
	for _, k := range mask.Kernels() {
		t.Run(k.Name, func(t *testing.T) {
			t.Parallel()
			var buf, sbuf []byte
			for _, n := range ns {
				for pos := range 4 {
					key, next := mask.KeyAt(testKey, pos), mask.KeyAt(testKey, pos+n)
					for _, off := range offsets(n) {
						// In place.
						b := fenced(&buf, n, off)
						copy(b, src)
						if got := k.XOR(b, key); got != next {
							t.Fatalf("XOR n=%d pos=%d: returned key %#08x, want %#08x", n, pos, got, next)
						}
						if !bytes.Equal(b, want[pos][:n]) {
							t.Fatalf("XOR n=%d pos=%d off=%d: wrong result at %d", n, pos, off, firstDiff(b, want[pos]))
						}
						checkFence(t, "XOR", buf, b, n, off)

						// Copying, dst and src at independent offsets.
						s := fenced(&sbuf, n, off)
						copy(s, src)
						for _, doff := range dstOffsets(n, off) {
							d := fenced(&buf, n, doff)
							if got := k.XORCopy(d, s, key); got != next {
								t.Fatalf("XORCopy n=%d pos=%d: returned key %#08x, want %#08x", n, pos, got, next)
							}
							if !bytes.Equal(d, want[pos][:n]) {
								t.Fatalf("XORCopy n=%d pos=%d soff=%d doff=%d: wrong result at %d", n, pos, off, doff, firstDiff(d, want[pos]))
							}
							checkFence(t, "XORCopy dst", buf, d, n, doff)
						}
						if !bytes.Equal(s, src[:n]) {
							t.Fatalf("XORCopy n=%d pos=%d: src modified", n, pos)
						}
						checkFence(t, "XORCopy src", sbuf, s, n, off)

						// Copying onto itself.
						copy(s, src)
						k.XORCopy(s, s, key)
						if !bytes.Equal(s, want[pos][:n]) {
							t.Fatalf("XORCopy(s, s) n=%d pos=%d off=%d: wrong result at %d", n, pos, off, firstDiff(s, want[pos]))
						}
					}
				}
			}
		})
	}
}

func firstDiff(got, want []byte) int {
	for i := range got {
		if got[i] != want[i] {
			return i
		}
	}
	return -1
}

// TestAPI checks Apply and Copy, with the dispatch forced to each kernel in
// turn: results, returned positions, pos beyond 3, and that Copy leaves the
// rest of a longer dst alone.
func TestAPI(t *testing.T) {
	src := testData(1100)
	for _, name := range mask.KernelNames() {
		t.Run(name, func(t *testing.T) {
			defer mask.UseKernel(name)()
			if got := mask.Impl(); got != name {
				t.Fatalf("Impl() = %q, want %q", got, name)
			}
			want := make([]byte, len(src))
			for n := 0; n <= len(src); n += 1 + n/64 {
				for pos := range 8 {
					refMask(want, src[:n], testKey, pos)
					b := slices.Clone(src[:n])
					if got := mask.Apply(b, testKey, pos); got != (pos+n)%4 {
						t.Fatalf("Apply n=%d pos=%d returned %d, want %d", n, pos, got, (pos+n)%4)
					}
					if !bytes.Equal(b, want[:n]) {
						t.Fatalf("Apply n=%d pos=%d: wrong result at %d", n, pos, firstDiff(b, want))
					}
					dst := bytes.Repeat([]byte{canary}, n+5)
					if got := mask.Copy(dst, src[:n], testKey, pos); got != (pos+n)%4 {
						t.Fatalf("Copy n=%d pos=%d returned %d, want %d", n, pos, got, (pos+n)%4)
					}
					if !bytes.Equal(dst[:n], want[:n]) {
						t.Fatalf("Copy n=%d pos=%d: wrong result at %d", n, pos, firstDiff(dst, want))
					}
					if !bytes.Equal(dst[n:], bytes.Repeat([]byte{canary}, 5)) {
						t.Fatalf("Copy n=%d pos=%d wrote past len(src): % x", n, pos, dst[n:])
					}
				}
			}
		})
	}
}

// TestChops masks payloads in random-sized pieces, each continuing where the
// previous one stopped (gobwas/ws TestCipherChops), through every kernel with
// the returned key and through Apply and Copy with the returned position.
func TestChops(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	src := testData(1 << 16)
	want := make([]byte, len(src))
	for _, k := range mask.Kernels() {
		t.Run(k.Name, func(t *testing.T) {
			for range 200 {
				n := r.IntN(len(src) + 1)
				if r.IntN(2) == 0 {
					n = r.IntN(600)
				}
				pos := r.IntN(4)
				refMask(want, src[:n], testKey, pos)

				b := slices.Clone(src[:n])
				cb := slices.Clone(src[:n])
				d, cd := make([]byte, n), make([]byte, n)
				key, p, cp := mask.KeyAt(testKey, pos), pos, pos
				for i := 0; i < n; {
					j := min(n, i+chunk(r))
					key = k.XOR(b[i:j], key)
					k.XORCopy(d[i:j], src[i:j], mask.KeyAt(testKey, cp))
					p = mask.Apply(cb[i:j], testKey, p)
					cp = mask.Copy(cd[i:j], src[i:j], testKey, cp)
					i = j
				}
				for _, got := range [][]byte{b, d, cb, cd} {
					if !bytes.Equal(got, want[:n]) {
						t.Fatalf("n=%d pos=%d: wrong result at %d", n, pos, firstDiff(got, want))
					}
				}
				if key != mask.KeyAt(testKey, pos+n) || p != (pos+n)%4 || cp != p {
					t.Fatalf("n=%d pos=%d: final key %#08x, positions %d, %d", n, pos, key, p, cp)
				}
			}
		})
	}
}

// chunk returns a random piece size, mostly small.
func chunk(r *rand.Rand) int {
	switch r.IntN(4) {
	case 0:
		return r.IntN(8)
	case 1:
		return r.IntN(70)
	case 2:
		return r.IntN(300)
	}
	return r.IntN(5000)
}

// TestCopyPanicsOnShortDst checks, with every kernel forced, that Copy
// panics when dst is shorter than src, before writing anything.
func TestCopyPanicsOnShortDst(t *testing.T) {
	for _, name := range mask.KernelNames() {
		defer mask.UseKernel(name)()
		for _, n := range []int{1, 7, 64, 1000} {
			dst := make([]byte, n-1)
			func() {
				defer func() {
					msg, _ := recover().(string)
					if !strings.Contains(msg, "len(dst) < len(src)") {
						t.Errorf("%s: Copy into %d bytes from %d: panic %q", name, n-1, n, msg)
					}
				}()
				mask.Copy(dst, testData(n), testKey, 0)
			}()
			if !bytes.Equal(dst, make([]byte, n-1)) {
				t.Errorf("%s: Copy into %d bytes from %d wrote before panicking", name, n-1, n)
			}
		}
	}
	// An empty src never panics, whatever dst.
	if got := mask.Copy(nil, nil, testKey, 2); got != 2 {
		t.Errorf("Copy(nil, nil, key, 2) = %d, want 2", got)
	}
}

func TestKeyAt(t *testing.T) {
	for pos := -4; pos < 8; pos++ {
		var want [4]byte
		for i := range want {
			want[i] = testKey[(pos+i)&3]
		}
		if got := mask.KeyAt(testKey, pos); got != binary.LittleEndian.Uint32(want[:]) {
			t.Errorf("KeyAt(key, %d) = %#08x, want % x", pos, got, want)
		}
	}
}

func TestImpl(t *testing.T) {
	names := mask.KernelNames()
	if env := os.Getenv(mask.EnvVar); env == "" || !slices.Contains(names, env) {
		if got, want := mask.Impl(), names[len(names)-1]; got != want {
			t.Errorf("Impl() = %q, want the best kernel %q", got, want)
		}
	}
	for _, name := range names {
		if !slices.Contains([]string{"generic", "sse2", "avx2", "avx512", "neon"}, name) {
			t.Errorf("unexpected kernel name %q", name)
		}
	}
	if names[0] != "generic" {
		t.Errorf("kernels %q do not start with generic", names)
	}
}

// TestEnvVar runs the test binary again with WSCLIENT_MASK set and checks
// the kernel chosen at init.
func TestEnvVar(t *testing.T) {
	if os.Getenv("MASK_TEST_CHILD") != "" {
		fmt.Printf("impl=%s\n", mask.Impl())
		return
	}
	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	names := mask.KernelNames()
	best := names[len(names)-1]
	cases := map[string]string{"": best, "bogus": best, "avx512x": best}
	for _, name := range names {
		cases[name] = name
	}
	for env, want := range cases {
		cmd := exec.Command(exe, "-test.run=^TestEnvVar$", "-test.v")
		cmd.Env = append(os.Environ(), "MASK_TEST_CHILD=1", mask.EnvVar+"="+env)
		out, err := cmd.CombinedOutput()
		if err != nil {
			// Under qemu-user without binfmt the binary cannot be started
			// directly.
			t.Skipf("cannot rerun the test binary: %v", err)
		}
		if !strings.Contains(string(out), "impl="+want+"\n") {
			t.Errorf("%s=%q: want impl=%s, child said:\n%s", mask.EnvVar, env, want, out)
		}
	}
}

// TestStackGrowth calls Apply and Copy, with each kernel forced, at every
// depth of a recursion with buffers on the stack, so that the stack grows
// (and is copied) inside them, and runs the collector meanwhile: on amd64
// the dispatch reaches the Go kernel by a tail call from assembly.
func TestStackGrowth(t *testing.T) {
	for _, name := range mask.KernelNames() {
		t.Run(name, func(t *testing.T) {
			defer mask.UseKernel(name)()
			done := make(chan bool)
			go func() { done <- recurse(t, 300) }()
			if !<-done {
				t.Fatal("wrong result")
			}
		})
	}
}

func recurse(t *testing.T, depth int) bool {
	var src, dst [100]byte
	for i := range src {
		src[i] = byte(i)
	}
	n := depth % len(src)
	pos := mask.Apply(src[:n], testKey, depth)
	mask.Copy(dst[:], src[:n], testKey, pos)
	if depth%50 == 0 {
		runtime.GC()
	}
	ok := depth == 0 || recurse(t, depth-1)
	var want [100]byte
	for i := range n {
		want[i] = byte(i) ^ testKey[(depth+i)&3] ^ testKey[(depth+n+i)&3]
	}
	return ok && dst == want
}
