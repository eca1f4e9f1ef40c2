//go:build unix

package main

import (
	"runtime"
	"syscall"
)

// raiseFileLimit lifts the soft open-file limit to the hard limit and
// returns the limit now in force (0 if unknown).
func raiseFileLimit() (soft, hard uint64) {
	var l syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l) != nil {
		return 0, 0
	}
	if l.Cur < l.Max {
		n := l
		n.Cur = n.Max
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &n) == nil {
			l = n
		}
	}
	return uint64(l.Cur), uint64(l.Max)
}

// usage returns the process's CPU time (user + system) in seconds and its
// peak resident set size in bytes, from getrusage(2).
func usage() (cpu float64, maxRSS int64) {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0, 0
	}
	cpu = float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
	maxRSS = int64(ru.Maxrss)
	if runtime.GOOS != "darwin" && runtime.GOOS != "ios" {
		maxRSS *= 1024 // kilobytes everywhere else
	}
	return cpu, maxRSS
}
