package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/internal/wsserver"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// runLoad runs wsload in-process with args and returns its result.
func runLoad(t *testing.T, ctx context.Context, args ...string) *Result {
	t.Helper()
	var stderr bytes.Buffer
	cfg, code := parseArgs(args, &stderr)
	if cfg == nil {
		t.Fatalf("parseArgs %q: exit %d: %s", args, code, stderr.String())
	}
	cfg.progressOut = io.Discard
	res, err := load(ctx, cfg, &stderr)
	if err != nil {
		t.Fatalf("load: %v (%s)", err, stderr.String())
	}
	if testing.Verbose() {
		var b bytes.Buffer
		res.writeTable(&b)
		t.Logf("wsload %s\n%s%s", strings.Join(args, " "), stderr.String(), b.String())
	}
	return res
}

func startWSServer(t *testing.T, o wsserver.Options) *wsserver.Server {
	t.Helper()
	s, err := wsserver.Start(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// scheduled is how many messages the open-loop schedule puts in a window
// of d seconds at rate (exact up to rounding at both ends).
func checkScheduled(t *testing.T, res *Result) {
	t.Helper()
	want := res.Rate.Target * res.DurationS
	if math.Abs(float64(res.Messages.Sent)-want) > 2 {
		t.Errorf("sent %d messages in %.3f s at %v/s: want %.0f (the schedule's count)", res.Messages.Sent, res.DurationS, res.Rate.Target, want)
	}
}

// The open loop keeps to its schedule whatever the server does, and the
// latency counts from the intended send time, so a server that makes
// messages wait is charged for the wait of every one of them.
func TestOpenLoopServerHolds(t *testing.T) {
	// The server echoes nothing until it has 100 messages: a client that
	// waited for echoes (closed loop, or a schedule that slips behind a
	// blocked connection) would never get there.
	srv := &testServer{hold: 100}
	url := srv.start(t)
	res := runLoad(t, context.Background(), "-c", "1", "-r", "100", "-d", "1200ms", "-warmup", "0", "-drain", "20s", url)
	checkScheduled(t, res)
	if res.Messages.Received != res.Messages.Sent || res.Messages.Lost != 0 || res.Errors != 0 {
		t.Fatalf("sent %d received %d lost %d errors %v", res.Messages.Sent, res.Messages.Received, res.Messages.Lost, res.ErrorsByKind)
	}
	// Message j (10 ms apart) waits for message 99 to be sent: at least
	// (99-j)*10 ms, whatever the machine's load. The window holds 120
	// messages from j = m0, m0 being 0 unless the machine stalled between
	// the connection and the start of the window (up to 300 ms is fine
	// here). A closed-loop measurement would report one wait, not 99.
	l := res.LatencyUS
	if l.Max < 400_000 {
		t.Errorf("max latency %s: the first message waited at least 990 ms for the 100th", us(l.Max))
	}
	if l.P50 < 100_000 {
		t.Errorf("p50 %s: at least 60 of 120 messages waited 100 ms or more", us(l.P50))
	}
}

func TestOpenLoopServerSlow(t *testing.T) {
	// The server echoes one message per 10 ms; the client sends one per
	// 5 ms and must keep doing so: echo j leaves the server no earlier than
	// j*10 ms after the first was sent, so its latency is at least j*5 ms.
	srv := &testServer{delay: 10 * time.Millisecond}
	url := srv.start(t)
	res := runLoad(t, context.Background(), "-c", "1", "-r", "200", "-d", "500ms", "-warmup", "0", "-drain", "20s", url)
	checkScheduled(t, res)
	if res.Messages.Received != res.Messages.Sent || res.Errors != 0 {
		t.Fatalf("sent %d received %d errors %v", res.Messages.Sent, res.Messages.Received, res.ErrorsByKind)
	}
	l := res.LatencyUS
	if l.Max < 400_000 || l.P50 < 150_000 {
		t.Errorf("p50 %s, max %s: want the queue's growth (>= 5 ms per message: p50 >= 150 ms, max >= 400 ms of ~100 messages)", us(l.P50), us(l.Max))
	}
}

// Latency counts from the intended send time even when the write itself
// is late: the server stops reading for a second, the socket buffers fill
// (1 MiB messages), the sender blocks, and the messages due meanwhile are
// written late. Measured from the write, most would look fast.
func TestLatencyFromIntendedTime(t *testing.T) {
	srv := &testServer{pause: time.Second}
	url := srv.start(t)
	res := runLoad(t, context.Background(), "-c", "1", "-r", "100", "-s", "1048576", "-d", "1500ms", "-warmup", "0", "-drain", "60s", url)
	checkScheduled(t, res)
	if res.Messages.Received != res.Messages.Sent || res.Errors != 0 {
		t.Fatalf("messages %+v errors %v", res.Messages, res.ErrorsByKind)
	}
	h, _ := decodeHist(res.Histogram)
	// Messages 1..80 were due in the first 800 ms of the pause and read
	// after it: each waited at least 200 ms (at least 30 of them are in the
	// window unless the machine stalled 500 ms before it began). The socket
	// buffers hold only a few of them, so most were written late.
	var slow int64
	for _, b := range h.Distribution() {
		if b.From >= 200_000 {
			slow += b.Count
		}
	}
	if slow < 30 {
		t.Errorf("%d of %d messages took 200 ms or more, want at least 30 (p50 %s)", slow, h.TotalCount(), us(res.LatencyUS.P50))
	}
}

// A connection whose server stops reading must not hold up the others:
// the schedulers send by themselves only while a socket has room, and hand
// a full one to the senders.
func TestStalledConnectionDoesNotStallOthers(t *testing.T) {
	if raceEnabled {
		// 100 MB/s of 1 MiB echoes is more than a race build keeps up
		// with on 2 cores: every message waits, stalled connection or not.
		t.Skip("latency bound: not meaningful under the race detector (runs in the plain go test step)")
	}
	srv := &testServer{pauseFirst: 2500 * time.Millisecond}
	url := srv.start(t)
	// 8 connections, so that the stalled one shares its scheduler with
	// others (there are at most 4 schedulers).
	res := runLoad(t, context.Background(), "-c", "8", "-r", "100", "-s", "1048576", "-d", "2s", "-warmup", "0", "-drain", "60s", url)
	if res.Messages.Received != res.Messages.Sent || res.Errors != 0 {
		t.Fatalf("messages %+v errors %v", res.Messages, res.ErrorsByKind)
	}
	// 7 of 8 connections were served all along. Had the stalled one held
	// up its scheduler, the messages of the others on that scheduler (3/8
	// or more) would have waited seconds too.
	h, _ := decodeHist(res.Histogram)
	var fast int64
	for _, b := range h.Distribution() {
		if b.To <= 500_000 {
			fast += b.Count
		}
	}
	if fast < h.TotalCount()*7/10 {
		t.Errorf("%d of %d messages under 500 ms: the stalled connection held up the others (p50 %s)", fast, h.TotalCount(), us(res.LatencyUS.P50))
	}
}

// -tick trades timing for CPU: the schedulers wake at most every tick, so
// messages leave up to a tick late, and their latency shows it (it still
// counts from the intended time); none is skipped.
func TestTick(t *testing.T) {
	srv := startWSServer(t, wsserver.Options{})
	res := runLoad(t, context.Background(), "-c", "2", "-r", "200", "-tick", "50ms", "-d", "1s", "-warmup", "0", srv.URL())
	checkScheduled(t, res)
	if res.Messages.Received != res.Messages.Sent || res.Errors != 0 {
		t.Fatalf("messages %+v errors %v", res.Messages, res.ErrorsByKind)
	}
	// Messages due 5 ms apart wait for a wake-up every 50 ms: their waits
	// spread over 0..50 ms, so a tenth of them waited 45 ms or more.
	if p90 := res.LatencyUS.P90; p90 < 30_000 {
		t.Errorf("p90 %s: the messages did not wait for the tick", us(p90))
	}
}

// Closed loop against the holding server: one message, never answered.
// The contrast with TestOpenLoopServerHolds is the point of open loop.
func TestClosedLoopServerHolds(t *testing.T) {
	srv := &testServer{hold: 50}
	url := srv.start(t)
	res := runLoad(t, context.Background(), "-c", "1", "-d", "300ms", "-warmup", "0", "-drain", "100ms", url)
	// The one message may fall in the window or just before it.
	if n := srv.msgs.Load(); n != 1 || res.Messages.Sent > 1 || res.Messages.Received != 0 || res.Messages.Lost != res.Messages.Sent {
		t.Fatalf("closed loop: the server got %d messages; sent %d received %d lost %d; want 1, <= 1, 0, = sent", n, res.Messages.Sent, res.Messages.Received, res.Messages.Lost)
	}
}

// Failed handshakes and connections closed by the server are counted by
// kind; the run goes on (and -reconnect reopens them).
func TestErrorsByKindRunContinues(t *testing.T) {
	const conns, closeAfter = 12, 20
	srv := &testServer{rejectEvery: 4, closeAfter: closeAfter}
	url := srv.start(t)
	res := runLoad(t, context.Background(), "-c", fmt.Sprint(conns), "-r", "600", "-d", "1500ms", "-warmup", "0", "-reconnect", url)
	k := res.ErrorsByKind
	if k["handshake_status_503"] < conns/4 {
		t.Errorf("handshake_status_503 = %d, want >= %d (every 4th handshake is refused): %v", k["handshake_status_503"], conns/4, k)
	}
	if k["server_close_1001"] < 1 {
		t.Errorf("server_close_1001 = %d, want >= 1: %v", k["server_close_1001"], k)
	}
	var sum int64
	for _, v := range k {
		sum += v
	}
	if sum != res.Errors {
		t.Errorf("errors %d, but errors_by_kind adds up to %d", res.Errors, sum)
	}
	if res.Connections.Failed < conns/4 || res.Connections.Reconnects < 1 {
		t.Errorf("connections %+v: want failures and reconnections", res.Connections)
	}
	// Every connection is closed after 20 echoes: more than conns*20
	// received means the run went on after the closes.
	if res.Messages.Received <= conns*closeAfter {
		t.Errorf("received %d, want > %d: the run stopped at the server's closes", res.Messages.Received, conns*closeAfter)
	}
	if res.Interrupted {
		t.Error("interrupted")
	}
}

// Without -reconnect, a connection closed by the server stays closed and
// is counted; when none is left the run ends early.
func TestErrorsWithoutReconnect(t *testing.T) {
	srv := &testServer{closeAfter: 5}
	url := srv.start(t)
	res := runLoad(t, context.Background(), "-c", "4", "-r", "400", "-d", "30s", "-warmup", "0", url)
	if res.ErrorsByKind["server_close_1001"] != 4 || res.Connections.Open != 0 {
		t.Fatalf("errors %v, connections %+v: want 4 server_close_1001, none open", res.ErrorsByKind, res.Connections)
	}
	if res.DurationS > 20 {
		t.Errorf("ran %.1f s with no connection left", res.DurationS)
	}
}

func TestConnectRefusedCounted(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	res := runLoad(t, context.Background(), "-c", "3", "-r", "10", "-d", "200ms", "ws://"+addr+"/")
	if res.ErrorsByKind["connect_refused"] != 3 || res.Connections.Failed != 3 || res.Connections.Established != 0 {
		t.Fatalf("errors %v, connections %+v", res.ErrorsByKind, res.Connections)
	}
}

// A few hundred connections against the repository's echo server, with
// stamped binary and text messages, open and closed loop.
func TestEndToEndInProcess(t *testing.T) {
	srv := startWSServer(t, wsserver.Options{})
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"open-binary", []string{"-c", "300", "-r", "3000", "-ramp", "0"}},
		{"open-text", []string{"-c", "100", "-r", "1000", "-text", "-s", "100"}},
		{"closed", []string{"-c", "50"}},
		{"open-unstamped", []string{"-c", "20", "-r", "400", "-s", "8"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(tc.args, "-d", "700ms", "-warmup", "200ms", srv.URL())
			res := runLoad(t, context.Background(), args...)
			c := res.Connections
			if c.Established != c.Target || c.Failed != 0 || res.Errors != 0 {
				t.Fatalf("connections %+v errors %v", c, res.ErrorsByKind)
			}
			if res.Messages.Sent == 0 || res.Messages.Lost != 0 || res.Messages.Received != res.Messages.Sent || !res.drained {
				t.Fatalf("messages %+v, drained %v", res.Messages, res.drained)
			}
			if res.Rate.Target > 0 {
				checkScheduled(t, res)
			}
			if res.LatencyUS.Count != res.Messages.Received || res.HandshakeUS.Count != c.Established {
				t.Errorf("latency samples %d for %d messages, handshake samples %d for %d connections",
					res.LatencyUS.Count, res.Messages.Received, res.HandshakeUS.Count, c.Established)
			}
		})
	}
}

func TestSendAndRecvModes(t *testing.T) {
	srv := startWSServer(t, wsserver.Options{})
	t.Run("send", func(t *testing.T) {
		before, _ := srv.Stats()
		res := runLoad(t, context.Background(), "-mode", "send", "-c", "10", "-r", "500", "-d", "500ms", "-warmup", "100ms", "-drain", "30s", srv.URL()+"sink")
		checkScheduled(t, res)
		if res.Messages.Received != res.Messages.Sent || res.Messages.Lost != 0 || res.Errors != 0 || !res.drained {
			t.Fatalf("messages %+v errors %v drained %v: every message must be acknowledged, before -drain ends", res.Messages, res.ErrorsByKind, res.drained)
		}
		if after, _ := srv.Stats(); after-before < res.Messages.Sent {
			t.Errorf("the sink read %d messages, wsload says %d were acknowledged", after-before, res.Messages.Sent)
		}
	})
	t.Run("send-unlimited", func(t *testing.T) {
		res := runLoad(t, context.Background(), "-mode", "send", "-c", "4", "-d", "300ms", "-warmup", "0", srv.URL()+"sink")
		if res.Messages.Sent == 0 || res.Messages.Received != res.Messages.Sent || res.Errors != 0 {
			t.Fatalf("messages %+v errors %v", res.Messages, res.ErrorsByKind)
		}
	})
	t.Run("recv", func(t *testing.T) {
		res := runLoad(t, context.Background(), "-mode", "recv", "-c", "5", "-d", "500ms", "-warmup", "100ms", srv.URL()+"send?rate=200&size=32")
		if res.Messages.Received == 0 || res.Messages.BytesReceived != 32*res.Messages.Received || res.LatencyUS.Count == 0 {
			t.Fatalf("messages %+v latency %+v", res.Messages, res.LatencyUS)
		}
	})
}

// -http2 opens every WebSocket as a stream of a shared HTTP/2 connection.
func TestHTTP2(t *testing.T) {
	srv := startWSServer(t, wsserver.Options{HTTP2: true})
	res := runLoad(t, context.Background(), "-http2", "-c", "40", "-r", "400", "-d", "500ms", "-warmup", "100ms", srv.URL())
	c := res.Connections
	if c.Established != c.Target || res.Errors != 0 || res.Messages.Lost != 0 || res.Messages.Received != res.Messages.Sent {
		t.Fatalf("connections %+v messages %+v errors %v", c, res.Messages, res.ErrorsByKind)
	}
	if n := srv.Accepted(); n >= int64(c.Target) {
		t.Errorf("the server accepted %d TCP connections for %d WebSockets: they did not share HTTP/2 connections", n, c.Target)
	}
	// Without -http2 the same server is reached over HTTP/1.1, one TCP
	// connection per WebSocket.
	before := srv.Accepted()
	runLoad(t, context.Background(), "-c", "5", "-r", "50", "-d", "200ms", "-warmup", "0", srv.URL())
	if n := srv.Accepted() - before; n != 5 {
		t.Errorf("without -http2: %d TCP connections for 5 WebSockets", n)
	}
}

// -H and -subprotocol reach the handshake.
func TestHandshakeOptions(t *testing.T) {
	srv := &testServer{header: "X-Wsload-Test: yes", protocol: "chat"}
	url := srv.start(t)
	res := runLoad(t, context.Background(), "-c", "3", "-r", "30", "-d", "200ms", "-warmup", "0", "-H", "X-Wsload-Test: yes", "-subprotocol", "other,chat", url)
	if res.Connections.Established != 3 || res.Errors != 0 {
		t.Fatalf("with the header: connections %+v errors %v", res.Connections, res.ErrorsByKind)
	}
	res = runLoad(t, context.Background(), "-c", "3", "-r", "30", "-d", "200ms", "-warmup", "0", url)
	if res.ErrorsByKind["handshake_status_400"] != 3 {
		t.Fatalf("without the header: errors %v", res.ErrorsByKind)
	}
}

func TestPayloadFile(t *testing.T) {
	srv := startWSServer(t, wsserver.Options{})
	f := filepath.Join(t.TempDir(), "msg.json")
	os.WriteFile(f, []byte(`{"hello":"wörld"}`), 0o644)
	res := runLoad(t, context.Background(), "-payload", f, "-text", "-c", "5", "-r", "200", "-d", "300ms", "-warmup", "0", srv.URL())
	if res.Messages.Size != int64(len(`{"hello":"wörld"}`)) || res.Messages.Received != res.Messages.Sent || res.Errors != 0 {
		t.Fatalf("messages %+v errors %v", res.Messages, res.ErrorsByKind)
	}
}

// The JSON has the fields other tools read, with the documented types.
func TestJSONShape(t *testing.T) {
	srv := startWSServer(t, wsserver.Options{})
	dir := t.TempDir()
	out, hist := filepath.Join(dir, "out.json"), filepath.Join(dir, "lat.hlog")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-c", "5", "-r", "100", "-d", "1200ms", "-warmup", "0", "-q", "-json", out, "-hist", hist,
		"-H", "Authorization: Bearer secret", srv.URL()}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{
		"connections.target", "connections.established", "connections.failed",
		"messages.sent", "messages.received", "messages.lost", "errors", "duration_s",
		"rate.sent_per_s", "rate.received_per_s",
		"latency_us.p50", "latency_us.p90", "latency_us.p99", "latency_us.p999", "latency_us.max",
		"handshake_us.p50", "handshake_us.p99", "cpu_s", "max_rss_bytes",
	} {
		v := lookup(m, path)
		if _, ok := v.(float64); !ok {
			t.Errorf("%s = %#v, want a number", path, v)
		}
	}
	if _, ok := m["errors_by_kind"].(map[string]any); !ok {
		t.Errorf("errors_by_kind = %#v, want an object", m["errors_by_kind"])
	}
	flags, _ := m["flags"].(map[string]any)
	for _, f := range []string{"c", "r", "d", "s", "mode", "json", "hist", "q", "url"} {
		if _, ok := flags[f].(string); !ok {
			t.Errorf("flags.%s = %#v, want a string", f, flags[f])
		}
	}
	if flags["c"] != "5" || flags["r"] != "100" || flags["mode"] != "echo" {
		t.Errorf("flags %v", flags)
	}
	if strings.Contains(string(b), "secret") {
		t.Error("the Authorization header's value is in the JSON")
	}
	h, ok := m["histogram"].(string)
	if !ok {
		t.Fatalf("histogram = %#v", m["histogram"])
	}
	dh, err := decodeHist(h)
	if err != nil || float64(dh.TotalCount()) != lookup(m, "messages.received") {
		t.Fatalf("histogram: %v, %d samples for %v messages", err, dh.TotalCount(), lookup(m, "messages.received"))
	}
	if lookup(m, "cpu_s").(float64) <= 0 || lookup(m, "max_rss_bytes").(float64) <= 0 {
		t.Errorf("cpu_s %v, max_rss_bytes %v: want getrusage's values", m["cpu_s"], m["max_rss_bytes"])
	}
	// The table went to stdout.
	for _, want := range []string{"connections", "p99.9", "handshake", "errors", "peak rss"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, stdout.String())
		}
	}
	// The HdrHistogram log: header, then interval lines that decode.
	lb, _ := os.ReadFile(hist)
	var n int64
	for line := range strings.SplitSeq(strings.TrimSpace(string(lb)), "\n") {
		if strings.HasPrefix(line, "#") || strings.HasPrefix(line, `"`) {
			continue
		}
		parts := strings.Split(line, ",")
		ih, err := decodeHist(parts[len(parts)-1])
		if len(parts) != 4 || err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		n += ih.TotalCount()
	}
	if !strings.Contains(string(lb), "#[Histogram log format version") || n != dh.TotalCount() {
		t.Errorf("log has %d samples, result %d:\n%s", n, dh.TotalCount(), lb)
	}
}

func lookup(m map[string]any, path string) any {
	var v any = m
	for p := range strings.SplitSeq(path, ".") {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[p]
	}
	return v
}

// Cancelling the run (what Ctrl-C does) returns the results so far.
func TestCancelReturnsResultsSoFar(t *testing.T) {
	srv := startWSServer(t, wsserver.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for { // cancel once messages flow
			if n, _ := srv.Stats(); n >= 200 {
				cancel()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	res := runLoad(t, ctx, "-c", "10", "-r", "500", "-d", "1h", "-warmup", "0", srv.URL())
	if !res.Interrupted || res.Messages.Received == 0 || res.DurationS <= 0 || res.DurationS > 600 {
		t.Fatalf("interrupted %v, received %d, duration %.1f s", res.Interrupted, res.Messages.Received, res.DurationS)
	}
}

// Cancelled before the measured window began: nothing measured, and the
// run ends at once rather than at the end of the warm-up.
func TestCancelDuringWarmup(t *testing.T) {
	srv := startWSServer(t, wsserver.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for {
			if n, _ := srv.Stats(); n >= 100 {
				cancel()
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	done := make(chan *Result, 1)
	go func() { done <- runLoad(t, ctx, "-c", "5", "-r", "500", "-d", "1h", "-warmup", "1h", srv.URL()) }()
	select {
	case res := <-done:
		if !res.Interrupted || res.Messages.Sent != 0 || res.Messages.Received != 0 || res.DurationS != 0 {
			t.Fatalf("interrupted %v, messages %+v, duration %v: want nothing measured", res.Interrupted, res.Messages, res.DurationS)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("no result 60 s after the cancel")
	}
}

var (
	binOnce sync.Once
	binDir  string
	binErr  error
)

// buildBinary builds wsload and wsecho once for the tests that need
// processes, and returns wsload's path (wsecho is next to it).
func buildBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "wsload-test-")
		if binErr != nil {
			return
		}
		for name, pkg := range map[string]string{"wsload": ".", "wsecho": "../wsecho"} {
			out, err := exec.Command("go", "build", "-o", filepath.Join(binDir, name), pkg).CombinedOutput()
			if err != nil {
				binErr = fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
				return
			}
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return filepath.Join(binDir, "wsload")
}

// End to end, as people run it: a few hundred connections from the wsload
// binary to the wsecho binary, each its own process.
func TestEndToEndWsecho(t *testing.T) {
	bin := buildBinary(t)
	echo := exec.Command(filepath.Join(filepath.Dir(bin), "wsecho"))
	stdout, err := echo.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := echo.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		echo.Process.Signal(syscall.SIGTERM)
		echo.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("wsecho printed no URL: %v", err)
	}
	out := filepath.Join(t.TempDir(), "out.json")
	cmd := exec.Command(bin, "-c", "300", "-r", "3000", "-d", "1s", "-warmup", "300ms", "-q", "-json", out, strings.TrimSpace(line))
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("wsload: %v\n%s", err, b)
	}
	res, err := readResult(out)
	if err != nil {
		t.Fatal(err)
	}
	if res.Connections.Established != 300 || res.Connections.Failed != 0 || res.Errors != 0 ||
		res.Messages.Sent == 0 || res.Messages.Lost != 0 || res.Messages.Received != res.Messages.Sent {
		t.Fatalf("connections %+v messages %+v errors %v\n%s", res.Connections, res.Messages, res.ErrorsByKind, b)
	}
	checkScheduled(t, res)
}

// Ctrl-C (SIGINT) on the process prints the table and writes the JSON of
// what was measured so far.
func TestSIGINT(t *testing.T) {
	bin := buildBinary(t)
	srv := startWSServer(t, wsserver.Options{})
	out := filepath.Join(t.TempDir(), "out.json")
	cmd := exec.Command(bin, "-c", "20", "-r", "400", "-d", "1h", "-warmup", "0", "-q", "-json", out, srv.URL())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for n, _ := srv.Stats(); n < 200 && time.Now().Before(deadline); n, _ = srv.Stats() {
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, stderr.String())
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatal("no exit 60 s after SIGINT")
	}
	if !strings.Contains(stdout.String(), "interrupted: results so far") {
		t.Errorf("stdout:\n%s", stdout.String())
	}
	res, err := readResult(out)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted || res.Messages.Received == 0 {
		t.Fatalf("interrupted %v, messages %+v", res.Interrupted, res.Messages)
	}
}

// The open-file limit is raised to the hard limit, and a hard limit below
// what -c needs is reported (the connections that do not fit then fail
// with too_many_open_files, counted like any other error).
func TestFileLimitReported(t *testing.T) {
	bin := buildBinary(t)
	srv := startWSServer(t, wsserver.Options{})
	cmd := exec.Command("sh", "-c", `ulimit -n 40 && exec "$0" "$@"`, bin, "-c", "100", "-r", "100", "-d", "200ms", "-warmup", "0", "-q", "-json", "-", srv.URL())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Run()
	if !strings.Contains(stderr.String(), "open-file limit is 40 (hard limit 40)") {
		t.Fatalf("stderr:\n%s", stderr.String())
	}
	var res Result
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		t.Fatalf("%v: %s", err, stdout.String())
	}
	if res.ErrorsByKind["connect_too_many_open_files"] == 0 || res.Connections.Established == 0 {
		t.Errorf("errors %v, connections %+v", res.ErrorsByKind, res.Connections)
	}
}

// When the ephemeral ports towards a loopback target run out, wsload
// connects from 127.0.0.2 (and so on).
func TestSourceAddressFallback(t *testing.T) {
	srv := startWSServer(t, wsserver.Options{})
	var stderr bytes.Buffer
	sa := newSourceAddrs(srv.URL(), &stderr)
	if sa == nil {
		t.Fatal("no source addresses for a 127.0.0.1 URL")
	}
	sa.dialer = func(d *net.Dialer, ctx context.Context, network, addr string) (net.Conn, error) {
		if d.LocalAddr == nil { // as when 127.0.0.1 has no port left
			return nil, &net.OpError{Op: "dial", Net: network, Err: os.NewSyscallError("connect", syscall.EADDRNOTAVAIL)}
		}
		return d.DialContext(ctx, network, addr)
	}
	c, err := wsclient.Dial(context.Background(), srv.URL(), &wsclient.DialOptions{NetDial: sa.dial, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(wsclient.StatusNormal, "")
	if ip := c.NetConn().LocalAddr().(*net.TCPAddr).IP.String(); ip != "127.0.0.2" {
		t.Errorf("local address %s, want 127.0.0.2", ip)
	}
	if !strings.Contains(stderr.String(), "now connecting from 127.0.0.2") {
		t.Errorf("stderr %q", stderr.String())
	}
	if newSourceAddrs("ws://example.com/", io.Discard) != nil || newSourceAddrs("ws+unix:///tmp/s", io.Discard) != nil {
		t.Error("source addresses for a non-loopback target")
	}
}

// The schedule: connection i's k-th message is message k*conns+i of the
// run; firstAt finds the first one due at or after a time.
func TestSchedule(t *testing.T) {
	r := &runner{slots: make([]slot, 7), nsPer: 1e9 / 333.0}
	for i := range r.slots {
		for _, tm := range []int64{0, 1, 2_999_999, 3_003_003, 1e9, 123_456_789_012} {
			k := r.firstAt(i, tm)
			if r.at(i, k) < tm || (k > 0 && r.at(i, k-1) >= tm) {
				t.Fatalf("firstAt(%d, %d) = %d: at %d, before %d", i, tm, k, r.at(i, k), r.at(i, k-1))
			}
		}
	}
	// Across connections the messages are evenly spread: message n at n/rate.
	for n := range uint64(100) {
		if got, want := r.at(int(n%7), n/7), int64(float64(n)*r.nsPer); got != want {
			t.Fatalf("message %d at %d, want %d", n, got, want)
		}
	}
}

func TestParseArgs(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{}, 2},
		{[]string{"http://x/"}, 2},
		{[]string{"-mode", "flood", "ws://x/"}, 2},
		{[]string{"-c", "0", "ws://x/"}, 2},
		{[]string{"-mode", "recv", "-r", "10", "ws://x/"}, 2},
		{[]string{"-H", "NoColon", "ws://x/"}, 2},
		{[]string{"ws://x/", "ws://y/"}, 2},
		{[]string{"-h"}, 0},
	} {
		if cfg, code := parseArgs(tc.args, io.Discard); cfg != nil || code != tc.code {
			t.Errorf("%q: exit %d, want %d", tc.args, code, tc.code)
		}
	}
	// Flags after the URL, as people type them.
	cfg, _ := parseArgs([]string{"-c", "3", "ws://x/", "-r", "50", "-proxy", "socks5://u:pw@p:1080"}, io.Discard)
	if cfg == nil || cfg.conns != 3 || cfg.rate != 50 || cfg.url != "ws://x/" {
		t.Fatalf("%+v", cfg)
	}
	if strings.Contains(cfg.flags["proxy"], "pw") {
		t.Errorf("proxy password in the flags: %q", cfg.flags["proxy"])
	}
}

// tcp:// is the floor: the same frames through a plain TCP byte echo.
func TestTCPFloor(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer ln.Close()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	for _, size := range []string{"64", "1000", "70000"} {
		res := runLoad(t, context.Background(), "-c", "5", "-r", "200", "-s", size, "-d", "300ms", "-warmup", "0", "tcp://"+ln.Addr().String())
		if res.Messages.Sent == 0 || res.Messages.Received != res.Messages.Sent || res.Errors != 0 {
			t.Fatalf("size %s: messages %+v errors %v", size, res.Messages, res.ErrorsByKind)
		}
	}
	if cfg, _ := parseArgs([]string{"-mode", "send", "tcp://127.0.0.1:1"}, io.Discard); cfg != nil {
		t.Error("tcp:// accepted in send mode")
	}
}

// The schedulers' short sleeps return, however short (an expiry before the
// wait began must not be lost), and are not much shorter than asked.
func TestSleeper(t *testing.T) {
	sl := newSleeper()
	defer sl.close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 3000 {
			sl.sleep(time.Duration(i % 3)) // 0-2 ns: expired before any wait
		}
		for range 20 {
			t0 := time.Now()
			sl.sleep(200 * time.Microsecond)
			if el := time.Since(t0); el < 150*time.Microsecond {
				t.Errorf("slept %s for 200µs", el)
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("a sleep never returned")
	}
}
