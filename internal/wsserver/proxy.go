package wsserver

import (
	"bufio"
	"crypto/subtle"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Proxy is a minimal HTTP CONNECT proxy (RFC 9110 §9.3.6) on loopback, for
// examples and tests of proxy support. It tunnels only to loopback
// addresses, so it is never an open proxy. With a user name it requires
// Basic authentication and answers 407 otherwise.
type Proxy struct {
	ln         net.Listener
	user, pass string

	mu      sync.Mutex
	conns   map[net.Conn]struct{}
	closed  bool
	wg      sync.WaitGroup
	tunnels atomic.Int64
}

// StartProxy starts a CONNECT proxy on 127.0.0.1 and a free port. A
// non-empty user requires Proxy-Authorization: Basic user:password.
func StartProxy(user, password string) (*Proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, user: user, pass: password, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// URL returns the proxy's URL without credentials, e.g.
// "http://127.0.0.1:3128".
func (p *Proxy) URL() string { return "http://" + p.ln.Addr().String() }

// Tunnels returns how many tunnels the proxy has opened.
func (p *Proxy) Tunnels() int64 { return p.tunnels.Load() }

// Close stops the proxy, closes every tunnel and waits for its goroutines.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	err := p.ln.Close()
	p.wg.Wait()
	return err
}

// track registers c; it returns false once the proxy is closed.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.track(c) {
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			defer p.untrack(c)
			p.serve(c)
		}()
	}
}

func (p *Proxy) serve(c net.Conn) {
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil {
		return
	}
	reply := func(status string, extra string) {
		io.WriteString(c, "HTTP/1.1 "+status+"\r\n"+extra+"Content-Length: 0\r\nConnection: close\r\n\r\n")
	}
	if req.Method != http.MethodConnect {
		reply("405 Method Not Allowed", "")
		return
	}
	if p.user != "" && !p.authorized(req.Header.Get("Proxy-Authorization")) {
		reply("407 Proxy Authentication Required", "Proxy-Authenticate: Basic realm=\"wsserver\"\r\n")
		return
	}
	host, _, err := net.SplitHostPort(req.Host)
	if ip := net.ParseIP(host); err != nil || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
		reply("403 Forbidden", "")
		return
	}
	up, err := net.DialTimeout("tcp", req.Host, 5*time.Second)
	if err != nil {
		reply("502 Bad Gateway", "")
		return
	}
	if !p.track(up) {
		return
	}
	defer p.untrack(up)
	c.SetReadDeadline(time.Time{})
	if _, err := io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		return
	}
	p.tunnels.Add(1)
	if n := br.Buffered(); n > 0 { // the client spoke before our reply
		b, _ := br.Peek(n)
		if _, err := up.Write(b); err != nil {
			return
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		io.Copy(c, up)
		c.Close()
	}()
	io.Copy(up, c)
	up.Close()
	<-done
}

func (p *Proxy) authorized(h string) bool {
	scheme, cred, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Basic") {
		return false
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return false
	}
	want := p.user + ":" + p.pass
	return subtle.ConstantTimeCompare(b, []byte(want)) == 1
}
