package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/wsclient/wsclient/internal/testserver"
)

// exe runs the real main, in a child process of the test binary (see
// TestMain), with stdin and args, through pipes.
func exe(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], args...)
	cmd.Env = append(os.Environ(), "WSDUMP_TEST_MAIN=1")
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

// TestBinary runs the command (main, os.Exit included) through pipes: the README's main
// command, `echo hi | wsdump`, and the exit codes.
func TestBinary(t *testing.T) {
	t.Parallel()
	r := exe(t, "hi\n")
	r.want(t, 0, "< hi\n")
	if !strings.Contains(r.stderr, "started an echo server") {
		t.Fatalf("stderr %q", r.stderr)
	}
	exe(t, "", "--bogus").want(t, 2, "")
	r = exe(t, "", "ws://127.0.0.1:1/")
	r.want(t, 1, "")
	if !strings.HasPrefix(r.stderr, "wsdump: cannot connect") {
		t.Fatalf("stderr %q", r.stderr)
	}
}

// TestPython runs wsdump against Debian's python3-websockets.
func TestPython(t *testing.T) {
	py := testserver.StartPython(t, testserver.PyOptions{Subprotocols: true})
	base := "ws://" + py.Addr
	// websockets drops replies it has not sent yet when the close frame
	// arrives: --eof-wait gives it time, as with the original.
	dump(t, "hello\nworld\n", "--eof-wait", "0.5", base+"/echo").want(t, 0, "< hello\n< world\n")
	dump(t, "raw\n", "--raw", "--eof-wait", "0.5", base+"/echo").want(t, 0, "raw\n")
	dump(t, "", "-r", base+"/frag").want(t, 0, "fragmented\n")

	r := dump(t, "", "-v", "-s", "superchat", "--headers", "X-Token: abc,X-Other: 2", base+"/headers")
	if r.code != 0 || !strings.Contains(r.stderr, "(subprotocol superchat)") ||
		!strings.Contains(r.stdout, `["X-Token", "abc"]`) || !strings.Contains(r.stdout, `["X-Other", "2"]`) {
		t.Fatalf("%+v", r)
	}
	r = dump(t, "", base+"/close/4001/nope")
	if r.code != 1 || !strings.Contains(r.stderr, `4001 "nope"`) {
		t.Fatalf("%+v", r)
	}
	dump(t, "", base+"/close/1000/done").want(t, 0, "")

	// And the binary against it.
	exe(t, "via pipes\n", "--eof-wait=500ms", base+"/echo").want(t, 0, "< via pipes\n")
}
