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
	f    *os.File
	rc   syscall.RawConn
	fd   uintptr
	d    time.Duration
	arm  bool
	wait func(fd uintptr) bool // rc.Read's callback, made once
}

const (
	clockMonotonic = 1
	tfdNonblock    = syscall.O_NONBLOCK
	tfdCloexec     = syscall.O_CLOEXEC
)

func newSleeper() *sleeper {
	s := &sleeper{}
	fd, _, errno := syscall.Syscall(syscall.SYS_TIMERFD_CREATE, clockMonotonic, tfdNonblock|tfdCloexec, 0)
	if errno != 0 {
		return s
	}
	f := os.NewFile(fd, "timerfd")
	rc, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return s
	}
	s.f, s.rc, s.fd = f, rc, fd
	// The first call arms the timer and returns false, so that Read waits
	// for the poller: armed only now, after Read reset the poller's state
	// for this descriptor, its expiry cannot be missed. The second call,
	// after the expiry, returns true without reading: arming again resets
	// the timer's count (timerfd_settime), so the read would only cost a
	// syscall.
	s.wait = func(uintptr) bool {
		if !s.arm {
			return true
		}
		s.arm = false
		spec := [2]syscall.Timespec{{}, syscall.NsecToTimespec(int64(max(s.d, 1)))} // interval 0: once
		_, _, errno := syscall.Syscall6(syscall.SYS_TIMERFD_SETTIME, s.fd, 0, uintptr(unsafe.Pointer(&spec)), 0, 0, 0)
		return errno != 0
	}
	return s
}

func (s *sleeper) sleep(d time.Duration) {
	if s.f == nil {
		ts := syscall.NsecToTimespec(int64(d))
		syscall.Nanosleep(&ts, nil)
		return
	}
	s.d, s.arm = d, true
	s.rc.Read(s.wait)
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

// sendRoom returns how many more bytes surely fit in the socket's send
// buffer without blocking: a quarter of SO_SNDBUF (which also counts
// per-packet overhead) minus the bytes queued (SIOCOUTQ). The descriptor
// may be stale if the connection was just closed; the answer is then only
// a hint, and the send fails on the closed connection anyway.
func sendRoom(fd, sndbuf int) int {
	var q int32
	if _, _, errno := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.TIOCOUTQ, uintptr(unsafe.Pointer(&q))); errno != 0 {
		return 0
	}
	return sndbuf/4 - int(q)
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
