package fuzz

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/wsclient/wsclient/codec"
	"github.com/wsclient/wsclient/internal/h2ws"
)

// FuzzHandshakeResponseH2 fuzzes the answer to a WebSocket opening
// handshake over HTTP/2 (RFC 8441), end to end through the client: an
// in-memory server (x/net's Framer) enables extended CONNECT, reads the
// request and answers with the fuzzed response header block (as "name:
// value" lines that are HPACK-encoded, or as raw HPACK bytes), then the
// fuzzed bytes as the rest of the connection, then closes it. No panic, no
// hang (the dial is bounded); success only with :status 200 and a
// subprotocol and extensions that were offered; failures are
// ErrBadHandshake (HandshakeError for a status other than 200) or errors of
// this library ("wsclient: ").
func FuzzHandshakeResponseH2(f *testing.F) {
	f.Add(false, []byte(":status: 200\n"), []byte{}, false)
	f.Add(false, []byte(":status: 200\nsec-websocket-protocol: chat\nsec-websocket-extensions: permessage-deflate; server_no_context_takeover\n"), []byte{}, false)
	f.Add(false, []byte(":status: 403\ncontent-length: 4\n"), []byte("\x00\x00\x04\x00\x01\x00\x00\x00\x01nope"), true)
	f.Add(false, []byte(":status: 200\nsec-websocket-protocol: other\n"), []byte{}, false)
	f.Add(false, []byte(":status: 100\n"), []byte{}, false)
	f.Add(false, []byte("sec-websocket-protocol: chat\n:status: 200\n"), []byte{}, true)
	f.Add(true, []byte{0x88}, []byte{}, false)                   // :status 200, indexed
	f.Add(true, []byte{0x8d}, []byte{}, false)                   // :status 404
	f.Add(true, []byte{0x3f, 0xe1, 0x1f, 0x88}, []byte{}, false) // table size update, then 200
	f.Fuzz(func(t *testing.T, raw bool, block, rest []byte, endStream bool) {
		if !raw {
			var b bytes.Buffer
			enc := hpack.NewEncoder(&b)
			for line := range strings.Lines(string(block)) {
				name, value, _ := strings.Cut(strings.TrimSuffix(line, "\n"), ": ")
				enc.WriteField(hpack.HeaderField{Name: name, Value: value})
			}
			block = b.Bytes()
		}
		cc, sc := net.Pipe()
		served := make(chan struct{})
		go func() {
			defer close(served)
			defer sc.Close()
			serveOnce(sc, block, rest, endStream)
		}()
		p := h2ws.NewPool()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		res, err := p.Dial(ctx, &h2ws.Request{
			Key:        h2ws.Key{Network: "pipe", Addr: "fuzz.invalid:443"},
			Only:       true,
			Connect:    func(context.Context) (net.Conn, error) { return cc, nil },
			Authority:  "fuzz.invalid",
			Protocols:  []string{"chat"},
			Extensions: []string{"permessage-deflate"},
		})
		if err == nil {
			resp := res.Response
			if resp.StatusCode != 200 || resp.Subprotocol != "" && resp.Subprotocol != "chat" ||
				len(resp.Extensions) > 1 || len(resp.Extensions) == 1 && !strings.HasPrefix(resp.Extensions[0], "permessage-deflate") {
				t.Fatalf("accepted %+v", resp)
			}
			res.Conn.Close()
			<-res.Conn.Done()
		} else {
			var he *codec.HandshakeError
			if errors.As(err, &he) && he.StatusCode == 200 {
				t.Fatalf("HandshakeError for 200: %v", err)
			}
			if !errors.Is(err, codec.ErrBadHandshake) && !strings.HasPrefix(err.Error(), "wsclient: ") {
				t.Fatalf("Dial: untyped error %v", err)
			}
		}
		cc.Close()
		<-served
		p.CloseIdleConnections()
	})
}

// serveOnce is the in-memory server: SETTINGS with extended CONNECT, then,
// once the client's HEADERS came, the fuzzed HEADERS frame and bytes. The
// client's frames are read all along (a net.Pipe write blocks until read).
func serveOnce(nc net.Conn, block, rest []byte, endStream bool) {
	headers := make(chan struct{})
	go func() {
		defer close(headers)
		preface := make([]byte, len(http2.ClientPreface))
		if _, err := io.ReadFull(nc, preface); err != nil {
			return
		}
		fr := http2.NewFramer(nil, nc)
		for {
			f, err := fr.ReadFrame()
			if err != nil {
				return
			}
			if f.Header().Type == http2.FrameHeaders {
				break
			}
		}
		headers <- struct{}{}
		io.Copy(io.Discard, nc)
	}()
	fw := http2.NewFramer(nc, nil)
	if fw.WriteSettings(http2.Setting{ID: http2.SettingEnableConnectProtocol, Val: 1}) != nil {
		return
	}
	if _, ok := <-headers; !ok {
		return
	}
	fw.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block, EndHeaders: true, EndStream: endStream})
	nc.Write(rest)
}
