package codec

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/gobwas/ws"
)

func TestCloseCodes(t *testing.T) {
	tests := []struct {
		code  ws.StatusCode
		valid bool
		err   error // ParseClose's error for the code
	}{
		{code: 0, err: ws.ErrProtocolStatusCodeNotInUse},
		{code: 999, err: ws.ErrProtocolStatusCodeNotInUse},
		{code: 1000, valid: true},
		{code: 1001, valid: true},
		{code: 1002, valid: true},
		{code: 1003, valid: true},
		{code: 1004, err: ws.ErrProtocolStatusCodeNoMeaning},
		{code: 1005, err: ws.ErrProtocolStatusCodeApplicationLevel},
		{code: 1006, err: ws.ErrProtocolStatusCodeApplicationLevel},
		{code: 1007, valid: true},
		{code: 1011, valid: true},
		{code: 1012, valid: true},
		{code: 1014, valid: true},
		{code: 1015, err: ws.ErrProtocolStatusCodeApplicationLevel},
		{code: 1016, err: ws.ErrProtocolStatusCodeUnknown},
		{code: 2000, err: ws.ErrProtocolStatusCodeUnknown},
		{code: 2999, err: ws.ErrProtocolStatusCodeUnknown},
		{code: 3000, valid: true},
		{code: 3999, valid: true},
		{code: 4000, valid: true},
		{code: 4999, valid: true},
		{code: 5000, err: ws.ErrProtocolStatusCodeUnknown},
		{code: 65535, err: ws.ErrProtocolStatusCodeUnknown},
	}
	for _, tt := range tests {
		if got := ValidCloseCode(tt.code); got != tt.valid {
			t.Errorf(
				"ValidCloseCode(%d) = %v, want %v",
				tt.code, got, tt.valid)
		}
		err := CheckClose(tt.code, "")
		switch {
		case tt.code == ws.StatusNoStatusRcvd:
			if err != nil {
				t.Errorf("CheckClose(1005) = %v, want nil (a close frame without a code)", err)
			}
		case tt.valid && err != nil, !tt.valid && !errors.Is(err, tt.err):
			t.Errorf("CheckClose(%d) = %v, want %v", tt.code, err, tt.err)
		}
		for _, reason := range []string{"", "bye", strings.Repeat("é", maxCloseReason/2)} {
			var b [ws.MaxControlFramePayloadSize]byte
			n := PutClose(b[:], tt.code, reason)
			if tt.code == ws.StatusNoStatusRcvd {
				if n != 0 {
					t.Errorf(
						"PutClose(1005, %q) = %d, want 0",
						reason, n)
				}
				n = 2 + copy(b[2:], reason) // encode 1005 by hand to parse it
				b[0], b[1] = 0x03, 0xed
			} else if want := ws.NewCloseFrameBody(tt.code, reason); !bytes.Equal(b[:n], want) {
				t.Errorf(
					"PutClose(%d, %q) = % x, want % x",
					tt.code, reason, b[:n], want)
			}
			code, r, err := ParseClose(b[:n])
			if err != tt.err || code != tt.code {
				t.Errorf(
					"ParseClose(% x) = %d, %q, %v; want %d, %v",
					b[:n], code, r, err, tt.code, tt.err)
			}
			if err == nil && string(r) != reason {
				t.Errorf(
					"ParseClose(% x) reason = %q, want %q",
					b[:n], r, reason)
			}
		}
	}
}

func TestParseClose(t *testing.T) {
	tests := []struct {
		name   string
		in     []byte
		code   ws.StatusCode
		reason string
		err    error
	}{
		{
			name: "empty",
			in:   nil,
			code: ws.StatusNoStatusRcvd,
		},
		{
			name: "one byte",
			in:   []byte{0x03},
			err:  errProtocolClosePayload,
		},
		{
			name: "code only",
			in:   []byte{0x03, 0xe8},
			code: 1000,
		},
		{
			name:   "code and reason",
			in:     []byte{0x03, 0xe9, 'g', 'o', 'n', 'e'},
			code:   1001,
			reason: "gone",
		},
		{
			name:   "longest reason",
			in:     append([]byte{0x0f, 0xa0}, strings.Repeat("x", maxCloseReason)...),
			code:   4000,
			reason: strings.Repeat("x", maxCloseReason),
		},
		{
			name: "reason too long",
			in:   append([]byte{0x0f, 0xa0}, strings.Repeat("x", maxCloseReason+1)...),
			err:  ws.ErrProtocolControlPayloadOverflow,
		},
		{
			name: "invalid UTF-8 reason",
			in:   []byte{0x03, 0xe8, 'a', 0xff},
			code: 1000,
			err:  ErrInvalidUTF8,
		},
		{
			name: "surrogate in reason",
			in:   []byte{0x03, 0xe8, 0xed, 0xa0, 0x80},
			code: 1000,
			err:  ErrInvalidUTF8,
		},
		{
			name: "truncated code point in reason",
			in:   []byte{0x03, 0xe8, 0xe2, 0x82},
			code: 1000,
			err:  ErrInvalidUTF8,
		},
		{
			name: "invalid code before invalid reason",
			in:   []byte{0x03, 0xed, 0xff},
			code: 1005,
			err:  ws.ErrProtocolStatusCodeApplicationLevel,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, reason, err := ParseClose(tt.in)
			if code != tt.code || string(reason) != tt.reason || err != tt.err || !errors.Is(err, tt.err) {
				t.Fatalf(
					"ParseClose(% x) = %d, %q, %v; want %d, %q, %v",
					tt.in, code, reason, err, tt.code, tt.reason, tt.err)
			}
			if len(reason) > 0 && &reason[0] != &tt.in[2] {
				t.Fatal("reason does not alias the payload")
			}
		})
	}
}

func TestCheckClose(t *testing.T) {
	tests := []struct {
		reason string
		want   error
	}{
		{
			reason: "",
		},
		{
			reason: "normal",
		},
		{
			reason: strings.Repeat("€", maxCloseReason/3),
		},
		{
			reason: strings.Repeat("x", maxCloseReason),
		},
		{
			reason: strings.Repeat("x", maxCloseReason+1),
			want:   ws.ErrProtocolControlPayloadOverflow,
		},
		{
			reason: "bad \xc0\x80",
			want:   ws.ErrProtocolInvalidUTF8,
		},
		{
			reason: "cut \xe2\x82",
			want:   ws.ErrProtocolInvalidUTF8,
		},
	}
	for _, tt := range tests {
		got := CheckClose(1000, tt.reason)
		if tt.want == nil && got != nil || tt.want != nil && !errors.Is(got, tt.want) {
			t.Errorf("CheckClose(1000, %q) = %v, want %v", tt.reason, got, tt.want)
		}
	}
}
