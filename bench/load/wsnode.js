// A Node.js load script on the `ws` module, as a competent hand-written
// one would be: N connections, an open-loop schedule driven by one 1 ms
// timer, latency measured from each message's intended send time (carried
// in the payload with a sequence number), percentiles at the end.
//
//   NODE_PATH=/usr/share/nodejs node wsnode.js URL CONNS RATE SECONDS WARMUP SIZE
//
// Prints one JSON line: sent, received, errors, p50/p99/max (µs), cpu_s,
// max_rss_bytes.
'use strict';
const WebSocket = require('ws');
const { performance } = require('node:perf_hooks');

const [url, conns, rate, secs, warmup, size] = process.argv.slice(2);
const N = +conns, R = +rate, D = +secs * 1000, W = +warmup * 1000, S = Math.max(+size, 16);

const socks = [];
let open = 0, errors = 0, sent = 0, received = 0;
const lat = [];
let t0 = 0, mStart = Infinity, mEnd = Infinity;
const tmpl = Buffer.alloc(S, 'a');

function onMessage(data) {
  const now = performance.now();
  const t = data.readDoubleLE(8);
  if (t >= mStart && t < mEnd) {
    received++;
    lat.push(now - t);
  }
}

let n = 0; // messages of the schedule handed out so far
function tick() {
  const now = performance.now();
  const due = Math.floor((now - t0) * R / 1000);
  for (; n < due; n++) {
    const t = t0 + n * 1000 / R;
    if (t >= mEnd) return finish();
    const ws = socks[n % N];
    if (!ws || ws.readyState !== WebSocket.OPEN) continue;
    const buf = Buffer.from(tmpl);
    buf.writeDoubleLE(n, 0);
    buf.writeDoubleLE(t, 8);
    ws.send(buf);
    if (t >= mStart) sent++;
  }
}

let timer = null, finished = false;
function finish() {
  if (finished) return;
  finished = true;
  clearInterval(timer);
  const deadline = performance.now() + 5000;
  const wait = setInterval(() => {
    if (received < sent && performance.now() < deadline) return;
    clearInterval(wait);
    lat.sort((a, b) => a - b);
    const pct = (p) => lat.length ? Math.round(lat[Math.min(lat.length - 1, Math.floor(p / 100 * lat.length))] * 1000) : 0;
    const cpu = process.cpuUsage();
    console.log(JSON.stringify({
      sent, received, errors, duration_s: (mEnd - mStart) / 1000,
      p50_us: pct(50), p99_us: pct(99), max_us: pct(100),
      cpu_s: (cpu.user + cpu.system) / 1e6, max_rss_bytes: process.resourceUsage().maxRSS * 1024,
    }));
    for (const ws of socks) ws.terminate();
    process.exit(0);
  }, 10);
}

function start() {
  t0 = performance.now();
  mStart = t0 + W;
  mEnd = mStart + D;
  timer = setInterval(tick, 1);
}

let settled = 0;
for (let i = 0; i < N; i++) {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  socks.push(ws);
  ws.binaryType = 'nodebuffer';
  ws.on('open', () => { open++; if (++settled === N) start(); });
  ws.on('message', onMessage);
  ws.on('error', () => { errors++; if (ws.readyState !== WebSocket.OPEN && ++settled === N) start(); });
}
