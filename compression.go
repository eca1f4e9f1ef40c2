package wsclient

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gobwas/httphead"
	"github.com/gobwas/ws/wsflate"

	"github.com/wsclient/wsclient/engine"
)

// CompressionOptions turns on permessage-deflate (RFC 7692), which
// websocket-client lacks: set in DialOptions.Compression, it is the offer.
// Messages of Threshold bytes or more are compressed; received compressed
// messages are inflated within MaxMessageSize (a "zip bomb" fails with close
// 1009, memory stays bounded). It is engine.Deflate, which documents the
// fields. Dial does not change it: the negotiated parameters go into a new
// engine.Deflate.
type CompressionOptions = engine.Deflate

func validBits(b int) bool { return b >= 8 && b <= 15 }

// deflateOffer validates o and builds the Sec-WebSocket-Extensions offer.
func deflateOffer(o *CompressionOptions) (string, error) {
	if o.ClientMaxWindowBits != 0 && !validBits(o.ClientMaxWindowBits) ||
		o.ServerMaxWindowBits != 0 && !validBits(o.ServerMaxWindowBits) {
		return "", optionError("compression: window bits must be 8..15")
	}
	if o.Level < 0 || o.Level > 9 {
		return "", optionError("compression: level %d is not 1..9", o.Level)
	}
	s := wsflate.ExtensionName
	if o.ClientNoContextTakeover {
		s += "; client_no_context_takeover"
	}
	if o.ServerNoContextTakeover {
		s += "; server_no_context_takeover"
	}
	if o.ClientMaxWindowBits != 0 {
		s += "; client_max_window_bits=" + strconv.Itoa(o.ClientMaxWindowBits)
	} else {
		s += "; client_max_window_bits"
	}
	if o.ServerMaxWindowBits != 0 {
		s += "; server_max_window_bits=" + strconv.Itoa(o.ServerMaxWindowBits)
	}
	return s, nil
}

// acceptDeflate checks the server's permessage-deflate response against our
// offer o (RFC 7692 §5, §7.1) and returns the negotiated parameters for the
// engine, a new value. exts are the accepted extension entries; nil result
// means compression is off.
func acceptDeflate(o *CompressionOptions, exts []string) (*engine.Deflate, error) {
	var found *wsflate.Parameters
	for _, e := range exts {
		opts, ok := httphead.ParseOptions([]byte(e), nil)
		if !ok {
			return nil, fmt.Errorf("%w: malformed Sec-WebSocket-Extensions %q", ErrBadHandshake, e)
		}
		for _, opt := range opts {
			if !strings.EqualFold(string(opt.Name), wsflate.ExtensionName) {
				return nil, fmt.Errorf("%w: server accepted extension %q that was not offered", ErrBadHandshake, opt.Name)
			}
			if found != nil {
				return nil, fmt.Errorf("%w: permessage-deflate accepted twice", ErrBadHandshake)
			}
			var p wsflate.Parameters
			if err := p.Parse(opt); err != nil {
				return nil, fmt.Errorf("%w: permessage-deflate: %v", ErrBadHandshake, err)
			}
			found = &p
		}
	}
	if found == nil {
		return nil, nil
	}
	p := found
	if o.ServerNoContextTakeover && !p.ServerNoContextTakeover {
		return nil, fmt.Errorf("%w: permessage-deflate: server_no_context_takeover was requested but not accepted", ErrBadHandshake)
	}
	if b := int(p.ServerMaxWindowBits); p.ServerMaxWindowBits.Defined() && o.ServerMaxWindowBits != 0 && b > o.ServerMaxWindowBits {
		return nil, fmt.Errorf("%w: permessage-deflate: server_max_window_bits=%d exceeds the requested %d", ErrBadHandshake, b, o.ServerMaxWindowBits)
	}
	d := &engine.Deflate{
		Level:                   o.Level,
		Threshold:               o.Threshold,
		ClientNoContextTakeover: o.ClientNoContextTakeover || p.ClientNoContextTakeover,
		ServerNoContextTakeover: p.ServerNoContextTakeover,
		ClientMaxWindowBits:     o.ClientMaxWindowBits,
	}
	// wsflate reports a bare client_max_window_bits as 1.
	if b := int(p.ClientMaxWindowBits); p.ClientMaxWindowBits.Defined() && b != 1 {
		if o.ClientMaxWindowBits != 0 && b > o.ClientMaxWindowBits {
			return nil, fmt.Errorf("%w: permessage-deflate: client_max_window_bits=%d exceeds the offered %d", ErrBadHandshake, b, o.ClientMaxWindowBits)
		}
		d.ClientMaxWindowBits = b
	} else if p.ClientMaxWindowBits == 1 {
		return nil, fmt.Errorf("%w: permessage-deflate: client_max_window_bits without a value in the response", ErrBadHandshake)
	}
	return d, nil
}
