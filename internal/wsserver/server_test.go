package wsserver_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gobwas/ws"
	"go.uber.org/goleak"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/codec"
	"github.com/wsclient/wsclient/internal/wsserver"
	"github.com/wsclient/wsclient/mask"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func start(t *testing.T, o wsserver.Options) *wsserver.Server {
	t.Helper()
	s, err := wsserver.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func dial(t *testing.T, url string, o *wsclient.DialOptions) *wsclient.Conn {
	t.Helper()
	if o == nil {
		o = &wsclient.DialOptions{}
	}
	o.Timeout = 5 * time.Second
	c, err := wsclient.Dial(context.Background(), url, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Abort() })
	return c
}

func TestEchoRoundTrip(t *testing.T) {
	s := start(t, wsserver.Options{})
	if !strings.HasPrefix(s.URL(), "ws://127.0.0.1:") {
		t.Fatalf("URL %q is not on loopback", s.URL())
	}
	c := dial(t, s.URL(), nil)
	c.SetDeadline(time.Now().Add(10 * time.Second))

	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB: several reads
	cases := []struct {
		op wsclient.Opcode
		p  []byte
	}{
		{wsclient.OpText, []byte("hello")},
		{wsclient.OpBinary, []byte{0, 1, 2, 0xff}},
		{wsclient.OpText, nil},
		{wsclient.OpBinary, big},
	}
	for _, tc := range cases {
		if err := c.Send(tc.op, tc.p); err != nil {
			t.Fatal(err)
		}
		op, got, err := c.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if op != tc.op || !bytes.Equal(got, tc.p) {
			t.Fatalf("echo of %v %d bytes: got %v %d bytes", tc.op, len(tc.p), op, len(got))
		}
	}
	// Frames of 4 bytes: text, continuations, FIN on the last.
	for i, msg := 0, "fragmented message"; i < len(msg); i += 4 {
		op := wsclient.OpContinuation
		if i == 0 {
			op = wsclient.OpText
		}
		if err := c.SendFrame(op, []byte(msg[i:min(i+4, len(msg))]), i+4 >= len(msg)); err != nil {
			t.Fatal(err)
		}
	}
	if _, got, err := c.Recv(); err != nil || string(got) != "fragmented message" {
		t.Fatalf("fragmented echo: %q, %v", got, err)
	}
	// Pings are answered with the same payload.
	if err := c.Ping([]byte("are you there")); err != nil {
		t.Fatal(err)
	}
	f, err := c.RecvFrame()
	if err != nil || f.Opcode != wsclient.OpPong || string(f.Payload) != "are you there" {
		t.Fatalf("pong: %+v, %v", f, err)
	}
	if err := c.Close(wsclient.StatusNormal, "bye"); err != nil {
		t.Fatalf("close handshake: %v", err)
	}
	if msgs, n := s.Stats(); msgs != 5 || n != int64(5+4+len(big)+18) {
		t.Fatalf("Stats = %d messages, %d bytes", msgs, n)
	}
}

func TestTLS(t *testing.T) {
	s := start(t, wsserver.Options{TLS: true})
	if !strings.HasPrefix(s.URL(), "wss://") || s.CertPool() == nil || !bytes.Contains(s.CertPEM(), []byte("CERTIFICATE")) {
		t.Fatalf("URL %q, pool %v", s.URL(), s.CertPool())
	}
	c := dial(t, s.URL(), &wsclient.DialOptions{TLSConfig: &tls.Config{RootCAs: s.CertPool()}})
	c.SendText("secure")
	if got, err := c.RecvText(); err != nil || got != "secure" {
		t.Fatalf("%q, %v", got, err)
	}
	if err := c.Close(wsclient.StatusNormal, ""); err != nil {
		t.Fatal(err)
	}
	// Without the pool, verification fails.
	_, err := wsclient.Dial(context.Background(), s.URL(), &wsclient.DialOptions{Timeout: 5 * time.Second})
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("untrusted certificate: %v", err)
	}
}

func TestSink(t *testing.T) {
	s := start(t, wsserver.Options{Mode: wsserver.Sink})
	c := dial(t, s.URL(), nil)
	msg := make([]byte, 100)
	for range 1000 {
		if err := c.Queue(wsclient.OpBinary, msg); err != nil {
			t.Fatal(err)
		}
	}
	c.Flush()
	if err := c.Ping(nil); err != nil { // sinks answer pings too
		t.Fatal(err)
	}
	if f, err := c.RecvFrame(); err != nil || f.Opcode != wsclient.OpPong {
		t.Fatalf("%+v, %v", f, err)
	}
	if err := c.Close(wsclient.StatusNormal, ""); err != nil {
		t.Fatal(err)
	}
	if msgs, n := s.Stats(); msgs != 1000 || n != 100000 {
		t.Fatalf("Stats = %d, %d", msgs, n)
	}
}

func TestSendMode(t *testing.T) {
	s := start(t, wsserver.Options{Mode: wsserver.Send, Count: 50, Size: 7, Binary: true})
	c := dial(t, s.URL(), nil)
	for i := range 50 {
		op, p, err := c.Recv()
		if err != nil || op != wsclient.OpBinary || string(p) != "abcdefg" {
			t.Fatalf("message %d: %v %q %v", i, op, p, err)
		}
	}
	_, _, err := c.Recv()
	var ce *wsclient.CloseError
	if !errors.As(err, &ce) || ce.Code != wsclient.StatusNormal {
		t.Fatalf("after count: %v", err)
	}

	// Rate limited, via the path: 200/s for 10 messages takes ~50 ms.
	c = dial(t, strings.TrimSuffix(s.URL(), "/")+"/send?rate=200&count=10&size=3&binary=0", nil)
	begin := time.Now()
	for i := range 10 {
		op, p, err := c.Recv()
		if err != nil || op != wsclient.OpText || string(p) != "abc" {
			t.Fatalf("message %d: %v %q %v", i, op, p, err)
		}
	}
	if d := time.Since(begin); d < 30*time.Millisecond {
		t.Fatalf("10 messages at 200/s took only %v", d)
	}
}

func TestPaths(t *testing.T) {
	s := start(t, wsserver.Options{Mode: wsserver.Sink, Subprotocols: []string{"*"}})
	base := strings.TrimSuffix(s.URL(), "/")

	c := dial(t, base+"/close/4000/see%20you", nil)
	_, _, err := c.Recv()
	var ce *wsclient.CloseError
	if !errors.As(err, &ce) || ce.Code != 4000 || ce.Reason != "see you" {
		t.Fatalf("/close: %v", err)
	}

	c = dial(t, base+"/headers", &wsclient.DialOptions{Header: http.Header{"X-Test": {"42"}}, Subprotocols: []string{"chat", "other"}})
	if c.Subprotocol() != "chat" {
		t.Fatalf("subprotocol %q", c.Subprotocol())
	}
	js, err := c.RecvText()
	if err != nil || !strings.Contains(js, `["X-Test","42"]`) {
		t.Fatalf("/headers: %s, %v", js, err)
	}
	c.SendText("then echo")
	if got, err := c.RecvText(); err != nil || got != "then echo" {
		t.Fatalf("%q %v", got, err)
	}

	// A plain HTTP request gets 426 with an explanation.
	resp, err := http.Get("http://" + s.Addr().String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUpgradeRequired || !strings.Contains(string(body), "WebSocket server") {
		t.Fatalf("plain GET: %d %s", resp.StatusCode, body)
	}
}

func TestServerCloseAndDrop(t *testing.T) {
	s := start(t, wsserver.Options{})
	c1 := dial(t, s.URL(), nil)
	c2 := dial(t, s.URL(), nil)
	waitConns(t, s, 2)
	s.DropClients()
	_, _, err := c1.Recv()
	var ce *wsclient.CloseError
	if !errors.As(err, &ce) || ce.Code != wsclient.StatusAbnormalClosure {
		t.Fatalf("dropped: %v", err)
	}
	c2.Recv()
	waitConns(t, s, 0)

	c3 := dial(t, s.URL(), nil)
	waitConns(t, s, 1)
	done := make(chan error, 1)
	go func() {
		_, _, err := c3.Recv()
		done <- err
	}()
	s.Close()
	err = <-done
	if !errors.As(err, &ce) || ce.Code != wsclient.StatusGoingAway {
		t.Fatalf("server close: %v", err)
	}
	if _, err := wsclient.Dial(context.Background(), s.URL(), nil); err == nil {
		t.Fatal("dial after Close succeeded")
	}
}

func waitConns(t *testing.T, s *wsserver.Server, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); s.Conns() != n; {
		if time.Now().After(deadline) {
			t.Fatalf("Conns = %d, want %d", s.Conns(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// rawConn does the handshake by hand and speaks frames directly.
func rawConn(t *testing.T, s *wsserver.Server) (net.Conn, *bufio.Reader) {
	t.Helper()
	nc, err := net.Dial("tcp", s.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	key, err := codec.WriteRequest(nc, &codec.Request{Host: "x"})
	if err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(nc)
	resp, err := codec.ReadResponse(br, key, nil, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("handshake: %v", err)
	}
	return nc, br
}

func readFrame(t *testing.T, br *bufio.Reader) (ws.Header, []byte) {
	t.Helper()
	h, err := ws.ReadHeader(br)
	if err != nil {
		t.Fatal(err)
	}
	p := make([]byte, h.Length)
	if _, err := io.ReadFull(br, p); err != nil {
		t.Fatal(err)
	}
	return h, p
}

func writeFrame(nc net.Conn, op ws.OpCode, p []byte, masked bool) {
	h := ws.Header{Fin: true, OpCode: op, Length: int64(len(p)), Masked: masked, Mask: [4]byte{1, 2, 3, 4}}
	var b [ws.MaxHeaderSize]byte
	out := append(b[:codec.PutHeader(b[:], h)], p...)
	if masked {
		mask.Apply(out[len(out)-len(p):], h.Mask, 0)
	}
	nc.Write(out)
}

// TestMasking checks the wire: masked client frames are unmasked and echoed
// without a mask; an unmasked client frame fails the connection with 1002.
func TestMasking(t *testing.T) {
	s := start(t, wsserver.Options{})
	nc, br := rawConn(t, s)
	writeFrame(nc, ws.OpText, []byte("masked hello"), true)
	h, p := readFrame(t, br)
	if h.Masked || h.OpCode != ws.OpText || string(p) != "masked hello" {
		t.Fatalf("echo: %+v %q", h, p)
	}
	writeFrame(nc, ws.OpText, []byte("plain"), false)
	h, p = readFrame(t, br)
	if h.OpCode != ws.OpClose || len(p) < 2 || binary.BigEndian.Uint16(p) != 1002 {
		t.Fatalf("unmasked frame: got %+v %q, want close 1002", h, p)
	}
	writeFrame(nc, ws.OpClose, p[:2], true)
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("after close: %v, want EOF", err)
	}
}

// TestCloseEcho checks that the server answers a close with the same code.
func TestCloseEcho(t *testing.T) {
	s := start(t, wsserver.Options{})
	nc, br := rawConn(t, s)
	var b [125]byte
	writeFrame(nc, ws.OpClose, b[:codec.PutClose(b[:], 4321, "done")], true)
	h, p := readFrame(t, br)
	if h.OpCode != ws.OpClose || binary.BigEndian.Uint16(p) != 4321 || string(p[2:]) != "done" {
		t.Fatalf("close answer: %+v %q", h, p)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("server did not close TCP: %v", err)
	}
	// A bad close code is a protocol error.
	nc, br = rawConn(t, s)
	writeFrame(nc, ws.OpClose, []byte{0x03, 0xed}, true) // 1005 may not be sent
	h, p = readFrame(t, br)
	if h.OpCode != ws.OpClose || binary.BigEndian.Uint16(p) != 1002 {
		t.Fatalf("bad code answer: %+v %q", h, p)
	}
}

func TestParseMode(t *testing.T) {
	for _, m := range []string{"echo", "SINK", "send"} {
		if _, err := wsserver.ParseMode(m); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := wsserver.ParseMode("flood"); err == nil {
		t.Fatal("no error for flood")
	}
	if _, err := wsserver.Start(wsserver.Options{Mode: "flood"}); err == nil {
		t.Fatal("Start accepted a bad mode")
	}
}
