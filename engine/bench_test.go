package engine

import (
	"encoding/binary"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/gobwas/ws"

	"github.com/wsclient/wsclient/codec"
	"github.com/wsclient/wsclient/mask"
)

var benchSizes = []int{16, 125, 1 << 10, 64 << 10, 1 << 20}

// sink starts a loopback TCP server that discards what it reads.
func sink(b *testing.B) net.Conn {
	return loopback(b, func(s net.Conn) { io.Copy(io.Discard, s) })
}

// flood starts a loopback TCP server that writes stream over and over.
func flood(b *testing.B, stream []byte) net.Conn {
	return loopback(b, func(s net.Conn) {
		for {
			if _, err := s.Write(stream); err != nil {
				return
			}
		}
	})
}

// loopback returns a connection to a loopback TCP server that runs serve
// on the one connection it accepts, then closes it.
func loopback(b *testing.B, serve func(net.Conn)) net.Conn {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() {
		s, err := ln.Accept()
		ln.Close()
		if err != nil {
			return
		}
		defer s.Close()
		serve(s)
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { nc.Close() })
	return nc
}

// BenchmarkSend measures one WriteMessage per message, to io.Discard and to
// a loopback TCP sink, against a raw writer that builds, masks and writes
// each frame itself (the ceiling).
func BenchmarkSend(b *testing.B) {
	for _, dst := range []string{"discard", "tcp"} {
		for _, n := range benchSizes {
			msg := make([]byte, n)
			b.Run(dst+"/wsclient/"+strconv.Itoa(n), func(b *testing.B) {
				var nc net.Conn = &discardConn{}
				if dst == "tcp" {
					nc = sink(b)
				}
				c := New(nc, nil, nil)
				b.SetBytes(int64(n))
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					if err := c.Send(OpBinary, msg); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(dst+"/raw/"+strconv.Itoa(n), func(b *testing.B) {
				var nc net.Conn = &discardConn{}
				if dst == "tcp" {
					nc = sink(b)
				}
				out := make([]byte, n+ws.MaxHeaderSize)
				b.SetBytes(int64(n))
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					var key [4]byte
					binary.LittleEndian.PutUint32(key[:], rand.Uint32())
					h := ws.Header{Fin: true, OpCode: ws.OpBinary, Length: int64(n), Masked: true, Mask: key}
					k := codec.PutHeader(out, h)
					mask.Copy(out[k:], msg, key, 0)
					if _, err := nc.Write(out[:k+n]); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkSendQueued measures batched sending: QueueMessage with a Flush
// every 1000 messages.
func BenchmarkSendQueued(b *testing.B) {
	for _, n := range []int{16, 125, 1 << 10} {
		msg := make([]byte, n)
		b.Run("tcp/"+strconv.Itoa(n), func(b *testing.B) {
			c := New(sink(b), nil, nil)
			b.SetBytes(int64(n))
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				if err := c.Queue(OpBinary, msg); err != nil {
					b.Fatal(err)
				}
				if i%1000 == 999 {
					c.Flush()
				}
			}
			c.Flush()
		})
	}
}

// BenchmarkSendParallel measures 8 goroutines sending on one connection
// (group commit).
func BenchmarkSendParallel(b *testing.B) {
	for _, n := range []int{16, 1 << 10} {
		msg := make([]byte, n)
		b.Run("tcp/"+strconv.Itoa(n), func(b *testing.B) {
			c := New(sink(b), nil, nil)
			b.SetBytes(int64(n))
			b.ReportAllocs()
			b.SetParallelism(4) // 2 cores × 4 = 8 senders
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := c.Send(OpBinary, msg); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// BenchmarkReceive reads messages from a pre-built frame stream (text is
// UTF-8 validated).
func BenchmarkReceive(b *testing.B) {
	for _, op := range []Opcode{OpBinary, OpText} {
		for _, n := range benchSizes {
			msg := make([]byte, n)
			for i := range msg {
				msg[i] = 'a' + byte(i%26)
			}
			var stream []byte
			for len(stream) < 4<<20 {
				stream = append(stream, frame(true, op, msg)...)
			}
			b.Run(map[Opcode]string{OpText: "text", OpBinary: "binary"}[op]+"/"+strconv.Itoa(n), func(b *testing.B) {
				c := New(&discardConn{stream: stream}, nil, nil)
				b.SetBytes(int64(n))
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					if _, _, err := c.Recv(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkIOTimeout compares sends to a loopback sink and receives from a
// loopback flood with IOTimeout off and on (compare the pairs as ratios).
func BenchmarkIOTimeout(b *testing.B) {
	for _, n := range []int{16, 64 << 10} {
		msg := make([]byte, n)
		var stream []byte
		for len(stream) < 1<<20 {
			stream = append(stream, frame(true, OpBinary, msg)...)
		}
		for _, d := range []time.Duration{0, time.Minute} {
			name := "/" + strconv.Itoa(n) + "/off"
			if d != 0 {
				name = "/" + strconv.Itoa(n) + "/on"
			}
			b.Run("send"+name, func(b *testing.B) {
				c := New(sink(b), nil, &Config{IOTimeout: d})
				b.SetBytes(int64(n))
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					if err := c.Send(OpBinary, msg); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("recv"+name, func(b *testing.B) {
				c := New(flood(b, stream), nil, &Config{IOTimeout: d})
				b.SetBytes(int64(n))
				b.ReportAllocs()
				b.ResetTimer()
				for range b.N {
					if _, _, err := c.Recv(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
