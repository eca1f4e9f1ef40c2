package main

import (
	"os"
	"syscall"
	"time"
	"unsafe"
)

// sleeper waits for short durations (under 2 ms) precisely. The Go
// runtime's timers wake an idle process with millisecond resolution only,
// which would add up to a millisecond to every open-loop send. A timerfd
// read through the runtime's poller wakes on time, and unlike nanosleep(2)
// in a goroutine it does not hold a thread in a syscall (which makes the
// runtime hand the thread's P to another thread: futex wake-ups, costing
// more CPU than the send itself at a few thousand messages per second).
type sleeper struct {
	f   *os.File
	fd  uintptr
	buf [8]byte
}

const (
	clockMonotonic = 1
	tfdNonblock    = syscall.O_NONBLOCK
	tfdCloexec     = syscall.O_CLOEXEC
)

func newSleeper() *sleeper {
	fd, _, errno := syscall.Syscall(syscall.SYS_TIMERFD_CREATE, clockMonotonic, tfdNonblock|tfdCloexec, 0)
	if errno != 0 {
		return &sleeper{}
	}
	return &sleeper{f: os.NewFile(fd, "timerfd"), fd: fd}
}

func (s *sleeper) sleep(d time.Duration) {
	if s.f == nil {
		ts := syscall.NsecToTimespec(int64(d))
		syscall.Nanosleep(&ts, nil)
		return
	}
	spec := [2]syscall.Timespec{{}, syscall.NsecToTimespec(int64(max(d, 1)))} // interval 0: once
	if _, _, errno := syscall.Syscall6(syscall.SYS_TIMERFD_SETTIME, s.fd, 0, uintptr(unsafe.Pointer(&spec)), 0, 0, 0); errno != 0 {
		time.Sleep(d)
		return
	}
	s.f.Read(s.buf[:])
}

func (s *sleeper) close() {
	if s.f != nil {
		s.f.Close()
	}
}

const haveOutq = true

func rawSock(rc syscall.RawConn) (fd, sndbuf int) {
	fd = -1
	rc.Control(func(s uintptr) {
		if v, err := syscall.GetsockoptInt(int(s), syscall.SOL_SOCKET, syscall.SO_SNDBUF); err == nil && v > 0 {
			fd, sndbuf = int(s), v
		}
	})
	return fd, sndbuf
}

// writeFits reports whether n more bytes surely fit in the socket's send
// buffer without blocking: the bytes queued (SIOCOUTQ) plus n stay under a
// quarter of SO_SNDBUF (which also counts per-packet overhead). The
// descriptor may be stale if the connection was just closed; the answer is
// then only a hint, and the send fails on the closed connection anyway.
func writeFits(fd, n, sndbuf int) bool {
	var q int32
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.TIOCOUTQ, uintptr(unsafe.Pointer(&q))); errno != 0 {
		return false
	}
	return int(q)+n <= sndbuf/4
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
