package wsclient

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/gobwas/ws"
)

type wsOpCode = ws.OpCode

var traceLogger atomic.Pointer[slog.Logger]

// EnableTrace turns on trace output for connections dialed afterwards
// without their own DialOptions.Logger (websocket-client's
// enableTrace(True)): handshake request and response lines and headers, and
// every frame sent and received (opcode, fin, length, first bytes).
// Credentials are redacted: URL passwords, the values of Authorization,
// Cookie, Set-Cookie, Proxy-Authorization and other headers and query
// parameters with secret-looking names (token, secret, key, session, ...).
// EnableTrace(nil) turns it off. Tracing off costs nothing.
func EnableTrace(w io.Writer) {
	if w == nil {
		traceLogger.Store(nil)
		return
	}
	traceLogger.Store(slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})))
}

func traceRequest(log *slog.Logger, raw []byte) {
	lines := strings.Split(strings.TrimRight(string(raw), "\r\n"), "\r\n")
	for i, l := range lines {
		lines[i] = redactHeaderLine(l)
	}
	log.LogAttrs(context.Background(), slog.LevelDebug, "--- request header ---", slog.String("request", strings.Join(lines, "\n")))
}

func traceResponse(log *slog.Logger, status string, h http.Header) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(status)
	for _, k := range keys {
		for _, v := range h[k] {
			b.WriteString("\n")
			b.WriteString(redactHeaderLine(k + ": " + v))
		}
	}
	log.LogAttrs(context.Background(), slog.LevelDebug, "--- response header ---", slog.String("response", b.String()))
}

// frameTracer logs frames. It is installed only when tracing is on.
func frameTracer(log *slog.Logger) func(bool, ws.Header, []byte) {
	return func(sent bool, h ws.Header, p []byte) {
		const show = 32
		head := p
		if len(head) > show {
			head = head[:show]
		}
		var data string
		if bytes.IndexFunc(head, func(r rune) bool { return r < 0x20 && r != '\n' && r != '\t' }) < 0 {
			data = string(head)
		} else {
			data = "0x" + hexString(head)
		}
		msg := "recv frame"
		if sent {
			msg = "send frame"
		}
		log.LogAttrs(context.Background(), slog.LevelDebug, msg,
			slog.String("op", Opcode(h.OpCode).String()),
			slog.Bool("fin", h.Fin),
			slog.Int64("len", h.Length),
			slog.String("data", data))
	}
}

func hexString(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}
