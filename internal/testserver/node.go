package testserver

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// nodeEchoJS is an echo server on Debian's node-ws (ws 8). Paths:
//
//	/                echo every message (text stays text, binary binary)
//	/close/CODE/WHY  close at once with CODE and reason WHY
//
// It prints "READY <port>" once listening and "CLOSE <code> <reason>" when
// a connection closed, with the code and reason of the client's close
// frame (1005 for none, 1006 if there was no close frame).
const nodeEchoJS = `const { WebSocketServer } = require('ws');
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 0, perMessageDeflate: false });
wss.on('listening', () => console.log('READY ' + wss.address().port));
wss.on('connection', (ws, req) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('close', (code, reason) => console.log('CLOSE ' + code + ' ' + reason.toString()));
  const m = /^\/close\/(\d+)\/?(.*)$/.exec(req.url);
  if (m) ws.close(Number(m[1]), decodeURIComponent(m[2]));
});
`

// Node is a running node-ws echo server.
type Node struct {
	// Addr is "127.0.0.1:port".
	Addr string
	// Events receives the server's "CLOSE <code> <reason>" lines.
	Events <-chan string
}

// StartNode starts the node-ws echo server with /usr/bin/node and
// NODE_PATH=/usr/share/nodejs (where Debian's node-ws lives) and waits until
// it listens. It is stopped when the test ends. A missing node or node-ws
// skips the test, or fails it in CI.
func StartNode(t testing.TB) *Node {
	t.Helper()
	cmd := nodeCommand(t, "require('ws')", nodeEchoJS)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	ready := make(chan string, 1)
	events := make(chan string, 256)
	go func() {
		sc := bufio.NewScanner(out)
		first := true
		for sc.Scan() {
			line := sc.Text()
			if first {
				ready <- line
				first = false
				continue
			}
			select {
			case events <- line:
			default: // nobody listens: drop
			}
		}
		if first {
			ready <- ""
		}
	}()
	select {
	case line := <-ready:
		port, found := strings.CutPrefix(strings.TrimSpace(line), "READY ")
		if !found {
			t.Fatalf("node-ws server did not start: %q", line)
		}
		return &Node{Addr: "127.0.0.1:" + port, Events: events}
	case <-time.After(30 * time.Second):
		t.Fatal("node-ws server did not start within 30 s")
	}
	return nil
}

// nodeCommand checks that /usr/bin/node runs check with Debian's node-ws
// (NODE_PATH=/usr/share/nodejs; missing: skip, or fail in CI), writes the
// script js to a temporary file and returns the command that runs it with
// args.
func nodeCommand(t testing.TB, check, js string, args ...string) *exec.Cmd {
	t.Helper()
	const node = "/usr/bin/node"
	env := append(os.Environ(), "NODE_PATH=/usr/share/nodejs")
	c := exec.Command(node, "-e", check)
	c.Env = env
	Require(t, "node with Debian node-ws (/usr/bin/node, /usr/share/nodejs/ws)", c.Run() == nil)
	script := filepath.Join(t.TempDir(), "server.js")
	if err := os.WriteFile(script, []byte(js), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, append([]string{script}, args...)...)
	cmd.Env = env
	return cmd
}
