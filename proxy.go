package wsclient

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"

	"golang.org/x/net/http/httpproxy"

	"github.com/wsclient/wsclient/internal/proxy"
)

// Proxies
//
// A proxy is chosen per target here: DialOptions.Proxy
// (ProxyFromEnvironment when nil), NoProxy and ProxyBypass. The tunnel is
// opened by internal/proxy (http and https CONNECT, socks4, socks4a,
// socks5, socks5h), which reaches the proxy with Dial's own netDial.

// ProxyURL returns a DialOptions.Proxy function that always returns u, like
// http.ProxyURL. This is websocket-client's http_proxy_host,
// http_proxy_port, http_proxy_auth (as user:password in u) and proxy_type
// (as u's scheme) in one value:
//
//	opts.Proxy = wsclient.ProxyURL(&url.URL{Scheme: "socks5h", Host: "proxy:1080",
//		User: url.UserPassword("user", "pass")})
func ProxyURL(u *url.URL) func(target *url.URL) (*url.URL, error) {
	return func(*url.URL) (*url.URL, error) { return u, nil }
}

// ProxyFromEnvironment is the default DialOptions.Proxy. It reads
// HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY (and their lower-case
// forms, which win when both are set) on every call, with the rules of
// golang.org/x/net/http/httpproxy: ws:// targets use HTTP_PROXY, wss://
// targets HTTPS_PROXY, and either falls back to ALL_PROXY when its own
// variable is empty (curl's rule). A value without a scheme means http://;
// an unparsable value is ignored. NO_PROXY holds comma-separated host names
// (with their subdomains), ".domains" (subdomains only), IP addresses,
// CIDR blocks, each with an optional ":port", or "*".
//
// Like net/http and websocket-client, it never proxies localhost or
// loopback addresses: to send such traffic through a proxy, set Proxy
// explicitly (e.g. with ProxyURL). When REQUEST_METHOD is set (CGI),
// HTTP_PROXY is ignored, as it may come from a request header.
func ProxyFromEnvironment(target *url.URL) (*url.URL, error) {
	cfg := httpproxy.FromEnvironment()
	if cfg.CGI { // HTTP_PROXY may come from a request's Proxy header
		cfg.HTTPProxy, cfg.CGI = "", false
	}
	if all := getenvAny("all_proxy", "ALL_PROXY"); all != "" {
		if cfg.HTTPProxy == "" {
			cfg.HTTPProxy = all
		}
		if cfg.HTTPSProxy == "" {
			cfg.HTTPSProxy = all
		}
	}
	if cfg.HTTPProxy == "" && cfg.HTTPSProxy == "" {
		return nil, nil
	}
	u := *target
	switch strings.ToLower(u.Scheme) {
	case "ws", "http":
		u.Scheme = "http"
	case "wss", "https":
		u.Scheme = "https"
	default: // ws+unix and the like never use a proxy
		return nil, nil
	}
	pu, err := cfg.ProxyFunc()(&u)
	if err != nil {
		// Not expected (httpproxy ignores unparsable values), but its
		// errors quote the variable's value, password included.
		return nil, optionError("invalid proxy URL in HTTP_PROXY, HTTPS_PROXY or ALL_PROXY")
	}
	return pu, nil
}

func getenvAny(names ...string) string {
	for _, n := range names {
		if v := os.Getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// ProxyError is returned when a proxy could not be reached or refused the
// tunnel: 407 (authentication required or wrong), 403, 502 and other
// replies to CONNECT, SOCKS refusals and authentication failures, and
// network errors and timeouts on the way to the proxy (in Err, so
// errors.Is(err, context.DeadlineExceeded) and errors.As(err, *net.OpError)
// work). It never holds credentials. Its fields:
//
//   - Proxy is the proxy's URL without credentials, e.g.
//     "http://127.0.0.1:3128".
//   - StatusCode is the HTTP status of the CONNECT reply (e.g. 407) or the
//     SOCKS reply code (SOCKS5: 1-8, e.g. 5 = connection refused; SOCKS4:
//     91-93); 0 when the proxy did not answer with one.
//   - Message says what failed, e.g. "CONNECT example.com:443: 407 Proxy
//     Authentication Required".
//   - Err is the underlying error, if any; Unwrap returns it.
type ProxyError = proxy.Error

// proxyFor chooses the route to t: the proxy to tunnel through, or nil for
// a direct connection.
func proxyFor(t *target, opts *DialOptions) (*proxy.Proxy, error) {
	if opts.NoProxy || t.unix != "" {
		return nil, nil
	}
	host, port, _ := net.SplitHostPort(t.addr)
	if len(opts.ProxyBypass) > 0 && proxy.MatchNoProxy(opts.ProxyBypass, host, port) {
		return nil, nil
	}
	choose := opts.Proxy
	if choose == nil {
		choose = ProxyFromEnvironment
	}
	u := *t.u
	pu, err := choose(&u)
	if err != nil {
		return nil, errorf("choosing a proxy: %w", err)
	}
	if pu == nil {
		return nil, nil
	}
	p, err := proxy.Parse(pu)
	if err != nil {
		return nil, fmt.Errorf("%w: proxy: %w", ErrInvalidOption, err)
	}
	return p, nil
}

// viaProxy opens a tunnel to t through p, reaching the proxy with
// netDial. For wss the caller runs TLS to the target inside it.
func (d *dialer) viaProxy(ctx context.Context, p *proxy.Proxy, t *target) (net.Conn, error) {
	pd := &proxy.Dialer{
		Proxy:     p,
		Dial:      d.netDial,
		Header:    d.opts.ProxyHeader,
		TLSConfig: d.opts.ProxyTLSConfig,
		Timeout:   d.opts.ProxyTimeout,
	}
	if log := d.log; log != nil {
		log.LogAttrs(ctx, slog.LevelDebug, "--- proxy ---", slog.String("proxy", p.Display), slog.String("target", t.addr))
		pd.TraceRequest = func(raw []byte) { traceRequest(log, raw) }
		pd.TraceResponse = func(status string, h http.Header) { traceResponse(log, status, h) }
	}
	return pd.DialContext(ctx, t.addr)
}
