/*
Package codec holds the wire formats of the WebSocket protocol (RFC 6455)
that the engine package builds on: frame headers, close frame payloads,
incremental UTF-8 validation and the client's opening handshake. It uses the
types of github.com/gobwas/ws (ws.Header, ws.OpCode, ws.StatusCode,
ws.ProtocolError) and has no state of its own: every function works on the
caller's buffers.

# Frames

PutHeader and ParseHeader encode and decode frame headers (RFC 6455 §5.2)
to and from byte slices (ParseHeader fills a caller's ws.Header); HeaderSize
tells how long a header is from its first two bytes, so a reader knows how
much to wait for. CheckServerFrame applies
the rules a client enforces on received frames (§5.1–§5.5) and returns the
gobwas/ws protocol errors.

# Close frames

ParseClose and PutClose decode and encode close payloads (§5.5.1);
ValidCloseCode and CheckClose say which codes and reasons may be sent
(§7.4).

# UTF-8

Validator checks text messages incrementally (§8.1): frames and reads may cut
a code point anywhere, and it fails on the first byte that makes the message
impossible. It hands the bulk of the work to simdutf8.Valid, which checks a
whole buffer (use it directly for that; ParseClose does for close reasons)
with the SIMD kernel chosen for the CPU (AVX-512, AVX2 or NEON) or its
portable one; a code point cut between two writes is carried as the state of
that portable kernel's automaton.

# Handshake

WriteRequest writes the opening handshake (§4.1), ReadResponse reads and
validates the server's answer (§4.2.2) within MaxHeaderBytes. WriteRequest
makes the Sec-WebSocket-Key (or sends the caller's) and returns it;
ReadResponse checks the server's Sec-WebSocket-Accept against it.

# Zero-allocation contract

PutHeader, ParseHeader, HeaderSize, CheckServerFrame, ParseClose, PutClose,
ValidCloseCode and Validator never allocate, errors included: the
ws.ProtocolError values they return are converted to error once, at
package initialisation (converting them on each return, as ws.CheckHeader
does, costs 16 B every time). CheckClose allocates only when it fails.
alloc_test.go proves it. The handshake functions allocate; they run once per
connection.

# Build tags

The package is pure Go and has none of its own. The purego tag selects the
portable UTF-8 kernel of simdutf8, on which it builds.
*/
package codec
