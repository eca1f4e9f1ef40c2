// Proxy connects through an HTTP CONNECT proxy with Basic authentication
// (websocket-client's http_proxy_host, http_proxy_port, http_proxy_auth and
// proxy_type, here one URL). SOCKS proxies work the same way with a
// socks4://, socks4a://, socks5:// or socks5h:// URL.
//
//	go run ./examples/proxy          # built-in echo server behind a built-in proxy
//	go run ./examples/proxy -url wss://example.com/ws -proxy http://user:pass@proxy:3128
//
// The URLs come from -url/-proxy or $WS_URL/$WS_PROXY; without a URL, the
// example starts this repository's echo server and a loopback CONNECT proxy
// (internal/wsserver) that requires a password. Without -proxy, Dial uses
// HTTP_PROXY, HTTPS_PROXY, ALL_PROXY and NO_PROXY, like websocket-client.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/wsclient/wsclient"
	"github.com/wsclient/wsclient/internal/wsserver"
)

func main() {
	target := flag.String("url", os.Getenv("WS_URL"), "WebSocket URL (default: start a local echo server and proxy)")
	proxy := flag.String("proxy", os.Getenv("WS_PROXY"), "proxy URL, e.g. http://user:pass@127.0.0.1:3128 or socks5h://127.0.0.1:1080")
	flag.Parse()
	log.SetFlags(0)

	if *target == "" {
		srv, err := wsserver.Start(wsserver.Options{})
		if err != nil {
			log.Fatal(err)
		}
		defer srv.Close()
		px, err := wsserver.StartProxy("demo", "s3cret")
		if err != nil {
			log.Fatal(err)
		}
		defer px.Close()
		*target = srv.URL()
		if *proxy == "" {
			*proxy = strings.Replace(px.URL(), "://", "://demo:s3cret@", 1)
		}
		fmt.Println("started an echo server at", *target, "and a proxy at", px.URL())
	}

	opts := &wsclient.DialOptions{Timeout: 10 * time.Second}
	if *proxy != "" {
		u, err := url.Parse(*proxy)
		if err != nil {
			log.Fatal(err)
		}
		opts.Proxy = wsclient.ProxyURL(u) // an explicit proxy is used for loopback targets too
		opts.ProxyTimeout = 5 * time.Second
		fmt.Println("proxy:", u.Redacted()) // never print the password
	}
	c, err := wsclient.Dial(context.Background(), *target, opts)
	if err != nil {
		// A refusal is a *wsclient.ProxyError with the proxy's status (407, 403, ...).
		log.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if err := c.SendText("hello through the proxy"); err != nil {
		log.Fatal(err)
	}
	op, msg, err := c.Recv()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %s\n", op, msg)
	if err := c.Close(wsclient.StatusNormal, ""); err != nil {
		log.Fatal(err)
	}
	fmt.Println("closed")
}
