package wsserver_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/internal/wsserver"
)

// connect opens a CONNECT tunnel by hand and returns the status line.
func connect(t *testing.T, proxy, target, auth string) (net.Conn, string) {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(proxy, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(5 * time.Second))
	req := "CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n"
	if auth != "" {
		req += "Proxy-Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(auth)) + "\r\n"
	}
	io.WriteString(c, req+"\r\n")
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if br.Buffered() > 0 {
		t.Fatal("bytes after the CONNECT reply")
	}
	c.SetDeadline(time.Time{})
	return c, resp.Status
}

func TestProxy(t *testing.T) {
	s := start(t, wsserver.Options{})
	p, err := wsserver.StartProxy("user", "pa:ss")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	target := s.Addr().String()

	if _, st := connect(t, p.URL(), target, ""); st != "407 Proxy Authentication Required" {
		t.Fatalf("no credentials: %s", st)
	}
	if _, st := connect(t, p.URL(), target, "user:wrong"); !strings.HasPrefix(st, "407") {
		t.Fatalf("wrong password: %s", st)
	}
	if _, st := connect(t, p.URL(), "192.0.2.1:80", "user:pa:ss"); !strings.HasPrefix(st, "403") {
		t.Fatalf("non-loopback target: %s", st)
	}
	nc, st := connect(t, p.URL(), target, "user:pa:ss")
	if !strings.HasPrefix(st, "200") {
		t.Fatal(st)
	}
	c, err := wsclient.Dial(context.Background(), s.URL(), &wsclient.DialOptions{NetConn: nc, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	c.SendText("through the tunnel")
	if got, err := c.RecvText(); err != nil || got != "through the tunnel" {
		t.Fatalf("%q %v", got, err)
	}
	c.Close(wsclient.StatusNormal, "")
	if p.Tunnels() != 1 {
		t.Fatalf("Tunnels = %d", p.Tunnels())
	}
	// Close ends open tunnels too.
	connect(t, p.URL(), target, "user:pa:ss")
	p.Close()
}
