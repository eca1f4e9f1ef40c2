package main

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/wsclient/wsclient"
)

// setProxy applies -p/--proxy: the original's http_proxy_host and
// http_proxy_port, plus credentials (user:pass@) and the proxy type as the
// URL's scheme. "host:port" alone means an HTTP proxy.
func setProxy(o *wsclient.DialOptions, raw string) error {
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return fmt.Errorf("invalid proxy URL %q", redactURL(raw))
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "socks4", "socks4a", "socks5", "socks5h":
	default:
		return fmt.Errorf("invalid proxy URL %q: unsupported scheme %q (want http, https, socks4, socks4a, socks5 or socks5h)", u.Redacted(), u.Scheme)
	}
	o.Proxy = wsclient.ProxyURL(u)
	return nil
}
