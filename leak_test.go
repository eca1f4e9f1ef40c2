package wsclient

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine is left running at
// the end (App's pinger and closers, Dial's context.AfterFunc, test
// servers). No goroutine is ignored: the python, node and nginx servers are
// subprocesses, killed and waited for in t.Cleanup, whose pipe readers end
// with them.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
