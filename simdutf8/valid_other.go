//go:build !(amd64 || arm64) || !gc || purego

package simdutf8

import "github.com/wsclient/wsclient/internal/cpuimpl"

// Without assembly every input goes to the portable implementation.

func valid(b []byte) bool { return validGeneric(b) }

// archKernels is empty: the portable implementation is the only one.
var archKernels []cpuimpl.Kernel[func([]byte) bool]
