package proxy

import (
	"bufio"
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestMatchNoProxy(t *testing.T) {
	cases := []struct {
		entries    []string
		host, port string
		want       bool
	}{
		{[]string{"*"}, "anything", "80", true},
		{[]string{"example.com"}, "example.com", "80", true},
		{[]string{"example.com"}, "EXAMPLE.com.", "80", true},
		{[]string{"Example.COM"}, "a.b.example.com", "80", true},
		{[]string{"example.com"}, "notexample.com", "80", false},
		{[]string{".example.com"}, "example.com", "80", false},
		{[]string{".example.com"}, "a.example.com", "80", true},
		{[]string{"*.example.com"}, "a.example.com", "80", true},
		{[]string{"*.example.com"}, "example.com", "80", false},
		{[]string{"example.com:8080"}, "example.com", "8080", true},
		{[]string{"example.com:8080"}, "example.com", "80", false},
		{[]string{"10.0.0.0/8"}, "10.9.8.7", "80", true},
		{[]string{"10.0.0.0/8"}, "11.0.0.1", "80", false},
		{[]string{"10.0.0.0/8"}, "ten.example", "80", false},
		{[]string{"192.168.1.1"}, "192.168.1.1", "443", true},
		{[]string{"192.168.1.1:443"}, "192.168.1.1", "80", false},
		{[]string{"::1"}, "::1", "80", true},
		{[]string{"[::1]:8080"}, "::1", "8080", true},
		{[]string{"[::1]"}, "::1", "8080", true},
		{[]string{"2001:db8::/32"}, "2001:db8::5", "80", true},
		{[]string{"127.0.0.1"}, "localhost", "80", false},
		{[]string{"a.org, b.org,,", " c.org "}, "c.org", "80", true},
		{[]string{""}, "example.com", "80", false},
		{[]string{"."}, "example.com", "80", false},
		{nil, "example.com", "80", false},
	}
	for _, c := range cases {
		if got := MatchNoProxy(c.entries, c.host, c.port); got != c.want {
			t.Errorf("MatchNoProxy(%q, %q, %q) = %v, want %v", c.entries, c.host, c.port, got, c.want)
		}
	}
}

func TestReadProxyReply(t *testing.T) {
	r, err := readProxyReply(bufio.NewReader(strings.NewReader(
		"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"a\"\r\n" +
			"proxy-authenticate: Digest realm=\"b\",\r\n nonce=\"n\"\nX-Empty:\r\n\r\nBODY")))
	if err != nil {
		t.Fatal(err)
	}
	if r.code != 407 || r.status != "407 Proxy Authentication Required" {
		t.Fatalf("status %d %q", r.code, r.status)
	}
	if got := r.header.Values("Proxy-Authenticate"); len(got) != 2 || got[1] != `Digest realm="b", nonce="n"` {
		t.Fatalf("headers %q", got)
	}
	if _, ok := r.header["X-Empty"]; !ok {
		t.Fatal("empty header lost")
	}
	ok := []string{"HTTP/1.0 200\r\n\r\n", "HTTP/1.1 200 Connection established\n\n"}
	for _, s := range ok {
		if _, err := readProxyReply(bufio.NewReader(strings.NewReader(s))); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	bad := []string{"", "HTTP/1.1 200 OK", "HTTP/2 200\r\n\r\n", "HTTP/1.1 20 OK\r\n\r\n", "HTTP/1.1 abc\r\n\r\n",
		"HTTP/1.1 099 x\r\n\r\n", "HTTP/1.1 200 OK\r\n no-name-fold\r\n\r\n", "HTTP/1.1 200 OK\r\nbad header\r\n\r\n",
		"HTTP/1.1 200 OK\r\n: v\r\n\r\n", "HTTP/1.1 200 OK\r\n" + strings.Repeat("a", maxProxyReply) + "\r\n\r\n"}
	for _, s := range bad {
		if _, err := readProxyReply(bufio.NewReader(strings.NewReader(s))); err == nil {
			t.Errorf("%.40q: no error", s)
		}
	}
	// Exactly at the limit is fine; one byte more is not.
	pad := func(n int) string {
		head := "HTTP/1.1 200 OK\r\nX: "
		return head + strings.Repeat("a", n-len(head)-4) + "\r\n\r\n"
	}
	if _, err := readProxyReply(bufio.NewReader(strings.NewReader(pad(maxProxyReply)))); err != nil {
		t.Errorf("at the limit: %v", err)
	}
	if _, err := readProxyReply(bufio.NewReader(strings.NewReader(pad(maxProxyReply + 1)))); !errors.Is(err, errReplyTooLarge) {
		t.Errorf("over the limit: %v", err)
	}
}

func TestProxyChallenges(t *testing.T) {
	got := parseChallenges(`Basic realm="a, b", Digest realm="test", nonce="n\"1", qop="auth,auth-int", algorithm=MD5, stale=TRUE, Negotiate abc==, NTLM`)
	want := []string{"basic map[realm:a, b]", `digest map[algorithm:MD5 nonce:n"1 qop:auth,auth-int realm:test stale:TRUE]`,
		"negotiate map[]", "ntlm map[]"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i, c := range got {
		if s := fmt.Sprint(c.scheme, " ", c.params); s != want[i] {
			t.Errorf("challenge %d: %s, want %s", i, s, want[i])
		}
	}
	d := findDigest([]string{`Basic realm="x"`, `Digest realm="test", nonce="n", qop="auth-int"`,
		`Digest realm="test", nonce="n2", qop="auth-int, auth", algorithm=SHA-256-sess, opaque="o", stale=true`})
	if d == nil || d.nonce != "n2" || d.qop != "auth" || d.algorithm != "SHA-256-sess" || d.opaque != "o" || !d.stale {
		t.Fatalf("findDigest: %+v", d)
	}
	if d := findDigest([]string{`Digest realm="r", nonce="n", algorithm=SHA-512-256`}); d != nil {
		t.Fatalf("unsupported algorithm accepted: %+v", d)
	}
}

func TestProxyDigestAuthorize(t *testing.T) {
	// RFC 2617 §3.5.
	d := &digestChallenge{realm: "testrealm@host.com", nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
		opaque: "5ccc069c403ebaf9f0171e9517f40e41", qop: "auth"}
	got, err := d.authorize("Mufasa", "Circle Of Life", "GET", "/dir/index.html", "0a4f113b")
	if err != nil {
		t.Fatal(err)
	}
	want := `Digest username="Mufasa", realm="testrealm@host.com", nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093", uri="/dir/index.html", response="6629fae49393a05397450978507c4ef1", qop=auth, nc=00000001, cnonce="0a4f113b", opaque="5ccc069c403ebaf9f0171e9517f40e41"`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
	// RFC 7616 §3.9.1, SHA-256.
	d = &digestChallenge{realm: "http-auth@example.org", nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
		opaque: "FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", qop: "auth", algorithm: "SHA-256"}
	got, _ = d.authorize("Mufasa", "Circle of Life", "GET", "/dir/index.html", "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ")
	if !strings.Contains(got, `response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"`) {
		t.Fatalf("SHA-256: %s", got)
	}
	// Quotes in the user name are escaped, CR/LF dropped.
	got, _ = (&digestChallenge{nonce: "n"}).authorize("a\"b\r\nc", "p", "CONNECT", "h:1", "c")
	if !strings.HasPrefix(got, `Digest username="a\"bc"`) || strings.ContainsAny(got, "\r\n") {
		t.Fatalf("quoting: %s", got)
	}
}
