package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/klauspost/cpuid/v2"

	"github.com/wsclient/wsclient/mask"
)

// Server is the benchserver process.
type Server struct {
	WS, WSS, TCP string // host:port
	H2           string // host:port of WebSockets over HTTP/2 (RFC 8441, TLS), minimal Framer server
	H2Std        string // the same through net/http's HTTP/2 server
	cmd          *exec.Cmd
	stdin        io.WriteCloser
}

// buildServer builds cmd/benchserver into dir and returns the binary path.
func buildServer(dir string) (string, error) {
	bin := filepath.Join(dir, "benchserver")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/benchserver")
	cmd.Dir = moduleDir()
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/benchserver: %v\n%s", err, out)
	}
	return bin, nil
}

// moduleDir is the bench module's directory (the working directory under
// go run and go test).
func moduleDir() string {
	if _, err := os.Stat("cmd/benchserver"); err == nil {
		return "."
	}
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(file)
}

// startServer starts the server binary as a separate process.
func startServer(bin string) (*Server, error) {
	cmd := exec.Command(bin)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err != nil {
		cmd.Process.Kill()
		return nil, fmt.Errorf("benchserver: %v", err)
	}
	var addrs map[string]string
	if err := json.Unmarshal(line, &addrs); err != nil {
		cmd.Process.Kill()
		return nil, err
	}
	return &Server{WS: addrs["ws"], WSS: addrs["wss"], TCP: addrs["tcp"], H2: addrs["h2"], H2Std: addrs["h2std"], cmd: cmd, stdin: stdin}, nil
}

// URL returns the ws:// or wss:// URL of a server mode path.
func (s *Server) URL(tls bool, path string) string {
	if tls {
		return "wss://" + s.WSS + path
	}
	return "ws://" + s.WS + path
}

// Stop ends the server process.
func (s *Server) Stop() {
	s.stdin.Close()
	done := make(chan struct{})
	go func() { s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
}

// Env is what every result row states.
type Env struct {
	CPU, Go, Mask, UTF8 string
	Cores               int
}

func env() Env {
	return Env{
		CPU:   strings.Join(strings.Fields(cpuid.CPU.BrandName), " "),
		Go:    runtime.Version(),
		Mask:  mask.Impl(),
		UTF8:  utf8Impl(),
		Cores: runtime.NumCPU(),
	}
}

func (e Env) Short() string {
	cpu := e.CPU
	for _, s := range []string{"(R)", "(TM)", " CPU", " Processor", " 64-Core", " 32-Core", " 16-Core", " 8-Core"} {
		cpu = strings.ReplaceAll(cpu, s, "")
	}
	if i := strings.Index(cpu, " @"); i > 0 {
		cpu = cpu[:i]
	}
	return fmt.Sprintf("%s · %s · %s", cpu, e.Go, e.Mask)
}
