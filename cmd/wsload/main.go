// Command wsload is a WebSocket load generator built on wsclient. It opens
// many connections, sends messages on an open-loop schedule (or in a closed
// loop), and reports latency percentiles from an HdrHistogram:
//
//	wsload [flags] URL
//	wsload -c 2000 -r 20000 -d 10s -s 64 -json out.json ws://127.0.0.1:8080/
//	wsload merge A.json B.json ...   # runs of several machines, as one JSON on stdout
//
// Open loop (-r RATE): message n of the run is due at n/RATE seconds, on
// connection n mod -c. Latency is measured from that intended send time, not
// from the moment the message could be written, so a server that stalls is
// charged for every message that waited (coordinated omission corrected, as
// wrk2 does). Echoes are matched by a sequence number and the intended time
// carried in the payload. Percentiles come from an HdrHistogram with
// microsecond resolution, 1 µs to 60 s.
//
// Modes: echo (round trips against an echoing server), send (throughput to a
// sink, acknowledged at the end by a ping answered after every message) and
// recv (count what the server pushes; latency is then the gap between
// consecutive messages of a connection).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/wsclient/wsclient"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C ends the process at once
	}()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit code (0; 1 when
// nothing could be measured or a file could not be written; 2 on bad usage).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "merge" {
		return runMerge(args[1:], stdout, stderr)
	}
	cfg, code := parseArgs(args, stderr)
	if cfg == nil {
		return code
	}
	cfg.progressOut = stderr
	if !cfg.progress && !cfg.quiet && isTerminal(stderr) {
		cfg.progress = true
	}
	if cfg.cpuProfile != "" {
		f, err := os.Create(cfg.cpuProfile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(stderr, "wsload: -cpuprofile: %v\n", err)
			return 1
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	res, err := load(ctx, cfg, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "wsload: %v\n", err)
		return 1
	}
	table := stdout
	if cfg.jsonOut == "-" {
		table = stderr
	}
	res.writeTable(table)
	if cfg.jsonOut != "" {
		if err := res.writeJSONFile(cfg.jsonOut, stdout); err != nil {
			fmt.Fprintf(stderr, "wsload: -json: %v\n", err)
			return 1
		}
	}
	if res.Connections.Established == 0 {
		return 1
	}
	return 0
}

// config is the parsed command line.
type config struct {
	url        string
	conns      int
	ramp       float64 // connections opened per second; 0: all at once
	rate       float64 // messages per second over all connections; 0: closed loop
	dur        time.Duration
	warmup     time.Duration
	size       int
	text       bool
	payload    []byte // -payload: sent as is, echoes matched in order
	mode       string // echo, send, recv
	jsonOut    string
	histOut    string
	quiet      bool
	progress   bool
	reconnect  bool
	timeout    time.Duration // connect + handshake
	drain      time.Duration // wait for outstanding echoes after -d
	tick       time.Duration // least time between two wake-ups of a scheduler
	headers    http.Header
	proxy      string
	protocols  []string
	compress   bool
	insecure   bool
	http2      bool
	cpuProfile string
	flags      map[string]string // as given, secrets redacted (for the JSON)
	tcpFloor   bool              // tcp://: the same frames over raw TCP to a byte echo server

	progressOut io.Writer
}

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ", ") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

const usageHead = `Usage: wsload [flags] URL
       wsload merge A.json B.json ...

A WebSocket load generator: -c connections, opened at -ramp per second, send
-r messages per second between them (open loop; latency is measured from each
message's intended send time), for -d after the ramp and a -warmup. URL is
ws://, wss://, ws+unix:///path or wss+unix:///path; tcp://host:port sends
the same client frames over plain TCP to a byte echo server and reads them
back: the floor a WebSocket round trip can be compared with.

merge combines the -json results of runs on several machines into one (totals
added, histograms merged, percentiles recomputed) and prints it on stdout.

Flags:
`

func parseArgs(args []string, stderr io.Writer) (*config, int) {
	fs := flag.NewFlagSet("wsload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := &config{}
	var headers, protos listFlag
	var payloadFile string
	fs.IntVar(&cfg.conns, "c", 100, "`connections` to open")
	fs.Float64Var(&cfg.ramp, "ramp", 1000, "connections opened per `second` (0: all at once)")
	fs.Float64Var(&cfg.rate, "r", 0, "messages per second over all connections, open loop (0: closed loop: a connection sends its next message when the echo of the previous arrives; in send mode, as fast as possible)")
	fs.DurationVar(&cfg.dur, "d", 10*time.Second, "measured `duration`, after the ramp and the warm-up")
	fs.DurationVar(&cfg.warmup, "warmup", time.Second, "`duration` measured but discarded after the ramp")
	fs.IntVar(&cfg.size, "s", 64, "message size in `bytes`")
	fs.BoolVar(&cfg.text, "text", false, "send text messages (default binary)")
	fs.StringVar(&payloadFile, "payload", "", "send the bytes of `file` as every message (echoes are then matched in order)")
	fs.StringVar(&cfg.mode, "mode", "echo", "echo (round trips), send (throughput to a sink, acknowledged at the end) or recv (count what the server pushes)")
	fs.StringVar(&cfg.jsonOut, "json", "", "write the results as JSON to `file` (\"-\": stdout, the table then goes to stderr)")
	fs.StringVar(&cfg.histOut, "hist", "", "write the latency histogram as an HdrHistogram interval log (one interval per second, values in µs) to `file`")
	fs.BoolVar(&cfg.quiet, "q", false, "no live progress")
	fs.BoolVar(&cfg.progress, "progress", false, "live progress on stderr even when it is not a terminal")
	fs.BoolVar(&cfg.reconnect, "reconnect", false, "reopen connections that fail or are closed (with backoff)")
	fs.DurationVar(&cfg.timeout, "timeout", 10*time.Second, "bound on connecting plus the opening handshake")
	fs.DurationVar(&cfg.tick, "tick", 0, "wake the open-loop schedulers at most every `duration`: less CPU at a few thousand messages per second, each message sent up to that late (its latency still counts from its intended time); 0: every message at its time")
	fs.DurationVar(&cfg.drain, "drain", 5*time.Second, "how long to wait after -d for echoes (or acknowledgements) of messages already sent")
	fs.Var(&headers, "H", "extra request header `\"Name: value\"` (repeatable)")
	fs.StringVar(&cfg.proxy, "proxy", "", "proxy `URL`: http://, https://, socks4://, socks4a://, socks5://, socks5h:// (user:pass@ allowed)")
	fs.Var(&protos, "subprotocol", "offer `subprotocol` (repeatable, or comma-separated)")
	fs.BoolVar(&cfg.compress, "compress", false, "offer permessage-deflate")
	fs.BoolVar(&cfg.insecure, "insecure", false, "wss: do not verify the server's certificate")
	fs.BoolVar(&cfg.http2, "http2", false, "open the WebSockets as streams of shared HTTP/2 connections (RFC 8441; h2c for ws://), failing where the server does not offer it")
	fs.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write a CPU profile of wsload itself to `file`")
	fs.Usage = func() {
		fmt.Fprint(stderr, usageHead)
		fs.PrintDefaults()
	}
	// Flags may come before and after the URL.
	var pos []string
	for rest := args; ; {
		if err := fs.Parse(rest); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, 0
			}
			return nil, 2
		}
		if fs.NArg() == 0 {
			break
		}
		pos = append(pos, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	bad := func(format string, a ...any) (*config, int) {
		fmt.Fprintf(stderr, "wsload: "+format+"\n", a...)
		return nil, 2
	}
	switch len(pos) {
	case 0:
		fs.Usage()
		return nil, 2
	case 1:
		cfg.url = pos[0]
	default:
		return bad("one URL expected, got %q", pos)
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })

	u, err := url.Parse(cfg.url)
	if err != nil {
		return bad("bad URL: %v", err)
	}
	switch strings.ToLower(u.Scheme) {
	case "ws", "wss":
	case "ws+unix", "wss+unix":
	case "tcp":
		cfg.tcpFloor = true
	default:
		return bad("URL %q: want ws://, wss://, ws+unix:// or wss+unix:// (or tcp:// for the raw TCP floor)", u.Redacted())
	}
	switch cfg.mode {
	case "echo", "send", "recv":
	default:
		return bad("-mode %q: want echo, send or recv", cfg.mode)
	}
	switch {
	case cfg.conns < 1:
		return bad("-c must be at least 1")
	case cfg.ramp < 0 || cfg.rate < 0:
		return bad("-ramp and -r must not be negative")
	case cfg.dur <= 0:
		return bad("-d must be positive")
	case cfg.warmup < 0 || cfg.drain < 0 || cfg.timeout < 0 || cfg.tick < 0:
		return bad("-warmup, -drain, -timeout and -tick must not be negative")
	case cfg.size < 0:
		return bad("-s must not be negative")
	case cfg.size > 64<<20:
		return bad("-s must be at most 64 MiB")
	}
	if payloadFile != "" {
		if set["s"] {
			return bad("-s and -payload exclude each other")
		}
		b, err := readLimited(payloadFile, 64<<20)
		if err != nil {
			return bad("-payload: %v", err)
		}
		if cfg.text && !utf8.Valid(b) {
			return bad("-payload %s: not UTF-8, so it cannot be sent as -text", payloadFile)
		}
		cfg.payload = b
		cfg.size = len(b)
	}
	if cfg.tcpFloor && cfg.mode != "echo" {
		return bad("tcp:// (the raw TCP floor) is for echo mode only")
	}
	if cfg.mode == "recv" && (set["r"] || set["s"] || set["payload"] || set["text"]) {
		return bad("-mode recv sends nothing: -r, -s, -payload and -text do not apply (the server decides what it pushes)")
	}
	if len(headers) > 0 {
		cfg.headers = http.Header{}
		for _, h := range headers {
			name, value, ok := strings.Cut(h, ":")
			name = strings.TrimSpace(name)
			if !ok || name == "" || strings.ContainsAny(name, " \t\r\n") || strings.ContainsAny(value, "\r\n") {
				return bad("-H %q: want \"Name: value\"", h)
			}
			cfg.headers.Add(textproto.CanonicalMIMEHeaderKey(name), strings.TrimSpace(value))
		}
	}
	for _, p := range protos {
		for v := range strings.SplitSeq(p, ",") {
			if v = strings.TrimSpace(v); v != "" {
				cfg.protocols = append(cfg.protocols, v)
			}
		}
	}
	if cfg.proxy != "" {
		if _, err := proxyURL(cfg.proxy); err != nil {
			return bad("-proxy: %v", err)
		}
	}
	cfg.flags = map[string]string{}
	fs.VisitAll(func(f *flag.Flag) { cfg.flags[f.Name] = redactFlag(f.Name, f.Value.String()) })
	cfg.flags["url"] = redactURL(cfg.url)
	return cfg, 0
}

// redactFlag keeps credentials out of the JSON results.
func redactFlag(name, v string) string {
	switch name {
	case "proxy":
		return redactURL(v)
	case "H":
		var out []string
		for h := range strings.SplitSeq(v, ", ") {
			n, _, _ := strings.Cut(h, ":")
			switch strings.ToLower(strings.TrimSpace(n)) {
			case "authorization", "proxy-authorization", "cookie":
				h = n + ": [redacted]"
			}
			out = append(out, h)
		}
		return strings.Join(out, ", ")
	}
	return v
}

func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil && u.User != nil {
		return u.Redacted()
	}
	return s
}

func proxyURL(raw string) (*url.URL, error) {
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return nil, fmt.Errorf("invalid proxy URL %q", redactURL(raw))
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "socks4", "socks4a", "socks5", "socks5h":
		return u, nil
	}
	return nil, fmt.Errorf("proxy URL %q: unsupported scheme %q", u.Redacted(), u.Scheme)
}

// dialOptions turns the flags into wsclient.DialOptions.
func (cfg *config) dialOptions() *wsclient.DialOptions {
	o := &wsclient.DialOptions{
		Header:       cfg.headers,
		Subprotocols: cfg.protocols,
		Timeout:      cfg.timeout,
		CloseTimeout: 2 * time.Second,
		// The echoes are checked byte by byte; validating text as well
		// would only cost the client CPU the tool is measuring.
		SkipUTF8Validation: true,
		MaxMessageSize:     max(int64(cfg.size)+1024, 1<<20),
	}
	if cfg.mode == "recv" {
		o.MaxMessageSize = 64 << 20
	}
	if cfg.proxy != "" {
		u, _ := proxyURL(cfg.proxy)
		o.Proxy = wsclient.ProxyURL(u)
	}
	if cfg.compress {
		o.Compression = &wsclient.CompressionOptions{}
	}
	if cfg.insecure {
		o.TLSConfig = insecureTLS()
	}
	if cfg.http2 {
		o.HTTP2 = wsclient.HTTP2Only
		o.HTTP2Pool = new(wsclient.HTTP2Pool)
	}
	return o
}

// readLimited reads a file of at most limit bytes.
func readLimited(name string, limit int64) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, limit)
	}
	return b, nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
