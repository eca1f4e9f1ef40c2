package engine

import (
	"math/bits"
	"sync"
	"sync/atomic"

	"github.com/gobwas/pool"
	"github.com/wsclient/wsclient/internal/poolcheck"
)

// buf is a pooled byte buffer. The pool stores *buf, a pointer, so putting it
// back does not box a slice header into an interface (pbytes.Put allocates on
// every call; this does not).
type buf struct {
	b []byte
}

// Buffers are pooled in power-of-two classes from minBuf to maxBuf;
// requests outside the range are allocated and dropped on release.
var bufPool = pool.New(minBuf, maxBuf)

const (
	minBuf   = 512
	maxBuf   = 4 << 20
	nClasses = 14 // log2(maxBuf) - log2(minBuf) + 1
)

// stash is a free list in front of bufPool that garbage collection does not
// empty. bufPool's sync.Pools are emptied by every GC cycle, so a service
// whose other work makes garbage would allocate a new buffer for many of
// its large sends. The stash keeps up to stashSlots buffers per class and
// stashBytes in all, across GC cycles. It belongs to the process, not to
// connections: an idle connection still holds no large buffer, and what the
// stash keeps is bounded whatever the number of connections. Buffers beyond
// it go to bufPool as before.
//
// getBuf and putBuf try the stash first and bufPool after it: a sync.Pool
// allocates its per-P arrays again after each GC on its first Get or Put,
// so a connection sending large messages one after another must not touch
// it at all while the stash has a buffer (or room) for it.
var stash struct {
	mu    sync.Mutex
	bytes atomic.Int64           // total capacity kept; written under mu
	n     [nClasses]atomic.Int32 // buffers kept per class; written under mu
	slot  [nClasses][stashSlots]*buf
}

const (
	stashSlots = 4
	stashBytes = 8 << 20
)

// class returns the stash class of a buffer capacity, or -1.
func class(c int) int {
	if c < minBuf || c > maxBuf || c&(c-1) != 0 {
		return -1
	}
	return bits.TrailingZeros(uint(c)) - bits.TrailingZeros(minBuf)
}

// classSize is the power-of-two class a request of size bytes is served
// from (size itself outside the pooled range).
func classSize(size int) int {
	if size > maxBuf {
		return size
	}
	return 1 << bits.Len(uint(size-1))
}

// stashGet takes a buffer of capacity c from the stash, or returns nil.
func stashGet(c int) *buf {
	k := class(c)
	if k < 0 || stash.n[k].Load() == 0 {
		return nil
	}
	var b *buf
	stash.mu.Lock()
	if m := stash.n[k].Load(); m > 0 {
		b = stash.slot[k][m-1]
		stash.slot[k][m-1] = nil
		stash.n[k].Store(m - 1)
		stash.bytes.Add(-int64(c))
	}
	stash.mu.Unlock()
	return b
}

// stashPut keeps b in the stash if it has room and reports whether it did.
func stashPut(b *buf) bool {
	c := cap(b.b)
	k := class(c)
	if k < 0 || stash.n[k].Load() >= stashSlots || stash.bytes.Load()+int64(c) > stashBytes {
		return false
	}
	stash.mu.Lock()
	m := stash.n[k].Load()
	ok := m < stashSlots && stash.bytes.Load()+int64(c) <= stashBytes
	if ok {
		stash.slot[k][m] = b
		stash.n[k].Store(m + 1)
		stash.bytes.Add(int64(c))
	}
	stash.mu.Unlock()
	return ok
}

// getBuf returns a buffer with len 0 and cap >= size.
func getBuf(size int) *buf {
	poolcheck.Add(1)
	if size < minBuf {
		size = minBuf
	}
	n := classSize(size)
	b := stashGet(n)
	if b == nil {
		var x any
		x, n = bufPool.Get(size)
		b, _ = x.(*buf)
	}
	if b != nil {
		b.b = b.b[:0]
		return b
	}
	if n < size {
		n = size
	}
	return &buf{b: make([]byte, 0, n)}
}

// putBuf returns b to the stash or the pool. b must not be used afterwards.
func putBuf(b *buf) {
	if b == nil {
		return
	}
	poolcheck.Add(-1)
	c := cap(b.b)
	if c&(c-1) != 0 { // not a pool class: let the GC have it
		return
	}
	if !stashPut(b) {
		bufPool.Put(b, c)
	}
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
