// Package examples_test builds every example and runs it against the
// embedded server, with a short timeout.
package examples_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/wsclient/wsclient/internal/wsserver"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// build compiles all examples into one directory with a single go build.
func build(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the examples")
	}
	dir := t.TempDir()
	entries, err := os.ReadDir(".")
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"build", "-ldflags=-s -w", "-o", dir + string(filepath.Separator)}
	for _, e := range entries {
		if e.IsDir() && e.Name() != "testdata" {
			args = append(args, "./"+e.Name())
		}
	}
	if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return dir
}

func TestExamples(t *testing.T) {
	dir := build(t)
	srv, err := wsserver.Start(wsserver.Options{}) // an "external" server for -url
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() }) // after the parallel subtests

	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"echo", nil, []string{"started an echo server", "text: hello 0", "text: hello 2", "binary: de ad be ef", "closed"}},
		{"echo", []string{"-url", srv.URL(), "-n", "1"}, []string{"text: hello 0", "closed"}},
		{"sender", []string{"-n", "200000"}, []string{"sent 200000 messages of 16 bytes", "msg/s", "server received 200000 messages"}},
		{"proxy", nil, []string{"proxy: http://demo:xxxxx@127.0.0.1:", "text: hello through the proxy", "closed"}},
		{"app", []string{"-d", "2500ms"}, []string{"open", "message (text): hello", "pong", "closed: 1006", "reconnected", "message (text): hello again", "done"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := os.Stat(tc.name); err != nil {
				t.Skipf("no example %s in this checkout", tc.name)
			}
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, filepath.Join(dir, tc.name), tc.args...)
			cmd.Env = append(os.Environ(), "WS_URL=", "WS_PROXY=")
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s %q: %v\n%s", tc.name, tc.args, err, out)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(out), w) {
					t.Errorf("%s %q: output lacks %q:\n%s", tc.name, tc.args, w, out)
				}
			}
		})
	}
}
