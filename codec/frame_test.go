package codec

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/gobwas/ws"
)

var testLengths = []int64{0, 1, 125, 126, 127, 65535, 65536, 65537, 1 << 40, 1<<63 - 1}

// allHeaders returns every combination of opcode, fin, rsv, testLengths and
// masking.
func allHeaders() []ws.Header {
	var hs []ws.Header
	for op := range 16 {
		for _, fin := range []bool{false, true} {
			for rsv := range byte(8) {
				for _, l := range testLengths {
					for _, masked := range []bool{false, true} {
						h := ws.Header{Fin: fin, Rsv: rsv, OpCode: ws.OpCode(op), Length: l}
						if masked {
							h.Masked = true
							h.Mask = [4]byte{0xa1, 0x02, byte(op), byte(l)}
						}
						hs = append(hs, h)
					}
				}
			}
		}
	}
	return hs
}

func TestHeaderRoundTrip(t *testing.T) {
	for _, h := range allHeaders() {
		var b [ws.MaxHeaderSize + 3]byte
		for i := range b {
			b[i] = 0xee // garbage PutHeader must overwrite or leave past n
		}
		n := PutHeader(b[:], h)

		var want bytes.Buffer
		if err := ws.WriteHeader(&want, h); err != nil {
			t.Fatalf(
				"ws.WriteHeader(%+v): %v",
				h, err)
		}
		if !bytes.Equal(b[:n], want.Bytes()) {
			t.Fatalf(
				"PutHeader(%+v) = % x, ws.WriteHeader wrote % x",
				h, b[:n], want.Bytes())
		}
		if n != ws.HeaderSize(h) || n != HeaderSize(b[0], b[1]) {
			t.Fatalf(
				"PutHeader(%+v) wrote %d bytes; ws.HeaderSize = %d, HeaderSize = %d",
				h, n, ws.HeaderSize(h), HeaderSize(b[0], b[1]))
		}

		// Every field of got must be overwritten; trailing bytes must be ignored.
		got := ws.Header{Fin: true, Rsv: 7, OpCode: 0xf, Length: 42, Masked: true, Mask: [4]byte{9, 9, 9, 9}}
		m, err := ParseHeader(b[:], &got)
		if err != nil || m != n || got != h {
			t.Fatalf(
				"ParseHeader(% x) = %+v, %d, %v; want %+v, %d, nil",
				b[:n], got, m, err, h, n)
		}
		ref, err := ws.ReadHeader(bytes.NewReader(b[:n]))
		if err != nil || ref != got {
			t.Fatalf(
				"ws.ReadHeader(% x) = %+v, %v; ParseHeader = %+v",
				b[:n], ref, err, got)
		}
	}
}

func TestParseHeaderShort(t *testing.T) {
	for _, h := range allHeaders() {
		var b [ws.MaxHeaderSize]byte
		n := PutHeader(b[:], h)
		for cut := range n {
			keep := ws.Header{OpCode: 0xf, Length: 42}
			got := keep
			if m, err := ParseHeader(b[:cut], &got); !errors.Is(err, io.ErrUnexpectedEOF) || m != 0 || got != keep {
				t.Fatalf(
					"ParseHeader(% x) (cut at %d of %d) = %d, %v, header %+v; want io.ErrUnexpectedEOF, header unchanged",
					b[:cut], cut, n, m, err, got)
			}
			if cut >= 2 && HeaderSize(b[0], b[1]) != n {
				t.Fatalf(
					"HeaderSize(%#x, %#x) = %d, want %d",
					b[0], b[1], HeaderSize(b[0], b[1]), n)
			}
		}
	}
}

func TestParseHeaderLengthMSB(t *testing.T) {
	for _, masked := range []byte{0, 0x80} {
		b := []byte{0x82, masked | 127, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4}
		keep := ws.Header{OpCode: 0xf, Length: 42}
		h := keep
		if n, err := ParseHeader(b, &h); err != ws.ErrHeaderLengthMSB || n != 0 || h != keep {
			t.Fatalf(
				"ParseHeader(% x) = %d, %v, header %+v; want ws.ErrHeaderLengthMSB, header unchanged",
				b, n, err, h)
		}
		if _, err := ws.ReadHeader(bytes.NewReader(b)); err != ws.ErrHeaderLengthMSB {
			t.Fatalf(
				"ws.ReadHeader disagrees: %v",
				err)
		}
	}
}

// TestParseHeaderNonMinimal documents that lengths not encoded in the
// minimal form are accepted, as by ws.ReadHeader.
func TestParseHeaderNonMinimal(t *testing.T) {
	tests := []struct {
		in   []byte
		want int64
	}{
		{
			in:   []byte{0x82, 126, 0, 5},
			want: 5,
		},
		{
			in:   []byte{0x82, 126, 0, 125},
			want: 125,
		},
		{
			in:   []byte{0x82, 127, 0, 0, 0, 0, 0, 0, 0, 5},
			want: 5,
		},
		{
			in:   []byte{0x82, 127, 0, 0, 0, 0, 0, 0, 0xff, 0xff},
			want: 65535,
		},
	}
	for _, tt := range tests {
		var h ws.Header
		n, err := ParseHeader(tt.in, &h)
		if err != nil || n != len(tt.in) || h.Length != tt.want {
			t.Errorf(
				"ParseHeader(% x) = %+v, %d, %v; want length %d",
				tt.in, h, n, err, tt.want)
		}
	}
}

func TestParseHeaderOverwrites(t *testing.T) {
	h := ws.Header{Fin: true, Rsv: 7, OpCode: ws.OpPing, Masked: true, Mask: [4]byte{1, 2, 3, 4}, Length: 99}
	n, err := ParseHeader([]byte{0x02, 0x05}, &h)
	if want := (ws.Header{OpCode: ws.OpBinary, Length: 5}); err != nil || n != 2 || h != want {
		t.Fatalf(
			"ParseHeader over a used header = %+v, %d, %v; want %+v",
			h, n, err, want)
	}
}

func TestPutHeaderNegativeLength(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("PutHeader with a negative length did not panic")
		}
	}()
	var b [ws.MaxHeaderSize]byte
	PutHeader(b[:], ws.Header{OpCode: ws.OpBinary, Length: -1})
}

func TestCheckServerFrame(t *testing.T) {
	tests := []struct {
		name       string
		h          ws.Header
		rsvAllowed byte
		fragmented bool
		want       error
	}{
		{
			name: "text",
			h:    ws.Header{Fin: true, OpCode: ws.OpText, Length: 10},
		},
		{
			name: "binary start of fragmented message",
			h:    ws.Header{OpCode: ws.OpBinary, Length: 1 << 20},
		},
		{
			name:       "continuation",
			h:          ws.Header{OpCode: ws.OpContinuation},
			fragmented: true,
		},
		{
			name:       "ping between fragments",
			h:          ws.Header{Fin: true, OpCode: ws.OpPing, Length: 125},
			fragmented: true,
		},
		{
			name:       "rsv1 with deflate",
			h:          ws.Header{Fin: true, Rsv: 0x4, OpCode: ws.OpText},
			rsvAllowed: 0x4,
		},
		{
			name: "reserved data opcode",
			h:    ws.Header{Fin: true, OpCode: 0x3},
			want: ws.ErrProtocolOpCodeReserved,
		},
		{
			name: "reserved control opcode",
			h:    ws.Header{Fin: true, OpCode: 0xb},
			want: ws.ErrProtocolOpCodeReserved,
		},
		{
			name: "control frame of 126 bytes",
			h:    ws.Header{Fin: true, OpCode: ws.OpPing, Length: 126},
			want: ws.ErrProtocolControlPayloadOverflow,
		},
		{
			name: "fragmented control frame",
			h:    ws.Header{OpCode: ws.OpClose},
			want: ws.ErrProtocolControlNotFinal,
		},
		{
			name: "rsv1 without extension",
			h:    ws.Header{Fin: true, Rsv: 0x4, OpCode: ws.OpText},
			want: ws.ErrProtocolNonZeroRsv,
		},
		{
			name:       "rsv2 with deflate",
			h:          ws.Header{Fin: true, Rsv: 0x2, OpCode: ws.OpText},
			rsvAllowed: 0x4,
			want:       ws.ErrProtocolNonZeroRsv,
		},
		{
			name:       "rsv3 with deflate",
			h:          ws.Header{Fin: true, Rsv: 0x5, OpCode: ws.OpBinary},
			rsvAllowed: 0x4,
			want:       ws.ErrProtocolNonZeroRsv,
		},
		{
			name:       "rsv1 on a ping with deflate",
			h:          ws.Header{Fin: true, Rsv: 0x4, OpCode: ws.OpPing},
			rsvAllowed: 0x4,
			want:       ws.ErrProtocolNonZeroRsv,
		},
		{
			name: "masked server frame",
			h:    ws.Header{Fin: true, OpCode: ws.OpText, Masked: true},
			want: ws.ErrProtocolMaskUnexpected,
		},
		{
			name:       "new data frame inside fragmented message",
			h:          ws.Header{Fin: true, OpCode: ws.OpText},
			fragmented: true,
			want:       ws.ErrProtocolContinuationExpected,
		},
		{
			name: "continuation without start",
			h:    ws.Header{Fin: true, OpCode: ws.OpContinuation},
			want: ws.ErrProtocolContinuationUnexpected,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckServerFrame(tt.h, tt.rsvAllowed, tt.fragmented)
			if err != tt.want || !errors.Is(err, tt.want) {
				t.Fatalf(
					"CheckServerFrame(%+v, %#x, %v) = %v, want %v",
					tt.h, tt.rsvAllowed, tt.fragmented, err, tt.want)
			}
		})
	}
}

// TestCheckServerFrameMatchesWS checks that CheckServerFrame returns what
// ws.CheckHeader returns, for every header shape, except for the two rules
// it adds (RSV bits outside rsvAllowed, RSV bits on control frames).
func TestCheckServerFrameMatchesWS(t *testing.T) {
	for op := range 16 {
		for rsv := range byte(8) {
			for _, l := range []int64{0, 125, 126} {
				for bits := range 8 {
					h := ws.Header{
						OpCode: ws.OpCode(op),
						Rsv:    rsv,
						Length: l,
						Fin:    bits&1 != 0,
						Masked: bits&2 != 0,
					}
					fragmented := bits&4 != 0
					for _, allowed := range []byte{0, 0x4, 0x7} {
						s := ws.StateClientSide
						if allowed != 0 {
							s |= ws.StateExtended
						}
						if fragmented {
							s |= ws.StateFragmented
						}
						want := ws.CheckHeader(h, s)
						if want == nil && (rsv&^allowed != 0 || h.OpCode.IsControl() && rsv != 0) {
							want = ws.ErrProtocolNonZeroRsv
						}
						if got := CheckServerFrame(h, allowed, fragmented); got != want {
							t.Fatalf(
								"CheckServerFrame(%+v, %#x, %v) = %v, want %v",
								h, allowed, fragmented, got, want)
						}
					}
				}
			}
		}
	}
}

var (
	sinkHeader ws.Header
	sinkInt    int
	sinkErr    error
)

func benchHeaders() []struct {
	name string
	h    ws.Header
} {
	return []struct {
		name string
		h    ws.Header
	}{
		{
			name: "short",
			h:    ws.Header{Fin: true, OpCode: ws.OpText, Length: 100},
		},
		{
			name: "medium",
			h:    ws.Header{Fin: true, OpCode: ws.OpBinary, Length: 1024},
		},
		{
			name: "large-masked",
			h:    ws.Header{Fin: true, OpCode: ws.OpBinary, Length: 1 << 20, Masked: true, Mask: [4]byte{1, 2, 3, 4}},
		},
	}
}

func BenchmarkParseHeader(b *testing.B) {
	for _, bc := range benchHeaders() {
		var buf [ws.MaxHeaderSize]byte
		n := PutHeader(buf[:], bc.h)
		frame := buf[:n]
		b.Run(fmt.Sprintf("codec/%s", bc.name), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkInt, sinkErr = ParseHeader(frame, &sinkHeader)
			}
		})
		b.Run(fmt.Sprintf("ws.ReadHeader/%s", bc.name), func(b *testing.B) {
			r := bytes.NewReader(frame)
			b.ReportAllocs()
			for b.Loop() {
				r.Reset(frame)
				sinkHeader, sinkErr = ws.ReadHeader(r)
			}
		})
		b.Run(fmt.Sprintf("ws.ReadHeaderBuffer/%s", bc.name), func(b *testing.B) {
			r := bytes.NewReader(frame)
			var hdr [ws.MaxHeaderSize]byte
			b.ReportAllocs()
			for b.Loop() {
				r.Reset(frame)
				sinkHeader, sinkErr = ws.ReadHeaderBuffer(r, hdr[:])
			}
		})
	}
}

func BenchmarkPutHeader(b *testing.B) {
	for _, bc := range benchHeaders() {
		h := bc.h
		b.Run(fmt.Sprintf("codec/%s", bc.name), func(b *testing.B) {
			var buf [ws.MaxHeaderSize]byte
			b.ReportAllocs()
			for b.Loop() {
				sinkInt = PutHeader(buf[:], h)
			}
		})
		b.Run(fmt.Sprintf("ws.WriteHeader/%s", bc.name), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sinkErr = ws.WriteHeader(io.Discard, h)
			}
		})
		b.Run(fmt.Sprintf("ws.WriteHeaderBuffer/%s", bc.name), func(b *testing.B) {
			var buf [ws.MaxHeaderSize]byte
			b.ReportAllocs()
			for b.Loop() {
				sinkErr = ws.WriteHeaderBuffer(io.Discard, h, buf[:])
			}
		})
	}
}
