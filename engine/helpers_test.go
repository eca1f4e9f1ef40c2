package engine

import (
	"bufio"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsclient/wsclient/internal/testutil"
)

// pair returns a client Conn and the raw server side of a loopback TCP
// connection. The test plays the server by writing raw frame bytes.
func pair(t testing.TB, cfg *Config) (*Conn, *rawServer) {
	t.Helper()
	return pairWrap(t, cfg, nil)
}

// pairWrap is pair with the client's network connection wrapped by wrap
// (nil: not wrapped).
func pairWrap(t testing.TB, cfg *Config, wrap func(net.Conn) net.Conn) (*Conn, *rawServer) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		s, err := ln.Accept()
		if err != nil {
			accepted <- nil
			return
		}
		accepted <- s
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s := <-accepted
	if s == nil {
		t.Fatal("accept failed")
	}
	if wrap != nil {
		nc = wrap(nc)
	}
	c := New(nc, nil, cfg)
	srv := &rawServer{t: t, nc: s, br: bufio.NewReaderSize(s, 1<<16)}
	t.Cleanup(func() {
		c.Abort()
		s.Close()
	})
	return c, srv
}

type rawServer struct {
	t  testing.TB
	nc net.Conn
	br *bufio.Reader
}

// frame builds an unmasked server frame without RSV bits.
func frame(fin bool, op Opcode, p []byte) []byte {
	return testutil.Frame(fin, 0, ws.OpCode(op), p)
}

func (s *rawServer) write(b ...[]byte) {
	s.t.Helper()
	for _, x := range b {
		if _, err := s.nc.Write(x); err != nil {
			s.t.Errorf("server write: %v", err)
			return
		}
	}
}

// readFrame reads one client frame, checks it is masked and unmasks it.
func (s *rawServer) readFrame() (ws.Header, []byte, error) {
	_ = s.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	h, err := ws.ReadHeader(s.br)
	if err != nil {
		return h, nil, err
	}
	if !h.Masked {
		s.t.Errorf("client frame not masked: %+v", h)
	}
	p := make([]byte, h.Length)
	if _, err := io.ReadFull(s.br, p); err != nil {
		return h, nil, err
	}
	ws.Cipher(p, h.Mask, 0)
	return h, p, nil
}

// expectClose reads client frames until a close frame and returns its code
// (1005 for an empty payload).
func (s *rawServer) expectClose() (uint16, string) {
	s.t.Helper()
	for {
		h, p, err := s.readFrame()
		if err != nil {
			s.t.Fatalf("reading client close frame: %v", err)
		}
		if Opcode(h.OpCode) == OpClose {
			if len(p) == 0 {
				return 1005, ""
			}
			return binary.BigEndian.Uint16(p), string(p[2:])
		}
	}
}

// readMessage reassembles one data message sent by the client.
func (s *rawServer) readMessage() (Opcode, []byte, error) {
	var op Opcode
	var msg []byte
	for {
		h, p, err := s.readFrame()
		if err != nil {
			return 0, nil, err
		}
		if h.OpCode.IsControl() {
			continue
		}
		if Opcode(h.OpCode) != OpContinuation {
			op = Opcode(h.OpCode)
		}
		msg = append(msg, p...)
		if h.Fin {
			return op, msg, nil
		}
	}
}

// discardConn is a net.Conn whose writes vanish and whose reads replay a
// pre-built frame stream forever.
type discardConn struct {
	net.Conn
	stream []byte
	off    int
}

func (d *discardConn) Write(p []byte) (int, error) { return len(p), nil }
func (d *discardConn) Read(p []byte) (int, error) {
	if len(d.stream) == 0 {
		return 0, io.EOF
	}
	n := copy(p, d.stream[d.off:])
	d.off = (d.off + n) % len(d.stream)
	return n, nil
}
func (d *discardConn) Close() error                       { return nil }
func (d *discardConn) SetDeadline(t time.Time) error      { return nil }
func (d *discardConn) SetReadDeadline(t time.Time) error  { return nil }
func (d *discardConn) SetWriteDeadline(t time.Time) error { return nil }

// sendFrames sends p as one message in frames of at most size bytes (see
// testutil.SendFrames).
func sendFrames(c *Conn, op Opcode, p []byte, size int) error {
	return testutil.SendFrames[Opcode](c, op, p, size)
}
