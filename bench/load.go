package main

// The load scenario: wsload against the tools people use instead
// (artillery's ws engine, tsung's websocket plugin, a Node `ws` script),
// each opening the same connections to cmd/wsecho (a separate process) and
// asked for the same message rates, 64 B echoes. Opt-in, since it takes
// minutes and needs tools outside Go:
//
//	go run . -scenarios load                       # 1,000 connections, rates 1k..100k msg/s
//	go run . -scenarios load -quick                # 100 connections, two small rates
//	go run . -scenarios load -artillery /path/node_modules/.bin/artillery
//
// Tools that are not installed are skipped with a message.

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

//go:embed load/wsnode.js
var wsnodeJS []byte

//go:embed load/artillery-proc.js
var artilleryProcJS []byte

var (
	loadConnsF  = flag.Int("load-conns", 1000, "load scenario: connections per tool")
	loadRatesF  = flag.String("load-rates", "", "load scenario: comma-separated message rates (msg/s) to try, in order (default 1000,2000,5000,10000,15000,20000,30000,40000,60000,80000,100000)")
	loadDF      = flag.Duration("load-d", 10*time.Second, "load scenario: measured duration of each run")
	loadToolsF  = flag.String("load-tools", "", "load scenario: comma-separated tools (default all found): wsload,wsload-tick,artillery,tsung,node-ws")
	artilleryF  = flag.String("artillery", os.Getenv("ARTILLERY"), "load scenario: the artillery executable (npm install artillery@2.0.34 in a scratch dir; default $ARTILLERY, then PATH)")
	loadReportF = flag.String("load-report", "", "load scenario: re-render load.md from this load.json instead of measuring")
	loadExtraF  = flag.Bool("load-extra", true, "load scenario: also measure wsload against the raw TCP floor (2,000 connections x 10 msg/s) and 10,000 idle connections")
)

const (
	loadSize    = 64
	loadP99Max  = 10_000    // µs: "sustained" needs p99 under 10 ms
	loadP99Busy = 100_000   // µs: the same with p99 under 100 ms (for a busy machine)
	loadP99Held = 1_000_000 // µs: "held" (kept up) needs p99 under 1 s
	loadMinRate = 0.9       // and at least 90% of the asked rate (think-time tools lose a little to the round trip)
)

// loadRun is one tool at one rate.
type loadRun struct {
	Tool     string
	Target   float64 // asked rate, msg/s
	Conns    int
	Sent     int64
	Received int64
	Errors   int64
	Rate     float64 // achieved, msg/s
	P50, P99 float64 // µs
	CPU      float64 // client CPU seconds (user + system, rusage of the process tree)
	MaxRSS   int64   // client peak RSS, bytes
	Wall     float64 // s
	Err      string  `json:",omitempty"`
}

func (r *loadRun) lost() int64 { return max(0, r.Sent-r.Received) }

// noLoss: every message came back, no error, and the rate was held, with
// a p99 under 1 s (a tool that fell seconds behind did not keep up).
func (r *loadRun) noLoss() bool {
	return r.Err == "" && r.Errors == 0 && r.Sent > 0 && r.lost() == 0 && r.Rate >= loadMinRate*r.Target && r.P99 < loadP99Held
}

func (r *loadRun) sustained() bool { return r.within(loadP99Max) }

func (r *loadRun) within(p99 float64) bool { return r.noLoss() && r.P99 < p99 }

// loadTool is a load generator the scenario can drive.
type loadTool struct {
	Name  string
	Model string // how it paces messages
	Run   func(e *loadEnv, rate float64, conns int, d time.Duration) *loadRun
}

type loadEnv struct {
	dir       string
	url       string // wsecho
	wsload    string
	artillery string
	nodePath  string
}

// LoadReport is what results/load.json holds.
type LoadReport struct {
	Date      time.Time
	Command   string
	CPU       string
	Cores     int
	LoadAvg   [2]string // before and after
	Conns     int
	Size      int
	D         time.Duration
	Skipped   []string
	Runs      []*loadRun
	Baselines []*loadRun
	Floor     []*loadRun // wsload against wsecho and against the TCP floor
	Idle      *loadRun   // wsload holding 10,000 idle connections
	Elapsed   time.Duration
}

func runLoadScenario(quick bool, out string) error {
	if *loadReportF != "" {
		b, err := os.ReadFile(*loadReportF)
		if err != nil {
			return err
		}
		rep := &LoadReport{}
		if err := json.Unmarshal(b, rep); err != nil {
			return err
		}
		md := rep.markdown()
		fmt.Print(md)
		return os.WriteFile(filepath.Join(out, "load.md"), []byte(md), 0o644)
	}
	start := time.Now()
	conns, d := *loadConnsF, *loadDF
	rates := []float64{1000, 2000, 5000, 10000, 15000, 20000, 30000, 40000, 60000, 80000, 100000}
	if quick { // a smoke run: every tool once at two small rates
		if !flagSet("load-conns") {
			conns = 100
		}
		if !flagSet("load-d") {
			d = 2 * time.Second
		}
		rates = []float64{500, 1000}
	}
	if *loadRatesF != "" {
		rates = nil
		for _, s := range splitList(*loadRatesF) {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil || f <= 0 {
				return fmt.Errorf("-load-rates: bad rate %q", s)
			}
			rates = append(rates, f)
		}
	}
	tmp, err := os.MkdirTemp("", "wsclient-load-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	e := &loadEnv{dir: tmp}
	rep := &LoadReport{Date: time.Now().UTC(), Command: strings.TrimSpace("go run . " + strings.Join(os.Args[1:], " ")),
		CPU: lscpuModel(), Cores: runtimeNumCPU(), Conns: conns, Size: loadSize, D: d}
	rep.LoadAvg[0] = loadAvg()

	wsecho := filepath.Join(tmp, "wsecho")
	e.wsload = filepath.Join(tmp, "wsload")
	for bin, pkg := range map[string]string{wsecho: "./cmd/wsecho", e.wsload: "./cmd/wsload"} {
		cmd := exec.Command("go", "build", "-o", bin, pkg)
		cmd.Dir = filepath.Join(moduleDir(), "..")
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
		}
	}
	srv, url, err := startWsecho(wsecho)
	if err != nil {
		return err
	}
	defer stopProcess(srv)
	e.url = url

	tools, skipped := loadTools(e)
	rep.Skipped = skipped
	for _, s := range skipped {
		fmt.Fprintln(os.Stderr, "load:", s)
	}
	fmt.Fprintf(os.Stderr, "load: %s, %d cores, load average %s; wsecho %s (pid %d); %d connections, %s per run, tools %s\n",
		rep.CPU, rep.Cores, rep.LoadAvg[0], url, srv.Process.Pid, conns, d, strings.Join(toolNames(tools), ", "))

	// Baselines: the same connections, one message each over the run, so
	// that start-up and connection costs can be taken out of the CPU
	// per message.
	for _, t := range tools {
		b := t.Run(e, float64(conns)/d.Seconds(), conns, d)
		rep.Baselines = append(rep.Baselines, b)
		logRun("baseline", b)
	}
	// The ladder, interleaved: every tool at a rate before the next rate,
	// each rate starting with the next tool. A tool stops after two
	// failed rates in a row.
	fails := map[string]int{}
	for i, rate := range rates {
		for j := range tools {
			t := tools[(i+j)%len(tools)]
			if fails[t.Name] >= 2 {
				continue
			}
			r := t.Run(e, rate, conns, d)
			rep.Runs = append(rep.Runs, r)
			logRun("", r)
			if r.noLoss() {
				fails[t.Name] = 0
			} else {
				fails[t.Name]++
			}
		}
	}
	if *loadExtraF && slices.ContainsFunc(tools, func(t *loadTool) bool { return strings.HasPrefix(t.Name, "wsload") }) {
		if err := loadExtras(e, rep, quick, d); err != nil {
			return err
		}
	}
	rep.LoadAvg[1] = loadAvg()
	rep.Elapsed = time.Since(start)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	b, _ := json.MarshalIndent(rep, "", "  ")
	if err := os.WriteFile(filepath.Join(out, "load.json"), b, 0o644); err != nil {
		return err
	}
	md := rep.markdown()
	if err := os.WriteFile(filepath.Join(out, "load.md"), []byte(md), 0o644); err != nil {
		return err
	}
	fmt.Print(md)
	fmt.Fprintf(os.Stderr, "load: wrote %s/load.md and load.json in %s\n", out, rep.Elapsed.Round(time.Second))
	return nil
}

// loadExtras measures wsload alone: p99 against the raw TCP echo floor at
// 2,000 connections x 10 msg/s, and memory with 10,000 idle connections.
func loadExtras(e *loadEnv, rep *LoadReport, quick bool, d time.Duration) error {
	bin, err := buildServer(e.dir)
	if err != nil {
		return err
	}
	bs, err := startServer(bin)
	if err != nil {
		return err
	}
	defer bs.Stop()
	fc, idle := 2000, 10000
	if quick {
		fc, idle = 200, 1000
	}
	for i := range 2 { // interleaved twice: ws, tcp, ws, tcp
		for _, u := range []string{e.url, "tcp://" + bs.TCP} {
			r := runWsload(e, float64(fc)*10, fc, d, u, "-ramp", "2000")
			if strings.HasPrefix(u, "tcp") {
				r.Tool = "tcp floor"
			}
			r.Tool += fmt.Sprintf(" #%d", i+1)
			rep.Floor = append(rep.Floor, r)
			logRun("floor", r)
		}
	}
	// Idle: connections that receive nothing (the sink sends nothing).
	r := runWsloadArgs(e, idle, "-c", strconv.Itoa(idle), "-ramp", "5000", "-mode", "recv", "-d", "5s", "-warmup", "0", e.url+"sink")
	r.Tool = "wsload idle"
	rep.Idle = r
	logRun("idle", r)
	return nil
}

func logRun(what string, r *loadRun) {
	if what != "" {
		what += " "
	}
	status := "ok"
	switch {
	case what == "idle ":
		status = fmt.Sprintf("%.1f KiB per connection", float64(r.MaxRSS)/float64(max(r.Conns, 1))/1024)
	case r.Err != "":
		status = "error: " + r.Err
	case !r.noLoss():
		status = "not held"
	case !r.sustained():
		status = "held, p99 >= 10 ms"
	}
	fmt.Fprintf(os.Stderr, "load: %s%-9s %6.0f msg/s asked: %6.0f held, sent %d recv %d errors %d, p50 %s p99 %s, cpu %.1f s, rss %.0f MiB (%.0fs) %s\n",
		what, r.Tool, r.Target, r.Rate, r.Sent, r.Received, r.Errors, fmtUS(r.P50), fmtUS(r.P99), r.CPU, float64(r.MaxRSS)/(1<<20), r.Wall, status)
}

func fmtUS(v float64) string {
	if v >= 1000 {
		return fmt.Sprintf("%.1fms", v/1000)
	}
	return fmt.Sprintf("%.0fµs", v)
}

func toolNames(ts []*loadTool) []string {
	var s []string
	for _, t := range ts {
		s = append(s, t.Name)
	}
	return s
}

// loadTools returns the tools found, and why the others were skipped.
func loadTools(e *loadEnv) (tools []*loadTool, skipped []string) {
	want := splitList(*loadToolsF)
	wanted := func(n string) bool { return len(want) == 0 || slices.Contains(want, n) }
	if wanted("wsload") {
		tools = append(tools, &loadTool{Name: "wsload", Model: "open loop, latency from the intended send time", Run: func(e *loadEnv, rate float64, conns int, d time.Duration) *loadRun {
			return runWsload(e, rate, conns, d, e.url)
		}})
	}
	if wanted("wsload-tick") {
		// The Node script's timer granularity: messages leave up to 1 ms
		// late, for less CPU per message.
		tools = append(tools, &loadTool{Name: "wsload -tick 1ms", Model: "open loop on a 1 ms timer, latency from the intended send time", Run: func(e *loadEnv, rate float64, conns int, d time.Duration) *loadRun {
			r := runWsload(e, rate, conns, d, e.url, "-tick", "1ms")
			r.Tool = "wsload -tick 1ms"
			return r
		}})
	}
	if wanted("artillery") {
		a := *artilleryF
		if a == "" {
			a, _ = exec.LookPath("artillery")
		}
		if a == "" {
			skipped = append(skipped, "artillery skipped: not found (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund artillery@2.0.34 in a scratch dir, then -artillery DIR/node_modules/.bin/artillery)")
		} else {
			e.artillery = a
			tools = append(tools, &loadTool{Name: "artillery", Model: "per connection: send, wait for the echo (match), think", Run: runArtillery})
		}
	}
	if wanted("tsung") {
		if _, err := exec.LookPath("tsung"); err != nil {
			skipped = append(skipped, "tsung skipped: not installed (Debian: apt-get install tsung)")
		} else {
			tools = append(tools, &loadTool{Name: "tsung", Model: "per connection: send, wait for the echo (ack=parse), think", Run: runTsung})
		}
	}
	if wanted("node-ws") {
		node, err := exec.LookPath("node")
		np := "/usr/share/nodejs"
		if env := os.Getenv("NODE_PATH"); env != "" {
			np = env
		}
		if err == nil {
			c := exec.Command(node, "-e", "require('ws')")
			c.Env = append(os.Environ(), "NODE_PATH="+np)
			err = c.Run()
		}
		if err != nil {
			skipped = append(skipped, "node-ws skipped: node or its ws module not found (Debian: apt-get install nodejs node-ws)")
		} else {
			e.nodePath = np
			tools = append(tools, &loadTool{Name: "node-ws", Model: "open loop (1 ms timer), latency from the intended send time", Run: runNodeWS})
		}
	}
	return tools, skipped
}

// runTool runs a client process (in its own process group, killed with its
// children on timeout) and returns its stdout and resource usage.
func runTool(r *loadRun, timeout time.Duration, env []string, dir string, name string, args ...string) []byte {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	t0 := time.Now()
	if err := cmd.Start(); err != nil {
		r.Err = err.Error()
		return nil
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(timeout):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		err = <-done
		r.Err = fmt.Sprintf("no result after %s", timeout)
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // leftovers of the group
	r.Wall = time.Since(t0).Seconds()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.CPU = float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
		r.MaxRSS = int64(ru.Maxrss) * 1024
	}
	if err != nil && r.Err == "" {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 300 {
			msg = msg[len(msg)-300:]
		}
		r.Err = fmt.Sprintf("%v: %s", err, msg)
	}
	return stdout.Bytes()
}

func runWsload(e *loadEnv, rate float64, conns int, d time.Duration, url string, extra ...string) *loadRun {
	args := append([]string{"-c", strconv.Itoa(conns), "-r", fmt.Sprint(rate), "-d", d.String(), "-s", strconv.Itoa(loadSize)}, extra...)
	r := runWsloadArgs(e, conns, append(args, url)...)
	r.Target = rate
	return r
}

func runWsloadArgs(e *loadEnv, conns int, args ...string) *loadRun {
	r := &loadRun{Tool: "wsload", Conns: conns}
	out := filepath.Join(e.dir, "wsload.json")
	os.Remove(out)
	runTool(r, 10*time.Minute, nil, e.dir, e.wsload, append([]string{"-q", "-json", out}, args...)...)
	b, err := os.ReadFile(out)
	if err != nil {
		if r.Err == "" {
			r.Err = err.Error()
		}
		return r
	}
	var res struct {
		Messages struct{ Sent, Received int64 }
		Errors   int64
		Rate     struct {
			Sent float64 `json:"sent_per_s"`
		}
		Latency struct{ P50, P99 float64 } `json:"latency_us"`
	}
	if err := json.Unmarshal(b, &res); err != nil {
		r.Err = err.Error()
		return r
	}
	r.Sent, r.Received, r.Errors = res.Messages.Sent, res.Messages.Received, res.Errors
	r.Rate, r.P50, r.P99 = res.Rate.Sent, res.Latency.P50, res.Latency.P99
	return r
}

func runNodeWS(e *loadEnv, rate float64, conns int, d time.Duration) *loadRun {
	r := &loadRun{Tool: "node-ws", Target: rate, Conns: conns}
	script := filepath.Join(e.dir, "wsnode.js")
	if err := os.WriteFile(script, wsnodeJS, 0o644); err != nil {
		r.Err = err.Error()
		return r
	}
	out := runTool(r, d+5*time.Minute, []string{"NODE_PATH=" + e.nodePath}, e.dir, "node", script, e.url,
		strconv.Itoa(conns), fmt.Sprint(rate), fmt.Sprint(d.Seconds()), "1", strconv.Itoa(loadSize))
	var res struct {
		Sent, Received, Errors int64
		Duration               float64 `json:"duration_s"`
		P50                    float64 `json:"p50_us"`
		P99                    float64 `json:"p99_us"`
	}
	if err := json.Unmarshal(bytes.TrimSpace(out), &res); err != nil {
		if r.Err == "" {
			r.Err = fmt.Sprintf("output %q: %v", out, err)
		}
		return r
	}
	r.Sent, r.Received, r.Errors, r.P50, r.P99 = res.Sent, res.Received, res.Errors, res.P50, res.P99
	if res.Duration > 0 {
		r.Rate = float64(res.Sent) / res.Duration
	}
	return r
}

// thinkFor paces a closed-loop tool: each connection sends, waits for the
// echo and thinks this long, so that conns connections ask for rate.
func thinkFor(rate float64, conns int) time.Duration {
	return time.Duration(float64(conns) / rate * 1e9)
}

func loopCount(rate float64, conns int, d time.Duration) int {
	return max(1, int(math.Round(rate/float64(conns)*d.Seconds())))
}

func runArtillery(e *loadEnv, rate float64, conns int, d time.Duration) *loadRun {
	r := &loadRun{Tool: "artillery", Target: rate, Conns: conns}
	think := thinkFor(rate, conns)
	count := loopCount(rate, conns, d)
	payload := `{"k":1,"pad":"` + strings.Repeat("a", loadSize-len(`{"k":1,"pad":""}`)) + `"}`
	yml := fmt.Sprintf(`config:
  target: %q
  processor: "./artillery-proc.cjs"
  phases:
    - duration: %d
      arrivalCount: %d
scenarios:
  - engine: ws
    flow:
      - loop:
          - function: "stamp"
          - send:
              payload: '%s'
              match:
                json: "$.k"
                value: 1
          - function: "measure"
          - think: "%dms"
        count: %d
`, e.url, max(1, conns/1000), conns, payload, think.Milliseconds(), count)
	if err := os.WriteFile(filepath.Join(e.dir, "artillery-proc.cjs"), artilleryProcJS, 0o644); err != nil {
		r.Err = err.Error()
		return r
	}
	if err := os.WriteFile(filepath.Join(e.dir, "load.yml"), []byte(yml), 0o644); err != nil {
		r.Err = err.Error()
		return r
	}
	report := filepath.Join(e.dir, "artillery.json")
	os.Remove(report)
	runTool(r, d+10*time.Minute, []string{"ARTILLERY_DISABLE_TELEMETRY=true"}, e.dir, e.artillery, "run", "--quiet", "--output", report, "load.yml")
	b, err := os.ReadFile(report)
	if err != nil {
		if r.Err == "" {
			r.Err = err.Error()
		}
		return r
	}
	var rep struct {
		Aggregate struct {
			Counters  map[string]int64
			Summaries map[string]map[string]float64
		}
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		r.Err = err.Error()
		return r
	}
	a := rep.Aggregate
	r.Sent, r.Received = a.Counters["websocket.messages_sent"], a.Counters["websocket.messages_received"]
	for k, v := range a.Counters {
		if strings.HasPrefix(k, "errors.") {
			r.Errors += v
		}
	}
	r.Errors += a.Counters["vusers.failed"]
	rtt := a.Summaries["echo.rtt_ms"]
	r.P50, r.P99 = rtt["p50"]*1000, rtt["p99"]*1000
	// The connections run side by side for their whole session: the rate
	// held is the messages over the mean session.
	if s := a.Summaries["vusers.session_length"]["mean"]; s > 0 {
		r.Rate = float64(r.Received) / (s / 1000)
	}
	return r
}

var (
	tsungSample = regexp.MustCompile(`\{sample,tr_echo,([0-9.eE+-]+)\}`)
	tsungStat   = regexp.MustCompile(`(?m)^stats: (\S+) (\S+) (\S+)`)
)

func runTsung(e *loadEnv, rate float64, conns int, d time.Duration) *loadRun {
	r := &loadRun{Tool: "tsung", Target: rate, Conns: conns}
	think := thinkFor(rate, conns)
	count := loopCount(rate, conns, d)
	host, port, _ := strings.Cut(strings.TrimSuffix(strings.TrimPrefix(e.url, "ws://"), "/"), ":")
	xml := fmt.Sprintf(`<?xml version="1.0"?>
<!DOCTYPE tsung SYSTEM "/usr/share/tsung/tsung-1.0.dtd">
<tsung loglevel="error" backend="fullstats" dumptraffic="false">
  <clients><client host="localhost" use_controller_vm="true" maxusers="%d"/></clients>
  <servers><server host="%s" port="%s" type="tcp"/></servers>
  <load><arrivalphase phase="1" duration="%d" unit="second"><users maxnumber="%d" arrivalrate="1000" unit="second"/></arrivalphase></load>
  <sessions>
    <session name="ws" probability="100" type="ts_websocket">
      <request><websocket type="connect" path="/"/></request>
      <for from="1" to="%d" var="i">
        <transaction name="echo"><request><websocket type="message" frame="binary">%s</websocket></request></transaction>
        <thinktime value="%.4f" random="false"/>
      </for>
      <request><websocket type="close"/></request>
    </session>
  </sessions>
</tsung>
`, conns*2, host, port, max(5, 2*conns/1000+2), conns, count, strings.Repeat("a", loadSize), think.Seconds())
	cfg := filepath.Join(e.dir, "tsung.xml")
	if err := os.WriteFile(cfg, []byte(xml), 0o644); err != nil {
		r.Err = err.Error()
		return r
	}
	logDir := filepath.Join(e.dir, "tsung-log")
	os.RemoveAll(logDir)
	os.MkdirAll(logDir, 0o755)
	runTool(r, d+10*time.Minute, nil, e.dir, "tsung", "-f", cfg, "-l", logDir, "start")
	runs, _ := filepath.Glob(filepath.Join(logDir, "*", "tsung.log"))
	if len(runs) == 0 {
		if r.Err == "" {
			r.Err = "no tsung.log"
		}
		return r
	}
	dir := filepath.Dir(runs[0])
	full, err := os.ReadFile(filepath.Join(dir, "tsung-fullstats.log"))
	if err != nil {
		r.Err = err.Error()
		return r
	}
	var lat []float64
	for _, m := range tsungSample.FindAllSubmatch(full, -1) {
		if v, err := strconv.ParseFloat(string(m[1]), 64); err == nil {
			lat = append(lat, v*1000)
		}
	}
	sort.Float64s(lat)
	r.Received = int64(len(lat))
	r.Sent = int64(conns) * int64(count)
	if len(lat) > 0 {
		r.P50 = lat[len(lat)/2]
		r.P99 = lat[min(len(lat)-1, len(lat)*99/100)]
	}
	log, _ := os.ReadFile(runs[0])
	var sessN, sessSum float64
	errs := map[string]int64{}
	for _, m := range tsungStat.FindAllSubmatch(log, -1) {
		name := string(m[1])
		a, _ := strconv.ParseFloat(string(m[2]), 64)
		b, _ := strconv.ParseFloat(string(m[3]), 64)
		switch {
		case name == "session":
			sessN += a
			sessSum += a * b
		case strings.HasPrefix(name, "error_"):
			errs[name] = int64(b) // counters: interval, then total
		}
	}
	for _, v := range errs {
		r.Errors += v
	}
	if sessN > 0 {
		r.Rate = float64(r.Received) / (sessSum / sessN / 1000)
	}
	return r
}

// startWsecho starts the echo server binary and returns its URL.
func startWsecho(bin string) (*exec.Cmd, string, error) {
	cmd := exec.Command(bin)
	cmd.Stderr = os.Stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, "", fmt.Errorf("wsecho: %v", err)
	}
	return cmd, strings.TrimSpace(line), nil
}

func stopProcess(cmd *exec.Cmd) {
	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		cmd.Process.Kill()
		<-done
	}
}

func flagSet(name string) bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func lscpuModel() string {
	out, err := exec.Command("lscpu").Output()
	if err == nil {
		for line := range strings.SplitSeq(string(out), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "Model name" {
				return strings.TrimSpace(v)
			}
		}
	}
	return env().CPU
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func runtimeNumCPU() int { return env().Cores }

// markdown renders the report.
func (rep *LoadReport) markdown() string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("# Load generators side by side\n\n")
	p("- CPU: %s (%d cores, `lscpu`); a shared, noisy VM: load average %s at the start, %s at the end (other work was running).\n", rep.CPU, rep.Cores, rep.LoadAvg[0], rep.LoadAvg[1])
	p("- Command: `cd bench && %s` (%s UTC, %s).\n", rep.Command, rep.Date.Format("2006-01-02 15:04"), rep.Elapsed.Round(time.Second))
	p("- Each tool opens %d connections to `cmd/wsecho` (a separate process on loopback) and is asked for the same message rates (%d B echoes), %s per run, one tool after the other at each rate (the first tool rotating).\n", rep.Conns, rep.Size, rep.D)
	p("- CPU and peak RSS are the client process tree's (`wait4` rusage). The baseline run has the same connections and one message each (start-up, handshakes). A tool stops climbing after two rates in a row without p99 < 1 s.\n")
	p("- wsload and the Node script run an open loop and measure latency from each message's intended send time. wsload sends each message at its time; the Node script, on a 1 ms timer, up to 1 ms late, and so does `wsload -tick 1ms` (less CPU per message, that much added latency). Artillery and tsung pace each connection by sending, waiting for the echo and thinking 1/rate per connection, and time each send to its echo (their own model: a server that slows down slows them down, and their latency does not count the wait).\n")
	for _, s := range rep.Skipped {
		p("- %s\n", s)
	}
	p("\n| tool | highest rate, no loss, p99 < 10 ms | p99 < 100 ms | p99 < 1 s | CPU s per million messages at %s msg/s | at the top rate | client RSS per connection |\n|---|---:|---:|---:|---:|---:|---:|\n", num0(rep.commonRate()))
	for _, b := range rep.Baselines {
		name := b.Tool
		best := func(p99 float64) *loadRun {
			var top *loadRun
			for _, r := range rep.Runs {
				if r.Tool == name && r.within(p99) && (top == nil || r.Target > top.Target) {
					top = r
				}
			}
			return top
		}
		cell := func(r *loadRun) string {
			if r == nil {
				return "none"
			}
			return num0(r.Target) + " msg/s"
		}
		held := best(loadP99Held)
		cpuAt := func(r *loadRun) string {
			base := rep.baseline(name)
			if r == nil || base == nil || r.Received <= base.Received {
				return "–"
			}
			return fmt.Sprintf("%.0f", (r.CPU-base.CPU)/float64(r.Received-base.Received)*1e6)
		}
		rss := "–"
		if held != nil {
			rss = fmt.Sprintf("%.0f KiB", float64(held.MaxRSS)/float64(held.Conns)/1024)
		}
		p("| %s | %s | %s | %s | %s | %s | %s |\n", name, cell(best(loadP99Max)), cell(best(loadP99Busy)), cell(held),
			cpuAt(rep.at(name, rep.commonRate())), cpuAt(held), rss)
	}
	p("\nA rate counts when no message was lost, no error occurred and at least %.0f%% of it was achieved, with p99 under the bound. CPU per million messages: the client's CPU seconds minus those of the baseline run, per message echoed; at the highest rate every tool held, and at the tool's own top rate (p99 < 1 s). RSS per connection: peak RSS at the top rate divided by the connections (the runtime's own memory included).\n", loadMinRate*100)
	if len(rep.Floor) > 0 {
		p("\n## wsload against the raw TCP floor\n\nThe same client frames (masked, 64 B) over plain TCP to a byte echo server (`bench/cmd/benchserver`), with wsload's scheduler and readers (`wsload tcp://...`), interleaved with WebSocket runs against `wsecho`.\n\n")
		p("| run | connections | rate | p50 | p99 | CPU s | peak RSS |\n|---|---:|---:|---:|---:|---:|---:|\n")
		for _, r := range rep.Floor {
			p("| %s | %d | %.0f msg/s | %s | %s | %.1f | %.0f MiB |\n", r.Tool, r.Conns, r.Rate, fmtUS(r.P50), fmtUS(r.P99), r.CPU, float64(r.MaxRSS)/(1<<20))
		}
	}
	if r := rep.Idle; r != nil {
		p("\n## wsload holding idle connections\n\n%d connections to the sink, nothing sent: peak RSS %.1f MiB, **%.1f KiB per connection** (goroutine stacks included; getrusage).", r.Conns, float64(r.MaxRSS)/(1<<20), float64(r.MaxRSS)/float64(r.Conns)/1024)
		if r.Err != "" {
			p(" Error: %s.", r.Err)
		}
		p("\n")
	}
	p("\n## Every run\n\n| tool | asked | held | sent | received | lost | errors | p50 | p99 | CPU s | peak RSS | wall s | result |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n")
	all := append(slices.Clone(rep.Baselines), rep.Runs...)
	for i, r := range all {
		res := "sustained"
		switch {
		case r.Err != "":
			res = "error: " + strings.ReplaceAll(r.Err, "|", "/")
		case !r.noLoss():
			res = "not held"
		case !r.sustained():
			res = "held, p99 ≥ 10 ms"
		}
		if i < len(rep.Baselines) {
			res = "baseline"
		}
		p("| %s | %.0f | %.0f | %d | %d | %d | %d | %s | %s | %.1f | %.0f MiB | %.0f | %s |\n",
			r.Tool, r.Target, r.Rate, r.Sent, r.Received, r.lost(), r.Errors, fmtUS(r.P50), fmtUS(r.P99), r.CPU, float64(r.MaxRSS)/(1<<20), r.Wall, res)
	}
	return b.String()
}

// commonRate is the highest rate that every tool held.
func (rep *LoadReport) commonRate() float64 {
	var common float64
	for _, r := range rep.Runs {
		if r.Target <= common {
			continue
		}
		all := true
		for _, b := range rep.Baselines {
			if x := rep.at(b.Tool, r.Target); x == nil || !x.noLoss() {
				all = false
			}
		}
		if all {
			common = r.Target
		}
	}
	return common
}

func (rep *LoadReport) at(tool string, rate float64) *loadRun {
	for _, r := range rep.Runs {
		if r.Tool == tool && r.Target == rate {
			return r
		}
	}
	return nil
}

func num0(f float64) string {
	s := strconv.FormatFloat(f, 'f', 0, 64)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func (rep *LoadReport) baseline(tool string) *loadRun {
	for _, r := range rep.Baselines {
		if r.Tool == tool && r.Err == "" {
			return r
		}
	}
	return nil
}
