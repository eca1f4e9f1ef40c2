package main

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// config is the parsed command line.
type config struct {
	url          string
	proxy        string
	verbose      int
	nocert       bool
	raw          bool
	subprotocols []string
	origin       string
	eofWait      time.Duration
	text         string
	textSet      bool
	timings      bool
	http2        bool
	headers      http.Header
	help         bool
	version      bool
}

const usage = `Usage: wsdump [options] [ws_url]

WebSocket Simple Dump Tool: sends the lines it reads as text messages and
prints the messages it receives ("< ..."). Without ws_url it starts an echo
server on a loopback port and connects to it.

Arguments:
  ws_url                 ws://, wss://, ws+unix:// or wss+unix:// URL
                         (ex. wss://example.com/chat)

Options:
  -p, --proxy URL        proxy URL (http://[user:pass@]host:port, https://,
                         socks5://, socks5h://, socks4://, socks4a://)
  -v, --verbose [N]      -v shows opcodes and control frames, -vv also traces
                         the handshake and every frame (to stderr)
  -n, --nocert           do not verify the server's TLS certificate
  -r, --raw              raw output: print messages only, no "< " or colors,
                         and control characters as received (by default
                         they are shown escaped, e.g. \x1b)
  -s, --subprotocols P [P ...]
                         subprotocols to offer (also comma-separated)
  -o, --origin ORIGIN    Origin header
  --eof-wait SECONDS     after the end of input, wait this long (e.g. 2,
                         0.5 or 500ms) for messages before closing
  -t, --text TEXT        send TEXT first
  --timings              prefix received messages with seconds since start
  --headers "K: V,K: V"  extra request headers, separated by ','
  --http2                WebSocket over HTTP/2 only (RFC 8441; h2c for ws://)
  -h, --help             show this help and exit
  --version              show the version and exit

Exit status: 0 after a normal close (1000, 1001 or no code), 1 on errors
(including other close codes), 2 on bad usage.
`

// parseArgs reads wsdump's options the way Python's argparse does for the
// original: short options may be bundled (-nr, -vv), values may be attached
// (-ofoo, --origin=foo) or follow, and -s takes several values.
func parseArgs(args []string) (*config, error) {
	c := &config{}
	var positional []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			positional = append(positional, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			positional = append(positional, a)
			continue
		}
		// value returns the option's value: attached, or the next argument.
		value := func(name, attached string, has bool) (string, error) {
			if has {
				return attached, nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("option %s needs a value", name)
			}
			i++
			return args[i], nil
		}
		if strings.HasPrefix(a, "--") {
			name, v, has := strings.Cut(a[2:], "=")
			opt := "--" + name
			switch name {
			case "proxy", "origin", "eof-wait", "text", "headers":
				val, err := value(opt, v, has)
				if err != nil {
					return nil, err
				}
				if err := c.set(name, val); err != nil {
					return nil, err
				}
			case "subprotocols":
				if has {
					c.addProtocols(v)
				}
				i = c.moreProtocols(args, i)
			case "verbose":
				if has {
					n, err := strconv.Atoi(v)
					if err != nil || n < 0 {
						return nil, fmt.Errorf("bad --verbose level %q", v)
					}
					c.verbose = n
				} else {
					c.verbose = 1
					i = c.verboseLevel(args, i)
				}
			case "nocert", "raw", "timings", "help", "version", "http2":
				if has {
					return nil, fmt.Errorf("option %s takes no value", opt)
				}
				c.set(name, "")
			default:
				return nil, fmt.Errorf("unknown option %s", opt)
			}
			continue
		}
		// Bundled short options.
		for j := 1; j < len(a); j++ {
			ch := a[j]
			rest := a[j+1:]
			switch ch {
			case 'n', 'r', 'h':
				c.set(map[byte]string{'n': "nocert", 'r': "raw", 'h': "help"}[ch], "")
				continue
			case 'v':
				if strings.Trim(rest, "v") == "" { // -v, -vv, -vvv
					c.verbose = len(rest) + 2 - 1
					if rest == "" {
						i = c.verboseLevel(args, i)
					}
				} else if n, err := strconv.Atoi(rest); err == nil && n >= 0 { // -v2
					c.verbose = n
				} else {
					return nil, fmt.Errorf("bad verbose level in %s", a)
				}
			case 'p', 'o', 't':
				name := map[byte]string{'p': "proxy", 'o': "origin", 't': "text"}[ch]
				val, err := value("-"+string(ch), rest, rest != "")
				if err != nil {
					return nil, err
				}
				if err := c.set(name, val); err != nil {
					return nil, err
				}
			case 's':
				if rest != "" {
					c.addProtocols(rest)
				}
				i = c.moreProtocols(args, i)
			default:
				return nil, fmt.Errorf("unknown option -%c", ch)
			}
			break // the rest of a was a value (or verbose level)
		}
	}
	switch len(positional) {
	case 0:
	case 1:
		c.url = positional[0]
	default:
		return nil, fmt.Errorf("one URL expected, got %d arguments: %q", len(positional), positional)
	}
	return c, nil
}

func (c *config) set(name, v string) error {
	switch name {
	case "proxy":
		c.proxy = v
	case "origin":
		c.origin = v
	case "text":
		c.text, c.textSet = v, true
	case "eof-wait":
		d, err := parseWait(v)
		if err != nil {
			return err
		}
		c.eofWait = d
	case "headers":
		h, err := parseHeaders(v)
		if err != nil {
			return err
		}
		if c.headers == nil {
			c.headers = http.Header{}
		}
		for k, vs := range h {
			c.headers[k] = append(c.headers[k], vs...)
		}
	case "nocert":
		c.nocert = true
	case "raw":
		c.raw = true
	case "timings":
		c.timings = true
	case "http2":
		c.http2 = true
	case "help":
		c.help = true
	case "version":
		c.version = true
	}
	return nil
}

// moreProtocols takes the arguments after args[i] that are subprotocols
// (not options, not URLs) and returns the index of the last one.
func (c *config) moreProtocols(args []string, i int) int {
	for i+1 < len(args) && !strings.HasPrefix(args[i+1], "-") && !strings.Contains(args[i+1], "://") {
		i++
		c.addProtocols(args[i])
	}
	return i
}

func (c *config) addProtocols(v string) {
	for p := range strings.SplitSeq(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			c.subprotocols = append(c.subprotocols, p)
		}
	}
}

// verboseLevel takes "-v 2": a following all-digit argument is the level.
func (c *config) verboseLevel(args []string, i int) int {
	if i+1 < len(args) {
		if n, err := strconv.Atoi(args[i+1]); err == nil && n >= 0 && strings.Trim(args[i+1], "0123456789") == "" {
			c.verbose = n
			return i + 1
		}
	}
	return i
}

// parseWait accepts seconds ("2", "0.5", as the original's integer) or a Go
// duration ("500ms").
func parseWait(v string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 && f < 1e9 {
		return time.Duration(f * float64(time.Second)), nil
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return d, nil
	}
	return 0, fmt.Errorf("bad --eof-wait %q (want seconds, e.g. 2 or 0.5, or a duration such as 500ms)", v)
}

// parseHeaders reads "K: V,K2: V2" (the original splits on ',' and strips
// each entry).
func parseHeaders(v string) (http.Header, error) {
	h := http.Header{}
	for entry := range strings.SplitSeq(v, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		k, val, ok := strings.Cut(entry, ":")
		k = strings.TrimSpace(k)
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return nil, fmt.Errorf("bad header %q in --headers (want \"Name: value\")", entry)
		}
		h.Add(k, strings.TrimSpace(val))
	}
	if len(h) == 0 {
		return nil, errors.New("--headers has no header")
	}
	return h, nil
}
