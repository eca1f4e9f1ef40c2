// App shows the event-driven client (websocket-client's WebSocketApp):
// callbacks, keepalive pings with a pong timeout, and automatic reconnects
// with backoff.
//
//	go run ./examples/app                     # built-in server that drops us once
//	go run ./examples/app -url wss://example.com/feed -d 1m
//
// The URL comes from -url or $WS_URL; without either, the example starts
// this repository's echo server (internal/wsserver) and drops the
// connection after a second, so that the reconnect shows.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/internal/wsserver"
)

func main() {
	url := flag.String("url", os.Getenv("WS_URL"), "WebSocket URL (default: start a local echo server)")
	run := flag.Duration("d", 3*time.Second, "how long to run")
	flag.Parse()
	log.SetFlags(0)

	if *url == "" {
		srv, err := wsserver.Start(wsserver.Options{})
		if err != nil {
			log.Fatal(err)
		}
		defer srv.Close()
		*url = srv.URL()
		fmt.Println("started an echo server at", *url)
		time.AfterFunc(time.Second, func() {
			fmt.Println("server: dropping every connection")
			srv.DropClients()
		})
	}

	app := &wsclient.App{
		URL: *url,
		OnOpen: func(a *wsclient.App) {
			fmt.Println("open")
			a.SendText("hello")
		},
		OnReconnect: func(a *wsclient.App) {
			fmt.Println("reconnected")
			a.SendText("hello again")
		},
		OnMessage: func(a *wsclient.App, op wsclient.Opcode, msg []byte) {
			fmt.Printf("message (%s): %s\n", op, msg) // msg is valid during the call only
		},
		OnPong: func(a *wsclient.App, p []byte) { fmt.Println("pong") },
		OnError: func(a *wsclient.App, err error) {
			fmt.Println("error:", err)
		},
		OnClose: func(a *wsclient.App, code wsclient.StatusCode, reason string) {
			fmt.Println("closed:", code, reason)
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), *run)
	defer cancel()
	err := app.RunForever(ctx, wsclient.RunOptions{
		PingInterval: 500 * time.Millisecond, // ping_interval
		PingTimeout:  400 * time.Millisecond, // ping_timeout
		Reconnect:    true,
		ReconnectMin: 200 * time.Millisecond,
		ReconnectMax: 2 * time.Second,
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("done")
}
