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
	"github.com/wsclient/wsclient/internal/testutil"
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
// decompressed size a bomb would reach. The same input is also read frame
// by frame (RecvFrame, which inflates at each message's last frame): it must
// give the same messages and the same kind of error as Recv.
func FuzzDialDeflate(f *testing.F) {
	const limit = 64 << 10
	for _, n := range seedLengths {
		f.Add(byte(n), testutil.Frame(true, 4, ws.OpText, compressMsg(bytes.Repeat([]byte("é"), n/2))), []byte{})
	}
	bomb := compressMsg(make([]byte, 1<<20)) // 1 MiB of zeros in ~1 KiB
	f.Add(byte(0), testutil.Frame(true, 4, ws.OpBinary, bomb), []byte{})
	f.Add(byte(1), cat(testutil.Frame(false, 4, ws.OpText, compressMsg([]byte("frag"))[:3]),
		testutil.Frame(true, 0, ws.OpContinuation, compressMsg([]byte("frag"))[3:])), []byte{2})
	f.Add(byte(2), cat(testutil.Frame(true, 4, ws.OpText, compressMsg([]byte("a"))), testutil.Frame(true, 0, ws.OpText, []byte("plain")),
		testutil.Frame(true, 4, ws.OpText, compressMsg([]byte("a")))), []byte{})
	f.Add(byte(3), testutil.Frame(true, 4, ws.OpText, []byte{0xff, 0xff, 0xff}), []byte{})
	f.Add(byte(4), testutil.Frame(true, 4, ws.OpPing, nil), []byte{})
	f.Add(byte(0), cat(testutil.Frame(false, 4, ws.OpText, compressMsg([]byte("a\xff"))[:2]),
		testutil.Frame(true, 0, ws.OpContinuation, compressMsg([]byte("a\xff"))[2:])), []byte{1})
	f.Fuzz(func(t *testing.T, params byte, data, chunks []byte) {
		resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
			testutil.AcceptKey(testKey) + "\r\nSec-WebSocket-Extensions: " + deflateParams[int(params)%len(deflateParams)] + "\r\n\r\n"
		in := cat([]byte(resp), data)
		dial := func() (*wsclient.Conn, error) {
			return wsclient.Dial(context.Background(), "ws://fuzz.invalid/", &wsclient.DialOptions{
				NetConn:        &memConn{in: in, chunks: chunks},
				Header:         http.Header{"Sec-Websocket-Key": {testKey}},
				RedirectLimit:  -1,
				MaxMessageSize: limit,
				Compression:    &wsclient.CompressionOptions{},
			})
		}
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		c, err := dial()
		if err != nil {
			if !errors.Is(err, wsclient.ErrBadHandshake) {
				t.Fatalf("Dial: %v", err)
			}
			return
		}
		var msgs []deflateMsg
		var end error
		for i := 0; ; i++ {
			if i > len(in) {
				t.Fatal("Recv returned more messages than the input holds")
			}
			op, p, err := c.Recv()
			if err == nil {
				if op != wsclient.OpText && op != wsclient.OpBinary || len(p) > limit {
					t.Fatalf("Recv = %v, %d bytes", op, len(p))
				}
				msgs = append(msgs, deflateMsg{op, bytes.Clone(p)})
				continue
			}
			end = err
			break
		}
		kind := errKind(t, end)
		c.Close(wsclient.StatusNormal, "")
		runtime.ReadMemStats(&ms1)
		if alloc, bound := ms1.TotalAlloc-ms0.TotalAlloc, 8*uint64(len(in))+16*limit+(2<<20); alloc > bound {
			t.Fatalf("allocated %d bytes for %d input bytes", alloc, len(in))
		}

		// Frame by frame.
		c, err = dial()
		if err != nil {
			t.Fatalf("second Dial: %v", err)
		}
		defer c.Abort()
		var n int
		var plain []byte // uncompressed message being assembled
		var op wsclient.Opcode
		for i := 0; ; i++ {
			if i > len(in) {
				t.Fatal("RecvFrame returned more frames than the input holds")
			}
			f, err := c.RecvFrame()
			if err != nil {
				if k := errKind(t, err); k != kind {
					t.Fatalf("RecvFrame ended with %v (%s), Recv with %v (%s)", err, k, end, kind)
				}
				break
			}
			if isControl(f.Opcode) {
				continue
			}
			if f.Opcode != wsclient.OpContinuation {
				op, plain = f.Opcode, plain[:0]
			}
			plain = append(plain, f.Payload...)
			if !f.Fin {
				continue
			}
			p := plain
			if f.Inflated != nil {
				p = f.Inflated
			}
			if n >= len(msgs) || msgs[n].op != op || !bytes.Equal(msgs[n].p, p) {
				t.Fatalf("RecvFrame message %d (%v, %d bytes) differs from Recv's (%d messages)", n, op, len(p), len(msgs))
			}
			n++
		}
		if n != len(msgs) {
			t.Fatalf("RecvFrame gave %d messages, Recv %d", n, len(msgs))
		}
	})
}

type deflateMsg struct {
	op wsclient.Opcode
	p  []byte
}

// errKind classifies how a receive ended; it fails on an undocumented error.
func errKind(t *testing.T, err error) string {
	var ce *wsclient.CloseError
	switch {
	case errors.Is(err, wsclient.ErrMessageTooBig):
		return "too big"
	case errors.Is(err, wsclient.ErrInvalidUTF8):
		return "utf8"
	case errors.Is(err, wsclient.ErrProtocol), strings.Contains(err.Error(), "flate"):
		return "protocol"
	case errors.As(err, &ce):
		return "close"
	}
	t.Fatalf("unexpected error %v", err)
	return ""
}
