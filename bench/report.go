package main

import (
	"encoding/json"
	"fmt"
	"html"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

func median(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func (r *Result) values(metric string) []float64 {
	var v []float64
	for _, m := range r.Samples {
		if x, ok := m[metric]; ok {
			v = append(v, x)
		}
	}
	return v
}

func (r *Result) median(metric string) float64 { return median(r.values(metric)) }

func (r *Result) spread(metric string) (lo, hi float64) {
	v := r.values(metric)
	if len(v) == 0 {
		return math.NaN(), math.NaN()
	}
	return slices.Min(v), slices.Max(v)
}

// num formats a value with 3 significant digits and k/M suffixes.
func num(x float64) string {
	switch {
	case math.IsNaN(x):
		return "–"
	case x >= 10e6:
		return fmt.Sprintf("%.0fM", x/1e6)
	case x >= 1e6:
		return fmt.Sprintf("%.2fM", x/1e6)
	case x >= 100e3:
		return fmt.Sprintf("%.0fk", x/1e3)
	case x >= 10e3:
		return fmt.Sprintf("%.1fk", x/1e3)
	case x >= 100:
		return fmt.Sprintf("%.0f", x)
	case x >= 10:
		return fmt.Sprintf("%.1f", x)
	case x >= 1:
		return fmt.Sprintf("%.2f", x)
	case x == 0:
		return "0"
	}
	return fmt.Sprintf("%.3f", x)
}

type table struct {
	sc    *Scenario
	cases []string
	libs  []string
	cell  map[[2]string]*Result // case, lib
}

func tables(r *Run, sel []*Scenario) []*table {
	var ts []*table
	for _, sc := range sel {
		t := &table{sc: sc, cell: map[[2]string]*Result{}}
		for _, res := range r.Results {
			if res.Scenario != sc.Name {
				continue
			}
			if !slices.Contains(t.cases, res.Case) {
				t.cases = append(t.cases, res.Case)
			}
			if !slices.Contains(t.libs, res.Lib) {
				t.libs = append(t.libs, res.Lib)
			}
			t.cell[[2]string{res.Case, res.Lib}] = res
		}
		if len(t.cases) > 0 {
			ts = append(ts, t)
		}
	}
	return ts
}

// best returns the reference value of a case: the best peer's median, or
// the RatioTo implementation's.
func (t *table) best(c string) (float64, string) {
	bv, bn := math.NaN(), ""
	for _, lib := range t.libs {
		res := t.cell[[2]string{c, lib}]
		if res == nil || len(res.Samples) == 0 {
			continue
		}
		if t.sc.RatioTo != "" {
			if lib != t.sc.RatioTo {
				continue
			}
		} else if l := libByName(lib); l == nil || !l.Peer {
			continue
		}
		v := res.median(t.sc.Metric)
		if math.IsNaN(bv) || (t.sc.Lower && v < bv) || (!t.sc.Lower && v > bv) {
			bv, bn = v, lib
		}
	}
	return bv, bn
}

// ratio is how many times better v is than ref (>1: better).
func (t *table) ratio(v, ref float64) float64 {
	if t.sc.Lower {
		return ref / v
	}
	return v / ref
}

func writeResults(out string, r *Run, sel []*Scenario) error {
	ts := tables(r, sel)
	var b strings.Builder
	e := r.Env
	fmt.Fprintf(&b, "# wsclient benchmarks\n\n")
	fmt.Fprintf(&b, "- CPU: %s (%d logical cores), %s, linux/%s; mask kernel: %s; UTF-8: %s\n", e.CPU, e.Cores, e.Go, goarch(), e.Mask, e.UTF8)
	fmt.Fprintf(&b, "- Command: `cd bench && %s` (%s, %d rounds interleaved across libraries, %s per cell after a %s warm-up, medians; %d idle connections)\n",
		displayCommand(r.Command), r.Date.Format(time.DateTime+" UTC"), r.Rounds, r.Cell, r.Cell/5, r.Idle)
	fmt.Fprintf(&b, "- Server: `cmd/benchserver`, a separate process on loopback (sink, echo, flood, raw TCP echo; wss with TLS 1.3 AES-GCM).\n")
	fmt.Fprintf(&b, "- Method: rounds are interleaved across libraries, each round starting with the next library (A B C, B C A, …), so none always runs first; each cell dials a fresh connection, runs a discarded warm-up, then the timed part; send cells end with a sync round trip (a text message the sink answers), so every byte was read by the server. allocs/msg and B/msg are `runtime.MemStats` deltas over the timed part (process-wide, so the runtime's own background work shows up at large sizes, where few messages are sent). Kernels (mask, utf8): best of 5 sub-runs per round. Every adapter first echoes binary and text messages of 0 B to 1 MiB byte-exactly over ws and wss (`verifyEcho`), and `go test` checks echo, flood, sink and concurrent senders.\n")
	fmt.Fprintf(&b, "- Python: websocket-client %s via `/usr/bin/python3`, one interpreter per cell (`python/wsbench.py`), %d rounds; `python` hides wsaccel so the pure-Python mask is used.\n", "(Debian python3-websocket)", pythonRounds)
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "- %s\n", n)
	}
	fmt.Fprintf(&b, "\n![chart](chart.svg)\n\n")

	// Summary: one row per scenario case, one column per library.
	fmt.Fprintf(&b, "## Summary (medians)\n\n")
	fmt.Fprintf(&b, "`wsclient ÷ best` is wsclient's advantage over the best Go peer (gorilla, coder, gobwas, gws), or over the named reference; > 1 means wsclient is better (faster, or less latency or memory).\n\n")
	for _, t := range ts {
		fmt.Fprintf(&b, "### %s — %s (%s)\n\n", t.sc.Name, t.sc.Title, t.sc.Unit)
		fmt.Fprintf(&b, "| case | %s | wsclient ÷ best | env |\n|---|%s---|---|\n", strings.Join(t.libs, " | "), strings.Repeat("---:|", len(t.libs)))
		for _, c := range t.cases {
			fmt.Fprintf(&b, "| %s |", c)
			for _, lib := range t.libs {
				res := t.cell[[2]string{c, lib}]
				switch {
				case res == nil:
					fmt.Fprintf(&b, " – |")
				case res.Err != "":
					fmt.Fprintf(&b, " error |")
				default:
					fmt.Fprintf(&b, " %s |", num(res.median(t.sc.Metric)))
				}
			}
			ref, refName := t.best(c)
			me := "wsclient"
			if t.sc.RatioTo != "" {
				me = t.libs[0]
			}
			if res := t.cell[[2]string{c, me}]; res != nil && len(res.Samples) > 0 && !math.IsNaN(ref) {
				fmt.Fprintf(&b, " ×%.2f (%s) |", t.ratio(res.median(t.sc.Metric), ref), refName)
			} else {
				fmt.Fprintf(&b, " – |")
			}
			fmt.Fprintf(&b, " %s |\n", e.Short())
		}
		fmt.Fprintf(&b, "\n")
		if t.sc.Note != "" {
			fmt.Fprintf(&b, "%s\n\n", t.sc.Note)
		}
		for _, k := range sortedKeys(t.sc.NA) {
			fmt.Fprintf(&b, "- %s: %s\n", k, t.sc.NA[k])
		}
		if len(t.sc.NA) > 0 {
			fmt.Fprintf(&b, "\n")
		}
	}

	fmt.Fprintf(&b, "## DESIGN.md performance targets\n\nChecked against the medians above (ratios; a missing measurement is left out).\n\n| target | measured | status |\n|---|---|---|\n")
	for _, t := range targets(r) {
		fmt.Fprintf(&b, "| %s | %s | %s |\n", t.Goal, t.Measured, t.Status)
	}
	fmt.Fprintf(&b, "\n")

	// Details: every metric with spread.
	fmt.Fprintf(&b, "## Details\n\nMedian over rounds, with min–max of the primary metric. Ratio: against the best peer (or reference) of the same case, > 1 is better.\n\n")
	for _, t := range ts {
		metrics := detailMetrics(t)
		primary := t.sc.Metric
		if t.sc.Unit != t.sc.Metric {
			primary += " " + t.sc.Unit
		}
		cols := append(append([]string{"case", "library", primary + " (min–max)"}, metrics...), "ratio", "env")
		fmt.Fprintf(&b, "### %s\n\n| %s |\n|---|---|---:|%s---:|---|\n", t.sc.Name, strings.Join(cols, " | "), strings.Repeat("---:|", len(metrics)))
		for _, c := range t.cases {
			ref, _ := t.best(c)
			for _, lib := range t.libs {
				res := t.cell[[2]string{c, lib}]
				if res == nil {
					continue
				}
				if res.Err != "" || len(res.Samples) == 0 {
					fmt.Fprintf(&b, "| %s | %s | error: %s |%s – | %s |\n", c, lib, strings.ReplaceAll(res.Err, "|", "/"), strings.Repeat(" – |", len(metrics)), e.Short())
					continue
				}
				lo, hi := res.spread(t.sc.Metric)
				fmt.Fprintf(&b, "| %s | %s | %s (%s–%s) |", c, lib, num(res.median(t.sc.Metric)), num(lo), num(hi))
				for _, m := range metrics {
					fmt.Fprintf(&b, " %s |", num(res.median(m)))
				}
				fmt.Fprintf(&b, " ×%.2f | %s |\n", t.ratio(res.median(t.sc.Metric), ref), e.Short())
			}
		}
		fmt.Fprintf(&b, "\n")
	}
	if err := os.WriteFile(filepath.Join(out, "results.md"), []byte(b.String()), 0o644); err != nil {
		return err
	}
	js, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "results.json"), js, 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(out, "chart.svg"), []byte(chart(r, ts)), 0o644); err != nil {
		return err
	}
	return writeReadme(out, r, ts)
}

// displayCommand drops the -note flag, whose text is shown as a note.
func displayCommand(cmd string) string {
	if i := strings.Index(cmd, " -note"); i >= 0 {
		return strings.TrimSpace(cmd[:i])
	}
	return cmd
}

func goarch() string { return runtime.GOARCH }

func detailMetrics(t *table) []string {
	have := map[string]bool{}
	for _, res := range t.cell {
		for _, s := range res.Samples {
			for k := range s {
				have[k] = true
			}
		}
	}
	var ms []string
	for _, m := range []string{"MB/s", "msg/s", "wire %", "allocs/msg", "B/msg", "p99", "p99.9"} {
		if have[m] && m != t.sc.Metric {
			ms = append(ms, m)
		}
	}
	return ms
}

func sortedKeys(m map[string]string) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	slices.Sort(k)
	return k
}

var palette = map[string]string{
	"wsclient": "#d62728", "gorilla": "#1f77b4", "coder": "#2ca02c", "gobwas": "#9467bd", "gws": "#ff7f0e",
	"raw": "#7f7f7f", "tcp-echo": "#7f7f7f", "python+wsaccel": "#8c564b", "python": "#c49c94",
	"mask.Copy": "#d62728", "mask.Apply": "#ff9896", "ws.Cipher": "#9467bd", "copy()": "#7f7f7f",
	utf8Name: "#d62728", "utf8.Valid": "#1f77b4",
}

// chart draws one panel per scenario: grouped bars (one group per case,
// one bar per library) on a log scale.
func chart(r *Run, ts []*table) string {
	const W, panelH, top, left, right = 1100, 250, 40, 70, 170
	var b strings.Builder
	H := top + len(ts)*panelH + 20
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">`+"\n", W, H)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="22" font-size="15" font-weight="bold">wsclient benchmarks — %s (%s, mask %s); medians, log scale</text>`+"\n",
		left, html.EscapeString(r.Env.CPU), r.Env.Go, r.Env.Mask)
	for i, t := range ts {
		y0 := top + i*panelH
		plotTop, plotBot := y0+30, y0+panelH-40
		plotL, plotR := left, W-right
		lower := ""
		if t.sc.Lower {
			lower = ", lower is better"
		}
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="13" font-weight="bold">%s — %s (%s%s)</text>`+"\n", plotL, y0+20, html.EscapeString(t.sc.Name), html.EscapeString(t.sc.Title), html.EscapeString(t.sc.Unit), lower)
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, res := range t.cell {
			if v := res.median(t.sc.Metric); v > 0 && !math.IsNaN(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
		if math.IsInf(lo, 0) {
			continue
		}
		dlo, dhi := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
		if dhi <= dlo {
			dhi = dlo + 1
		}
		yOf := func(v float64) float64 {
			return float64(plotBot) - (math.Log10(v)-dlo)/(dhi-dlo)*float64(plotBot-plotTop)
		}
		for d := dlo; d <= dhi; d++ {
			y := yOf(math.Pow(10, d))
			fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/><text x="%d" y="%.1f" text-anchor="end">%s</text>`+"\n", plotL, plotR, y, y, plotL-5, y+4, tick(d))
		}
		groupW := float64(plotR-plotL) / float64(len(t.cases))
		barW := (groupW - 14) / float64(len(t.libs))
		for ci, c := range t.cases {
			gx := float64(plotL) + float64(ci)*groupW + 7
			for li, lib := range t.libs {
				res := t.cell[[2]string{c, lib}]
				if res == nil || len(res.Samples) == 0 {
					continue
				}
				v := res.median(t.sc.Metric)
				if !(v > 0) {
					continue
				}
				x := gx + float64(li)*barW
				y := yOf(v)
				fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"><title>%s %s: %s %s</title></rect>`+"\n",
					x, y, math.Max(barW-1, 1), float64(plotBot)-y, color(lib), html.EscapeString(lib), html.EscapeString(c), num(v), html.EscapeString(t.sc.Unit))
			}
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%s</text>`+"\n", gx+(groupW-14)/2, plotBot+15, html.EscapeString(c))
		}
		fmt.Fprintf(&b, `<line x1="%d" x2="%d" y1="%d" y2="%d" stroke="#333"/>`+"\n", plotL, plotR, plotBot, plotBot)
		for li, lib := range t.libs {
			ly := plotTop + li*16
			fmt.Fprintf(&b, `<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d">%s</text>`+"\n", plotR+12, ly, color(lib), plotR+28, ly+10, html.EscapeString(lib))
		}
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// tick labels a power of ten: 0.01, 0.1, 1, 10, 100, 1k, 10k, 100k, 1M.
func tick(exp float64) string {
	switch e := int(exp); {
	case e < 0:
		return strconv.FormatFloat(math.Pow(10, exp), 'f', -1, 64)
	case e < 3:
		return strconv.Itoa(int(math.Pow(10, exp)))
	case e < 6:
		return strconv.Itoa(int(math.Pow(10, exp-3))) + "k"
	case e < 9:
		return strconv.Itoa(int(math.Pow(10, exp-6))) + "M"
	default:
		return strconv.Itoa(int(math.Pow(10, exp-9))) + "G"
	}
}

func color(lib string) string {
	if c, ok := palette[lib]; ok {
		return c
	}
	return "#bcbd22"
}
