package testutil

import (
	"bytes"
	"testing"

	"github.com/gobwas/ws"
)

// TestFrame reads frames of every length encoding back with gobwas/ws.
func TestFrame(t *testing.T) {
	for _, n := range []int{0, 1, 125, 126, 127, 65535, 65536, 65537} {
		p := bytes.Repeat([]byte{'x'}, n)
		b := Frame(n%2 == 0, 4, ws.OpText, p)
		r := bytes.NewReader(b)
		h, err := ws.ReadHeader(r)
		want := ws.Header{Fin: n%2 == 0, Rsv: 4, OpCode: ws.OpText, Length: int64(n)}
		if err != nil || h != want || r.Len() != n || !bytes.Equal(b[len(b)-n:], p) {
			t.Fatalf("n=%d: header %+v, %v, %d payload bytes; want %+v", n, h, err, r.Len(), want)
		}
	}
	if got := ClosePayload(1001, "bye"); !bytes.Equal(got, []byte{0x03, 0xe9, 'b', 'y', 'e'}) {
		t.Errorf("ClosePayload(1001, bye) = % x", got)
	}
}

func TestAcceptKey(t *testing.T) {
	// RFC 6455 §1.3.
	if got := AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf("AcceptKey = %q, want the RFC 6455 §1.3 value", got)
	}
}

func TestPossiblyValidUTF8(t *testing.T) {
	for s, want := range map[string]bool{
		"": true, "a": true, "é": true, "\xc3": true, "a\xe2\x82": true,
		"\xe0": true, "\xe0\xa0": true, "\xe0\x80": false, "\xed\x9f": true, "\xed\xa0": false,
		"\xf0\x90\x80": true, "\xf0\x8f": false, "\xf4\x8f": true, "\xf4\x90": false,
		"\xc0": false, "\xf5": false, "\x80": false, "\xc3a": false, "\xe2\x82\xac\xac": false,
	} {
		if got := PossiblyValidUTF8([]byte(s)); got != want {
			t.Errorf("PossiblyValidUTF8(% x) = %v, want %v", s, got, want)
		}
	}
}
