// Package xconnect turns on extended CONNECT (RFC 8441) in Go's HTTP/2
// servers, net/http's and golang.org/x/net/http2's, for the process that
// imports it. Both read GODEBUG=http2xconnect=1 from the environment in
// their init functions and advertise SETTINGS_ENABLE_CONNECT_PROTOCOL only
// then. A //go:debug directive cannot set it: http2xconnect is not a
// registered setting ("unknown //go:debug setting").
//
// Import it for its side effect. Packages are initialized in import path
// order among those whose imports are ready (Go spec, "Package
// initialization", Go 1.21+); this package imports only os and strings, so
// it is ready before net/http and golang.org/x/net/http2 and its import path
// ("github.com/...") sorts before theirs: its init runs first. A GODEBUG
// that already names http2xconnect is left as it is, so
// GODEBUG=http2xconnect=0 still turns the feature off.
package xconnect

import (
	"os"
	"strings"
)

func init() {
	v := os.Getenv("GODEBUG")
	if strings.Contains(v, "http2xconnect=") {
		return
	}
	if v != "" {
		v += ","
	}
	os.Setenv("GODEBUG", v+"http2xconnect=1")
}
