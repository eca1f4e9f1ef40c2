package wsclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
)

// tlsClient runs the TLS handshake for a wss target on nc (a TCP
// connection, a Unix socket or a proxy tunnel) with a copy of base
// (DialOptions.TLSConfig, or the HTTP/2 variant of it offering ALPN h2).
// ServerName defaults to the target's host; WEBSOCKET_CLIENT_CA_BUNDLE and
// SSLKEYLOGFILE are honoured as websocket-client does.
func tlsClient(ctx context.Context, nc net.Conn, t *target, base *tls.Config) (net.Conn, error) {
	var cfg *tls.Config
	if base != nil {
		cfg = base.Clone()
	} else {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = t.hostname
	}
	if cfg.RootCAs == nil {
		if bundle := os.Getenv("WEBSOCKET_CLIENT_CA_BUNDLE"); bundle != "" {
			pool, err := loadCABundle(bundle)
			if err != nil {
				return nil, err
			}
			cfg.RootCAs = pool
		}
	}
	if cfg.KeyLogWriter == nil {
		if name := os.Getenv("SSLKEYLOGFILE"); name != "" {
			f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
			if err != nil {
				return nil, errorf("SSLKEYLOGFILE: %w", err)
			}
			cfg.KeyLogWriter = f // kept open for the process, like Python's ssl
		}
	}
	tc := tls.Client(nc, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, errorf("TLS handshake with %s: %w", t.hostHdr, err)
	}
	return tc, nil
}

// loadCABundle reads a PEM file, or every file in a directory.
func loadCABundle(path string) (*x509.CertPool, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, errorf("WEBSOCKET_CLIENT_CA_BUNDLE: %w", err)
	}
	pool := x509.NewCertPool()
	files := []string{path}
	if fi.IsDir() {
		entries, err := os.ReadDir(path)
		if err != nil {
			return nil, errorf("WEBSOCKET_CLIENT_CA_BUNDLE: %w", err)
		}
		files = files[:0]
		for _, e := range entries {
			if !e.IsDir() {
				files = append(files, filepath.Join(path, e.Name()))
			}
		}
	}
	added := false
	for _, f := range files {
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, errorf("WEBSOCKET_CLIENT_CA_BUNDLE: %w", err)
		}
		if pool.AppendCertsFromPEM(pem) {
			added = true
		}
	}
	if !added {
		return nil, optionError("WEBSOCKET_CLIENT_CA_BUNDLE %s: no PEM certificates found", path)
	}
	return pool, nil
}
