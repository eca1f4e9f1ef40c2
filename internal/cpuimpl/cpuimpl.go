// Package cpuimpl keeps the kernels of a package that has several
// implementations of one operation (mask, simdutf8): the portable one,
// always there, and vector ones the CPU may or may not run. It chooses the
// kernel in use once at start-up, honouring an environment variable that may
// force a simpler one, names it for the package's Impl, lists the available
// kernels for tests and benchmarks, and lets tests switch kernels. The
// standard library's crypto/internal/impl is the model.
//
// The choice is kept in the package's own booleans, which its dispatch reads
// directly: calling through a function variable would make every slice
// passed to the kernels escape to the heap (STYLE.md rule 4). This package
// only sets them.
package cpuimpl

import (
	"fmt"
	"os"
)

// Generic is the name of the portable kernel, the first of every Set.
const Generic = "generic"

// Kernel is one vector implementation in a [Set]. F is how tests and
// benchmarks call it directly, whatever the input length: a function, or a
// struct of functions.
type Kernel[F any] struct {
	Name      string
	Available bool  // this CPU, OS and build can run it
	Use       *bool // the package-level boolean its dispatch reads
	Funcs     F
}

// Set is the kernels of one package that this CPU can run, simplest first,
// and the name of the one in use.
type Set[F any] struct {
	kernels []Kernel[F]
	name    string
}

// New returns the set of the portable kernel, whose functions are generic,
// and of the available kernels among vector, which go from simplest to best.
// It selects the kernel named by the environment variable env if that is one
// of them, and otherwise the best; an unknown or unavailable name is ignored.
func New[F any](env string, generic F, vector ...Kernel[F]) *Set[F] {
	s := &Set[F]{kernels: []Kernel[F]{{Name: Generic, Available: true, Funcs: generic}}}
	for _, k := range vector {
		if k.Available {
			s.kernels = append(s.kernels, k)
		}
	}
	s.Select(choose(os.Getenv(env), s.Names()))
	return s
}

// choose returns the kernel to use given the value of the environment
// variable and the names of the available kernels, simplest first: env if
// it names one of them, otherwise the last.
func choose(env string, names []string) string {
	for _, name := range names {
		if name == env {
			return name
		}
	}
	return names[len(names)-1]
}

// Name returns the name of the kernel in use.
func (s *Set[F]) Name() string { return s.name }

// Kernels returns the kernels this CPU can run, simplest first.
func (s *Set[F]) Kernels() []Kernel[F] { return s.kernels }

// Names returns the names of Kernels.
func (s *Set[F]) Names() []string {
	names := make([]string, len(s.kernels))
	for i, k := range s.kernels {
		names[i] = k.Name
	}
	return names
}

// Select makes name, one of Names, the kernel in use and returns a function
// that restores the previous choice, for tests: defer s.Select("sse2")(). It
// turns on the boolean of that kernel and of every simpler one, since a
// kernel's dispatch hands inputs too short for it to the simpler kernels,
// and turns off the others. It panics if name is not available.
func (s *Set[F]) Select(name string) (restore func()) {
	i := 0
	for i < len(s.kernels) && s.kernels[i].Name != name {
		i++
	}
	if i == len(s.kernels) {
		panic(fmt.Sprintf("cpuimpl: no kernel %q among %q", name, s.Names()))
	}
	old := s.name
	s.name = name
	for j, k := range s.kernels {
		if k.Use != nil {
			*k.Use = j <= i
		}
	}
	return func() { s.Select(old) }
}
