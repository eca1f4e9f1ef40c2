package wsclient

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/wsclient/wsclient/internal/testserver"
)

// Tests against real proxies (squid, microsocks, dante, OpenSSH) started on
// loopback with configs generated in temp dirs. Proxies are passed
// explicitly: the environment default never proxies loopback.

// freeAddr returns a loopback address with a port that was free a moment
// ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// requireBin skips (or fails in CI) when a program is missing.
func requireBin(t *testing.T, pkg string, paths ...string) {
	t.Helper()
	for _, p := range paths {
		_, err := exec.LookPath(p)
		testserver.Require(t, fmt.Sprintf("%s (Debian package %s)", p, pkg), err == nil)
	}
}

// startProc runs a server in its own process group, output to logFile. It
// is killed with its children (squid's auth helpers) when the test ends.
func startProc(t *testing.T, logFile, name string, args ...string) {
	t.Helper()
	f, err := os.Create(logFile)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
		f.Close()
	})
}

// waitListen waits until addr accepts connections.
func waitListen(t *testing.T, addr, logFile string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logFile)
			t.Fatalf("nothing listens on %s after 10 s; log:\n%s", addr, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitLog waits until file contains all of want (servers write log lines
// when a tunnel ends).
func waitLog(t *testing.T, file string, want ...string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		b, _ := os.ReadFile(file)
		missing := ""
		for _, w := range want {
			if !strings.Contains(string(b), w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s lacks %q:\n%s", filepath.Base(file), missing, b)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// run runs a helper command and fails the test on error.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// proxyEcho dials url with opts and checks an echo through the connection.
func proxyEcho(t *testing.T, url string, opts *DialOptions) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, url, opts)
	if err != nil {
		t.Fatalf("Dial %s: %v", url, err)
	}
	defer c.Abort()
	msg := "through the proxy to " + url
	if err := c.SendText(msg); err != nil {
		t.Fatalf("send: %v", err)
	}
	op, p, err := c.Recv()
	if err != nil || op != OpText || string(p) != msg {
		t.Fatalf("echo: %v %q %v", op, p, err)
	}
	if err := c.Close(StatusNormal, ""); err != nil {
		t.Errorf("close: %v", err)
	}
}

// dialErr dials url with opts and returns the error, which must be a
// *ProxyError without secrets.
func dialProxyErr(t *testing.T, url string, opts *DialOptions, secrets ...string) *ProxyError {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, url, opts)
	if err == nil {
		c.Abort()
		t.Fatalf("Dial %s through a proxy succeeded, want an error", url)
	}
	var pe *ProxyError
	if !errors.As(err, &pe) {
		t.Fatalf("Dial %s: %T %v, want *ProxyError", url, err, err)
	}
	for _, s := range secrets {
		if strings.Contains(err.Error(), s) || strings.Contains(pe.Proxy, s) {
			t.Errorf("error leaks %q: %v", s, err)
		}
	}
	return pe
}

func proxyOpt(raw string) *DialOptions {
	u, err := url.Parse(raw)
	if err != nil {
		panic(err)
	}
	return &DialOptions{Proxy: ProxyURL(u)}
}

type squid struct {
	addr, httpsAddr string // http_port and https_port
	accessLog       string
}

// startSquid runs squid 5 with Basic ("basic": alice/secret) or Digest
// ("digest": carol/pa55) auth, CONNECT allowed to loopback only, an
// http_port and an https_port with certs (see ../shared/INFRA.md).
func startSquid(t *testing.T, auth string, certs *testserver.Certs) *squid {
	t.Helper()
	requireBin(t, "squid", "/usr/sbin/squid")
	requireBin(t, "openssl", "openssl")
	testserver.Require(t, "root (squid runs as user proxy)", os.Geteuid() == 0)
	pu, err := user.Lookup("proxy")
	testserver.Require(t, "user proxy (created by Debian's squid package)", err == nil)
	uid, _ := strconv.Atoi(pu.Uid)
	gid, _ := strconv.Atoi(pu.Gid)
	dir := t.TempDir()
	// squid drops to user proxy: it must reach and write the temp dir.
	os.Chmod(filepath.Dir(dir), 0o755)
	s := &squid{addr: freeAddr(t), httpsAddr: freeAddr(t), accessLog: filepath.Join(dir, "access.log")}
	var authConf string
	switch auth {
	case "basic":
		hash := strings.TrimSpace(run(t, "openssl", "passwd", "-apr1", "secret"))
		os.WriteFile(filepath.Join(dir, "passwd"), []byte("alice:"+hash+"\n"), 0o644)
		authConf = "auth_param basic program /usr/lib/squid/basic_ncsa_auth " + dir + "/passwd\n" +
			"auth_param basic realm wsclient\n"
		requireBin(t, "squid", "/usr/lib/squid/basic_ncsa_auth")
	case "digest":
		os.WriteFile(filepath.Join(dir, "digest_passwd"), []byte("carol:pa55\n"), 0o644)
		authConf = "auth_param digest program /usr/lib/squid/digest_file_auth " + dir + "/digest_passwd\n" +
			"auth_param digest realm wsclient\n"
		requireBin(t, "squid", "/usr/lib/squid/digest_file_auth")
	}
	os.WriteFile(filepath.Join(dir, "cert.pem"), mustRead(t, certs.CertFile), 0o644)
	os.WriteFile(filepath.Join(dir, "key.pem"), mustRead(t, certs.KeyFile), 0o644)
	conf := fmt.Sprintf(`http_port %s
https_port %s tls-cert=%s/cert.pem tls-key=%s/key.pem
pid_filename %s/squid.pid
cache_log %s/cache.log
access_log stdio:%s
coredump_dir %s
visible_hostname wsclient-test
cache deny all
pinger_enable off
shutdown_lifetime 0
%sacl authed proxy_auth REQUIRED
acl CONNECT method CONNECT
acl loopback dst 127.0.0.1 ::1
http_access deny !authed
http_access allow CONNECT loopback
http_access deny all
`, s.addr, s.httpsAddr, dir, dir, dir, dir, s.accessLog, dir, authConf)
	confFile := filepath.Join(dir, "squid.conf")
	os.WriteFile(confFile, []byte(conf), 0o644)
	filepath.WalkDir(dir, func(p string, _ os.DirEntry, _ error) error { return os.Chown(p, uid, gid) })
	run(t, "/usr/sbin/squid", "-k", "parse", "-f", confFile)
	// -N: one foreground process; -n: a service name of its own so that
	// several squids do not share state.
	name := "wsclient" + strings.ReplaceAll(strings.TrimPrefix(s.addr, "127.0.0.1:"), ":", "")
	startProc(t, filepath.Join(dir, "stderr.log"), "/usr/sbin/squid", "-N", "-n", name, "-f", confFile)
	waitListen(t, s.addr, filepath.Join(dir, "cache.log"))
	waitListen(t, s.httpsAddr, filepath.Join(dir, "cache.log"))
	return s
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestProxySquidBasic(t *testing.T) {
	t.Parallel()
	certs := testserver.NewCerts(t)
	sq := startSquid(t, "basic", certs)
	py := testserver.StartPython(t, testserver.PyOptions{})
	pyTLS := testserver.StartPython(t, testserver.PyOptions{CertFile: certs.CertFile, KeyFile: certs.KeyFile})
	_, tlsPort, _ := net.SplitHostPort(pyTLS.Addr)
	good := "http://alice:secret@" + sq.addr

	t.Run("ws", func(t *testing.T) {
		proxyEcho(t, "ws://"+py.Addr+"/echo", proxyOpt(good))
	})
	t.Run("wss", func(t *testing.T) {
		// TLS to the target through the tunnel: the certificate is checked
		// for the target's name (SNI = localhost), not the proxy's.
		opts := proxyOpt(good)
		opts.TLSConfig = &tls.Config{RootCAs: certs.Pool}
		proxyEcho(t, "wss://localhost:"+tlsPort+"/echo", opts)
	})
	t.Run("https-proxy", func(t *testing.T) {
		// TLS to the proxy, then CONNECT, then TLS to the target inside.
		opts := proxyOpt("https://alice:secret@" + sq.httpsAddr)
		opts.ProxyTLSConfig = &tls.Config{RootCAs: certs.Pool}
		opts.TLSConfig = &tls.Config{RootCAs: certs.Pool}
		proxyEcho(t, "wss://localhost:"+tlsPort+"/echo", opts)
		proxyEcho(t, "ws://"+py.Addr+"/echo", opts)
	})
	t.Run("ipv6-target", func(t *testing.T) {
		// CONNECT [::1]:port: the tunnel carries raw bytes to an IPv6
		// listener (the python server listens on IPv4 only).
		ln, err := net.Listen("tcp", "[::1]:0")
		if err != nil {
			t.Skipf("no IPv6 loopback: %v", err)
		}
		defer ln.Close()
		go func() {
			c, err := ln.Accept()
			if err == nil {
				io.Copy(c, c)
				c.Close()
			}
		}()
		tg, err := parseURL("ws://" + ln.Addr().String() + "/")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		nc, err := newDialer(proxyOpt(good)).connect(ctx, tg, true)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.Write([]byte("ping6"))
		buf := make([]byte, 5)
		if _, err := io.ReadFull(nc, buf); err != nil || string(buf) != "ping6" {
			t.Fatalf("tunnel echo: %q %v", buf, err)
		}
		nc.Close()
		waitLog(t, sq.accessLog, "CONNECT "+ln.Addr().String()+" alice")
	})
	t.Run("wrong-password", func(t *testing.T) {
		pe := dialProxyErr(t, "ws://"+py.Addr+"/echo", proxyOpt("http://alice:hunter2@"+sq.addr), "hunter2",
			base64.StdEncoding.EncodeToString([]byte("alice:hunter2")))
		if pe.StatusCode != http.StatusProxyAuthRequired || pe.Proxy != "http://"+sq.addr {
			t.Fatalf("got %+v, want 407 from http://%s", pe, sq.addr)
		}
	})
	t.Run("no-credentials", func(t *testing.T) {
		pe := dialProxyErr(t, "ws://"+py.Addr+"/echo", proxyOpt("http://"+sq.addr))
		if pe.StatusCode != http.StatusProxyAuthRequired {
			t.Fatalf("got %+v, want 407", pe)
		}
	})
	t.Run("forbidden-target", func(t *testing.T) {
		// squid allows CONNECT to loopback only.
		pe := dialProxyErr(t, "ws://192.0.2.1:80/", proxyOpt(good))
		if pe.StatusCode != http.StatusForbidden {
			t.Fatalf("got %+v, want 403", pe)
		}
	})
	t.Run("trace-redacts", func(t *testing.T) {
		var buf bytes.Buffer
		opts := proxyOpt(good)
		opts.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
		proxyEcho(t, "ws://"+py.Addr+"/echo", opts)
		out := buf.String()
		for _, secret := range []string{"secret", base64.StdEncoding.EncodeToString([]byte("alice:secret"))} {
			if strings.Contains(out, secret) {
				t.Errorf("trace leaks %q:\n%s", secret, out)
			}
		}
		for _, want := range []string{"CONNECT " + py.Addr + " HTTP/1.1", "Proxy-Authorization: [redacted]", "200", "101"} {
			if !strings.Contains(out, want) {
				t.Errorf("trace lacks %q:\n%s", want, out)
			}
		}
	})
	// squid logs a tunnel when it ends: proof that the traffic went through.
	waitLog(t, sq.accessLog,
		"TCP_TUNNEL/200", "CONNECT "+py.Addr+" alice", "CONNECT localhost:"+tlsPort+" alice",
		"TCP_DENIED/407", "TCP_DENIED/403")
}

func TestProxySquidDigest(t *testing.T) {
	t.Parallel()
	sq := startSquid(t, "digest", testserver.NewCerts(t))
	py := testserver.StartPython(t, testserver.PyOptions{})
	target := "ws://" + py.Addr + "/echo"

	var buf bytes.Buffer
	opts := proxyOpt("http://carol:pa55@" + sq.addr)
	opts.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	proxyEcho(t, target, opts)
	if out := buf.String(); !strings.Contains(out, "Digest realm") || strings.Contains(out, "pa55") ||
		strings.Contains(out, "cnonce") {
		t.Errorf("trace should show the challenge and hide the answer:\n%s", out)
	}
	pe := dialProxyErr(t, target, proxyOpt("http://carol:wrong@"+sq.addr), "wrong")
	if pe.StatusCode != http.StatusProxyAuthRequired {
		t.Fatalf("wrong password: %+v, want 407", pe)
	}
	waitLog(t, sq.accessLog, "TCP_TUNNEL/200", "CONNECT "+py.Addr+" carol", "TCP_DENIED/407")
}

// fakeProxy is an in-process server for what real proxies cannot be made
// to do (odd replies, silence). handle gets each accepted connection.
func fakeProxy(t *testing.T, handle func(c net.Conn, br *bufio.Reader)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				handle(c, bufio.NewReader(c))
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// readRequest reads a CONNECT request's head.
func readRequest(br *bufio.Reader) (string, error) {
	var head strings.Builder
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			return head.String(), err
		}
		head.WriteString(line)
		if line == "\r\n" {
			return head.String(), nil
		}
	}
}

// checkLeaks verifies at the very end of t (after the fake proxies'
// cleanups) that no goroutine was left behind.
func checkLeaks(t *testing.T) {
	cur := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, cur) })
}

func TestProxyConnectFake(t *testing.T) {
	checkLeaks(t)
	const key = "dGhlIHNhbXBsZSBub25jZQ==" // RFC 6455 §1.3: accept below
	heads := make(chan string, 10)
	// Replies 200 and, in the same write, the server's 101 and a text
	// frame: bytes past the proxy's reply must reach the handshake.
	addr := fakeProxy(t, func(c net.Conn, br *bufio.Reader) {
		head, err := readRequest(br)
		heads <- head
		if err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.0 200 Connection established\r\nVia: fake\r\n\r\n"+
			"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
			"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n\x81\x05hello")
		br.ReadByte() // until the client goes
	})
	opts := proxyOpt("http://u%3A1:p%40ss@" + addr)
	opts.Header = http.Header{"Sec-WebSocket-Key": {key}}
	opts.ProxyHeader = http.Header{"x-proxy-token": {"tok"}, "User-Agent": {"wsclient-test"}}
	c, err := Dial(context.Background(), "ws://[2001:db8::1]:8080/x", opts)
	if err != nil {
		t.Fatal(err)
	}
	op, p, err := c.Recv()
	if err != nil || op != OpText || string(p) != "hello" {
		t.Fatalf("Recv: %v %q %v", op, p, err)
	}
	c.Abort()
	head := <-heads
	for _, want := range []string{
		"CONNECT [2001:db8::1]:8080 HTTP/1.1\r\nHost: [2001:db8::1]:8080\r\n",
		"Proxy-Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("u:1:p@ss")) + "\r\n",
		"X-Proxy-Token: tok\r\n", "User-Agent: wsclient-test\r\n",
	} {
		if !strings.Contains(head, want) {
			t.Errorf("request lacks %q:\n%s", want, head)
		}
	}
	// Invalid headers are refused before any I/O.
	for _, h := range []http.Header{{"Bad Name": {"x"}}, {"X-Ok": {"a\r\nInjected: 1"}}} {
		opts.ProxyHeader = h
		if _, err := Dial(context.Background(), "ws://example.com/", opts); err == nil || !strings.Contains(err.Error(), "invalid ProxyHeader") {
			t.Errorf("ProxyHeader %q: %v", h, err)
		}
	}
	// A Proxy-Authorization in ProxyHeader replaces the URL's.
	opts.ProxyHeader = http.Header{"Proxy-Authorization": {"Bearer xyz"}}
	if c, err := Dial(context.Background(), "ws://example.com/", opts); err == nil {
		c.Abort()
	}
	if head := <-heads; !strings.Contains(head, "Proxy-Authorization: Bearer xyz\r\n") || strings.Contains(head, "Basic") {
		t.Errorf("ProxyHeader's Proxy-Authorization not used alone:\n%s", head)
	}
}

func TestProxyConnectSNI(t *testing.T) {
	checkLeaks(t)
	// After CONNECT, the TLS ClientHello inside the tunnel names the
	// target, not the proxy.
	sni := make(chan string, 1)
	addr := fakeProxy(t, func(c net.Conn, br *bufio.Reader) {
		readRequest(br)
		io.WriteString(c, "HTTP/1.1 200 OK\r\n\r\n")
		tls.Server(c, &tls.Config{GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
			sni <- h.ServerName
			return nil, errors.New("enough")
		}}).Handshake()
	})
	_, err := Dial(context.Background(), "wss://target.example:8443/", proxyOpt("http://"+addr))
	if err == nil {
		t.Fatal("no error")
	}
	if got := <-sni; got != "target.example" {
		t.Fatalf("SNI %q, want target.example", got)
	}
}

func TestProxyConnectReplies(t *testing.T) {
	checkLeaks(t)
	big := "HTTP/1.1 200 OK\r\n" + strings.Repeat("X-Pad: "+strings.Repeat("a", 1000)+"\r\n", 17) + "\r\n"
	cases := []struct {
		name, reply string
		code        int
		msg         string
	}{
		{"403", "HTTP/1.1 403 Forbidden\r\nContent-Length: 3\r\n\r\nno\n", 403, "403 Forbidden"},
		{"502", "HTTP/1.1 502 Bad Gateway\r\n\r\n", 502, "502 Bad Gateway"},
		{"407-basic", "HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"x\"\r\n\r\n", 407, "407"},
		{"too-large", big, 0, "larger than 16 KiB"},
		{"garbage", "SSH-2.0-OpenSSH_9.2\r\n\r\n", 0, "malformed status line"},
		{"eof", "HTTP/1.1 200 OK\r\n", 0, "unexpected EOF"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr := fakeProxy(t, func(c net.Conn, br *bufio.Reader) {
				readRequest(br)
				io.WriteString(c, tc.reply)
			})
			pe := dialProxyErr(t, "ws://example.com/", proxyOpt("http://user:topsecret@"+addr), "topsecret")
			if pe.StatusCode != tc.code || !strings.Contains(pe.Error(), tc.msg) {
				t.Fatalf("got %d %v, want %d and %q", pe.StatusCode, pe, tc.code, tc.msg)
			}
		})
	}
}

func TestProxyTimeouts(t *testing.T) {
	checkLeaks(t)
	// A proxy that accepts and never answers.
	addr := fakeProxy(t, func(c net.Conn, br *bufio.Reader) { io.Copy(io.Discard, br) })
	for _, scheme := range []string{"http", "https", "socks4", "socks4a", "socks5", "socks5h"} {
		t.Run(scheme, func(t *testing.T) {
			t.Parallel()
			opts := proxyOpt(scheme + "://" + addr)
			opts.ProxyTimeout = 100 * time.Millisecond
			start := time.Now()
			_, err := Dial(context.Background(), "ws://192.0.2.1/", opts)
			var pe *ProxyError
			if !errors.As(err, &pe) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("ProxyTimeout: %v, want a *ProxyError wrapping context.DeadlineExceeded", err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("took %v", d)
			}
			// Timeout (the whole dial) and a cancelled ctx work the same.
			opts.ProxyTimeout = 0
			opts.Timeout = 100 * time.Millisecond
			if _, err := Dial(context.Background(), "ws://192.0.2.1/", opts); !errors.As(err, &pe) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Timeout: %v", err)
			}
			opts.Timeout = 0
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(50*time.Millisecond, cancel)
			if _, err := Dial(ctx, "ws://192.0.2.1/", opts); !errors.Is(err, context.Canceled) {
				t.Fatalf("cancel: %v", err)
			}
		})
	}
}

func TestProxyRefused(t *testing.T) {
	addr := freeAddr(t)
	pe := dialProxyErr(t, "ws://example.com/", proxyOpt("socks5h://bob:hunter2@"+addr), "hunter2", "bob")
	if !errors.Is(pe, syscall.ECONNREFUSED) || pe.Proxy != "socks5h://"+addr {
		t.Fatalf("got %v (proxy %q), want connection refused from socks5h://%s", pe, pe.Proxy, addr)
	}
	if _, err := Dial(context.Background(), "ws://example.com/", proxyOpt("ftp://"+addr)); err == nil || !strings.Contains(err.Error(), "unsupported scheme") {
		t.Fatalf("ftp proxy: %v", err)
	}
}

func TestProxyNetDial(t *testing.T) {
	// NetDial reaches the proxy; the target's address goes to the proxy.
	var got []string
	opts := proxyOpt("http://proxy.invalid:3128")
	opts.NetDial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		got = append(got, network+" "+addr)
		return nil, errors.New("no network here")
	}
	pe := dialProxyErr(t, "ws://example.com/", opts)
	if len(got) != 1 || got[0] != "tcp proxy.invalid:3128" || !strings.Contains(pe.Error(), "no network here") {
		t.Fatalf("dialed %q, error %v", got, pe)
	}
}

func TestProxyUnixNever(t *testing.T) {
	py := testserver.StartPython(t, testserver.PyOptions{Unix: true})
	opts := &DialOptions{Proxy: func(*url.URL) (*url.URL, error) {
		t.Error("Proxy called for a ws+unix target")
		return nil, nil
	}}
	proxyEcho(t, "ws+unix://"+py.Addr+":/echo", opts)
}

func TestProxyFromEnvironment(t *testing.T) {
	for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "REQUEST_METHOD"} {
		t.Setenv(k, "")
		t.Setenv(strings.ToLower(k), "")
	}
	type env map[string]string
	cases := []struct {
		env    env
		target string
		want   string // "" = direct
	}{
		{env{}, "ws://example.com/", ""},
		{env{"HTTP_PROXY": "http://p:1"}, "ws://example.com/", "http://p:1"},
		{env{"HTTP_PROXY": "http://p:1"}, "wss://example.com/", ""},
		{env{"http_proxy": "p:2"}, "ws://example.com/", "http://p:2"},
		{env{"HTTP_PROXY": "http://upper:1", "http_proxy": "http://lower:1"}, "ws://example.com/", "http://lower:1"},
		{env{"ALL_PROXY": "http://upper:1", "all_proxy": "http://lower:1"}, "ws://example.com/", "http://lower:1"},
		{env{"HTTPS_PROXY": "socks5h://u:pw@s:1080"}, "wss://example.com/", "socks5h://u:pw@s:1080"},
		{env{"https_proxy": "https://p:3"}, "wss://example.com/", "https://p:3"},
		{env{"HTTPS_PROXY": "http://p:3"}, "ws://example.com/", ""},
		{env{"ALL_PROXY": "socks5://a:1"}, "ws://example.com/", "socks5://a:1"},
		{env{"all_proxy": "socks5://a:1"}, "wss://example.com/", "socks5://a:1"},
		{env{"ALL_PROXY": "socks5://a:1", "HTTPS_PROXY": "http://s:1"}, "wss://example.com/", "http://s:1"},
		{env{"HTTP_PROXY": "http://p:1", "NO_PROXY": "example.com"}, "ws://example.com/", ""},
		{env{"HTTP_PROXY": "http://p:1", "NO_PROXY": "example.com"}, "ws://www.example.com/", ""},
		{env{"HTTP_PROXY": "http://p:1", "no_proxy": ".example.com"}, "ws://example.com/", "http://p:1"},
		{env{"HTTP_PROXY": "http://p:1", "NO_PROXY": "example.com:8080"}, "ws://example.com/", "http://p:1"},
		{env{"HTTP_PROXY": "http://p:1", "NO_PROXY": "example.com:8080"}, "ws://example.com:8080/", ""},
		{env{"HTTPS_PROXY": "http://p:1", "NO_PROXY": "example.com:443"}, "wss://example.com/", ""},
		{env{"HTTP_PROXY": "http://p:1", "NO_PROXY": "10.0.0.0/8"}, "ws://10.1.2.3/", ""},
		{env{"HTTP_PROXY": "http://p:1", "NO_PROXY": "*"}, "ws://example.com/", ""},
		// Loopback is never proxied by the environment.
		{env{"HTTP_PROXY": "http://p:1"}, "ws://localhost:8080/", ""},
		{env{"HTTP_PROXY": "http://p:1"}, "ws://127.0.0.1/", ""},
		{env{"HTTP_PROXY": "http://p:1"}, "ws://[::1]/", ""},
		{env{"HTTP_PROXY": "http://p:1"}, "ws+unix:///tmp/s.sock", ""},
		// CGI: HTTP_PROXY may come from a request header (httpoxy).
		{env{"HTTP_PROXY": "http://p:1", "REQUEST_METHOD": "GET"}, "ws://example.com/", ""},
		{env{"HTTPS_PROXY": "http://p:1", "REQUEST_METHOD": "GET"}, "wss://example.com/", "http://p:1"},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.env, c.target), func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			tg, err := parseURL(c.target)
			if err != nil {
				t.Fatal(err)
			}
			p, err := proxyFor(tg, &DialOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if p != nil {
				got = p.Display
				if p.User != nil {
					got = strings.Replace(got, "://", "://"+p.User.String()+"@", 1)
				}
			}
			if got != c.want {
				t.Fatalf("got %q, want %q", got, c.want)
			}
		})
	}

	t.Run("explicit-wins", func(t *testing.T) {
		t.Setenv("HTTP_PROXY", "http://env:1")
		tg, _ := parseURL("ws://example.com/")
		if p, _ := proxyFor(tg, proxyOpt("socks5://explicit:2")); p == nil || p.Addr != "explicit:2" {
			t.Fatalf("explicit Proxy lost to the environment: %+v", p)
		}
		if p, _ := proxyFor(tg, &DialOptions{NoProxy: true}); p != nil {
			t.Fatalf("NoProxy: got %+v", p)
		}
		if p, _ := proxyFor(tg, &DialOptions{ProxyBypass: []string{"other.org", ".example.com", "example.com"}}); p != nil {
			t.Fatalf("ProxyBypass: got %+v", p)
		}
		if p, _ := proxyFor(tg, &DialOptions{ProxyBypass: []string{"other.org"}}); p == nil || p.Addr != "env:1" {
			t.Fatalf("ProxyBypass not matching: got %+v", p)
		}
		// An explicit proxy applies to loopback too.
		lo, _ := parseURL("ws://127.0.0.1:9/")
		if p, _ := proxyFor(lo, proxyOpt("http://explicit:2")); p == nil {
			t.Fatal("explicit proxy not used for loopback")
		}
	})
	t.Run("dial", func(t *testing.T) {
		// The default reaches the proxy named by the environment.
		heads := make(chan string, 2)
		addr := fakeProxy(t, func(c net.Conn, br *bufio.Reader) {
			head, _ := readRequest(br)
			heads <- head
			io.WriteString(c, "HTTP/1.1 502 Bad Gateway\r\n\r\n")
		})
		t.Setenv("HTTP_PROXY", "http://"+addr)
		t.Setenv("HTTPS_PROXY", "http://"+addr)
		for _, target := range []string{"ws://example.com/", "wss://example.com:8443/"} {
			pe := dialProxyErr(t, target, nil)
			if pe.StatusCode != 502 {
				t.Fatalf("%s: %v", target, pe)
			}
		}
		if h := <-heads; !strings.HasPrefix(h, "CONNECT example.com:80 ") {
			t.Errorf("ws: %q", h)
		}
		if h := <-heads; !strings.HasPrefix(h, "CONNECT example.com:8443 ") {
			t.Errorf("wss: %q", h)
		}
	})
}

func ExampleProxyURL() {
	// websocket-client: create_connection(url, http_proxy_host="proxy.example",
	//     http_proxy_port=3128, http_proxy_auth=("user", "pass"), proxy_type="http")
	opts := &DialOptions{
		Proxy: ProxyURL(&url.URL{Scheme: "http", Host: "proxy.example:3128",
			User: url.UserPassword("user", "pass")}),
		ProxyBypass:  []string{"internal.example", "10.0.0.0/8"}, // http_no_proxy
		ProxyTimeout: 5 * time.Second,                            // http_proxy_timeout
	}
	c, err := Dial(context.Background(), "wss://echo.example/ws", opts)
	var pe *ProxyError
	if errors.As(err, &pe) && pe.StatusCode == http.StatusProxyAuthRequired {
		fmt.Println("the proxy wants other credentials")
		return
	}
	if err != nil {
		fmt.Println(err)
		return
	}
	defer c.Close(StatusNormal, "")
}
