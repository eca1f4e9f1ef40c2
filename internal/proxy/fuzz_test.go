package proxy

import (
	"bufio"
	"bytes"
	"net"
	"strconv"
	"strings"
	"testing"
)

// Fuzz targets for the proxy parsers. Seeds are here and in
// testdata/fuzz/<Target>/; run one with
// go test -run '^$' -fuzz FuzzProxyReply -fuzztime 30s ./internal/proxy

func FuzzProxyReply(f *testing.F) {
	f.Add([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
	f.Add([]byte("HTTP/1.0 200 OK\r\nVia: x\r\n\r\nHTTP/1.1 101 Switching Protocols\r\n"))
	f.Add([]byte("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Digest realm=\"r\", nonce=\"n\", qop=\"auth\"\r\n folded\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 200 OK\n" + strings.Repeat("X: y\n", 4000) + "\n"))
	f.Add([]byte("HTTP/1.1 200"))
	f.Fuzz(func(t *testing.T, data []byte) {
		src := bytes.NewReader(data)
		br := bufio.NewReaderSize(src, 4096)
		r, err := readProxyReply(br)
		if err != nil {
			return
		}
		if r.code < 100 || r.code > 999 || !strings.HasPrefix(r.status, strconv.Itoa(r.code)) {
			t.Fatalf("bad status %d %q", r.code, r.status)
		}
		// Exactly the header section is consumed (the rest is the tunnel's),
		// and it fits the limit.
		consumed := len(data) - src.Len() - br.Buffered()
		end := -1
		for off := bytes.IndexByte(data, '\n') + 1; off > 0 && off <= len(data); {
			nl := bytes.IndexByte(data[off:], '\n')
			if nl < 0 {
				break
			}
			if line := data[off : off+nl]; len(line) == 0 || string(line) == "\r" {
				end = off + nl + 1
				break
			}
			off += nl + 1
		}
		if consumed != end || consumed > maxProxyReply {
			t.Fatalf("consumed %d bytes, header section ends at %d: %q", consumed, end, data)
		}
		for k, vs := range r.header {
			for _, v := range vs {
				if strings.ContainsAny(k+v, "\r\n") {
					t.Fatalf("CR/LF in header %q: %q", k, v)
				}
			}
		}
	})
}

func FuzzSocks4Reply(f *testing.F) {
	f.Add([]byte{0, 90, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{0, 91, 0x1f, 0x90, 127, 0, 0, 1})
	f.Add([]byte{4, 93, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{5, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		code, err := parseSocks4Reply(b)
		if err != nil {
			if code != 0 {
				t.Fatalf("code %d with error %v", code, err)
			}
			return
		}
		if len(b) != 8 || code < socks4Granted || code > socks4BadUser || code != int(b[1]) {
			t.Fatalf("accepted %v as code %d", b, code)
		}
	})
}

func FuzzSocks4Request(f *testing.F) {
	f.Add("127.0.0.1", uint16(8080), "")
	f.Add("example.com", uint16(443), "bob")
	f.Add("::ffff:1.2.3.4", uint16(1), "u")
	f.Add("a\x00b", uint16(2), "")
	f.Fuzz(func(t *testing.T, host string, port uint16, user string) {
		b, err := socks4Request(net.JoinHostPort(host, strconv.Itoa(int(port))), user)
		if err != nil {
			return
		}
		if b[0] != 4 || b[1] != 1 || int(b[2])<<8|int(b[3]) != int(port) || b[len(b)-1] != 0 {
			t.Fatalf("bad request %v", b)
		}
		fields := bytes.Split(b[8:len(b)-1], []byte{0})
		if string(fields[0]) != user {
			t.Fatalf("user %q in %v", fields[0], b)
		}
		socks4a := b[4] == 0 && b[5] == 0 && b[6] == 0 && b[7] != 0
		if socks4a && (len(fields) != 2 || string(fields[1]) != host) || !socks4a && len(fields) != 1 {
			t.Fatalf("bad request for %q: %v", host, b)
		}
	})
}

func FuzzProxyChallenges(f *testing.F) {
	f.Add(`Digest realm="test", nonce="abc", qop="auth", algorithm=MD5, stale=false`)
	f.Add(`Basic realm="a, b", Digest realm=x, nonce=y, qop="auth-int,auth", algorithm=SHA-256-sess, opaque="o\"p"`)
	f.Add(`Negotiate abc==, NTLM, Digest nonce="unterminated`)
	f.Fuzz(func(t *testing.T, s string) {
		for _, c := range parseChallenges(s) {
			if c.scheme == "" || c.scheme != strings.ToLower(c.scheme) {
				t.Fatalf("bad scheme %q", c.scheme)
			}
		}
		d := findDigest([]string{s})
		if d == nil {
			return
		}
		auth, err := d.authorize("user\"\r\n", "pass", "CONNECT", "[::1]:80", "cnonce")
		if err != nil {
			t.Fatalf("findDigest returned an unanswerable challenge: %v", err)
		}
		if strings.ContainsAny(auth, "\r\n") || !strings.HasPrefix(auth, "Digest ") {
			t.Fatalf("bad header value %q", auth)
		}
	})
}

func FuzzMatchNoProxy(f *testing.F) {
	f.Add("example.com,.example.org,10.0.0.0/8,[::1]:80", "www.example.com", "80")
	f.Add("*", "h", "1")
	f.Add("*.", "", "")
	f.Fuzz(func(t *testing.T, entries, host, port string) {
		got := MatchNoProxy([]string{entries}, host, port)
		if MatchNoProxy([]string{entries + ",*"}, host, port) != true {
			t.Fatal(`"*" did not match`)
		}
		if got != MatchNoProxy(strings.Split(entries, ","), host, port) {
			t.Fatal("one entry with commas differs from split entries")
		}
	})
}
