// Package mask applies the WebSocket masking XOR of RFC 6455 §5.3.
//
// A client masks every frame it sends: payload byte i is XORed with byte
// (i mod 4) of a 4-byte masking key. [Apply] masks (or unmasks, the operation
// is its own inverse) in place; [Copy] masks while copying, in one pass, so a
// sender never modifies the caller's bytes. Both take the position in the
// key at which the slice starts and return the position after it, so a
// payload that arrives in pieces can be masked piece by piece.
//
// # Kernels and dispatch
//
// On amd64 the package carries SSE2, AVX2 and AVX-512 (F, BW and VL) kernels
// and on arm64 a NEON kernel. The CPU is inspected once at start-up with
// github.com/klauspost/cpuid/v2 and the choice is kept in package-level
// booleans. Each kernel is used only from the input length at which
// benchmarks showed it beats the simpler one, so short inputs may take a
// simpler path than the one [Impl] reports. The AVX-512 copying kernel
// finishes with one masked load and store instead of a scalar tail. Other
// architectures use a portable word-at-a-time Go implementation.
//
// BENCH.md has the measurements behind the thresholds, how they were taken
// and on which CPU.
//
// The environment variable WSCLIENT_MASK, read once at start-up, may force a
// simpler kernel: one of "generic", "sse2", "avx2" or "avx512" on amd64, or
// "generic" or "neon" on arm64. An unknown name, or one this CPU cannot run,
// is ignored and the default is kept.
//
// # Build tags
//
// The build tag purego compiles only the portable Go implementation, as the
// standard library does; so does any compiler other than gc.
//
// # Allocations
//
// Apply and Copy never allocate and never make their arguments escape:
// masking a stack buffer keeps it on the stack (see alloc_test.go).
package mask
