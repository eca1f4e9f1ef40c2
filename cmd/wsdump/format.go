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

// escapeControls makes a server's text safe for a terminal: control
// characters other than tab and newline (C0, DEL, C1) are shown as Go
// escapes (\x1b, \u009b) and bytes that are not UTF-8 as \xff, so the text
// cannot set the window title, write the clipboard (OSC 52), move the
// cursor or clear the screen. s is returned as is when nothing needs it.
func escapeControls(s string) string {
	i := 0
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if needsEscape(r, n) {
			break
		}
		i += n
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	b.WriteString(s[:i])
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r < 0x80 && needsEscape(r, n):
			fmt.Fprintf(&b, `\x%02x`, r)
		case needsEscape(r, n):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

func needsEscape(r rune, size int) bool {
	switch {
	case r == '\t' || r == '\n':
		return false
	case r == utf8.RuneError && size == 1:
		return true
	}
	return r < 0x20 || r >= 0x7f && r < 0xa0
}
