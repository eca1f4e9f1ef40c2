//go:build !linux

package main

import (
	"syscall"
	"time"
)

// sleeper waits for short durations; without timerfd, with time.Sleep.
type sleeper struct{}

func newSleeper() *sleeper { return &sleeper{} }

func (s *sleeper) sleep(d time.Duration) { time.Sleep(d) }

func (s *sleeper) close() {}

const haveOutq = false

func rawSock(rc syscall.RawConn) (fd, sndbuf int) { return -1, 0 }

func sendRoom(fd, sndbuf int) int { return 0 }

func bindNoPort(network, address string, c syscall.RawConn) error { return nil }
