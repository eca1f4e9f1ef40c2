package proxy

import (
	"net"
	"net/netip"
	"strings"
)

// MatchNoProxy reports whether host (no brackets) and port match one of
// entries, in NO_PROXY syntax (golang.org/x/net/http/httpproxy): "*", IP
// addresses and CIDR blocks, "name" (itself and subdomains), ".name" or
// "*.name" (subdomains only), each with an optional ":port". An entry may
// hold several comma-separated ones. Unlike httpproxy, loopback is not
// special. Matching is case-insensitive.
func MatchNoProxy(entries []string, host, port string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	ip, ipErr := netip.ParseAddr(host)
	for _, e := range entries {
		for _, ent := range strings.Split(e, ",") {
			ent = strings.ToLower(strings.TrimSpace(ent))
			if ent == "" {
				continue
			}
			if ent == "*" {
				return true
			}
			if pfx, err := netip.ParsePrefix(ent); err == nil {
				if ipErr == nil && pfx.Contains(ip.Unmap()) {
					return true
				}
				continue
			}
			ehost, eport := ent, ""
			if h, p, err := net.SplitHostPort(ent); err == nil {
				ehost, eport = h, p
			} else if strings.HasPrefix(ent, "[") && strings.HasSuffix(ent, "]") {
				ehost = ent[1 : len(ent)-1]
			}
			if eport != "" && eport != port {
				continue
			}
			if eip, err := netip.ParseAddr(ehost); err == nil {
				if ipErr == nil && eip.Unmap() == ip.Unmap() {
					return true
				}
				continue
			}
			ehost = strings.TrimSuffix(strings.TrimPrefix(ehost, "*"), ".")
			if ehost == "" || ehost == "." {
				continue
			}
			if strings.HasPrefix(ehost, ".") {
				if strings.HasSuffix(host, ehost) {
					return true
				}
			} else if host == ehost || strings.HasSuffix(host, "."+ehost) {
				return true
			}
		}
	}
	return false
}
