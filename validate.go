package wsclient

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// Validation errors: Dial checks its URL and options before any I/O.
var (
	// ErrInvalidURL is wrapped by every error about the URL given to Dial
	// (App.URL): its scheme, host, port, escapes, query, user name and
	// password, or Unix socket path.
	ErrInvalidURL = errors.New("wsclient: invalid URL")
	// ErrInvalidOption is wrapped by every error about DialOptions: a
	// subprotocol that is not a token, a header name or value that cannot
	// be sent, CompressionOptions or HTTP2 out of range, a proxy URL (from Proxy or
	// the environment) that cannot be used, a WEBSOCKET_CLIENT_CA_BUNDLE
	// without certificates. Errors name the option, never its value.
	ErrInvalidOption = errors.New("wsclient: invalid option")
)

func optionError(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidOption, fmt.Sprintf(format, a...))
}

// singleValued are generated request fields that Header may replace with
// exactly one value (codec.Request.Header).
var singleValued = [...]string{"Upgrade", "Connection", "Sec-WebSocket-Key", "Sec-WebSocket-Version"}

// check validates the options that need no I/O.
func (o *DialOptions) check() error {
	if err := checkHeader("Header", o.Header); err != nil {
		return err
	}
	for name, vals := range o.Header {
		for _, s := range singleValued {
			if strings.EqualFold(name, s) && len(vals) != 1 {
				return optionError("Header %s must have exactly one value", s)
			}
		}
	}
	if err := checkHeader("ProxyHeader", o.ProxyHeader); err != nil {
		return err
	}
	for _, f := range [...]struct{ name, value string }{{"Host", o.Host}, {"Origin", o.Origin}, {"Cookie", o.Cookie}} {
		if !httpguts.ValidHeaderFieldValue(f.value) {
			return optionError("%s holds a control character", f.name)
		}
	}
	for i, p := range o.Subprotocols {
		if !httpguts.ValidHeaderFieldName(p) { // a token (RFC 6455 §4.1)
			return optionError("Subprotocols[%d] is not a token", i) // its value may be a credential
		}
	}
	for i, p := range headerProtocols(o.Header) {
		if !httpguts.ValidHeaderFieldName(p) {
			return optionError("Sec-WebSocket-Protocol in Header: entry %d is not a token", i)
		}
	}
	if o.Compression != nil {
		if _, err := deflateOffer(o.Compression); err != nil {
			return err
		}
	}
	if o.HTTP2 < HTTP2Off || o.HTTP2 > HTTP2Only {
		return optionError("HTTP2 is %v, not HTTP2Off, HTTP2Auto or HTTP2Only", o.HTTP2)
	}
	return nil
}

// checkHeader refuses header names that are not tokens and values holding
// control characters other than tab (which could inject header lines).
func checkHeader(option string, h http.Header) error {
	for name, vals := range h {
		if !httpguts.ValidHeaderFieldName(name) {
			return optionError("invalid %s name %q", option, name)
		}
		for _, v := range vals {
			if !httpguts.ValidHeaderFieldValue(v) {
				return optionError("invalid %s value for %s", option, http.CanonicalHeaderKey(name))
			}
		}
	}
	return nil
}

// headerProtocols returns the comma-separated entries of the
// Sec-WebSocket-Protocol fields in h (any spelling of the name), trimmed,
// empty ones skipped.
func headerProtocols(h http.Header) []string {
	var out []string
	for name, vals := range h {
		if !strings.EqualFold(name, "Sec-WebSocket-Protocol") {
			continue
		}
		for _, v := range vals {
			for p := range strings.SplitSeq(v, ",") {
				if p = strings.Trim(p, " \t"); p != "" {
					out = append(out, p)
				}
			}
		}
	}
	return out
}

// subprotocols is the offer: Subprotocols, then the entries of a
// Sec-WebSocket-Protocol given in Header (websocket-client's
// header={"Sec-WebSocket-Protocol": "chat"} idiom), each once (compared
// case-insensitively, the first spelling kept).
func (o *DialOptions) subprotocols() []string {
	extra := headerProtocols(o.Header)
	if len(extra) == 0 {
		return o.Subprotocols
	}
	out := make([]string, 0, len(o.Subprotocols)+len(extra))
	for _, p := range append(o.Subprotocols[:len(o.Subprotocols):len(o.Subprotocols)], extra...) {
		if !slices.ContainsFunc(out, func(q string) bool { return strings.EqualFold(p, q) }) {
			out = append(out, p)
		}
	}
	return out
}
