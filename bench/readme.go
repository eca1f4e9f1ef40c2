package main

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// readmeRows picks the headline cells for the README's Performance section.
var readmeRows = []struct{ sc, c, label string }{
	{"send", "16 B", "send 16 B, one per call (msg/s)"},
	{"send", "1 KiB", "send 1 KiB (msg/s)"},
	{"send", "64 KiB", "send 64 KiB (msg/s)"},
	{"send", "1 MiB", "send 1 MiB (msg/s)"},
	{"batch", "16 B", "send 16 B, batched (msg/s)"},
	{"concurrent", "16 B", "send 16 B, 8 goroutines (msg/s)"},
	{"echo", "16 B", "echo 16 B, p50 (µs)"},
	{"echo", "1 KiB", "echo 1 KiB, p50 (µs)"},
	{"recv", "1 KiB", "receive 1 KiB text (MB/s)"},
	{"recv", "64 KiB", "receive 64 KiB text (MB/s)"},
	{"deflate", "send 64 KiB", "deflate send 64 KiB JSON (MB/s)"},
	{"deflate", "recv 64 KiB", "deflate receive 64 KiB JSON (MB/s)"},
	{"idle", "idle conns", "memory per idle connection (B)"},
	{"wss-send", "1 KiB", "wss send 1 KiB (msg/s)"},
	{"wss-send", "1 MiB", "wss send 1 MiB (msg/s)"},
	{"wss-echo", "16 B", "wss echo 16 B, p50 (µs)"},
	{"mask", "125 B", "mask.Copy 125 B vs ws.Cipher (GB/s)"},
	{"mask", "16 KiB", "mask.Copy 16 KiB vs ws.Cipher (GB/s)"},
	{"utf8", "mixed 64 KiB", utf8Name + " mixed 64 KiB vs utf8.Valid (GB/s)"},
}

// writeReadme writes the README's Performance section (table, chart,
// command and CPU) next to results.md.
func writeReadme(out string, r *Run, ts []*table) error {
	byName := map[string]*table{}
	for _, t := range ts {
		byName[t.sc.Name] = t
	}
	var b strings.Builder
	e := r.Env
	fmt.Fprintf(&b, "## Performance\n\n")
	fmt.Fprintf(&b, "Medians of %d interleaved rounds against a loopback server in a separate process (`bench/cmd/benchserver`), on %s (%d cores), %s, mask kernel %s. ", r.Rounds, e.CPU, e.Cores, e.Go, e.Mask)
	fmt.Fprintf(&b, "Full tables with spreads, allocations and the DESIGN targets: [`bench/results/results.md`](bench/results/results.md).\n\n")
	for _, n := range r.Notes {
		if !strings.HasPrefix(n, "python") {
			fmt.Fprintf(&b, "> %s\n\n", n)
		}
	}
	fmt.Fprintf(&b, "| scenario | wsclient | best Go peer | wsclient ÷ best | floor / ceiling | Python + wsaccel |\n|---|---:|---:|---:|---:|---:|\n")
	for _, row := range readmeRows {
		t := byName[row.sc]
		if t == nil {
			continue
		}
		get := func(lib string) float64 {
			res := t.cell[[2]string{row.c, lib}]
			if res == nil || len(res.Samples) == 0 {
				return math.NaN()
			}
			return res.median(t.sc.Metric)
		}
		me := "wsclient"
		if t.sc.RatioTo != "" {
			me = t.libs[0]
		}
		ref, refName := t.best(row.c)
		ceil := "–"
		for _, lib := range []string{"raw", "tcp-echo", "copy()"} {
			if v := get(lib); !math.IsNaN(v) {
				ceil = fmt.Sprintf("%s (%s)", num(v), lib)
			}
		}
		py := "–"
		if v := get("python+wsaccel"); !math.IsNaN(v) {
			py = num(v)
		}
		ratio := "–"
		if v := get(me); !math.IsNaN(v) && !math.IsNaN(ref) {
			ratio = fmt.Sprintf("×%.2f", t.ratio(v, ref))
		}
		name := row.label
		fmt.Fprintf(&b, "| %s | %s | %s (%s) | %s | %s | %s |\n", name, num(get(me)), num(ref), refName, ratio, ceil, py)
	}
	fmt.Fprintf(&b, "\nraw writes pre-built masked frames straight to the socket (the ceiling); tcp-echo is a plain TCP echo of the same bytes (the floor). Peers are used as their docs recommend for speed (buffers reused, compression off); gobwas/ws is used plainly (`wsutil`), so it keeps no buffers while idle but allocates on every message. ")
	fmt.Fprintf(&b, "Received text is UTF-8-validated by wsclient, gobwas and gws, not by gorilla and coder.\n")
	fmt.Fprintf(&b, "\n![benchmark chart](bench/results/chart.svg)\n\n")
	fmt.Fprintf(&b, "Run it yourself (about %s here; `-quick` for a ~30 s smoke, `-scenarios` and `-libs` to narrow it, `-report results/results.json` to re-render):\n\n```sh\ncd bench && go run .\n```\n", r.Elapsed.Round(time.Minute/2))
	return os.WriteFile(filepath.Join(out, "README-section.md"), []byte(b.String()), 0o644)
}

// rerender rebuilds results.md, chart.svg and README-section.md from a
// results.json, without measuring.
func rerender(jsonPath, out string) error {
	data, err := os.ReadFile(jsonPath)
	if err != nil {
		return err
	}
	var r Run
	if err := json.Unmarshal(data, &r); err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	var sel []*Scenario
	for _, sc := range scenarios() {
		for _, res := range r.Results {
			if res.Scenario == sc.Name {
				sel = append(sel, sc)
				break
			}
		}
	}
	return writeResults(out, &r, sel)
}
