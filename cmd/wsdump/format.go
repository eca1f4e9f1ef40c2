package main

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"encoding/hex"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	maxInflate = 16 << 20 // larger decompressed messages are shown as binary
	maxDump    = 4096     // bytes of a binary message shown in the hex dump
)

// binaryText renders a binary message as the original does: gzip, zlib or
// raw deflate data that inflates to UTF-8 text is shown decompressed and
// tagged [gzip] or [zlib]; anything else as a hex dump.
func binaryText(b []byte) string {
	if tag, text, ok := inflate(b); ok {
		return tag + " " + text
	}
	return hexDump(b)
}

func inflate(b []byte) (tag, text string, ok bool) {
	if len(b) > 2 && b[0] == 0x1f && b[1] == 0x8b {
		if r, err := gzip.NewReader(bytes.NewReader(b)); err == nil {
			if out, ok := readText(r); ok {
				return "[gzip]", out, true
			}
		}
		return "", "", false
	}
	if len(b) < 2 {
		return "", "", false
	}
	if out, ok := readText(flate.NewReader(bytes.NewReader(b))); ok { // raw deflate, as zlib.decompress(data, -15)
		return "[zlib]", out, true
	}
	if r, err := zlib.NewReader(bytes.NewReader(b)); err == nil { // zlib-wrapped deflate
		if out, ok := readText(r); ok {
			return "[zlib]", out, true
		}
	}
	return "", "", false
}

// readText reads a whole decompressed stream that must be non-empty UTF-8.
func readText(r io.Reader) (string, bool) {
	out, err := io.ReadAll(io.LimitReader(r, maxInflate+1))
	if err != nil || len(out) == 0 || len(out) > maxInflate || !utf8.Valid(out) {
		return "", false
	}
	return string(out), true
}

// hexDump shows up to maxDump bytes: one line for short messages, the
// hexdump -C layout for longer ones.
func hexDump(b []byte) string {
	head := fmt.Sprintf("[binary %d bytes]", len(b))
	if len(b) == 0 {
		return head
	}
	if len(b) <= 16 {
		return fmt.Sprintf("%s % x  |%s|", head, b, printable(b))
	}
	show := b[:min(len(b), maxDump)]
	dump := strings.TrimRight(hex.Dump(show), "\n")
	s := head + "\n" + dump
	if len(show) < len(b) {
		s += fmt.Sprintf("\n... %d more bytes", len(b)-len(show))
	}
	return s
}

func printable(b []byte) string {
	out := make([]byte, len(b))
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			c = '.'
		}
		out[i] = c
	}
	return string(out)
}

// controlText shows a ping or pong payload: as text when it is printable
// UTF-8, else in hex.
func controlText(b []byte) string {
	if len(b) == 0 {
		return `""`
	}
	if utf8.Valid(b) && strings.IndexFunc(string(b), func(r rune) bool { return !unicode.IsPrint(r) }) < 0 {
		return fmt.Sprintf("%q", b)
	}
	return fmt.Sprintf("0x%x", b)
}
