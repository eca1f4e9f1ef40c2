package wsclient_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"time"

	"github.com/wsclient/wsclient"
)

func ExampleDial() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := wsclient.Dial(ctx, "ws://127.0.0.1:8080/echo", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(wsclient.StatusNormal, "")

	if err := c.SendText("hello"); err != nil {
		log.Fatal(err)
	}
	op, msg, err := c.Recv() // msg is valid until the next Recv
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(op, string(msg))
}

func ExampleConn_SendBinary() {
	c, err := wsclient.Dial(context.Background(), "ws://127.0.0.1:8080/echo", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(wsclient.StatusNormal, "")
	payload := []byte{0xde, 0xad, 0xbe, 0xef}
	if err := c.SendBinary(payload); err != nil { // payload is not modified
		log.Fatal(err)
	}
	_, echo, err := c.Recv()
	if err != nil {
		log.Fatal(err)
	}
	kept := append([]byte(nil), echo...) // copy to keep it past the next Recv
	fmt.Printf("% x\n", kept)
}

// Queue and Flush put many small messages into few writes.
func ExampleConn_Queue() {
	c, err := wsclient.Dial(context.Background(), "ws://127.0.0.1:8080/sink", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(wsclient.StatusNormal, "")
	for i := range 100_000 {
		if err := c.QueueText(fmt.Sprintf(`{"seq":%d}`, i)); err != nil {
			log.Fatal(err)
		}
	}
	if err := c.Flush(); err != nil {
		log.Fatal(err)
	}
}

func ExampleDial_tls() {
	pem, err := os.ReadFile("ca.pem")
	if err != nil {
		log.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	c, err := wsclient.Dial(context.Background(), "wss://localhost:8443/", &wsclient.DialOptions{
		TLSConfig: &tls.Config{RootCAs: roots},
		Timeout:   5 * time.Second,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(wsclient.StatusNormal, "")
}

func ExampleEnableTrace() {
	wsclient.EnableTrace(os.Stderr) // like websocket.enableTrace(True)
	defer wsclient.EnableTrace(nil)
	c, err := wsclient.Dial(context.Background(), "ws://127.0.0.1:8080/echo", nil)
	if err != nil {
		log.Fatal(err)
	}
	c.Close(wsclient.StatusNormal, "")
}

// An App keeps a connection open with callbacks, keepalive pings and
// reconnects, like websocket-client's WebSocketApp.run_forever.
func Example_app() {
	app := &wsclient.App{
		URL: "ws://127.0.0.1:8080/echo",
		OnOpen: func(a *wsclient.App) {
			a.SendText("hello")
		},
		OnMessage: func(a *wsclient.App, op wsclient.Opcode, data []byte) {
			fmt.Println(op, string(data)) // data is valid during the call only
		},
		OnError: func(a *wsclient.App, err error) {
			log.Println("error:", err)
		},
		OnClose: func(a *wsclient.App, code wsclient.StatusCode, reason string) {
			log.Println("closed:", code, reason)
		},
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	err := app.RunForever(ctx, wsclient.RunOptions{
		PingInterval: 20 * time.Second,
		PingTimeout:  10 * time.Second,
		Reconnect:    true,
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		log.Fatal(err)
	}
}

// NextReader streams a message that is too large to hold in memory.
func ExampleConn_NextReader() {
	c, err := wsclient.Dial(context.Background(), "ws://127.0.0.1:8080/download", nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close(wsclient.StatusNormal, "")
	_, r, err := c.NextReader()
	if err != nil {
		log.Fatal(err)
	}
	f, err := os.Create("download.bin")
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	n, err := io.Copy(f, r) // frame by frame, through a small buffer
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n, "bytes")
}

// Once the server closed the connection, receive calls return a
// *CloseError with its code and reason.
func ExampleCloseError() {
	c, err := wsclient.Dial(context.Background(), "ws://127.0.0.1:8080/echo", nil)
	if err != nil {
		log.Fatal(err)
	}
	for {
		_, msg, err := c.Recv()
		var ce *wsclient.CloseError
		switch {
		case errors.As(err, &ce):
			fmt.Println("server closed:", ce.Code, ce.Reason)
			return
		case err != nil:
			log.Fatal(err) // network error, protocol violation, ...
		}
		fmt.Println(string(msg))
	}
}
