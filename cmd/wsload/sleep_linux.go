package main

import (
	"syscall"
	"time"
)

// shortSleep sleeps for d (under 2 ms) with nanosleep(2): the Go runtime's
// timers wake an idle process with millisecond resolution only, which would
// add up to a millisecond to every open-loop send.
func shortSleep(d time.Duration) {
	ts := syscall.NsecToTimespec(int64(d))
	syscall.Nanosleep(&ts, nil)
}

// ipBindAddressNoPort is IP_BIND_ADDRESS_NO_PORT (Linux 4.2): a socket bound
// to a source address gets its port at connect time, so the same port can
// serve several destinations.
const ipBindAddressNoPort = 24

func bindNoPort(network, address string, c syscall.RawConn) error {
	c.Control(func(fd uintptr) {
		syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, ipBindAddressNoPort, 1)
	})
	return nil
}
