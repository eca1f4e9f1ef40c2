package engine

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine is left running at
// the end: the engine starts none of its own (FlushDelay uses a timer, whose
// callback runs only when it fires), and the tests' helpers must stop
// theirs.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
