package fuzz

import (
	"bytes"
	"compress/flate"
	"context"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"testing"

	"github.com/gobwas/ws"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/codec"
)

// deflateParams are the extension responses FuzzDialDeflate picks from.
var deflateParams = []string{
	"permessage-deflate",
	"permessage-deflate; server_no_context_takeover",
	"permessage-deflate; client_no_context_takeover",
	"permessage-deflate; server_max_window_bits=9",
	"permessage-deflate; server_max_window_bits=15; client_max_window_bits=8",
}

// compressMsg is a permessage-deflate payload (RFC 7692 §7.2.1): raw
// DEFLATE with the final empty stored block's 00 00 ff ff removed.
func compressMsg(p []byte) []byte {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, 5)
	w.Write(p)
	w.Flush()
	return bytes.TrimSuffix(b.Bytes(), []byte{0, 0, 0xff, 0xff})
}

// FuzzDialDeflate is FuzzDial with permessage-deflate negotiated: the
// fuzzed frames go through the inflate path. No panic; only the documented
// errors; no message over MaxMessageSize however well it compresses;
// allocation bounded by the input and the limit, never by the
// decompressed size a bomb would reach.
func FuzzDialDeflate(f *testing.F) {
	const limit = 64 << 10
	for _, n := range seedLengths {
		f.Add(byte(n), frame(true, 4, ws.OpText, compressMsg(bytes.Repeat([]byte("é"), n/2))), []byte{})
	}
	bomb := compressMsg(make([]byte, 1<<20)) // 1 MiB of zeros in ~1 KiB
	f.Add(byte(0), frame(true, 4, ws.OpBinary, bomb), []byte{})
	f.Add(byte(1), cat(frame(false, 4, ws.OpText, compressMsg([]byte("frag"))[:3]),
		frame(true, 0, ws.OpContinuation, compressMsg([]byte("frag"))[3:])), []byte{2})
	f.Add(byte(2), cat(frame(true, 4, ws.OpText, compressMsg([]byte("a"))), frame(true, 0, ws.OpText, []byte("plain")),
		frame(true, 4, ws.OpText, compressMsg([]byte("a")))), []byte{})
	f.Add(byte(3), frame(true, 4, ws.OpText, []byte{0xff, 0xff, 0xff}), []byte{})
	f.Add(byte(4), frame(true, 4, ws.OpPing, nil), []byte{})
	f.Fuzz(func(t *testing.T, params byte, data, chunks []byte) {
		resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
			codec.AcceptKey(testKey) + "\r\nSec-WebSocket-Extensions: " + deflateParams[int(params)%len(deflateParams)] + "\r\n\r\n"
		in := cat([]byte(resp), data)
		nc := &memConn{in: in, chunks: chunks}
		opts := &wsclient.DialOptions{
			NetConn:        nc,
			Header:         http.Header{"Sec-Websocket-Key": {testKey}},
			RedirectLimit:  -1,
			MaxMessageSize: limit,
			Compression:    &wsclient.CompressionOptions{},
		}
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		c, err := wsclient.Dial(context.Background(), "ws://fuzz.invalid/", opts)
		if err != nil {
			if !errors.Is(err, wsclient.ErrBadHandshake) {
				t.Fatalf("Dial: %v", err)
			}
			return
		}
		for i := 0; ; i++ {
			if i > len(in) {
				t.Fatal("Recv returned more messages than the input holds")
			}
			op, p, err := c.Recv()
			if err == nil {
				if op != wsclient.OpText && op != wsclient.OpBinary || len(p) > limit {
					t.Fatalf("Recv = %v, %d bytes", op, len(p))
				}
				continue
			}
			var ce *wsclient.CloseError
			if !errors.As(err, &ce) && !errors.Is(err, wsclient.ErrProtocol) &&
				!errors.Is(err, wsclient.ErrInvalidUTF8) && !errors.Is(err, wsclient.ErrMessageTooBig) &&
				!strings.Contains(err.Error(), "flate") {
				t.Fatalf("Recv: unexpected error %v", err)
			}
			break
		}
		c.Close(wsclient.StatusNormal, "")
		runtime.ReadMemStats(&ms1)
		if alloc, bound := ms1.TotalAlloc-ms0.TotalAlloc, 8*uint64(len(in))+16*limit+(2<<20); alloc > bound {
			t.Fatalf("allocated %d bytes for %d input bytes", alloc, len(in))
		}
	})
}
