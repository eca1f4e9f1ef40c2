package codec

import (
	"encoding/binary"
	"fmt"

	"github.com/gobwas/ws"

	"github.com/wsclient/wsclient/simdutf8"
)

// maxCloseReason is the longest close reason in bytes (CheckClose checks it): a control frame
// payload is at most 125 bytes (RFC 6455 §5.5) and the code takes 2
// (§5.5.1).
const maxCloseReason = ws.MaxControlFramePayloadSize - 2

// errProtocolClosePayload reports a close frame whose payload is a single
// byte (RFC 6455 §5.5.1: the body, if any, starts with a 2-byte code). It is
// a ws.ProtocolError constant like the gobwas/ws values (errors.As finds it
// as one), so it never allocates and a connection answers it with close
// code 1002, wrapping it in its ErrProtocol.
const errProtocolClosePayload = ws.ProtocolError("close frame payload of 1 byte")

// ValidCloseCode reports whether code may appear on the wire in a close
// frame (RFC 6455 §7.4.1, §7.4.2 and the IANA registry of §11.7): 1000–1003,
// 1007–1014 and 3000–4999. 0–999, 1004 (reserved), 1005, 1006 and 1015
// (never sent, only reported locally), 1016–2999 (unassigned) and 5000 and
// above are not.
func ValidCloseCode(code ws.StatusCode) bool {
	return closeCodeError(code) == nil
}

// closeCodeError returns nil for a valid close code, else the most precise
// ws.ProtocolError (pre-boxed, so without allocating).
func closeCodeError(code ws.StatusCode) error {
	switch {
	case code < 1000:
		return errStatusNotInUse
	case code <= 1003, code >= 1007 && code <= 1014:
		return nil
	case code == ws.StatusNoMeaningYet:
		return errStatusNoMeaning
	case code == ws.StatusNoStatusRcvd, code == ws.StatusAbnormalClosure, code == ws.StatusTLSHandshake:
		return errStatusAppLevel
	case code >= 3000 && code <= 4999:
		return nil
	default: // 1016–2999, 5000 and above
		return errStatusUnknown
	}
}

// ParseClose parses the payload of a received close frame (RFC 6455
// §5.5.1, §7.1.5, §7.1.6).
//
// An empty payload returns ws.StatusNoStatusRcvd (1005), as §7.1.5 asks, with
// a nil reason. A 1-byte payload returns a ws.ProtocolError; a payload
// over 125 bytes, ws.ErrProtocolControlPayloadOverflow; a code that may not
// be sent (see ValidCloseCode), the matching ws.ErrProtocolStatusCode* value
// together with the code; a reason that is not valid UTF-8, ErrInvalidUTF8
// together with the code. None of these allocate.
//
// The reason aliases p: it is valid only as long as p is (for a payload in a
// connection's read buffer, until the next read).
func ParseClose(p []byte) (code ws.StatusCode, reason []byte, err error) {
	switch {
	case len(p) == 0:
		return ws.StatusNoStatusRcvd, nil, nil
	case len(p) == 1:
		return 0, nil, errProtocolClosePayload
	case len(p) > ws.MaxControlFramePayloadSize:
		return 0, nil, errControlPayloadOverflow
	}
	code = ws.StatusCode(binary.BigEndian.Uint16(p))
	if err := closeCodeError(code); err != nil {
		return code, nil, err
	}
	reason = p[2:]
	if !simdutf8.Valid(reason) {
		return code, nil, ErrInvalidUTF8
	}
	return code, reason, nil
}

// PutClose encodes a close frame payload (RFC 6455 §5.5.1) into b and
// returns its length: the code in network byte order, then reason. b must be
// at least 2+len(reason) bytes long. ws.StatusNoStatusRcvd (1005) means "no
// status" and encodes as an empty payload (0 is returned, reason ignored).
//
// PutClose does not validate: call CheckClose first for values that come
// from the application.
func PutClose(b []byte, code ws.StatusCode, reason string) int {
	if code == ws.StatusNoStatusRcvd {
		return 0
	}
	binary.BigEndian.PutUint16(b, uint16(code))
	return 2 + copy(b[2:2+len(reason)], reason)
}

// CheckClose reports why a close frame with code and reason may not be
// sent by the application (RFC 6455 §5.5, §5.5.1, §7.4), or nil: the code
// must be one ValidCloseCode accepts, or 1005 (ws.StatusNoStatusRcvd),
// which PutClose encodes as a close frame without a code; the reason must
// be at most maxCloseReason bytes of valid UTF-8. The error wraps the
// gobwas/ws ProtocolError that names the rule. It allocates nothing unless
// it fails.
func CheckClose(code ws.StatusCode, reason string) error {
	if code != ws.StatusNoStatusRcvd {
		if err := closeCodeError(code); err != nil {
			return fmt.Errorf("close code %d may not be sent (%w)", code, err)
		}
	}
	if len(reason) > maxCloseReason {
		return fmt.Errorf("close reason is %d bytes, more than %d (%w)", len(reason), maxCloseReason, ws.ErrProtocolControlPayloadOverflow)
	}
	if !validString(reason) {
		return fmt.Errorf("close reason is not valid UTF-8 (%w)", ws.ErrProtocolInvalidUTF8)
	}
	return nil
}
