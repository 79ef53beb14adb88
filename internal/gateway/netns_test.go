//go:build linux

package gateway_test

// Hosts for the tests: network namespaces joined by a bridge, each a
// "machine" with its own address on 10.77.0.0/24 and its own xipc
// namespace root. Processes run inside them through `ip netns exec`,
// which re-executes this test binary in a role (see roles_test.go).

import (
	"bufio"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const subnet = "10.77.0."

// broadcastAddr is the segment's broadcast address and gateway port.
const broadcastAddr = subnet + "255:7440"

type host struct {
	name string // a letter: a, b, c
	ns   string
	ip   string
	root string // XIPC_ROOT of the host
}

type lan struct {
	t     *testing.T
	sw    string
	hosts []*host
	pki   string // certificates: pki/<host name>, pki/other-ca/...
}

// ip runs the ip command.
func ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return nil
}

// newLAN creates n hosts on one segment, or skips the test when it cannot
// (not root, no ip command, no namespaces). Everything is removed at the
// end of the test, pass or fail.
func newLAN(t *testing.T, n int) *lan {
	t.Helper()
	if testing.Short() {
		t.Skip("network-namespace tests are long; skipped with -short")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces (ip netns add); run the tests as root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs the ip command (iproute2): apt-get install iproute2")
	}
	id := fmt.Sprintf("%d%03x", os.Getpid()%10000, rand.IntN(0xfff))
	l := &lan{t: t, sw: "xgw-sw-" + id}
	if err := ip("netns", "add", l.sw); err != nil {
		t.Skipf("cannot create a network namespace here (%v): skipped", err)
	}
	t.Cleanup(func() { ip("netns", "del", l.sw) })
	must := func(args ...string) {
		t.Helper()
		if err := ip(args...); err != nil {
			t.Fatal(err)
		}
	}
	must("-n", l.sw, "link", "add", "br0", "type", "bridge")
	must("-n", l.sw, "link", "set", "br0", "up")
	for i := range n {
		h := &host{name: string(rune('a' + i)), ip: fmt.Sprintf("%s%d", subnet, i+1), root: t.TempDir()}
		h.ns = "xgw-" + h.name + "-" + id
		must("netns", "add", h.ns)
		t.Cleanup(func() { ip("netns", "del", h.ns) })
		port := fmt.Sprintf("p%s%s", h.name, id)
		if len(port) > 15 {
			port = port[:15]
		}
		must("link", "add", "eth0", "netns", h.ns, "type", "veth", "peer", "name", port, "netns", l.sw)
		must("-n", l.sw, "link", "set", port, "master", "br0", "up")
		must("-n", h.ns, "addr", "add", h.ip+"/24", "brd", "+", "dev", "eth0")
		must("-n", h.ns, "link", "set", "eth0", "up")
		must("-n", h.ns, "link", "set", "lo", "up")
		l.hosts = append(l.hosts, h)
	}
	// Certificates: one per host, named by its letter and address.
	l.pki = t.TempDir()
	var hs []string
	for _, h := range l.hosts {
		hs = append(hs, h.name+"="+h.ip)
	}
	if err := writeCerts(l.pki, hs); err != nil {
		t.Fatal(err)
	}
	return l
}

// proc is a role process running in a host.
type proc struct {
	t     *testing.T
	what  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
	done  chan struct{}
	mu    sync.Mutex
	out   []string
}

// start runs this test binary in role inside h with the environment env.
func (h *host) start(t *testing.T, l *lan, role string, env ...string) *proc {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("ip", "netns", "exec", h.ns, exe, "-test.run=^TestRole$")
	cmd.Env = append(os.Environ(), "XIPC_GW_ROLE="+role, "XIPC_ROOT="+h.root,
		"XIPC_TLS_DIR="+filepath.Join(l.pki, h.name), "XIPC_MAILSLOT_BROADCAST="+broadcastAddr)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = &testLog{t: t, prefix: h.name + "/" + role + ": "}
	p := &proc{t: t, what: h.name + "/" + role, cmd: cmd, lines: make(chan string, 1024), done: make(chan struct{})}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.mu.Lock()
			p.out = append(p.out, sc.Text())
			p.mu.Unlock()
			select {
			case p.lines <- sc.Text():
			default:
			}
		}
		cmd.Wait()
	}()
	t.Cleanup(p.kill)
	return p
}

// expect waits for a line starting with prefix and returns it.
func (p *proc) expect(prefix string) string {
	p.t.Helper()
	timeout := time.NewTimer(time.Minute)
	defer timeout.Stop()
	for {
		select {
		case s := <-p.lines:
			if strings.HasPrefix(s, prefix) {
				return s
			}
		case <-p.done:
			// Drain what came before the end.
			for {
				select {
				case s := <-p.lines:
					if strings.HasPrefix(s, prefix) {
						return s
					}
					continue
				default:
				}
				break
			}
			p.t.Fatalf("%s ended without printing %q", p.what, prefix)
		case <-timeout.C:
			p.t.Fatalf("%s did not print %q within a minute", p.what, prefix)
		}
	}
}

// kill ends the process with SIGKILL and waits for it.
func (p *proc) kill() {
	if p.cmd.Process != nil {
		p.cmd.Process.Kill()
	}
	<-p.done
}

// stop closes the process's stdin, which roles take as the order to end,
// and waits.
func (p *proc) stop() {
	p.stdin.Close()
	select {
	case <-p.done:
	case <-time.After(time.Minute):
		p.t.Errorf("%s did not stop", p.what)
		p.kill()
	}
}

type testLog struct {
	t      *testing.T
	prefix string
	mu     sync.Mutex
}

func (w *testLog) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		w.t.Log(w.prefix + line)
	}
	return len(b), nil
}
