package codec

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
)

// MaxHeaderBytes limits the size of the server's handshake response: status
// line, header fields and the empty line that ends them, line endings
// included. ReadResponse never holds more than that (plus the bufio.Reader's
// own buffer) in memory.
const MaxHeaderBytes = 64 << 10

// maxErrorBody is how much of a rejecting response's body ReadResponse keeps.
const maxErrorBody = 4096

// Handshake errors (RFC 6455 §4.1, §4.2.2).
var (
	// ErrBadHandshake is wrapped by every error of ReadResponse that
	// reports a response the client must reject (errors.Is(err,
	// ErrBadHandshake)), *HandshakeError included.
	ErrBadHandshake = errors.New("wsclient: bad handshake")
	// ErrHeaderTooLarge is wrapped, together with ErrBadHandshake, when
	// the response header section exceeds MaxHeaderBytes.
	ErrHeaderTooLarge = errors.New("wsclient: handshake response header too large")
)

// websocketGUID is the fixed string appended to the key (RFC 6455 §1.3).
const websocketGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// newKey returns a new Sec-WebSocket-Key (RFC 6455 §4.1): 16 bytes from
// crypto/rand, base64-encoded into 24 characters.
func newKey() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails: crypto/rand.Read crashes the program instead
	return base64.StdEncoding.EncodeToString(b[:])
}

// acceptKey returns the Sec-WebSocket-Accept value a server must answer to
// key (RFC 6455 §1.3, §4.2.2): base64(SHA-1(key + GUID)).
func acceptKey(key string) string {
	sum := sha1.Sum([]byte(key + websocketGUID))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// Request describes the client's opening handshake (RFC 6455 §4.1).
type Request struct {
	// Host is the Host header value. The caller formats it: a bracketed
	// IPv6 literal, and a port only when it is not the scheme's default.
	Host string
	// RequestURI is the request target, path and query; "/" when empty.
	RequestURI string
	// Key is the Sec-WebSocket-Key; when empty, WriteRequest makes a new
	// one (16 bytes from crypto/rand, base64-encoded) and returns it.
	Key string
	// Protocols is the Sec-WebSocket-Protocol offer, in order of preference
	// (§4.1 item 10). Each must be an HTTP token.
	Protocols []string
	// Extensions are the Sec-WebSocket-Extensions offers (§9.1), one
	// extension with its parameters per element, e.g.
	// "permessage-deflate; client_max_window_bits".
	Extensions []string
	// Header holds extra header fields, written as given (name spelling
	// kept, one line per value, names in sorted order).
	//
	// An entry named (case-insensitively) Host, Upgrade, Connection,
	// Sec-WebSocket-Key or Sec-WebSocket-Version replaces the line
	// WriteRequest would generate, and must have exactly one value. A
	// Sec-WebSocket-Key given here wins over Key and is the key WriteRequest
	// returns, which is the one to pass to ReadResponse.
	//
	// Sec-WebSocket-Protocol and Sec-WebSocket-Extensions entries are
	// written in addition to Protocols and Extensions, but ReadResponse only
	// knows what the caller passes it: offer through the fields.
	Header http.Header
}

// replaceable lists the generated fields an entry of Request.Header
// replaces, in the order WriteRequest writes them.
var replaceable = [...]string{"Host", "Upgrade", "Connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version"}

// WriteRequest writes the opening handshake (RFC 6455 §4.1) to w in one
// Write: the request line "GET RequestURI HTTP/1.1", then Host, Upgrade:
// websocket, Connection: Upgrade, Sec-WebSocket-Key, Sec-WebSocket-Version:
// 13, Sec-WebSocket-Protocol and Sec-WebSocket-Extensions when offered, the
// extra header fields and the empty line. It returns the key it sent.
//
// It refuses (before writing anything) a request it cannot write safely:
// an empty Host, a RequestURI containing spaces or control characters, a
// protocol that is not a token, an extension offer that is empty or holds a
// comma (one extension per element) or a control character, a header name
// that is not a token, or a field value holding a control character such as
// CR, LF or NUL (header injection). Errors name the offending field, never
// its value.
func WriteRequest(w io.Writer, r *Request) (key string, err error) {
	gen, extra, err := requestFields(r)
	if err != nil {
		return "", err
	}
	uri := r.RequestURI
	if uri == "" {
		uri = "/"
	}
	switch {
	case gen[0] == "":
		return "", errors.New("wsclient: request has no Host")
	case !isVisible(uri):
		return "", errors.New("wsclient: invalid request URI")
	}
	for _, p := range r.Protocols {
		if !isToken(p) {
			return "", errors.New("wsclient: subprotocol is not a token")
		}
	}
	b, err := appendRequest(make([]byte, 0, 256), r, uri, gen, extra)
	if err != nil {
		return "", err
	}
	n, err := w.Write(b)
	if err == nil && n < len(b) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return "", fmt.Errorf("wsclient: writing handshake request: %w", err)
	}
	return gen[3], nil
}

// requestFields returns the values of the generated fields, in the order
// of replaceable (Host, Upgrade, Connection, Sec-WebSocket-Key,
// Sec-WebSocket-Version), after the entries of r.Header that replace them,
// and the names of the other entries of r.Header, sorted.
func requestFields(r *Request) (gen [len(replaceable)]string, extra []string, err error) {
	gen = [...]string{r.Host, "websocket", "Upgrade", r.Key, "13"}
	var set [len(replaceable)]bool
	extra = make([]string, 0, len(r.Header))
	for name, vals := range r.Header {
		if !isToken(name) {
			return gen, nil, fmt.Errorf("wsclient: invalid request header name %q", name)
		}
		i := slices.IndexFunc(replaceable[:], func(s string) bool { return strings.EqualFold(s, name) })
		if i < 0 {
			extra = append(extra, name)
			continue
		}
		if set[i] || len(vals) != 1 {
			return gen, nil, fmt.Errorf("wsclient: request header %s must have exactly one value", replaceable[i])
		}
		set[i], gen[i] = true, vals[0]
	}
	slices.Sort(extra)
	if gen[3] == "" {
		gen[3] = newKey()
	}
	return gen, extra, nil
}

// appendRequest appends the request line and header section to b,
// refusing a field value that could inject a line.
func appendRequest(b []byte, r *Request, uri string, gen [len(replaceable)]string, extra []string) ([]byte, error) {
	b = append(b, "GET "...)
	b = append(b, uri...)
	b = append(b, " HTTP/1.1\r\n"...)
	for i, v := range gen {
		if !isFieldValue(v) {
			return nil, fmt.Errorf("wsclient: invalid value for request header %s", replaceable[i])
		}
		b = appendField(b, replaceable[i], v)
	}
	if len(r.Protocols) > 0 {
		b = appendField(b, "Sec-WebSocket-Protocol", strings.Join(r.Protocols, ", "))
	}
	if len(r.Extensions) > 0 {
		for _, e := range r.Extensions {
			if e == "" || !isFieldValue(e) || strings.ContainsRune(e, ',') {
				return nil, errors.New("wsclient: invalid extension offer")
			}
		}
		b = appendField(b, "Sec-WebSocket-Extensions", strings.Join(r.Extensions, ", "))
	}
	for _, name := range extra {
		for _, v := range r.Header[name] {
			if !isFieldValue(v) {
				return nil, fmt.Errorf("wsclient: invalid value for request header %q", name)
			}
			b = appendField(b, name, v)
		}
	}
	return append(b, "\r\n"...), nil
}

func appendField(b []byte, name, value string) []byte {
	b = append(b, name...)
	b = append(b, ": "...)
	b = append(b, value...)
	return append(b, "\r\n"...)
}

// Response is the server's opening handshake (RFC 6455 §4.2.2).
type Response struct {
	StatusCode int         // 101 on success
	Status     string      // status code and reason phrase, e.g. "101 Switching Protocols"; the code alone when the reason is missing
	Header     http.Header // all header fields, canonical keys
	// Subprotocol is the protocol the server chose, spelt as the server
	// sent it; "" if none.
	Subprotocol string
	// Extensions are the accepted Sec-WebSocket-Extensions entries in the
	// server's order, one extension with its parameters per element (e.g.
	// "permessage-deflate; server_max_window_bits=12"), for the caller to
	// parse.
	Extensions []string
}

// HandshakeError is returned by ReadResponse when the server answers with a
// status other than 101 Switching Protocols (RFC 6455 §4.2.2, §4.1 item 1).
// It unwraps to ErrBadHandshake.
type HandshakeError struct {
	StatusCode int
	Status     string      // as in Response
	Header     http.Header // the response header fields
	// Body is the start of the response body: at most 4 KiB, and only when
	// the response has a Content-Length (an unframed body is not read).
	Body []byte
}

// Error returns "wsclient: bad handshake: server returned 403 Forbidden",
// followed by the start of the body, quoted, if there is one.
func (e *HandshakeError) Error() string {
	status := e.Status
	if status == "" {
		status = strconv.Itoa(e.StatusCode)
	}
	if !strings.Contains(status, " ") {
		if text := http.StatusText(e.StatusCode); text != "" {
			status += " " + text
		}
	}
	s := "wsclient: bad handshake: server returned " + status
	if len(e.Body) > 0 {
		const excerpt = 128
		body := e.Body
		if len(body) > excerpt {
			body = body[:excerpt]
		}
		s += fmt.Sprintf(": %q", body)
		if len(e.Body) > excerpt {
			s += "..."
		}
	}
	return s
}

// Unwrap returns ErrBadHandshake, so errors.Is(err, ErrBadHandshake) holds.
func (e *HandshakeError) Unwrap() error { return ErrBadHandshake }

// badHandshake reports a response the client must reject. It unwraps to
// ErrBadHandshake and to the cause, if any.
type badHandshake struct {
	msg   string
	cause error
}

func (e *badHandshake) Error() string { return "wsclient: bad handshake: " + e.msg }

func (e *badHandshake) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrBadHandshake}
	}
	return []error{ErrBadHandshake, e.cause}
}

func badf(format string, args ...any) error {
	return &badHandshake{msg: fmt.Sprintf(format, args...)}
}

// ReadResponse reads the server's opening handshake from br and validates
// it against the request (RFC 6455 §4.1, client requirements 1–6).
//
// The header section (status line, fields, empty line) may not exceed
// MaxHeaderBytes; beyond that the error wraps ErrHeaderTooLarge and
// ErrBadHandshake, and memory stays bounded. Lines may end in CRLF or LF;
// obsolete line folding is rejected.
//
// A status other than 101 returns a *HandshakeError. Otherwise the Upgrade
// header must contain the token "websocket" and Connection the token
// "upgrade" (case-insensitively); Sec-WebSocket-Accept must be
// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")) (§1.3); a
// Sec-WebSocket-Protocol must be a single value among protocols (compared
// case-insensitively; none offered means none may be chosen); every
// Sec-WebSocket-Extensions entry must name an extension of offeredExt (raw
// offers as in Request.Extensions; names compared case-insensitively), at
// most once. Each failure returns an error wrapping
// ErrBadHandshake with a message that says what was wrong.
//
// Read errors are returned wrapped, without ErrBadHandshake (io.EOF becomes
// io.ErrUnexpectedEOF). When the header section was read, the Response is
// returned even with an error, for diagnostics; otherwise it is nil.
//
// On success br is positioned right after the header section: frames the
// server sent at once may already be buffered in br.
func ReadResponse(br *bufio.Reader, key string, protocols []string, offeredExt []string) (*Response, error) {
	lr := lineReader{br: br, left: MaxHeaderBytes}
	line, err := lr.readLine()
	if err != nil {
		return nil, err
	}
	resp := &Response{Header: make(http.Header)}
	resp.StatusCode, resp.Status, err = parseStatusLine(line)
	if err != nil {
		return nil, err
	}
	for {
		line, err = lr.readLine()
		if err != nil {
			return nil, err
		}
		if len(line) == 0 {
			break
		}
		name, value, err := parseField(line)
		if err != nil {
			return nil, err
		}
		resp.Header[name] = append(resp.Header[name], value)
	}

	if resp.StatusCode != http.StatusSwitchingProtocols {
		return resp, &HandshakeError{
			StatusCode: resp.StatusCode,
			Status:     resp.Status,
			Header:     resp.Header,
			Body:       readErrorBody(br, resp),
		}
	}
	if err := checkResponse(resp, key, protocols, offeredExt); err != nil {
		return resp, err
	}
	return resp, nil
}

// checkResponse validates a 101 response (RFC 6455 §4.1, client
// requirements 2–6) and fills in Subprotocol and Extensions.
func checkResponse(resp *Response, key string, protocols, offeredExt []string) error {
	h := resp.Header
	if !hasToken(h.Values("Upgrade"), "websocket") {
		return badf("Upgrade header %q does not contain \"websocket\"", strings.Join(h.Values("Upgrade"), ", "))
	}
	if !hasToken(h.Values("Connection"), "upgrade") {
		return badf("Connection header %q does not contain \"upgrade\"", strings.Join(h.Values("Connection"), ", "))
	}
	switch accept := h.Values("Sec-WebSocket-Accept"); {
	case len(accept) == 0:
		return badf("missing Sec-WebSocket-Accept header")
	case len(accept) > 1:
		return badf("more than one Sec-WebSocket-Accept header")
	case accept[0] != acceptKey(key):
		return badf("Sec-WebSocket-Accept does not match the key sent")
	}
	return checkNegotiated(resp, protocols, offeredExt)
}

// checkNegotiated validates the subprotocol and extensions the server chose
// (RFC 6455 §4.1, client requirements 5–6; RFC 8441 §5 keeps them) and
// fills in Subprotocol and Extensions.
func checkNegotiated(resp *Response, protocols, offeredExt []string) error {
	h := resp.Header
	switch proto := h.Values("Sec-WebSocket-Protocol"); {
	case len(proto) == 0:
	case len(proto) > 1 || strings.Contains(proto[0], ","):
		return badf("server chose more than one subprotocol")
	case proto[0] == "":
		return badf("empty Sec-WebSocket-Protocol header")
	default:
		i := slices.IndexFunc(protocols, func(p string) bool { return strings.EqualFold(p, proto[0]) })
		if i < 0 {
			return badf("server chose subprotocol %q, which was not offered", proto[0])
		}
		resp.Subprotocol = proto[0]
	}

	for _, v := range h.Values("Sec-WebSocket-Extensions") {
		for e := range splitList(v) {
			name := extensionName(e)
			if !slices.ContainsFunc(offeredExt, func(o string) bool { return strings.EqualFold(extensionName(o), name) }) {
				return badf("server accepted extension %q, which was not offered", name)
			}
			if slices.ContainsFunc(resp.Extensions, func(a string) bool { return strings.EqualFold(extensionName(a), name) }) {
				return badf("server accepted extension %q more than once", name)
			}
			resp.Extensions = append(resp.Extensions, e)
		}
	}
	return nil
}

// readErrorBody returns the start of a rejecting response's body: at most
// maxErrorBody bytes, read only when Content-Length frames it. Read errors
// just shorten it.
func readErrorBody(br *bufio.Reader, resp *Response) []byte {
	switch c := resp.StatusCode; {
	case c < 200, c == http.StatusNoContent, c == http.StatusNotModified:
		return nil
	}
	cl := resp.Header.Values("Content-Length")
	if len(cl) != 1 || resp.Header.Get("Transfer-Encoding") != "" {
		return nil
	}
	n, err := strconv.ParseInt(cl[0], 10, 64)
	if err != nil || n <= 0 {
		return nil
	}
	body := make([]byte, min(n, maxErrorBody))
	got, _ := io.ReadFull(br, body)
	return body[:got]
}

// lineReader reads the lines of a header section from a bufio.Reader,
// at most left bytes in all.
type lineReader struct {
	br   *bufio.Reader
	left int
	long []byte // a line longer than br's buffer, at most left bytes
}

// readLine returns the next line without its line ending. The slice is valid
// until the next call.
func (lr *lineReader) readLine() ([]byte, error) {
	line, err := lr.br.ReadSlice('\n')
	if err == nil && len(line) <= lr.left {
		lr.left -= len(line)
		return trimEOL(line), nil
	}
	lr.long = lr.long[:0]
	for {
		if len(line) > lr.left {
			return nil, &badHandshake{
				msg:   "response header section exceeds " + strconv.Itoa(MaxHeaderBytes) + " bytes",
				cause: ErrHeaderTooLarge,
			}
		}
		lr.left -= len(line)
		switch {
		case err == nil && len(lr.long) == 0:
			return trimEOL(line), nil
		case err == nil:
			lr.long = append(lr.long, line...)
			return trimEOL(lr.long), nil
		case err != bufio.ErrBufferFull:
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, fmt.Errorf("wsclient: reading handshake response: %w", err)
		}
		if lr.long == nil {
			// One allocation that fits any line still allowed, instead of
			// doubling up to it.
			lr.long = make([]byte, 0, lr.left+len(line))
		}
		lr.long = append(lr.long, line...)
		line, err = lr.br.ReadSlice('\n')
	}
}

func trimEOL(b []byte) []byte {
	b = b[:len(b)-1] // the '\n'
	if len(b) > 0 && b[len(b)-1] == '\r' {
		b = b[:len(b)-1]
	}
	return b
}

// parseStatusLine parses "HTTP/1.1 101 Switching Protocols" (RFC 9112 §4);
// the reason phrase, and the space before it, may be missing.
func parseStatusLine(line []byte) (code int, status string, err error) {
	proto, rest, _ := bytes.Cut(line, []byte(" "))
	if len(proto) != 8 || !bytes.HasPrefix(proto, []byte("HTTP/")) ||
		!isDigit(proto[5]) || proto[6] != '.' || !isDigit(proto[7]) ||
		len(rest) < 3 || !isDigit(rest[0]) || !isDigit(rest[1]) || !isDigit(rest[2]) ||
		(len(rest) > 3 && rest[3] != ' ') || bytes.ContainsFunc(rest, isCtlNotTab) {
		return 0, "", badf("malformed status line %q", excerpt(line))
	}
	code = int(rest[0]-'0')*100 + int(rest[1]-'0')*10 + int(rest[2]-'0')
	return code, string(bytes.TrimRight(rest, " \t")), nil
}

// parseField parses "Name: value" (RFC 9110 §5, RFC 9112 §5): the name is a
// token with no space before the colon, optional whitespace around the value
// is dropped, and the value may not hold control characters other than tab.
func parseField(line []byte) (name, value string, err error) {
	if line[0] == ' ' || line[0] == '\t' {
		return "", "", badf("obsolete line folding in response header")
	}
	n, v, ok := bytes.Cut(line, []byte(":"))
	if !ok || !isToken(string(n)) {
		return "", "", badf("malformed response header line %q", excerpt(line))
	}
	v = bytes.Trim(v, " \t")
	if bytes.ContainsFunc(v, isCtlNotTab) {
		return "", "", badf("control character in response header %q", excerpt(n))
	}
	return textproto.CanonicalMIMEHeaderKey(string(n)), string(v), nil
}

func excerpt(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}

// hasToken reports whether a comma-separated list in one of values holds
// token, compared case-insensitively (RFC 9110 §5.6.1).
func hasToken(values []string, token string) bool {
	for _, v := range values {
		for e := range splitList(v) {
			if strings.EqualFold(e, token) {
				return true
			}
		}
	}
	return false
}

// splitList yields the non-empty, trimmed elements of a comma-separated list
// (RFC 9110 §5.6.1); commas inside quoted strings do not split.
func splitList(s string) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		start, quoted := 0, false
		for i := 0; i <= len(s); i++ {
			if i < len(s) {
				switch c := s[i]; {
				case c == '"':
					quoted = !quoted
					continue
				case c == '\\' && quoted:
					i++
					continue
				case c != ',' || quoted:
					continue
				}
			}
			if e := strings.Trim(s[start:min(i, len(s))], " \t"); e != "" {
				if !yield(e) {
					return
				}
			}
			start = i + 1
		}
	}
}

// extensionName returns the name of an extension entry
// "name; param=value" (RFC 6455 §9.1).
func extensionName(e string) string {
	name, _, _ := strings.Cut(e, ";")
	return strings.Trim(name, " \t")
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// isCtlNotTab reports whether r is a control character other than tab,
// which header values and reason phrases may not contain.
func isCtlNotTab(r rune) bool { return (r < 0x20 && r != '\t') || r == 0x7f }

// isToken reports whether s is an HTTP token (RFC 9110 §5.6.2).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !tokenChar(s[i]) {
			return false
		}
	}
	return true
}

func tokenChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// isFieldValue reports whether s can be written as a header field value
// (RFC 9110 §5.5): no CR, LF, NUL or other control character except tab.
func isFieldValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if isCtlNotTab(rune(s[i])) {
			return false
		}
	}
	return true
}

// isVisible reports whether s is non-empty and holds no space or control
// character, as a request target must (RFC 9112 §3.2).
func isVisible(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c == 0x7f {
			return false
		}
	}
	return true
}
