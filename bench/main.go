// Command bench compares wsclient with the major Go WebSocket clients
// (gorilla/websocket, coder/websocket, gobwas/ws, lxzan/gws), a raw TCP
// writer of pre-built frames (the ceiling) and the Python original
// (websocket-client, with and without wsaccel), against a neutral server
// running in a separate process (cmd/benchserver).
//
//	cd bench && go run .                 # everything, a few minutes
//	go run . -quick                      # ~30 s smoke, written to a temp dir
//	go run . -scenarios send,echo -libs wsclient,gws
//	go run . -scenarios load             # wsload vs artillery, tsung, Node ws (load.go)
//
// Results go to results/results.md (Markdown tables, ratios against the
// best peer), results/results.json and results/chart.svg.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"
)

func main() {
	var (
		quick     = flag.Bool("quick", false, "smoke run: 1 round, short cells, fewer idle connections; writes to a temp dir unless -out is given")
		rounds    = flag.Int("rounds", 5, "rounds per cell (interleaved across libraries); medians are reported")
		cell      = flag.Duration("d", 200*time.Millisecond, "timed duration of one cell (a warm-up of d/5 precedes it)")
		idle      = flag.Int("idle", 2000, "connections for the idle-memory scenario")
		scenarioF = flag.String("scenarios", "", "comma-separated scenarios (default all but load): "+strings.Join(scenarioNames(), ",")+"; load (opt-in: wsload vs artillery, tsung, Node ws; see load.go)")
		libsF     = flag.String("libs", "", "comma-separated libraries (default all): "+strings.Join(allLibNames(), ","))
		out       = flag.String("out", "", "output directory (default results, or a temp dir with -quick)")
		note      = flag.String("note", "", "a note printed at the top of results.md (e.g. about the machine)")
	)
	flag.BoolVar(&verbose, "v", false, "print the duration of every cell")
	report := flag.String("report", "", "re-render the reports from this results.json instead of measuring")
	flag.Parse()
	if *quick {
		setIfUnset("rounds", func() { *rounds = 1 })
		setIfUnset("d", func() { *cell = 40 * time.Millisecond })
		setIfUnset("idle", func() { *idle = 200 })
	}
	if *out == "" {
		*out = "results"
		if *quick {
			*out = filepath.Join(os.TempDir(), "wsclient-bench-quick")
		}
	}
	// The load scenario drives other programs and writes its own report
	// (load.md, load.json); it runs only when asked for.
	if want := splitList(*scenarioF); slices.Contains(want, "load") {
		if err := runLoadScenario(*quick, *out); err != nil {
			fmt.Fprintln(os.Stderr, "bench: load:", err)
			os.Exit(1)
		}
		if want = slices.DeleteFunc(want, func(s string) bool { return s == "load" }); len(want) == 0 {
			return
		}
		*scenarioF = strings.Join(want, ",")
	}
	if *report != "" {
		if err := rerender(*report, *out); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*quick, *rounds, *cell, *idle, *scenarioF, *libsF, *out, *note); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

var verbose bool

const pythonRounds = 3

func setIfUnset(name string, f func()) {
	set := false
	flag.Visit(func(fl *flag.Flag) { set = set || fl.Name == name })
	if !set {
		f()
	}
}

func scenarioNames() []string {
	var s []string
	for _, sc := range scenarios() {
		s = append(s, sc.Name)
	}
	return s
}

func allLibNames() []string {
	return append(slices.Clone(goLibNames), "tcp-echo", "python+wsaccel", "python")
}

func splitList(s string) []string {
	var r []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			r = append(r, f)
		}
	}
	return r
}

// Result holds one cell's samples over the rounds.
type Result struct {
	Scenario, Case, Lib string
	Samples             []Metrics
	Err                 string `json:",omitempty"`
}

// Run is everything one invocation measured.
type Run struct {
	Env     Env
	Date    time.Time
	Command string
	Rounds  int
	Cell    time.Duration
	Idle    int
	Elapsed time.Duration
	Notes   []string
	Results []*Result
}

func run(quick bool, rounds int, cell time.Duration, idle int, scenarioF, libsF, out, note string) error {
	start := time.Now()
	all := scenarios()
	var sel []*Scenario
	if want := splitList(scenarioF); len(want) > 0 {
		for _, w := range want {
			i := slices.IndexFunc(all, func(s *Scenario) bool { return s.Name == w })
			if i < 0 {
				return fmt.Errorf("unknown scenario %q (have %s)", w, strings.Join(scenarioNames(), ","))
			}
			sel = append(sel, all[i])
		}
	} else {
		sel = all
	}
	known := allLibNames()
	wantLibs := splitList(libsF)
	for _, l := range wantLibs {
		if !slices.Contains(known, l) {
			return fmt.Errorf("unknown library %q (have %s)", l, strings.Join(known, ","))
		}
	}
	libOK := func(name string) bool {
		return len(wantLibs) == 0 || !slices.Contains(known, name) || slices.Contains(wantLibs, name)
	}

	tmp, err := os.MkdirTemp("", "wsclient-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin, err := buildServer(tmp)
	if err != nil {
		return err
	}
	srv, err := startServer(bin)
	if err != nil {
		return err
	}
	defer srv.Stop()

	cfg := &Config{Srv: srv, D: cell, Quick: quick, Idle: idle}
	r := &Run{Env: env(), Date: time.Now().UTC(), Rounds: rounds, Cell: cell, Idle: idle,
		Command: strings.TrimSpace("go run . " + strings.Join(os.Args[1:], " "))}
	if note != "" {
		r.Notes = append(r.Notes, note)
	}
	py, pyNotes := pythonAvailable()
	r.Notes = append(r.Notes, pyNotes...)
	if len(py) > 0 {
		if err := os.WriteFile(filepath.Join(tmp, "wsbench.py"), pythonScript, 0o644); err != nil {
			return err
		}
		cfg.PyDir = tmp
		cfg.Python = py
	}
	fmt.Fprintf(os.Stderr, "bench: %s, %d cores, %s, mask %s; server pid %d\n", r.Env.CPU, r.Env.Cores, r.Env.Go, r.Env.Mask, srv.cmd.Process.Pid)

	// Every adapter must echo messages byte-exactly before it is timed.
	for _, l := range libs() {
		if !libOK(l.Name) {
			continue
		}
		for _, tls := range []bool{false, true} {
			if err := verifyEcho(l, srv.URL(tls, "/echo"), []int{0, 1, 125, 126, 65535, 65536, 1 << 20}); err != nil {
				return fmt.Errorf("verify %s (tls=%v): %w", l.Name, tls, err)
			}
		}
	}

	results := map[string]*Result{}
	var order []*Result
	for round := range rounds {
		for _, sc := range sel {
			if sc.Rounds > 0 && round >= sc.Rounds {
				continue
			}
			for _, c := range sc.Cases {
				// Each round starts with the next library, so that no
				// library always takes the first cell after a change of
				// case (which some runs measured slower).
				for i := range sc.Libs {
					lib := sc.Libs[(i+round)%len(sc.Libs)]
					if !libOK(lib) || (strings.HasPrefix(lib, "python") && cfg.Python[lib] == "") {
						continue
					}
					// Python starts an interpreter per cell: in a smoke run,
					// one case per scenario proves it works.
					if quick && strings.HasPrefix(lib, "python") && c != sc.Cases[0] {
						continue
					}
					// An interpreter start per cell is slow: three rounds
					// are enough for the Python baseline.
					if strings.HasPrefix(lib, "python") && round >= pythonRounds {
						continue
					}
					key := sc.Name + "\x00" + c.Name + "\x00" + lib
					res := results[key]
					if res == nil {
						res = &Result{Scenario: sc.Name, Case: c.Name, Lib: lib}
						results[key] = res
						order = append(order, res)
					}
					if res.Err != "" {
						continue
					}
					runtime.GC()
					t0 := time.Now()
					m, err := sc.Run(cfg, lib, c)
					if el := time.Since(t0); verbose || el > 10*cell+2*time.Second {
						fmt.Fprintf(os.Stderr, "  %s/%s/%s: %s\n", sc.Name, c.Name, lib, el.Round(time.Millisecond))
					}
					if err != nil {
						res.Err = err.Error()
						fmt.Fprintf(os.Stderr, "  %s/%s/%s: %v\n", sc.Name, c.Name, lib, err)
						continue
					}
					res.Samples = append(res.Samples, m)
				}
			}
			fmt.Fprintf(os.Stderr, "round %d/%d: %s done (%s)\n", round+1, rounds, sc.Name, time.Since(start).Round(time.Second))
		}
	}
	r.Results = order
	r.Elapsed = time.Since(start)
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if err := writeResults(out, r, sel); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "bench: wrote %s/results.md, results.json, chart.svg in %s\n", out, r.Elapsed.Round(time.Second))
	failed := 0
	for _, res := range r.Results {
		if res.Err != "" {
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d cells failed (see results.md)", failed)
	}
	return nil
}
