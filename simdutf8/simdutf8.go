package simdutf8

import "os"

// Valid reports whether b is entirely valid UTF-8, exactly as
// unicode/utf8.Valid does (RFC 3629: no overlong form, no surrogate, nothing
// above U+10FFFF, no truncated sequence).
func Valid(b []byte) bool { return valid(b) }

// Impl returns the name of the kernel used for long inputs: "avx512",
// "avx2", "neon" or "generic". Short inputs always take the generic path.
func Impl() string { return impl }

// impl is the name reported by Impl, set once at init.
var impl string

// envVar names the environment variable that may force a simpler kernel.
const envVar = "WSCLIENT_UTF8"

func init() {
	impl = chooseKernel(os.Getenv(envVar), kernelNames())
	useKernel(impl)
}

// chooseKernel returns the kernel to use given the value of WSCLIENT_UTF8
// and the kernels this CPU can run, simplest first: env if it names one of
// them, otherwise the last (best) one.
func chooseKernel(env string, avail []string) string {
	for _, name := range avail {
		if name == env {
			return name
		}
	}
	return avail[len(avail)-1]
}

// kernel is one implementation, for tests and benchmarks: valid reports
// whether its whole input is valid UTF-8, at any length.
type kernel struct {
	name  string
	valid func(b []byte) bool
}

// kernelNames returns the names of kernels(), simplest first.
func kernelNames() []string {
	ks := kernels()
	names := make([]string, len(ks))
	for i, k := range ks {
		names[i] = k.name
	}
	return names
}
