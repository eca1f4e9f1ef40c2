package engine

import (
	"fmt"
	"os"
	"testing"

	"github.com/wsclient/wsclient/internal/poolcheck"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine is left running at
// the end: the engine starts none of its own (FlushDelay uses a timer, whose
// callback runs only when it fires), and the tests' helpers must stop
// theirs. In wsclient_poolcheck builds it also fails them if a pooled buffer
// was taken and never returned: every test closes or aborts its
// connections, so after the last one the count must be back to zero, error
// paths included.
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
