//go:build wsclient_poolcheck

package poolcheck

import "sync/atomic"

var balance atomic.Int64

// Add records d buffers taken (positive) or returned (negative).
func Add(d int64) { balance.Add(d) }

// Balance reports the number of pooled buffers taken and not yet returned.
func Balance() int64 { return balance.Load() }
