package engine

import "unsafe"

// stringBytes returns the bytes of s without copying. The engine only reads
// payloads (masking copies them), so the string is never modified.
func stringBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
