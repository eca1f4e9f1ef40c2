//go:build !race

package h2ws

import (
	"bytes"
	"io"
	"net"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// startEchoH2 is an HTTP/2 server that answers every extended CONNECT with
// 200 and echoes DATA, allocating nothing per frame itself (a reused-frame
// Framer), so an allocation count covers the client alone. It gives the
// window back every 32 KiB, as servers do, and counts those updates in
// updates.
func startEchoH2(t *testing.T, updates *atomic.Int64) *target {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() { ln.Close(); <-done })
	go func() {
		defer close(done)
		nc, err := ln.Accept()
		if err != nil {
			return
		}
		defer nc.Close()
		go func() { <-done; nc.Close() }()
		preface := make([]byte, len(http2.ClientPreface))
		if _, err := io.ReadFull(nc, preface); err != nil {
			return
		}
		fr := http2.NewFramer(nc, nc)
		fr.SetReuseFrames()
		fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
		fr.WriteSettings(xconnect...)
		var hb bytes.Buffer
		enc := hpack.NewEncoder(&hb)
		owed := 0
		for {
			f, err := fr.ReadFrame()
			if err != nil {
				return
			}
			switch f := f.(type) {
			case *http2.SettingsFrame:
				if !f.IsAck() {
					fr.WriteSettingsAck()
				}
			case *http2.MetaHeadersFrame:
				hb.Reset()
				enc.WriteField(hpack.HeaderField{Name: ":status", Value: "200"})
				fr.WriteHeaders(http2.HeadersFrameParam{StreamID: f.StreamID, BlockFragment: hb.Bytes(), EndHeaders: true})
			case *http2.DataFrame:
				if n := len(f.Data()); n > 0 {
					fr.WriteData(f.StreamID, false, f.Data())
					if owed += n; owed >= 32<<10 {
						fr.WriteWindowUpdate(0, uint32(owed))
						fr.WriteWindowUpdate(f.StreamID, uint32(owed))
						updates.Add(2)
						owed = 0
					}
				}
			}
		}
	}()
	tg := newTarget(ln.Addr().String(), false, nil)
	tg.only = true
	return tg
}

// TestStreamAllocs: in steady state, writing a message, reading its echo
// and moving a deadline allocate nothing: the Framer reuses its DATA
// frames, received DATA goes into pooled chunks, and sent DATA is framed
// from the caller's bytes. The one allocation left is x/net's: a
// WINDOW_UPDATE frame read is a new struct (its Framer reuses only DATA
// frames), one per update the server sends, every 32 KiB here.
func TestStreamAllocs(t *testing.T) {
	var updates atomic.Int64
	tg := startEchoH2(t, &updates)
	p := newPool(t)
	s, _ := dial(t, p, tg.request("/"))
	defer s.Close()
	msg := make([]byte, 1024)
	buf := make([]byte, 4096)
	roundTrip := func() {
		s.SetDeadline(time.Now().Add(time.Minute))
		if _, err := s.Write(msg); err != nil {
			t.Fatal(err)
		}
		for got := 0; got < len(msg); {
			n, err := s.Read(buf)
			if err != nil {
				t.Fatal(err)
			}
			got += n
		}
	}
	for range 100 {
		roundTrip()
	}
	const runs = 5000
	u0 := updates.Load()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	for range runs {
		roundTrip()
	}
	runtime.ReadMemStats(&m1)
	mallocs, ups := int64(m1.Mallocs-m0.Mallocs), updates.Load()-u0
	if mallocs > ups+runs/100 { // slack: earlier tests' streams still closing
		t.Fatalf("%d allocations in %d round trips with %d WINDOW_UPDATEs from the server; want at most one per update", mallocs, runs, ups)
	}
	t.Logf("%d allocations in %d round trips, %d WINDOW_UPDATEs", mallocs, runs, ups)
}
