# Test WebSocket server on loopback, run by the Go tests with Debian's
# python3-websockets (10.x). Prints "READY <port-or-path>" once listening.
# Paths:
#   /echo            echo every message (text stays text)
#   /headers         first send the request headers as JSON, then echo
#   /close/CODE/WHY  close at once with CODE and reason WHY
#   /frag            send one text message in 3 fragments, then echo
#   /silent          accept, then stop reading (no pongs, no close answer)
#   /cookie          set a cookie in the handshake response, then echo
#   /drop            drop the TCP connection right after the handshake
import asyncio, json, ssl, sys, urllib.parse
import websockets

async def handler(ws, path):
    if path.startswith("/headers"):
        await ws.send(json.dumps(list(ws.request_headers.raw_items())))
    elif path.startswith("/close/"):
        parts = path.split("/")
        code = int(parts[2])
        reason = urllib.parse.unquote(parts[3]) if len(parts) > 3 else ""
        await ws.close(code, reason)
        return
    elif path.startswith("/frag"):
        await ws.send(iter(["frag", "men", "ted"]))
    elif path.startswith("/drop"):
        ws.transport.abort()
        return
    elif path.startswith("/silent"):
        ws.transport.pause_reading()
        await asyncio.sleep(3600)
        return
    try:
        async for msg in ws:
            await ws.send(msg)
    except websockets.ConnectionClosed:
        pass

async def main():
    mode = sys.argv[1]          # tcp or unix
    where = sys.argv[2]         # host or socket path
    kw = dict(max_size=None, ping_interval=None, compression=None,
              subprotocols=["chat", "superchat"] if "--subprotocols" in sys.argv else None)
    if "--deflate" in sys.argv:
        # JSON keyword arguments for ServerPerMessageDeflateFactory, e.g.
        # {"server_max_window_bits": 10, "client_no_context_takeover": true}
        from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
        params = json.loads(sys.argv[sys.argv.index("--deflate") + 1])
        kw["compression"] = None
        kw["extensions"] = [ServerPerMessageDeflateFactory(**params)]
    if "--tls" in sys.argv:
        i = sys.argv.index("--tls")
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[i + 1], sys.argv[i + 2])
        kw["ssl"] = ctx
    def extra_headers(path, request_headers):
        if path.startswith("/cookie"):
            return [("Set-Cookie", "session=abc123; Path=/")]
        return []
    kw["extra_headers"] = extra_headers
    if mode == "unix":
        srv = await websockets.unix_serve(handler, where, **kw)
        print("READY", where, flush=True)
    else:
        srv = await websockets.serve(handler, where, 0, **kw)
        print("READY", srv.sockets[0].getsockname()[1], flush=True)
    await asyncio.Future()

asyncio.run(main())
