package h2ws

import (
	"bytes"
	"strconv"
	"testing"
	"time"

	"github.com/wsclient/wsclient/internal/testserver"
	"github.com/wsclient/wsclient/internal/wsserver"
)

// Interoperability with other implementations of RFC 8441, started on
// loopback (INFRA.md; .ci/run installs them). Locally a missing one skips.

// TestLibwebsockets: libwebsockets-test-server (C, nghttp2-free HTTP/2 of
// its own) over TLS with ALPN h2: lws-mirror-protocol echoes our text, and
// a dumb-increment-protocol WebSocket shares the same connection.
func TestLibwebsockets(t *testing.T) {
	certs := testserver.NewCerts(t)
	addr := testserver.StartLWS(t, certs)
	tg := newTarget(addr, true, certs.Pool)
	tg.only = true
	p := newPool(t)

	r := tg.request("/")
	r.Protocols = []string{"lws-mirror-protocol"}
	st, res := dial(t, p, r)
	if res.Response.Subprotocol != "lws-mirror-protocol" {
		t.Fatalf("subprotocol %q", res.Response.Subprotocol)
	}
	mirror := ws(t, st)
	mirror.NetConn().SetDeadline(time.Now().Add(10 * time.Second))
	for _, msg := range []string{"hi", "second message", string(bytes.Repeat([]byte("x"), 3000))} {
		if err := mirror.Send(1, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		op, got, err := mirror.Recv()
		if err != nil {
			t.Fatal(err)
		}
		if op != 1 || string(got) != msg {
			t.Fatalf("mirror of %d bytes: got %v %q", len(msg), op, got)
		}
	}

	r = tg.request("/")
	r.Protocols = []string{"dumb-increment-protocol"}
	st2, _ := dial(t, p, r)
	inc := ws(t, st2)
	inc.NetConn().SetDeadline(time.Now().Add(10 * time.Second))
	prev := -1
	for range 3 {
		_, got, err := inc.Recv()
		if err != nil {
			t.Fatal(err)
		}
		n, err := strconv.Atoi(string(got))
		if err != nil || prev >= 0 && n != prev+1 {
			t.Fatalf("counter %q after %d", got, prev)
		}
		prev = n
	}
	if conns, streams := p.Stats(); conns != 1 || streams != 2 || tg.dials.Load() != 1 {
		t.Fatalf("pool: %d connections (%d opened), %d streams; want one connection, 2 streams", conns, tg.dials.Load(), streams)
	}
	if err := mirror.Close(1000, ""); err != nil {
		t.Fatalf("Close: %v", err)
	}
	// The other WebSocket on the connection goes on.
	if _, _, err := inc.Recv(); err != nil {
		t.Fatalf("dumb-increment after the mirror's close: %v", err)
	}
}

// TestNghttpx: nghttpx's HTTP/2 front end takes the extended CONNECT and
// forwards it as an HTTP/1.1 Upgrade to the project's server.
func TestNghttpx(t *testing.T) {
	backend, err := wsserver.Start(wsserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { backend.Close() })
	certs := testserver.NewCerts(t)
	addr := testserver.StartNghttpx(t, backend.Addr().String(), certs)
	tg := newTarget(addr, true, certs.Pool)
	tg.only = true
	p := newPool(t)
	for i := range 3 {
		st, _ := dial(t, p, tg.request("/echo"))
		c := ws(t, st)
		for _, n := range []int{1, 1000, 1 << 20} {
			echo(t, c, bytes.Repeat([]byte{byte(i)}, n))
		}
	}
	if conns, _ := p.Stats(); conns != 1 || backend.Conns() != 3 {
		t.Fatalf("%d HTTP/2 connections (want 1), backend sees %d WebSockets (want 3)", conns, backend.Conns())
	}
}

// TestNodeHTTP2: Node's http2 server with enableConnectProtocol and the ws
// package on each stream.
func TestNodeHTTP2(t *testing.T) {
	certs := testserver.NewCerts(t)
	addr := testserver.StartNodeH2(t, certs)
	tg := newTarget(addr, true, certs.Pool)
	p := newPool(t)
	r := tg.request("/")
	r.Protocols = []string{"chat"}
	st, res := dial(t, p, r)
	if res.Response.Subprotocol != "chat" {
		t.Fatalf("subprotocol %q", res.Response.Subprotocol)
	}
	c := ws(t, st)
	for _, n := range []int{0, 5, 70000, 1 << 20} {
		echo(t, c, bytes.Repeat([]byte("n"), n))
	}
	if err := c.Close(1000, ""); err != nil {
		t.Fatalf("Close: %v", err)
	}
}
