package proxy

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestProxySocks4Request(t *testing.T) {
	cases := []struct {
		dst, user string
		want      []byte
	}{
		{"127.0.0.1:8080", "", []byte{4, 1, 0x1f, 0x90, 127, 0, 0, 1, 0}},
		{"10.1.2.3:80", "bob", []byte{4, 1, 0, 80, 10, 1, 2, 3, 'b', 'o', 'b', 0}},
		{"[::ffff:10.1.2.3]:80", "", []byte{4, 1, 0, 80, 10, 1, 2, 3, 0}},
		{"example.com:443", "u", append([]byte{4, 1, 1, 0xbb, 0, 0, 0, 1, 'u', 0}, "example.com\x00"...)},
	}
	for _, c := range cases {
		got, err := socks4Request(c.dst, c.user)
		if err != nil || !bytes.Equal(got, c.want) {
			t.Errorf("socks4Request(%q, %q) = %v %v, want %v", c.dst, c.user, got, err, c.want)
		}
	}
	for _, bad := range [][2]string{{"h:99999", ""}, {"h", ""}, {"h:1", "a\x00b"}, {strings.Repeat("h", 256) + ":1", ""}} {
		if _, err := socks4Request(bad[0], bad[1]); err == nil {
			t.Errorf("socks4Request(%q, %q): no error", bad[0], bad[1])
		}
	}
}

func TestParseSocks4Reply(t *testing.T) {
	cases := []struct {
		in   []byte
		code int
		ok   bool
	}{
		{[]byte{0, 90, 0, 0, 0, 0, 0, 0}, 90, true},
		{[]byte{4, 90, 1, 2, 3, 4, 5, 6}, 90, true},
		{[]byte{0, 91, 0, 0, 0, 0, 0, 0}, 91, true},
		{[]byte{0, 93, 0, 0, 0, 0, 0, 0}, 93, true},
		{[]byte{0, 94, 0, 0, 0, 0, 0, 0}, 0, false},
		{[]byte{0, 89, 0, 0, 0, 0, 0, 0}, 0, false},
		{[]byte{5, 0, 0, 0, 0, 0, 0, 0}, 0, false}, // a SOCKS5 server
		{[]byte{0, 90, 0}, 0, false},
		{nil, 0, false},
	}
	for _, c := range cases {
		code, err := parseSocks4Reply(c.in)
		if code != c.code || (err == nil) != c.ok {
			t.Errorf("parseSocks4Reply(%v) = %d, %v", c.in, code, err)
		}
	}
	// A short reply is an error, not a hang.
	if _, err := socks4Exchange(&rw{r: bytes.NewReader([]byte{0, 90, 0})}, []byte{4}); err == nil {
		t.Error("short reply accepted")
	}
	if _, err := socks4Exchange(&rw{werr: errors.New("boom")}, []byte{4}); err == nil {
		t.Error("write error lost")
	}
}

type rw struct {
	r    *bytes.Reader
	werr error
}

func (x *rw) Read(p []byte) (int, error) { return x.r.Read(p) }

func (x *rw) Write(p []byte) (int, error) { return len(p), x.werr }
