package wsclient

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsclient/wsclient/internal/testserver"
)

// TestHostileURLSecretsNotInErrors: no error holds any part of a URL's
// password, whatever the scheme and however malformed the URL. A '/', '?'
// or '#' in a password ends the authority early for url.Parse, whose error
// then quotes the rest as a port or host; in ws+unix URLs the userinfo was
// taken as the socket path and printed whole.
func TestHostileURLSecretsNotInErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "none.sock")
	cases := []struct {
		url     string
		secrets []string
	}{
		{"ws://user:PWa/PWb@127.0.0.1:1/", []string{"PWa", "PWb"}},
		{"ws://user:PWa#PWb@127.0.0.1:1/", []string{"PWa", "PWb"}},
		{"wss://user:PWa?PWb@127.0.0.1:1/", []string{"PWa", "PWb"}},
		{"ws://user:PWa%G1PWb@127.0.0.1:1/", []string{"PWa", "%G1", "PWb"}},
		{"ws://user:PWa@127.0.0.1:PWport/", []string{"PWa"}},
		{"ftp://user:PWa/PWb@127.0.0.1/", []string{"PWa", "PWb"}},
		{"ftp://user:PWa@127.0.0.1/", []string{"PWa"}},
		{"ws://user:PWa@/nohost", []string{"PWa"}},
		{"ws+unix://user:PWa@" + missing + ":/chat", []string{"PWa"}},
		{"wss+unix://user:PWa@" + missing, []string{"PWa"}},
		{"ws+unix://user:PWa@" + url.PathEscape(missing) + "/chat", []string{"PWa"}},
		{"ws+unix://user:PWa%G1@" + url.PathEscape(missing) + "/chat", []string{"PWa", "%G1"}},
		{"ws+unix://user:PWa@%G1/chat", []string{"PWa"}},
		{"ws+unix://user:PWa@", []string{"PWa"}},
	}
	for _, c := range cases {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		conn, err := Dial(ctx, c.url, nil)
		cancel()
		if conn != nil {
			conn.Abort()
			t.Errorf("%s: Dial succeeded", c.url)
			continue
		}
		if err == nil {
			t.Errorf("%s: no error", c.url)
			continue
		}
		for _, s := range c.secrets {
			if strings.Contains(err.Error(), s) {
				t.Errorf("%s: error holds %q: %v", c.url, s, err)
			}
		}
	}
}

// TestHostileUnixURLUserinfo: in a ws+unix URL the userinfo is a user name
// and password (sent as Basic Authorization, as for ws://), not part of the
// socket path.
func TestHostileUnixURLUserinfo(t *testing.T) {
	py := testserver.StartPython(t, testserver.PyOptions{Unix: true})
	for _, u := range []string{
		"ws+unix://user:pa55@" + py.Addr + ":/headers",
		"ws+unix://user:pa55@" + url.PathEscape(py.Addr) + "/headers",
	} {
		c := dialPy(t, u, nil)
		_, p, err := c.Recv()
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		var items [][2]string
		if err := json.Unmarshal(p, &items); err != nil {
			t.Fatal(err)
		}
		auth := ""
		for _, kv := range items {
			if strings.EqualFold(kv[0], "Authorization") {
				auth = kv[1]
			}
		}
		if auth != "Basic dXNlcjpwYTU1" {
			t.Errorf("%s: Authorization %q, want Basic user:pa55", u, auth)
		}
		c.Close(StatusNormal, "")
	}
}

// TestHostileRedirectSecretsNotInErrors: a Location holding a password, a
// malformed one included, never shows it in an error.
func TestHostileRedirectSecretsNotInErrors(t *testing.T) {
	locs := []string{
		"ws://a:PWa/PWb@127.0.0.1:1/",
		"ws+unix://a:PWa@/tmp/x.sock",
		"ftp://a:PWa@host/",
	}
	addr := goServer(t, redirector(locs))
	for i, loc := range locs {
		_, err := Dial(context.Background(), "ws://"+addr+"/"+string(rune('0'+i)), &DialOptions{Timeout: 5 * time.Second})
		if err == nil || strings.Contains(err.Error(), "PWa") || strings.Contains(err.Error(), "PWb") {
			t.Errorf("redirect to %s: %v", loc, err)
		}
	}
}

// TestHostileTraceSecrets: the trace shows neither a password in a
// Location header nor token-like query parameters of the request line and
// Location, nor token-like custom headers.
func TestHostileTraceSecrets(t *testing.T) {
	py := testserver.StartPython(t, testserver.PyOptions{})
	var addr string
	addr = goServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Location", "ws://a:PWloc@"+py.Addr+"/echo?access_token=TKloc&room=1")
		w.WriteHeader(http.StatusFound)
	})
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := dialPy(t, "ws://"+addr+"/start?token=TKurl&room=1", &DialOptions{
		Logger: log,
		Header: http.Header{"X-Auth-Token": {"TKhdr"}, "X-Api-Key": {"TKkey"}},
	})
	c.Close(StatusNormal, "")
	out := buf.String()
	for _, secret := range []string{"PWloc", "TKloc", "TKurl", "TKhdr", "TKkey"} {
		if strings.Contains(out, secret) {
			t.Errorf("trace holds %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{"room=1", "302", "GET /start?token="} {
		if !strings.Contains(out, want) {
			t.Errorf("trace lacks %q:\n%s", want, out)
		}
	}
}

func TestSecretName(t *testing.T) {
	for name, want := range map[string]bool{
		"Authorization": true, "Proxy-Authorization": true, "Cookie": true, "Set-Cookie": true,
		"X-Auth-Token": true, "X-Api-Key": true, "access_token": true, "key": true,
		"Proxy-Authenticate": false, "WWW-Authenticate": false, "Sec-WebSocket-Key": false,
		"Origin": false, "room": false,
	} {
		if secretName(name) != want {
			t.Errorf("secretName(%q) = %v", name, !want)
		}
	}
}

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"ws://h/p":                          "ws://h/p",
		"ws://u:pw@h/p":                     "ws://u:xxxxx@h/p",
		"ws://u@h/p":                        "ws://u@h/p",
		"ws://u:a/b@h/p":                    "ws://xxxxx@h/p",
		"ws+unix://u:pw@%2Fs/p":             "ws+unix://xxxxx@%2Fs/p",
		"ws://h/p?token=abc&x=1&Sig=2":      "ws://h/p?token=xxxxx&x=1&Sig=xxxxx",
		"/p?x=1&api_key=k":                  "/p?x=1&api_key=xxxxx",
		"ws://h/p?a":                        "ws://h/p?a",
		"wss://h/p?access%5Ftoken=1#frag":   "wss://h/p?access%5Ftoken=xxxxx#frag",
		"not a url %zz":                     "not a url %zz",
		"ws://h/%zz?password=p":             "ws://h/%zz?password=xxxxx",
		"ws://u:p%zz@h/?password=p#session": "ws://xxxxx@h/?password=xxxxx#session",
	} {
		if got := redactURL(in); got != want {
			t.Errorf("redactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
