package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/wsclient/wsclient/bench/internal/jsonish"
)

var testSrv *Server

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "wsclient-bench-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin, err := buildServer(dir)
	if err == nil {
		testSrv, err = startServer(bin)
	}
	if err != nil {
		os.RemoveAll(dir)
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	testSrv.Stop()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Every adapter must echo binary and text messages byte-exactly, over ws
// and wss, at the sizes around the frame-length encodings.
func TestAdaptersEcho(t *testing.T) {
	sizes := []int{0, 1, 16, 125, 126, 127, 1024, 65535, 65536, 65537, 1 << 20}
	for _, l := range libs() {
		for _, tls := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/tls=%v", l.Name, tls), func(t *testing.T) {
				t.Parallel()
				if err := verifyEcho(l, testSrv.URL(tls, "/echo"), sizes); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}

// Every adapter receives all flooded text messages, byte-exactly.
func TestAdaptersFlood(t *testing.T) {
	for _, l := range libs() {
		for _, size := range []int{16, 1000, 70000} {
			t.Run(fmt.Sprintf("%s/%d", l.Name, size), func(t *testing.T) {
				t.Parallel()
				const n = 200
				c, err := dial(l, testSrv.URL(false, fmt.Sprintf("/flood?n=%d&size=%d&text=1", n, size)))
				if err != nil {
					t.Fatal(err)
				}
				defer c.Close()
				want := make([]byte, size)
				fillText(want)
				for i := range n {
					text, p, err := c.Recv()
					if err != nil {
						t.Fatalf("message %d: %v", i, err)
					}
					if !text || !bytes.Equal(p, want) {
						t.Fatalf("message %d: text=%v, %d bytes, differs from the flooded message", i, text, len(p))
					}
				}
			})
		}
	}
}

// The compression adapters negotiate permessage-deflate, actually compress
// (fewer bytes on the wire than the text), and round-trip JSON through the
// echo server (which echoes the compressed frames) and the deflate flood.
func TestAdaptersDeflate(t *testing.T) {
	for _, l := range libs() {
		if l.DialDeflate == nil {
			continue
		}
		t.Run(l.Name, func(t *testing.T) {
			var rd, wr atomic.Int64
			nd := countingDial(&rd, &wr)
			c, err := l.DialDeflate(context.Background(), testSrv.URL(false, "/echo?deflate=1"), nd)
			if err != nil {
				t.Fatal(err)
			}
			for _, size := range []int{1 << 10, 64 << 10} {
				msg := jsonish.Make(size, uint64(size))
				w0 := wr.Load()
				if err := c.Send(true, msg); err != nil {
					t.Fatal(err)
				}
				text, p, err := c.Recv()
				if err != nil || !text || !bytes.Equal(p, msg) {
					t.Fatalf("echo of %d bytes: text=%v, %d bytes, %v", size, text, len(p), err)
				}
				if sent := wr.Load() - w0; sent > int64(size)*8/10 {
					t.Fatalf("%d bytes of JSON took %d bytes on the wire: not compressed", size, sent)
				}
			}
			c.Close()

			const n = 50
			c, err = l.DialDeflate(context.Background(), testSrv.URL(false, fmt.Sprintf("/flood?n=%d&size=%d&deflate=1", n, 5000)), nd)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			want := jsonish.Make(5000, 1)
			for i := range n {
				text, p, err := c.Recv()
				if err != nil || !text || !bytes.Equal(p, want) {
					t.Fatalf("flood message %d: text=%v, %d bytes, %v", i, text, len(p), err)
				}
			}
		})
	}
}

// Sends to the sink (single and batched) are all read by the server before
// the sync answer comes back; a broken frame would make the server drop
// the connection instead.
func TestAdaptersSink(t *testing.T) {
	for _, l := range libs() {
		t.Run(l.Name, func(t *testing.T) {
			t.Parallel()
			c, err := dial(l, testSrv.URL(false, "/sink"))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			for _, size := range []int{16, 125, 1024, 65536, 1 << 20} {
				p := payload(size)
				for range 20 {
					if err := c.Send(false, p); err != nil {
						t.Fatal(err)
					}
				}
				if err := syncSink(c); err != nil {
					t.Fatalf("sync after %d-byte messages: %v", size, err)
				}
				if b, ok := c.(Batcher); ok && size <= 1024 {
					for i := range 3000 {
						if err := b.Queue(p); err != nil {
							t.Fatal(err)
						}
						if i%1000 == 999 {
							if err := b.Flush(); err != nil {
								t.Fatal(err)
							}
						}
					}
					if err := syncSink(c); err != nil {
						t.Fatalf("sync after batched %d-byte messages: %v", size, err)
					}
				}
			}
		})
	}
}

// Eight concurrent senders on one connection (wrapped in a mutex where the
// library allows one writer) produce intact messages.
func TestAdaptersConcurrent(t *testing.T) {
	for _, l := range libs() {
		if l.Name == "raw" {
			continue
		}
		t.Run(l.Name, func(t *testing.T) {
			t.Parallel()
			c, err := dial(l, testSrv.URL(false, "/echo"))
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if !l.Safe {
				c = &lockedClient{Client: c}
			}
			const senders, per, size = 8, 50, 1000
			var wg sync.WaitGroup
			for g := range senders {
				wg.Add(1)
				go func() {
					defer wg.Done()
					p := bytes.Repeat([]byte{byte('a' + g)}, size)
					for range per {
						if err := c.Send(false, p); err != nil {
							t.Error(err)
							return
						}
					}
				}()
			}
			counts := map[byte]int{}
			for i := range senders * per {
				_, p, err := c.Recv()
				if err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
				if len(p) != size || !bytes.Equal(p, bytes.Repeat(p[:1], size)) {
					t.Fatalf("message %d is not one sender's intact message", i)
				}
				counts[p[0]]++
			}
			wg.Wait()
			for g := range senders {
				if counts[byte('a'+g)] != per {
					t.Errorf("sender %d: %d messages echoed, want %d", g, counts[byte('a'+g)], per)
				}
			}
		})
	}
}

// A tiny run of every scenario writes the three output files.
func TestRunSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	out := t.TempDir()
	if err := run(true, 1, 5*time.Millisecond, 10, "send,batch,concurrent,echo,recv,idle,mask,utf8", "wsclient,gws,raw,tcp-echo", out, "test"); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(out, "results.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"### send", "| 16 B |", "wsclient ÷ best", "### idle", "### mask", "### utf8"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("results.md lacks %q", want)
		}
	}
	if strings.Contains(string(md), "error") {
		t.Errorf("results.md reports errors:\n%s", md)
	}
	svg, err := os.ReadFile(filepath.Join(out, "chart.svg"))
	if err != nil || !bytes.HasPrefix(svg, []byte("<svg")) || !bytes.Contains(svg, []byte("<rect")) {
		t.Errorf("chart.svg: %v, %.80q", err, svg)
	}
}

func TestFillTextValid(t *testing.T) {
	for n := range 300 {
		p := make([]byte, n)
		fillText(p)
		if !validUTF8(p) {
			t.Fatalf("fillText(%d) is not valid UTF-8", n)
		}
	}
}

// wss is TLS 1.3 with AES-GCM, as the results claim.
func TestWSSCipherSuite(t *testing.T) {
	c, err := tls.Dial("tcp", testSrv.WSS, insecureTLS.Clone())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	st := c.ConnectionState()
	if st.Version != tls.VersionTLS13 {
		t.Errorf("TLS version %x, want TLS 1.3", st.Version)
	}
	if s := tls.CipherSuiteName(st.CipherSuite); !strings.Contains(s, "AES") || !strings.Contains(s, "GCM") {
		t.Errorf("cipher suite %s, want AES-GCM", s)
	}
}

// The validator measured in the utf8 scenario agrees with utf8.Valid.
func TestValidatorsAgree(t *testing.T) {
	for _, s := range []string{"", "abc", "café", "日本語😀", "\xff", "a\xc3", "\xed\xa0\x80", strings.Repeat("wörld ", 100) + "\xc0\xaf"} {
		want := utf8.ValidString(s)
		if got := validUTF8([]byte(s)); got != want {
			t.Errorf("%s(%q) = %v, want %v", utf8Name, s, got, want)
		}
	}
}

// The h2 scenarios' connections: both of the benchserver's HTTP/2 listeners echo
// over a stream (HTTP/2, checked), the sink answers the sync, and many
// WebSockets share one connection.
func TestH2Endpoints(t *testing.T) {
	cfg := &Config{Srv: testSrv, D: 5 * time.Millisecond, Quick: true}
	for _, lib := range []string{h2Lib, h2StdLib} { // the Framer server and net/http's
		dialFn, pool := h2Dialer(cfg, lib, "/echo")
		c, err := dialFn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if c.HTTPVersion() != 2 {
			t.Fatalf("%s: HTTP/%d", lib, c.HTTPVersion())
		}
		for _, n := range []int{0, 1, 16 << 10, 70000, 1 << 20} {
			p := payload(n)
			if err := c.SendBinary(p); err != nil {
				t.Fatal(err)
			}
			if _, q, err := c.Recv(); err != nil || !bytes.Equal(q, p) {
				t.Fatalf("%s: echo of %d bytes: %d bytes, %v", lib, n, len(q), err)
			}
		}
		if err := c.Close(1000, ""); err != nil {
			t.Fatalf("%s: close: %v", lib, err)
		}
		pool.Close()
	}
	for _, lib := range h2Libs {
		if _, err := h2SendCell(cfg, lib, Case{Size: 1024}); err != nil {
			t.Fatalf("%s send: %v", lib, err)
		}
		m, err := h2OpenCell(cfg, lib, Case{Size: 100})
		if err != nil || m["ms"] <= 0 {
			t.Fatalf("%s open: %v %v", lib, m, err)
		}
	}
}
