package h2ws

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/http/httpguts"
	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/wsclient/wsclient/codec"
)

// Flow control and framing of the client's side.
const (
	// streamWindow is what a stream may receive before its reader catches
	// up (SETTINGS_INITIAL_WINDOW_SIZE): a large message streams through
	// without stalling on round trips, and is never buffered beyond it.
	streamWindow = 4 << 20
	// connWindow is the connection's receive window. It is larger than
	// any stream's so that one stream whose reader stalls does not stop
	// the others.
	connWindow = 1 << 30
	// dataFrameSize is the payload of the DATA frames we send to a server
	// that keeps the default SETTINGS_MAX_FRAME_SIZE (16 KiB, which every
	// server accepts: RFC 9113 §4.2): with its 9-byte header a full frame is
	// exactly one TLS record.
	dataFrameSize = 16<<10 - frameHeaderLen
	// maxDataFrameSize is the payload of our DATA frames to a server that
	// accepts larger frames (Go's accept 1 MiB): fewer frames for the
	// server to handle, a message of up to 256 KiB plus its header in one
	// frame (a 64 KiB message is not a full frame and a 14-byte one, each
	// a TLS record and a write), and the Framer's write buffer (one per
	// connection) stays bounded.
	maxDataFrameSize = 256 << 10
	// frameHeaderLen is the size of an HTTP/2 frame header (RFC 9113 §4.1).
	frameHeaderLen = 9
	// ioBufSize is the connection's read and write buffer: one frame.
	ioBufSize = 16 << 10
)

// peerSettings is what the server's SETTINGS said.
type peerSettings struct {
	extendedConnect bool   // SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 8441 §3)
	maxStreams      uint32 // SETTINGS_MAX_CONCURRENT_STREAMS, if hasMaxStreams
	hasMaxStreams   bool
	initialWindow   int64  // SETTINGS_INITIAL_WINDOW_SIZE
	maxFrame        uint32 // SETTINGS_MAX_FRAME_SIZE
	maxHeaderList   uint32 // SETTINGS_MAX_HEADER_LIST_SIZE, 0: unlimited
}

// pconn is one HTTP/2 connection of the pool, a client on x/net's Framer
// and hpack. One goroutine per connection reads frames (readLoop); streams
// write their own frames under wmu, so a stream costs no goroutine.
type pconn struct {
	p      *Pool
	key    Key
	nc     net.Conn
	fr     *http2.Framer
	bw     *bufio.Writer
	active int         // streams open or being opened (Pool.mu)
	idle   *time.Timer // closes the connection once it has no stream (Pool.mu)

	wmu    sync.Mutex // frames written; the hpack encoder; stream IDs in order
	henc   *hpack.Encoder
	hbuf   bytes.Buffer
	wdlEnd time.Time // the write deadline set on nc (wmu)
	frame  int       // payload of our DATA frames (wmu)

	mu       sync.Mutex // everything below, and every stream's sendWin
	streams  map[uint32]*Stream
	nextID   uint32
	settings peerSettings
	sendWin  int64 // the connection's send window
	recvWin  int64 // what the server may still send on the connection
	owed     int64 // bytes consumed but not yet given back to the connection
	goAway   bool  // GOAWAY received: no new streams
	err      error // why the connection failed, once it did

	settled chan struct{} // closed at the server's first SETTINGS, or failure
	first   error         // what settled found wrong (set before settled)
	done    chan struct{} // closed when readLoop returned
}

// newConn starts HTTP/2 on nc: the client preface, our SETTINGS and the
// connection window, then the read loop.
func newConn(p *Pool, k Key, nc net.Conn) (*pconn, error) {
	c := &pconn{
		p: p, key: k, nc: nc, streams: map[uint32]*Stream{}, nextID: 1,
		settings: peerSettings{initialWindow: 65535, maxFrame: 16 << 10},
		frame:    dataFrameSize,
		sendWin:  65535, recvWin: connWindow,
		settled: make(chan struct{}), done: make(chan struct{}),
	}
	br := bufio.NewReaderSize(nc, ioBufSize)
	c.bw = bufio.NewWriterSize(nc, ioBufSize)
	c.fr = http2.NewFramer(c.bw, br)
	c.fr.SetReuseFrames()
	c.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	c.fr.MaxHeaderListSize = codec.MaxHeaderBytes
	c.henc = hpack.NewEncoder(&c.hbuf)

	c.wmu.Lock()
	c.setWriteDeadline()
	_, err := c.bw.WriteString(http2.ClientPreface)
	if err == nil {
		err = c.fr.WriteSettings(
			http2.Setting{ID: http2.SettingEnablePush, Val: 0},
			http2.Setting{ID: http2.SettingInitialWindowSize, Val: streamWindow},
			http2.Setting{ID: http2.SettingMaxHeaderListSize, Val: codec.MaxHeaderBytes},
		)
	}
	if err == nil {
		err = c.fr.WriteWindowUpdate(0, connWindow-65535)
	}
	if err == nil {
		err = c.bw.Flush()
	}
	c.wmu.Unlock()
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("%w (%s): %w", ErrConnLost, k.Addr, err)
	}
	go c.readLoop(br)
	return c, nil
}

// awaitSettings waits for the server's first SETTINGS and says whether
// the connection can carry WebSockets.
func (c *pconn) awaitSettings(ctx context.Context) error {
	select {
	case <-c.settled:
	case <-ctx.Done():
		return ctx.Err()
	}
	if c.first != nil {
		return c.first
	}
	c.mu.Lock()
	s := c.settings
	c.mu.Unlock()
	switch {
	case !s.extendedConnect:
		return fmt.Errorf("%w (%s)", ErrNoExtendedConnect, c.key.Addr)
	case s.hasMaxStreams && s.maxStreams == 0:
		return errorf("HTTP/2 server %s allows no streams (SETTINGS_MAX_CONCURRENT_STREAMS 0)", c.key.Addr)
	}
	return nil
}

// state says whether the connection failed and whether it takes no new
// streams (GOAWAY, failed, or out of stream IDs).
func (c *pconn) state() (failed, closing bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err != nil, c.err != nil || c.goAway
}

// limit is how many streams the connection may carry.
func (c *pconn) limit() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.settings.hasMaxStreams {
		return int(c.settings.maxStreams)
	}
	return defaultMaxStreams
}

// close closes the connection; every stream on it fails with ErrConnLost.
func (c *pconn) close() {
	c.fail(fmt.Errorf("%w (%s): connection closed", ErrConnLost, c.key.Addr))
	<-c.done
}

// fail ends the connection with err (the first failure wins): it is
// closed, and every stream's reads and writes fail.
func (c *pconn) fail(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	streams := make([]*Stream, 0, len(c.streams))
	for _, s := range c.streams {
		streams = append(streams, s)
	}
	c.mu.Unlock()
	c.nc.Close()
	for _, s := range streams {
		s.fail(err)
		c.forget(s)
	}
}

// setWriteDeadline bounds the writes that follow (wmu): a connection on
// which nothing can be written for writeByteTimeout fails, instead of
// blocking every stream on it. The deadline is moved only when half of it
// has passed.
func (c *pconn) setWriteDeadline() {
	now := time.Now()
	if c.wdlEnd.Sub(now) < writeByteTimeout/2 {
		c.wdlEnd = now.Add(writeByteTimeout)
		c.nc.SetWriteDeadline(c.wdlEnd)
	}
}

// write runs fn, which writes frames, under wmu and flushes them. A
// failed write fails the connection.
func (c *pconn) write(fn func() error) error {
	c.wmu.Lock()
	c.setWriteDeadline()
	err := fn()
	if err == nil {
		err = c.bw.Flush()
	}
	c.wmu.Unlock()
	if err != nil {
		err = fmt.Errorf("%w (%s): %w", ErrConnLost, c.key.Addr, err)
		c.fail(err)
		c.mu.Lock()
		err = c.err
		c.mu.Unlock()
	}
	return err
}

// writeData sends p on stream id in DATA frames of c.frame bytes at most;
// the windows for them were reserved. end sets END_STREAM on the
// last (p may then be empty).
func (c *pconn) writeData(id uint32, p []byte, end bool) error {
	return c.write(func() error {
		for {
			k := min(len(p), c.frame)
			if err := c.fr.WriteData(id, end && k == len(p), p[:k]); err != nil {
				return err
			}
			if p = p[k:]; len(p) == 0 {
				return nil
			}
		}
	})
}

// reserve takes up to n bytes of the stream's and the connection's send
// windows and returns how many it took.
func (c *pconn) reserve(s *Stream, n int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	k := int(min(int64(n), s.sendWin, c.sendWin))
	if k <= 0 {
		return 0
	}
	s.sendWin -= int64(k)
	c.sendWin -= int64(k)
	return k
}

// consumed gives n bytes a stream's reader took back to the connection's
// window, in batches.
func (c *pconn) consumed(n int) {
	c.mu.Lock()
	c.owed += int64(n)
	give := int64(0)
	if c.owed >= connWindow/4 {
		give, c.owed = c.owed, 0
		c.recvWin += give
	}
	c.mu.Unlock()
	if give > 0 {
		c.write(func() error { return c.fr.WriteWindowUpdate(0, uint32(give)) })
	}
}

// openStream assigns s the next stream ID and sends the extended CONNECT's
// HEADERS (with CONTINUATION frames when the block is larger than a frame).
func (c *pconn) openStream(s *Stream, fields []hpack.HeaderField) error {
	size := 0
	for _, f := range fields {
		size += int(f.Size())
	}
	// refused: the connection takes no such stream, and stays as it is.
	// The IDs are given under wmu, so that they go out in order.
	var refused error
	err := c.write(func() error {
		c.mu.Lock()
		limit := c.settings.maxHeaderList
		switch {
		case c.err != nil:
			refused = c.err
		case c.goAway:
			refused = fmt.Errorf("%w (%s, after GOAWAY)", ErrConnLost, c.key.Addr)
		case c.nextID > 1<<31-1:
			c.goAway = true // out of stream IDs: the pool opens another connection
			refused = fmt.Errorf("%w (%s): out of stream IDs", ErrConnLost, c.key.Addr)
		case limit != 0 && size > int(limit):
			refused = errorf("HTTP/2 request headers (%d bytes) exceed the server's SETTINGS_MAX_HEADER_LIST_SIZE (%d)", size, limit)
		}
		if refused != nil {
			c.mu.Unlock()
			return nil // s has no ID: forget gives its place back
		}
		maxFrame := int(c.settings.maxFrame)
		s.id = c.nextID
		c.nextID += 2
		s.sendWin = c.settings.initialWindow
		c.streams[s.id] = s
		c.mu.Unlock()

		c.hbuf.Reset()
		for _, f := range fields {
			c.henc.WriteField(f)
		}
		block := c.hbuf.Bytes()
		k := min(len(block), maxFrame)
		err := c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: s.id, BlockFragment: block[:k], EndHeaders: k == len(block)})
		for block = block[k:]; err == nil && len(block) > 0; block = block[k:] {
			k = min(len(block), maxFrame)
			err = c.fr.WriteContinuation(s.id, k == len(block), block[:k])
		}
		return err
	})
	if refused != nil {
		return refused
	}
	return err
}

// reset sends RST_STREAM for s and forgets it.
func (c *pconn) reset(s *Stream, code http2.ErrCode) {
	c.mu.Lock()
	_, open := c.streams[s.id]
	c.mu.Unlock()
	if open {
		c.write(func() error { return c.fr.WriteRSTStream(s.id, code) })
	}
	c.forget(s)
}

// forget removes a stream that is over (reset, both sides ended, or the
// connection failed) and gives its place back to the pool, once.
func (c *pconn) forget(s *Stream) {
	c.mu.Lock()
	_, ok := c.streams[s.id]
	if ok {
		delete(c.streams, s.id)
	}
	c.mu.Unlock()
	if ok || s.id == 0 {
		s.gone()
		if c.p != nil {
			c.p.release(c)
		}
	}
}

// readLoop reads the server's frames until the connection fails.
func (c *pconn) readLoop(br *bufio.Reader) {
	defer close(c.done)
	err := c.readFirst(br)
	for err == nil {
		var f http2.Frame
		f, err = c.fr.ReadFrame()
		if err != nil {
			var se http2.StreamError
			if errors.As(err, &se) {
				err = c.streamError(se)
			}
			continue
		}
		err = c.handle(f)
	}
	c.fail(fmt.Errorf("%w (%s): %w", ErrConnLost, c.key.Addr, err)) // readFirst settled on every path
}

// readFirst reads the server's first frame, which must be SETTINGS (RFC
// 9113 §3.4); an HTTP/1.x answer to the preface is told apart.
func (c *pconn) readFirst(br *bufio.Reader) error {
	settle := func(err error) error {
		c.mu.Lock()
		c.first = err
		close(c.settled)
		c.mu.Unlock()
		return err
	}
	b, err := br.Peek(frameHeaderLen)
	if err != nil {
		return settle(fmt.Errorf("%w (%s): closed before the server's SETTINGS: %w", ErrConnLost, c.key.Addr, err))
	}
	if bytes.HasPrefix(b, []byte("HTTP/1.")) {
		return settle(fmt.Errorf("%w: %s answered in HTTP/1.x", ErrNoHTTP2, c.key.Addr))
	}
	fh, _ := http2.ReadFrameHeader(bytes.NewReader(b))
	if fh.Type != http2.FrameSettings || fh.Flags.Has(http2.FlagSettingsAck) || fh.Length > 16<<10 {
		return settle(fmt.Errorf("%w: the first frame from %s is %v (%d bytes), not SETTINGS", ErrNoHTTP2, c.key.Addr, fh.Type, fh.Length))
	}
	f, err := c.fr.ReadFrame()
	if err != nil {
		return settle(fmt.Errorf("%w: the SETTINGS of %s: %w", ErrNoHTTP2, c.key.Addr, err))
	}
	err = c.handle(f)
	settle(nil)
	return err
}

// handle acts on one frame from the server.
func (c *pconn) handle(f http2.Frame) error {
	switch f := f.(type) {
	case *http2.DataFrame:
		return c.onData(f)
	case *http2.MetaHeadersFrame:
		if s := c.stream(f.StreamID); s != nil {
			s.onHeaders(f)
		}
	case *http2.WindowUpdateFrame:
		return c.onWindowUpdate(f)
	case *http2.RSTStreamFrame:
		if s := c.stream(f.StreamID); s != nil {
			s.fail(fmt.Errorf("%w (%s): %w", ErrStreamReset, s.addr(), http2.StreamError{StreamID: f.StreamID, Code: f.ErrCode}))
			c.forget(s)
		}
	case *http2.SettingsFrame:
		if f.IsAck() {
			return nil
		}
		if err := c.onSettings(f); err != nil {
			return err
		}
		return c.write(c.fr.WriteSettingsAck)
	case *http2.PingFrame:
		if !f.IsAck() {
			return c.write(func() error { return c.fr.WritePing(true, f.Data) })
		}
	case *http2.GoAwayFrame:
		c.onGoAway(f)
	case *http2.PushPromiseFrame:
		return http2.ConnectionError(http2.ErrCodeProtocol) // we disabled push
	}
	return nil
}

func (c *pconn) stream(id uint32) *Stream {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.streams[id]
}

// streamError resets the stream whose frame was malformed; the connection
// goes on.
func (c *pconn) streamError(se http2.StreamError) error {
	if s := c.stream(se.StreamID); s != nil {
		s.fail(fmt.Errorf("%w (%s): %w", ErrStreamReset, s.addr(), se))
		c.reset(s, se.Code)
	}
	return nil
}

func (c *pconn) onData(f *http2.DataFrame) error {
	n := int64(f.Length) // padding included: it counts against the windows
	c.mu.Lock()
	if n > c.recvWin {
		c.mu.Unlock()
		return http2.ConnectionError(http2.ErrCodeFlowControl)
	}
	c.recvWin -= n
	s := c.streams[f.StreamID]
	c.mu.Unlock()
	took := 0
	if s != nil {
		var err error
		took, err = s.onData(f)
		if err != nil {
			s.fail(err)
			c.reset(s, http2.ErrCodeFlowControl)
			took = 0
		}
	}
	if back := int(n) - took; back > 0 { // padding, or data nobody will read
		c.consumed(back)
	}
	return nil
}

func (c *pconn) onWindowUpdate(f *http2.WindowUpdateFrame) error {
	c.mu.Lock()
	if f.StreamID == 0 {
		c.sendWin += int64(f.Increment)
		if c.sendWin > 1<<31-1 {
			c.mu.Unlock()
			return http2.ConnectionError(http2.ErrCodeFlowControl)
		}
		waiting := make([]*Stream, 0, 4)
		for _, s := range c.streams {
			if s.backlog.Load() != nil {
				waiting = append(waiting, s)
			}
		}
		c.mu.Unlock()
		for _, s := range waiting {
			s.windowOpened()
		}
		return nil
	}
	s := c.streams[f.StreamID]
	if s == nil {
		c.mu.Unlock()
		return nil
	}
	s.sendWin += int64(f.Increment)
	bad := s.sendWin > 1<<31-1
	c.mu.Unlock()
	if bad {
		s.fail(fmt.Errorf("%w (%s): window overflow", ErrStreamReset, s.addr()))
		c.reset(s, http2.ErrCodeFlowControl)
		return nil
	}
	s.windowOpened()
	return nil
}

func (c *pconn) onSettings(f *http2.SettingsFrame) error {
	c.mu.Lock()
	var opened []*Stream
	tableSize, hasTableSize := uint32(0), false
	frame := 0
	err := f.ForeachSetting(func(s http2.Setting) error {
		switch s.ID {
		case http2.SettingEnableConnectProtocol:
			c.settings.extendedConnect = s.Val == 1
		case http2.SettingMaxConcurrentStreams:
			c.settings.maxStreams, c.settings.hasMaxStreams = s.Val, true
		case http2.SettingMaxFrameSize:
			c.settings.maxFrame = s.Val // the Framer checked 16 KiB..16 MiB
			frame = dataFrameSize
			if s.Val > 16<<10 {
				frame = int(min(s.Val, maxDataFrameSize))
			}
		case http2.SettingMaxHeaderListSize:
			c.settings.maxHeaderList = s.Val
		case http2.SettingHeaderTableSize:
			tableSize, hasTableSize = s.Val, true
		case http2.SettingInitialWindowSize:
			// Every stream's window moves by the difference (RFC 9113 §6.9.2).
			delta := int64(s.Val) - c.settings.initialWindow
			c.settings.initialWindow = int64(s.Val)
			for _, st := range c.streams {
				st.sendWin += delta
				if st.sendWin > 1<<31-1 {
					return http2.ConnectionError(http2.ErrCodeFlowControl)
				}
				if delta > 0 {
					opened = append(opened, st)
				}
			}
		}
		return nil
	})
	c.mu.Unlock()
	if hasTableSize || frame != 0 { // wmu is taken before mu, never under it
		c.wmu.Lock()
		if hasTableSize {
			c.henc.SetMaxDynamicTableSizeLimit(tableSize)
		}
		if frame != 0 {
			c.frame = frame
		}
		c.wmu.Unlock()
	}
	for _, s := range opened {
		s.windowOpened()
	}
	return err
}

// onGoAway: no new streams; those the server will not process (above its
// last stream ID) fail, the others go on.
func (c *pconn) onGoAway(f *http2.GoAwayFrame) {
	c.mu.Lock()
	c.goAway = true
	var lost []*Stream
	for id, s := range c.streams {
		if id > f.LastStreamID {
			lost = append(lost, s)
		}
	}
	c.mu.Unlock()
	for _, s := range lost {
		s.fail(fmt.Errorf("%w (%s, after GOAWAY %v)", ErrConnLost, s.addr(), f.ErrCode))
		c.forget(s)
	}
	if c.p != nil {
		c.p.goneAway(c)
	}
}

// requestFields is the extended CONNECT's header block (RFC 8441 §4–5):
// :method CONNECT, :protocol websocket, :scheme, :path, :authority, then
// sec-websocket-version, the offers and the caller's fields, in lower
// case. Names must be tokens and values hold no control character but tab,
// as over HTTP/1.1 (codec.WriteRequest) and in DialOptions' own check.
func requestFields(r *Request) ([]hpack.HeaderField, error) {
	if r.Authority == "" {
		return nil, errors.New("wsclient: HTTP/2 request has no :authority")
	}
	path := r.Path
	if path == "" {
		path = "/"
	}
	if path[0] != '/' || !validValue(path) {
		return nil, errors.New("wsclient: invalid request path for HTTP/2")
	}
	if !validValue(r.Authority) {
		return nil, errors.New("wsclient: invalid :authority for HTTP/2")
	}
	scheme := "http"
	if r.Key.Secure {
		scheme = "https"
	}
	fields := make([]hpack.HeaderField, 0, 8+len(r.Header))
	fields = append(fields,
		hpack.HeaderField{Name: ":method", Value: "CONNECT"},
		hpack.HeaderField{Name: ":protocol", Value: "websocket"},
		hpack.HeaderField{Name: ":scheme", Value: scheme},
		hpack.HeaderField{Name: ":path", Value: path},
		hpack.HeaderField{Name: ":authority", Value: r.Authority},
	)
	version := "13"
	for k, vv := range r.Header {
		if http.CanonicalHeaderKey(k) == "Sec-Websocket-Version" && len(vv) > 0 {
			version = vv[0]
		}
	}
	fields = append(fields, hpack.HeaderField{Name: "sec-websocket-version", Value: version})
	if len(r.Protocols) > 0 {
		for _, p := range r.Protocols {
			if !httpguts.ValidHeaderFieldName(p) { // a token
				return nil, errors.New("wsclient: subprotocol is not a token")
			}
		}
		fields = append(fields, hpack.HeaderField{Name: "sec-websocket-protocol", Value: strings.Join(r.Protocols, ", ")})
	}
	if len(r.Extensions) > 0 {
		for _, e := range r.Extensions {
			if e == "" || !httpguts.ValidHeaderFieldValue(e) || strings.IndexByte(e, ',') >= 0 {
				return nil, errors.New("wsclient: invalid extension offer")
			}
		}
		fields = append(fields, hpack.HeaderField{Name: "sec-websocket-extensions", Value: strings.Join(r.Extensions, ", ")})
	}
	for k, vv := range r.Header {
		ck := http.CanonicalHeaderKey(k)
		if dropped[ck] || ck == "Sec-Websocket-Version" {
			continue
		}
		if !httpguts.ValidHeaderFieldName(k) {
			return nil, fmt.Errorf("wsclient: invalid header field name %q", k)
		}
		name := strings.ToLower(k)
		for _, v := range vv {
			if !httpguts.ValidHeaderFieldValue(v) {
				return nil, fmt.Errorf("wsclient: invalid value for header field %q", k)
			}
			fields = append(fields, hpack.HeaderField{Name: name, Value: v, Sensitive: ck == "Authorization" || ck == "Cookie"})
		}
	}
	return fields, nil
}

// response turns the server's HEADERS into a codec.Response.
func response(f *http2.MetaHeadersFrame) (*codec.Response, error) {
	code, err := strconv.Atoi(f.PseudoValue("status"))
	if err != nil || code < 100 || code > 999 {
		return nil, fmt.Errorf("%w: HTTP/2 response with :status %q", codec.ErrBadHandshake, f.PseudoValue("status"))
	}
	regular := f.RegularFields()
	h := make(http.Header, len(regular))
	for _, hf := range regular {
		k := http.CanonicalHeaderKey(hf.Name)
		h[k] = append(h[k], hf.Value)
	}
	return &codec.Response{StatusCode: code, Header: h}, nil // CheckConnectResponse fills Status
}

// validValue: no whitespace or control characters (:path, :authority).
func validValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == 0x7f {
			return false
		}
	}
	return true
}
