package codec

import (
	"bufio"
	"bytes"
	"testing"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// FuzzValidator compares the Validator, fed in pieces cut at the positions
// the fuzzer picks, and ValidUTF8 with utf8.Valid, and checks fail-fast.
func FuzzValidator(f *testing.F) {
	for _, s := range utf8Pieces() {
		f.Add(s, []byte{1})
	}
	f.Add([]byte("héllo wörld, 日本語 🎉"), []byte{3, 1, 4, 1, 5})
	f.Fuzz(func(t *testing.T, s, cuts []byte) {
		want := utf8.Valid(s)
		if ValidUTF8(s) != want {
			t.Fatalf(
				"ValidUTF8(% x) != %v",
				s, want)
		}
		var v Validator
		ok, end := true, 0
		for i := 0; end < len(s); i++ {
			k := 1
			if len(cuts) > 0 {
				k = int(cuts[i%len(cuts)] % 32)
			}
			next := min(end+k, len(s))
			ok = v.Write(s[end:next]) // k = 0: an empty Write
			if k == 0 {
				next++ // and then one byte, to make progress
				ok = v.Write(s[end:next])
			}
			end = next
			if len(s) <= 64 && ok != possiblyValidSlow(s[:end]) {
				t.Fatalf(
					"Write ending at % x = %v",
					s[:end], ok)
			}
		}
		if got := ok && v.Done(); got != want {
			t.Fatalf(
				"Validator(% x) = %v, want %v",
				s, got, want)
		}
	})
}

// FuzzParseHeader checks ParseHeader against ws.ReadHeader and that
// PutHeader gives back the same header.
func FuzzParseHeader(f *testing.F) {
	for _, h := range allHeaders()[:64] {
		var b [MaxHeaderSize]byte
		f.Add(b[:PutHeader(b[:], h)])
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := ParseHeader(b)
		ref, refErr := ws.ReadHeader(bytes.NewReader(b))
		if err == ErrShortHeader {
			if refErr == nil {
				t.Fatalf(
					"ParseHeader(% x): short, ws.ReadHeader: %+v",
					b, ref)
			}
			return
		}
		if err != refErr || err == nil && h != ref {
			t.Fatalf(
				"ParseHeader(% x) = %+v, %v; ws.ReadHeader = %+v, %v",
				b, h, err, ref, refErr)
		}
		if err != nil {
			return
		}
		var out [MaxHeaderSize]byte
		m := PutHeader(out[:], h)
		h2, n2, err := ParseHeader(out[:m])
		if err != nil || h2 != h || n2 != m || m > n {
			t.Fatalf(
				"round trip of %+v: % x -> %+v, %d, %v",
				h, out[:m], h2, n2, err)
		}
	})
}

// FuzzReadResponse checks that ReadResponse never panics and never reads
// past MaxHeaderBytes plus one buffer.
func FuzzReadResponse(f *testing.F) {
	f.Add([]byte(response(okLines...)))
	f.Add([]byte(response(with("Sec-WebSocket-Protocol: chat", "Sec-WebSocket-Extensions: permessage-deflate; a=\"b,c\"")...)))
	f.Add([]byte(response("HTTP/1.1 403 Forbidden", "Content-Length: 3") + "abc"))
	f.Fuzz(func(t *testing.T, b []byte) {
		br := bufio.NewReaderSize(bytes.NewReader(b), 16)
		resp, err := ReadResponse(br, testKey, []string{"chat"}, []string{"permessage-deflate"})
		if err == nil && (resp == nil || resp.StatusCode != 101) {
			t.Fatalf(
				"no error but response %+v",
				resp)
		}
	})
}
