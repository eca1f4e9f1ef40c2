package proxy

import (
	"crypto/md5"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
)

// challenge is one WWW-Authenticate / Proxy-Authenticate challenge.
type challenge struct {
	scheme string            // lower case
	params map[string]string // keys lower case, values unquoted
}

// parseChallenges splits a Proxy-Authenticate value (RFC 9110 §11.6.1),
// which may hold several challenges: `Basic realm="a", Digest realm="b",
// nonce="n", qop="auth,auth-int"`. It is lenient and never fails; junk
// yields fewer or emptier challenges.
func parseChallenges(s string) []challenge {
	var out []challenge
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			return out
		}
		tok := token(s)
		if tok == "" { // not a token: skip a character
			s = s[1:]
			continue
		}
		s = s[len(tok):]
		rest := strings.TrimLeft(s, " \t")
		if strings.HasPrefix(rest, "=") && len(out) > 0 {
			// auth-param of the current challenge
			s = strings.TrimLeft(rest[1:], " \t")
			var val string
			val, s = paramValue(s)
			out[len(out)-1].params[strings.ToLower(tok)] = val
			continue
		}
		out = append(out, challenge{scheme: strings.ToLower(tok), params: map[string]string{}})
		// token68 (e.g. Negotiate data) or the first auth-param follows
		if t68 := token68(rest); t68 != "" {
			s = rest[len(t68):]
		}
	}
}

func token(s string) string {
	i := 0
	for i < len(s) && isTokenChar(s[i]) {
		i++
	}
	return s[:i]
}

func isTokenChar(c byte) bool {
	return c > 0x20 && c < 0x7f && !strings.ContainsRune(`()<>@,;:\"/[]?={}`, rune(c))
}

// token68 matches a token68 including its trailing '='s.
func token68(s string) string {
	i := 0
	for i < len(s) && (isAlnum(s[i]) || strings.IndexByte("-._~+/", s[i]) >= 0) {
		i++
	}
	if i == 0 {
		return ""
	}
	for i < len(s) && s[i] == '=' {
		i++
	}
	if i < len(s) && s[i] != ',' && s[i] != ' ' && s[i] != '\t' {
		return ""
	}
	return s[:i]
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// paramValue reads a token or quoted-string and returns it and the rest.
func paramValue(s string) (string, string) {
	if !strings.HasPrefix(s, `"`) {
		v := token(s)
		return v, s[len(v):]
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			if i+1 < len(s) {
				i++
				b.WriteByte(s[i])
			}
		case '"':
			return b.String(), s[i+1:]
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), "" // unterminated: take the rest
}

// digestChallenge is a Digest challenge (RFC 7616) we can answer.
type digestChallenge struct {
	realm, nonce, opaque, algorithm string
	qop                             string // "auth" or "" (RFC 2069 mode)
	stale                           bool
}

// findDigest returns the first answerable Digest challenge.
func findDigest(values []string) *digestChallenge {
	for _, v := range values {
		for _, c := range parseChallenges(v) {
			if c.scheme != "digest" || c.params["nonce"] == "" {
				continue
			}
			d := &digestChallenge{
				realm:     c.params["realm"],
				nonce:     c.params["nonce"],
				opaque:    c.params["opaque"],
				algorithm: c.params["algorithm"],
				stale:     strings.EqualFold(c.params["stale"], "true"),
			}
			if q, ok := c.params["qop"]; ok {
				for _, o := range strings.Split(q, ",") {
					if strings.EqualFold(strings.TrimSpace(o), "auth") {
						d.qop = "auth"
					}
				}
				if d.qop == "" {
					continue // only auth-int offered
				}
			}
			if digestHash(d.algorithm) == nil {
				continue
			}
			return d
		}
	}
	return nil
}

func digestHash(algorithm string) func() hash.Hash {
	switch strings.TrimSuffix(strings.ToUpper(algorithm), "-SESS") {
	case "", "MD5":
		return md5.New
	case "SHA-256":
		return sha256.New
	}
	return nil
}

func newCnonce() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// authorize computes the Proxy-Authorization value for method and uri
// (RFC 7616 §3.4, nc = 1).
func (d *digestChallenge) authorize(user, pass, method, uri, cnonce string) (string, error) {
	newHash := digestHash(d.algorithm)
	if newHash == nil {
		return "", fmt.Errorf("unsupported digest algorithm %q", d.algorithm)
	}
	h := func(s string) string {
		x := newHash()
		x.Write([]byte(s))
		return hex.EncodeToString(x.Sum(nil))
	}
	const nc = "00000001"
	ha1 := h(user + ":" + d.realm + ":" + pass)
	if strings.HasSuffix(strings.ToUpper(d.algorithm), "-SESS") {
		ha1 = h(ha1 + ":" + d.nonce + ":" + cnonce)
	}
	ha2 := h(method + ":" + uri)
	var resp string
	if d.qop == "auth" {
		resp = h(ha1 + ":" + d.nonce + ":" + nc + ":" + cnonce + ":auth:" + ha2)
	} else {
		resp = h(ha1 + ":" + d.nonce + ":" + ha2)
	}
	var b strings.Builder
	b.WriteString("Digest username=" + quote(user) + ", realm=" + quote(d.realm) +
		", nonce=" + quote(d.nonce) + ", uri=" + quote(uri))
	if d.algorithm != "" {
		b.WriteString(", algorithm=" + d.algorithm)
	}
	b.WriteString(", response=" + quote(resp))
	if d.qop != "" {
		b.WriteString(", qop=auth, nc=" + nc + ", cnonce=" + quote(cnonce))
	}
	if d.opaque != "" {
		b.WriteString(", opaque=" + quote(d.opaque))
	}
	return b.String(), nil
}

// quote makes a quoted-string; CR and LF are dropped.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\r', '\n':
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
