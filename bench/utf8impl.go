package main

import "github.com/wsclient/wsclient/codec"

// The UTF-8 validator under test. simdutf8 had not landed when this
// harness was written, so the codec's validator (the one Recv uses) is
// compared; switch these to simdutf8.Valid / simdutf8.Impl() once it has.
const (
	utf8Name = "codec.ValidUTF8"
	utf8Note = "simdutf8 had not landed when these numbers were taken: codec.ValidUTF8 (word-at-a-time ASCII skip + shift DFA, pure Go) is compared instead."
)

func validUTF8(p []byte) bool { return codec.ValidUTF8(p) }

func utf8Impl() string { return "codec, pure Go" }
