package wsclient

import (
	"strings"
	"testing"

	"github.com/wsclient/wsclient/internal/testserver"
	"github.com/wsclient/wsclient/internal/wsserver"
)

// parityServer is a real server the websocket-client parity tests run
// against: base + "/echo" echoes, base + "/close/CODE/WHY" closes at once.
type parityServer struct {
	name string
	base string // "ws://host:port", no trailing slash
	py   bool   // python3-websockets: also /drop and /silent (see server.py)
}

// parityServers starts Debian's python3-websockets and the project's own
// wsserver.
func parityServers(t *testing.T) []parityServer {
	t.Helper()
	py := testserver.StartPython(t, testserver.PyOptions{})
	own, err := wsserver.Start(wsserver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { own.Close() })
	return []parityServer{
		{name: "python3-websockets", base: "ws://" + py.Addr, py: true},
		{name: "wsserver", base: strings.TrimSuffix(own.URL(), "/")},
	}
}
