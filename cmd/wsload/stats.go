package main

import (
	"bytes"
	"compress/zlib"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sort"
	"strconv"
	"sync"
	"syscall"

	hdr "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/wsclient/wsclient"
)

// Histogram geometry: microseconds, 1 µs to 60 s, 3 significant digits.
// merge accepts only histograms of exactly this geometry.
const (
	histLow    = 1
	histHigh   = 60_000_000
	histDigits = 3
)

func newHist() *hdr.Histogram { return hdr.New(histLow, histHigh, histDigits) }

// clampUS converts nanoseconds to recordable microseconds.
func clampUS(ns int64) int64 {
	return min(max(ns/1000, histLow), histHigh)
}

// shard is one of the latency recorders; connections are spread over them
// so that thousands of readers do not queue on one lock.
type shard struct {
	mu   sync.Mutex
	lat  *hdr.Histogram // measured window, the run's result
	ival *hdr.Histogram // every message since the last progress line
	win  *hdr.Histogram // measured window since the last -hist interval
	_    [40]byte       // keep shards on separate cache lines
}

// stats collects what the connections observe.
type stats struct {
	shards []shard

	hsMu sync.Mutex
	hs   *hdr.Histogram // handshake times of successful dials

	errMu sync.Mutex
	errs  map[string]int64
	nerr  int64
}

func newStats() *stats {
	n := min(max(4, 2*runtime.GOMAXPROCS(0)), 32)
	st := &stats{shards: make([]shard, n), hs: newHist(), errs: map[string]int64{}}
	for i := range st.shards {
		st.shards[i].lat = newHist()
		st.shards[i].ival = newHist()
		st.shards[i].win = newHist()
	}
	return st
}

// record adds one latency sample (ns) from connection idx.
func (st *stats) record(idx int, ns int64, measured bool) {
	us := clampUS(ns)
	sh := &st.shards[idx%len(st.shards)]
	sh.mu.Lock()
	sh.ival.RecordValue(us)
	if measured {
		sh.lat.RecordValue(us)
		sh.win.RecordValue(us)
	}
	sh.mu.Unlock()
}

func (st *stats) handshake(ns int64) {
	st.hsMu.Lock()
	st.hs.RecordValue(clampUS(ns))
	st.hsMu.Unlock()
}

func (st *stats) countErr(kind string) {
	st.errMu.Lock()
	st.errs[kind]++
	st.nerr++
	st.errMu.Unlock()
}

func (st *stats) errors() (int64, map[string]int64) {
	st.errMu.Lock()
	defer st.errMu.Unlock()
	m := make(map[string]int64, len(st.errs))
	for k, v := range st.errs {
		m[k] = v
	}
	return st.nerr, m
}

// take merges one of the per-shard histograms into a fresh one, resetting
// the shards' copies when reset is set.
func (st *stats) take(which func(*shard) *hdr.Histogram, reset bool) *hdr.Histogram {
	h := newHist()
	for i := range st.shards {
		sh := &st.shards[i]
		sh.mu.Lock()
		src := which(sh)
		if src.TotalCount() > 0 {
			h.Merge(src)
			if reset {
				src.Reset()
			}
		}
		sh.mu.Unlock()
	}
	return h
}

// Error kinds. They name what happened, not where in the code.
func dialErrKind(err error) string {
	var he *wsclient.HandshakeError
	if errors.As(err, &he) {
		return "handshake_status_" + strconv.Itoa(he.StatusCode)
	}
	var pe *wsclient.ProxyError
	if errors.As(err, &pe) {
		return "proxy"
	}
	if k := netErrKind(err); k != "" {
		return "connect_" + k
	}
	if isTLSErr(err) {
		return "tls"
	}
	if errors.Is(err, wsclient.ErrBadHandshake) {
		return "handshake_bad_response"
	}
	return "connect_other"
}

// connErrKind names why an open connection ended.
func connErrKind(err error) string {
	var ce *wsclient.CloseError
	if errors.As(err, &ce) && ce.Code != wsclient.StatusAbnormalClosure {
		return "server_close_" + strconv.Itoa(int(ce.Code))
	}
	switch {
	case errors.Is(err, wsclient.ErrProtocol):
		return "protocol_error"
	case errors.Is(err, wsclient.ErrMessageTooBig):
		return "message_too_big"
	case errors.Is(err, wsclient.ErrInvalidUTF8):
		return "invalid_utf8"
	}
	if k := netErrKind(err); k != "" {
		return k
	}
	if isTLSErr(err) {
		return "tls"
	}
	if ce != nil {
		return "abnormal_closure"
	}
	return "other"
}

// netErrKind names common socket errors ("" if err is none of them).
func netErrKind(err error) string {
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return "refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "reset"
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return "no_local_port"
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return "too_many_open_files"
	case errors.Is(err, syscall.ENETUNREACH), errors.Is(err, syscall.EHOSTUNREACH):
		return "unreachable"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "eof"
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return "dns"
	}
	return ""
}

func isTLSErr(err error) bool {
	var rh tls.RecordHeaderError
	var ah tls.AlertError
	var cv *tls.CertificateVerificationError
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	return errors.As(err, &rh) || errors.As(err, &ah) || errors.As(err, &cv) || errors.As(err, &ua) || errors.As(err, &hn)
}

func insecureTLS() *tls.Config { return &tls.Config{InsecureSkipVerify: true} }

// encodeHist is the histogram in HdrHistogram's V2 compressed base64 form.
func encodeHist(h *hdr.Histogram) string {
	b, err := h.Encode(hdr.V2CompressedEncodingCookieBase)
	if err != nil { // only for an unknown version
		return ""
	}
	return string(b)
}

// decodeHist reads a histogram written by encodeHist. The geometry in the
// header is checked before hdrhistogram allocates the counts it declares.
func decodeHist(s string) (*hdr.Histogram, error) {
	if s == "" {
		return newHist(), nil
	}
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("histogram: %w", err)
	}
	if len(raw) < 8 {
		return nil, errors.New("histogram: too short")
	}
	zr, err := zlib.NewReader(bytes.NewReader(raw[8:]))
	if err != nil {
		return nil, fmt.Errorf("histogram: %w", err)
	}
	var head [40]byte
	_, err = io.ReadFull(zr, head[:])
	zr.Close()
	if err != nil {
		return nil, fmt.Errorf("histogram: header: %w", err)
	}
	digits := int32(binary.BigEndian.Uint32(head[12:]))
	low := int64(binary.BigEndian.Uint64(head[16:]))
	high := int64(binary.BigEndian.Uint64(head[24:]))
	if digits != histDigits || low != histLow || high != histHigh {
		return nil, fmt.Errorf("histogram: geometry %d..%d, %d digits; wsload writes %d..%d µs, %d digits", low, high, digits, histLow, histHigh, histDigits)
	}
	h, err := hdr.Decode([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("histogram: %w", err)
	}
	return h, nil
}

// sortedKinds lists error kinds, most frequent first.
func sortedKinds(m map[string]int64) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Slice(ks, func(i, j int) bool {
		if m[ks[i]] != m[ks[j]] {
			return m[ks[i]] > m[ks[j]]
		}
		return ks[i] < ks[j]
	})
	return ks
}
