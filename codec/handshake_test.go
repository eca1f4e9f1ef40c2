package codec

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
)

func TestAcceptKeyRFC(t *testing.T) {
	// RFC 6455 §1.3.
	if got := acceptKey("dGhlIHNhbXBsZSBub25jZQ=="); got != "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=" {
		t.Fatalf(
			"acceptKey = %q, want the RFC 6455 §1.3 value",
			got)
	}
}

func TestNewKeyRandom(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		k := newKey()
		b, err := base64.StdEncoding.DecodeString(k)
		if len(k) != 24 || err != nil || len(b) != 16 {
			t.Fatalf(
				"newKey() = %q (%d bytes decoded, %v), want 24 base64 characters of 16 bytes",
				k, len(b), err)
		}
		if seen[k] {
			t.Fatalf(
				"newKey() repeated %q",
				k)
		}
		seen[k] = true
	}
}

func TestWriteRequestRoundTrip(t *testing.T) {
	r := &Request{
		Host:       "example.com:8080",
		RequestURI: "/chat?room=1&x=%20",
		Protocols:  []string{"chat", "superchat"},
		Extensions: []string{"permessage-deflate; client_max_window_bits", "x-webkit-deflate-frame"},
		Header: http.Header{
			"Origin":        {"http://example.com"},
			"X-Multi":       {"a", "b"},
			"Authorization": {"Bearer secret"},
			"x-lower":       {"kept as given"},
		},
	}
	var buf bytes.Buffer
	key, err := WriteRequest(&buf, r)
	if err != nil {
		t.Fatal(err)
	}
	raw := buf.String()
	req, err := http.ReadRequest(bufio.NewReader(&buf))
	if err != nil {
		t.Fatalf(
			"http.ReadRequest: %v\n%s",
			err, raw)
	}
	if buf.Len() != 0 {
		t.Fatalf(
			"%d bytes left after the request",
			buf.Len())
	}
	if req.Method != "GET" || req.RequestURI != r.RequestURI || req.Proto != "HTTP/1.1" || req.Host != r.Host {
		t.Fatalf(
			"request line/host: %s %s %s host %s",
			req.Method, req.RequestURI, req.Proto, req.Host)
	}
	want := map[string][]string{
		"Upgrade":                  {"websocket"},
		"Connection":               {"Upgrade"},
		"Sec-Websocket-Key":        {key},
		"Sec-Websocket-Version":    {"13"},
		"Sec-Websocket-Protocol":   {"chat, superchat"},
		"Sec-Websocket-Extensions": {"permessage-deflate; client_max_window_bits, x-webkit-deflate-frame"},
		"Origin":                   {"http://example.com"},
		"X-Multi":                  {"a", "b"},
		"Authorization":            {"Bearer secret"},
		"X-Lower":                  {"kept as given"},
	}
	for k, v := range want {
		if got := req.Header[k]; !equalStrings(got, v) {
			t.Errorf(
				"header %s = %q, want %q",
				k, got, v)
		}
	}
	if len(req.Header) != len(want) {
		t.Errorf(
			"%d header fields, want %d:\n%s",
			len(req.Header), len(want), raw)
	}
	if !strings.Contains(raw, "\r\nx-lower: kept as given\r\n") {
		t.Errorf(
			"header name spelling not kept:\n%s",
			raw)
	}
	if k, err := base64.StdEncoding.DecodeString(key); err != nil || len(k) != 16 {
		t.Errorf(
			"generated key %q is not 16 base64-encoded bytes",
			key)
	}
}

func equalStrings(a, b []string) bool {
	return strings.Join(a, "\x00") == strings.Join(b, "\x00") && len(a) == len(b)
}

func TestWriteRequestDefaultsAndOverrides(t *testing.T) {
	tests := []struct {
		name  string
		req   Request
		key   string // "" = generated
		lines []string
	}{
		{
			name:  "defaults",
			req:   Request{Host: "h"},
			lines: []string{"GET / HTTP/1.1\r\n", "\r\nHost: h\r\n", "\r\nSec-WebSocket-Version: 13\r\n"},
		},
		{
			name:  "explicit key",
			req:   Request{Host: "h", Key: "dGhlIHNhbXBsZSBub25jZQ=="},
			key:   "dGhlIHNhbXBsZSBub25jZQ==",
			lines: []string{"\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"},
		},
		{
			name: "key, version and host from Header",
			req: Request{
				Host: "h",
				Key:  "ignored",
				Header: http.Header{
					"sec-websocket-key":     {"from-header"},
					"Sec-Websocket-Version": {"8"},
					"HOST":                  {"other:1"},
				},
			},
			key:   "from-header",
			lines: []string{"\r\nSec-WebSocket-Key: from-header\r\n", "\r\nSec-WebSocket-Version: 8\r\n", "\r\nHost: other:1\r\n"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			key, err := WriteRequest(&buf, &tt.req)
			if err != nil {
				t.Fatal(err)
			}
			raw := buf.String()
			if tt.key != "" && key != tt.key {
				t.Errorf(
					"key = %q, want %q",
					key, tt.key)
			}
			for _, l := range tt.lines {
				if strings.Count(raw, l) != 1 {
					t.Errorf(
						"%q not written once in:\n%s",
						l, raw)
				}
			}
			for _, f := range replaceable {
				if n := strings.Count(strings.ToLower(raw), "\r\n"+strings.ToLower(f)+":"); n != 1 {
					t.Errorf(
						"%s written %d times:\n%s",
						f, n, raw)
				}
			}
			if !strings.Contains(raw, "\r\nSec-WebSocket-Key: "+key+"\r\n") {
				t.Errorf(
					"returned key %q is not the one sent:\n%s",
					key, raw)
			}
		})
	}
}

func TestWriteRequestInvalid(t *testing.T) {
	const secret = "s3cr3t-value"
	tests := []struct {
		name string
		req  Request
	}{
		{
			name: "no host",
			req:  Request{},
		},
		{
			name: "space in URI",
			req:  Request{Host: "h", RequestURI: "/a b"},
		},
		{
			name: "CRLF in URI",
			req:  Request{Host: "h", RequestURI: "/a\r\nX: y"},
		},
		{
			name: "CRLF in host",
			req:  Request{Host: "h\r\nX: " + secret},
		},
		{
			name: "CRLF in header value",
			req:  Request{Host: "h", Header: http.Header{"Authorization": {secret + "\r\nX: y"}}},
		},
		{
			name: "NUL in header value",
			req:  Request{Host: "h", Header: http.Header{"Cookie": {secret + "\x00"}}},
		},
		{
			name: "space in header name",
			req:  Request{Host: "h", Header: http.Header{"Bad Name": {secret}}},
		},
		{
			name: "empty header name",
			req:  Request{Host: "h", Header: http.Header{"": {secret}}},
		},
		{
			name: "two keys",
			req:  Request{Host: "h", Header: http.Header{"Sec-WebSocket-Key": {"a", "b"}}},
		},
		{
			name: "key in two spellings",
			req:  Request{Host: "h", Header: http.Header{"Sec-WebSocket-Key": {"a"}, "sec-websocket-key": {"b"}}},
		},
		{
			name: "CRLF in key",
			req:  Request{Host: "h", Key: "k\r\nX: y"},
		},
		{
			name: "protocol with a comma",
			req:  Request{Host: "h", Protocols: []string{"a,b"}},
		},
		{
			name: "empty protocol",
			req:  Request{Host: "h", Protocols: []string{""}},
		},
		{
			name: "CRLF in extension",
			req:  Request{Host: "h", Extensions: []string{"x\r\nY: z"}},
		},
		{
			name: "two extensions in one offer",
			req:  Request{Host: "h", Extensions: []string{"a, b"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			_, err := WriteRequest(&buf, &tt.req)
			if err == nil {
				t.Fatalf(
					"no error; wrote:\n%s",
					buf.String())
			}
			if buf.Len() != 0 {
				t.Errorf(
					"%d bytes written before the error",
					buf.Len())
			}
			if strings.Contains(err.Error(), secret) {
				t.Errorf(
					"error reveals a header value: %v",
					err)
			}
		})
	}
}

type failWriter struct{ n int }

func (w failWriter) Write(p []byte) (int, error) { return min(w.n, len(p)), errors.New("boom") }

type shortWriter struct{}

func (shortWriter) Write(p []byte) (int, error) { return len(p) / 2, nil }

func TestWriteRequestWriteError(t *testing.T) {
	if _, err := WriteRequest(failWriter{n: 3}, &Request{Host: "h"}); err == nil || !strings.Contains(err.Error(), "boom") {
		t.Fatalf(
			"err = %v, want the writer's error",
			err)
	}
	if _, err := WriteRequest(shortWriter{}, &Request{Host: "h"}); !errors.Is(err, io.ErrShortWrite) {
		t.Fatalf(
			"err = %v, want io.ErrShortWrite",
			err)
	}
}

const testKey = "dGhlIHNhbXBsZSBub25jZQ=="

// response joins lines with CRLF and ends the header section.
func response(lines ...string) string {
	return strings.Join(lines, "\r\n") + "\r\n\r\n"
}

var okLines = []string{
	"HTTP/1.1 101 Switching Protocols",
	"Upgrade: websocket",
	"Connection: Upgrade",
	"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=",
}

func with(extra ...string) []string { return append(append([]string(nil), okLines...), extra...) }

// without returns okLines minus those starting with prefix.
func without(prefix string, extra ...string) []string {
	var ls []string
	for _, l := range okLines {
		if !strings.HasPrefix(l, prefix) {
			ls = append(ls, l)
		}
	}
	return append(ls, extra...)
}

func TestReadResponseOK(t *testing.T) {
	pmd := "permessage-deflate; client_max_window_bits"
	tests := []struct {
		name      string
		in        string
		protocols []string
		ext       []string
		bufSize   int
		status    string
		sub       string
		exts      []string
	}{
		{
			name:   "minimal",
			in:     response(okLines...),
			status: "101 Switching Protocols",
		},
		{
			name:   "no reason phrase",
			in:     response(append([]string{"HTTP/1.1 101"}, okLines[1:]...)...),
			status: "101",
		},
		{
			name:   "no reason phrase, trailing space",
			in:     response(append([]string{"HTTP/1.1 101 "}, okLines[1:]...)...),
			status: "101",
		},
		{
			name:   "LF line endings",
			in:     strings.Join(okLines, "\n") + "\n\n",
			status: "101 Switching Protocols",
		},
		{
			name: "token lists and case",
			in: response(
				"HTTP/1.1 101 Switching Protocols",
				"upgrade: WebSocket",
				"CONNECTION: keep-alive, Upgrade",
				"connection: close",
				"sec-websocket-accept:s3pPLMBiTxaQ9kYGzzhZRbK+xOo=   ",
			),
			status: "101 Switching Protocols",
		},
		{
			name:      "subprotocol",
			in:        response(with("Sec-WebSocket-Protocol: SuperChat")...),
			protocols: []string{"chat", "superchat"},
			status:    "101 Switching Protocols",
			sub:       "SuperChat",
		},
		{
			name:      "no subprotocol chosen",
			in:        response(okLines...),
			protocols: []string{"chat"},
			status:    "101 Switching Protocols",
		},
		{
			name:   "extensions",
			in:     response(with("Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=12; client_max_window_bits=12", "Sec-WebSocket-Extensions: x-quoted; p=\"a,b\"")...),
			ext:    []string{pmd, "x-quoted", "x-unused"},
			status: "101 Switching Protocols",
			exts:   []string{"permessage-deflate; server_max_window_bits=12; client_max_window_bits=12", "x-quoted; p=\"a,b\""},
		},
		{
			name:   "extensions in one field",
			in:     response(with("Sec-WebSocket-Extensions: , permessage-deflate,x-b ;y")...),
			ext:    []string{pmd, "x-b"},
			status: "101 Switching Protocols",
			exts:   []string{"permessage-deflate", "x-b ;y"},
		},
		{
			name:    "lines longer than the bufio buffer",
			in:      response(with("X-Long: "+strings.Repeat("y", 5000), "Sec-WebSocket-Extensions: permessage-deflate; "+strings.Repeat("z", 100))...),
			ext:     []string{pmd},
			bufSize: 16,
			status:  "101 Switching Protocols",
			exts:    []string{"permessage-deflate; " + strings.Repeat("z", 100)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const frame = "\x81\x05hello" // sent by the server right after the handshake
			size := tt.bufSize
			if size == 0 {
				size = 4096
			}
			br := bufio.NewReaderSize(strings.NewReader(tt.in+frame), size)
			resp, err := ReadResponse(br, testKey, tt.protocols, tt.ext)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != 101 || resp.Status != tt.status || resp.Subprotocol != tt.sub || !equalStrings(resp.Extensions, tt.exts) {
				t.Fatalf(
					"got %d %q, subprotocol %q, extensions %q; want 101 %q, %q, %q",
					resp.StatusCode, resp.Status, resp.Subprotocol, resp.Extensions, tt.status, tt.sub, tt.exts)
			}
			if resp.Header.Get("Sec-WebSocket-Accept") == "" {
				t.Errorf(
					"header not canonicalised: %v",
					resp.Header)
			}
			rest, _ := io.ReadAll(br)
			if string(rest) != frame {
				t.Fatalf(
					"bytes after the header section = %q, want %q",
					rest, frame)
			}
		})
	}
}

func TestReadResponseBad(t *testing.T) {
	tests := []struct {
		name      string
		lines     []string
		protocols []string
		ext       []string
		want      string // in the error message
	}{
		{
			name:  "bad protocol",
			lines: append([]string{"HTP/1.1 101 Switching Protocols"}, okLines[1:]...),
			want:  "malformed status line",
		},
		{
			name:  "bad status code",
			lines: append([]string{"HTTP/1.1 1O1 Switching Protocols"}, okLines[1:]...),
			want:  "malformed status line",
		},
		{
			name:  "status code too long",
			lines: append([]string{"HTTP/1.1 1010"}, okLines[1:]...),
			want:  "malformed status line",
		},
		{
			name:  "no status code",
			lines: append([]string{"HTTP/1.1"}, okLines[1:]...),
			want:  "malformed status line",
		},
		{
			name:  "empty status line",
			lines: []string{""},
			want:  "malformed status line",
		},
		{
			name:  "obsolete line folding",
			lines: with("X-A: a", " continued"),
			want:  "obsolete line folding",
		},
		{
			name:  "no colon",
			lines: with("X-A a"),
			want:  "malformed response header line",
		},
		{
			name:  "space before colon",
			lines: with("X-A : a"),
			want:  "malformed response header line",
		},
		{
			name:  "empty name",
			lines: with(": a"),
			want:  "malformed response header line",
		},
		{
			name:  "control character",
			lines: with("X-A: a\x01b"),
			want:  "control character",
		},
		{
			name:  "no Upgrade",
			lines: without("Upgrade"),
			want:  "Upgrade header",
		},
		{
			name:  "wrong Upgrade",
			lines: without("Upgrade", "Upgrade: h2c"),
			want:  "Upgrade header",
		},
		{
			name:  "websocket only as part of a token",
			lines: without("Upgrade", "Upgrade: websocketx"),
			want:  "Upgrade header",
		},
		{
			name:  "no Connection",
			lines: without("Connection"),
			want:  "Connection header",
		},
		{
			name:  "wrong Connection",
			lines: without("Connection", "Connection: keep-alive"),
			want:  "Connection header",
		},
		{
			name:  "no Accept",
			lines: without("Sec-WebSocket-Accept"),
			want:  "missing Sec-WebSocket-Accept",
		},
		{
			name:  "wrong Accept",
			lines: without("Sec-WebSocket-Accept", "Sec-WebSocket-Accept: x3JJHMbDL1EzLkh9GBhXDw=="),
			want:  "does not match",
		},
		{
			name:  "two Accepts",
			lines: with("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo="),
			want:  "more than one Sec-WebSocket-Accept",
		},
		{
			name:      "protocol not offered",
			lines:     with("Sec-WebSocket-Protocol: other"),
			protocols: []string{"chat"},
			want:      "which was not offered",
		},
		{
			name:  "protocol when none offered",
			lines: with("Sec-WebSocket-Protocol: chat"),
			want:  "which was not offered",
		},
		{
			name:      "two protocols in one field",
			lines:     with("Sec-WebSocket-Protocol: chat, superchat"),
			protocols: []string{"chat", "superchat"},
			want:      "more than one subprotocol",
		},
		{
			name:      "two protocol fields",
			lines:     with("Sec-WebSocket-Protocol: chat", "Sec-WebSocket-Protocol: chat"),
			protocols: []string{"chat"},
			want:      "more than one subprotocol",
		},
		{
			name:      "empty protocol",
			lines:     with("Sec-WebSocket-Protocol: "),
			protocols: []string{"chat"},
			want:      "empty Sec-WebSocket-Protocol",
		},
		{
			name:  "extension not offered",
			lines: with("Sec-WebSocket-Extensions: x-other"),
			ext:   []string{"permessage-deflate"},
			want:  "extension \"x-other\", which was not offered",
		},
		{
			name:  "extension when none offered",
			lines: with("Sec-WebSocket-Extensions: permessage-deflate"),
			want:  "which was not offered",
		},
		{
			name:  "extension accepted twice",
			lines: with("Sec-WebSocket-Extensions: permessage-deflate, permessage-deflate; server_no_context_takeover"),
			ext:   []string{"permessage-deflate", "permessage-deflate; client_max_window_bits"},
			want:  "more than once",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			br := bufio.NewReader(strings.NewReader(response(tt.lines...)))
			_, err := ReadResponse(br, testKey, tt.protocols, tt.ext)
			if !errors.Is(err, ErrBadHandshake) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf(
					"err = %v; want ErrBadHandshake with %q",
					err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "wsclient: bad handshake: ") {
				t.Errorf(
					"error %q lacks the prefix",
					err)
			}
		})
	}
}

func TestReadResponseRejected(t *testing.T) {
	long := strings.Repeat("b", 10000)
	tests := []struct {
		name   string
		in     string
		code   int
		status string
		body   string
		rest   string // left in br
		msg    string
	}{
		{
			name:   "403 with body",
			in:     response("HTTP/1.1 403 Forbidden", "Content-Length: 9", "X-Why: auth") + "go away\r\nNEXT",
			code:   403,
			status: "403 Forbidden",
			body:   "go away\r\n",
			rest:   "NEXT",
			msg:    `wsclient: bad handshake: server returned 403 Forbidden: "go away\r\n"`,
		},
		{
			name:   "no reason phrase",
			in:     response("HTTP/1.0 404") + "body without length",
			code:   404,
			status: "404",
			rest:   "body without length",
			msg:    "wsclient: bad handshake: server returned 404 Not Found",
		},
		{
			name:   "body capped",
			in:     response("HTTP/1.1 500 Oops", "Content-Length: 10000") + long,
			code:   500,
			status: "500 Oops",
			body:   long[:4096],
			rest:   long[4096:],
			msg:    `wsclient: bad handshake: server returned 500 Oops: "` + long[:128] + `"...`,
		},
		{
			name:   "body shorter than announced",
			in:     response("HTTP/1.1 400 Bad Request", "Content-Length: 100") + "short",
			code:   400,
			status: "400 Bad Request",
			body:   "short",
		},
		{
			name:   "chunked body not read",
			in:     response("HTTP/1.1 426 Upgrade Required", "Transfer-Encoding: chunked", "Content-Length: 3", "Sec-WebSocket-Version: 13") + "3\r\nabc",
			code:   426,
			status: "426 Upgrade Required",
			rest:   "3\r\nabc",
		},
		{
			name:   "200 OK",
			in:     response("HTTP/1.1 200 OK", "Content-Length: 2") + "hi",
			code:   200,
			status: "200 OK",
			body:   "hi",
		},
		{
			name:   "unknown status code",
			in:     response("HTTP/1.1 599"),
			code:   599,
			status: "599",
			msg:    "wsclient: bad handshake: server returned 599",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			br := bufio.NewReader(strings.NewReader(tt.in))
			resp, err := ReadResponse(br, testKey, nil, nil)
			var he *HandshakeError
			if !errors.As(err, &he) || !errors.Is(err, ErrBadHandshake) {
				t.Fatalf(
					"err = %v, want a *HandshakeError",
					err)
			}
			if he.StatusCode != tt.code || he.Status != tt.status || string(he.Body) != tt.body {
				t.Fatalf(
					"got %d %q body %q; want %d %q body %q",
					he.StatusCode, he.Status, he.Body, tt.code, tt.status, tt.body)
			}
			if resp == nil || resp.StatusCode != tt.code || len(he.Header) == 0 && len(resp.Header) != 0 {
				t.Errorf(
					"response %+v does not match the error",
					resp)
			}
			if tt.msg != "" && err.Error() != tt.msg {
				t.Errorf(
					"Error() = %q, want %q",
					err, tt.msg)
			}
			if rest, _ := io.ReadAll(br); string(rest) != tt.rest {
				t.Errorf(
					"left in br: %q, want %q",
					rest, tt.rest)
			}
		})
	}
}

func TestReadResponseIOErrors(t *testing.T) {
	for _, in := range []string{"", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n", "HTTP/1.1 101 Swi"} {
		_, err := ReadResponse(bufio.NewReader(strings.NewReader(in)), testKey, nil, nil)
		if !errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, ErrBadHandshake) {
			t.Errorf(
				"ReadResponse(%q) = %v, want io.ErrUnexpectedEOF, not ErrBadHandshake",
				in, err)
		}
	}
	boom := errors.New("boom")
	_, err := ReadResponse(bufio.NewReader(io.MultiReader(strings.NewReader("HTTP/1.1 101\r\n"), errReader{boom})), testKey, nil, nil)
	if !errors.Is(err, boom) {
		t.Errorf(
			"err = %v, want the reader's error",
			err)
	}
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// genReader yields a status line and then header lines made by line(i)
// forever, counting what it hands out.
type genReader struct {
	pending []byte
	i       int
	line    func(i int) []byte
	read    int
}

func (g *genReader) Read(p []byte) (int, error) {
	if len(g.pending) == 0 {
		if g.i == 0 {
			g.pending = []byte("HTTP/1.1 101 Switching Protocols\r\n")
		} else {
			g.pending = g.line(g.i)
		}
		g.i++
	}
	n := copy(p, g.pending)
	g.pending = g.pending[n:]
	g.read += n
	return n, nil
}

func TestReadResponseTooLarge(t *testing.T) {
	endless := bytes.Repeat([]byte("x"), 1000)
	tiny := []byte("a:b\r\n")
	tests := []struct {
		name     string
		line     func(i int) []byte
		maxAlloc uint64
	}{
		{
			name:     "many fields",
			line:     func(i int) []byte { return fmt.Appendf(nil, "X-Pad-%07d: %s\r\n", i, strings.Repeat("v", 40)) },
			maxAlloc: 16 * MaxHeaderBytes, // ~1,100 fields in a map
		},
		{
			name:     "one endless line",
			line:     func(int) []byte { return endless },
			maxAlloc: 2 * MaxHeaderBytes,
		},
		{
			name:     "tiny fields",
			line:     func(int) []byte { return tiny },
			maxAlloc: 16 * MaxHeaderBytes, // 13,000 values of one field
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &genReader{line: tt.line}
			src := io.LimitReader(g, 1<<20) // a 1 MiB header section
			br := bufio.NewReaderSize(src, 4096)
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := ReadResponse(br, testKey, nil, nil)
			runtime.ReadMemStats(&after)
			if !errors.Is(err, ErrHeaderTooLarge) || !errors.Is(err, ErrBadHandshake) {
				t.Fatalf(
					"err = %v, want ErrHeaderTooLarge and ErrBadHandshake",
					err)
			}
			if g.read > MaxHeaderBytes+2*4096 {
				t.Errorf(
					"read %d bytes from the connection, want at most ~%d",
					g.read, MaxHeaderBytes)
			}
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("read %d bytes, allocated %d bytes", g.read, alloc)
			if alloc > tt.maxAlloc {
				t.Errorf(
					"allocated %d bytes, want at most %d",
					alloc, tt.maxAlloc)
			}
		})
	}
}

func TestReadResponseExactLimit(t *testing.T) {
	head := response(okLines...)
	pad := MaxHeaderBytes - len(head) - len("X-Pad: \r\n")
	in := response(with("X-Pad: " + strings.Repeat("p", pad))...)
	if len(in) != MaxHeaderBytes {
		t.Fatalf(
			"test bug: %d bytes",
			len(in))
	}
	if _, err := ReadResponse(bufio.NewReader(strings.NewReader(in)), testKey, nil, nil); err != nil {
		t.Fatalf(
			"header section of exactly MaxHeaderBytes: %v",
			err)
	}
	in = response(with("X-Pad: " + strings.Repeat("p", pad+1))...)
	if _, err := ReadResponse(bufio.NewReader(strings.NewReader(in)), testKey, nil, nil); !errors.Is(err, ErrHeaderTooLarge) {
		t.Fatalf(
			"header section of MaxHeaderBytes+1: %v",
			err)
	}
}

func TestSplitList(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{
			in: "",
		},
		{
			in:   "a",
			want: []string{"a"},
		},
		{
			in:   " a , ,b,",
			want: []string{"a", "b"},
		},
		{
			in:   `x; p="a,b", y; q="\"c,"`,
			want: []string{`x; p="a,b"`, `y; q="\"c,"`},
		},
	}
	for _, tt := range tests {
		var got []string
		for e := range splitList(tt.in) {
			got = append(got, e)
		}
		if !equalStrings(got, tt.want) {
			t.Errorf(
				"splitList(%q) = %q, want %q",
				tt.in, got, tt.want)
		}
	}
}
