package main

import (
	"bytes"
	"fmt"
)

// verifyEcho sends a binary and a text message of each size through the
// echo server and checks that the same bytes come back, so that no adapter
// is timed while dropping or corrupting data.
func verifyEcho(l *Lib, url string, sizes []int) error {
	c, err := dial(l, url)
	if err != nil {
		return err
	}
	defer c.Close()
	for _, n := range sizes {
		for _, text := range []bool{false, true} {
			p := payload(n)
			if text {
				fillText(p)
			}
			if err := c.Send(text, p); err != nil {
				return fmt.Errorf("send %d bytes: %w", n, err)
			}
			gotText, q, err := c.Recv()
			if err != nil {
				return fmt.Errorf("recv %d bytes: %w", n, err)
			}
			if gotText != text {
				return fmt.Errorf("%d bytes: text=%v came back as text=%v", n, text, gotText)
			}
			if !bytes.Equal(p, q) {
				return fmt.Errorf("%d bytes (text=%v): echo differs (got %d bytes)", n, text, len(q))
			}
		}
	}
	return nil
}
