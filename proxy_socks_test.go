package wsclient

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wsclient/wsclient/internal/testserver"
)

// proxyOnlyHost resolves only inside the mount namespace of a proxy started
// by startWithHosts: the proof that socks5h and socks4a let the proxy
// resolve names.
const proxyOnlyHost = "wsecho.proxyonly.test"

// startMicrosocks runs microsocks (SOCKS5), with user/pass auth if user is
// set, and returns its address and log file.
func startMicrosocks(t *testing.T, withHosts bool, user, pass string) (addr, logFile string) {
	t.Helper()
	requireBin(t, "microsocks", "microsocks")
	addr = freeAddr(t)
	host, port, _ := net.SplitHostPort(addr)
	args := []string{"-i", host, "-p", port}
	if user != "" {
		args = append(args, "-u", user, "-P", pass)
	}
	logFile = filepath.Join(t.TempDir(), "microsocks.log")
	if withHosts {
		startWithHosts(t, logFile, "microsocks", args...)
	} else {
		startProc(t, logFile, "microsocks", args...)
	}
	waitListen(t, addr, logFile)
	return addr, logFile
}

// startWithHosts runs a server in a mount namespace of its own whose
// /etc/hosts maps proxyOnlyHost to 127.0.0.1 (see ../shared/INFRA.md). It
// checks that this process cannot resolve proxyOnlyHost.
func startWithHosts(t *testing.T, logFile, name string, args ...string) {
	t.Helper()
	requireBin(t, "util-linux", "unshare")
	if addrs, err := net.DefaultResolver.LookupHost(context.Background(), proxyOnlyHost); err == nil {
		t.Skipf("%s resolves here (%v): cannot prove remote resolution", proxyOnlyHost, addrs)
	}
	hosts := filepath.Join(t.TempDir(), "hosts")
	os.WriteFile(hosts, []byte("127.0.0.1 localhost\n127.0.0.1 "+proxyOnlyHost+"\n"), 0o644)
	script := `mount --bind "$0" /etc/hosts && exec "$@"`
	out, err := exec.Command("unshare", "-m", "sh", "-c", script, hosts, "true").CombinedOutput()
	testserver.Require(t, "unshare -m with mount --bind (root, namespaces allowed)", err == nil)
	if err != nil {
		t.Logf("unshare: %v %s", err, out)
	}
	startProc(t, logFile, "unshare", append([]string{"-m", "sh", "-c", script, hosts, name}, args...)...)
}

func TestProxySocks5Microsocks(t *testing.T) {
	t.Parallel()
	ms, msLog := startMicrosocks(t, false, "", "")
	msa, msaLog := startMicrosocks(t, false, "bob", "secret")
	py := testserver.StartPython(t, testserver.PyOptions{})
	_, pyPort, _ := net.SplitHostPort(py.Addr)

	t.Run("socks5", func(t *testing.T) {
		proxyEcho(t, "ws://"+py.Addr+"/echo", proxyOpt("socks5://"+ms))
		// socks5 resolves here: the proxy gets the address.
		proxyEcho(t, "ws://localhost:"+pyPort+"/echo", proxyOpt("socks5://"+ms))
		waitLog(t, msLog, "connected to 127.0.0.1:"+pyPort)
	})
	t.Run("socks5h", func(t *testing.T) {
		// socks5h sends the name.
		proxyEcho(t, "ws://localhost:"+pyPort+"/echo", proxyOpt("socks5h://"+ms))
		waitLog(t, msLog, "connected to localhost:"+pyPort)
	})
	t.Run("auth", func(t *testing.T) {
		proxyEcho(t, "ws://"+py.Addr+"/echo", proxyOpt("socks5://bob:secret@"+msa))
		waitLog(t, msaLog, "connected to 127.0.0.1:"+pyPort)
	})
	t.Run("wrong-password", func(t *testing.T) {
		pe := dialProxyErr(t, "ws://"+py.Addr+"/echo", proxyOpt("socks5://bob:hunter2@"+msa), "hunter2")
		if !strings.Contains(pe.Error(), "authentication failed") || pe.Proxy != "socks5://"+msa {
			t.Fatalf("got %v", pe)
		}
	})
	t.Run("auth-required", func(t *testing.T) {
		pe := dialProxyErr(t, "ws://"+py.Addr+"/echo", proxyOpt("socks5://"+msa))
		if !strings.Contains(pe.Error(), "no acceptable authentication methods") {
			t.Fatalf("got %v", pe)
		}
	})
	t.Run("refused", func(t *testing.T) {
		// microsocks answers a refused connect with reply 5.
		pe := dialProxyErr(t, "ws://"+freeAddr(t)+"/", proxyOpt("socks5://"+ms))
		if pe.StatusCode != 5 || !strings.Contains(pe.Message, "connection refused") {
			t.Fatalf("got %d %v, want reply 5", pe.StatusCode, pe)
		}
	})
}

func TestProxySocks5hRemoteDNS(t *testing.T) {
	t.Parallel()
	ms, msLog := startMicrosocks(t, true, "", "")
	py := testserver.StartPython(t, testserver.PyOptions{})
	_, pyPort, _ := net.SplitHostPort(py.Addr)
	target := "ws://" + net.JoinHostPort(proxyOnlyHost, pyPort) + "/echo"

	proxyEcho(t, target, proxyOpt("socks5h://"+ms))
	waitLog(t, msLog, "connected to "+proxyOnlyHost+":"+pyPort)
	// socks5 must resolve the name here, and cannot.
	pe := dialProxyErr(t, target, proxyOpt("socks5://"+ms))
	if !strings.Contains(pe.Error(), "resolves names locally") {
		t.Fatalf("socks5: %v", pe)
	}
}

// startDante runs danted (SOCKS4 and SOCKS5, no auth) and returns its
// address and log file.
func startDante(t *testing.T) (addr, logFile string) {
	t.Helper()
	requireBin(t, "dante-server", "danted")
	addr = freeAddr(t)
	host, port, _ := net.SplitHostPort(addr)
	dir := t.TempDir()
	conf := fmt.Sprintf(`logoutput: stderr
internal: %s port = %s
external: %s
clientmethod: none
socksmethod: none
user.privileged: root
user.unprivileged: nobody
client pass { from: 127.0.0.0/8 to: 0.0.0.0/0 log: error }
socks pass { from: 127.0.0.0/8 to: 0.0.0.0/0 log: connect error }
`, host, port, host)
	confFile := filepath.Join(dir, "danted.conf")
	os.WriteFile(confFile, []byte(conf), 0o644)
	run(t, "danted", "-V", "-f", confFile)
	logFile = filepath.Join(dir, "danted.log")
	startProc(t, logFile, "danted", "-f", confFile, "-p", filepath.Join(dir, "danted.pid"))
	waitListen(t, addr, logFile)
	return addr, logFile
}

func TestProxySocks4Dante(t *testing.T) {
	t.Parallel()
	testserver.Require(t, "root (danted switches users)", os.Geteuid() == 0)
	dante, danteLog := startDante(t)
	py := testserver.StartPython(t, testserver.PyOptions{})
	_, pyPort, _ := net.SplitHostPort(py.Addr)

	t.Run("socks4", func(t *testing.T) {
		proxyEcho(t, "ws://"+py.Addr+"/echo", proxyOpt("socks4://"+dante))
		// socks4 resolves names here, to IPv4.
		proxyEcho(t, "ws://localhost:"+pyPort+"/echo", proxyOpt("socks4://wsuser@"+dante))
		waitLog(t, danteLog, "pass(1): tcp/connect", "127.0.0.1."+pyPort)
	})
	t.Run("socks5", func(t *testing.T) {
		proxyEcho(t, "ws://"+py.Addr+"/echo", proxyOpt("socks5://"+dante))
	})
	t.Run("refused", func(t *testing.T) {
		pe := dialProxyErr(t, "ws://"+freeAddr(t)+"/", proxyOpt("socks4://"+dante))
		if pe.StatusCode != 91 {
			t.Fatalf("got %d %v, want reply 91", pe.StatusCode, pe)
		}
	})
	t.Run("ipv6-target", func(t *testing.T) {
		pe := dialProxyErr(t, "ws://[::1]:"+pyPort+"/", proxyOpt("socks4://"+dante))
		if !strings.Contains(pe.Message, "IPv6") {
			t.Fatalf("got %v", pe)
		}
	})
}

// startSSHSocks runs sshd (in a namespace with proxyOnlyHost) and an
// OpenSSH client with a dynamic forward (-D): a SOCKS4/4a/5 proxy whose
// names are resolved by sshd. It returns the proxy's address.
func startSSHSocks(t *testing.T) string {
	t.Helper()
	requireBin(t, "openssh-server", "/usr/sbin/sshd")
	requireBin(t, "openssh-client", "ssh", "ssh-keygen")
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	// sshd's privilege separation directory (its path is compiled in).
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
		testserver.Require(t, "/run/sshd (root)", false)
	}
	dir := t.TempDir()
	run(t, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(dir, "hostkey"))
	run(t, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(dir, "id"))
	os.WriteFile(filepath.Join(dir, "authorized_keys"), mustRead(t, filepath.Join(dir, "id.pub")), 0o600)
	sshdAddr := freeAddr(t)
	conf := fmt.Sprintf("ListenAddress %s\nHostKey %s/hostkey\nPidFile %s/sshd.pid\nAuthorizedKeysFile %s/authorized_keys\n"+
		"StrictModes no\nUsePAM no\nPermitRootLogin prohibit-password\n", sshdAddr, dir, dir, dir)
	os.WriteFile(filepath.Join(dir, "sshd_config"), []byte(conf), 0o644)
	sshdLog := filepath.Join(dir, "sshd.log")
	startWithHosts(t, sshdLog, "/usr/sbin/sshd", "-D", "-e", "-f", filepath.Join(dir, "sshd_config"))
	waitListen(t, sshdAddr, sshdLog)
	socks := freeAddr(t)
	_, sshdPort, _ := net.SplitHostPort(sshdAddr)
	sshLog := filepath.Join(dir, "ssh.log")
	startProc(t, sshLog, "ssh", "-F", "/dev/null", "-N", "-D", socks, "-i", filepath.Join(dir, "id"),
		"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
		"-o", "ExitOnForwardFailure=yes", "-p", sshdPort, me.Username+"@127.0.0.1")
	waitListen(t, socks, sshLog)
	return socks
}

func TestProxySocks4aSSH(t *testing.T) {
	t.Parallel()
	socks := startSSHSocks(t)
	py := testserver.StartPython(t, testserver.PyOptions{})
	_, pyPort, _ := net.SplitHostPort(py.Addr)
	target := "ws://" + net.JoinHostPort(proxyOnlyHost, pyPort) + "/echo"

	proxyEcho(t, target, proxyOpt("socks4a://"+socks))
	proxyEcho(t, "ws://"+py.Addr+"/echo", proxyOpt("socks4a://"+socks)) // an address goes as SOCKS4
	// socks4 must resolve the name here, and cannot.
	pe := dialProxyErr(t, target, proxyOpt("socks4://"+socks))
	if !strings.Contains(pe.Error(), "resolves names locally") {
		t.Fatalf("socks4: %v", pe)
	}
}
