package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	hdr "github.com/HdrHistogram/hdrhistogram-go"
)

// fakeResult is a run's result with latencies values (µs).
func fakeResult(t *testing.T, sent int64, values ...int64) *Result {
	t.Helper()
	res := &Result{Tool: "wsload", URL: "ws://x/", Mode: "echo", Machines: 1, Flags: map[string]string{"c": "10"}, ErrorsByKind: map[string]int64{"reset": 1}}
	res.Connections.Target, res.Connections.Established = 10, 10
	res.Messages.Sent, res.Messages.Received, res.Messages.Size = sent, int64(len(values)), 64
	res.Messages.Lost = sent - int64(len(values))
	res.Errors = 1
	res.DurationS = 10
	res.Rate.SentPerS = float64(sent) / 10
	res.CPUS, res.MaxRSSBytes = 1.5, 1<<20
	h := newHist()
	for _, v := range values {
		h.RecordValue(v)
	}
	hs := newHist()
	hs.RecordValue(500)
	res.setHists(h, hs)
	return res
}

func writeResult(t *testing.T, res *Result) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "r.json")
	var b bytes.Buffer
	if err := res.writeJSONFile("-", &b); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(f, b.Bytes(), 0o644)
	return f
}

// Merging two machines' results: totals added, histograms merged, and
// percentiles recomputed from the merged histogram (not averaged).
func TestMerge(t *testing.T) {
	var a, b []int64
	for v := int64(1); v <= 1000; v++ {
		a = append(a, v) // machine A: 1..1000 µs
		b = append(b, 10*v)
	}
	ra, rb := fakeResult(t, 1001, a...), fakeResult(t, 1000, b...)
	var stdout, stderr bytes.Buffer
	if code := run(nil, []string{"merge", writeResult(t, ra), writeResult(t, rb)}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var m Result
	if err := json.Unmarshal(stdout.Bytes(), &m); err != nil {
		t.Fatal(err)
	}
	if m.Machines != 2 || m.Messages.Sent != 2001 || m.Messages.Received != 2000 || m.Messages.Lost != 1 ||
		m.Connections.Target != 20 || m.Errors != 2 || m.ErrorsByKind["reset"] != 2 || m.CPUS != 3 || m.MaxRSSBytes != 2<<20 ||
		m.Rate.SentPerS != 200.1 || m.DurationS != 10 {
		t.Fatalf("totals: %+v", m)
	}
	all := newHist()
	for _, v := range append(a, b...) {
		all.RecordValue(v)
	}
	want := percentiles(all)
	if m.LatencyUS != want {
		t.Errorf("latency %+v, want %+v (from all samples)", m.LatencyUS, want)
	}
	// The median of the two machines is not the mean of their medians.
	if avg := (ra.LatencyUS.P50 + rb.LatencyUS.P50) / 2; m.LatencyUS.P50 == avg {
		t.Errorf("p50 %d is the average of the medians", m.LatencyUS.P50)
	}
	if m.HandshakeUS.Count != 2 {
		t.Errorf("handshake %+v", m.HandshakeUS)
	}
	h, err := decodeHist(m.Histogram)
	if err != nil || !h.Equals(all) {
		t.Errorf("merged histogram differs from one of all samples (%v)", err)
	}
}

// "wsload merge out.json out.json" doubles the totals and keeps the
// percentiles.
func TestMergeSelf(t *testing.T) {
	res := fakeResult(t, 100, 10, 20, 30, 40, 5000)
	f := writeResult(t, res)
	var stdout bytes.Buffer
	if code := run(nil, []string{"merge", f, f}, &stdout, os.Stderr); code != 0 {
		t.Fatal(code)
	}
	var m Result
	json.Unmarshal(stdout.Bytes(), &m)
	if m.Messages.Sent != 200 || m.Messages.Received != 10 || m.Connections.Established != 20 || m.LatencyUS.Count != 10 {
		t.Fatalf("%+v", m)
	}
	p, q := m.LatencyUS, res.LatencyUS
	p.Count, q.Count = 0, 0
	if p != q {
		t.Errorf("percentiles %+v, want %+v", p, q)
	}
}

func TestMergeRejects(t *testing.T) {
	good := writeResult(t, fakeResult(t, 1, 1))
	// A histogram of another geometry (1 ns .. 1 h): refused before
	// hdrhistogram allocates the counts its header asks for.
	other := fakeResult(t, 1, 1)
	wide := hdr.New(1, 3_600_000_000_000, 5)
	wide.RecordValue(7)
	b, _ := wide.Encode(hdr.V2CompressedEncodingCookieBase)
	other.Histogram = string(b)
	bad := writeResult(t, other)
	notJSON := filepath.Join(t.TempDir(), "x.json")
	os.WriteFile(notJSON, []byte("{"), 0o644)
	notWsload := filepath.Join(t.TempDir(), "y.json")
	os.WriteFile(notWsload, []byte(`{"tool":"k6"}`), 0o644)
	garbage := fakeResult(t, 1, 1)
	garbage.Histogram = base64.StdEncoding.EncodeToString([]byte("HISTFAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"))
	gf := writeResult(t, garbage)
	recv := fakeResult(t, 1, 1)
	recv.Mode = "recv"
	rf := writeResult(t, recv)
	for _, tc := range []struct {
		files []string
		want  string
	}{
		{nil, "usage"},
		{[]string{good, bad}, "geometry"},
		{[]string{good, notJSON}, "unexpected end"},
		{[]string{notWsload}, "not a wsload result"},
		{[]string{gf}, "histogram"},
		{[]string{good, rf}, "cannot merge"},
		{[]string{good, filepath.Join(t.TempDir(), "missing.json")}, "no such file"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(nil, append([]string{"merge"}, tc.files...), &stdout, &stderr)
		if code == 0 || !strings.Contains(stderr.String(), tc.want) || stdout.Len() != 0 {
			t.Errorf("merge %v: exit %d, stderr %q, want %q", tc.files, code, stderr.String(), tc.want)
		}
	}
}
