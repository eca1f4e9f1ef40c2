// Package fuzz holds native Go fuzz targets for wsclient's exported APIs
// (RFC 6455 frame reading, handshake responses, close payloads, UTF-8
// validation, frame header encoding). It has no code of its own: the
// targets are in the _test.go files and their seed corpora under
// testdata/fuzz/<Target>/. The targets that compare a package's kernels
// with each other stay in that package: mask's FuzzMask and simdutf8's
// FuzzValid.
//
// Run one target for a while with, for example:
//
//	go test -run='^$' -fuzz='^FuzzFrameReader$' -fuzztime=1h ./fuzz/
package fuzz
