//go:build unix

package robust

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/xipc/xipc/internal/kobj"
	"github.com/xipc/xipc/internal/names"
	"github.com/xipc/xipc/internal/ns"
)

const (
	nobody  = 65534 // nobody, and the nogroup group
	another = 65533 // a second uid (and gid) with no name
)

// userBench is what tests that run peers as other users need: a copy of
// the test binary and a namespace root that those users can reach.
type userBench struct {
	bin  string
	root string
}

func newUserBench(t *testing.T) *userBench {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to run peers as other users")
	}
	dir, err := os.MkdirTemp("", "xipc-robust")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "peer.test")
	data, err := os.ReadFile(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "root")
	t.Setenv("XIPC_ROOT", root)
	// Made by root, shared and sticky, as /tmp/.xipc would be.
	for _, kind := range []string{"pipe", "mailslot", "kobj"} {
		if _, err := names.Dir(kind); err != nil {
			t.Fatal(err)
		}
	}
	return &userBench{bin: bin, root: root}
}

// peerAs starts an objects peer as uid:gid.
func (b *userBench) peerAs(t *testing.T, uid, gid uint32) *peer {
	return startPeer(t, b.bin, "objects", []string{"XIPC_ROOT=" + b.root}, func(c *exec.Cmd) {
		c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid}}
	})
}

func uniq(prefix string) string { return fmt.Sprintf("%s-%d-%x", prefix, os.Getpid(), rand.Uint32()) }

// TestPermissions: every kind of object is owner-only by default, and
// admits every user or a group's members only when its Security says so.
// Root creates; the other side runs as nobody, or as a second uid in (or
// out of) nobody's group.
func TestPermissions(t *testing.T) {
	b := newUserBench(t)
	cases := []struct {
		name     string
		sec      string
		uid, gid uint32
		want     string
	}{
		{"owner-only/nobody", "owner", nobody, nobody, "denied"},
		{"owner-only/group-member", "owner", another, nobody, "denied"},
		{"all-users/nobody", "all", nobody, nobody, "ok"},
		{"group/member", fmt.Sprint("group:", nobody), another, nobody, "ok"},
		{"group/outsider", fmt.Sprint("group:", nobody), another, another, "denied"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := b.peerAs(t, tc.uid, tc.gid)
			for _, kind := range kinds {
				name := objName(kind, uniq("perm"))
				c, _, err := create(kind, name, tc.sec, "-")
				if err != nil {
					t.Fatalf("%s: create: %v", kind, err)
				}
				if got := p.do(fmt.Sprintf("open %s %s -", kind, name)); got != tc.want {
					t.Errorf("%s %s opened as uid %d gid %d: %s; want %s", kind, name, tc.uid, tc.gid, got, tc.want)
				}
				c.Close()
			}
		})
	}
}

// TestSquatting: an object that another user created first under a name is
// not trusted. A root opener (and another plain user) refuses it by default
// and takes it only when Owner names that user or any user; creating under
// the name fails instead of joining it.
func TestSquatting(t *testing.T) {
	b := newUserBench(t)
	squatter := b.peerAs(t, nobody, nobody)
	victim := b.peerAs(t, another, another)
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			name := objName(kind, uniq("squat"))
			if got := squatter.do(fmt.Sprintf("create %s %s all -", kind, name)); got != "ok" {
				t.Fatalf("the squatter's create: %s", got)
			}
			for _, tc := range []struct{ own, want string }{
				{"-", "denied"}, {"nobody", "ok"}, {fmt.Sprint(nobody), "ok"}, {"any", "ok"}, {fmt.Sprint(another), "denied"},
			} {
				if err := open(kind, name, tc.own); outcome(err) != tc.want {
					t.Errorf("root opens with owner %s: %v; want %s", tc.own, err, tc.want)
				}
			}
			if got := victim.do(fmt.Sprintf("open %s %s -", kind, name)); got != "denied" {
				t.Errorf("uid %d opens: %s; want denied", another, got)
			}
			if got := victim.do(fmt.Sprintf("open %s %s nobody", kind, name)); got != "ok" {
				t.Errorf("uid %d opens trusting nobody: %s; want ok", another, got)
			}
			// Creating under the name: pipes, mailslots and rings refuse a
			// name that exists whoever holds it; shm and sync objects would
			// join, and must not join a stranger's object.
			want := map[string]string{"pipe": "exists", "mailslot": "exists", "ring": "denied"}[kind]
			if want == "" {
				want = "denied"
			}
			c, joined, err := create(kind, name, "owner", "-")
			if err == nil {
				c.Close()
			}
			if outcome(err) != want {
				t.Errorf("root creates %s: %v (joined %v); want %s", name, err, joined, want)
			}
			if kind == "pipe" || kind == "mailslot" || kind == "ring" {
				return
			}
			c, joined, err = create(kind, name, "owner", "nobody")
			if err != nil || !joined {
				t.Errorf("root creates %s trusting nobody: %v (joined %v); want it joined", name, err, joined)
			}
			if c != nil {
				c.Close()
			}
		})
	}
}

// TestLeftoverOfAnotherUser: a file of another user where a kernel object
// of root's would go (a leftover, or planted) is neither reused nor removed,
// even by root, whose Create fails naming it: its owner might still hold a
// descriptor of it and see the new object.
func TestLeftoverOfAnotherUser(t *testing.T) {
	newUserBench(t)
	for _, kind := range []string{"shm", "mutex", "event", "semaphore", "ring"} {
		name := objName(kind, uniq("left"))
		k, err := names.ParseKernel(name)
		if err != nil {
			t.Fatal(err)
		}
		path, err := kobj.Path(k)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("theirs"), 0o666); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(path, nobody, nobody); err != nil {
			t.Fatal(err)
		}
		_, _, err = create(kind, name, "owner", "-")
		if outcome(err) != "denied" || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: create over another user's file: %v; want ErrAccessDenied naming %s", kind, err, path)
		}
		if b, err := os.ReadFile(path); err != nil || string(b) != "theirs" {
			t.Errorf("%s: the other user's file was changed: %q, %v", kind, b, err)
		}
		os.Remove(path)
	}
}

// TestLeftoverNamesOfAnotherUser: a lock file or a socket of another user
// where a pipe's or a mailslot's go (a crashed server's, or planted) is
// neither truncated, locked nor removed, even by root: Listen and Create
// fail with ErrAccessDenied naming it.
func TestLeftoverNamesOfAnotherUser(t *testing.T) {
	newUserBench(t)
	for _, kind := range []string{"pipe", "mailslot"} {
		for _, plant := range []string{"lock", "socket"} {
			name := uniq("leftover")
			var key string
			if kind == "pipe" {
				p, _ := names.ParsePipe(name)
				key = p.Key()
			} else {
				m, _ := names.ParseMailslot(name)
				key = m.Key()
			}
			path, err := ns.Path(kind, key)
			if err != nil {
				t.Fatal(err)
			}
			target := ns.LockPath(path)
			if plant == "lock" {
				err = os.WriteFile(target, []byte("theirs"), 0o666)
			} else {
				target = path
				var ln *net.UnixListener
				if ln, err = net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"}); err == nil {
					ln.SetUnlinkOnClose(false)
					ln.Close() // a dead server's socket
				}
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Lchown(target, nobody, nobody); err != nil {
				t.Fatal(err)
			}
			before, _ := os.Lstat(target)
			_, _, err = create(kind, name, "owner", "-")
			if outcome(err) != "denied" || !strings.Contains(err.Error(), target) {
				t.Errorf("%s over another user's %s: %v; want ErrAccessDenied naming %s", kind, plant, err, target)
			}
			after, err := os.Lstat(target)
			if err != nil || !os.SameFile(before, after) || after.Size() != before.Size() {
				t.Errorf("%s: another user's %s was changed or removed: %v", kind, plant, err)
			}
			os.Remove(target)
		}
	}
}
