package wsclient

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"github.com/klauspost/compress/flate"

	"github.com/wsclient/wsclient/internal/testserver"
	"github.com/wsclient/wsclient/internal/testutil"
)

// jsonish returns compressible JSON-like text of n bytes.
func jsonish(n int, seed uint64) string {
	r := rand.New(rand.NewPCG(seed, 1))
	var b strings.Builder
	for b.Len() < n {
		fmt.Fprintf(&b, `{"id":%d,"name":"user-%d","tags":["a","b"],"score":%d.%d,"ok":true},`, r.IntN(1e6), r.IntN(500), r.IntN(100), r.IntN(10))
	}
	return b.String()[:n]
}

func TestCompressionPython(t *testing.T) {
	type cfg struct {
		name   string
		server map[string]any
		client CompressionOptions
	}
	cases := []cfg{
		{"takeover", map[string]any{}, CompressionOptions{Threshold: -1}},
		{"server_no_takeover", map[string]any{"server_no_context_takeover": true}, CompressionOptions{}},
		{"client_no_takeover_requested", map[string]any{}, CompressionOptions{ClientNoContextTakeover: true, ServerNoContextTakeover: true}},
		{"server_asks_client_no_takeover", map[string]any{"client_no_context_takeover": true}, CompressionOptions{}},
	}
	for bits := 9; bits <= 15; bits++ {
		cases = append(cases, cfg{fmt.Sprintf("window_%d", bits),
			map[string]any{"server_max_window_bits": bits, "client_max_window_bits": bits},
			CompressionOptions{Level: 6}})
	}
	cases = append(cases, cfg{"client_bits_offered_9", map[string]any{}, CompressionOptions{ClientMaxWindowBits: 9, ServerMaxWindowBits: 10}})
	sizes := []int{0, 1, 127, 128, 200, 64 << 10, 1 << 20, 4 << 20}
	if testing.Short() {
		sizes = sizes[:6]
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			py := testserver.StartPython(t, testserver.PyOptions{Deflate: tc.server})
			client := tc.client
			c := dialPy(t, "ws://"+py.Addr+"/echo", &DialOptions{Compression: &client})
			if client != tc.client {
				t.Fatalf("Dial changed the offer to %+v, was %+v", client, tc.client)
			}
			if len(c.Extensions()) != 1 || !strings.HasPrefix(c.Extensions()[0], "permessage-deflate") {
				t.Fatalf("not negotiated: %q", c.Extensions())
			}
			for round := range 2 { // twice: context takeover across messages
				for _, n := range sizes {
					txt := jsonish(n, uint64(n+round))
					if err := c.SendText(txt); err != nil {
						t.Fatal(err)
					}
					op, got, err := c.Recv()
					if err != nil || op != OpText || string(got) != txt {
						t.Fatalf("text %d: op %v, %d bytes, %v", n, op, len(got), err)
					}
					bin := make([]byte, n/4)
					for i := range bin {
						bin[i] = byte(rand.Uint32())
					}
					if err := c.SendBinary(bin); err != nil {
						t.Fatal(err)
					}
					if op, got, err := c.Recv(); err != nil || op != OpBinary || !bytes.Equal(got, bin) {
						t.Fatalf("binary %d: op %v, %d bytes, %v", len(bin), op, len(got), err)
					}
				}
			}
			if err := c.Close(StatusNormal, ""); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// deflateServer completes a handshake answering ext in
// Sec-WebSocket-Extensions, then runs script on the raw connection.
func deflateServer(t *testing.T, ext string, script func(nc net.Conn, br *bufio.Reader)) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		br := bufio.NewReader(nc)
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
			testutil.AcceptKey(req.Header.Get("Sec-WebSocket-Key")) + "\r\n"
		if ext != "" {
			resp += "Sec-WebSocket-Extensions: " + ext + "\r\n"
		}
		nc.Write([]byte(resp + "\r\n"))
		if script != nil {
			script(nc, br)
		}
	}()
	return "ws://" + ln.Addr().String() + "/"
}

func deflateBytes(p []byte) []byte {
	var b bytes.Buffer
	fw, _ := flate.NewWriter(&b, flate.BestCompression)
	fw.Write(p)
	fw.Flush()
	out := b.Bytes()
	return out[:len(out)-4] // strip 00 00 ff ff
}

// readClose reads client frames until a close frame and returns its code.
func readClose(br *bufio.Reader) uint16 {
	for {
		h, err := ws.ReadHeader(br)
		if err != nil {
			return 0
		}
		p := make([]byte, h.Length)
		if _, err := io.ReadFull(br, p); err != nil {
			return 0
		}
		ws.Cipher(p, h.Mask, 0)
		if h.OpCode == ws.OpClose {
			if len(p) < 2 {
				return 1005
			}
			return binary.BigEndian.Uint16(p)
		}
	}
}

// answerClose waits for the client's close frame and answers it with 1000.
func answerClose(nc net.Conn, br *bufio.Reader) {
	readClose(br)
	nc.Write(testutil.Frame(true, 0, ws.OpClose, []byte{0x03, 0xe8}))
}

// dialDeflate dials url offering permessage-deflate with the defaults; the
// connection is aborted when the test ends.
func dialDeflate(t *testing.T, url string) *Conn {
	t.Helper()
	c, err := Dial(context.Background(), url, &DialOptions{Compression: &CompressionOptions{}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Abort() })
	return c
}

func TestCompressionHostile(t *testing.T) {
	bomb := deflateBytes(make([]byte, 10<<20)) // 10 MiB of zeros → ~10 KiB
	cases := []struct {
		name   string
		frames [][]byte
		code   uint16
		err    error
	}{
		{"zip bomb over the limit", [][]byte{testutil.Frame(true, 4, ws.OpBinary, bomb)}, 1009, ErrMessageTooBig},
		{"rsv1 on a control frame", [][]byte{testutil.Frame(true, 4, ws.OpPing, nil)}, 1002, ErrProtocol},
		{"rsv1 on a continuation", [][]byte{testutil.Frame(false, 4, ws.OpText, deflateBytes([]byte("ab"))), testutil.Frame(true, 4, ws.OpContinuation, nil)}, 1002, ErrProtocol},
		{"corrupt deflate data", [][]byte{testutil.Frame(true, 4, ws.OpBinary, []byte{0xff, 0xff, 0xff, 0x00, 0x12})}, 1002, ErrProtocol},
		{"invalid utf8 after inflating", [][]byte{testutil.Frame(true, 4, ws.OpText, deflateBytes([]byte{'a', 0xff}))}, 1007, ErrInvalidUTF8},
	}
	// Each case through Recv (whole messages) and RecvFrame (frame by frame,
	// which inflates at the message's end).
	recvs := map[string]func(c *Conn) error{
		"Recv": func(c *Conn) error { _, _, err := c.Recv(); return err },
		"RecvFrame": func(c *Conn) error {
			for {
				if _, err := c.RecvFrame(); err != nil {
					return err
				}
			}
		},
	}
	for _, tc := range cases {
		for via, recv := range recvs {
			t.Run(tc.name+"/"+via, func(t *testing.T) {
				codes := make(chan uint16, 1)
				url := deflateServer(t, "permessage-deflate", func(nc net.Conn, br *bufio.Reader) {
					for _, f := range tc.frames {
						nc.Write(f)
					}
					codes <- readClose(br)
				})
				c, err := Dial(context.Background(), url, &DialOptions{Compression: &CompressionOptions{}, MaxMessageSize: 1 << 20})
				if err != nil {
					t.Fatal(err)
				}
				defer c.Abort()
				var before runtime.MemStats
				runtime.ReadMemStats(&before)
				err = recv(c)
				var after runtime.MemStats
				runtime.ReadMemStats(&after)
				if !errors.Is(err, tc.err) {
					t.Fatalf("Recv: %v, want %v", err, tc.err)
				}
				if grew := after.TotalAlloc - before.TotalAlloc; grew > 8<<20 {
					t.Errorf("allocated %d bytes for a 1 MiB limit", grew)
				}
				select {
				case code := <-codes:
					if code != tc.code {
						t.Fatalf("client sent close %d, want %d", code, tc.code)
					}
				case <-time.After(5 * time.Second):
					t.Fatal("no close frame from the client")
				}
			})
		}
	}
}

// fragmentedDeflate returns a compressed text message split across three
// frames, RSV1 on the first only.
func fragmentedDeflate(text string) [][]byte {
	z := deflateBytes([]byte(text))
	a, b := len(z)/3, 2*len(z)/3
	return [][]byte{
		testutil.Frame(false, 4, ws.OpText, z[:a]),
		testutil.Frame(false, 0, ws.OpContinuation, z[a:b]),
		testutil.Frame(true, 0, ws.OpContinuation, z[b:]),
	}
}

func TestCompressionRecvFrame(t *testing.T) {
	text := jsonish(3000, 7)
	frames := fragmentedDeflate(text)
	url := deflateServer(t, "permessage-deflate", func(nc net.Conn, br *bufio.Reader) {
		for _, f := range frames {
			nc.Write(f)
		}
		nc.Write(testutil.Frame(true, 0, ws.OpText, []byte("plain")))
		answerClose(nc, br)
	})
	c := dialDeflate(t, url)
	var wire []byte
	for i := range 3 {
		f, err := c.RecvFrame()
		if err != nil {
			t.Fatal(err)
		}
		wantOp := OpContinuation
		if i == 0 {
			wantOp = OpText
		}
		if f.Opcode != wantOp || !f.Compressed || f.Fin != (i == 2) {
			t.Fatalf("frame %d: op %v compressed %v fin %v", i, f.Opcode, f.Compressed, f.Fin)
		}
		wire = append(wire, f.Payload...)
		if i < 2 && f.Inflated != nil {
			t.Fatalf("frame %d: Inflated set before the message ended", i)
		}
		if i == 2 && string(f.Inflated) != text {
			t.Fatalf("Inflated: %d bytes, want the %d-byte message", len(f.Inflated), len(text))
		}
	}
	if !bytes.Equal(wire, deflateBytes([]byte(text))) {
		t.Fatal("frame payloads are not the compressed bytes from the wire")
	}
	f, err := c.RecvFrame()
	if err != nil || string(f.Payload) != "plain" || f.Inflated != nil {
		t.Fatalf("uncompressed frame after: %q %q %v", f.Payload, f.Inflated, err)
	}
	if err := c.Close(StatusNormal, ""); err != nil {
		t.Fatal(err)
	}
}

// TestCompressionAppFrames checks that with OnData set OnMessage still gets
// the inflated message, and OnData gets it once (websocket-client's on_data
// without on_cont_message runs once per whole message).
func TestCompressionAppFrames(t *testing.T) {
	text := jsonish(3000, 8)
	frames := fragmentedDeflate(text)
	url := deflateServer(t, "permessage-deflate", func(nc net.Conn, br *bufio.Reader) {
		for _, f := range frames {
			nc.Write(f)
		}
		answerClose(nc, br)
	})
	var nData int
	var got string
	a := &App{
		URL:     url,
		Options: DialOptions{Compression: &CompressionOptions{}},
		OnData:  func(a *App, op Opcode, p []byte, fin bool) { nData++ },
		OnMessage: func(a *App, op Opcode, p []byte) {
			got = string(p)
			a.Close(StatusNormal, "")
		},
	}
	if err := a.RunForever(context.Background(), RunOptions{}); err != nil {
		t.Fatal(err)
	}
	if nData != 1 || got != text {
		t.Fatalf("OnData called %d times (want 1); OnMessage got %d bytes, want %d", nData, len(got), len(text))
	}
}

func TestCompressionNegotiation(t *testing.T) {
	bad := []struct {
		ext  string
		opts CompressionOptions
	}{
		{"permessage-deflate; unknown_param", CompressionOptions{}},
		{"permessage-deflate; server_max_window_bits=7", CompressionOptions{}},
		{"permessage-deflate; server_max_window_bits=12", CompressionOptions{ServerMaxWindowBits: 10}},
		{"permessage-deflate; client_max_window_bits=12", CompressionOptions{ClientMaxWindowBits: 10}},
		{"permessage-deflate; client_max_window_bits", CompressionOptions{}},
		{"permessage-deflate", CompressionOptions{ServerNoContextTakeover: true}},
		{"permessage-deflate, permessage-deflate", CompressionOptions{}},
		{"x-webkit-deflate-frame", CompressionOptions{}},
	}
	for _, b := range bad {
		url := deflateServer(t, b.ext, nil)
		opts := b.opts
		_, err := Dial(context.Background(), url, &DialOptions{Compression: &opts, Timeout: 5 * time.Second})
		if !errors.Is(err, ErrBadHandshake) {
			t.Errorf("%q with %+v: got %v, want ErrBadHandshake", b.ext, b.opts, err)
		}
	}
	// Not offered at all: any extension in the response is an error.
	url := deflateServer(t, "permessage-deflate", nil)
	if _, err := Dial(context.Background(), url, nil); !errors.Is(err, ErrBadHandshake) {
		t.Errorf("unoffered extension accepted: %v", err)
	}
	// Offered, declined: plain connection.
	url = deflateServer(t, "", func(nc net.Conn, br *bufio.Reader) {
		nc.Write(testutil.Frame(true, 0, ws.OpText, []byte("plain")))
		answerClose(nc, br)
	})
	c := dialDeflate(t, url)
	if _, p, err := c.Recv(); err != nil || string(p) != "plain" {
		t.Fatalf("%q %v", p, err)
	}
}

func TestCompressionOnTheWire(t *testing.T) {
	msg := jsonish(10_000, 5)
	type result struct {
		rsv    byte
		n      int
		inflat string
		err    error
	}
	res := make(chan result, 2)
	url := deflateServer(t, "permessage-deflate; client_no_context_takeover", func(nc net.Conn, br *bufio.Reader) {
		for range 2 {
			h, err := ws.ReadHeader(br)
			if err != nil {
				res <- result{err: err}
				return
			}
			p := make([]byte, h.Length)
			io.ReadFull(br, p)
			ws.Cipher(p, h.Mask, 0)
			out, err := io.ReadAll(flate.NewReader(io.MultiReader(bytes.NewReader(p), bytes.NewReader([]byte{0, 0, 0xff, 0xff, 1, 0, 0, 0xff, 0xff}))))
			if h.Rsv == 0 {
				out, err = p, nil
			}
			res <- result{h.Rsv, len(p), string(out), err}
		}
	})
	c := dialDeflate(t, url)
	c.SendText(msg)
	c.SendText("tiny") // under the threshold: sent plain
	r := <-res
	if r.err != nil || r.rsv != 4 || r.n >= len(msg)/2 || r.inflat != msg {
		t.Fatalf("compressed frame: rsv %d, %d bytes for %d, round trip ok=%v, %v", r.rsv, r.n, len(msg), r.inflat == msg, r.err)
	}
	if r := <-res; r.rsv != 0 || r.inflat != "tiny" {
		t.Fatalf("small message: rsv %d %q", r.rsv, r.inflat)
	}
}
