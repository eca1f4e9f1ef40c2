package proxy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
)

// maxProxyReply bounds the status line plus header section of a CONNECT
// reply.
const maxProxyReply = 16 << 10

var errReplyTooLarge = errors.New("reply header larger than 16 KiB")

// httpConnect opens an HTTP CONNECT tunnel. Credentials in the proxy URL
// are sent as Basic with the first request (as websocket-client and
// net/http do); a 407 with a Digest challenge is answered once on a new
// connection (and once more if the nonce was stale).
func (d *Dialer) httpConnect(ctx context.Context, target string) (net.Conn, error) {
	hdr, user := d.connectHeader()
	for attempt := 0; ; attempt++ {
		nc, r, err := d.connectOnce(ctx, target, hdr)
		if err != nil || r == nil {
			return nc, err
		}
		if r.code == http.StatusProxyAuthRequired && user != nil && attempt < 2 {
			ch := findDigest(r.header.Values("Proxy-Authenticate"))
			if ch != nil && (attempt == 0 || ch.stale) {
				pw, _ := user.Password()
				if auth, err := ch.authorize(user.Username(), pw, "CONNECT", target, newCnonce()); err == nil {
					hdr.Set("Proxy-Authorization", auth)
					continue
				}
			}
		}
		return nil, &Error{Proxy: d.Proxy.Display, StatusCode: r.code, Message: "CONNECT " + target + ": " + r.status}
	}
}

// connectHeader copies Dialer.Header and adds Basic credentials from the
// proxy URL unless it holds a Proxy-Authorization. user is nil when the
// caller's header wins (no Digest answer is tried then).
func (d *Dialer) connectHeader() (http.Header, *url.Userinfo) {
	hdr := http.Header{}
	for k, vs := range d.Header {
		hdr[textproto.CanonicalMIMEHeaderKey(k)] = vs
	}
	hdr.Del("Host") // always the target
	user := d.Proxy.User
	if hdr.Get("Proxy-Authorization") != "" {
		user = nil
	} else if user != nil {
		pw, _ := user.Password()
		hdr.Set("Proxy-Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user.Username()+":"+pw)))
	}
	return hdr, user
}

// connectOnce sends one CONNECT on a new connection. On a 2xx reply it
// returns the tunnel; on another reply it closes the connection and
// returns the reply.
func (d *Dialer) connectOnce(ctx context.Context, target string, hdr http.Header) (net.Conn, *proxyReply, error) {
	nc, g, err := d.open(ctx)
	if err != nil {
		return nil, nil, err
	}
	var req bytes.Buffer
	writeConnect(&req, target, hdr)
	if d.TraceRequest != nil {
		d.TraceRequest(req.Bytes())
	}
	if _, err := nc.Write(req.Bytes()); err != nil {
		drop(nc, g)
		return nil, nil, d.fail(ctx, 0, "CONNECT "+target, err)
	}
	br := bufio.NewReaderSize(nc, 4096)
	r, err := readProxyReply(br)
	if err != nil {
		drop(nc, g)
		return nil, nil, d.fail(ctx, 0, "CONNECT "+target+": bad reply", err)
	}
	if d.TraceResponse != nil {
		d.TraceResponse(r.status, r.header)
	}
	if r.code/100 != 2 {
		drop(nc, g)
		return nil, r, nil
	}
	if nc, err = d.finish(ctx, nc, g); err != nil {
		return nil, nil, err
	}
	if n := br.Buffered(); n > 0 { // the server spoke first: keep its bytes
		pre, _ := br.Peek(n)
		return &prefixConn{Conn: nc, pre: bytes.Clone(pre)}, nil, nil
	}
	return nc, nil, nil
}

// writeConnect writes a CONNECT request; addr is host:port with an IPv6
// host in brackets (net.JoinHostPort).
func writeConnect(b *bytes.Buffer, addr string, h http.Header) {
	b.WriteString("CONNECT " + addr + " HTTP/1.1\r\nHost: " + addr + "\r\n")
	h.Write(b) // sorted; drops CR/LF in values
	b.WriteString("\r\n")
}

// proxyReply is a parsed reply to CONNECT.
type proxyReply struct {
	code   int
	status string // "407 Proxy Authentication Required"
	header http.Header
}

// readProxyReply reads a CONNECT reply's status line and header section, at
// most maxProxyReply bytes, and nothing past them.
func readProxyReply(br *bufio.Reader) (*proxyReply, error) {
	budget := maxProxyReply
	line, err := readReplyLine(br, &budget)
	if err != nil {
		return nil, err
	}
	proto, rest, _ := strings.Cut(line, " ")
	if !strings.HasPrefix(proto, "HTTP/1.") || len(proto) != len("HTTP/1.1") {
		return nil, fmt.Errorf("malformed status line %q", clip(line))
	}
	codeStr, reason, _ := strings.Cut(rest, " ")
	code, err := strconv.Atoi(codeStr)
	if err != nil || len(codeStr) != 3 || code < 100 {
		return nil, fmt.Errorf("malformed status line %q", clip(line))
	}
	r := &proxyReply{code: code, status: strings.TrimSpace(codeStr + " " + reason), header: http.Header{}}
	var last string
	for {
		line, err := readReplyLine(br, &budget)
		if err != nil {
			return nil, err
		}
		if line == "" {
			return r, nil
		}
		if last, err = addReplyField(r.header, last, line); err != nil {
			return nil, err
		}
	}
}

// addReplyField adds a header line to h. last is the previous field's
// name, for obsolete line folding; the field's name is returned.
func addReplyField(h http.Header, last, line string) (string, error) {
	if line[0] == ' ' || line[0] == '\t' { // obsolete line folding
		if last == "" {
			return "", fmt.Errorf("malformed header line %q", clip(line))
		}
		vs := h[last]
		vs[len(vs)-1] += " " + strings.TrimSpace(line)
		return last, nil
	}
	name, value, ok := strings.Cut(line, ":")
	if !ok || name == "" || strings.ContainsAny(name, " \t") {
		return "", fmt.Errorf("malformed header line %q", clip(line))
	}
	name = textproto.CanonicalMIMEHeaderKey(name)
	h[name] = append(h[name], strings.TrimSpace(value))
	return name, nil
}

// readReplyLine reads one line without its CRLF (or LF), taking its length
// from budget.
func readReplyLine(br *bufio.Reader, budget *int) (string, error) {
	var line []byte
	for {
		frag, err := br.ReadSlice('\n')
		if len(frag) > *budget {
			return "", errReplyTooLarge
		}
		*budget -= len(frag)
		line = append(line, frag...)
		if err == nil {
			break
		}
		if err != bufio.ErrBufferFull {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return "", err
		}
	}
	line = bytes.TrimSuffix(line[:len(line)-1], []byte{'\r'})
	if bytes.ContainsAny(line, "\r\x00") { // RFC 9112 §2.2: reject bare CR
		return "", fmt.Errorf("invalid character in reply line %q", clip(string(line)))
	}
	return string(line), nil
}

// clip shortens a proxy's text for an error message.
func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}

// prefixConn returns bytes read past the proxy's reply before reading on.
type prefixConn struct {
	net.Conn
	pre []byte
}

func (c *prefixConn) Read(p []byte) (int, error) {
	if len(c.pre) > 0 {
		n := copy(p, c.pre)
		c.pre = c.pre[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}
