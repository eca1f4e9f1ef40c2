package main

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/wsclient/wsclient/internal/testserver"
	"github.com/wsclient/wsclient/internal/wsserver"
)

func TestMain(m *testing.M) {
	if os.Getenv("WSDUMP_TEST_MAIN") == "1" { // a child started by exe: be wsdump
		main()
		return
	}
	goleak.VerifyTestMain(m)
}

type result struct {
	code           int
	stdout, stderr string
}

// dump runs wsdump's run with stdin and args.
func dump(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	code := run(ctx, args, strings.NewReader(stdin), &out, &errb)
	if ctx.Err() != nil {
		t.Fatalf("wsdump %q did not finish", args)
	}
	return result{code, out.String(), errb.String()}
}

func (r result) want(t *testing.T, code int, stdout string) {
	t.Helper()
	if r.code != code || r.stdout != stdout {
		t.Fatalf("exit %d, stdout %q, stderr %q; want exit %d, stdout %q", r.code, r.stdout, r.stderr, code, stdout)
	}
}

func server(t *testing.T, o wsserver.Options) string {
	t.Helper()
	s, err := wsserver.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return strings.TrimSuffix(s.URL(), "/")
}

func TestSendReceive(t *testing.T) {
	url := server(t, wsserver.Options{})
	dump(t, "hi\nthere\n\nlast line without newline", url).want(t, 0, "< hi\n< there\n< \n< last line without newline\n")
	dump(t, "hi\r\n", "-r", url).want(t, 0, "hi\n")
	dump(t, "hi\n", "-t", "first", url).want(t, 0, "< first\n< hi\n")
	dump(t, "", "--text=only", "--raw", url).want(t, 0, "only\n")
	dump(t, "hi\n", "-v", url+"/").want(t, 0, "< text: hi\n< close: 1000\n")
	dump(t, "\xff\xfe\n", "-r", url).want(t, 0, "[binary 2 bytes] ff fe  |..|\n") // not UTF-8: sent as binary
}

// TestHTTP2: --http2 opens the WebSocket over HTTP/2 (RFC 8441), over TLS
// or h2c, and -v says which HTTP version carried it; without --http2 it is
// HTTP/1.1; --http2 to an HTTP/1.1-only server fails clearly.
func TestHTTP2(t *testing.T) {
	tlsURL := server(t, wsserver.Options{TLS: true, HTTP2: true})
	r := dump(t, "hi\n", "--http2", "-n", "-v", tlsURL)
	r.want(t, 0, "< text: hi\n< close: 1000\n")
	if !strings.Contains(r.stderr, "over HTTP/2\n") {
		t.Fatalf("stderr %q", r.stderr)
	}
	r = dump(t, "hi\n", "-n", "-v", tlsURL)
	if r.code != 0 || !strings.Contains(r.stderr, "over HTTP/1.1\n") {
		t.Fatalf("without --http2: %+v", r)
	}
	dump(t, "h2c\n", "--http2", "-r", server(t, wsserver.Options{HTTP2: true})).want(t, 0, "h2c\n")
	r = dump(t, "local\n", "--http2", "-v") // the local echo server serves HTTP/2 too
	if r.code != 0 || !strings.Contains(r.stderr, "over HTTP/2") {
		t.Fatalf("no URL: %+v", r)
	}
	r = dump(t, "", "--http2", "-r", server(t, wsserver.Options{}))
	if r.code != 1 || !strings.Contains(r.stderr, "does not speak HTTP/2") {
		t.Fatalf("--http2 to an HTTP/1.1 server: %+v", r)
	}
	if _, err := parseArgs([]string{"--http2=yes"}); err == nil {
		t.Fatal("--http2=yes accepted")
	}
}

// TestHTTP2Libwebsockets is issue 20's acceptance check: against
// libwebsockets-test-server, printf 'hi\n' | wsdump --http2 -n -s
// lws-mirror-protocol wss://localhost:PORT/ echoes hi, and -v says HTTP/2.
func TestHTTP2Libwebsockets(t *testing.T) {
	addr := testserver.StartLWS(t, testserver.NewCerts(t))
	_, port, _ := strings.Cut(addr, ":")
	url := "wss://localhost:" + port + "/"
	dump(t, "hi\n", "--http2", "-n", "-s", "lws-mirror-protocol", url).want(t, 0, "< hi\n")
	r := dump(t, "hi\n", "--http2", "-n", "-v", "-s", "lws-mirror-protocol", url)
	r.want(t, 0, "< text: hi\n< close: 1000\n")
	if !strings.Contains(r.stderr, "over HTTP/2 (subprotocol lws-mirror-protocol)") {
		t.Fatalf("stderr %q", r.stderr)
	}
}

func TestNoURL(t *testing.T) {
	r := dump(t, "hi\n")
	r.want(t, 0, "< hi\n")
	if !strings.Contains(r.stderr, "started an echo server at ws://127.0.0.1:") || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("stderr %q", r.stderr)
	}
}

func TestTimings(t *testing.T) {
	url := server(t, wsserver.Options{})
	r := dump(t, "hi\n", "--timings", url)
	if r.code != 0 || !regexp.MustCompile(`^< \d+\.\d{6}: hi\n$`).MatchString(r.stdout) {
		t.Fatalf("%+v", r)
	}
}

func TestEOFWait(t *testing.T) {
	url := server(t, wsserver.Options{})
	send := url + "/send?rate=100&size=3"
	begin := time.Now()
	r := dump(t, "", "-r", "--eof-wait", "0.3", send)
	n := strings.Count(r.stdout, "abc\n")
	if r.code != 0 || n < 10 || time.Since(begin) < 300*time.Millisecond {
		t.Fatalf("--eof-wait 0.3 at 100 msg/s: %d messages in %v, %+v", n, time.Since(begin), r)
	}
	r = dump(t, "", "-r", "--eof-wait=50ms", send)
	if r.code != 0 {
		t.Fatalf("--eof-wait=50ms: %+v", r)
	}
}

func TestSubprotocolsHeadersOrigin(t *testing.T) {
	url := server(t, wsserver.Options{Subprotocols: []string{"superchat"}})
	r := dump(t, "", "-v", "-s", "chat", "superchat", url+"/headers", "--headers", "X-One: 1, X-Two: two words", "-o", "http://origin.test")
	if r.code != 0 || !strings.Contains(r.stderr, "(subprotocol superchat)") {
		t.Fatalf("%+v", r)
	}
	for _, want := range []string{`["X-One","1"]`, `["X-Two","two words"]`, `["Origin","http://origin.test"]`, `["Sec-Websocket-Protocol","chat, superchat"]`} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("headers sent: %s lacks %s", r.stdout, want)
		}
	}
}

func TestServerClose(t *testing.T) {
	url := server(t, wsserver.Options{})
	dump(t, "", url+"/close/1000").want(t, 0, "")
	dump(t, "", "-v", url+"/close/1001/bye").want(t, 0, "< close: 1001 \"bye\"\n")
	r := dump(t, "", url+"/close/4000/custom%20reason")
	r.want(t, 1, "")
	if r.stderr != "wsdump: server closed the connection with 4000 \"custom reason\"\n" {
		t.Fatalf("stderr %q", r.stderr)
	}
}

// TestErrors checks that failures print one line, without secrets, and
// exit 1; bad usage exits 2.
func TestErrors(t *testing.T) {
	forbidden := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "go away", http.StatusForbidden)
	}))
	defer forbidden.Close()
	tlsURL := server(t, wsserver.Options{TLS: true})
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"bad scheme", []string{"ftp://example.com/"}, 1, `unsupported scheme "ftp"`},
		{"bad port", []string{"ws://127.0.0.1:99999/"}, 1, `bad port`},
		{"refused", []string{"ws://127.0.0.1:1/"}, 1, "cannot connect to 127.0.0.1:1: connect: connection refused"},
		{"403", []string{"ws://user:s3cret@" + strings.TrimPrefix(forbidden.URL, "http://") + "/"}, 1, `refused the WebSocket handshake: HTTP 403 Forbidden: "go away"`},
		{"tls", []string{tlsURL}, 1, "use -n/--nocert"},
		{"proxy", []string{"-p", "http://user:pw1234@127.0.0.1:1", "ws://127.0.0.1:1/"}, 1, "proxy"},
		{"unknown option", []string{"--nope"}, 2, "unknown option --nope"},
		{"two URLs", []string{"ws://a/", "ws://b/"}, 2, "one URL expected"},
		{"missing value", []string{"-o"}, 2, "needs a value"},
		{"bad header", []string{"--headers", "nocolon", "ws://a/"}, 2, "bad header"},
		{"bad eof-wait", []string{"--eof-wait", "soon", "ws://a/"}, 2, "bad --eof-wait"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := dump(t, "", tc.args...)
			if r.code != tc.code || !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
				t.Fatalf("%+v; want exit %d and %q", r, tc.code, tc.want)
			}
			if tc.code == 1 && strings.Count(r.stderr, "\n") != 1 {
				t.Fatalf("not one line: %q", r.stderr)
			}
			for _, secret := range []string{"s3cret", "pw1234"} {
				if strings.Contains(r.stderr, secret) {
					t.Fatalf("secret in %q", r.stderr)
				}
			}
		})
	}
	// -n skips verification.
	dump(t, "secure\n", "-n", tlsURL).want(t, 0, "< secure\n")
}

func TestHelpVersion(t *testing.T) {
	r := dump(t, "", "-h")
	if r.code != 0 || !strings.Contains(r.stdout, "--eof-wait") {
		t.Fatalf("%+v", r)
	}
	r = dump(t, "", "--version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "wsdump ") {
		t.Fatalf("%+v", r)
	}
}

func TestParseArgs(t *testing.T) {
	c, err := parseArgs([]string{"-vv", "-nr", "-s", "a", "b,c", "ws://x/", "--timings", "-ofoo", "--eof-wait=2", "-tt", "--headers", "A: 1,B: 2", "--headers=A: 3"})
	if err != nil {
		t.Fatal(err)
	}
	if c.verbose != 2 || !c.nocert || !c.raw || strings.Join(c.subprotocols, "|") != "a|b|c" || c.url != "ws://x/" ||
		!c.timings || c.origin != "foo" || c.eofWait != 2*time.Second || c.text != "t" || !c.textSet ||
		strings.Join(c.headers.Values("A"), "|") != "1|3" || c.headers.Get("B") != "2" {
		t.Fatalf("%+v", c)
	}
	for args, verbose := range map[string]int{"-v": 1, "-v 2": 2, "-vvv": 3, "--verbose": 1, "--verbose=2": 2, "-v2": 2} {
		c, err := parseArgs(strings.Fields(args))
		if err != nil || c.verbose != verbose {
			t.Errorf("%s: %v %v", args, c, err)
		}
	}
	c, err = parseArgs([]string{"-p", "socks5://h:1", "--", "-weird-url"})
	if err != nil || c.proxy != "socks5://h:1" || c.url != "-weird-url" {
		t.Fatalf("%+v %v", c, err)
	}
}

func TestBinaryText(t *testing.T) {
	var gz, fl, zl bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte("gzipped text"))
	w.Close()
	f, _ := flate.NewWriter(&fl, flate.BestCompression)
	f.Write([]byte("deflated text"))
	f.Close()
	z := zlib.NewWriter(&zl)
	z.Write([]byte("zlib text"))
	z.Close()
	for in, want := range map[string]string{
		gz.String():         "[gzip] gzipped text",
		fl.String():         "[zlib] deflated text",
		zl.String():         "[zlib] zlib text",
		"":                  "[binary 0 bytes]",
		"\x00\x01hi":        "[binary 4 bytes] 00 01 68 69  |..hi|",
		"\x1f\x8b not gzip": "[binary 11 bytes] 1f 8b 20 6e 6f 74 20 67 7a 69 70  |.. not gzip|",
	} {
		if got := binaryText([]byte(in)); got != want {
			t.Errorf("binaryText(%q) = %q, want %q", in, got, want)
		}
	}
	long := hexDump(bytes.Repeat([]byte{0xab}, 5000))
	if !strings.HasPrefix(long, "[binary 5000 bytes]\n00000000  ab ab") || !strings.HasSuffix(long, "... 904 more bytes") {
		t.Fatalf("long dump: %.80q ... %q", long, long[len(long)-40:])
	}
	if got := controlText([]byte("keepalive")); got != `"keepalive"` {
		t.Fatal(got)
	}
	if got := controlText([]byte{0, 1}); got != "0x0001" {
		t.Fatal(got)
	}
}

// TestInteractivePrinter checks the terminal layout: each message replaces
// the prompt and a new prompt follows.
func TestInteractivePrinter(t *testing.T) {
	var b bytes.Buffer
	p := &printer{w: &b, interactive: true}
	p.prompt()
	p.entered()
	p.message("hi") // the echo can come before the prompt after a send
	p.prompt()
	p.endPrompt()
	if got := b.String(); got != "> \r< hi\n> \n" {
		t.Fatalf("%q", got)
	}
	b.Reset()
	p.color = true
	p.message("hi")
	if got := b.String(); got != "\r\033[2K\033[34m< hi\033[39m\n> " {
		t.Fatalf("%q", got)
	}
}
