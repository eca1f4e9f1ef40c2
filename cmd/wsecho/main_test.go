package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/engine"
	"github.com/wsclient/wsclient/internal/h2ws"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// serve runs wsecho with args and returns the URL it printed and a stop
// function that returns the exit code.
func serve(t *testing.T, args ...string) (string, func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, args, pw, io.Discard)
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("no URL printed (exit %d): %v", <-code, err)
	}
	go io.Copy(io.Discard, pr)
	return strings.TrimSpace(line), func() int { cancel(); return <-code }
}

func TestEcho(t *testing.T) {
	url, stop := serve(t)
	if !strings.HasPrefix(url, "ws://127.0.0.1:") {
		t.Fatalf("URL %q", url)
	}
	c, err := wsclient.Dial(context.Background(), url, &wsclient.DialOptions{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	c.SendText("ping?")
	if got, err := c.RecvText(); err != nil || got != "ping?" {
		t.Fatalf("%q %v", got, err)
	}
	c.Close(wsclient.StatusNormal, "")
	if code := stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

func TestSendTLS(t *testing.T) {
	cert := filepath.Join(t.TempDir(), "cert.pem")
	url, stop := serve(t, "-tls", "-cert-out", cert, "-mode", "send", "-count", "3", "-size", "4")
	pem, err := os.ReadFile(cert)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	o := &wsclient.DialOptions{Timeout: 5 * time.Second}
	o.TLSConfig = &tls.Config{RootCAs: pool}
	c, err := wsclient.Dial(context.Background(), url, o)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Abort()
	for range 3 {
		if got, err := c.RecvText(); err != nil || got != "abcd" {
			t.Fatalf("%q %v", got, err)
		}
	}
	if _, err := c.RecvText(); err == nil {
		t.Fatal("no close after -count messages")
	}
	stop()
}

// TestHTTP2: -http2 -tls serves WebSockets over HTTP/2 (RFC 8441).
func TestHTTP2(t *testing.T) {
	cert := filepath.Join(t.TempDir(), "cert.pem")
	url, stop := serve(t, "-tls", "-http2", "-cert-out", cert)
	defer stop()
	pem, err := os.ReadFile(cert)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	addr := strings.TrimSuffix(strings.TrimPrefix(url, "wss://"), "/")
	cfg := &tls.Config{RootCAs: pool, ServerName: "localhost"}
	p := h2ws.NewPool()
	defer p.CloseIdleConnections()
	res, err := p.Dial(context.Background(), &h2ws.Request{
		Key:  h2ws.Key{Network: "tcp", Addr: addr, Secure: true, TLS: cfg},
		Only: true,
		Connect: func(ctx context.Context) (net.Conn, error) {
			return (&tls.Dialer{Config: h2ws.TLSConfig(cfg)}).DialContext(ctx, "tcp", addr)
		},
		Authority: addr,
	})
	if err != nil {
		t.Fatal(err)
	}
	c := engine.New(res.Conn, nil, &engine.Config{})
	c.NetConn().SetDeadline(time.Now().Add(5 * time.Second))
	c.Send(1, []byte("over h2?"))
	if _, got, err := c.Recv(); err != nil || string(got) != "over h2?" {
		t.Fatalf("%q %v", got, err)
	}
	c.Close(1000, "")
	<-res.Conn.Done()
}

func TestUsage(t *testing.T) {
	for _, args := range [][]string{{"-mode", "flood"}, {"-nope"}, {"extra"}, {"-cert-out", "x"}} {
		if code := run(context.Background(), args, io.Discard, io.Discard); code != 2 {
			t.Errorf("%q: exit %d, want 2", args, code)
		}
	}
	if code := run(context.Background(), []string{"-h"}, io.Discard, io.Discard); code != 0 {
		t.Errorf("-h: exit %d", code)
	}
	if code := run(context.Background(), []string{"-addr", "256.0.0.1:1"}, io.Discard, io.Discard); code != 1 {
		t.Errorf("bad address: exit %d, want 1", code)
	}
}
