package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/wsclient/wsclient/internal/wsserver"
)

// hostile is text a server could send to take over a terminal: a window
// title (OSC 0), a clipboard write (OSC 52), a cursor move (CSI), an 8-bit
// CSI (U+009B), a carriage return and DEL.
const hostile = "a\x1b]0;pwned\x07b\x1b]52;c;ZXZpbA==\x07c\x1b[2Jd\u009be\rf\x7fg\th"

// TestHostileTerminalEscapes: by default wsdump shows control characters
// other than tab and newline escaped, so a server's text cannot drive the
// terminal; -r/--raw keeps the bytes as they are.
func TestHostileTerminalEscapes(t *testing.T) {
	url := server(t, wsserver.Options{})
	escaped := `a\x1b]0;pwned\x07b\x1b]52;c;ZXZpbA==\x07c\x1b[2Jd\u009be\x0df\x7fg` + "\th"
	dump(t, hostile+"\n", url).want(t, 0, "< "+escaped+"\n")
	dump(t, hostile+"\n", "-r", url).want(t, 0, hostile+"\n")
	dump(t, "", "-t", hostile, url).want(t, 0, "< "+escaped+"\n")

	// Text inflated from a binary message is the server's text too.
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte(hostile))
	w.Close()
	var b strings.Builder
	p := &printer{w: &b}
	p.data(0x2, gz.Bytes())
	if got, want := b.String(), "< [gzip] "+escaped+"\n"; got != want {
		t.Fatalf("gzip text: got %q, want %q", got, want)
	}
	b.Reset()
	p.interactive, p.color = true, true
	p.data(0x1, []byte(hostile))
	if got, want := b.String(), "\r\033[2K\033[34m< "+escaped+"\033[39m\n> "; got != want {
		t.Fatalf("interactive: got %q, want %q", got, want)
	}
}

// TestHostileProxyReplyEscapes: an error line built from what a proxy
// answered holds no terminal control sequence either.
func TestHostileProxyReplyEscapes(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		http.ReadRequest(bufio.NewReader(c))
		c.Write([]byte("HTTP/1.1 407 \x1b]52;c;ZXZpbA==\x07 \x1b[2J\r\n\r\n"))
	}()
	defer func() { ln.Close(); <-done }()
	r := dump(t, "", "-p", "http://"+ln.Addr().String(), "ws://127.0.0.1:1/")
	if r.code != 1 || !strings.Contains(r.stderr, "407") || strings.ContainsAny(r.stderr, "\x1b\x07") {
		t.Fatalf("%+v", r)
	}
}

func TestEscapeControls(t *testing.T) {
	for in, want := range map[string]string{
		"":                 "",
		"plain ✓ text\t\n": "plain ✓ text\t\n",
		"\x00\x1b\x7f":     `\x00\x1b\x7f`,
		"\r":               `\x0d`,
		"\u0085\u009f":     `\u0085\u009f`,
		"\xff\xfe ok":      `\xff\xfe ok`,
	} {
		if got := escapeControls(in); got != want {
			t.Errorf("escapeControls(%q) = %q, want %q", in, got, want)
		}
	}
}
