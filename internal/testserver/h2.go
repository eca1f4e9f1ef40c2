package testserver

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Servers of WebSockets over HTTP/2 (RFC 8441). Each is started on a free
// loopback port with the certificate of certs, waited for, and stopped when
// the test ends; a missing one skips the test, or fails it in CI.

// StartLWS starts libwebsockets-test-server (Debian
// libwebsockets-test-server, INFRA.md §7) with TLS: ALPN picks h2 and its
// SETTINGS enable extended CONNECT. Its "lws-mirror-protocol" echoes what
// a single client sends; "dumb-increment-protocol" sends counters. It
// returns "127.0.0.1:port".
func StartLWS(t testing.TB, certs *Certs) string {
	t.Helper()
	bin := lookPath("libwebsockets-test-server", "/usr/bin")
	Require(t, "libwebsockets-test-server (Debian package libwebsockets-test-server)", bin != "")
	// -i lo: it listens on [::ffff:127.0.0.1] (with -i 127.0.0.1 on *).
	return startDaemon(t, "libwebsockets-test-server", func(port int) []string {
		return []string{bin, "-s", "-p", fmt.Sprint(port), "-i", "lo", "-C", certs.CertFile, "-K", certs.KeyFile}
	})
}

// StartNghttpx starts nghttpx (Debian nghttp2-proxy) as an HTTP/2 front end
// with TLS in front of the HTTP/1.1 WebSocket server at backend
// ("host:port"): it accepts RFC 8441 extended CONNECT and turns it into an
// HTTP/1.1 Upgrade to the backend. It returns "127.0.0.1:port".
func StartNghttpx(t testing.TB, backend string, certs *Certs) string {
	t.Helper()
	bin := lookPath("nghttpx", "/usr/sbin")
	Require(t, "nghttpx (Debian package nghttp2-proxy)", bin != "")
	dir := t.TempDir()
	host, port, _ := strings.Cut(backend, ":")
	conf := filepath.Join(dir, "nghttpx.conf") // an empty one: not /etc/nghttpx/nghttpx.conf
	if err := os.WriteFile(conf, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return startDaemon(t, "nghttpx", func(p int) []string {
		return []string{bin, "--conf=" + conf, "--single-thread", "--no-ocsp",
			fmt.Sprintf("--frontend=127.0.0.1,%d", p), fmt.Sprintf("--backend=%s,%s", host, port),
			"--errorlog-file=" + filepath.Join(dir, "error.log"), "--accesslog-file=" + filepath.Join(dir, "access.log"),
			certs.KeyFile, certs.CertFile}
	})
}

// nodeH2JS serves WebSockets over HTTP/2 with Node's http2 module
// (settings.enableConnectProtocol) and Debian's node-ws on each extended
// CONNECT stream: it echoes every message and prints "READY <port>".
const nodeH2JS = `const http2 = require('http2');
const fs = require('fs');
const { WebSocket } = require('ws');
const server = http2.createSecureServer({
  key: fs.readFileSync(process.argv[2]), cert: fs.readFileSync(process.argv[3]),
  settings: { enableConnectProtocol: true },
});
server.on('stream', (stream, headers) => {
  if (headers[':method'] !== 'CONNECT' || headers[':protocol'] !== 'websocket' ||
      headers['sec-websocket-version'] !== '13') {
    stream.respond({ ':status': 400 });
    stream.end();
    return;
  }
  const resp = { ':status': 200 };
  const offer = headers['sec-websocket-protocol'];
  if (offer) resp['sec-websocket-protocol'] = offer.split(',')[0].trim();
  stream.respond(resp);
  stream.setNoDelay = () => {}; // ws calls it on its socket
  const ws = new WebSocket(null);
  ws.setSocket(stream, Buffer.alloc(0), { maxPayload: 0 });
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {});
});
server.on('sessionError', () => {});
server.listen(0, '127.0.0.1', () => console.log('READY ' + server.address().port));
`

// StartNodeH2 starts nodeH2JS with /usr/bin/node and Debian's node-ws
// (NODE_PATH=/usr/share/nodejs). It returns "127.0.0.1:port".
func StartNodeH2(t testing.TB, certs *Certs) string {
	t.Helper()
	cmd := nodeCommand(t, "require('ws'); require('http2')", nodeH2JS, certs.KeyFile, certs.CertFile)
	return "127.0.0.1:" + startReady(t, "node http2 server", cmd)
}

func lookPath(name, dir string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return ""
}
