package main

import (
	"strings"
	"testing"

	"github.com/wsclient/wsclient/internal/wsserver"
)

// TestProxy runs wsdump through the embedded CONNECT proxy.
func TestProxy(t *testing.T) {
	url := server(t, wsserver.Options{})
	p, err := wsserver.StartProxy("user", "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	withAuth := strings.Replace(p.URL(), "://", "://user:s3cret@", 1)

	dump(t, "via proxy\n", "-p", withAuth, url).want(t, 0, "< via proxy\n")
	dump(t, "short form\n", "--proxy="+strings.TrimPrefix(withAuth, "http://"), url).want(t, 0, "< short form\n")
	if p.Tunnels() != 2 {
		t.Fatalf("Tunnels = %d, want 2", p.Tunnels())
	}

	wrong := strings.Replace(withAuth, "s3cret", "wrong-pw", 1)
	for _, proxy := range []string{p.URL(), wrong} {
		r := dump(t, "", "-p", proxy, url)
		if r.code != 1 || !strings.Contains(r.stderr, "407") || strings.Count(r.stderr, "\n") != 1 ||
			strings.Contains(r.stderr, "wrong-pw") || strings.Contains(r.stderr, "s3cret") {
			t.Fatalf("-p %s: %+v", proxy, r)
		}
	}
	r := dump(t, "", "-p", "ftp://proxy:21", url)
	if r.code != 1 || !strings.Contains(r.stderr, "unsupported scheme") {
		t.Fatalf("%+v", r)
	}
}
