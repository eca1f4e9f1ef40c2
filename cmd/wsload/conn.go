package main

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/url"
	"time"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/mask"
)

// conn is what the runner needs of a connection: *wsclient.Conn, or a
// tcpConn for the raw TCP floor.
type conn interface {
	Send(op wsclient.Opcode, p []byte) error
	Queue(op wsclient.Opcode, p []byte) error
	Flush() error
	Recv() (wsclient.Opcode, []byte, error)
	RecvFrame() (wsclient.Frame, error)
	Ping(p []byte) error
	Close(code wsclient.StatusCode, reason string) error
	Abort() error
}

// tcpConn is the floor a WebSocket client is compared with: the same
// client frames (header, fresh mask key, masked payload) written to a
// plain TCP byte echo server (tcp://host:port) and read back whole, with
// no protocol around them. Only echo mode uses it.
type tcpConn struct {
	nc    net.Conn
	size  int // payload size of every message
	hlen  int // client frame header size for that payload
	out   []byte
	in    []byte
	queue []byte
}

var errTCPFloor = errors.New("not available on tcp:// (the raw TCP floor only echoes)")

func dialTCP(ctx context.Context, rawurl string, size int, timeout time.Duration, netDial func(ctx context.Context, network, addr string) (net.Conn, error)) (conn, error) {
	u, err := url.Parse(rawurl)
	if err != nil {
		return nil, err
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	var nc net.Conn
	if netDial != nil {
		nc, err = netDial(ctx, "tcp", u.Host)
	} else {
		nc, err = (&net.Dialer{}).DialContext(ctx, "tcp", u.Host)
	}
	if err != nil {
		return nil, err
	}
	hlen := 2 + 4
	switch {
	case size > 65535:
		hlen += 8
	case size > 125:
		hlen += 2
	}
	return &tcpConn{nc: nc, size: size, hlen: hlen, out: make([]byte, hlen+size), in: make([]byte, hlen+size)}, nil
}

// frame builds the masked client frame of p in c.out, as a WebSocket
// client would.
func (c *tcpConn) frame(op wsclient.Opcode, p []byte) []byte {
	b := c.out
	b[0] = 0x80 | byte(op)
	switch c.hlen {
	case 6:
		b[1] = 0x80 | byte(len(p))
	case 8:
		b[1] = 0x80 | 126
		binary.BigEndian.PutUint16(b[2:], uint16(len(p)))
	default:
		b[1] = 0x80 | 127
		binary.BigEndian.PutUint64(b[2:], uint64(len(p)))
	}
	var key [4]byte
	binary.LittleEndian.PutUint32(key[:], rand.Uint32())
	copy(b[c.hlen-4:], key[:])
	mask.Copy(b[c.hlen:], p, key, 0)
	return b
}

func (c *tcpConn) Send(op wsclient.Opcode, p []byte) error {
	_, err := c.nc.Write(c.frame(op, p))
	return err
}

func (c *tcpConn) Queue(op wsclient.Opcode, p []byte) error {
	c.queue = append(c.queue, c.frame(op, p)...)
	return nil
}

func (c *tcpConn) Flush() error {
	_, err := c.nc.Write(c.queue)
	c.queue = c.queue[:0]
	return err
}

// Recv reads one echoed frame and returns its payload, unmasked.
func (c *tcpConn) Recv() (wsclient.Opcode, []byte, error) {
	if _, err := io.ReadFull(c.nc, c.in); err != nil {
		return 0, nil, err
	}
	var key [4]byte
	copy(key[:], c.in[c.hlen-4:c.hlen])
	p := c.in[c.hlen:]
	mask.Apply(p, key, 0)
	return wsclient.Opcode(c.in[0] & 0xf), p, nil
}

func (c *tcpConn) RecvFrame() (wsclient.Frame, error) { return wsclient.Frame{}, errTCPFloor }
func (c *tcpConn) Ping([]byte) error                  { return errTCPFloor }
func (c *tcpConn) Close(wsclient.StatusCode, string) error {
	return c.nc.Close()
}
func (c *tcpConn) Abort() error { return c.nc.Close() }
