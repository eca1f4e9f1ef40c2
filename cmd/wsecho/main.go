// Command wsecho is a small WebSocket server for demos, examples and
// benchmarks: it echoes, discards (sink) or sends messages at a fixed rate.
// It listens on loopback and prints its URL on one line:
//
//	$ go run ./cmd/wsecho
//	ws://127.0.0.1:41234/
//
// Paths pick another mode per connection: /echo, /sink,
// /send?rate=1000&size=64&count=0&binary=1, /headers (the request headers as
// JSON, then echo), /close/CODE/REASON.
//
// With -http2 it also serves WebSockets over HTTP/2 (RFC 8441) on the same
// port: with -tls through ALPN h2, without it as h2c with prior knowledge.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/wsclient/wsclient/internal/wsserver"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process: it serves until ctx is done and returns
// the exit code (0, 1 on errors, 2 on bad usage).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("wsecho", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:0", "`address` to listen on (port 0: any free port)")
	mode := fs.String("mode", "echo", "what to do with connections: echo, sink (discard) or send")
	rate := fs.Int("rate", 0, "send mode: messages per second (0: as fast as possible)")
	size := fs.Int("size", 16, "send mode: message size in bytes")
	count := fs.Int("count", 0, "send mode: close after this many messages (0: never)")
	binary := fs.Bool("binary", false, "send mode: send binary instead of text messages")
	useTLS := fs.Bool("tls", false, "serve wss:// with a self-signed certificate generated at start")
	certOut := fs.String("cert-out", "", "with -tls: write the certificate (PEM) to `file`, e.g. for WEBSOCKET_CLIENT_CA_BUNDLE")
	protos := fs.String("subprotocols", "", "comma-separated subprotocols to accept (\"*\": any)")
	useH2 := fs.Bool("http2", false, "also serve WebSockets over HTTP/2 (RFC 8441): h2 through ALPN with -tls, h2c (prior knowledge) without")
	verbose := fs.Bool("v", false, "log connection errors to stderr")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: wsecho [flags]\n\nA WebSocket echo, sink or sender server on loopback; prints its URL.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "wsecho: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return 2
	}
	m, err := wsserver.ParseMode(*mode)
	if err != nil {
		fmt.Fprintf(stderr, "wsecho: -mode: %v\n", err)
		return 2
	}
	if *rate < 0 || *size < 0 || *count < 0 {
		fmt.Fprintln(stderr, "wsecho: -rate, -size and -count must not be negative")
		return 2
	}
	if *certOut != "" && !*useTLS {
		fmt.Fprintln(stderr, "wsecho: -cert-out needs -tls")
		return 2
	}
	o := wsserver.Options{Addr: *addr, Mode: m, TLS: *useTLS, Rate: *rate, Size: *size, Count: *count, Binary: *binary, HTTP2: *useH2}
	if *protos != "" {
		for p := range strings.SplitSeq(*protos, ",") {
			if p = strings.TrimSpace(p); p != "" {
				o.Subprotocols = append(o.Subprotocols, p)
			}
		}
	}
	if *verbose {
		l := log.New(stderr, "wsecho: ", log.LstdFlags)
		o.Logf = l.Printf
	}
	s, err := wsserver.Start(o)
	if err != nil {
		fmt.Fprintf(stderr, "wsecho: %v\n", err)
		return 1
	}
	defer s.Close()
	if *certOut != "" {
		if err := os.WriteFile(*certOut, s.CertPEM(), 0o644); err != nil {
			fmt.Fprintf(stderr, "wsecho: %v\n", err)
			return 1
		}
	}
	fmt.Fprintln(stdout, s.URL())
	<-ctx.Done()
	return 0
}
