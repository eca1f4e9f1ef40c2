package testserver

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Nginx is a running nginx that terminates TLS and proxies WebSocket
// connections to a plain ws:// backend.
type Nginx struct {
	// Addr is "127.0.0.1:port", serving TLS with the certificate given to
	// StartNginx.
	Addr string
	// Dir holds nginx.conf, access.log and error.log.
	Dir string
}

const nginxConf = `daemon off;
master_process off;
worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log notice;
events { worker_connections 256; }
http {
  access_log %[1]s/access.log;
  client_body_temp_path %[1]s/body;
  proxy_temp_path %[1]s/proxy;
  fastcgi_temp_path %[1]s/fastcgi;
  uwsgi_temp_path %[1]s/uwsgi;
  scgi_temp_path %[1]s/scgi;
  server {
    listen 127.0.0.1:%[2]d ssl;
    ssl_certificate %[3]s;
    ssl_certificate_key %[4]s;
    location / {
      proxy_pass http://%[5]s;
      proxy_http_version 1.1;
      proxy_set_header Upgrade $http_upgrade;
      proxy_set_header Connection "upgrade";
      proxy_set_header Host $host;
      proxy_buffering off;
      proxy_read_timeout 1h;
      proxy_send_timeout 1h;
    }
  }
}
`

// StartNginx starts nginx as a TLS terminator (wss → ws) in front of the
// WebSocket server at backend ("host:port"), with the certificate of certs,
// on a free loopback port, and waits until it listens. It is stopped when
// the test ends. The recipe and its gotchas are in INFRA.md §5. A missing
// nginx skips the test, or fails it in CI.
func StartNginx(t testing.TB, backend string, certs *Certs) *Nginx {
	t.Helper()
	bin, err := exec.LookPath("nginx")
	if err != nil {
		bin = "/usr/sbin/nginx"
	}
	_, err = os.Stat(bin)
	Require(t, "nginx (Debian package nginx)", err == nil)
	dir := t.TempDir()
	addr := startDaemon(t, "nginx", func(port int) []string {
		conf := filepath.Join(dir, "nginx.conf")
		body := fmt.Sprintf(nginxConf, dir, port, certs.CertFile, certs.KeyFile, backend)
		if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		// -e stderr: errors before the configuration is read go to stderr
		// (else /var/log/nginx/error.log); startup errors such as a taken
		// port ("Address already in use") are printed there too, where
		// startDaemon reads them. -p: the prefix for relative paths.
		return []string{bin, "-e", "stderr", "-p", dir + "/", "-c", conf}
	})
	return &Nginx{Addr: addr, Dir: dir}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// waitListen polls addr until it accepts a connection, the process exited
// or 10 s passed.
func waitListen(addr string, exited <-chan struct{}) bool {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}
