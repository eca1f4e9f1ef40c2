package cpuimpl

import (
	"slices"
	"strings"
	"testing"
)

func TestChoose(t *testing.T) {
	amd64 := []string{"generic", "sse2", "avx2", "avx512"}
	noAVX512 := []string{"generic", "sse2", "avx2"}
	arm64 := []string{"generic", "neon"}
	for _, tc := range []struct {
		env   string
		avail []string
		want  string
	}{
		{"", amd64, "avx512"},
		{"avx512", amd64, "avx512"},
		{"avx2", amd64, "avx2"},
		{"sse2", amd64, "sse2"},
		{"generic", amd64, "generic"},
		{"avx512", noAVX512, "avx2"}, // unsupported: default kept
		{"neon", amd64, "avx512"},    // other architecture
		{"bogus", amd64, "avx512"},   // unknown
		{"AVX2", amd64, "avx512"},    // names are lower case
		{" avx2", amd64, "avx512"},
		{"", arm64, "neon"},
		{"generic", arm64, "generic"},
		{"sse2", arm64, "neon"},
		{"", []string{"generic"}, "generic"},
		{"avx2", []string{"generic"}, "generic"},
	} {
		if got := choose(tc.env, tc.avail); got != tc.want {
			t.Errorf("choose(%q, %q) = %q, want %q", tc.env, tc.avail, got, tc.want)
		}
	}
}

// tiers builds a set like mask's on amd64, with avx2 unavailable, and
// returns it with its booleans.
func tiers(t *testing.T, env string) (s *Set[int], sse2, avx2, avx512 *bool) {
	t.Setenv("CPUIMPL_TEST", env)
	sse2, avx2, avx512 = new(bool), new(bool), new(bool)
	s = New("CPUIMPL_TEST", 0,
		Kernel[int]{Name: "sse2", Available: true, Use: sse2, Funcs: 1},
		Kernel[int]{Name: "avx2", Available: false, Use: avx2, Funcs: 2},
		Kernel[int]{Name: "avx512", Available: true, Use: avx512, Funcs: 3},
	)
	return s, sse2, avx2, avx512
}

func TestNew(t *testing.T) {
	s, sse2, avx2, avx512 := tiers(t, "")
	if got, want := s.Names(), []string{"generic", "sse2", "avx512"}; !slices.Equal(got, want) {
		t.Fatalf("Names() = %q, want %q (unavailable avx2 left out)", got, want)
	}
	var funcs []int
	for _, k := range s.Kernels() {
		funcs = append(funcs, k.Funcs)
	}
	if want := []int{0, 1, 3}; !slices.Equal(funcs, want) {
		t.Errorf("Kernels() carry %v, want %v", funcs, want)
	}
	if s.Name() != "avx512" || !*sse2 || *avx2 || !*avx512 {
		t.Errorf("best: Name() = %q, sse2 %v avx2 %v avx512 %v", s.Name(), *sse2, *avx2, *avx512)
	}

	for env, want := range map[string]string{"sse2": "sse2", "generic": "generic", "avx2": "avx512", "junk": "avx512"} {
		s, sse2, _, avx512 := tiers(t, env)
		if s.Name() != want || *sse2 != (want != "generic") || *avx512 != (want == "avx512") {
			t.Errorf("env %q: Name() = %q, sse2 %v avx512 %v; want %q", env, s.Name(), *sse2, *avx512, want)
		}
	}
}

func TestSelect(t *testing.T) {
	s, sse2, avx2, avx512 := tiers(t, "")
	restore := s.Select("sse2")
	if s.Name() != "sse2" || !*sse2 || *avx2 || *avx512 {
		t.Errorf("Select(sse2): Name() = %q, sse2 %v avx2 %v avx512 %v", s.Name(), *sse2, *avx2, *avx512)
	}
	inner := s.Select("generic")
	if s.Name() != "generic" || *sse2 || *avx512 {
		t.Errorf("Select(generic): Name() = %q, sse2 %v avx512 %v", s.Name(), *sse2, *avx512)
	}
	inner()
	if s.Name() != "sse2" || !*sse2 || *avx512 {
		t.Errorf("restored to sse2: Name() = %q, sse2 %v avx512 %v", s.Name(), *sse2, *avx512)
	}
	restore()
	if s.Name() != "avx512" || !*sse2 || !*avx512 {
		t.Errorf("restored to avx512: Name() = %q, sse2 %v avx512 %v", s.Name(), *sse2, *avx512)
	}

	defer func() {
		if r := recover(); r == nil || !strings.Contains(r.(string), `"avx2"`) {
			t.Errorf("Select of an unavailable kernel: recovered %v, want a panic naming it", r)
		}
	}()
	s.Select("avx2")
}
