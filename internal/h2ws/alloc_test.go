//go:build !race

package h2ws

import (
	"context"
	"io"
	"net"
	"testing"
	"time"
)

// fullBody is a response body that always has data.
type fullBody struct{}

func (fullBody) Read(p []byte) (int, error) { return len(p), nil }
func (fullBody) Close() error               { return nil }

// TestStreamAllocs: the Stream itself adds no allocation to a write, a
// read or moving a deadline (x/net's client does allocate a frame struct
// per received DATA and WINDOW_UPDATE frame: its Framer does not reuse
// frames).
func TestStreamAllocs(t *testing.T) {
	pipe := newBodyPipe()
	_, cancel := context.WithCancel(context.Background())
	c1, c2 := net.Pipe()
	defer c1.Close()
	defer c2.Close()
	s := newStream(nil, fullBody{}, pipe, cancel, c1, "test")
	go io.Copy(io.Discard, pipe) // x/net's body writer
	msg := make([]byte, 1024)
	buf := make([]byte, 4096)
	for range 10 {
		s.Write(msg)
		s.Read(buf)
	}
	if n := testing.AllocsPerRun(1000, func() {
		s.SetDeadline(time.Now().Add(time.Minute))
		if _, err := s.Write(msg); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Read(buf); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Fatalf("expected 0 allocations, got %v", n)
	}
	s.Close()
	<-s.Done()
}
