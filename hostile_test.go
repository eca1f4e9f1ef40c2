package wsclient

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsclient/wsclient/codec"
	"github.com/wsclient/wsclient/internal/testutil"
	"github.com/wsclient/wsclient/mask"
)

// The hostile-server suite: a Go server on loopback that completes a real
// opening handshake and then speaks raw bytes, against Dial and Conn end to
// end. Each case checks the error the user gets and the close frame the
// client sends back (read and unmasked by the server).

// rawPeer is the server side of one connection.
type rawPeer struct {
	nc  net.Conn
	br  *bufio.Reader
	key string // the client's Sec-WebSocket-Key
}

// hostileServer accepts one connection, reads the handshake request and
// runs serve on it. The returned channel is closed when serve returned.
func hostileServer(t *testing.T, serve func(p *rawPeer)) (string, <-chan struct{}) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		nc, err := ln.Accept()
		ln.Close()
		if err != nil {
			return
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(20 * time.Second))
		br := bufio.NewReader(nc)
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		serve(&rawPeer{nc: nc, br: br, key: req.Header.Get("Sec-WebSocket-Key")})
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	return "ws://" + ln.Addr().String() + "/", done
}

func (p *rawPeer) response() []byte {
	return []byte("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
		testutil.AcceptKey(p.key) + "\r\n\r\n")
}

// accept completes the handshake and writes b right behind it, in the same
// write (so frames arrive together with the response, as servers do).
func (p *rawPeer) accept(b ...[]byte) {
	p.nc.Write(append(p.response(), bytes.Join(b, nil)...))
}

// readFrame reads one client frame and unmasks it. A client frame must be
// masked (RFC 6455 §5.3).
func (p *rawPeer) readFrame() (ws.Header, []byte, error) {
	b, err := p.br.Peek(2)
	if err != nil {
		return ws.Header{}, nil, err
	}
	b, err = p.br.Peek(codec.HeaderSize(b[0], b[1]))
	if err != nil {
		return ws.Header{}, nil, err
	}
	var h ws.Header
	n, err := codec.ParseHeader(b, &h)
	if err != nil {
		return h, nil, err
	}
	p.br.Discard(n)
	if !h.Masked {
		return h, nil, errors.New("client frame not masked")
	}
	payload := make([]byte, h.Length)
	if _, err := io.ReadFull(p.br, payload); err != nil {
		return h, nil, err
	}
	mask.Apply(payload, h.Mask, 0)
	return h, payload, nil
}

// clientClose is what the client sent after the server's bytes.
type clientClose struct {
	code   int // close code; noClose: none, emptyClose: a close frame without a code
	reason string
	pongs  []string
	eof    bool // the client closed TCP afterwards
	err    error
}

const (
	noClose    = -1
	emptyClose = 1005
)

// readClose reads client frames until a close frame or the end of the
// stream, then checks that the client closes the TCP connection.
func (p *rawPeer) readClose() clientClose {
	cc := clientClose{code: noClose}
	p.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		h, payload, err := p.readFrame()
		if errors.Is(err, io.EOF) {
			cc.eof = true
			return cc
		}
		if err != nil {
			cc.err = err
			return cc
		}
		switch h.OpCode {
		case ws.OpPong:
			cc.pongs = append(cc.pongs, string(payload))
			continue
		case ws.OpClose:
		default:
			continue // data the test sent
		}
		cc.code = emptyClose
		if len(payload) >= 2 {
			cc.code = int(binary.BigEndian.Uint16(payload))
			cc.reason = string(payload[2:])
		}
		_, err = p.br.ReadByte()
		cc.eof = errors.Is(err, io.EOF)
		if !cc.eof {
			cc.err = fmt.Errorf("after the close frame: %v", err)
		}
		return cc
	}
}

func dialHostile(t *testing.T, url string, opts *DialOptions) *Conn {
	t.Helper()
	c, err := Dial(context.Background(), url, opts)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Abort() })
	return c
}

func waitDone(t *testing.T, done <-chan struct{}) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("hostile server did not finish")
	}
}

type hostileCase struct {
	name   string
	max    int64    // MaxMessageSize
	send   [][]byte // server bytes after the handshake
	err    error    // errors.Is(err, ...) for the user's error
	detail error    // and this too, when set (the precise cause)
	code   int      // close code the client must send
}

func hostileCases() []hostileCase {
	long := bytes.Repeat([]byte{'a'}, 126)
	proto := func(name string, detail error, send ...[]byte) hostileCase {
		return hostileCase{name: name, send: send, err: ErrProtocol, detail: detail, code: 1002}
	}
	cs := []hostileCase{
		{name: "length 2^63-1", send: [][]byte{{0x82, 127, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}, err: ErrMessageTooBig, code: 1009},
		proto("length 2^63 (MSB set)", ws.ErrHeaderLengthMSB, []byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0}),
		{name: "length over MaxMessageSize", max: 1000, send: [][]byte{testutil.Frame(true, 0, ws.OpBinary, make([]byte, 1001))}, err: ErrMessageTooBig, code: 1009},
		{name: "fragments over MaxMessageSize", max: 1000, send: [][]byte{testutil.Frame(false, 0, ws.OpText, make([]byte, 600)),
			testutil.Frame(true, 0, ws.OpContinuation, make([]byte, 401))}, err: ErrMessageTooBig, code: 1009},
		{name: "16-bit length over MaxMessageSize, body never sent", max: 100, send: [][]byte{{0x81, 126, 0xff, 0xff}}, err: ErrMessageTooBig, code: 1009},
		proto("fragmented ping", ws.ErrProtocolControlNotFinal, testutil.Frame(false, 0, ws.OpPing, []byte("p"))),
		proto("126-byte ping", ws.ErrProtocolControlPayloadOverflow, testutil.Frame(true, 0, ws.OpPing, long)),
		proto("126-byte close", ws.ErrProtocolControlPayloadOverflow, testutil.Frame(true, 0, ws.OpClose, append(testutil.ClosePayload(1000, ""), long[:124]...))),
		proto("masked server frame", ws.ErrProtocolMaskUnexpected, []byte{0x82, 0x81, 1, 2, 3, 4, 'x' ^ 1}),
		proto("1-byte close payload", ws.ProtocolError("close frame payload of 1 byte"), testutil.Frame(true, 0, ws.OpClose, []byte{3})),
		proto("continuation without start", ws.ErrProtocolContinuationUnexpected, testutil.Frame(true, 0, ws.OpContinuation, []byte("x"))),
		proto("data frame inside a fragmented message", ws.ErrProtocolContinuationExpected,
			testutil.Frame(false, 0, ws.OpText, []byte("a")), testutil.Frame(true, 0, ws.OpBinary, []byte("b"))),
		proto("rsv1 on a ping", ws.ErrProtocolNonZeroRsv, testutil.Frame(true, 4, ws.OpPing, nil)),
		proto("rsv2 on a continuation", ws.ErrProtocolNonZeroRsv, testutil.Frame(false, 0, ws.OpText, []byte("a")), testutil.Frame(true, 2, ws.OpContinuation, []byte("b"))),
		{name: "invalid UTF-8 split across fragments", send: [][]byte{testutil.Frame(false, 0, ws.OpText, []byte{'a', 0xe2}),
			testutil.Frame(true, 0, ws.OpPing, []byte("p")), testutil.Frame(true, 0, ws.OpContinuation, []byte{0x28, 0xa1})}, err: ErrInvalidUTF8, code: 1007},
		{name: "code point cut off at message end", send: [][]byte{testutil.Frame(false, 0, ws.OpText, []byte("h\xc3")),
			testutil.Frame(true, 0, ws.OpContinuation, nil)}, err: ErrInvalidUTF8, code: 1007},
		{name: "surrogate in text", send: [][]byte{testutil.Frame(true, 0, ws.OpText, []byte("\xed\xa0\x80"))}, err: ErrInvalidUTF8, code: 1007},
		{name: "invalid UTF-8 in close reason", send: [][]byte{testutil.Frame(true, 0, ws.OpClose, testutil.ClosePayload(1000, "bye\xff"))}, err: ErrInvalidUTF8, code: 1007},
		{name: "surrogate in close reason", send: [][]byte{testutil.Frame(true, 0, ws.OpClose, testutil.ClosePayload(1001, "\xed\xbf\xbf"))}, err: ErrInvalidUTF8, code: 1007},
	}
	for _, rsv := range []byte{4, 2, 1} {
		cs = append(cs, proto(fmt.Sprintf("reserved bit %#x", rsv<<4), ws.ErrProtocolNonZeroRsv, testutil.Frame(true, rsv, ws.OpText, []byte("x"))))
	}
	for _, op := range []ws.OpCode{3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf} {
		cs = append(cs, proto(fmt.Sprintf("reserved opcode %#x", byte(op)), ws.ErrProtocolOpCodeReserved, testutil.Frame(true, 0, op, nil)))
	}
	for _, c := range []struct {
		code   uint16
		detail error
	}{
		{0, ws.ErrProtocolStatusCodeNotInUse}, {999, ws.ErrProtocolStatusCodeNotInUse},
		{1004, ws.ErrProtocolStatusCodeNoMeaning},
		{1005, ws.ErrProtocolStatusCodeApplicationLevel}, {1006, ws.ErrProtocolStatusCodeApplicationLevel}, {1015, ws.ErrProtocolStatusCodeApplicationLevel},
		{1016, ws.ErrProtocolStatusCodeUnknown}, {2999, ws.ErrProtocolStatusCodeUnknown}, {5000, ws.ErrProtocolStatusCodeUnknown},
	} {
		cs = append(cs, proto(fmt.Sprintf("close code %d", c.code), c.detail, testutil.Frame(true, 0, ws.OpClose, testutil.ClosePayload(c.code, "r"))))
	}
	return cs
}

// recvAPIs read until the first error with each receive API of Conn.
var recvAPIs = []struct {
	name string
	recv func(c *Conn) error
}{
	{"Recv", func(c *Conn) error { _, _, err := c.Recv(); return err }},
	{"RecvFrame", func(c *Conn) error {
		for {
			if _, err := c.RecvFrame(); err != nil {
				return err
			}
		}
	}},
	{"NextReader", func(c *Conn) error {
		for {
			_, r, err := c.NextReader()
			if err != nil {
				return err
			}
			if _, err := io.Copy(io.Discard, r); err != nil {
				return err
			}
		}
	}},
}

func TestHostileServer(t *testing.T) {
	for _, tc := range hostileCases() {
		for _, api := range recvAPIs {
			t.Run(tc.name+"/"+api.name, func(t *testing.T) {
				t.Parallel()
				testHostileCase(t, tc, api.recv)
			})
		}
	}
}

func testHostileCase(t *testing.T, tc hostileCase, recv func(*Conn) error) {
	got := make(chan clientClose, 1)
	url, done := hostileServer(t, func(p *rawPeer) {
		p.accept(tc.send...)
		got <- p.readClose()
	})
	c := dialHostile(t, url, &DialOptions{MaxMessageSize: tc.max})
	err := recv(c)
	if !errors.Is(err, tc.err) || tc.detail != nil && !errors.Is(err, tc.detail) {
		t.Fatalf("Recv error = %v, want %v (%v)", err, tc.err, tc.detail)
	}
	var ce *CloseError
	if errors.As(err, &ce) {
		t.Fatalf("a failure reported as a server close: %v", err)
	}
	if _, _, err2 := c.Recv(); !errors.Is(err2, tc.err) {
		t.Errorf("second Recv error = %v, want the same failure", err2)
	}
	if err := c.SendText("after"); err == nil {
		t.Error("SendText after the failure succeeded")
	}
	waitDone(t, done)
	cc := <-got
	if cc.err != nil || cc.code != tc.code || cc.reason != "" || !cc.eof {
		t.Fatalf("client sent close %d %q (then EOF: %v, err %v), want %d and TCP close", cc.code, cc.reason, cc.eof, cc.err, tc.code)
	}
}

// TestHostileServerCloses: a server's close frame with a valid code is
// reported as *CloseError and echoed (RFC 6455 §5.5.1); a close frame
// without a code is 1005 and answered without one.
func TestHostileServerCloses(t *testing.T) {
	for _, tc := range []struct {
		code   uint16 // 1005: empty close frame
		reason string
	}{{1000, "bye"}, {1001, ""}, {1003, "x"}, {1011, "oops"}, {1014, ""}, {3000, "app"}, {4999, "é"}, {1005, ""}} {
		t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
			t.Parallel()
			body := testutil.ClosePayload(tc.code, tc.reason)
			if tc.code == 1005 {
				body = nil
			}
			got := make(chan clientClose, 1)
			url, done := hostileServer(t, func(p *rawPeer) {
				p.accept(testutil.Frame(true, 0, ws.OpText, []byte("first")), testutil.Frame(true, 0, ws.OpClose, body))
				got <- p.readClose()
			})
			c := dialHostile(t, url, nil)
			if _, msg, err := c.Recv(); err != nil || string(msg) != "first" {
				t.Fatalf("Recv = %q, %v", msg, err)
			}
			_, _, err := c.Recv()
			var ce *CloseError
			if !errors.As(err, &ce) || ce.Code != StatusCode(tc.code) || ce.Reason != tc.reason {
				t.Fatalf("Recv error = %v, want CloseError %d %q", err, tc.code, tc.reason)
			}
			if err := c.Close(StatusNormal, ""); err != nil {
				t.Errorf("Close after the server's close: %v", err)
			}
			waitDone(t, done)
			if cc := <-got; cc.err != nil || cc.code != int(tc.code) || !cc.eof {
				t.Fatalf("client answered close %d %q (EOF %v, %v), want %d", cc.code, cc.reason, cc.eof, cc.err, tc.code)
			}
		})
	}
}

// TestHostileServerClosesMidFrame: the server shuts its side down in the
// middle of a header or payload. The user gets CloseError 1006 wrapping
// io.ErrUnexpectedEOF (io.EOF between frames) and the client sends no close
// frame, only closes TCP.
func TestHostileServerClosesMidFrame(t *testing.T) {
	payload := testutil.Frame(true, 0, ws.OpBinary, make([]byte, 300))
	for _, tc := range []struct {
		name string
		send []byte
		want error
	}{
		{"mid payload", payload[:100], io.ErrUnexpectedEOF},
		{"mid header", payload[:3], io.ErrUnexpectedEOF},
		{"mid 2^63-1 payload, no limit", append([]byte{0x82, 127, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, make([]byte, 1000)...), io.ErrUnexpectedEOF},
		{"between frames", nil, io.EOF},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := make(chan clientClose, 1)
			url, done := hostileServer(t, func(p *rawPeer) {
				p.accept(tc.send)
				p.nc.(*net.TCPConn).CloseWrite()
				got <- p.readClose()
			})
			c := dialHostile(t, url, &DialOptions{MaxMessageSize: -1})
			_, _, err := c.Recv()
			var ce *CloseError
			if !errors.As(err, &ce) || ce.Code != StatusAbnormalClosure || !errors.Is(err, tc.want) {
				t.Fatalf("Recv error = %v, want CloseError 1006 wrapping %v", err, tc.want)
			}
			c.Abort()
			waitDone(t, done)
			if cc := <-got; cc.code != noClose || !cc.eof {
				t.Fatalf("client sent close %d (EOF %v, %v), want none", cc.code, cc.eof, cc.err)
			}
		})
	}
}

// TestHostileHugeDeclaredLength: with no MaxMessageSize, a frame that
// declares 1 GiB but delivers 64 KiB before the server vanishes must not
// make the client allocate the declared size.
func TestHostileHugeDeclaredLength(t *testing.T) {
	url, done := hostileServer(t, func(p *rawPeer) {
		p.accept([]byte{0x82, 127, 0, 0, 0, 0, 0x40, 0, 0, 0}, make([]byte, 64<<10))
		p.nc.(*net.TCPConn).CloseWrite()
		p.readClose()
	})
	c := dialHostile(t, url, &DialOptions{MaxMessageSize: -1})
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	_, _, err := c.Recv()
	runtime.ReadMemStats(&ms1)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("Recv error = %v, want io.ErrUnexpectedEOF", err)
	}
	if alloc := ms1.TotalAlloc - ms0.TotalAlloc; alloc > 8<<20 {
		t.Fatalf("Recv allocated %d bytes for a 64 KiB prefix of a 1 GiB frame", alloc)
	}
	c.Abort()
	waitDone(t, done)
}

// TestHostileHandshakeNeverFinishes: a server that accepts TCP and then
// says nothing, or stops in the middle of its response: Dial with a
// Timeout fails within it, with an error wrapping context.DeadlineExceeded.
func TestHostileHandshakeNeverFinishes(t *testing.T) {
	for name, partial := range map[string]string{
		"silent":        "",
		"half response": "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			release := make(chan struct{})
			url, done := hostileServer(t, func(p *rawPeer) {
				p.nc.Write([]byte(partial))
				<-release
			})
			start := time.Now()
			c, err := Dial(context.Background(), url, &DialOptions{Timeout: 300 * time.Millisecond})
			close(release)
			if c != nil || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Dial = %v, %v; want an error wrapping context.DeadlineExceeded", c, err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("Dial took %v with Timeout 300ms", d)
			}
			waitDone(t, done)
		})
	}
}

// TestHostileHandshakeHugeHeaders: 1 MiB of response headers, as many
// lines or as one endless line: Dial fails with ErrBadHandshake wrapping
// codec.ErrHeaderTooLarge, after reading and allocating a bounded amount.
func TestHostileHandshakeHugeHeaders(t *testing.T) {
	for name, body := range map[string]string{
		"many lines": strings.Repeat("X-Pad: 0123456789abcdef0123456789abcdef\r\n", (1<<20)/41),
		"one line":   "X-Pad: " + strings.Repeat("a", 1<<20),
	} {
		t.Run(name, func(t *testing.T) {
			url, done := hostileServer(t, func(p *rawPeer) {
				p.nc.Write([]byte("HTTP/1.1 101 Switching Protocols\r\n" + body + "\r\n\r\n"))
			})
			var ms0, ms1 runtime.MemStats
			runtime.ReadMemStats(&ms0)
			c, err := Dial(context.Background(), url, &DialOptions{Timeout: 10 * time.Second})
			runtime.ReadMemStats(&ms1)
			if c != nil || !errors.Is(err, ErrBadHandshake) || !errors.Is(err, codec.ErrHeaderTooLarge) {
				t.Fatalf("Dial = %v, %v; want ErrBadHandshake wrapping ErrHeaderTooLarge", c, err)
			}
			if !strings.Contains(err.Error(), "exceeds") {
				t.Errorf("error does not say what was wrong: %v", err)
			}
			if alloc := ms1.TotalAlloc - ms0.TotalAlloc; alloc > 4<<20 {
				t.Fatalf("Dial allocated %d bytes for 1 MiB of headers", alloc)
			}
			waitDone(t, done)
		})
	}
}

// TestHostileSlowDrip: the handshake response and then a fragmented text
// message with a code point cut between fragments, a ping in the middle and
// a close frame, one byte every 10 ms. The message arrives intact, the ping
// is answered, the close is reported and echoed.
func TestHostileSlowDrip(t *testing.T) {
	t.Parallel()
	got := make(chan clientClose, 1)
	url, done := hostileServer(t, func(p *rawPeer) {
		msg := []byte("héllo wörld")
		stream := bytes.Join([][]byte{p.response(),
			testutil.Frame(false, 0, ws.OpText, msg[:2]), // cut inside "é"
			testutil.Frame(true, 0, ws.OpPing, []byte("ping!")),
			testutil.Frame(true, 0, ws.OpContinuation, msg[2:]),
			testutil.Frame(true, 0, ws.OpClose, testutil.ClosePayload(1000, "done")),
		}, nil)
		for i := range stream {
			if _, err := p.nc.Write(stream[i : i+1]); err != nil {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		got <- p.readClose()
	})
	c := dialHostile(t, url, &DialOptions{Timeout: 10 * time.Second})
	op, p, err := c.Recv()
	if err != nil || op != OpText || string(p) != "héllo wörld" {
		t.Fatalf("Recv = %v %q, %v", op, p, err)
	}
	_, _, err = c.Recv()
	var ce *CloseError
	if !errors.As(err, &ce) || ce.Code != StatusNormal || ce.Reason != "done" {
		t.Fatalf("Recv error = %v, want CloseError 1000 \"done\"", err)
	}
	waitDone(t, done)
	cc := <-got
	if cc.err != nil || cc.code != 1000 || !cc.eof || len(cc.pongs) != 1 || cc.pongs[0] != "ping!" {
		t.Fatalf("client sent %+v, want pong \"ping!\" and close 1000", cc)
	}
}

// echoPeer echoes the client's frames as they come (fragmentation kept),
// answers pings, and answers the close frame, then hangs up.
func echoPeer(p *rawPeer) {
	p.accept()
	bw := bufio.NewWriter(p.nc)
	for {
		h, payload, err := p.readFrame()
		if err != nil {
			return
		}
		switch h.OpCode {
		case ws.OpPing:
			bw.Write(testutil.Frame(true, 0, ws.OpPong, payload))
		case ws.OpPong:
		case ws.OpClose:
			bw.Write(testutil.Frame(true, 0, ws.OpClose, payload))
			bw.Flush()
			return
		default:
			bw.Write(testutil.Frame(h.Fin, 0, h.OpCode, payload))
		}
		if p.br.Buffered() == 0 {
			if bw.Flush() != nil {
				return
			}
		}
	}
}

// TestHostileConcurrentClose races senders (Send, NextWriter,
// Queue+Flush), a pinger and a reader against Close, over a real
// connection (run it with -race). Everything must stop with an error after
// Close, the close handshake must complete, and every echoed message must be
// intact.
func TestHostileConcurrentClose(t *testing.T) {
	for round := range 4 {
		t.Run(fmt.Sprint(round), func(t *testing.T) {
			t.Parallel()
			url, done := hostileServer(t, echoPeer)
			c := dialHostile(t, url, &DialOptions{Timeout: 10 * time.Second, CloseTimeout: 5 * time.Second})
			msg := bytes.Repeat([]byte("0123456789abcdef"), 1<<10)
			var wg sync.WaitGroup
			var sent atomic.Int64
			run := func(f func(i int) error) {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; ; i++ {
						if err := f(i); err != nil {
							return
						}
						sent.Add(1)
					}
				}()
			}
			run(func(i int) error { return c.SendBinary(msg[:i%len(msg)]) })
			run(func(i int) error { return c.SendText(string(msg[:i%300])) })
			run(func(i int) error {
				w, err := c.NextWriter(OpBinary, 100)
				if err != nil {
					return err
				}
				if _, err := w.Write(msg[:i%4096]); err != nil {
					w.Close()
					return err
				}
				return w.Close()
			})
			run(func(i int) error {
				if err := c.Queue(OpBinary, msg[:i%64]); err != nil {
					return err
				}
				if i%10 == 0 {
					return c.Flush()
				}
				return nil
			})
			run(func(i int) error {
				time.Sleep(time.Millisecond)
				return c.Ping([]byte("ping"))
			})
			readErr := make(chan error, 1)
			go func() {
				for {
					_, p, err := c.Recv()
					if err != nil {
						readErr <- err
						return
					}
					if !bytes.Equal(p, msg[:len(p)]) {
						readErr <- fmt.Errorf("echo of %d bytes corrupted", len(p))
						return
					}
				}
			}()
			time.Sleep(time.Duration(20+10*round) * time.Millisecond)
			closeErr := c.Close(StatusNormal, "done")
			stopped := make(chan struct{})
			go func() { wg.Wait(); close(stopped) }()
			select {
			case <-stopped:
			case <-time.After(10 * time.Second):
				t.Fatal("senders still running 10 s after Close")
			}
			var rerr error
			select {
			case rerr = <-readErr:
			case <-time.After(10 * time.Second):
				t.Fatal("reader still running 10 s after Close")
			}
			if strings.Contains(fmt.Sprint(rerr), "corrupted") {
				t.Fatal(rerr)
			}
			if closeErr != nil {
				t.Fatalf("Close: %v (after %d sends; reader: %v)", closeErr, sent.Load(), rerr)
			}
			if err := c.SendText("late"); !errors.Is(err, ErrClosed) {
				t.Errorf("Send after Close: %v, want ErrClosed", err)
			}
			waitDone(t, done)
		})
	}
}

// gatedConn passes writes to the network at once but returns from Write
// only when the channel hold gives for those bytes is closed.
type gatedConn struct {
	net.Conn
	hold func(p []byte) <-chan struct{}
}

func (g *gatedConn) Write(p []byte) (int, error) {
	n, err := g.Conn.Write(p)
	if ch := g.hold(p); ch != nil {
		<-ch
	}
	return n, err
}

// TestCloseAnsweredWhileWriteInFlight pins down a group-commit race: Close
// queues its close frame behind another sender's write; that sender's write
// carries the close frame to the server, the server answers, and the reader
// goroutine sees the answer before the write call has returned. Close must
// still return nil (the handshake completed), not the peer's CloseError.
func TestCloseAnsweredWhileWriteInFlight(t *testing.T) {
	url, done := hostileServer(t, echoPeer)
	nc, err := net.Dial("tcp", strings.TrimSuffix(strings.TrimPrefix(url, "ws://"), "/"))
	if err != nil {
		t.Fatal(err)
	}
	first, closeFrame := make(chan struct{}), make(chan struct{})
	gc := &gatedConn{Conn: nc, hold: func(p []byte) <-chan struct{} {
		switch p[0] {
		case 0x82: // the binary message: the sender that leads the write
			return first
		case 0x88: // the batch with the close frame, written by that sender
			return closeFrame
		}
		return nil
	}}
	c := dialHostile(t, url, &DialOptions{NetConn: gc, CloseTimeout: 5 * time.Second})
	readErr := make(chan error, 1)
	go func() {
		for {
			if _, _, err := c.Recv(); err != nil {
				readErr <- err
				return
			}
		}
	}()
	sendErr := make(chan error, 1)
	go func() { sendErr <- c.SendBinary([]byte("lead")) }()
	time.Sleep(50 * time.Millisecond) // the sender is inside Write
	closeErr := make(chan error, 1)
	go func() { closeErr <- c.Close(StatusNormal, "bye") }()
	time.Sleep(50 * time.Millisecond) // Close queued its frame and waits
	close(first)                      // the sender goes on with the close batch
	var ce *CloseError
	if err := <-readErr; !errors.As(err, &ce) || ce.Code != StatusNormal {
		t.Fatalf("reader: %v, want the server's close 1000", err)
	}
	time.Sleep(50 * time.Millisecond) // the write of the close batch is still "in flight"
	close(closeFrame)
	if err := <-closeErr; err != nil {
		t.Errorf("Close = %v, want nil: the server answered the close frame", err)
	}
	if err := <-sendErr; err != nil {
		t.Errorf("SendBinary = %v, want nil: the message was written", err)
	}
	waitDone(t, done)
}

// TestHostileTLSHandshakeNeverFinishes: a wss server that accepts TCP and
// never answers the TLS ClientHello: Dial's Timeout still applies.
func TestHostileTLSHandshakeNeverFinishes(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	accepted := make(chan struct{})
	go func() {
		defer close(accepted)
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		<-release
		nc.Close()
	}()
	defer func() {
		close(release)
		ln.Close()
		<-accepted
	}()
	start := time.Now()
	c, err := Dial(context.Background(), "wss://"+ln.Addr().String()+"/", &DialOptions{Timeout: 300 * time.Millisecond})
	if c != nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Dial = %v, %v; want an error wrapping context.DeadlineExceeded", c, err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Dial took %v with Timeout 300ms", d)
	}
}
