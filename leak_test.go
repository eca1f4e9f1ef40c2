package wsclient

import (
	"testing"

	"github.com/wsclient/wsclient/internal/poolcheck"
	"github.com/wsclient/wsclient/internal/testutil"
)

// TestMain fails the package's tests if any goroutine is left running at
// the end (App's pinger and closers, Dial's context.AfterFunc, test
// servers). No goroutine is ignored: the python, node and nginx servers are
// subprocesses, killed and waited for in t.Cleanup, whose pipe readers end
// with them. In wsclient_poolcheck builds it also fails them if a pooled
// buffer was taken and never returned (hostile servers, failed handshakes,
// compression errors and closes included).
func TestMain(m *testing.M) { testutil.Main(m, poolcheck.Balance) }
