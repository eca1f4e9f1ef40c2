package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"

	"github.com/wsclient/wsclient/bench/internal/jsonish"
	"github.com/wsclient/wsclient/mask"
)

// Metrics of one cell (one library, one case, one round).
type Metrics map[string]float64

// Config holds what every cell needs.
type Config struct {
	Srv    *Server
	D      time.Duration // timed part of one cell
	Quick  bool
	Idle   int               // connections for the idle-memory scenario
	PyDir  string            // directory holding wsbench.py ("" = no Python)
	Python map[string]string // library name -> "accel" or "noaccel"
}

// Scenario is a set of cases, each measured for a set of libraries.
type Scenario struct {
	Name, Title string
	// Unit and Metric name the primary metric; Lower means smaller is
	// better (latency, memory).
	Metric, Unit string
	Lower        bool
	Cases        []Case
	// Libs lists the library names measured (in interleaving order).
	Libs []string
	// Run measures one cell.
	Run func(cfg *Config, lib string, c Case) (Metrics, error)
	// Rounds caps the number of rounds (0 = all).
	Rounds int
	// NA lists libraries without the feature, with the reason.
	NA map[string]string
	// RatioTo names the reference of the ratio column; empty means the
	// best Go peer (baselines such as raw are never the reference).
	RatioTo string
	// Note is printed under the scenario's table.
	Note string
}

// Case is one column of a scenario: a size and an optional variant.
type Case struct {
	Name string
	Size int
	Arg  string
}

var sizeCases = []Case{{"16 B", 16, ""}, {"125 B", 125, ""}, {"1 KiB", 1 << 10, ""}, {"64 KiB", 64 << 10, ""}, {"1 MiB", 1 << 20, ""}}

func sizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d B", n)
}

func casesOf(sizes ...int) []Case {
	var cs []Case
	for _, s := range sizes {
		cs = append(cs, Case{Name: sizeName(s), Size: s})
	}
	return cs
}

var goLibNames = []string{"wsclient", "gorilla", "coder", "gobwas", "gws", "raw"}

func libByName(name string) *Lib {
	for _, l := range libs() {
		if l.Name == name {
			return l
		}
	}
	return nil
}

func scenarios() []*Scenario {
	pyLibs := []string{"python+wsaccel", "python"}
	return []*Scenario{
		{
			Name: "send", Title: "Send throughput to a loopback sink, one message per call",
			Metric: "msg/s", Unit: "msg/s", Cases: sizeCases,
			Libs: append(slices.Clone(goLibNames), pyLibs...),
			Run: func(cfg *Config, lib string, c Case) (Metrics, error) {
				return sendCell(cfg, lib, c, false)
			},
		},
		{
			Name: "batch", Title: "Batched sending (many messages per write)",
			Metric: "msg/s", Unit: "msg/s", Cases: casesOf(16, 125, 1<<10),
			Libs: []string{"wsclient", "gobwas", "raw"},
			NA: map[string]string{
				"gorilla": "n/a: every message is written and flushed by itself (NextWriter/WriteMessage)",
				"coder":   "n/a: Write flushes each message",
				"gws":     "n/a: WriteMessage writes each message; Writev concatenates payloads into one message",
				"python":  "n/a",
			},
			Note: "wsclient: Queue per message, Flush every 1,024; gobwas: its low-level ws.WriteHeader + ws.Cipher into a 64 KiB bufio.Writer (the README's wsutil helpers write one message per call); raw: pre-built frames copied into a 64 KiB buffer.",
			Run: func(cfg *Config, lib string, c Case) (Metrics, error) {
				return batchCell(cfg, lib, c)
			},
		},
		{
			Name: "concurrent", Title: "8 concurrent senders on one connection",
			Metric: "msg/s", Unit: "msg/s", Cases: casesOf(16, 1<<10),
			Libs: goLibNames[:5],
			Note: "gorilla and gobwas allow one writer at a time, so their Send is wrapped in a sync.Mutex as their docs ask; wsclient, coder and gws are safe for concurrent writers.",
			Run:  concurrentCell,
		},
		{
			Name: "echo", Title: "Echo round trip latency (p50; p99 and p99.9 in the detail table)",
			Metric: "p50", Unit: "µs", Lower: true, Cases: casesOf(16, 1<<10),
			Libs: append(append(slices.Clone(goLibNames[:5]), "tcp-echo"), pyLibs...),
			Note: "tcp-echo is a raw TCP echo server (no WebSocket) returning the same bytes as a masked frame: the floor.",
			Run:  func(cfg *Config, lib string, c Case) (Metrics, error) { return echoCell(cfg, lib, c, false) },
		},
		{
			Name: "recv", Title: "Receive throughput from a flooding server (text messages)",
			Metric: "MB/s", Unit: "MB/s", Cases: casesOf(16, 1<<10, 64<<10),
			Libs: goLibNames,
			Note: "UTF-8 of text is validated by wsclient, gobwas (ReadServerData) and gws (CheckUtf8Enabled); gorilla, coder and raw do not validate.",
			Run:  recvCell,
		},
		{
			Name: "deflate", Title: "permessage-deflate: JSON-like messages sent to a sink and received from a flooding server (MB/s before compression)",
			Metric: "MB/s", Unit: "MB/s",
			Cases: []Case{{"send 1 KiB", 1 << 10, "send"}, {"send 64 KiB", 64 << 10, "send"}, {"recv 1 KiB", 1 << 10, "recv"}, {"recv 64 KiB", 64 << 10, "recv"}},
			Libs:  []string{"wsclient", "gorilla", "coder"},
			NA: map[string]string{
				"gobwas": "not measured: wsflate is a building block that plain wsutil use does not include",
				"gws":    "not measured",
			},
			Note: "No context takeover in either direction (the server grants only that, the mode gorilla supports); each library at its default level and threshold. The server floods one message compressed once by compress/flate; received text is checked for its length, wsclient's also for UTF-8. Sent messages are binary (the sink answers text frames), received ones text. `wire %` in the details is bytes on the wire (frames included) per 100 bytes of JSON.",
			Run:  deflateCell,
		},
		{
			Name: "idle", Title: "Memory per idle connection (heap + stacks after GC)",
			Metric: "B/conn", Unit: "B", Lower: true, Cases: []Case{{Name: "idle conns"}},
			Libs:   goLibNames[:5],
			Rounds: 3,
			Run:    idleCell,
		},
		{
			Name: "wss-send", Title: "Send throughput over wss (TLS 1.3, AES-GCM)",
			Metric: "msg/s", Unit: "msg/s", Cases: sizeCases,
			Libs: append(slices.Clone(goLibNames), pyLibs...),
			Run: func(cfg *Config, lib string, c Case) (Metrics, error) {
				return sendCell(cfg, lib, c, true)
			},
		},
		{
			Name: "wss-echo", Title: "Echo round trip latency over wss (p50)",
			Metric: "p50", Unit: "µs", Lower: true, Cases: casesOf(16, 1<<10),
			Libs: append(slices.Clone(goLibNames[:5]), pyLibs...),
			Run:  func(cfg *Config, lib string, c Case) (Metrics, error) { return echoCell(cfg, lib, c, true) },
		},
		{
			Name: "mask", Title: "Mask kernels (" + mask.Impl() + ") vs ws.Cipher and copy()",
			Metric: "GB/s", Unit: "GB/s", Cases: casesOf(7, 15, 16, 31, 64, 125, 1<<10, 16<<10, 64<<10, 1<<20),
			Libs:    []string{"mask.Copy", "mask.Apply", "ws.Cipher", "copy()"},
			RatioTo: "ws.Cipher",
			Note:    "mask.Copy masks src into dst in one pass; mask.Apply and ws.Cipher mask in place; copy() is the memory-bandwidth ceiling for Copy.",
			Run:     maskCell,
		},
		{
			Name: "utf8", Title: "UTF-8 validation (" + utf8Impl() + ") vs utf8.Valid",
			Metric: "GB/s", Unit: "GB/s",
			Cases: []Case{{"ASCII 1 KiB", 1 << 10, "ascii"}, {"ASCII 64 KiB", 64 << 10, "ascii"},
				{"mixed 1 KiB", 1 << 10, "mixed"}, {"mixed 64 KiB", 64 << 10, "mixed"}},
			Libs:    []string{utf8Name, "utf8.Valid"},
			RatioTo: "utf8.Valid",
			Note:    utf8Note,
			Run:     utf8Cell,
		},
		h2OpenScenario, h2SendScenario, h2EchoScenario, // h2.go
	}
}

// payload returns a deterministic payload of n bytes.
func payload(n int) []byte {
	p := make([]byte, n)
	for i := range p {
		p[i] = byte(i*7 + 3)
	}
	return p
}

// fillText is the benchserver's FillText: valid UTF-8, mostly ASCII with
// a two-byte character every 16 bytes.
func fillText(p []byte) {
	const s = "The quick brown fox jumps over the lazy dog, café; "
	for i := 0; i < len(p); {
		if i%16 == 15 && i+2 <= len(p) {
			p[i], p[i+1] = 0xc3, 0xa9
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

func dial(lib *Lib, url string) (Client, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return lib.Dial(ctx, url)
}

// syncSink sends a text message to the sink and waits for its answer: all
// earlier messages were read by the server.
func syncSink(c Client) error {
	if err := c.Send(true, []byte("s")); err != nil {
		return err
	}
	_, _, err := c.Recv()
	return err
}

type memSnap struct {
	mallocs, bytes uint64
}

func snap() memSnap {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return memSnap{m.Mallocs, m.TotalAlloc}
}

// sendLoop calls send in chunks of k until d has passed; it returns the
// number of calls.
func sendLoop(d time.Duration, k int, send func() error) (int, error) {
	n := 0
	t0 := time.Now()
	for time.Since(t0) < d {
		for range k {
			if err := send(); err != nil {
				return n, err
			}
		}
		n += k
	}
	return n, nil
}

func chunkFor(size int) int { return max(1, min(1024, (256<<10)/max(size, 1))) }

func sendCell(cfg *Config, lib string, c Case, tls bool) (Metrics, error) {
	if py, ok := cfg.Python[lib]; ok {
		return pythonCell(cfg, py, "send", cfg.Srv.URL(tls, "/sink"), c.Size)
	}
	l := libByName(lib)
	cl, err := dial(l, cfg.Srv.URL(tls, "/sink"))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	p := payload(c.Size)
	m, _, err := timedSends(cfg, cl, chunkFor(c.Size), c.Size, func() error { return cl.Send(false, p) }, nil)
	return m, err
}

// timedSends runs send in chunks of k for a warm-up and then for cfg.D, each
// ended by a sync with the sink, and returns the send metrics for messages
// of size bytes and the number of messages timed. start, if not nil, is
// called when the timed part starts.
func timedSends(cfg *Config, cl Client, k, size int, send func() error, start func()) (Metrics, int, error) {
	if _, err := sendLoop(cfg.D/5, k, send); err != nil { // warm-up
		return nil, 0, err
	}
	if err := syncSink(cl); err != nil {
		return nil, 0, err
	}
	runtime.GC()
	m0 := snap()
	if start != nil {
		start()
	}
	t0 := time.Now()
	n, err := sendLoop(cfg.D, k, send)
	if err != nil {
		return nil, 0, err
	}
	if err := syncSink(cl); err != nil {
		return nil, 0, err
	}
	el := time.Since(t0).Seconds()
	return sendMetrics(n, size, el, m0, snap()), n, nil
}

func sendMetrics(n, size int, secs float64, m0, m1 memSnap) Metrics {
	return Metrics{
		"msg/s":      float64(n) / secs,
		"MB/s":       float64(n) * float64(size) / secs / 1e6,
		"allocs/msg": float64(m1.mallocs-m0.mallocs) / float64(n),
		"B/msg":      float64(m1.bytes-m0.bytes) / float64(n),
	}
}

func batchCell(cfg *Config, lib string, c Case) (Metrics, error) {
	l := libByName(lib)
	cl, err := dial(l, cfg.Srv.URL(false, "/sink"))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	b, ok := cl.(Batcher)
	if !ok {
		return nil, fmt.Errorf("%s: no batching", lib)
	}
	p := payload(c.Size)
	const k = 1024
	i := 0
	send := func() error {
		if err := b.Queue(p); err != nil {
			return err
		}
		if i++; i == k {
			i = 0
			return b.Flush()
		}
		return nil
	}
	if _, err := sendLoop(cfg.D/5, k, send); err != nil {
		return nil, err
	}
	if err := syncSink(cl); err != nil {
		return nil, err
	}
	runtime.GC()
	m0 := snap()
	t0 := time.Now()
	n, err := sendLoop(cfg.D, k, send)
	if err != nil {
		return nil, err
	}
	if err := syncSink(cl); err != nil {
		return nil, err
	}
	el := time.Since(t0).Seconds()
	m1 := snap()
	return sendMetrics(n, c.Size, el, m0, m1), nil
}

func concurrentCell(cfg *Config, lib string, c Case) (Metrics, error) {
	l := libByName(lib)
	cl, err := dial(l, cfg.Srv.URL(false, "/sink"))
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	if !l.Safe {
		cl = &lockedClient{Client: cl}
	}
	const senders = 8
	run := func(d time.Duration) (int, error) {
		var total atomic.Int64
		var wg sync.WaitGroup
		errs := make([]error, senders)
		for g := range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				p := payload(c.Size)
				n, err := sendLoop(d, chunkFor(c.Size)/8+1, func() error { return cl.Send(false, p) })
				total.Add(int64(n))
				errs[g] = err
			}()
		}
		wg.Wait()
		return int(total.Load()), errors.Join(errs...)
	}
	if _, err := run(cfg.D / 5); err != nil {
		return nil, err
	}
	if err := syncSink(cl); err != nil {
		return nil, err
	}
	runtime.GC()
	m0 := snap()
	t0 := time.Now()
	n, err := run(cfg.D)
	if err != nil {
		return nil, err
	}
	if err := syncSink(cl); err != nil {
		return nil, err
	}
	el := time.Since(t0).Seconds()
	m1 := snap()
	return sendMetrics(n, c.Size, el, m0, m1), nil
}

func latencyMetrics(lat []time.Duration, secs float64) Metrics {
	slices.Sort(lat)
	q := func(f float64) float64 {
		return float64(lat[min(len(lat)-1, int(f*float64(len(lat))))]) / 1e3
	}
	return Metrics{"p50": q(0.50), "p99": q(0.99), "p99.9": q(0.999), "msg/s": float64(len(lat)) / secs}
}

// echoConns is how many connections one echo cell spreads its time over:
// on the 2-vCPU machine the round-trip time of a connection sat in one of
// two modes (about 28 or 60-80 µs) for its whole life, whatever the
// library, so a cell of one connection measured mostly luck.
const echoConns = 4

func echoCell(cfg *Config, lib string, c Case, tls bool) (Metrics, error) {
	if py, ok := cfg.Python[lib]; ok {
		return pythonCell(cfg, py, "echo", cfg.Srv.URL(tls, "/echo"), c.Size)
	}
	return echoLatency(cfg, func() (func() error, func() error, error) { return echoConn(cfg, lib, c, tls) })
}

// echoLatency measures round trips over echoConns connections that open
// makes one after another: each warms up for a fifth of its share of
// cfg.D, then times its share.
func echoLatency(cfg *Config, open func() (rt, closeFn func() error, err error)) (Metrics, error) {
	lat := make([]time.Duration, 0, 1<<16)
	var timed time.Duration
	for range echoConns {
		rt, closeFn, err := open()
		if err != nil {
			return nil, err
		}
		for t0 := time.Now(); time.Since(t0) < cfg.D/5/echoConns; {
			if err := rt(); err != nil {
				closeFn()
				return nil, err
			}
		}
		runtime.GC()
		t0 := time.Now()
		for time.Since(t0) < cfg.D/echoConns {
			s := time.Now()
			if err := rt(); err != nil {
				closeFn()
				return nil, err
			}
			lat = append(lat, time.Since(s))
		}
		timed += time.Since(t0)
		closeFn()
	}
	return latencyMetrics(lat, timed.Seconds()), nil
}

// echoConn opens one echo connection for lib and returns its round trip.
func echoConn(cfg *Config, lib string, c Case, tls bool) (rt func() error, closeFn func() error, err error) {
	if lib == "tcp-echo" {
		conn, err := net.Dial("tcp", cfg.Srv.TCP)
		if err != nil {
			return nil, nil, err
		}
		frame := appendMasked(nil, 2, payload(c.Size))
		in := make([]byte, len(frame))
		return func() error {
			if _, err := conn.Write(frame); err != nil {
				return err
			}
			for got := 0; got < len(in); {
				m, err := conn.Read(in[got:])
				if err != nil {
					return err
				}
				got += m
			}
			return nil
		}, conn.Close, nil
	}
	cl, err := dial(libByName(lib), cfg.Srv.URL(tls, "/echo"))
	if err != nil {
		return nil, nil, err
	}
	p := payload(c.Size)
	return func() error {
		if err := cl.Send(false, p); err != nil {
			return err
		}
		_, q, err := cl.Recv()
		if err == nil && len(q) != len(p) {
			err = fmt.Errorf("echo returned %d bytes, want %d", len(q), len(p))
		}
		return err
	}, cl.Close, nil
}

func recvCell(cfg *Config, lib string, c Case) (Metrics, error) {
	budget, maxN := 64<<20, 100_000
	if cfg.Quick {
		budget, maxN = 8<<20, 30_000
	}
	n := max(100, min(maxN, budget/c.Size))
	url := cfg.Srv.URL(false, fmt.Sprintf("/flood?n=%d&size=%d&text=1", n, c.Size))
	cl, err := dial(libByName(lib), url)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	m, _, err := timedRecvs(cl, n, c.Size, nil, nil)
	return m, err
}

// timedRecvs receives n text messages of size bytes, the first tenth as a
// warm-up, and returns the receive metrics and the number of messages
// timed. want, if not nil, must equal the first message; start, if not
// nil, is called when the timed part starts.
func timedRecvs(cl Client, n, size int, want []byte, start func()) (Metrics, int, error) {
	warm := n / 10
	var t0 time.Time
	var m0 memSnap
	for i := range n {
		if i == warm {
			m0 = snap()
			if start != nil {
				start()
			}
			t0 = time.Now()
		}
		text, p, err := cl.Recv()
		if err != nil {
			return nil, 0, fmt.Errorf("message %d: %w", i, err)
		}
		if !text || len(p) != size || i == 0 && want != nil && string(p) != string(want) {
			return nil, 0, fmt.Errorf("message %d: text %v, %d bytes, want the %d-byte text", i, text, len(p), size)
		}
	}
	el := time.Since(t0).Seconds()
	return sendMetrics(n-warm, size, el, m0, snap()), n - warm, nil
}

func idleCell(cfg *Config, lib string, c Case) (Metrics, error) {
	l := libByName(lib)
	n := cfg.Idle
	conns := make([]Client, 0, n)
	defer func() {
		for _, cl := range conns {
			cl.Close()
		}
	}()
	use := func() uint64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapInuse + m.StackInuse
	}
	m0 := use()
	for range n {
		cl, err := dial(l, cfg.Srv.URL(false, "/sink"))
		if err != nil {
			return nil, err
		}
		conns = append(conns, cl)
	}
	time.Sleep(50 * time.Millisecond)
	m1 := use()
	return Metrics{"B/conn": (float64(m1) - float64(m0)) / float64(n)}, nil
}

// bestRate returns the best calls-per-second of five timeLoops of d/5:
// on a shared machine the least disturbed run is the kernel's speed.
func bestRate(d time.Duration, f func()) float64 {
	best := 0.0
	for range 5 {
		best = max(best, timeLoop(d/5, f))
	}
	return best
}

// timeLoop runs f in growing batches until d has passed and returns the
// number of calls per second.
func timeLoop(d time.Duration, f func()) float64 {
	n := 1
	for {
		t0 := time.Now()
		for range n {
			f()
		}
		el := time.Since(t0)
		if el >= d {
			return float64(n) / el.Seconds()
		}
		if el < d/100 {
			n *= 10
		} else {
			n = int(float64(n)*1.1*float64(d)/float64(el)) + 1
		}
	}
}

var sinkPos int

func maskCell(cfg *Config, impl string, c Case) (Metrics, error) {
	src := payload(c.Size + 1)[1:] // unaligned
	dst := make([]byte, c.Size+1)[1:]
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	var f func()
	switch impl {
	case "mask.Copy":
		f = func() { sinkPos += mask.Copy(dst, src, key, 1) }
	case "mask.Apply":
		f = func() { sinkPos += mask.Apply(dst, key, 1) }
	case "ws.Cipher":
		f = func() { ws.Cipher(dst, key, 1) }
	case "copy()":
		f = func() { sinkPos += copy(dst, src) }
	}
	d := max(cfg.D/8, 10*time.Millisecond)
	timeLoop(d/5, f)
	ops := bestRate(d, f)
	return Metrics{"GB/s": ops * float64(c.Size) / 1e9}, nil
}

var sinkBool bool

func utf8Cell(cfg *Config, impl string, c Case) (Metrics, error) {
	p := make([]byte, c.Size)
	if c.Arg == "ascii" {
		for i := range p {
			p[i] = 'a' + byte(i%26)
		}
	} else {
		fillMixed(p)
	}
	if !utf8.Valid(p) {
		return nil, errors.New("utf8 input is not valid")
	}
	var f func()
	switch impl {
	case "utf8.Valid":
		f = func() { sinkBool = utf8.Valid(p) }
	default:
		f = func() { sinkBool = validUTF8(p) }
	}
	if !validUTF8(p) {
		return nil, errors.New("the validator rejects valid input")
	}
	d := max(cfg.D/8, 10*time.Millisecond)
	timeLoop(d/5, f)
	ops := bestRate(d, f)
	return Metrics{"GB/s": ops * float64(c.Size) / 1e9}, nil
}

// fillMixed fills p with valid mixed text: ASCII, Latin-1, CJK and emoji.
func fillMixed(p []byte) {
	words := []string{"hello ", "wörld ", "日本語 ", "😀 ", "Ελληνικά ", "data "}
	r := rand.New(rand.NewPCG(1, 2))
	i := 0
	for i < len(p) {
		w := words[r.IntN(len(words))]
		if i+len(w) > len(p) {
			for ; i < len(p); i++ {
				p[i] = ' '
			}
			break
		}
		i += copy(p[i:], w)
	}
}

// pythonCell runs python/wsbench.py.
func pythonCell(cfg *Config, variant, mode, url string, size int) (Metrics, error) {
	secs := cfg.D.Seconds()
	cmd := exec.Command(pythonExe(), cfg.PyDir+"/wsbench.py", mode, url, fmt.Sprint(size), fmt.Sprint(secs))
	cmd.Env = os.Environ()
	if variant == "noaccel" {
		cmd.Env = append(cmd.Env, "WSBENCH_NOACCEL=1")
	}
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return nil, fmt.Errorf("python: %v: %s", err, ee.Stderr)
		}
		return nil, err
	}
	var r struct {
		Accel bool
		Msgs  int
		Secs  float64
		Lat   []float64
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return nil, err
	}
	if r.Accel != (variant == "accel") {
		return nil, fmt.Errorf("python: wsaccel in use = %v, want %v", r.Accel, variant == "accel")
	}
	if mode == "echo" {
		lat := make([]time.Duration, len(r.Lat))
		for i, s := range r.Lat {
			lat[i] = time.Duration(s * 1e9)
		}
		return latencyMetrics(lat, r.Secs), nil
	}
	return Metrics{
		"msg/s": float64(r.Msgs) / r.Secs,
		"MB/s":  float64(r.Msgs) * float64(size) / r.Secs / 1e6,
	}, nil
}

// pythonExe is Debian's interpreter, which sees python3-websocket and
// python3-wsaccel, when it exists (a pyenv shim earlier in PATH does not).
func pythonExe() string {
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		return "/usr/bin/python3"
	}
	return "python3"
}

// pythonAvailable reports which Python variants can run, with notes.
func pythonAvailable() (map[string]string, []string) {
	have := map[string]string{}
	var notes []string
	if err := exec.Command(pythonExe(), "-c", "import websocket").Run(); err != nil {
		notes = append(notes, "python: skipped, websocket-client (Debian python3-websocket) is not installed")
		return have, notes
	}
	have["python"] = "noaccel"
	if err := exec.Command(pythonExe(), "-c", "import wsaccel.xormask, wsaccel.utf8validator").Run(); err != nil {
		notes = append(notes, "python+wsaccel: skipped, wsaccel (Debian python3-wsaccel) is not installed")
	} else {
		have["python+wsaccel"] = "accel"
	}
	return have, notes
}

// countConn counts the bytes read and written on a connection.
type countConn struct {
	net.Conn
	r, w *atomic.Int64
}

func (c *countConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.r.Add(int64(n))
	return n, err
}

func (c *countConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.w.Add(int64(n))
	return n, err
}

// countingDial dials TCP connections that count their bytes into r and w.
func countingDial(r, w *atomic.Int64) netDial {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var d net.Dialer
		nc, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &countConn{Conn: nc, r: r, w: w}, nil
	}
}

// deflateCell measures compressed sending (c.Arg "send") or receiving
// ("recv") of JSON-like text with permessage-deflate negotiated.
func deflateCell(cfg *Config, lib string, c Case) (Metrics, error) {
	l := libByName(lib)
	var rd, wr atomic.Int64
	nd := countingDial(&rd, &wr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if c.Arg == "send" {
		cl, err := l.DialDeflate(ctx, cfg.Srv.URL(false, "/sink?deflate=1"), nd)
		if err != nil {
			return nil, err
		}
		defer cl.Close()
		p := jsonish.Make(c.Size, 2)
		var w0 int64
		// Binary: the sink answers text frames (the sync) and skips the rest.
		m, n, err := timedSends(cfg, cl, max(1, chunkFor(c.Size)/8), c.Size,
			func() error { return cl.Send(false, p) }, func() { w0 = wr.Load() })
		if err != nil {
			return nil, err
		}
		m["wire %"] = 100 * float64(wr.Load()-w0) / float64(n*c.Size)
		return m, nil
	}
	budget, maxN := 32<<20, 30_000
	if cfg.Quick {
		budget, maxN = 4<<20, 5_000
	}
	n := max(100, min(maxN, budget/c.Size))
	cl, err := l.DialDeflate(ctx, cfg.Srv.URL(false, fmt.Sprintf("/flood?n=%d&size=%d&deflate=1", n, c.Size)), nd)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	var r0 int64
	m, timed, err := timedRecvs(cl, n, c.Size, jsonish.Make(c.Size, 1), func() { r0 = rd.Load() })
	if err != nil {
		return nil, err
	}
	m["wire %"] = 100 * float64(rd.Load()-r0) / float64(timed*c.Size)
	return m, nil
}
