// Command wsdump is an interactive and scriptable WebSocket client, a port
// of websocket-client's wsdump built on this module.
//
//	go run ./cmd/wsdump                       # starts a local echo server and connects to it
//	go run ./cmd/wsdump wss://example.com/ws  # lines typed are sent, messages printed as "< ..."
//	echo hello | go run ./cmd/wsdump -r --eof-wait 1 ws://127.0.0.1:8080/
//
// Run it with -h for the options; they are the original's (-p, -v, -n, -r,
// -s, -o, --eof-wait, -t, --timings, --headers) plus --http2 (WebSocket
// over HTTP/2, RFC 8441; -v names the HTTP version) and --version. It exits
// with 0 after a normal close, 1 on errors, 2 on bad usage.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// isTTY reports whether f is an *os.File on a terminal.
func isTTY(f any) bool {
	file, ok := f.(*os.File)
	return ok && isTerminal(file)
}
