package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// Result is what a run measured; its JSON form is wsload's output format
// and merge's input.
type Result struct {
	Tool        string            `json:"tool"` // "wsload"
	URL         string            `json:"url"`
	Mode        string            `json:"mode"`
	Flags       map[string]string `json:"flags"`
	Machines    int               `json:"machines"` // runs combined by merge (1 for a run)
	Interrupted bool              `json:"interrupted"`

	Connections struct {
		Target      int64 `json:"target"`
		Established int64 `json:"established"` // successful handshakes, reconnections included
		Failed      int64 `json:"failed"`      // failed connection attempts
		Reconnects  int64 `json:"reconnects"`
		Open        int64 `json:"open"` // open at the end of the measured window
	} `json:"connections"`
	Messages struct {
		Sent          int64 `json:"sent"`
		Received      int64 `json:"received"` // echoed, acknowledged (send) or pushed (recv)
		Lost          int64 `json:"lost"`
		Size          int64 `json:"size"`
		BytesReceived int64 `json:"bytes_received"`
	} `json:"messages"`
	Errors       int64            `json:"errors"`
	ErrorsByKind map[string]int64 `json:"errors_by_kind"`
	DurationS    float64          `json:"duration_s"`
	Rate         struct {
		Target       float64 `json:"target_per_s"` // -r (0: closed loop)
		SentPerS     float64 `json:"sent_per_s"`
		ReceivedPerS float64 `json:"received_per_s"`
	} `json:"rate"`
	LatencyUS   Percentiles `json:"latency_us"`
	HandshakeUS Percentiles `json:"handshake_us"`
	CPUS        float64     `json:"cpu_s"`
	MaxRSSBytes int64       `json:"max_rss_bytes"`
	// Histogram is the latency histogram (µs, 1 µs to 60 s, 3 digits),
	// HdrHistogram V2 compressed, base64: what merge combines.
	Histogram          string `json:"histogram"`
	HandshakeHistogram string `json:"handshake_histogram"`

	lat, hs *hdr.Histogram
	drained bool // every echo (acknowledgement) came before -drain ran out
}

// Percentiles of a histogram, in µs.
type Percentiles struct {
	Count int64   `json:"count"`
	Min   int64   `json:"min"`
	Mean  float64 `json:"mean"`
	P50   int64   `json:"p50"`
	P90   int64   `json:"p90"`
	P99   int64   `json:"p99"`
	P999  int64   `json:"p999"`
	Max   int64   `json:"max"`
}

func percentiles(h *hdr.Histogram) Percentiles {
	if h.TotalCount() == 0 {
		return Percentiles{}
	}
	return Percentiles{
		Count: h.TotalCount(),
		Min:   h.Min(),
		Mean:  float64(int64(h.Mean()*10)) / 10,
		P50:   h.ValueAtQuantile(50),
		P90:   h.ValueAtQuantile(90),
		P99:   h.ValueAtQuantile(99),
		P999:  h.ValueAtQuantile(99.9),
		Max:   h.Max(),
	}
}

// setHists stores the histograms and everything derived from them.
func (res *Result) setHists(lat, hs *hdr.Histogram) {
	res.lat, res.hs = lat, hs
	res.LatencyUS = percentiles(lat)
	res.HandshakeUS = percentiles(hs)
	res.Histogram = encodeHist(lat)
	res.HandshakeHistogram = encodeHist(hs)
}

func (r *runner) result(interrupted bool, cpu float64, rss, open int64) *Result {
	res := &Result{Tool: "wsload", URL: redactURL(r.cfg.url), Mode: r.cfg.mode, Flags: r.cfg.flags, Machines: 1, Interrupted: interrupted}
	res.Connections.Target = int64(r.cfg.conns)
	res.Connections.Established = r.established.Load()
	res.Connections.Failed = r.failed.Load()
	res.Connections.Reconnects = r.reconnects.Load()
	res.Connections.Open = open
	for i := range r.slots {
		s := &r.slots[i]
		res.Messages.Sent += s.sent.Load()
		res.Messages.Received += s.recv.Load()
		res.Messages.BytesReceived += s.recvBytes.Load()
	}
	res.Messages.Size = int64(len(r.tmpl))
	if r.cfg.mode == "recv" {
		res.Messages.Size = 0
	} else {
		res.Messages.Lost = max(0, res.Messages.Sent-res.Messages.Received)
		res.Messages.BytesReceived = res.Messages.Received * res.Messages.Size
	}
	res.Errors, res.ErrorsByKind = r.st.errors()
	res.DurationS = float64(r.mEnd.Load()-r.mStart.Load()) / 1e9
	res.Rate.Target = r.cfg.rate
	if res.DurationS > 0 {
		res.Rate.SentPerS = float64(res.Messages.Sent) / res.DurationS
		res.Rate.ReceivedPerS = float64(res.Messages.Received) / res.DurationS
	}
	res.CPUS, res.MaxRSSBytes = cpu, rss
	r.st.hsMu.Lock()
	hs := newHist()
	hs.Merge(r.st.hs)
	r.st.hsMu.Unlock()
	res.setHists(r.st.take(func(sh *shard) *hdr.Histogram { return sh.lat }, false), hs)
	return res
}

func (res *Result) writeJSONFile(name string, stdout io.Writer) error {
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if name == "-" {
		_, err = stdout.Write(b)
		return err
	}
	return os.WriteFile(name, b, 0o644)
}

// writeTable prints the human-readable summary.
func (res *Result) writeTable(w io.Writer) {
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	p := func(format string, a ...any) { fmt.Fprintf(bw, format, a...) }
	loop := "closed loop"
	if res.Rate.Target > 0 {
		loop = fmt.Sprintf("open loop at %s msg/s", num(res.Rate.Target))
	}
	p("wsload %s, %s mode, %d connections", res.URL, res.Mode, res.Connections.Target)
	if res.Mode != "recv" {
		p(", %s, %d B messages", loop, res.Messages.Size)
	}
	if res.Machines > 1 {
		p(", %d machines merged", res.Machines)
	}
	p("\n")
	if res.Interrupted {
		p("interrupted: results so far\n")
	}
	p("%-12s %.2f s measured\n", "duration", res.DurationS)
	c := res.Connections
	p("%-12s established %d, failed %d, reconnects %d, open at end %d (target %d)\n", "connections", c.Established, c.Failed, c.Reconnects, c.Open, c.Target)
	m := res.Messages
	switch res.Mode {
	case "recv":
		p("%-12s received %d (%s/s, %s MB/s)\n", "messages", m.Received, num(res.Rate.ReceivedPerS), num(float64(m.BytesReceived)/max(res.DurationS, 1e-9)/1e6))
	default:
		what := "received"
		if res.Mode == "send" {
			what = "acknowledged"
		}
		p("%-12s sent %d, %s %d, lost %d\n", "messages", m.Sent, what, m.Received, m.Lost)
		p("%-12s sent %s/s, %s %s/s\n", "rate", num(res.Rate.SentPerS), what, num(res.Rate.ReceivedPerS))
	}
	label := map[string]string{"echo": "latency", "send": "send delay", "recv": "gap"}[res.Mode]
	l := res.LatencyUS
	if l.Count > 0 {
		p("%-12s p50 %s  p90 %s  p99 %s  p99.9 %s  max %s  (%d samples)\n", label, us(l.P50), us(l.P90), us(l.P99), us(l.P999), us(l.Max), l.Count)
	} else {
		p("%-12s no samples\n", label)
	}
	if h := res.HandshakeUS; h.Count > 0 {
		p("%-12s p50 %s  p99 %s  max %s\n", "handshake", us(h.P50), us(h.P99), us(h.Max))
	}
	p("%-12s %d\n", "errors", res.Errors)
	for _, k := range sortedKinds(res.ErrorsByKind) {
		p("  %-26s %d\n", k, res.ErrorsByKind[k])
	}
	perConn := ""
	if c.Target > 0 && res.MaxRSSBytes > 0 {
		perConn = fmt.Sprintf(" (%.1f KiB per connection)", float64(res.MaxRSSBytes)/float64(c.Target)/1024)
	}
	p("%-12s cpu %.2f s, peak rss %.1f MiB%s\n", "client", res.CPUS, float64(res.MaxRSSBytes)/(1<<20), perConn)
}

// us formats microseconds.
func us(v int64) string {
	switch {
	case v >= 1_000_000:
		return fmt.Sprintf("%.2fs", float64(v)/1e6)
	case v >= 1000:
		return fmt.Sprintf("%.2fms", float64(v)/1e3)
	}
	return fmt.Sprintf("%dµs", v)
}

func num(f float64) string {
	if f >= 100 || f == float64(int64(f)) {
		return fmt.Sprintf("%.0f", f)
	}
	return fmt.Sprintf("%.1f", f)
}

// runMerge implements "wsload merge A.json B.json ...".
func runMerge(files []string, stdout, stderr io.Writer) int {
	if len(files) == 0 {
		fmt.Fprintln(stderr, "usage: wsload merge A.json B.json ...  (prints the combined result as JSON)")
		return 2
	}
	var rs []*Result
	for _, f := range files {
		res, err := readResult(f)
		if err != nil {
			fmt.Fprintf(stderr, "wsload merge: %v\n", err)
			return 1
		}
		rs = append(rs, res)
	}
	out, err := merge(rs)
	if err != nil {
		fmt.Fprintf(stderr, "wsload merge: %v\n", err)
		return 1
	}
	if err := out.writeJSONFile("-", stdout); err != nil {
		fmt.Fprintf(stderr, "wsload merge: %v\n", err)
		return 1
	}
	return 0
}

func readResult(name string) (*Result, error) {
	b, err := readLimited(name, 64<<20)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	if err := json.Unmarshal(b, res); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if res.Tool != "wsload" {
		return nil, fmt.Errorf("%s: not a wsload result (tool %q)", name, res.Tool)
	}
	if res.lat, err = decodeHist(res.Histogram); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if res.hs, err = decodeHist(res.HandshakeHistogram); err != nil {
		return nil, fmt.Errorf("%s: handshake %w", name, err)
	}
	return res, nil
}

// merge combines runs made at the same time on several machines: counts,
// rates, CPU and memory are added, the duration is the longest, histograms
// are merged and the percentiles recomputed from them.
func merge(rs []*Result) (*Result, error) {
	if len(rs) == 0 {
		return nil, errors.New("nothing to merge")
	}
	out := &Result{Tool: "wsload", URL: rs[0].URL, Mode: rs[0].Mode, Flags: rs[0].Flags, ErrorsByKind: map[string]int64{}}
	lat, hs := newHist(), newHist()
	for _, r := range rs {
		if r.Mode != out.Mode {
			return nil, fmt.Errorf("cannot merge %s mode with %s mode", r.Mode, out.Mode)
		}
		if r.URL != out.URL && !strings.HasSuffix(out.URL, " (and others)") {
			out.URL += " (and others)"
		}
		out.Machines += max(r.Machines, 1)
		out.Interrupted = out.Interrupted || r.Interrupted
		c, rc := &out.Connections, r.Connections
		c.Target += rc.Target
		c.Established += rc.Established
		c.Failed += rc.Failed
		c.Reconnects += rc.Reconnects
		c.Open += rc.Open
		m, rm := &out.Messages, r.Messages
		m.Sent += rm.Sent
		m.Received += rm.Received
		m.Lost += rm.Lost
		m.BytesReceived += rm.BytesReceived
		m.Size = max(m.Size, rm.Size)
		out.Errors += r.Errors
		for k, v := range r.ErrorsByKind {
			out.ErrorsByKind[k] += v
		}
		out.DurationS = max(out.DurationS, r.DurationS)
		out.Rate.Target += r.Rate.Target
		out.Rate.SentPerS += r.Rate.SentPerS
		out.Rate.ReceivedPerS += r.Rate.ReceivedPerS
		out.CPUS += r.CPUS
		out.MaxRSSBytes += r.MaxRSSBytes
		if d := lat.Merge(r.lat); d > 0 {
			return nil, fmt.Errorf("%d latency samples out of range", d)
		}
		hs.Merge(r.hs)
	}
	out.setHists(lat, hs)
	return out, nil
}

// progressLoop prints a line a second (when asked) and writes the -hist
// intervals; it returns when stop is closed, after a last interval.
func (r *runner) progressLoop(stop <-chan struct{}, done chan<- struct{}, hl *histLog) {
	defer close(done)
	tk := time.NewTicker(time.Second)
	defer tk.Stop()
	var lastSent, lastRecv int64
	last := time.Now()
	for {
		final := false
		select {
		case <-tk.C:
		case <-stop:
			final = true
		}
		if hl != nil {
			hl.interval(r, final)
		}
		if final {
			return
		}
		var sent, recv int64
		for i := range r.slots {
			sent += r.slots[i].allSent.Load()
			recv += r.slots[i].allRecv.Load()
		}
		iv := r.st.take(func(sh *shard) *hdr.Histogram { return sh.ival }, true)
		now := time.Now()
		secs := now.Sub(last).Seconds()
		if r.cfg.progress {
			nerr, _ := r.st.errors()
			fmt.Fprintf(r.cfg.progressOut, "wsload: %5.0fs %-8s conns %d/%d  sent %s/s  recv %s/s  p50 %s  p99 %s  errors %d\n",
				now.Sub(r.base).Seconds(), r.phase(), r.live.Load(), len(r.slots),
				num(float64(sent-lastSent)/secs), num(float64(recv-lastRecv)/secs),
				us(iv.ValueAtQuantile(50)), us(iv.ValueAtQuantile(99)), nerr)
		}
		lastSent, lastRecv, last = sent, recv, now
	}
}

func (r *runner) phase() string {
	now := r.now()
	switch {
	case r.stopping.Load():
		return "drain"
	case r.mStart.Load() == 1<<63-1:
		return "ramp"
	case now < r.mStart.Load():
		return "warm-up"
	}
	return "measure"
}

// histLog writes the measured latencies as an HdrHistogram interval log
// (format 1.3): one interval a second, values in µs.
type histLog struct {
	f     *os.File
	bw    *bufio.Writer
	lw    *hdr.HistogramLogWriter
	start time.Time // of the first interval
	last  time.Time
	err   error
}

func createHistLog(name string) (*histLog, error) {
	f, err := os.Create(name)
	if err != nil {
		return nil, err
	}
	hl := &histLog{f: f, bw: bufio.NewWriter(f)}
	hl.lw = hdr.NewHistogramLogWriter(hl.bw)
	return hl, nil
}

func (hl *histLog) interval(r *runner, final bool) {
	ms := r.mStart.Load()
	if ms == 1<<63-1 || r.now() < ms {
		return
	}
	h := r.st.take(func(sh *shard) *hdr.Histogram { return sh.win }, true)
	now := time.Now()
	if hl.start.IsZero() {
		hl.start = r.base.Add(time.Duration(ms))
		hl.last = hl.start
		hl.lw.OutputLogFormatVersion()
		hl.lw.OutputComment("[wsload latency log: values in microseconds, intervals by arrival time]")
		hl.lw.OutputStartTime(hl.start.UnixMilli())
		hl.lw.OutputLegend()
	}
	if h.TotalCount() == 0 && final {
		return
	}
	// Written by hand rather than with OutputIntervalHistogram, whose
	// Interval_Max column assumes nanosecond values.
	_, err := fmt.Fprintf(hl.bw, "%.3f,%.3f,%.3f,%s\n", hl.last.Sub(hl.start).Seconds(), now.Sub(hl.last).Seconds(), float64(h.Max())/1000, encodeHist(h))
	if err != nil && hl.err == nil {
		hl.err = err
	}
	hl.last = now
}

func (hl *histLog) close() error {
	if hl.f == nil {
		return hl.err
	}
	err := hl.bw.Flush()
	if cerr := hl.f.Close(); err == nil {
		err = cerr
	}
	hl.f = nil
	if hl.err == nil {
		hl.err = err
	}
	return hl.err
}
