package proxy

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"

	xproxy "golang.org/x/net/proxy"
)

// socks5Replies are the texts golang.org/x/net/internal/socks gives SOCKS5
// reply codes 1-8 (RFC 1928 §6); its errors carry no code, so the code is
// found from the text.
var socks5Replies = [...]string{
	1: "general SOCKS server failure",
	2: "connection not allowed by ruleset",
	3: "network unreachable",
	4: "host unreachable",
	5: "connection refused",
	6: "TTL expired",
	7: "command not supported",
	8: "address type not supported",
}

// socks5 tunnels through a SOCKS5 proxy with golang.org/x/net/proxy
// (username/password auth from the proxy URL). socks5h sends the host name;
// socks5 resolves it here and tries each address in turn.
func (d *Dialer) socks5(ctx context.Context, target string) (net.Conn, error) {
	var auth *xproxy.Auth
	if u := d.Proxy.User; u != nil {
		pw, _ := u.Password()
		auth = &xproxy.Auth{User: u.Username(), Password: pw}
	}
	sd, err := xproxy.SOCKS5("tcp", d.Proxy.Addr, auth, nil)
	if err != nil {
		return nil, d.fail(ctx, 0, "SOCKS5 setup", err)
	}
	wc, ok := sd.(interface {
		DialWithConn(ctx context.Context, c net.Conn, network, address string) (net.Addr, error)
	})
	if !ok {
		return nil, d.fail(ctx, 0, "SOCKS5 setup", errors.New("golang.org/x/net/proxy lacks DialWithConn"))
	}
	dsts, err := d.resolve(ctx, target, d.Proxy.Scheme == "socks5h", false)
	if err != nil {
		return nil, err
	}
	var last error
	for _, dst := range dsts {
		nc, g, err := d.open(ctx)
		if err != nil {
			return nil, err
		}
		_, err = wc.DialWithConn(ctx, nc, "tcp", dst)
		if err == nil {
			return d.finish(ctx, nc, g)
		}
		drop(nc, g)
		last = d.socks5Error(ctx, dst, err)
		var pe *Error
		if errors.As(last, &pe) && pe.StatusCode == 0 || ctx.Err() != nil {
			break // not about this address: another will not do better
		}
	}
	return nil, last
}

func (d *Dialer) socks5Error(ctx context.Context, dst string, err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		err = oe.Err // drop x/net's "socks connect tcp proxy->dst:" prefix
	}
	if text, ok := strings.CutPrefix(err.Error(), "unknown error "); ok {
		code := 0
		for c, s := range socks5Replies {
			if s != "" && s == text {
				code = c
			}
		}
		if n, ok := strings.CutPrefix(text, "unknown code: "); ok {
			code, _ = strconv.Atoi(n)
		}
		if code != 0 {
			return &Error{Proxy: d.Proxy.Display, StatusCode: code,
				Message: fmt.Sprintf("SOCKS5 CONNECT %s: %s (reply %d)", dst, text, code)}
		}
	}
	return d.fail(ctx, 0, "SOCKS5 CONNECT "+dst, err)
}

// resolve returns the host:port values to ask the proxy for: target itself
// when the proxy resolves names (remote) or the host is an IP address,
// else the host's addresses looked up here (IPv4 only for SOCKS4).
func (d *Dialer) resolve(ctx context.Context, target string, remote, v4only bool) ([]string, error) {
	host, port, err := net.SplitHostPort(target)
	if err != nil {
		return nil, d.fail(ctx, 0, "bad target address", err)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if v4only && !ip.Unmap().Is4() {
			return nil, &Error{Proxy: d.Proxy.Display, Message: "SOCKS4 cannot reach IPv6 address " + host}
		}
		return []string{target}, nil
	}
	if remote {
		return []string{target}, nil
	}
	network, hint := "ip", "socks5h"
	if v4only {
		network, hint = "ip4", "socks4a"
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, network, host)
	if err != nil {
		return nil, d.fail(ctx, 0, fmt.Sprintf("%s resolves names locally (%s lets the proxy do it)", d.Proxy.Scheme, hint), err)
	}
	out := make([]string, 0, len(ips))
	for _, ip := range ips {
		out = append(out, net.JoinHostPort(ip.Unmap().String(), port))
	}
	return out, nil
}

// SOCKS4 reply codes (the CD field).
const (
	socks4Granted  = 90
	socks4Rejected = 91
	socks4NoIdentd = 92
	socks4BadUser  = 93
)

// socks4 tunnels through a SOCKS4 or SOCKS4a proxy. The proxy URL's user
// name is sent as the USERID; SOCKS4 has no passwords. socks4a sends a host
// name for the proxy to resolve; socks4 resolves it here to IPv4 addresses.
func (d *Dialer) socks4(ctx context.Context, target string) (net.Conn, error) {
	remote := d.Proxy.Scheme == "socks4a"
	var user string
	if d.Proxy.User != nil {
		user = d.Proxy.User.Username()
	}
	dsts, err := d.resolve(ctx, target, remote, !remote)
	if err != nil {
		return nil, err
	}
	var last error
	for _, dst := range dsts {
		req, err := socks4Request(dst, user)
		if err != nil {
			return nil, &Error{Proxy: d.Proxy.Display, Message: "SOCKS4 CONNECT " + dst + ": " + err.Error()}
		}
		nc, g, err := d.open(ctx)
		if err != nil {
			return nil, err
		}
		code, err := socks4Exchange(nc, req)
		if err == nil && code == socks4Granted {
			return d.finish(ctx, nc, g)
		}
		drop(nc, g)
		if err != nil {
			return nil, d.fail(ctx, 0, "SOCKS4 CONNECT "+dst, err)
		}
		last = &Error{Proxy: d.Proxy.Display, StatusCode: code,
			Message: fmt.Sprintf("SOCKS4 CONNECT %s: %s (reply %d)", dst, socks4Text(code), code)}
		if code != socks4Rejected {
			break
		}
	}
	return nil, last
}

func socks4Exchange(rw io.ReadWriter, req []byte) (int, error) {
	if _, err := rw.Write(req); err != nil {
		return 0, err
	}
	var b [8]byte
	if _, err := io.ReadFull(rw, b[:]); err != nil {
		return 0, err
	}
	return parseSocks4Reply(b[:])
}

// socks4Request builds a CONNECT request for dst (host:port). An IPv4 host
// goes in DSTIP (SOCKS4); any other host as a name after the USERID with
// DSTIP 0.0.0.1 (SOCKS4a).
func socks4Request(dst, user string) ([]byte, error) {
	host, portStr, err := net.SplitHostPort(dst)
	if err != nil {
		return nil, err
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("bad port %q", portStr)
	}
	if strings.IndexByte(user, 0) >= 0 || strings.IndexByte(host, 0) >= 0 {
		return nil, errors.New("NUL byte in user name or host")
	}
	b := make([]byte, 0, 9+len(user)+len(host)+1)
	b = append(b, 4, 1, byte(port>>8), byte(port))
	ip, err := netip.ParseAddr(host)
	if err == nil && ip.Unmap().Is4() {
		a := ip.Unmap().As4()
		if a[0] == 0 && a[1] == 0 && a[2] == 0 && a[3] != 0 {
			return nil, fmt.Errorf("address %s means SOCKS4a to a proxy", host)
		}
		b = append(b, a[:]...)
		b = append(b, user...)
		return append(b, 0), nil
	}
	if len(host) > 255 {
		return nil, errors.New("host name too long")
	}
	b = append(b, 0, 0, 0, 1)
	b = append(b, user...)
	b = append(b, 0)
	b = append(b, host...)
	return append(b, 0), nil
}

// parseSocks4Reply checks an 8-byte SOCKS4 reply and returns its code
// (90 = granted). The version byte must be 0; 4 is accepted too, as some
// servers send it.
func parseSocks4Reply(b []byte) (int, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("SOCKS4 reply of %d bytes, want 8", len(b))
	}
	if b[0] != 0 && b[0] != 4 {
		return 0, fmt.Errorf("not a SOCKS4 reply (version byte %d)", b[0])
	}
	if b[1] < socks4Granted || b[1] > socks4BadUser {
		return 0, fmt.Errorf("unknown SOCKS4 reply code %d", b[1])
	}
	return int(b[1]), nil
}

func socks4Text(code int) string {
	switch code {
	case socks4Granted:
		return "request granted"
	case socks4Rejected:
		return "request rejected or failed"
	case socks4NoIdentd:
		return "rejected: identd unreachable"
	case socks4BadUser:
		return "rejected: identd user mismatch"
	}
	return "unknown reply"
}
