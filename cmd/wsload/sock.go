package main

import (
	"crypto/tls"
	"net"
	"syscall"

	"github.com/wsclient/wsclient"
)

// sockInfo returns the descriptor and SO_SNDBUF of the socket under c, or
// -1 when it has none (a proxy wrapper, a platform without SIOCOUTQ).
func sockInfo(c conn) (fd, sndbuf int) {
	var nc net.Conn
	switch c := c.(type) {
	case *wsclient.Conn:
		nc = c.NetConn()
	case *tcpConn:
		nc = c.nc
	}
	if tc, ok := nc.(*tls.Conn); ok {
		nc = tc.NetConn()
	}
	sc, ok := nc.(syscall.Conn)
	if !ok || !haveOutq {
		return -1, 0
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1, 0
	}
	return rawSock(rc)
}
