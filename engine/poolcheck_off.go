//go:build !wsclient_poolcheck

package engine

func poolBalance(int64) {}

// PoolBalance reports the number of pooled buffers taken and not yet
// returned. It is only counted in builds with the wsclient_poolcheck tag;
// otherwise it is always 0.
func PoolBalance() int64 { return 0 }
