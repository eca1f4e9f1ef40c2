package engine

import (
	"github.com/gobwas/pool"
)

// buf is a pooled byte buffer. The pool stores *buf, a pointer, so putting it
// back does not box a slice header into an interface (pbytes.Put allocates on
// every call; this does not).
type buf struct {
	b []byte
}

// Buffers are pooled in power-of-two classes from 512 B to 4 MiB; requests
// outside the range are allocated and dropped on release.
var bufPool = pool.New(minBuf, 4<<20)

const minBuf = 512

// getBuf returns a buffer with len 0 and cap >= size.
func getBuf(size int) *buf {
	poolBalance(1)
	if size < minBuf {
		size = minBuf
	}
	x, n := bufPool.Get(size)
	if b, ok := x.(*buf); ok {
		b.b = b.b[:0]
		return b
	}
	if n < size {
		n = size
	}
	return &buf{b: make([]byte, 0, n)}
}

// putBuf returns b to the pool. b must not be used afterwards.
func putBuf(b *buf) {
	if b == nil {
		return
	}
	poolBalance(-1)
	c := cap(b.b)
	if c&(c-1) != 0 { // not a pool class: let the GC have it
		return
	}
	bufPool.Put(b, c)
}

// reserve returns b, or a larger pooled copy of it, with room for n more
// bytes. b may be nil.
func reserve(b *buf, n int) *buf {
	if b == nil {
		return getBuf(n)
	}
	if cap(b.b)-len(b.b) >= n {
		return b
	}
	nb := getBuf(len(b.b) + n)
	nb.b = append(nb.b, b.b...)
	putBuf(b)
	return nb
}
