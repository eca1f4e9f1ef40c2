// Package engine is wsclient's frame engine: a client-side WebSocket
// connection (RFC 6455) over any net.Conn whose opening handshake is done.
// It is the layer for embedding: bring your own connection (a QUIC stream, a
// server-side socket of a proxy, a test pipe), call New, and use the same
// methods package wsclient's Conn offers, which embeds this one.
//
//	c := engine.New(nc, leftover, &engine.Config{MaxMessageSize: 1 << 20})
//	defer c.Close(engine.StatusNormal, "")
//	c.SendText("hello")
//	op, msg, err := c.Recv() // msg valid until the next receive call
//
// # Zero allocations
//
// Send, Queue, Flush and Recv allocate nothing in steady state at any size:
// payloads are masked straight from the caller's slice into pooled buffers
// (package mask), received messages are assembled in a buffer the Conn
// reuses, and an idle connection holds no large buffer. Tests prove it
// (alloc_test.go); build with -tags wsclient_poolcheck to check that every
// pooled buffer is returned.
//
// # Concurrency
//
// Any number of goroutines may send at once: their frames are written
// together (group commit), and a fragmented message (NextWriter, or
// SendFrame without FIN) is never interleaved with another data message. One goroutine
// at a time may receive; it answers pings and close frames as it reads.
//
// # Timeouts
//
// Config.IOTimeout (SetIOTimeout, websocket-client's settimeout) bounds each
// blocking receive call and each network write, counted afresh for every
// call; it costs one atomic load per call when off and sets a deadline on
// the network connection only once in a while when on. SetDeadline,
// SetReadDeadline and SetWriteDeadline set absolute deadlines; the earlier
// bound wins. A receive that times out leaves the connection usable, also
// in the middle of a frame.
package engine
