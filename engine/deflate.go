package engine

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"

	"github.com/klauspost/compress/flate"
)

// Deflate holds permessage-deflate parameters (RFC 7692). The same fields
// serve two roles: in Config.Deflate they are the parameters negotiated in
// the handshake, which the engine applies; as the root package's
// CompressionOptions (an alias of Deflate, set in DialOptions.Compression)
// they are the client's offer, which Dial sends, checks the server's answer
// against, and turns into the negotiated parameters.
type Deflate struct {
	// Level is the flate compression level, 1 (fastest) to 9; 0 means 1.
	Level int
	// Threshold: messages shorter than this many bytes are sent
	// uncompressed (0 means 128; negative compresses every non-empty
	// message).
	Threshold int
	// ClientNoContextTakeover: our compressor starts afresh for every
	// message (§7.1.1.2): less memory, worse ratio. In an offer, it is
	// offered; the server may require it anyway.
	ClientNoContextTakeover bool
	// ServerNoContextTakeover: the server's compressor starts afresh for
	// every message, so our decompressor does too (§7.1.1.1). In an offer,
	// it is requested, and a server that does not accept it is refused.
	ServerNoContextTakeover bool
	// ClientMaxWindowBits limits our LZ77 window (8..15; §7.1.2.2). 0 means
	// 15; in an offer, 0 lets the server choose (15 unless it asks for
	// less).
	ClientMaxWindowBits int
	// ServerMaxWindowBits is the offer's server_max_window_bits (8..15;
	// §7.1.2.1): it asks the server to limit its LZ77 window, and a server
	// answering with a larger one is refused. 0 requests no limit. The
	// engine ignores it: its decompressor handles any window.
	ServerMaxWindowBits int
}

func (d *Deflate) threshold() int {
	switch {
	case d.Threshold == 0:
		return 128
	case d.Threshold < 0:
		return 1
	}
	return d.Threshold
}

// tail ends every compressed message (RFC 7692 §7.2.2): the empty stored
// block the sender stripped, plus a final empty block so the inflater
// reports io.EOF at the end of the message.
var tail = []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

const maxWindow = 1 << 15

// bufWriter appends to a pooled buffer.
type bufWriter struct{ b *buf }

func (w *bufWriter) Write(p []byte) (int, error) {
	w.b = reserve(w.b, len(p))
	w.b.b = append(w.b.b, p...)
	return len(p), nil
}

// Flate writers are large; without context takeover they are pooled.
var flatePools sync.Map // window<<8 | level → *sync.Pool

func flatePool(level, window int) *sync.Pool {
	key := window<<8 | level
	if p, ok := flatePools.Load(key); ok {
		return p.(*sync.Pool)
	}
	p, _ := flatePools.LoadOrStore(key, &sync.Pool{})
	return p.(*sync.Pool)
}

// compressor deflates outgoing messages. mu also keeps compressed messages
// in the order they were compressed, as context takeover requires.
type compressor struct {
	mu     sync.Mutex
	cfg    *Deflate
	level  int
	window int
	fw     *flate.Writer // kept between messages only with context takeover
	out    bufWriter
}

func newCompressor(cfg *Deflate) *compressor {
	c := &compressor{cfg: cfg, level: cfg.Level, window: maxWindow}
	if c.level <= 0 {
		c.level = flate.BestSpeed
	}
	if c.level > flate.BestCompression {
		c.level = flate.BestCompression
	}
	if b := cfg.ClientMaxWindowBits; b >= 8 && b < 15 {
		c.window = 1 << b
	}
	return c
}

func (c *compressor) writer() *flate.Writer {
	if c.fw != nil {
		return c.fw
	}
	pool := flatePool(c.level, c.window)
	if fw, ok := pool.Get().(*flate.Writer); ok {
		fw.Reset(&c.out)
		return fw
	}
	var fw *flate.Writer
	if c.window < maxWindow {
		// A window below 32 KiB needs the custom-window encoder, which has
		// no levels (RFC 7692 §7.1.2.2 client_max_window_bits).
		fw, _ = flate.NewWriterWindow(&c.out, c.window)
	} else {
		fw, _ = flate.NewWriter(&c.out, c.level)
	}
	return fw
}

// compress deflates p into c.out and strips the trailing empty block.
// Caller holds mu.
func (c *compressor) compress(p []byte) ([]byte, error) {
	if c.out.b == nil {
		c.out.b = getBuf(len(p)/2 + 64)
	}
	c.out.b.b = c.out.b.b[:0]
	fw := c.writer()
	if _, err := fw.Write(p); err != nil {
		return nil, err
	}
	if err := fw.Flush(); err != nil {
		return nil, err
	}
	if c.cfg.ClientNoContextTakeover {
		fw.Reset(&c.out)
		flatePool(c.level, c.window).Put(fw)
	} else {
		c.fw = fw
	}
	out := c.out.b.b
	if n := len(out); n >= 4 && out[n-4] == 0 && out[n-3] == 0 && out[n-2] == 0xff && out[n-1] == 0xff {
		out = out[:n-4]
	}
	return out, nil
}

// release returns the output buffer when the connection goes idle.
func (c *compressor) release() {
	putBuf(c.out.b)
	c.out.b = nil
}

// decompressor inflates incoming messages.
type decompressor struct {
	fr   io.ReadCloser
	src  bytes.Reader // a *bytes.Reader takes the inflater's fast path
	dict []byte       // last ≤32 KiB of output, for context takeover
}

var errDeflate = errors.New("wsclient: invalid permessage-deflate data")

// inflate decompresses in (one whole message, with tail appended) into dst,
// replacing its contents, and returns the buffer that holds the message (dst
// or, if it was nil or too small, another pooled one). It fails with
// ErrMessageTooBig past limit bytes (limit < 0: none).
//
// Memory stays within the message's size (at most limit) plus a constant,
// whatever the input is: a buffer is never grown by doubling and copying
// (the old and new copies alive at once, the garbage left to the GC).
// The message is inflated into dst as far as it holds; if it is longer, the
// rest is inflated into a small scratch buffer only to count it, stopping
// past the limit (a compression bomb ends here), and then the message is
// inflated again into one buffer of exactly its size. The second pass costs
// time only when a message outgrows the buffer the connection kept from the
// one before.
func (d *decompressor) inflate(in []byte, dst *buf, limit int64, takeover bool) (*buf, error) {
	if limit < 0 {
		limit = math.MaxInt64 - 1
	}
	if dst == nil {
		dst = getBuf(int(min(int64(4*len(in)+64), 1<<20, limit+1)))
	}
	if err := d.reset(in, takeover); err != nil {
		return dst, err
	}
	out := dst.b[:cap(dst.b)]
	if int64(len(out)) > limit+1 {
		out = out[:limit+1]
	}
	n, ended, err := d.fill(out)
	total := int64(n)
	if err == nil && !ended {
		var more int64
		more, err = d.count(limit + 1 - total)
		total += more
	}
	switch {
	case total > limit:
		return dst, fmt.Errorf("%w: more than %d bytes after decompression", ErrMessageTooBig, limit)
	case err != nil:
		return dst, err
	case total > int64(n):
		// Known to fit: inflate again into a buffer of its size (one byte
		// more, so that the next message of this size ends inside it).
		putBuf(dst)
		dst = getBuf(int(total) + 1)
		if err := d.reset(in, takeover); err != nil {
			return dst, err
		}
		if n, _, err = d.fill(dst.b[:total]); err != nil || int64(n) != total {
			return dst, fmt.Errorf("%w: output changed between passes (%v)", errDeflate, err)
		}
	}
	dst.b = dst.b[:total]
	if takeover {
		d.keepWindow(dst.b)
	}
	return dst, nil
}

// reset starts inflating in, with the dictionary kept from the previous
// message when the server takes context over.
func (d *decompressor) reset(in []byte, takeover bool) error {
	d.src.Reset(in)
	var dict []byte
	if takeover {
		dict = d.dict
	}
	if d.fr == nil {
		d.fr = flate.NewReaderDict(&d.src, dict)
		return nil
	}
	return d.fr.(flate.Resetter).Reset(&d.src, dict)
}

// fill inflates into out until it is full or the message ends.
func (d *decompressor) fill(out []byte) (n int, ended bool, err error) {
	for n < len(out) {
		k, err := d.fr.Read(out[n:])
		n += k
		if err == io.EOF {
			return n, true, nil
		}
		if err != nil {
			return n, false, fmt.Errorf("%w: %w", errDeflate, err)
		}
	}
	return n, false, nil
}

// count inflates the rest of the message into a scratch buffer and returns
// its length, stopping once it is at least upTo.
func (d *decompressor) count(upTo int64) (int64, error) {
	scratch := getBuf(32 << 10)
	defer putBuf(scratch)
	var total int64
	for total < upTo {
		n, ended, err := d.fill(scratch.b[:cap(scratch.b)])
		total += int64(n)
		if ended || err != nil {
			return total, err
		}
	}
	return total, nil
}

// keepWindow remembers the last 32 KiB of output as the next dictionary.
func (d *decompressor) keepWindow(out []byte) {
	if d.dict == nil {
		d.dict = make([]byte, 0, maxWindow)
	}
	if len(out) >= maxWindow {
		d.dict = append(d.dict[:0], out[len(out)-maxWindow:]...)
		return
	}
	if keep := maxWindow - len(out); len(d.dict) > keep {
		d.dict = append(d.dict[:0], d.dict[len(d.dict)-keep:]...)
	}
	d.dict = append(d.dict, out...)
}
