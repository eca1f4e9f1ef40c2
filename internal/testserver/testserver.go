// Package testserver starts real WebSocket servers of other implementations
// (Debian's python3-websockets) on loopback for tests. A missing server
// skips the test locally and fails it in CI (CI=true).
package testserver

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

//go:embed server.py
var serverPy []byte

// Python is a running python3-websockets server.
type Python struct {
	// Addr is "127.0.0.1:port" for TCP servers, the socket path for Unix.
	Addr string
}

// PyOptions selects how the server listens.
type PyOptions struct {
	Unix         bool   // listen on a Unix socket in a temp dir
	CertFile     string // with KeyFile: serve TLS
	KeyFile      string
	Subprotocols bool // accept "chat" and "superchat"
	// Deflate, if not nil, enables permessage-deflate with these keyword
	// arguments of websockets' ServerPerMessageDeflateFactory (e.g.
	// "server_max_window_bits": 10, "server_no_context_takeover": true).
	Deflate map[string]any
}

// Require skips (or, in CI, fails) the test when name is not usable.
func Require(t testing.TB, what string, ok bool) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required in CI but missing (.ci/run installs it)", what)
	}
	t.Skipf("%s not installed; skipping (CI installs it)", what)
}

// StartPython starts server.py with /usr/bin/python3 and waits until it
// listens. It is stopped when the test ends.
func StartPython(t testing.TB, o PyOptions) *Python {
	t.Helper()
	py := "/usr/bin/python3"
	ok := exec.Command(py, "-c", "import websockets").Run() == nil
	Require(t, "Debian python3-websockets (/usr/bin/python3)", ok)
	dir := t.TempDir()
	script := filepath.Join(dir, "server.py")
	if err := os.WriteFile(script, serverPy, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{script, "tcp", "127.0.0.1"}
	if o.Unix {
		args = []string{script, "unix", filepath.Join(dir, "ws.sock")}
	}
	if o.CertFile != "" {
		args = append(args, "--tls", o.CertFile, o.KeyFile)
	}
	if o.Subprotocols {
		args = append(args, "--subprotocols")
	}
	if o.Deflate != nil {
		js, err := json.Marshal(o.Deflate)
		if err != nil {
			t.Fatal(err)
		}
		args = append(args, "--deflate", string(js))
	}
	where := startReady(t, "python server", exec.Command(py, args...))
	if o.Unix {
		return &Python{Addr: where}
	}
	return &Python{Addr: "127.0.0.1:" + where}
}

// startReady starts cmd, which prints "READY <where>" on its first stdout
// line once it listens, and returns <where>; the process is killed when the
// test ends. Its stderr goes to the test's.
func startReady(t testing.TB, what string, cmd *exec.Cmd) string {
	t.Helper()
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
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		ready <- strings.TrimSpace(line)
	}()
	select {
	case line := <-ready:
		where, found := strings.CutPrefix(line, "READY ")
		if !found {
			t.Fatalf("%s did not start: %q", what, line)
		}
		return where
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not start within 30 s", what)
	}
	return ""
}

// startDaemon runs the command args(port) for a free port until it listens
// (a port taken in between is retried), and stops it when the test ends.
func startDaemon(t testing.TB, what string, args func(port int) []string) string {
	t.Helper()
	var last string
	for range 5 {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		a := args(port)
		cmd := exec.Command(a[0], a[1:]...)
		var out lockedBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan struct{})
		go func() {
			cmd.Wait()
			close(exited)
		}()
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		if waitListen(addr, exited) {
			t.Cleanup(func() {
				cmd.Process.Signal(syscall.SIGTERM)
				select {
				case <-exited:
				case <-time.After(5 * time.Second):
					cmd.Process.Kill()
					<-exited
				}
			})
			return addr
		}
		cmd.Process.Kill()
		<-exited
		last = out.String()
		if !strings.Contains(last, "in use") {
			break
		}
	}
	t.Fatalf("%s did not start:\n%s", what, last)
	return ""
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.b.Len() > 64<<10 {
		return len(p), nil
	}
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
