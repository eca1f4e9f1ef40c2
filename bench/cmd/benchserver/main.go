// Command benchserver is the neutral server every client in bench/ talks to.
// It runs as its own process so that no client shares a Go runtime with it.
//
// It listens on three loopback ports and prints them as one JSON line:
//
//	{"ws":"127.0.0.1:p1","wss":"127.0.0.1:p2","tcp":"127.0.0.1:p3"}
//
// ws and wss (TLS 1.3, self-signed ECDSA certificate; AES-GCM is chosen on
// CPUs with AES-NI) serve WebSocket; the request path picks the mode:
//
//	/sink         read and discard frames without unmasking; a text frame
//	              is answered with an empty text frame (the clients' sync)
//	/echo         unmask every frame and echo it (same opcode and FIN bit)
//	/flood?n=N&size=S&text=1
//	              send N messages of S bytes as fast as possible, then
//	              read (and answer) until the client closes
//
// tcp is a raw byte echo (no WebSocket), the latency floor.
//
// h2 (TLS 1.3, ALPN h2) serves the same /sink and /echo as WebSockets over
// HTTP/2 (RFC 8441) with a minimal server on x/net's Framer (h2frame.go),
// the counterpart of the raw-socket HTTP/1.1 server; h2std serves them
// through net/http's HTTP/2 server (h2.go). Both take up to 10,000 streams
// per connection.
package main

import (
	"bufio"
	"bytes"
	"compress/flate"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsflate"

	"github.com/wsclient/wsclient/bench/internal/jsonish"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("benchserver: ")
	wsLn := listen()
	wssLn := tls.NewListener(listen(), tlsConfig())
	tcpLn := listen()
	h2Ln := listen()
	h2StdLn := listen()
	go serve(wsLn, handleWS)
	go serve(wssLn, handleWS)
	go serve(tcpLn, handleTCPEcho)
	go serveH2Frames(h2Ln)
	go serveH2(h2StdLn)
	addrs := map[string]string{"ws": wsLn.Addr().String(), "wss": wssLn.Addr().String(), "tcp": tcpLn.Addr().String(), "h2": h2Ln.Addr().String(), "h2std": h2StdLn.Addr().String()}
	if err := json.NewEncoder(os.Stdout).Encode(addrs); err != nil {
		log.Fatal(err)
	}
	// Exit when the parent closes our stdin (or dies).
	io.Copy(io.Discard, os.Stdin)
}

func listen() net.Listener {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	return ln
}

func serve(ln net.Listener, h func(net.Conn)) {
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Fatal(err)
		}
		go func() {
			defer c.Close()
			h(c)
		}()
	}
}

func tlsConfig() *tls.Config {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		log.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		log.Fatal(err)
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS13,
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
	}
}

func handleTCPEcho(c net.Conn) {
	buf := make([]byte, 64<<10)
	io.CopyBuffer(struct{ io.Writer }{c}, struct{ io.Reader }{c}, buf)
}

func handleWS(c net.Conn) {
	var uri string
	// permessage-deflate is accepted on request URIs with deflate=1, without
	// context takeover either way (what gorilla supports).
	ext := wsflate.Extension{Parameters: wsflate.Parameters{ServerNoContextTakeover: true, ClientNoContextTakeover: true}}
	u := ws.Upgrader{
		OnRequest: func(b []byte) error { uri = string(b); return nil },
		Negotiate: func(o httphead.Option) (httphead.Option, error) {
			if !strings.Contains(uri, "deflate=1") {
				return httphead.Option{}, nil
			}
			return ext.Negotiate(o)
		},
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := u.Upgrade(c); err != nil {
		return
	}
	c.SetDeadline(time.Time{})
	pu, err := url.Parse(uri)
	if err != nil {
		return
	}
	switch pu.Path {
	case "/sink":
		sink(c)
	case "/echo":
		echo(c)
	case "/flood":
		q := pu.Query()
		n, _ := strconv.Atoi(q.Get("n"))
		size, _ := strconv.Atoi(q.Get("size"))
		if q.Get("deflate") == "1" {
			floodDeflate(c, n, size)
		} else {
			flood(c, n, size, q.Get("text") == "1")
		}
		echo(c) // answers the client's close
	}
}

// frameHeader parses a frame header at b; n is 0 when b is too short.
func frameHeader(b []byte) (fin bool, op byte, masked bool, mask [4]byte, plen int, n int) {
	if len(b) < 2 {
		return
	}
	fin = b[0]&0x80 != 0
	op = b[0] & 0x0f
	masked = b[1]&0x80 != 0
	l := int(b[1] & 0x7f)
	hn := 2
	switch l {
	case 126:
		hn = 4
	case 127:
		hn = 10
	}
	if masked {
		hn += 4
	}
	if len(b) < hn {
		return
	}
	switch l {
	case 126:
		l = int(binary.BigEndian.Uint16(b[2:]))
	case 127:
		l = int(binary.BigEndian.Uint64(b[2:]))
	}
	if masked {
		copy(mask[:], b[hn-4:hn])
	}
	return fin, op, masked, mask, l, hn
}

// sink reads frames straight from a big buffer, skipping payloads without
// unmasking them (except control frames and text frames, which are tiny).
func sink(c net.Conn) {
	// Start small so that thousands of idle connections stay cheap; grow
	// to 256 KiB once a read fills the buffer.
	buf := make([]byte, 4<<10)
	var r, w int // unread data is buf[r:w]
	var skip int // payload bytes still to discard
	var out []byte
	for {
		if r == w {
			r, w = 0, 0
		}
		if w == len(buf) || (r > 0 && len(buf)-w < 16) {
			copy(buf, buf[r:w])
			w -= r
			r = 0
		}
		m, err := c.Read(buf[w:])
		if err != nil {
			return
		}
		w += m
		// Grow as soon as a read fills the buffer, before the bytes are
		// consumed: checked after the reset above, a sender of large
		// single frames (every payload byte skipped) would be read 4 KiB
		// per syscall forever, while fragmented senders got the 256 KiB
		// buffer: that made one-frame 1 MiB sends look 2x slower.
		if w == len(buf) && len(buf) < 256<<10 {
			nb := make([]byte, 256<<10)
			copy(nb, buf[r:w])
			buf, w, r = nb, w-r, 0
		}
		for {
			if skip > 0 {
				k := min(skip, w-r)
				skip -= k
				r += k
				if skip > 0 {
					break
				}
			}
			_, op, _, mask, plen, hn := frameHeader(buf[r:w])
			if hn == 0 {
				break
			}
			if op < 8 && op != 1 {
				r += hn
				skip = plen
				continue
			}
			// Text or control frame: needs the whole payload.
			if w-r < hn+plen {
				if hn+plen > len(buf) {
					return // text frames on /sink are short
				}
				break
			}
			p := buf[r+hn : r+hn+plen]
			ws.Cipher(p, mask, 0)
			r += hn + plen
			out = out[:0]
			switch op {
			case 1: // sync: answer with an empty text frame
				out = append(out, 0x81, 0)
			case 8:
				out = appendFrame(out, true, 8, p)
				c.Write(out)
				return
			case 9:
				out = appendFrame(out, true, 10, p)
			default:
				continue
			}
			if _, err := c.Write(out); err != nil {
				return
			}
		}
	}
}

func appendFrame(b []byte, fin bool, op byte, p []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	return append(appendHeader(b, b0, len(p)), p...)
}

// appendHeader appends an unmasked frame header: first byte b0, then the
// payload length n in its shortest form.
func appendHeader(b []byte, b0 byte, n int) []byte {
	switch {
	case n < 126:
		return append(b, b0, byte(n))
	case n < 1<<16:
		return append(b, b0, 126, byte(n>>8), byte(n))
	}
	return binary.BigEndian.AppendUint64(append(b, b0, 127), uint64(n))
}

// echo unmasks each frame and sends it back unmasked, frame by frame.
func echo(c net.Conn) {
	br := bufio.NewReaderSize(c, 64<<10)
	hdr := make([]byte, 14)
	var out []byte
	for {
		if _, err := io.ReadFull(br, hdr[:2]); err != nil {
			return
		}
		hn := 2
		switch hdr[1] & 0x7f {
		case 126:
			hn = 4
		case 127:
			hn = 10
		}
		if hdr[1]&0x80 != 0 {
			hn += 4
		}
		if _, err := io.ReadFull(br, hdr[2:hn]); err != nil {
			return
		}
		fin, op, _, mask, plen, _ := frameHeader(hdr[:hn])
		// Header first, then the payload is read straight after it.
		b0 := out0(fin, op) | hdr[0]&0x70 // RSV bits kept: a compressed frame is echoed compressed
		out = appendHeader(out[:0], b0, plen)
		hl := len(out)
		if cap(out) < hl+plen {
			nb := make([]byte, hl, hl+plen)
			copy(nb, out)
			out = nb
		}
		out = out[:hl+plen]
		if _, err := io.ReadFull(br, out[hl:]); err != nil {
			return
		}
		ws.Cipher(out[hl:], mask, 0)
		if _, err := c.Write(out); err != nil {
			return
		}
		if op == 8 {
			return
		}
	}
}

func out0(fin bool, op byte) byte {
	if op == 9 {
		op = 10 // answer pings with pongs
	}
	if fin {
		return 0x80 | op
	}
	return op
}

// flood writes n messages of size bytes.
func flood(c net.Conn, n, size int, text bool) {
	payload := make([]byte, size)
	FillText(payload)
	op := byte(2)
	if text {
		op = 1
	}
	writeRepeated(c, appendFrame(nil, true, op, payload), n)
}

// writeRepeated writes frame n times, many frames per write.
func writeRepeated(c net.Conn, frame []byte, n int) {
	per := max(1, (256<<10)/len(frame))
	buf := bytes.Repeat(frame, per)
	for n > 0 {
		k := min(n, per)
		if _, err := c.Write(buf[:k*len(frame)]); err != nil {
			if !errors.Is(err, net.ErrClosed) {
				log.Print(err)
			}
			return
		}
		n -= k
	}
}

// floodDeflate writes n compressed JSON-like text messages of size bytes
// (RFC 7692, no context takeover: every message is the same compressed
// payload, compressed once here).
func floodDeflate(c net.Conn, n, size int) {
	var z bytes.Buffer
	fw, _ := flate.NewWriter(&z, flate.DefaultCompression)
	fw.Write(jsonish.Make(size, 1))
	fw.Flush()
	p := bytes.TrimSuffix(z.Bytes(), []byte{0, 0, 0xff, 0xff})
	frame := appendFrame(nil, true, 1, p)
	frame[0] |= 0x40 // RSV1: compressed
	writeRepeated(c, frame, n)
}

// FillText fills p with valid UTF-8 text, mostly ASCII with a two-byte
// character every 16 bytes (the same function as bench's fillText).
func FillText(p []byte) {
	const s = "The quick brown fox jumps over the lazy dog, café; "
	for i := 0; i < len(p); {
		if i%16 == 15 && i+2 <= len(p) {
			p[i], p[i+1] = 0xc3, 0xa9 // é
			i += 2
			continue
		}
		p[i] = s[i%len(s)]
		if p[i] >= 0x80 {
			p[i] = 'x'
		}
		i++
	}
}
