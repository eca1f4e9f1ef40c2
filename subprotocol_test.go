package wsclient

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wsclient/wsclient/internal/testserver"
	"github.com/wsclient/wsclient/internal/wsserver"
)

// sentProtocols dials py's /headers and returns the Sec-WebSocket-Protocol
// lines the server received and the subprotocol it chose.
func sentProtocols(t *testing.T, url string, opts *DialOptions) ([]string, string) {
	t.Helper()
	c := dialPy(t, url, opts)
	defer c.Close(StatusNormal, "")
	_, p, err := c.Recv()
	if err != nil {
		t.Fatal(err)
	}
	var items [][2]string
	if err := json.Unmarshal(p, &items); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, kv := range items {
		if strings.EqualFold(kv[0], "Sec-WebSocket-Protocol") {
			lines = append(lines, kv[1])
		}
	}
	return lines, c.Subprotocol()
}

// TestSubprotocolInHeader: a Sec-WebSocket-Protocol given in Header (the
// websocket-client idiom header={"Sec-WebSocket-Protocol": "chat"}) is an
// offer: merged into Subprotocols, checked the same way, sent once, and
// the server may choose it.
func TestSubprotocolInHeader(t *testing.T) {
	py := testserver.StartPython(t, testserver.PyOptions{Subprotocols: true})
	url := "ws://" + py.Addr + "/headers"

	lines, chosen := sentProtocols(t, url, &DialOptions{Header: http.Header{"Sec-WebSocket-Protocol": {"chat"}}})
	if len(lines) != 1 || lines[0] != "chat" || chosen != "chat" {
		t.Fatalf("Header chat: sent %q, chose %q; want one line \"chat\", chosen", lines, chosen)
	}

	lines, chosen = sentProtocols(t, url, &DialOptions{
		Subprotocols: []string{"superchat", "x"},
		Header:       http.Header{"sec-websocket-protocol": {"nope, CHAT", "x, ,chat"}},
	})
	if len(lines) != 1 || lines[0] != "superchat, x, nope, CHAT" || (chosen != "superchat" && chosen != "CHAT") {
		t.Fatalf("merged: sent %q, chose %q; want one line \"superchat, x, nope, CHAT\"", lines, chosen)
	}

	// Checked like Subprotocols, before any I/O.
	for _, bad := range []string{"a b", "chat, a/b", "\"q\""} {
		_, err := Dial(context.Background(), url, &DialOptions{Header: http.Header{"Sec-WebSocket-Protocol": {bad}}, Timeout: 5 * time.Second})
		if !errors.Is(err, ErrInvalidOption) {
			t.Errorf("Header Sec-WebSocket-Protocol %q: %v, want ErrInvalidOption", bad, err)
		}
	}
}

// TestSubprotocolInHeaderOwnServer: the same against the project's server.
func TestSubprotocolInHeaderOwnServer(t *testing.T) {
	s, err := wsserver.Start(wsserver.Options{Subprotocols: []string{"chat"}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, s.URL(), &DialOptions{Header: http.Header{"Sec-WebSocket-Protocol": {"other, chat"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Abort()
	if c.Subprotocol() != "chat" {
		t.Fatalf("Subprotocol() = %q", c.Subprotocol())
	}
}
