package engine

import (
	"testing"

	"github.com/wsclient/wsclient/internal/poolcheck"
	"github.com/wsclient/wsclient/internal/testutil"
)

// TestMain fails the package's tests if any goroutine is left running at
// the end: the engine starts none of its own (FlushDelay uses a timer, whose
// callback runs only when it fires), and the tests' helpers must stop
// theirs. In wsclient_poolcheck builds it also fails them if a pooled buffer
// was taken and never returned: every test closes or aborts its
// connections, so after the last one the count must be back to zero, error
// paths included.
func TestMain(m *testing.M) { testutil.Main(m, poolcheck.Balance) }
