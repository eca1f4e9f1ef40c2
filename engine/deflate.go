package engine

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/klauspost/compress/flate"
)

// Deflate holds the negotiated permessage-deflate parameters (RFC 7692).
type Deflate struct {
	// Level is the flate compression level (1..9; 0 means 1, the fastest).
	Level int
	// Threshold: messages shorter than this are sent uncompressed
	// (default 0 means 128 bytes; negative compresses everything non-empty).
	Threshold int
	// ClientNoContextTakeover: our compressor starts afresh for every
	// message (§7.1.1.2). ServerNoContextTakeover: so does the server's, so
	// our decompressor does too (§7.1.1.1).
	ClientNoContextTakeover, ServerNoContextTakeover bool
	// ClientMaxWindowBits limits our LZ77 window (8..15, 0 means 15).
	ClientMaxWindowBits int
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

var errDeflate = errors.New("websocket: invalid permessage-deflate data")

// inflate decompresses in (one whole message, with tail appended) and
// appends the result to dst, failing with ErrMessageTooBig past limit bytes
// (limit < 0: none). Memory grows with the output actually produced, never
// with what the input claims.
func (d *decompressor) inflate(in []byte, dst *buf, limit int64, takeover bool) (*buf, error) {
	d.src.Reset(in)
	var dict []byte
	if takeover {
		dict = d.dict
	}
	if d.fr == nil {
		d.fr = flate.NewReaderDict(&d.src, dict)
	} else if err := d.fr.(flate.Resetter).Reset(&d.src, dict); err != nil {
		return dst, err
	}
	if dst == nil {
		dst = getBuf(min(4*len(in)+64, 1<<20))
	}
	start := len(dst.b)
	for {
		if len(dst.b) == cap(dst.b) {
			size := 2 * cap(dst.b)
			if limit >= 0 && int64(size-start) > limit+1 {
				size = start + int(limit) + 1
			}
			if size <= cap(dst.b) {
				return dst, fmt.Errorf("%w: more than %d bytes after decompression", ErrMessageTooBig, limit)
			}
			nb := getBuf(size)
			nb.b = append(nb.b, dst.b...)
			putBuf(dst)
			dst = nb
		}
		n, err := d.fr.Read(dst.b[len(dst.b):cap(dst.b)])
		dst.b = dst.b[:len(dst.b)+n]
		if limit >= 0 && int64(len(dst.b)-start) > limit {
			return dst, fmt.Errorf("%w: more than %d bytes after decompression", ErrMessageTooBig, limit)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return dst, fmt.Errorf("%w: %w", errDeflate, err)
		}
	}
	if takeover {
		d.keepWindow(dst.b[start:])
	}
	return dst, nil
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
