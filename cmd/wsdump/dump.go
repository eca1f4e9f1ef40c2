package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/internal/wsserver"
	"github.com/wsclient/wsclient/mask"
)

const (
	dialTimeout  = 30 * time.Second
	closeTimeout = 3 * time.Second
)

// run is wsdump without the process, for tests: it returns the exit code.
// Interactive mode (prompt, colors) is on when stdin (and, for colors,
// stdout) is a terminal.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cfg, err := parseArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "wsdump: %v\nRun wsdump -h for the options.\n", err)
		return 2
	}
	if cfg.help {
		io.WriteString(stdout, usage)
		return 0
	}
	if cfg.version {
		fmt.Fprintf(stdout, "wsdump %s (%s, mask %s)\n", version(), runtime.Version(), mask.Impl())
		return 0
	}
	start := time.Now()

	target := cfg.url
	if target == "" {
		srv, err := wsserver.Start(wsserver.Options{Subprotocols: []string{"*"}, HTTP2: cfg.http2})
		if err != nil {
			fmt.Fprintf(stderr, "wsdump: cannot start the local echo server: %v\n", err)
			return 1
		}
		defer srv.Close()
		target = srv.URL()
		fmt.Fprintf(stderr, "wsdump: no URL given: started an echo server at %s and connected to it (give a ws:// URL to connect elsewhere)\n", target)
	}

	o := &wsclient.DialOptions{
		Origin:       cfg.origin,
		Subprotocols: cfg.subprotocols,
		Header:       cfg.headers,
		Timeout:      dialTimeout,
	}
	if cfg.http2 {
		o.HTTP2 = wsclient.HTTP2Only
		o.HTTP2Pool = new(wsclient.HTTP2Pool) // closed on return: no idle connection lingers
		defer o.HTTP2Pool.Close()
	}
	if cfg.nocert {
		o.TLSConfig = &tls.Config{InsecureSkipVerify: true}
	}
	if cfg.verbose > 1 { // the original's websocket.enableTrace(True)
		o.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if cfg.proxy != "" {
		if err := setProxy(o, cfg.proxy); err != nil {
			fmt.Fprintf(stderr, "wsdump: %s\n", oneLine(err.Error(), cfg))
			return 1
		}
	}

	c, err := wsclient.Dial(ctx, target, o)
	if err != nil {
		if ctx.Err() != nil {
			return 1
		}
		fmt.Fprintf(stderr, "wsdump: %s\n", describe(err, target, cfg))
		return 1
	}
	defer c.Abort()
	if cfg.verbose > 0 {
		proto := "HTTP/1.1"
		if c.HTTPVersion() == 2 {
			proto = "HTTP/2"
		}
		msg := "wsdump: connected to " + redactURL(target) + " over " + proto
		if p := c.Subprotocol(); p != "" {
			msg += " (subprotocol " + p + ")"
		}
		fmt.Fprintln(stderr, msg)
	}

	interactive := isTTY(stdin) && !cfg.raw
	p := &printer{
		w:           stdout,
		raw:         cfg.raw,
		interactive: interactive,
		color:       interactive && isTTY(stdout) && os.Getenv("NO_COLOR") == "",
		timings:     cfg.timings,
		start:       start,
		verbose:     cfg.verbose,
	}
	if interactive {
		fmt.Fprintln(stdout, "Press Ctrl+C to quit")
	}

	var localClose atomic.Bool
	recvDone := make(chan error, 1)
	go func() { recvDone <- receive(c, p) }()

	// finish waits for the receiver and turns how the connection ended into
	// an exit code.
	finish := func(recvErr error) int {
		p.endPrompt()
		var ce *wsclient.CloseError
		switch {
		case errors.As(recvErr, &ce) && ce.Code != wsclient.StatusAbnormalClosure:
			// Whoever closed first, a close code other than these is
			// reported: the server may have closed just as we did.
			switch ce.Code {
			case wsclient.StatusNormal, wsclient.StatusGoingAway, wsclient.StatusNoStatus:
				return 0
			}
			msg := fmt.Sprintf("wsdump: server closed the connection with %d", ce.Code)
			if ce.Reason != "" {
				msg += fmt.Sprintf(" %q", ce.Reason)
			}
			fmt.Fprintln(stderr, msg)
			return 1
		case localClose.Load() && errors.Is(recvErr, wsclient.ErrClosed):
			return 0
		}
		fmt.Fprintf(stderr, "wsdump: connection lost: %s\n", oneLine(trimPrefix(recvErr.Error()), cfg))
		return 1
	}
	closeNow := func() int {
		// Send the close frame and let the receiver read on until the
		// server's answer, printing what arrives first. (Conn.Close would
		// read the rest itself and drop those messages when the receiver
		// is between two reads.)
		localClose.Store(true)
		var b [2]byte
		binary.BigEndian.PutUint16(b[:], uint16(wsclient.StatusNormal))
		if err := c.Send(wsclient.OpClose, b[:]); err != nil {
			c.Abort()
			return finish(<-recvDone)
		}
		t := time.NewTimer(closeTimeout)
		defer t.Stop()
		select {
		case err := <-recvDone:
			return finish(err)
		case <-t.C:
			c.Abort()
			<-recvDone
			p.endPrompt()
			fmt.Fprintf(stderr, "wsdump: the server did not answer the close within %v\n", closeTimeout)
			return 1
		}
	}

	if cfg.textSet {
		if err := send(c, cfg.text); err != nil {
			c.Abort()
			<-recvDone
			fmt.Fprintf(stderr, "wsdump: send: %s\n", oneLine(trimPrefix(err.Error()), cfg))
			return 1
		}
	}

	lines := make(chan string)
	stop := make(chan struct{})
	defer close(stop)
	go readLines(stdin, lines, stop)

	p.prompt()
	for {
		select {
		case <-ctx.Done(): // Ctrl+C: close cleanly, like the original's KeyboardInterrupt
			return closeNow()
		case err := <-recvDone:
			return finish(err)
		case line, ok := <-lines:
			if !ok { // end of input
				if cfg.eofWait > 0 {
					t := time.NewTimer(cfg.eofWait)
					select {
					case <-t.C:
					case <-ctx.Done():
					case err := <-recvDone:
						t.Stop()
						return finish(err)
					}
					t.Stop()
				}
				return closeNow()
			}
			p.entered()
			if err := send(c, line); err != nil {
				select {
				case rerr := <-recvDone: // the connection ended: say how
					return finish(rerr)
				case <-time.After(time.Second):
				}
				fmt.Fprintf(stderr, "wsdump: send: %s\n", oneLine(trimPrefix(err.Error()), cfg))
				return 1
			}
			p.prompt()
		}
	}
}

// send sends a line as a text message (binary if it is not UTF-8).
func send(c *wsclient.Conn, line string) error {
	if utf8.ValidString(line) {
		return c.SendText(line)
	}
	return c.SendBinary([]byte(line))
}

// readLines sends stdin's lines, without their line ends, to lines and
// closes it at the end of input.
func readLines(r io.Reader, lines chan<- string, stop <-chan struct{}) {
	defer close(lines)
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		line, err := br.ReadString('\n')
		if line != "" || err == nil {
			line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
			select {
			case lines <- line:
			case <-stop:
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// receive prints messages until the connection ends and returns why.
func receive(c *wsclient.Conn, p *printer) error {
	var msg []byte
	var msgOp wsclient.Opcode
	for {
		f, err := c.RecvFrame()
		if err != nil {
			var ce *wsclient.CloseError
			if p.verbose > 0 && errors.As(err, &ce) && ce.Code != wsclient.StatusAbnormalClosure {
				s := fmt.Sprintf("close: %d", ce.Code)
				if ce.Code == wsclient.StatusNoStatus {
					s = "close: (no status)"
				}
				if ce.Reason != "" {
					s += fmt.Sprintf(" %q", ce.Reason)
				}
				p.message(s)
			}
			return err
		}
		switch {
		case f.Opcode&0x8 != 0: // control: ping, pong (answered by the Conn; RFC 6455 §5.5)
			if p.verbose > 0 {
				p.message(f.Opcode.String() + ": " + controlText(f.Payload))
			}
		case f.Opcode == wsclient.OpContinuation:
			msg = append(msg, f.Payload...)
			if f.Fin {
				p.data(msgOp, msg)
				msg = msg[:0]
			}
		case f.Fin:
			p.data(f.Opcode, f.Payload)
		default:
			msgOp, msg = f.Opcode, append(msg[:0], f.Payload...)
		}
	}
}

// printer writes received messages and the prompt. The receiver and the
// input loop both use it.
type printer struct {
	mu          sync.Mutex
	w           io.Writer
	raw         bool
	interactive bool // prompt "> " after each message
	color       bool
	timings     bool
	start       time.Time
	verbose     int
	atPrompt    bool // the last output was a prompt
}

func (p *printer) data(op wsclient.Opcode, b []byte) {
	var s string
	if op == wsclient.OpText {
		s = string(b)
	} else {
		s = binaryText(b)
	}
	if p.verbose > 0 {
		s = op.String() + ": " + s
	}
	p.message(s)
}

// message prints one line of output. Outside raw mode, control characters
// are shown escaped (escapeControls): the text may come from the server.
func (p *printer) message(s string) {
	if !p.raw {
		s = escapeControls(s)
	}
	if p.timings {
		s = fmt.Sprintf("%.6f: %s", time.Since(p.start).Seconds(), s)
	}
	var b strings.Builder
	switch {
	case p.raw:
		b.WriteString(s)
		b.WriteString("\n")
	case p.interactive:
		// Back to the start of the prompt line ("< " covers "> "), print
		// the message (in blue on a color terminal), prompt again.
		b.WriteString("\r")
		if p.color {
			b.WriteString("\033[2K\033[34m< " + s + "\033[39m")
		} else {
			b.WriteString("< " + s)
		}
		b.WriteString("\n> ")
	default:
		b.WriteString("< ")
		b.WriteString(s)
		b.WriteString("\n")
	}
	p.mu.Lock()
	io.WriteString(p.w, b.String())
	p.atPrompt = p.interactive
	p.mu.Unlock()
}

// prompt shows "> " unless a message just did.
func (p *printer) prompt() {
	if p.interactive {
		p.mu.Lock()
		if !p.atPrompt {
			io.WriteString(p.w, "> ")
			p.atPrompt = true
		}
		p.mu.Unlock()
	}
}

// entered notes that the user ended a line (the cursor is on a new one).
func (p *printer) entered() {
	p.mu.Lock()
	p.atPrompt = false
	p.mu.Unlock()
}

// endPrompt ends the pending prompt line before wsdump exits.
func (p *printer) endPrompt() {
	if p.interactive {
		p.mu.Lock()
		io.WriteString(p.w, "\n")
		p.mu.Unlock()
	}
}

// describe turns a Dial error into one line: what failed, without
// credentials.
func describe(err error, target string, cfg *config) string {
	var he *wsclient.HandshakeError
	var pe *wsclient.ProxyError
	var cve *tls.CertificateVerificationError
	var op *net.OpError
	var s string
	switch {
	case errors.As(err, &pe):
		s = trimPrefix(pe.Error()) // says which proxy and what it answered, without credentials
	case errors.As(err, &he):
		s = fmt.Sprintf("%s refused the WebSocket handshake: HTTP %s", hostOf(target), statusText(he))
		if body := strings.TrimSpace(string(he.Body)); body != "" {
			if len(body) > 200 {
				body = body[:200] + "..."
			}
			s += fmt.Sprintf(": %q", body)
		}
	case errors.As(err, &cve):
		s = fmt.Sprintf("TLS certificate of %s not accepted: %v (use -n/--nocert to skip verification)", hostOf(target), cve.Err)
	case errors.Is(err, context.DeadlineExceeded):
		s = fmt.Sprintf("timed out connecting to %s: %s", hostOf(target), trimPrefix(err.Error()))
	case errors.As(err, &op) && op.Op == "dial":
		addr := hostOf(target)
		if op.Addr != nil {
			addr = op.Addr.String()
		}
		s = fmt.Sprintf("cannot connect to %s: %v", addr, op.Err)
	default:
		s = trimPrefix(err.Error())
	}
	return oneLine(s, cfg)
}

func statusText(he *wsclient.HandshakeError) string {
	if strings.Contains(he.Status, " ") {
		return he.Status
	}
	return fmt.Sprintf("%d %s", he.StatusCode, strings.TrimSpace(he.Status+" "+http.StatusText(he.StatusCode)))
}

// trimPrefix drops the library's "wsclient: " prefixes, which wsdump's own
// prefix replaces.
func trimPrefix(s string) string {
	for {
		t := strings.TrimPrefix(s, "wsclient: ")
		if t == s {
			return s
		}
		s = t
	}
}

// oneLine flattens s to one line, escapes control characters (s may hold
// a server's or a proxy's text) and removes any password of the URL or the
// proxy URL and the values of credential headers, should they appear.
func oneLine(s string, cfg *config) string {
	s = escapeControls(strings.Join(strings.Fields(s), " "))
	var secrets []string
	for _, raw := range []string{cfg.url, cfg.proxy} {
		if u, err := url.Parse(raw); err == nil && u.User != nil {
			if pw, ok := u.User.Password(); ok && pw != "" {
				secrets = append(secrets, pw, url.QueryEscape(pw), url.PathEscape(pw))
			}
		}
	}
	for _, k := range []string{"Authorization", "Proxy-Authorization", "Cookie"} {
		for _, v := range cfg.headers.Values(k) {
			if v != "" {
				secrets = append(secrets, v)
				if _, cred, ok := strings.Cut(v, " "); ok && len(cred) > 3 {
					secrets = append(secrets, cred)
				}
			}
		}
	}
	for _, sec := range secrets {
		if len(sec) > 0 {
			s = strings.ReplaceAll(s, sec, "xxxxx")
		}
	}
	return s
}

func hostOf(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		return u.Host
	}
	return redactURL(raw)
}

func redactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return "(unparsable URL)"
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}
