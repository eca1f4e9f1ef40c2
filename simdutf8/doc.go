// Package simdutf8 validates UTF-8 (RFC 3629) with SIMD kernels, using the
// lookup-table algorithm of J. Keiser and D. Lemire, "Validating UTF-8 In Less
// Than One Instruction Per Byte", Software: Practice and Experience 51(5),
// 2021.
//
// [Valid] accepts exactly what unicode/utf8.Valid accepts: no overlong forms,
// no surrogates (U+D800–U+DFFF), nothing above U+10FFFF, no truncated
// sequence at the end. RFC 6455 §8.1 requires this of every text message and
// close reason.
//
// # The algorithm
//
// Every error of UTF-8 shows within four consecutive bytes, and all but two
// kinds within two. For each input byte the kernels look up three 16-entry
// tables, indexed by the high and the low nibble of the byte before it and by
// the high nibble of the byte itself; each entry is a set of error classes
// (one per bit: too short, too long, overlong 2/3/4, surrogate, too large,
// two continuations) that this nibble allows, and the AND of the three is the
// set of errors the pair commits. The one error class that needs more context,
// a continuation byte after a continuation byte, is legal exactly where the
// byte two before is a 3- or 4-byte lead or the byte three before is a 4-byte
// lead, which two saturating subtractions tell. Blocks of ASCII are skipped
// after one test, and a sequence left unfinished at the end of the input is
// caught by comparing its last three bytes against the largest lead byte each
// position may hold.
//
// # Kernels and dispatch
//
// On amd64 the package carries AVX2 and AVX-512 (BW, with masked loads for
// the tail) kernels, and on arm64 a NEON kernel; the CPU is inspected once at
// start-up with github.com/klauspost/cpuid/v2 and the choice kept in
// package-level booleans. Short inputs that are all ASCII are recognised a
// word at a time, faster than any kernel starts; the other short ones go to
// the vector kernel only from the length at which benchmarks showed it wins
// (see BENCH.md), and otherwise to the portable implementation, which skips
// ASCII a word at a time and hands the rest to a table-driven automaton with
// no branch per byte (internal/utf8dfa, whose state codec.Validator carries
// across writes). So [Impl] names the kernel used for long inputs only.
//
// The environment variable WSCLIENT_UTF8, read once at start-up, may force a
// simpler kernel: "generic", "avx2" or "avx512" on amd64, "generic" or "neon"
// on arm64. An unknown name, or one this CPU cannot run, is ignored.
//
// # Build tags
//
// The build tag purego compiles only the portable Go implementation, as the
// standard library does; so does any compiler other than gc.
//
// # Allocations
//
// Valid never allocates and does not make its argument escape.
package simdutf8
