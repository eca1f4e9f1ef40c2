package main

import (
	"fmt"
	"math"
	"strings"
)

// The performance targets of DESIGN.md, checked against the medians of a
// run. Benchmarks, not tests: a miss is reported, never fatal.

type target struct {
	Goal, Measured, Status string
}

type lookup map[[3]string]*Result

func (l lookup) med(sc, c, lib, metric string) float64 {
	r := l[[3]string{sc, c, lib}]
	if r == nil || len(r.Samples) == 0 {
		return math.NaN()
	}
	return r.median(metric)
}

func status(ok []bool) string {
	if len(ok) == 0 {
		return "not measured"
	}
	n := 0
	for _, b := range ok {
		if b {
			n++
		}
	}
	switch n {
	case len(ok):
		return "met"
	case 0:
		return "**missed**"
	}
	return fmt.Sprintf("**missed** (%d of %d)", len(ok)-n, len(ok))
}

func bestPeer(l lookup, sc, c, metric string, lower bool) (float64, string) {
	bv, bn := math.NaN(), ""
	for _, lib := range libs() {
		if !lib.Peer {
			continue
		}
		v := l.med(sc, c, lib.Name, metric)
		if math.IsNaN(v) {
			continue
		}
		if math.IsNaN(bv) || (lower && v < bv) || (!lower && v > bv) {
			bv, bn = v, lib.Name
		}
	}
	return bv, bn
}

func targets(r *Run) []target {
	l := lookup{}
	for _, res := range r.Results {
		l[[3]string{res.Scenario, res.Case, res.Lib}] = res
	}
	var ts []target
	// add evaluates ratio >= min for each case; measured lists them.
	add := func(goal string, cases []string, ratio func(c string) float64, min float64) {
		var ok []bool
		var parts []string
		for _, c := range cases {
			x := ratio(c)
			if math.IsNaN(x) || math.IsInf(x, 0) {
				continue
			}
			ok = append(ok, x >= min)
			parts = append(parts, fmt.Sprintf("%s ×%.2f", c, x))
		}
		ts = append(ts, target{goal, strings.Join(parts, ", "), status(ok)})
	}
	gbs := func(impl string) func(c string) float64 {
		return func(c string) float64 {
			return l.med("mask", c, impl, "GB/s") / l.med("mask", c, "ws.Cipher", "GB/s")
		}
	}
	for _, impl := range []string{"mask.Apply", "mask.Copy"} {
		add(impl+" ≥3× ws.Cipher at 15, 31, 125 B", []string{"15 B", "31 B", "125 B"}, gbs(impl), 3)
		add(impl+" ≥1.5× ws.Cipher at 7, 16, 64 B, 1 KiB, 16 KiB", []string{"7 B", "16 B", "64 B", "1 KiB", "16 KiB"}, gbs(impl), 1.5)
		add(impl+" never slower than ws.Cipher", []string{"64 KiB", "1 MiB"}, gbs(impl), 1)
	}
	add("mask.Copy ≥0.9× copy() from 1 KiB up", []string{"1 KiB", "16 KiB", "64 KiB", "1 MiB"}, func(c string) float64 {
		return l.med("mask", c, "mask.Copy", "GB/s") / l.med("mask", c, "copy()", "GB/s")
	}, 0.9)

	sizes := []string{"16 B", "125 B", "1 KiB", "64 KiB", "1 MiB"}
	// Allocations: process-wide MemStats also count the runtime's own
	// background work, so "0" is taken as at most 0.01 per message.
	for _, sc := range []string{"send", "recv"} {
		var ok []bool
		var parts []string
		for _, c := range sizes {
			a := l.med(sc, c, "wsclient", "allocs/msg")
			if math.IsNaN(a) {
				continue
			}
			ok = append(ok, a <= 0.01)
			parts = append(parts, fmt.Sprintf("%s %.3f", c, a))
		}
		ts = append(ts, target{"0 allocs per " + map[string]string{"send": "Send", "recv": "Recv"}[sc] + " (allocs/msg ≤ 0.01, process-wide)", strings.Join(parts, ", "), status(ok)})
	}
	add("send ≥0.9× raw TCP writer at 16 B, 1 KiB, 64 KiB, 1 MiB", []string{"16 B", "1 KiB", "64 KiB", "1 MiB"}, func(c string) float64 {
		return l.med("send", c, "wsclient", "msg/s") / l.med("send", c, "raw", "msg/s")
	}, 0.9)
	vsPeer := func(sc, metric string, lower bool) func(c string) float64 {
		return func(c string) float64 {
			b, _ := bestPeer(l, sc, c, metric, lower)
			v := l.med(sc, c, "wsclient", metric)
			if lower {
				return b / v
			}
			return v / b
		}
	}
	add("send never slower than the best Go peer", sizes, vsPeer("send", "msg/s", false), 1)
	add("send ≥1.5× the best peer at 1 MiB", []string{"1 MiB"}, vsPeer("send", "msg/s", false), 1.5)
	add("buffered 16 B ≥20× one-message-per-call (best peer's send)", []string{"16 B"}, func(c string) float64 {
		b, _ := bestPeer(l, "send", c, "msg/s", false)
		return l.med("batch", c, "wsclient", "msg/s") / b
	}, 20)
	add("≥3× python+wsaccel per message at every size", sizes, func(c string) float64 {
		return l.med("send", c, "wsclient", "msg/s") / l.med("send", c, "python+wsaccel", "msg/s")
	}, 3)
	add("buffered small messages ≥50× python+wsaccel", []string{"16 B", "125 B"}, func(c string) float64 {
		return l.med("batch", c, "wsclient", "msg/s") / l.med("send", c, "python+wsaccel", "msg/s")
	}, 50)
	add("receive (text validated) ≥ the best Go peer", []string{"16 B", "1 KiB", "64 KiB"}, vsPeer("recv", "MB/s", false), 1)
	for _, q := range []string{"p50", "p99"} {
		add("echo "+q+" within 1.1× raw TCP echo (shown as tcp-echo ÷ wsclient, ≥0.91)", []string{"16 B", "1 KiB"}, func(c string) float64 {
			return l.med("echo", c, "tcp-echo", q) / l.med("echo", c, "wsclient", q)
		}, 1/1.1)
	}
	h2 := func(sc, metric string, lower bool) func(c string) float64 {
		return func(c string) float64 {
			a, b := l.med(sc, c, h2Lib, metric), l.med(sc, c, h1Lib, metric)
			if lower {
				return b / a
			}
			return a / b
		}
	}
	add("HTTP/2: opening 1,000 wss WebSockets in ≤1/5 the time of HTTP/1.1 (shown as HTTP/1.1 ÷ HTTP/2, ≥5)", []string{"1,000 WebSockets"}, h2("h2-open", "ms", true), 5)
	add("HTTP/2: … and ≤1/5 the client memory (≥5)", []string{"1,000 WebSockets"}, h2("h2-open", "B/conn", true), 5)
	add("HTTP/2: one stream sends ≥0.8× an HTTP/1.1 connection", []string{"1 KiB", "64 KiB"}, h2("h2-send", "MB/s", false), 0.8)
	add("UTF-8 ("+utf8Name+") never slower than utf8.Valid on ASCII", []string{"ASCII 1 KiB", "ASCII 64 KiB"}, func(c string) float64 {
		return l.med("utf8", c, utf8Name, "GB/s") / l.med("utf8", c, "utf8.Valid", "GB/s")
	}, 1)
	add("UTF-8 ("+utf8Name+") ≥5× utf8.Valid on mixed text", []string{"mixed 1 KiB", "mixed 64 KiB"}, func(c string) float64 {
		return l.med("utf8", c, utf8Name, "GB/s") / l.med("utf8", c, "utf8.Valid", "GB/s")
	}, 5)
	return ts
}
