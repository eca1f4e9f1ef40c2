// Echo dials a WebSocket server, sends a few text and binary messages,
// prints what comes back and closes cleanly.
//
//	go run ./examples/echo                        # against a built-in echo server
//	go run ./examples/echo -url wss://example.com/echo
//
// The URL comes from -url or $WS_URL; without either, the example starts
// this repository's echo server (internal/wsserver) on a loopback port.
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
	n := flag.Int("n", 3, "number of messages")
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
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := wsclient.Dial(ctx, *url, nil) // nil options: websocket-client's defaults
	if err != nil {
		log.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second)) // settimeout(10)

	for i := range *n {
		if err := c.SendText(fmt.Sprintf("hello %d", i)); err != nil {
			log.Fatal(err)
		}
		op, msg, err := c.Recv() // msg is valid until the next Recv
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: %s\n", op, msg)
	}
	if err := c.SendBinary([]byte{0xde, 0xad, 0xbe, 0xef}); err != nil {
		log.Fatal(err)
	}
	op, msg, err := c.Recv()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: % x\n", op, msg)

	if err := c.Close(wsclient.StatusNormal, "bye"); err != nil { // close handshake
		log.Fatal(err)
	}
	fmt.Println("closed")
}
