package h2ws

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/wsclient/wsclient/codec"
	"github.com/wsclient/wsclient/engine"
)

// acceptAll answers every extended CONNECT with 200 and records the
// stream IDs in order.
func acceptAll(f *fakeServer) *streamLog {
	l := &streamLog{c: make(chan uint32, 16)}
	f.onHeaders = func(c *fakeConn, id uint32, fields []hpack.HeaderField) {
		if field(fields, ":method") != "CONNECT" || field(fields, ":protocol") != "websocket" {
			c.headers(id, true, ":status", "400")
			return
		}
		c.headers(id, false, ":status", "200")
		l.mu.Lock()
		l.conn = c
		l.mu.Unlock()
		l.c <- id
	}
	return l
}

type streamLog struct {
	mu   sync.Mutex
	conn *fakeConn
	c    chan uint32
}

func (l *streamLog) next(t *testing.T) (*fakeConn, uint32) {
	t.Helper()
	select {
	case id := <-l.c:
		l.mu.Lock()
		defer l.mu.Unlock()
		return l.conn, id
	case <-time.After(5 * time.Second):
		t.Fatal("no request reached the server")
		return nil, 0
	}
}

// binaryFrame is an unmasked server frame with an n-byte payload.
func binaryFrame(n int) []byte {
	b := []byte{0x82, 126, byte(n >> 8), byte(n)}
	return append(b, make([]byte, n)...)
}

// TestResetMidMessage: the server resets the stream (RST_STREAM) in the
// middle of a WebSocket message: the engine's read fails with an error
// wrapping ErrStreamReset, at once.
func TestResetMidMessage(t *testing.T) {
	f := startFake(t, &fakeServer{settings: xconnect})
	l := acceptAll(f)
	st, _ := dial(t, newPool(t), f.target().request("/"))
	c := ws(t, st)
	sc, id := l.next(t)
	msg := binaryFrame(1000)
	sc.data(id, false, msg[:500])
	sc.rst(id, http2.ErrCodeInternal)
	st.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _, err := c.Recv()
	if !errors.Is(err, ErrStreamReset) || !strings.Contains(err.Error(), "INTERNAL_ERROR") {
		t.Fatalf("ReadMessage = %v, want ErrStreamReset naming INTERNAL_ERROR", err)
	}
}

// TestConnectionLost: when the connection dies, every stream on it fails
// with ErrConnLost, reads and writes, and the next dial opens a new
// connection.
func TestConnectionLost(t *testing.T) {
	f := startFake(t, &fakeServer{settings: xconnect})
	l := acceptAll(f)
	tg := f.target()
	p := newPool(t)
	var cs []*engine.Conn
	for range 3 {
		st, _ := dial(t, p, tg.request("/"))
		cs = append(cs, ws(t, st))
		l.next(t)
	}
	if n := f.accepts.Load(); n != 1 {
		t.Fatalf("%d connections, want 1", n)
	}
	l.conn.nc.Close()
	for i, c := range cs {
		c.NetConn().SetDeadline(time.Now().Add(5 * time.Second))
		if _, _, err := c.Recv(); !errors.Is(err, ErrConnLost) || !strings.Contains(err.Error(), "HTTP/2 connection lost") {
			t.Fatalf("stream %d: ReadMessage = %v, want ErrConnLost", i, err)
		}
	}
	// A write on a dead stream fails too (and names the connection).
	st, _ := dial(t, p, tg.request("/"))
	l.next(t)
	if n := f.accepts.Load(); n != 2 {
		t.Fatalf("%d connections after the loss, want 2", n)
	}
	f.mu.Lock()
	f.conns[1].nc.Close()
	f.mu.Unlock()
	st.SetWriteDeadline(time.Now().Add(5 * time.Second))
	var err error
	for i := 0; i < 100 && err == nil; i++ {
		_, err = st.Write(make([]byte, 1024))
		time.Sleep(5 * time.Millisecond)
	}
	if !errors.Is(err, ErrConnLost) {
		t.Fatalf("Write after the loss = %v, want ErrConnLost", err)
	}
}

// TestGoAway: GOAWAY with open streams lets those the server kept (ID up to
// its last) go on, fails the others with ErrConnLost, and sends new dials
// to a new connection.
func TestGoAway(t *testing.T) {
	f := startFake(t, &fakeServer{settings: xconnect})
	l := acceptAll(f)
	tg := f.target()
	p := newPool(t)
	st1, _ := dial(t, p, tg.request("/"))
	sc, id1 := l.next(t)
	st3, _ := dial(t, p, tg.request("/"))
	_, id3 := l.next(t)
	sc.goAway(id1)
	c3 := ws(t, st3)
	st3.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, _, err := c3.Recv(); !errors.Is(err, ErrConnLost) {
		t.Fatalf("stream %d after GOAWAY(last=%d): %v, want ErrConnLost", id3, id1, err)
	}
	c1 := ws(t, st1)
	sc.data(id1, false, []byte{0x81, 2, 'o', 'k'})
	st1.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, p, err := c1.Recv(); err != nil || string(p) != "ok" {
		t.Fatalf("stream %d after GOAWAY(last=%d): %q, %v; want it still open", id1, id1, p, err)
	}
	dial(t, p, tg.request("/"))
	if n := f.accepts.Load(); n != 2 {
		t.Fatalf("%d connections, want 2 (GOAWAY: no new streams on the first)", n)
	}
}

// TestWindowNeverOpens: a server that grants no flow-control window
// (SETTINGS_INITIAL_WINDOW_SIZE 0, no WINDOW_UPDATE) stalls writes, which
// the write deadline bounds; the engine's Close is bounded by its
// CloseTimeout and then resets the stream.
func TestWindowNeverOpens(t *testing.T) {
	f := startFake(t, &fakeServer{
		settings: append([]http2.Setting{{ID: http2.SettingInitialWindowSize, Val: 0}}, xconnect...),
		noWindow: true,
	})
	acceptAll(f)
	st, _ := dial(t, newPool(t), f.target().request("/"))
	c := engine.New(st, nil, &engine.Config{CloseTimeout: 300 * time.Millisecond})
	st.SetWriteDeadline(time.Now().Add(200 * time.Millisecond))
	start := time.Now()
	// The stream's send buffer (64 KiB) and x/net's frame take the first
	// writes, as a socket's buffer would; the writes after that stall.
	var err error
	for i := 0; i < 200 && err == nil; i++ {
		err = c.Send(2, make([]byte, 1000))
	}
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("WriteMessage = %v, want a deadline error", err)
	}
	c.Close(1000, "")
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("write plus Close took %v", d)
	}
	select {
	case <-st.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the stream was not released after Close")
	}
}

// TestOversizedHeaders: a response header list beyond codec.MaxHeaderBytes
// fails the handshake with a clear error. Within one HEADERS frame x/net
// stops keeping fields at the limit and fails only the stream; CONTINUATION
// frames past the limit (a flood) fail the connection. Either way nothing
// waits for more or keeps more than the limit.
func TestOversizedHeaders(t *testing.T) {
	f := startFake(t, &fakeServer{settings: xconnect})
	f.onHeaders = func(c *fakeConn, id uint32, fields []hpack.HeaderField) {
		path := field(fields, ":path")
		if path == "/ok" {
			c.headers(id, false, ":status", "200")
			return
		}
		c.wmu.Lock()
		defer c.wmu.Unlock()
		c.hb.Reset()
		c.enc.WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
		if path == "/one-frame" {
			// 25 × 4 KB decoded (100 KB, over the 64 KiB limit) from a
			// 4 KB block: hpack indexes the field once, then refers to it.
			for range 25 {
				c.enc.WriteField(hpack.HeaderField{Name: "x-big", Value: strings.Repeat("v", 4000)})
			}
			c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: c.hb.Bytes(), EndHeaders: true})
			return
		}
		for i := range 25 {
			c.enc.WriteField(hpack.HeaderField{Name: "x-big-" + string(rune('a'+i)), Value: strings.Repeat("v", 4000)})
		}
		block := c.hb.Bytes()
		c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block[:16000]})
		for block = block[16000:]; len(block) > 0; {
			n := min(len(block), 16000)
			c.fr.WriteContinuation(id, n == len(block), block[:n])
			block = block[n:]
		}
	}
	tg := f.target()
	p := newPool(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := p.Dial(ctx, tg.request("/one-frame"))
	if !errors.Is(err, codec.ErrHeaderTooLarge) || !errors.Is(err, codec.ErrBadHandshake) || !strings.Contains(err.Error(), "response headers") || ctx.Err() != nil {
		t.Fatalf("one frame: Dial = %v, want the header list limit error (ErrHeaderTooLarge, ErrBadHandshake)", err)
	}
	dial(t, p, tg.request("/ok"))
	if n := f.accepts.Load(); n != 1 {
		t.Fatalf("%d connections, want 1: the first survived", n)
	}
	_, err = p.Dial(ctx, tg.request("/continuations"))
	if !errors.Is(err, ErrConnLost) || !strings.Contains(err.Error(), "PROTOCOL_ERROR") || ctx.Err() != nil {
		t.Fatalf("CONTINUATION flood: Dial = %v, want a PROTOCOL_ERROR connection error", err)
	}
}

// TestCloseEndsStream: after the close handshake, Close frees the stream
// without DATA crossing a reset the server may send. A server that ended
// its side with its close frame gets RST_STREAM CANCEL and no more DATA,
// not even an empty END_STREAM: libwebsockets resets the stream itself
// (RST_STREAM NO_ERROR after a complete response, RFC 9113 §8.1) any time
// after its close frame, here 100 ms behind, as under load, and fails the
// whole connection for DATA arriving after that reset; a RST_STREAM it
// ignores. A server whose close frame left its side open gets END_STREAM,
// and RST_STREAM CANCEL only if it does not end its side within closeGrace.
func TestCloseEndsStream(t *testing.T) {
	type frame struct {
		typ http2.FrameType
		end bool // END_STREAM on DATA
	}
	rst := frame{typ: http2.FrameRSTStream}
	endStream := frame{typ: http2.FrameData, end: true}
	for _, tc := range []struct {
		name        string
		ends, reset bool // what the server does with or after its close frame
		lingers     bool // the server never ends its side
		want        []frame
	}{
		{name: "end", ends: true, want: []frame{rst}},
		{name: "end+reset", ends: true, reset: true}, // a RST_STREAM of ours may cross the server's
		{name: "open", want: []frame{endStream}},
		{name: "lingers", lingers: true, want: []frame{endStream, rst}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var after []frame // client frames on the stream after the server's close
			closed := false
			f := &fakeServer{settings: xconnect}
			f.onFrame = func(h http2.FrameHeader) {
				mu.Lock()
				defer mu.Unlock()
				if closed && h.StreamID == 1 {
					after = append(after, frame{typ: h.Type, end: h.Type == http2.FrameData && h.Flags.Has(http2.FlagDataEndStream)})
				}
			}
			acceptAll(f)
			f.onData = func(c *fakeConn, id uint32, p []byte) {
				switch {
				case len(p) > 0 && p[0] == 0x88: // the client's close frame
					mu.Lock()
					closed = true
					mu.Unlock()
					c.data(id, tc.ends, []byte{0x88, 2, 0x03, 0xe8})
					if tc.reset {
						time.Sleep(100 * time.Millisecond)
						c.rst(id, http2.ErrCodeNo)
					}
				case len(p) == 0 && !tc.ends && !tc.lingers: // the client's END_STREAM
					c.data(id, true, nil)
				}
			}
			startFake(t, f)
			st, _ := dial(t, newPool(t), f.target().request("/"))
			c := engine.New(st, nil, &engine.Config{CloseTimeout: 2 * time.Second})
			if err := c.Close(1000, ""); err != nil {
				t.Fatalf("Close: %v", err)
			}
			<-st.Done()
			time.Sleep(150 * time.Millisecond) // let the last frames (and the server's reset) arrive
			mu.Lock()
			defer mu.Unlock()
			if tc.reset {
				if slices.ContainsFunc(after, func(f frame) bool { return f != rst }) || len(after) > 1 {
					t.Fatalf("frames after the server's close and reset: %v, want at most one RST_STREAM", after)
				}
				return
			}
			if !slices.Equal(after, tc.want) {
				t.Fatalf("frames after the server's close: %v, want %v", after, tc.want)
			}
		})
	}
}

// TestFrameSize: DATA frames follow the server's SETTINGS_MAX_FRAME_SIZE:
// with the default 16 KiB, full frames are 16 KiB with their header (one
// TLS record each); a server that accepts more (Go's accept 1 MiB) gets
// frames of up to 256 KiB, never more than it allows (nor than the
// windows: this server's stay at the default 65,535 bytes).
func TestFrameSize(t *testing.T) {
	for _, tc := range []struct {
		max  uint32 // 0: the server sets none
		want uint32 // the largest DATA frame
	}{{0, 16<<10 - 9}, {32 << 10, 32 << 10}, {1 << 20, min(256<<10, 65535)}} {
		var mu sync.Mutex
		largest, total := uint32(0), 0
		f := &fakeServer{settings: xconnect}
		if tc.max != 0 {
			f.settings = append([]http2.Setting{{ID: http2.SettingMaxFrameSize, Val: tc.max}}, xconnect...)
		}
		f.onFrame = func(h http2.FrameHeader) {
			if h.Type == http2.FrameData {
				mu.Lock()
				largest = max(largest, h.Length)
				total += int(h.Length)
				mu.Unlock()
			}
		}
		acceptAll(f)
		startFake(t, f)
		st, _ := dial(t, newPool(t), f.target().request("/"))
		c := ws(t, st)
		st.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if err := c.Send(2, make([]byte, 200<<10)); err != nil {
			t.Fatal(err)
		}
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
			mu.Lock()
			done := total >= 200<<10
			mu.Unlock()
			if done || time.Now().After(deadline) {
				break
			}
		}
		mu.Lock()
		if total < 200<<10 || largest != tc.want {
			t.Errorf("SETTINGS_MAX_FRAME_SIZE %d: %d bytes in DATA frames of up to %d bytes; want all 200 KiB in frames of up to %d", tc.max, total, largest, tc.want)
		}
		mu.Unlock()
	}
}

// TestSendBuffer: writes return once copied into the stream's send buffer,
// without waiting for x/net to frame them or for the server's window, and
// the small messages written meanwhile go out together in one DATA frame.
func TestSendBuffer(t *testing.T) {
	var mu sync.Mutex
	frames, total := 0, 0
	f := &fakeServer{
		settings: append([]http2.Setting{{ID: http2.SettingInitialWindowSize, Val: 0}}, xconnect...),
		noWindow: true,
	}
	f.onFrame = func(h http2.FrameHeader) {
		if h.Type == http2.FrameData && h.Length > 0 {
			mu.Lock()
			frames++
			total += int(h.Length)
			mu.Unlock()
		}
	}
	l := acceptAll(f)
	startFake(t, f)
	st, _ := dial(t, newPool(t), f.target().request("/"))
	sc, id := l.next(t)
	c := ws(t, st)
	st.SetWriteDeadline(time.Now().Add(time.Second))
	const n, size = 50, 100
	for i := range n {
		if err := c.Send(2, make([]byte, size)); err != nil {
			t.Fatalf("message %d while the window is closed: %v", i, err)
		}
	}
	sc.wmu.Lock()
	sc.fr.WriteWindowUpdate(id, 1<<20)
	sc.wmu.Unlock()
	want := n * (size + 6) // masked frames: 2-byte header + 4-byte key
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		mu.Lock()
		got := total
		mu.Unlock()
		if got >= want || time.Now().After(deadline) {
			break
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if total != want || frames > 2 {
		t.Fatalf("%d bytes in %d DATA frames; want %d bytes in at most 2", total, frames, want)
	}
}

// TestCloseFrameOwnDataFrame: a close frame written while earlier bytes
// still wait in the send buffer goes out in a DATA frame of its own:
// libwebsockets drops the messages it has not answered yet when the close
// frame came with them.
func TestCloseFrameOwnDataFrame(t *testing.T) {
	var mu sync.Mutex
	var frames [][]byte
	f := &fakeServer{
		settings: append([]http2.Setting{{ID: http2.SettingInitialWindowSize, Val: 0}}, xconnect...),
		noWindow: true,
	}
	f.onData = func(c *fakeConn, id uint32, p []byte) {
		mu.Lock()
		frames = append(frames, p)
		mu.Unlock()
		if len(p) > 0 && p[0] == 0x88 {
			c.data(id, true, []byte{0x88, 2, 0x03, 0xe8})
		}
	}
	l := acceptAll(f)
	startFake(t, f)
	st, _ := dial(t, newPool(t), f.target().request("/"))
	sc, id := l.next(t)
	c := engine.New(st, nil, &engine.Config{CloseTimeout: 5 * time.Second})
	for range 3 {
		if err := c.Send(1, []byte("hi")); err != nil {
			t.Fatal(err)
		}
	}
	closed := make(chan error, 1)
	go func() { closed <- c.Close(1000, "") }()
	time.Sleep(50 * time.Millisecond) // the close frame is buffered too
	sc.wmu.Lock()
	sc.fr.WriteWindowUpdate(id, 1<<20)
	sc.wmu.Unlock()
	if err := <-closed; err != nil {
		t.Fatalf("Close: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	last := frames[len(frames)-1]
	if len(last) != 8 || last[0] != 0x88 {
		t.Fatalf("DATA frames %q: the close frame is not in one of its own", frames)
	}
	for _, fr := range frames[:len(frames)-1] {
		if bytes.Contains(fr, []byte{0x88, 0x82}) {
			t.Fatalf("DATA frames %q: the close frame shares one", frames)
		}
	}
}

// TestDialErrors: every way an HTTP/2 dial fails matches one of the
// package's sentinels: a stream reset in answer to the extended CONNECT
// (ErrStreamReset), the connection closed or sent GOAWAY before answering
// (ErrConnLost), closed before its SETTINGS (ErrConnLost), a first frame
// that is not SETTINGS (ErrNoHTTP2).
func TestDialErrors(t *testing.T) {
	f := startFake(t, &fakeServer{settings: xconnect})
	f.onHeaders = func(c *fakeConn, id uint32, fields []hpack.HeaderField) {
		switch field(fields, ":path") {
		case "/reset":
			c.rst(id, http2.ErrCodeRefusedStream)
		case "/goaway":
			c.goAway(0)
			c.nc.Close()
		case "/drop":
			c.nc.Close()
		}
	}
	tg := f.target()
	p := newPool(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for path, want := range map[string]error{"/reset": ErrStreamReset, "/goaway": ErrConnLost, "/drop": ErrConnLost} {
		if _, err := p.Dial(ctx, tg.request(path)); !errors.Is(err, want) || ctx.Err() != nil {
			t.Errorf("%s: Dial = %v, want %v", path, err, want)
		}
	}

	for name, first := range map[string]func(net.Conn){
		"closed before SETTINGS": func(nc net.Conn) {},
		"PING first":             func(nc net.Conn) { http2.NewFramer(nc, nil).WritePing(false, [8]byte{}) },
	} {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			io.ReadFull(nc, make([]byte, len(http2.ClientPreface)))
			first(nc)
			nc.Close()
		}()
		rtg := newTarget(ln.Addr().String(), false, nil)
		rtg.only = true
		_, err = newPool(t).Dial(ctx, rtg.request("/"))
		want := map[string]error{"closed before SETTINGS": ErrConnLost, "PING first": ErrNoHTTP2}[name]
		if !errors.Is(err, want) || ctx.Err() != nil {
			t.Errorf("%s: Dial = %v, want %v", name, err, want)
		}
		ln.Close()
		<-done
	}
}

// TestServerOverrunsWindow: a server that sends more DATA than the stream's
// window (4 MiB) while the client reads nothing gets RST_STREAM
// FLOW_CONTROL_ERROR, the stream fails with ErrStreamReset, and the client
// never held more than the window: what it buffers is bounded by what it
// granted, not by what the server sends.
func TestServerOverrunsWindow(t *testing.T) {
	var rst atomic.Uint32
	f := &fakeServer{settings: xconnect}
	f.onFrame = func(h http2.FrameHeader) {
		if h.Type == http2.FrameRSTStream {
			rst.Store(1)
		}
	}
	l := acceptAll(f)
	startFake(t, f)
	st, _ := dial(t, newPool(t), f.target().request("/"))
	sc, id := l.next(t)
	chunk := make([]byte, 16<<10)
	sent := 0
	// Nothing is read until the reset: no window is given back meanwhile.
	for sent <= 2*streamWindow && rst.Load() == 0 {
		sc.data(id, false, chunk)
		sent += len(chunk)
	}
	for deadline := time.Now().Add(5 * time.Second); rst.Load() == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the server sent %d bytes and got no RST_STREAM", sent)
		}
	}
	st.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64<<10)
	got := 0
	var err error
	for err == nil {
		var n int
		n, err = st.Read(buf)
		got += n
	}
	if !errors.Is(err, ErrStreamReset) || !strings.Contains(err.Error(), "window") || got > streamWindow {
		t.Fatalf("after %d bytes sent, read %d then %v; want at most %d bytes, then ErrStreamReset about the window", sent, got, err, streamWindow)
	}
}

// TestRequestHeadersOverServerLimit: request headers over the server's
// SETTINGS_MAX_HEADER_LIST_SIZE fail the dial before anything is sent, and
// the stream's place in the pool is given back.
func TestRequestHeadersOverServerLimit(t *testing.T) {
	f := &fakeServer{settings: append([]http2.Setting{{ID: http2.SettingMaxHeaderListSize, Val: 200}}, xconnect...)}
	acceptAll(f)
	startFake(t, f)
	p := newPool(t)
	r := f.target().request("/")
	r.Header.Set("X-Big", strings.Repeat("v", 300))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := p.Dial(ctx, r); err == nil || !strings.Contains(err.Error(), "SETTINGS_MAX_HEADER_LIST_SIZE") {
		t.Fatalf("Dial = %v, want the header list limit error", err)
	}
	if conns, streams := p.Stats(); conns != 1 || streams != 0 {
		t.Fatalf("pool: %d connections, %d streams; want 1, 0", conns, streams)
	}
}

// TestLargeRequestHeaders: a request header block larger than a frame goes
// out as HEADERS and CONTINUATION frames, and the server decodes it whole.
func TestLargeRequestHeaders(t *testing.T) {
	big := strings.Repeat("v", 40<<10) // hpack does not shrink it below 16 KiB
	f := startFake(t, &fakeServer{settings: xconnect})
	var headers atomic.Uint32 // the HEADERS frame's length (the Framer merges CONTINUATIONs into it)
	f.onFrame = func(h http2.FrameHeader) {
		if h.Type == http2.FrameHeaders {
			headers.Store(h.Length)
		}
	}
	f.onHeaders = func(c *fakeConn, id uint32, fields []hpack.HeaderField) {
		status := "400"
		if field(fields, "x-big") == big && field(fields, ":protocol") == "websocket" {
			status = "200"
		}
		c.headers(id, false, ":status", status)
	}
	r := f.target().request("/")
	r.Header.Set("X-Big", big)
	st, _ := dial(t, newPool(t), r)
	st.Close()
	if n := headers.Load(); n == 0 || n > 16<<10 {
		t.Fatalf("HEADERS frame of %d bytes; want the 40 KiB block split at the 16 KiB frame size", n)
	}
}
