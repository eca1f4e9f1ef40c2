package simdutf8

import "github.com/wsclient/wsclient/internal/cpuimpl"

// Valid reports whether b is entirely valid UTF-8, exactly as
// unicode/utf8.Valid does (RFC 3629: no overlong form, no surrogate, nothing
// above U+10FFFF, no truncated sequence).
func Valid(b []byte) bool { return valid(b) }

// Impl returns the name of the kernel used for long inputs: "avx512",
// "avx2", "neon" or "generic". Short inputs may take the generic path.
func Impl() string { return kernels.Name() }

// envVar names the environment variable that may force a simpler kernel.
const envVar = "WSCLIENT_UTF8"

// kernels are the kernels this CPU can run, for tests and benchmarks
// reporting whether their whole input is valid UTF-8, at any length: the
// portable one and those of archKernels. The choice among them, made at
// init, is kept in the booleans of the architecture's file, which valid
// reads.
var kernels = cpuimpl.New(envVar, validGeneric, archKernels...)
