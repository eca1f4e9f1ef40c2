package wsclient

import (
	"net/http"
	"net/url"
	"strings"
)

// Redaction. No error, log line or trace the package builds holds a
// password, a token or a cookie value: URLs are shown through redactURL and
// header lines through redactHeaderLine.

const redacted = "xxxxx"

// secretWords mark a header or query parameter name whose value is a
// credential (matched case-insensitively as substrings).
var secretWords = [...]string{
	"auth", "token", "secret", "passw", "cookie", "session", "credential",
	"apikey", "api-key", "api_key", "signature", "jwt", "bearer",
}

// secretName reports whether a header or query parameter named name holds
// a credential: Authorization, Cookie, X-Auth-Token, X-Api-Key,
// access_token, key, sig, ...
func secretName(name string) bool {
	n := strings.ToLower(name)
	switch n {
	case "key", "sig", "pw", "pwd", "pass", "code":
		return true
	case "www-authenticate", "proxy-authenticate": // challenges, shown
		return false
	}
	for _, w := range secretWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// redactURL returns s (a URL or a request target) fit for an error or a
// trace: the userinfo's password and the values of query and fragment
// parameters with secret-looking names are replaced by "xxxxx". s need not
// parse: a password holding '/', '?' or '#' ends the authority early, so
// when url.Parse fails everything between "://" and the last '@' is hidden.
func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil {
		_, hasPW := u.User.Password()
		frag := u.EscapedFragment()
		query, rfrag := redactParams(u.RawQuery), redactParams(frag)
		if !hasPW && query == u.RawQuery && rfrag == frag {
			return s // nothing to hide: show it as written
		}
		if hasPW {
			u.User = url.UserPassword(u.User.Username(), redacted)
		}
		u.Fragment, u.RawFragment = "", ""
		u.RawQuery = query
		out := u.String()
		if frag != "" {
			out += "#" + rfrag
		}
		return out
	}
	head, rest := "", s
	if scheme, after, ok := strings.Cut(s, "://"); ok {
		head, rest = scheme+"://", after
		if i := strings.LastIndexByte(rest, '@'); i >= 0 {
			head, rest = head+redacted, rest[i:]
		}
	}
	rest, frag, hasFrag := strings.Cut(rest, "#")
	path, query, hasQuery := strings.Cut(rest, "?")
	out := head + path
	if hasQuery {
		out += "?" + redactParams(query)
	}
	if hasFrag {
		out += "#" + redactParams(frag)
	}
	return out
}

// redactParams hides the values of secret-looking parameters of a raw
// query ("a=1&token=x"), keeping their order and spelling.
func redactParams(q string) string {
	if q == "" {
		return q
	}
	parts := strings.Split(q, "&")
	for i, p := range parts {
		k, _, ok := strings.Cut(p, "=")
		if !ok {
			continue
		}
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		if secretName(name) {
			parts[i] = k + "=" + redacted
		}
	}
	return strings.Join(parts, "&")
}

// urlHeaders hold URLs, shown through redactURL.
var urlHeaders = map[string]bool{"Location": true, "Content-Location": true, "Referer": true, "Origin": true}

// redactHeaderLine redacts a "Name: value" line (or an HTTP request line).
func redactHeaderLine(line string) string {
	if method, rest, ok := strings.Cut(line, " "); ok && method == "GET" {
		target, proto, _ := strings.Cut(rest, " ")
		return method + " " + redactURL(target) + " " + proto
	}
	if target, ok := strings.CutPrefix(line, ":path: "); ok { // HTTP/2's request target
		return ":path: " + redactURL(target)
	}
	name, value, ok := strings.Cut(line, ":")
	if !ok {
		return line
	}
	key := http.CanonicalHeaderKey(strings.TrimSpace(name))
	switch {
	case secretName(key):
		return name + ": [redacted]"
	case urlHeaders[key]:
		return name + ": " + redactURL(strings.TrimSpace(value))
	}
	return line
}
