package main

import (
	"github.com/wsclient/wsclient/codec"
	"github.com/wsclient/wsclient/simdutf8"
)

// The UTF-8 validators under test: simdutf8.Valid (the SIMD kernels) first,
// then the codec's validator, against utf8.Valid.
const (
	utf8Name = "simdutf8.Valid"
	utf8Note = "simdutf8.Valid runs the kernel named in the title; codec.ValidUTF8 is the codec's pure-Go validator (word-at-a-time ASCII skip + shift DFA). Mixed text: ASCII, Latin, Greek, CJK and emoji words."
)

func validUTF8(p []byte) bool { return simdutf8.Valid(p) }

func validUTF8Codec(p []byte) bool { return codec.ValidUTF8(p) }

func utf8Impl() string { return "simdutf8 " + simdutf8.Impl() }
