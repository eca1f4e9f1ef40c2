// Sender sends many small messages as fast as possible with buffered
// sending (Queue and Flush put thousands of messages into one write) and
// prints the rate.
//
//	go run ./examples/sender                     # against a built-in sink server
//	go run ./examples/sender -n 5000000 -size 64 -url ws://127.0.0.1:9000/sink
//
// The URL comes from -url or $WS_URL; without either, the example starts
// this repository's sink server (internal/wsserver), which discards what it
// receives.
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
	url := flag.String("url", os.Getenv("WS_URL"), "WebSocket URL of a server that reads (default: start a local sink server)")
	n := flag.Int("n", 1_000_000, "number of messages")
	size := flag.Int("size", 16, "message size in bytes")
	batch := flag.Int("batch", 4096, "messages per Flush")
	flag.Parse()
	log.SetFlags(0)

	var srv *wsserver.Server
	if *url == "" {
		var err error
		if srv, err = wsserver.Start(wsserver.Options{Mode: wsserver.Sink}); err != nil {
			log.Fatal(err)
		}
		defer srv.Close()
		*url = srv.URL()
		fmt.Println("started a sink server at", *url)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := wsclient.Dial(ctx, *url, &wsclient.DialOptions{
		WriteBufferSize: 256 << 10, // Queue writes by itself when this fills
	})
	if err != nil {
		log.Fatal(err)
	}

	msg := make([]byte, *size) // never modified: frames are masked into the Conn's buffer
	start := time.Now()
	for i := range *n {
		if err := c.Queue(wsclient.OpBinary, msg); err != nil {
			log.Fatal(err)
		}
		if (i+1)%*batch == 0 {
			if err := c.Flush(); err != nil {
				log.Fatal(err)
			}
		}
	}
	if err := c.Flush(); err != nil {
		log.Fatal(err)
	}
	// The server answers our close frame after reading everything before
	// it, so the clock stops once every message has arrived.
	if err := c.Close(wsclient.StatusNormal, ""); err != nil {
		log.Fatal(err)
	}
	d := time.Since(start)
	fmt.Printf("sent %d messages of %d bytes in %v: %.0f msg/s, %.1f MB/s\n",
		*n, *size, d.Round(time.Millisecond), float64(*n)/d.Seconds(), float64(*n**size)/d.Seconds()/1e6)
	if srv != nil {
		got, _ := srv.Stats()
		fmt.Printf("server received %d messages\n", got)
	}
}
