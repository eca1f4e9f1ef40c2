package fuzz

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/gobwas/ws"

	"github.com/wsclient/wsclient/codec"
	"github.com/wsclient/wsclient/internal/testutil"
	"github.com/wsclient/wsclient/simdutf8"
)

// FuzzCodecRoundTrip encodes a header with codec.PutHeader and decodes it
// with codec.ParseHeader: same header, the minimal length encoding (RFC
// 6455 §5.2), HeaderSize agrees, every shorter prefix is short (io.ErrUnexpectedEOF).
// Then it decodes raw bytes: as ws.ReadHeader does (same header, same
// error), and a header that parses and uses the minimal encoding re-encodes
// to the same bytes.
func FuzzCodecRoundTrip(f *testing.F) {
	for _, n := range seedLengths {
		f.Add(true, byte(0), byte(ws.OpBinary), int64(n), true, uint32(0x01020304), testutil.Frame(true, 0, ws.OpText, make([]byte, n))[:min(n, 14)])
	}
	f.Add(false, byte(7), byte(0xf), int64(1<<63-1), false, uint32(0), []byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0})
	f.Add(true, byte(0), byte(ws.OpClose), int64(2), true, uint32(0xffffffff), []byte{0x88, 0xfe, 0, 5, 1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, fin bool, rsv, op byte, length int64, masked bool, key uint32, raw []byte) {
		if length < 0 {
			length = -(length + 1)
		}
		h := ws.Header{Fin: fin, Rsv: rsv & 7, OpCode: ws.OpCode(op & 0xf), Length: length, Masked: masked}
		if masked {
			h.Mask = [4]byte{byte(key), byte(key >> 8), byte(key >> 16), byte(key >> 24)}
		}
		var b [ws.MaxHeaderSize]byte
		n := codec.PutHeader(b[:], h)
		want := 2
		switch {
		case length > 0xffff:
			want = 10
		case length > 125:
			want = 4
		}
		if masked {
			want += 4
		}
		if n != want || codec.HeaderSize(b[0], b[1]) != n {
			t.Fatalf("PutHeader(%+v) wrote %d bytes (HeaderSize %d), want %d", h, n, codec.HeaderSize(b[0], b[1]), want)
		}
		var got ws.Header
		m, err := codec.ParseHeader(b[:n], &got)
		if err != nil || m != n || got != h {
			t.Fatalf("ParseHeader(PutHeader(%+v)) = %+v, %d, %v", h, got, m, err)
		}
		for k := range n {
			if m, err := codec.ParseHeader(b[:k], &got); !errors.Is(err, io.ErrUnexpectedEOF) || m != 0 {
				t.Fatalf("ParseHeader of %d of %d bytes: %d, %v", k, n, m, err)
			}
		}

		// Raw bytes, against gobwas/ws's own reader.
		var h2 ws.Header
		m2, err := codec.ParseHeader(raw, &h2)
		ref, refErr := ws.ReadHeader(bytes.NewReader(raw))
		switch {
		case errors.Is(err, io.ErrUnexpectedEOF):
			if refErr == nil {
				t.Fatalf("ParseHeader(% x): short, ws.ReadHeader: %+v", raw, ref)
			}
		case err != refErr || err == nil && h2 != ref:
			t.Fatalf("ParseHeader(% x) = %+v, %v; ws.ReadHeader = %+v, %v", raw, h2, err, ref, refErr)
		}
		if err != nil {
			if len(raw) >= 2 && len(raw) >= codec.HeaderSize(raw[0], raw[1]) && !errors.Is(err, ws.ErrHeaderLengthMSB) {
				t.Fatalf("ParseHeader(% x): %v", raw, err)
			}
			return
		}
		if m2 != codec.HeaderSize(raw[0], raw[1]) || h2.Length < 0 {
			t.Fatalf("ParseHeader(% x) = %+v, %d", raw, h2, m2)
		}
		n2 := codec.PutHeader(b[:], h2)
		minimal := n2 == m2
		if minimal != bytes.Equal(b[:n2], raw[:m2]) {
			t.Fatalf("re-encoding % x gave % x", raw[:m2], b[:n2])
		}
	})
}

// refParseClose is RFC 6455 §5.5.1, §7.1.5 and §7.4 written out.
func refParseClose(p []byte) (code uint16, reason string, ok, badUTF8 bool) {
	switch {
	case len(p) == 0:
		return 1005, "", true, false
	case len(p) == 1 || len(p) > 125:
		return 0, "", false, false
	}
	code = uint16(p[0])<<8 | uint16(p[1])
	if !refValidCode(code) {
		return code, "", false, false
	}
	if !utf8.Valid(p[2:]) {
		return code, "", false, true
	}
	return code, string(p[2:]), true, false
}

// FuzzClosePayload compares codec.ParseClose with refParseClose and checks
// that a valid payload re-encodes to itself with codec.PutClose.
func FuzzClosePayload(f *testing.F) {
	for _, n := range seedLengths {
		if n >= 2 {
			f.Add(testutil.ClosePayload(1000, strings.Repeat("é", n)[:n-2]))
		} else {
			f.Add(make([]byte, n))
		}
	}
	for _, c := range []uint16{0, 999, 1000, 1004, 1005, 1006, 1015, 1016, 2999, 3000, 4999, 5000, 65535} {
		f.Add(testutil.ClosePayload(c, "reason"))
	}
	f.Add(testutil.ClosePayload(1000, "\xed\xa0\x80"))
	f.Fuzz(func(t *testing.T, p []byte) {
		code, reason, err := codec.ParseClose(p)
		wc, wr, ok, badUTF8 := refParseClose(p)
		switch {
		case ok:
			if err != nil || uint16(code) != wc || string(reason) != wr {
				t.Fatalf("ParseClose(% x) = %d %q %v, want %d %q", p, code, reason, err, wc, wr)
			}
			if !codec.ValidCloseCode(code) && code != ws.StatusNoStatusRcvd {
				t.Fatalf("ParseClose accepted %d but ValidCloseCode rejects it", code)
			}
			var b [125]byte
			if n := codec.PutClose(b[:], code, string(reason)); !bytes.Equal(b[:n], p) {
				t.Fatalf("PutClose(%d, %q) = % x, want % x", code, reason, b[:n], p)
			}
		case badUTF8:
			if !errors.Is(err, codec.ErrInvalidUTF8) {
				t.Fatalf("ParseClose(% x): %v, want ErrInvalidUTF8", p, err)
			}
		default:
			var pe ws.ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("ParseClose(% x): %v, want a ws.ProtocolError", p, err)
			}
			if len(p) >= 2 && len(p) <= 125 && codec.ValidCloseCode(ws.StatusCode(wc)) {
				t.Fatalf("ValidCloseCode(%d) disagrees with the RFC", wc)
			}
		}
	})
}

// FuzzUTF8Incremental feeds codec.Validator the input cut at the points the
// fuzzer picks and compares the verdict with utf8.Valid, after every piece
// with the slow prefix reference (fail fast, never a false failure), and
// simdutf8.Valid (the whole-buffer check it builds on) with utf8.Valid.
func FuzzUTF8Incremental(f *testing.F) {
	for _, n := range seedLengths {
		s := []byte(strings.Repeat("aé€😀", n/10+1))[:n]
		f.Add(s, []byte{byte(n % 7), 3, 1})
	}
	for _, s := range []string{"\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe0\x80", "\xc0\xaf", "\xf0\x9f\x98", "é\xff", "κόσμε"} {
		f.Add([]byte(s), []byte{1})
	}
	f.Fuzz(func(t *testing.T, s, cuts []byte) {
		want := utf8.Valid(s)
		if simdutf8.Valid(s) != want {
			t.Fatalf("simdutf8.Valid(% x) != %v", s, want)
		}
		var v codec.Validator
		ok, end := true, 0
		for i := 0; end < len(s) || i == 0; i++ {
			k := len(s)
			if len(cuts) > 0 {
				k = int(cuts[i%len(cuts)])
				if k >= 128 {
					k = (k - 127) * 97 // long pieces too
				}
			}
			next := min(end+k, len(s))
			okNow := v.Write(s[end:next])
			if !ok && okNow {
				t.Fatalf("Write succeeded after a failure")
			}
			ok = okNow
			if k == 0 && end < len(s) {
				next++
				ok = v.Write(s[end:next]) && ok
			}
			end = next
			if len(s) <= 300 && ok != testutil.PossiblyValidUTF8(s[:end]) {
				t.Fatalf("after % x: Write = %v, prefix reference %v", s[:end], ok, !ok)
			}
		}
		if got := ok && v.Done(); got != want {
			t.Fatalf("Validator(% x) = %v, utf8.Valid %v", s, got, want)
		}
		// The two references agree (prefixValid is the linear one
		// FuzzFrameReader's oracle uses).
		if len(s) <= 300 {
			checked := 0
			if prefixValid(s, &checked) != testutil.PossiblyValidUTF8(s) {
				t.Fatalf("prefixValid(% x) != PossiblyValidUTF8", s)
			}
		}
		v = codec.Validator{}
		if !v.Write([]byte("ok")) || !v.Done() {
			t.Fatalf("Validator not usable after being set to its zero value")
		}
	})
}

const testKey = "dGhlIHNhbXBsZSBub25jZQ==" // RFC 6455 §1.3

var (
	testProtocols = []string{"chat", "superchat"}
	testExt       = []string{"permessage-deflate; client_max_window_bits"}
)

// FuzzHandshakeResponse runs codec.ReadResponse on arbitrary bytes: no
// panic; a nil error only for a 101 with the right accept key, Upgrade and
// Connection; a *HandshakeError only for other statuses, with a body of at
// most 4 KiB; every other error wraps ErrBadHandshake or is a read error;
// it reads at most MaxHeaderBytes of header plus 4 KiB of body; allocation
// bounded by the header limit, whatever the input. It runs again through a
// bufio.Reader of 16 bytes, the smallest, which header lines overflow.
func FuzzHandshakeResponse(f *testing.F) {
	ok := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + testutil.AcceptKey(testKey) + "\r\n"
	f.Add([]byte(ok + "\r\n"))
	f.Add([]byte(ok + "Sec-WebSocket-Protocol: chat\r\nSec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=12\r\n\r\n\x81\x02hi"))
	f.Add([]byte(ok + "Sec-WebSocket-Protocol: chat, superchat\r\n\r\n"))
	f.Add([]byte(ok + "Sec-WebSocket-Extensions: x-evil\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 7\r\n\r\ngo away"))
	f.Add([]byte("HTTP/1.1 302 Found\nLocation: /x\n\n"))
	f.Add([]byte("HTTP/1.0 101\r\n folded: x\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 101 Switching Protocols\r\nX-Pad: " + strings.Repeat("a", 70000) + "\r\n\r\n"))
	for _, n := range seedLengths {
		f.Add([]byte(ok + "X: " + strings.Repeat("b", n) + "\r\n\r\n"))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r := &countReader{r: bytes.NewReader(data)}
		br := bufio.NewReaderSize(r, 4096)
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		resp, err := codec.ReadResponse(br, testKey, testProtocols, testExt)
		runtime.ReadMemStats(&ms1)
		// http.Header costs up to ~60x a minimal "a:\n" line; the section is
		// at most MaxHeaderBytes whatever the input size.
		if alloc, bound := ms1.TotalAlloc-ms0.TotalAlloc, uint64(96*codec.MaxHeaderBytes); alloc > bound {
			t.Fatalf("ReadResponse allocated %d bytes for %d input bytes", alloc, len(data))
		}
		if max := codec.MaxHeaderBytes + 4096 + 2*4096; r.n > max {
			t.Fatalf("ReadResponse read %d bytes (at most %d expected)", r.n, max)
		}
		var he *codec.HandshakeError
		switch {
		case err == nil:
			if resp == nil || resp.StatusCode != http.StatusSwitchingProtocols ||
				resp.Header.Get("Sec-WebSocket-Accept") != testutil.AcceptKey(testKey) {
				t.Fatalf("accepted %q: %+v", data, resp)
			}
			if sp := resp.Subprotocol; sp != "" && !strings.EqualFold(sp, "chat") && !strings.EqualFold(sp, "superchat") {
				t.Fatalf("accepted subprotocol %q", resp.Subprotocol)
			}
		case errors.As(err, &he):
			if he.StatusCode == http.StatusSwitchingProtocols || len(he.Body) > 4096 || !errors.Is(err, codec.ErrBadHandshake) {
				t.Fatalf("HandshakeError %+v", he)
			}
		case errors.Is(err, codec.ErrBadHandshake):
		case errors.Is(err, io.ErrUnexpectedEOF):
		default:
			t.Fatalf("ReadResponse(%q): unexpected error %v", data, err)
		}
		if err != nil && err.Error() == "" {
			t.Fatalf("empty error text")
		}
		// The smallest bufio.Reader: header lines longer than its buffer.
		resp, err = codec.ReadResponse(bufio.NewReaderSize(bytes.NewReader(data), 16), testKey, testProtocols, testExt)
		if err == nil && (resp == nil || resp.StatusCode != http.StatusSwitchingProtocols) {
			t.Fatalf("16-byte reader: no error but response %+v", resp)
		}
	})
}

type countReader struct {
	r io.Reader
	n int
}

func (c *countReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

// TestHandshakeHeaderFlood streams an endless header section: ReadResponse
// must stop at MaxHeaderBytes with ErrHeaderTooLarge, reading and
// allocating a bounded amount.
func TestHandshakeHeaderFlood(t *testing.T) {
	for name, line := range map[string]string{"short lines": "X-A: b\r\n", "one endless line": "a"} {
		t.Run(name, func(t *testing.T) {
			r := &countReader{r: io.MultiReader(strings.NewReader("HTTP/1.1 101 Switching Protocols\r\n"), &repeatReader{s: line})}
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			_, err := codec.ReadResponse(bufio.NewReaderSize(r, 4096), testKey, nil, nil)
			runtime.ReadMemStats(&ms1)
			if !errors.Is(err, codec.ErrHeaderTooLarge) || !errors.Is(err, codec.ErrBadHandshake) {
				t.Fatalf("got %v, want ErrHeaderTooLarge", err)
			}
			if r.n > codec.MaxHeaderBytes+8192 {
				t.Fatalf("read %d bytes", r.n)
			}
			if alloc := ms1.TotalAlloc - ms0.TotalAlloc; alloc > 4<<20 {
				t.Fatalf("allocated %d bytes", alloc)
			}
		})
	}
}

type repeatReader struct {
	s   string
	off int
}

func (r *repeatReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = r.s[r.off]
		r.off = (r.off + 1) % len(r.s)
	}
	return len(p), nil
}
