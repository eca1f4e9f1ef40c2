package codec

import (
	"net/http"
	"strconv"
)

// CheckConnectResponse validates the server's answer to a WebSocket opening
// handshake over HTTP/2 (RFC 8441 §5), given as resp with StatusCode and
// Header filled in (keys canonical, as net/http and golang.org/x/net/http2
// give them). There is no Upgrade, Connection or Sec-WebSocket-Accept: the
// :protocol pseudo-header replaced them.
//
// A status other than 200 returns a *HandshakeError (without Body: the
// caller reads it from the stream). Otherwise the subprotocol and extensions
// are checked as ReadResponse checks them, and Subprotocol and Extensions
// are filled in.
func CheckConnectResponse(resp *Response, protocols, offeredExt []string) error {
	if resp.Status == "" {
		resp.Status = strconv.Itoa(resp.StatusCode)
		if text := http.StatusText(resp.StatusCode); text != "" {
			resp.Status += " " + text
		}
	}
	if resp.StatusCode != http.StatusOK {
		return &HandshakeError{StatusCode: resp.StatusCode, Status: resp.Status, Header: resp.Header}
	}
	return checkNegotiated(resp, protocols, offeredExt)
}
