package fuzz

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"runtime"
	"testing"

	"github.com/gobwas/ws"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/internal/testutil"
)

// FuzzDial runs the public API end to end over an in-memory connection:
// wsclient.Dial reads a server response (a valid 101 followed by the
// fuzzed bytes, or the fuzzed bytes alone), hands the bytes that came with
// it to the frame engine, and Recv reads until an error. No panic; Dial
// fails with ErrBadHandshake, a HandshakeError or a read error; Recv ends
// with a *CloseError or ErrProtocol, ErrInvalidUTF8 or ErrMessageTooBig;
// bounded allocation; nothing is dialled for real (redirects are off).
func FuzzDial(f *testing.F) {
	for _, n := range seedLengths {
		f.Add(true, testutil.Frame(true, 0, ws.OpText, bytes.Repeat([]byte("a"), n)), []byte{})
	}
	f.Add(true, cat(testutil.Frame(false, 0, ws.OpText, []byte("é")[:1]), testutil.Frame(true, 0, ws.OpContinuation, []byte("é")[1:]),
		testutil.Frame(true, 0, ws.OpClose, testutil.ClosePayload(1000, "bye"))), []byte{1})
	f.Add(true, []byte{0x82, 127, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, []byte{})
	f.Add(false, []byte("HTTP/1.1 302 Found\r\nLocation: ws://example.com/\r\n\r\n"), []byte{})
	f.Add(false, []byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 5\r\n\r\nnope!"), []byte{7})
	f.Add(false, []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "+
		testutil.AcceptKey(testKey)+"\r\nSec-WebSocket-Protocol: chat\r\n\r\n\x81\x02hi"), []byte{})
	f.Fuzz(func(t *testing.T, valid101 bool, data, chunks []byte) {
		in := data
		if valid101 {
			in = cat([]byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "+
				testutil.AcceptKey(testKey)+"\r\n\r\n"), data)
		}
		nc := &memConn{in: in, chunks: chunks}
		opts := &wsclient.DialOptions{
			NetConn:        nc,
			Header:         http.Header{"Sec-Websocket-Key": {testKey}},
			Subprotocols:   []string{"chat"},
			RedirectLimit:  -1,
			MaxMessageSize: 1 << 20,
			NetDial: func(context.Context, string, string) (net.Conn, error) {
				return nil, errors.New("no network in fuzzing")
			},
		}
		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		c, err := wsclient.Dial(context.Background(), "ws://fuzz.invalid/", opts)
		if err != nil {
			var he *wsclient.HandshakeError
			if c != nil || !errors.Is(err, wsclient.ErrBadHandshake) && !errors.As(err, &he) && !errors.Is(err, net.ErrClosed) && !isEOF(err) {
				t.Fatalf("Dial: %v, %v", c, err)
			}
			return
		}
		for i := 0; ; i++ {
			if i > len(in) {
				t.Fatal("Recv returned more messages than the input holds")
			}
			op, p, err := c.Recv()
			if err == nil {
				if op != wsclient.OpText && op != wsclient.OpBinary || len(p) > 1<<20 {
					t.Fatalf("Recv = %v, %d bytes", op, len(p))
				}
				continue
			}
			var ce *wsclient.CloseError
			if !errors.As(err, &ce) && !errors.Is(err, wsclient.ErrProtocol) &&
				!errors.Is(err, wsclient.ErrInvalidUTF8) && !errors.Is(err, wsclient.ErrMessageTooBig) {
				t.Fatalf("Recv: unexpected error %v", err)
			}
			break
		}
		c.Close(wsclient.StatusNormal, "")
		runtime.ReadMemStats(&ms1)
		if alloc, bound := ms1.TotalAlloc-ms0.TotalAlloc, 8*uint64(len(in))+(1<<20); alloc > bound {
			t.Fatalf("allocated %d bytes for %d input bytes", alloc, len(in))
		}
	})
}

func isEOF(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF)
}
