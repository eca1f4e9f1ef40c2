//go:build !linux

package main

import (
	"syscall"
	"time"
)

func shortSleep(d time.Duration) { time.Sleep(d) }

func bindNoPort(network, address string, c syscall.RawConn) error { return nil }
