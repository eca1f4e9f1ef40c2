package testutil

import (
	"syscall"
	"testing"
)

// FencedPages returns size bytes of memory that start right after a
// PROT_NONE page and end at a page boundary right before another one, so
// that any access before or after it faults. The memory is unmapped when
// the test ends.
func FencedPages(t testing.TB, size int) []byte {
	t.Helper()
	page := syscall.Getpagesize()
	n := (size + page - 1) / page
	mem, err := syscall.Mmap(-1, 0, (n+2)*page, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Munmap(mem) })
	if err := syscall.Mprotect(mem[:page], syscall.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mprotect(mem[(n+1)*page:], syscall.PROT_NONE); err != nil {
		t.Fatal(err)
	}
	return mem[page : (n+1)*page]
}
