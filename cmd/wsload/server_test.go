package main

import (
	"bufio"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gobwas/ws"
)

// testServer is an echo server whose misbehaviour the tests choose; the
// repository's wsserver (what wsecho serves) is used where a plain echo
// server is enough.
type testServer struct {
	// hold: each connection echoes nothing until it has received this
	// many messages, then echoes them all and everything after at once.
	hold int
	// delay: each echo is sent this long after the previous one was
	// (a server that handles one message per delay).
	delay time.Duration
	// closeAfter: each connection is closed with 1001 after this many
	// echoes.
	closeAfter int
	// rejectEvery: every n-th handshake is answered 503.
	rejectEvery int
	// header: handshakes without this "Name: value" header are refused
	// (400); protocol: the subprotocol accepted.
	header, protocol string
	// pause: after the first message, each connection stops reading for
	// this long (its socket buffers fill and the client's writes block).
	pause time.Duration
	// pauseFirst: the same, for the first connection only.
	pauseFirst time.Duration

	ln        net.Listener
	wg        sync.WaitGroup
	mu        sync.Mutex
	conns     map[net.Conn]bool
	handshake atomic.Int64
	msgs      atomic.Int64 // data messages received, all connections
}

func (s *testServer) start(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.ln = ln
	s.conns = map[net.Conn]bool{}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns[c] = true
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer func() {
					c.Close()
					s.mu.Lock()
					delete(s.conns, c)
					s.mu.Unlock()
				}()
				s.serve(c)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return "ws://" + ln.Addr().String() + "/"
}

func (s *testServer) serve(c net.Conn) {
	n := s.handshake.Add(1)
	if n == 1 && s.pauseFirst > 0 { // a small fixed buffer: the client's writes block sooner
		c.(*net.TCPConn).SetReadBuffer(64 << 10)
	}
	u := ws.Upgrader{}
	if s.rejectEvery > 0 && n%int64(s.rejectEvery) == 0 {
		u.OnRequest = func([]byte) error { return ws.RejectConnectionError(ws.RejectionStatus(503)) }
	}
	if s.header != "" {
		name, value, _ := strings.Cut(s.header, ": ")
		found := false
		u.OnHeader = func(k, v []byte) error {
			found = found || (strings.EqualFold(string(k), name) && string(v) == value)
			return nil
		}
		u.OnBeforeUpgrade = func() (ws.HandshakeHeader, error) {
			if !found {
				return nil, ws.RejectConnectionError(ws.RejectionStatus(400))
			}
			return nil, nil
		}
	}
	if s.protocol != "" {
		u.Protocol = func(p []byte) bool { return string(p) == s.protocol }
	}
	if _, err := u.Upgrade(c); err != nil {
		return
	}
	br := bufio.NewReader(c)
	var held []ws.Frame
	echoed := 0
	last := time.Now()
	var wmu sync.Mutex
	write := func(f ws.Frame) error {
		wmu.Lock()
		defer wmu.Unlock()
		return ws.WriteFrame(c, f)
	}
	for {
		f, err := ws.ReadFrame(br)
		if err != nil {
			return
		}
		if f.Header.Masked {
			ws.Cipher(f.Payload, f.Header.Mask, 0)
		}
		switch f.Header.OpCode {
		case ws.OpPing:
			write(ws.NewPongFrame(f.Payload))
			continue
		case ws.OpClose:
			write(ws.NewCloseFrame(f.Payload))
			return
		case ws.OpPong:
			continue
		}
		if s.msgs.Add(1) == 1 && s.pause > 0 {
			time.Sleep(s.pause)
		}
		if n == 1 && s.pauseFirst > 0 {
			time.Sleep(s.pauseFirst)
			s.pauseFirst = 0 // read by this connection's goroutine only
		}
		out := ws.NewFrame(f.Header.OpCode, true, f.Payload)
		if s.hold > 0 && len(held) < s.hold && echoed == 0 {
			held = append(held, out)
			if len(held) < s.hold {
				continue
			}
			for _, h := range held {
				if write(h) != nil {
					return
				}
			}
			echoed = len(held)
			continue
		}
		if s.delay > 0 {
			if d := s.delay - time.Since(last); d > 0 {
				time.Sleep(d)
			}
			last = time.Now()
		}
		if write(out) != nil {
			return
		}
		echoed++
		if s.closeAfter > 0 && echoed >= s.closeAfter {
			write(ws.NewCloseFrame(ws.NewCloseFrameBody(ws.StatusGoingAway, "test")))
			c.SetReadDeadline(time.Now().Add(time.Second))
			for { // until the client answers
				f, err := ws.ReadFrame(br)
				if err != nil || f.Header.OpCode == ws.OpClose {
					return
				}
			}
		}
	}
}
