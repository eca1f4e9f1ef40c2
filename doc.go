/*
Package wsclient is a WebSocket client (RFC 6455) for Go: a successor of
Python's websocket-client built on a zero-allocation frame engine with SIMD
masking.

	c, err := wsclient.Dial(ctx, "wss://example.com/chat", nil)
	if err != nil {
		return err
	}
	defer c.Close(wsclient.StatusNormal, "")
	if err := c.SendText("hello"); err != nil {
		return err
	}
	op, msg, err := c.Recv()

# From websocket-client

	create_connection(url, **options)  Dial(ctx, url, &DialOptions{...})
	ws.send(s) / send_binary(b)        Conn.SendText / Conn.SendBinary
	ws.recv() / recv_data()            Conn.Recv
	ws.recv_frame()                    Conn.RecvFrame
	ws.ping() / pong()                 Conn.Ping / Conn.Pong
	ws.close(status, reason)           Conn.Close
	ws.abort()                         Conn.Abort
	ws.getsubprotocol() / getstatus()  Conn.Subprotocol / Conn.Status
	ws.getheaders()                    Conn.Header
	ws.settimeout(t)                   Conn.SetIOTimeout (or DialOptions.IOTimeout)
	websocket.enableTrace(True)        EnableTrace(os.Stderr)

Each DialOptions field names its create_connection counterpart.

# Layers

The package is websocket-client's API on top of package engine, the frame
engine, and adds nothing twice: Conn embeds *engine.Conn, so every send,
receive, control and deadline method (Send, Recv, Queue, Flush, NextReader,
NextWriter, Ping, Pong, Close, Abort, ...) is the engine's, and Opcode,
StatusCode, Frame, CloseError and the error sentinels are the engine's (and
package codec's) types and values. Dial adds the opening handshake (URL,
proxies, TLS, redirects, cookies) and keeps what it produced (Status, Header,
Subprotocol, Extensions).

To run WebSocket frames over a connection you opened yourself (a QUIC
stream, a server-side socket, a test pipe), use engine.New directly, with
codec.WriteRequest and codec.ReadResponse for the handshake if you need one.

# Zero allocations

Sending (Send, SendText, SendBinary, Queue, Flush) and receiving (Recv)
allocate nothing in steady state, at any message size: frames are masked
straight from the caller's slice into pooled buffers, and received messages
are assembled in a buffer the connection reuses. The slice Recv returns is
therefore only valid until the next Recv.

# Batching

Concurrent senders on one Conn are written together (group commit). A single
sender of many small messages can Queue them and Flush, putting thousands of
messages into one write.

# Build tags and runtime dispatch

Masking uses AVX-512, AVX2 or SSE2 on amd64 (chosen at start-up) and NEON on
arm64; see package mask. Build with -tags purego for the pure-Go code, or set
WSCLIENT_MASK=generic|sse2|avx2|avx512 to force a lower kernel.
*/
package wsclient
