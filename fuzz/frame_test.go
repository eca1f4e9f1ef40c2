package fuzz

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"

	"github.com/wsclient/wsclient/codec"
	"github.com/wsclient/wsclient/engine"
	"github.com/wsclient/wsclient/internal/testutil"
)

// How a reference run ends.
const (
	endEOF   = iota // stream ended: CloseError 1006, nothing sent
	endFail         // the client fails the connection with a close code
	endClose        // the server closed; the client echoes its code
)

type refMsg struct {
	op ws.OpCode
	p  []byte
}

type refResult struct {
	msgs   []refMsg
	pongs  [][]byte // payloads of the pings, in order
	end    int
	code   uint16 // endFail: 1002, 1007 or 1009; endClose: the server's code (1005: none)
	reason string
}

// reference decodes a server byte stream the way RFC 6455 says a client
// must (§5.2, §5.4, §5.5, §7.1.7, §8.1), written from the RFC without the
// codec's helpers, as the oracle for FuzzFrameReader.
func reference(in []byte, limit int64, validate bool) refResult {
	var res refResult
	fail := func(code uint16) refResult { res.end, res.code = endFail, code; return res }
	var msg []byte
	var msgOp ws.OpCode
	inMsg := false
	checked := 0 // msg[:checked] is valid UTF-8 ending on a code point boundary
	for {
		if len(in) < 2 {
			res.end = endEOF
			return res
		}
		b0, b1 := in[0], in[1]
		hl := 2
		switch b1 & 0x7f {
		case 126:
			hl = 4
		case 127:
			hl = 10
		}
		masked := b1&0x80 != 0
		if masked {
			hl += 4
		}
		if len(in) < hl {
			res.end = endEOF
			return res
		}
		length := uint64(b1 & 0x7f)
		switch length {
		case 126:
			length = uint64(binary.BigEndian.Uint16(in[2:]))
		case 127:
			length = binary.BigEndian.Uint64(in[2:])
			if length>>63 != 0 {
				return fail(1002)
			}
		}
		fin, rsv, op := b0&0x80 != 0, b0>>4&7, ws.OpCode(b0&0xf)
		control := op >= 8
		switch {
		case op >= 3 && op <= 7, op >= 0xb:
			return fail(1002)
		case control && (length > 125 || !fin):
			return fail(1002)
		case rsv != 0, masked:
			return fail(1002)
		case !control && inMsg && op != 0, !control && !inMsg && op == 0:
			return fail(1002)
		}
		in = in[hl:]
		if !control {
			if op != 0 {
				inMsg, msgOp, msg, checked = true, op, []byte{}, 0
			}
			if limit > 0 && length > uint64(limit)-uint64(len(msg)) {
				return fail(1009)
			}
		}
		take := min(length, uint64(len(in)))
		p := in[:take]
		in = in[take:]
		if !control {
			msg = append(msg, p...)
			text := msgOp == ws.OpText && validate
			if text && !prefixValid(msg, &checked) {
				return fail(1007)
			}
			if take < length {
				res.end = endEOF
				return res
			}
			if fin {
				if text && !utf8.Valid(msg) {
					return fail(1007)
				}
				res.msgs = append(res.msgs, refMsg{msgOp, msg})
				inMsg = false
			}
			continue
		}
		if take < length {
			res.end = endEOF
			return res
		}
		switch op {
		case ws.OpPing:
			res.pongs = append(res.pongs, p)
		case ws.OpClose:
			if len(p) == 0 {
				res.end, res.code = endClose, 1005
				return res
			}
			if len(p) == 1 {
				return fail(1002)
			}
			code := binary.BigEndian.Uint16(p)
			if !refValidCode(code) {
				return fail(1002)
			}
			if !utf8.Valid(p[2:]) {
				return fail(1007)
			}
			res.end, res.code, res.reason = endClose, code, string(p[2:])
			return res
		}
	}
}

// isControl reports whether op is a control opcode (close, ping, pong;
// RFC 6455 §5.5). wsclient.Opcode is engine.Opcode.
func isControl(op engine.Opcode) bool { return op&0x8 != 0 }

// prefixValid is testutil.PossiblyValidUTF8(msg) in linear time over a growing
// message: it decodes from *checked on and advances it.
func prefixValid(msg []byte, checked *int) bool {
	for *checked < len(msg) {
		rest := msg[*checked:]
		if !utf8.FullRune(rest) {
			return true // a valid start of a code point, cut short
		}
		r, size := utf8.DecodeRune(rest)
		if r == utf8.RuneError && size == 1 {
			return false
		}
		*checked += size
	}
	return true
}

// refValidCode is RFC 6455 §7.4.1–§7.4.2 with the IANA registry: the codes
// a close frame may carry.
func refValidCode(c uint16) bool {
	return c >= 1000 && c <= 1003 || c >= 1007 && c <= 1014 || c >= 3000 && c <= 4999
}

// Fuzz input mode bits.
const (
	modeAPI        = 3      // 0, 3: ReadMessage; 1: ReadFrame; 2: NextReader
	modeClose      = 1 << 2 // call Close(1000) at the end
	modeLimitShift = 3      // 2 bits: MaxMessageSize 1 MiB, 125, 1000, 70000
	modeSmallBuf   = 1 << 5 // ReadBufferSize 512
	modePre        = 1 << 6 // hand the first bytes to engine.New as pre-read
	modeNoUTF8     = 1 << 7 // SkipUTF8Validation
)

var limits = [4]int64{1 << 20, 125, 1000, 70000}

// FuzzFrameReader feeds arbitrary server bytes, in reads of fuzzer-chosen
// sizes, to engine.New and reads with ReadMessage, ReadFrame or NextReader.
// It checks that the engine never panics; returns exactly the messages,
// pongs, error and close frame the RFC reference decoder predicts (a
// failure sends close 1002, 1007 or 1009 with the matching error, a server
// close is echoed, a truncated stream is CloseError 1006 with nothing
// sent); keeps failing after an error; and allocates no more than a
// constant plus a small multiple of the bytes actually received (never
// what a header merely declares), and so under MaxMessageSize plus a
// constant.
func FuzzFrameReader(f *testing.F) {
	for _, n := range seedLengths {
		p := bytes.Repeat([]byte("é"), n/2+1)[:n] // text: valid only for even n
		f.Add(testutil.Frame(true, 0, ws.OpText, p), byte(0), []byte{})
		f.Add(testutil.Frame(true, 0, ws.OpBinary, make([]byte, n)), byte(1), []byte{3, 200})
		f.Add(testutil.Frame(false, 0, ws.OpBinary, make([]byte, n)), byte(2<<modeLimitShift|modeSmallBuf), []byte{1})
		if n <= 126 {
			f.Add(testutil.Frame(true, 0, ws.OpPing, make([]byte, n)), byte(modeClose), []byte{0})
		}
	}
	huge := []byte{0x82, 127, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff} // 2^63-1
	f.Add(cat(huge, make([]byte, 100)), byte(0), []byte{})
	f.Add([]byte{0x82, 127, 0x80, 0, 0, 0, 0, 0, 0, 0}, byte(0), []byte{}) // MSB set
	f.Add([]byte{0x82, 0x81, 1, 2, 3, 4, 'x'}, byte(0), []byte{})          // masked
	f.Add(cat(testutil.Frame(false, 0, ws.OpText, []byte("hé")[:2]), testutil.Frame(true, 0, ws.OpPing, []byte("p")),
		testutil.Frame(true, 0, ws.OpContinuation, []byte("é")[1:]), testutil.Frame(true, 0, ws.OpClose, testutil.ClosePayload(1000, "bye"))),
		byte(2|modePre), []byte{5})
	f.Add(cat(testutil.Frame(false, 0, ws.OpText, []byte{'a', 0xe2}), testutil.Frame(true, 0, ws.OpContinuation, []byte{0x28, 0xa1})), byte(1), []byte{1})
	f.Add(testutil.Frame(true, 0, ws.OpClose, []byte{3}), byte(0), []byte{})
	f.Add(testutil.Frame(true, 0, ws.OpClose, nil), byte(modeClose), []byte{})
	f.Add(testutil.Frame(true, 0, ws.OpClose, testutil.ClosePayload(4000, "x\xff")), byte(0), []byte{})
	for _, code := range []uint16{0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 3000, 4999, 5000} {
		f.Add(testutil.Frame(true, 0, ws.OpClose, testutil.ClosePayload(code, "r")), byte(3), []byte{})
	}
	for op := ws.OpCode(3); op <= 0xf; op++ {
		f.Add(testutil.Frame(true, 0, op, nil), byte(0), []byte{})
	}
	for rsv := byte(1); rsv <= 7; rsv++ {
		f.Add(testutil.Frame(true, rsv, ws.OpText, []byte("x")), byte(0), []byte{})
	}
	f.Add(testutil.Frame(true, 0, ws.OpContinuation, []byte("x")), byte(0), []byte{})
	f.Add(cat(testutil.Frame(false, 0, ws.OpText, []byte("a")), testutil.Frame(true, 0, ws.OpText, []byte("b"))), byte(0), []byte{})
	f.Add(testutil.Frame(false, 0, ws.OpPing, nil), byte(0), []byte{})

	f.Fuzz(func(t *testing.T, in []byte, mode byte, chunks []byte) {
		// A hang would stall the fuzzer silently: crash instead, so that
		// the input is saved.
		wd := time.AfterFunc(10*time.Second, func() { panic(fmt.Sprintf("hang: mode=%#x chunks=%x in=%x", mode, chunks, in)) })
		defer wd.Stop()
		limit := limits[mode>>modeLimitShift&3]
		validate := mode&modeNoUTF8 == 0
		want := reference(in, limit, validate)

		cfg := &engine.Config{MaxMessageSize: limit, SkipUTF8Validation: !validate}
		if mode&modeSmallBuf != 0 {
			cfg.ReadBufferSize = 512
		}
		nc := &memConn{in: in, chunks: chunks}
		var pre []byte
		if mode&modePre != 0 && len(chunks) > 0 {
			k := min(int(chunks[0]), len(in))
			pre, nc.in = in[:k], in[k:]
		}

		var ms0, ms1 runtime.MemStats
		runtime.ReadMemStats(&ms0)
		c := engine.New(nc, pre, cfg)
		var got []refMsg
		var err error
		api := mode & modeAPI
		var frag []byte // ReadFrame: message being assembled
		var fragOp ws.OpCode
		for i := 0; err == nil; i++ {
			if i > len(in)+2 {
				t.Fatalf("engine returned more messages than the input can hold")
			}
			switch api {
			case 1:
				var fr engine.Frame
				fr, err = c.RecvFrame()
				if err != nil || isControl(fr.Opcode) {
					break
				}
				if fr.Opcode != engine.OpContinuation {
					fragOp, frag = ws.OpCode(fr.Opcode), []byte{}
				}
				frag = append(frag, fr.Payload...)
				if fr.Fin {
					got = append(got, refMsg{fragOp, frag})
				}
			case 2:
				var eop engine.Opcode
				var r io.Reader
				eop, r, err = c.NextReader()
				op := ws.OpCode(eop)
				if err != nil {
					break
				}
				var p []byte
				p, err = io.ReadAll(r)
				if err == nil {
					got = append(got, refMsg{op, p})
				}
			default:
				var op engine.Opcode
				var p []byte
				op, p, err = c.Recv()
				if err == nil {
					got = append(got, refMsg{ws.OpCode(op), bytes.Clone(p)})
				}
			}
		}
		if mode&modeClose != 0 {
			c.Close(engine.StatusNormal, "")
		}
		runtime.ReadMemStats(&ms1)

		// Allocation bound: what was received, never what was declared.
		const slack = 512 << 10 // buffers of the default sizes, errors, bookkeeping
		alloc := ms1.TotalAlloc - ms0.TotalAlloc
		if bound := 8*uint64(len(in)) + slack; alloc > bound {
			t.Fatalf("allocated %d bytes for %d input bytes (bound %d)", alloc, len(in), bound)
		}
		if bound := 4*uint64(limit) + slack; alloc > bound {
			t.Fatalf("allocated %d bytes with MaxMessageSize %d (bound %d)", alloc, limit, bound)
		}

		// Messages.
		if len(got) != len(want.msgs) {
			t.Fatalf("got %d messages, reference %d (error %v)", len(got), len(want.msgs), err)
		}
		for i := range got {
			if got[i].op != want.msgs[i].op || !bytes.Equal(got[i].p, want.msgs[i].p) {
				t.Fatalf("message %d: got %v %q, reference %v %q", i, got[i].op, got[i].p, want.msgs[i].op, want.msgs[i].p)
			}
		}

		// The error the user gets.
		var ce *engine.CloseError
		isClose := errors.As(err, &ce)
		switch want.end {
		case endEOF:
			if !isClose || ce.Code != engine.StatusAbnormalClosure {
				t.Fatalf("truncated stream: got %v, want CloseError 1006", err)
			}
		case endClose:
			if !isClose || uint16(ce.Code) != want.code || ce.Reason != want.reason {
				t.Fatalf("server close: got %v, want CloseError %d %q", err, want.code, want.reason)
			}
		case endFail:
			var wantErr error
			switch want.code {
			case 1002:
				wantErr = engine.ErrProtocol
			case 1007:
				wantErr = codec.ErrInvalidUTF8
			case 1009:
				wantErr = engine.ErrMessageTooBig
			}
			if !errors.Is(err, wantErr) || isClose {
				t.Fatalf("got error %v, want %v (close %d)", err, wantErr, want.code)
			}
		}
		// Sticky: the next read fails too.
		if _, _, err2 := c.Recv(); err2 == nil {
			t.Fatalf("ReadMessage after error %v succeeded", err)
		}

		// What the client sent: a pong per ping, then at most one close.
		fs, perr := parseClientFrames(nc.out.Bytes())
		if perr != nil {
			t.Fatalf("client wrote a bad frame stream: %v", perr)
		}
		var pongs [][]byte
		var closes []clientFrame
		for _, fr := range fs {
			if !fr.h.Fin || fr.h.Rsv != 0 {
				t.Fatalf("client frame %+v", fr.h)
			}
			switch fr.h.OpCode {
			case ws.OpPong:
				if len(closes) > 0 {
					t.Fatalf("pong after close frame")
				}
				pongs = append(pongs, fr.p)
			case ws.OpClose:
				closes = append(closes, fr)
			default:
				t.Fatalf("client sent opcode %v", fr.h.OpCode)
			}
		}
		if len(pongs) != len(want.pongs) {
			t.Fatalf("client sent %d pongs for %d pings", len(pongs), len(want.pongs))
		}
		for i := range pongs {
			if !bytes.Equal(pongs[i], want.pongs[i]) {
				t.Fatalf("pong %d = %q, want %q", i, pongs[i], want.pongs[i])
			}
		}
		wantClose := ""
		switch {
		case want.end == endFail:
			wantClose = fmt.Sprint(want.code)
		case want.end == endClose && want.code == 1005:
			wantClose = "empty"
		case want.end == endClose:
			wantClose = fmt.Sprint(want.code)
		case mode&modeClose != 0: // endEOF, then our Close
			wantClose = "1000"
		}
		gotClose := ""
		switch {
		case len(closes) > 1:
			t.Fatalf("client sent %d close frames", len(closes))
		case len(closes) == 1 && len(closes[0].p) == 0:
			gotClose = "empty"
		case len(closes) == 1:
			code, reason, cerr := codec.ParseClose(closes[0].p)
			if cerr != nil || len(reason) != 0 {
				t.Fatalf("client close payload %q: %v", closes[0].p, cerr)
			}
			gotClose = fmt.Sprint(uint16(code))
		}
		if gotClose != wantClose {
			t.Fatalf("client close frame %q, want %q (error %v)", gotClose, wantClose, err)
		}
	})
}

// TestReferenceSane checks the oracle itself on hand-written cases.
func TestReferenceSane(t *testing.T) {
	r := reference(cat(testutil.Frame(false, 0, ws.OpText, []byte{0xc3}), testutil.Frame(true, 0, ws.OpPing, []byte("p")),
		testutil.Frame(true, 0, ws.OpContinuation, []byte{0xa9}), testutil.Frame(true, 0, ws.OpClose, testutil.ClosePayload(1001, "x"))), 1<<20, true)
	if len(r.msgs) != 1 || string(r.msgs[0].p) != "é" || len(r.pongs) != 1 || r.end != endClose || r.code != 1001 || r.reason != "x" {
		t.Fatalf("%+v", r)
	}
	if r := reference(testutil.Frame(true, 0, ws.OpText, []byte{0xed, 0xa0}), 0, true); r.end != endFail || r.code != 1007 {
		t.Fatalf("surrogate prefix: %+v", r)
	}
	if r := reference(testutil.Frame(true, 0, ws.OpText, []byte{'a', 0xe2, 0x82})[:4], 0, true); r.end != endEOF {
		t.Fatalf("truncated valid prefix: %+v", r)
	}
	if r := reference(testutil.Frame(true, 0, ws.OpBinary, make([]byte, 126)), 125, true); r.end != endFail || r.code != 1009 {
		t.Fatalf("limit: %+v", r)
	}
}
