//go:build !wsclient_poolcheck

// Package poolcheck counts the engine's pooled buffers in builds with the
// wsclient_poolcheck tag, so tests can assert that every buffer taken from
// the pool went back; in other builds it counts nothing and costs nothing.
package poolcheck

// Add records d buffers taken (positive) or returned (negative); a no-op
// without the wsclient_poolcheck tag.
func Add(int64) {}

// Balance reports the number of pooled buffers taken and not yet returned;
// always 0 without the wsclient_poolcheck tag.
func Balance() int64 { return 0 }
