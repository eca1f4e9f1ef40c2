package codec

import (
	"errors"
	"net/http"
	"testing"
)

// TestCheckConnectResponse: RFC 8441 §5 answers: 200 opens, with the
// subprotocol and extensions checked as over HTTP/1.1; no Upgrade,
// Connection or Sec-WebSocket-Accept is needed; any other status is a
// *HandshakeError.
func TestCheckConnectResponse(t *testing.T) {
	ok := &Response{StatusCode: 200, Header: http.Header{
		"Sec-Websocket-Protocol":   {"Chat"},
		"Sec-Websocket-Extensions": {"permessage-deflate; server_no_context_takeover"},
	}}
	if err := CheckConnectResponse(ok, []string{"chat"}, []string{"permessage-deflate"}); err != nil {
		t.Fatal(err)
	}
	if ok.Subprotocol != "Chat" || len(ok.Extensions) != 1 || ok.Status != "200 OK" {
		t.Fatalf("%+v", ok)
	}

	for _, tc := range []struct {
		name string
		h    http.Header
	}{
		{"protocol not offered", http.Header{"Sec-Websocket-Protocol": {"other"}}},
		{"two protocols", http.Header{"Sec-Websocket-Protocol": {"chat, chat"}}},
		{"extension not offered", http.Header{"Sec-Websocket-Extensions": {"x-unknown"}}},
		{"extension twice", http.Header{"Sec-Websocket-Extensions": {"permessage-deflate, permessage-deflate"}}},
	} {
		err := CheckConnectResponse(&Response{StatusCode: 200, Header: tc.h}, []string{"chat"}, []string{"permessage-deflate"})
		if !errors.Is(err, ErrBadHandshake) {
			t.Errorf("%s: %v, want ErrBadHandshake", tc.name, err)
		}
	}

	h := http.Header{"Retry-After": {"5"}}
	err := CheckConnectResponse(&Response{StatusCode: 503, Header: h}, nil, nil)
	var he *HandshakeError
	if !errors.As(err, &he) || he.StatusCode != 503 || he.Header.Get("Retry-After") != "5" || !errors.Is(err, ErrBadHandshake) {
		t.Fatalf("503: %v", err)
	}
	if want := "wsclient: bad handshake: server returned 503 Service Unavailable"; err.Error() != want {
		t.Fatalf("%q, want %q", err, want)
	}
	// 2xx other than 200 does not open (RFC 8441 §5 answers 200).
	if err := CheckConnectResponse(&Response{StatusCode: 204, Header: http.Header{}}, nil, nil); !errors.As(err, &he) {
		t.Fatalf("204: %v", err)
	}
}
