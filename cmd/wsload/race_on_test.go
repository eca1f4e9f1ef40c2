//go:build race

package main

// raceEnabled: the race detector slows masking, copying and echoing several
// times over, so tests that assert latency bounds skip under it.
const raceEnabled = true
