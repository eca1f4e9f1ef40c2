//go:build wsclient_poolcheck

package engine

import "sync/atomic"

var balance atomic.Int64

func poolBalance(d int64) { balance.Add(d) }

// PoolBalance reports the number of pooled buffers taken and not yet
// returned (wsclient_poolcheck builds only).
func PoolBalance() int64 { return balance.Load() }
