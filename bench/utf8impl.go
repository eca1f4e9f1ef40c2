package main

import "github.com/wsclient/wsclient/simdutf8"

// The UTF-8 validator under test, simdutf8.Valid (the SIMD kernels, through
// which the codec and the engine validate all text), against utf8.Valid.
const (
	utf8Name = "simdutf8.Valid"
	utf8Note = "simdutf8.Valid runs the kernel named in the title; the codec and the engine validate all text with it. Mixed text: ASCII, Latin, Greek, CJK and emoji words."
)

func validUTF8(p []byte) bool { return simdutf8.Valid(p) }

func utf8Impl() string { return "simdutf8 " + simdutf8.Impl() }
