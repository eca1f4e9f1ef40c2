package wsclient

import (
	"fmt"
	"os"
	"testing"

	"github.com/wsclient/wsclient/internal/poolcheck"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine is left running at
// the end (App's pinger and closers, Dial's context.AfterFunc, test
// servers). No goroutine is ignored: the python, node and nginx servers are
// subprocesses, killed and waited for in t.Cleanup, whose pipe readers end
// with them. In wsclient_poolcheck builds it also fails them if a pooled
// buffer was taken and never returned (hostile servers, failed handshakes,
// compression errors and closes included).
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
		if n := poolcheck.Balance(); n != 0 {
			fmt.Fprintf(os.Stderr, "poolcheck: %d pooled buffers taken and never returned\n", n)
			code = 1
		}
	}
	os.Exit(code)
}
