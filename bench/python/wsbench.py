"""Send/echo benchmark for the Python original (websocket-client).

usage: wsbench.py MODE URL SIZE SECONDS   (MODE: send | echo)
WSBENCH_NOACCEL=1 hides wsaccel so websocket-client uses its pure-Python
mask and UTF-8 code. Prints one JSON line.
"""
import json
import os
import ssl
import sys
import time

if os.environ.get("WSBENCH_NOACCEL") == "1":
    sys.modules["wsaccel"] = None  # makes "import wsaccel..." fail
    sys.modules["wsaccel.xormask"] = None
    sys.modules["wsaccel.utf8validator"] = None

import websocket  # noqa: E402
from websocket import _abnf  # noqa: E402


def main():
    mode, url, size, secs = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    ws = websocket.create_connection(url, sslopt={"cert_reqs": ssl.CERT_NONE}, enable_multithread=False)
    payload = bytes((i * 7 + 3) & 0xFF for i in range(size))
    accel = "XorMaskerSimple" in _abnf._mask.__code__.co_names
    out = {"accel": accel}
    if mode == "send":
        k = max(1, min(16, 65536 // max(size, 1)))  # calls between clock reads

        def run(d):
            n = 0
            t0 = time.perf_counter()
            while time.perf_counter() - t0 < d:
                for _ in range(k):
                    ws.send_binary(payload)
                n += k
            ws.send("s")  # sync: the sink answers a text frame
            ws.recv()
            return n, time.perf_counter() - t0
        run(secs / 5)  # warm-up, discarded
        n, t = run(secs)
        out.update(msgs=n, secs=t)
    else:
        lat = []
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < secs / 5:
            ws.send_binary(payload)
            ws.recv()
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < secs:
            s = time.perf_counter()
            ws.send_binary(payload)
            r = ws.recv()
            lat.append(time.perf_counter() - s)
            if len(r) != size:
                raise SystemExit("short echo")
        out.update(msgs=len(lat), secs=time.perf_counter() - t0, lat=lat)
    ws.close()
    print(json.dumps(out))


main()
