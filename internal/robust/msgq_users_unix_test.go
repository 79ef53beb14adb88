//go:build unix

package robust

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/msgq"
)

func init() { peerRoles["msgq"] = msgqPeer }

// msgqPeer obeys lines from stdin, answering each with one line:
//
//	register NAME      registers NAME open to all users and keeps it; an outcome
//	find NAME OWNER    finds NAME trusting OWNER ("-", "any" or a user) and
//	                   posts WM_USER 7 8 to it; an outcome
//	get                the next message of the first queue, or "none"
func msgqPeer() int {
	var held []*msgq.Queue
	defer func() {
		for _, q := range held {
			q.Close()
		}
	}()
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		var res string
		switch {
		case len(f) == 2 && f[0] == "register":
			q, err := msgq.Register(f[1], &msgq.Options{Security: msgq.Security{AllUsers: true}})
			res = outcome(err)
			if err == nil {
				held = append(held, q)
			}
		case len(f) == 3 && f[0] == "find":
			res = outcome(msgqFindPost(f[1], f[2]))
		case len(f) == 1 && f[0] == "get" && len(held) > 0:
			m, err := held[0].Peek(0, 0, true)
			switch {
			case err != nil:
				res = outcome(err)
			case m == nil:
				res = "none"
			default:
				res = m.String()
			}
		default:
			res = fmt.Sprintf("error: bad command %q", sc.Text())
		}
		fmt.Println(res)
	}
	return 0
}

// msgqFindPost finds name trusting own and posts WM_USER 7 8 to it.
func msgqFindPost(name, own string) error {
	any, user := ownerOf(own)
	t, err := msgq.Find(name, msgq.Owner{User: user, AnyUser: any})
	if err != nil {
		return err
	}
	defer t.Close()
	return t.Post(msgq.WM_USER, 7, 8)
}

// msgqPeerAs starts a msgq peer as uid:gid.
func msgqPeerAs(t *testing.T, b *userBench, uid, gid uint32) *peer {
	return startPeer(t, b.bin, "msgq", []string{"XIPC_ROOT=" + b.root}, func(c *exec.Cmd) {
		c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: gid}}
	})
}

// queueFileOf returns the file of uid's queue name (a name of lower-case
// letters, digits and '-', which are their own file names).
func queueFileOf(t *testing.T, uid int, name string) string {
	t.Helper()
	m, err := filepath.Glob(fmt.Sprintf("/dev/shm/xipc*.m%d.%s", uid, name))
	if err != nil || len(m) != 1 {
		t.Fatalf("the queue file of uid %d's %s: %v %v", uid, name, m, err)
	}
	return m[0]
}

// plantInRootsNames links uid's queue file of name where root's own queue
// of that name would go, as a user who creates the file there would (the
// directory is shared and sticky), and returns that path.
func plantInRootsNames(t *testing.T, uid int, name string) string {
	t.Helper()
	theirs := queueFileOf(t, uid, name)
	ours := strings.Replace(theirs, fmt.Sprintf(".m%d.", uid), fmt.Sprintf(".m%d.", os.Geteuid()), 1)
	if err := os.Link(theirs, ours); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(ours) })
	return ours
}

// TestMsgqSquatting: a queue that another user registered under a name is
// not trusted by Find: root (and another plain user) refuses it by default
// with ErrAccessDenied naming the queue and its owner, and posts to it only
// when Owner names that user or any user. A file of that user planted
// where root's own queue of the name goes is refused too, and Register
// fails naming it instead of removing it.
func TestMsgqSquatting(t *testing.T) {
	b := newUserBench(t)
	squatter := msgqPeerAs(t, b, nobody, nobody)
	victim := msgqPeerAs(t, b, another, another)
	name := uniq("msgq-squat")
	if got := squatter.do("register " + name); got != "ok" {
		t.Fatalf("the squatter's register: %s", got)
	}
	_, err := msgq.Find(name)
	if outcome(err) != "denied" || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), fmt.Sprint("uid ", nobody)) {
		t.Errorf("root finds another user's queue: %v; want ErrAccessDenied naming %s and uid %d", err, name, nobody)
	}
	for _, tc := range []struct{ own, want string }{
		{"-", "denied"}, {"nobody", "ok"}, {fmt.Sprint(nobody), "ok"}, {"any", "ok"}, {fmt.Sprint(another), "denied"},
	} {
		err := msgqFindPost(name, tc.own)
		if outcome(err) != tc.want {
			t.Errorf("root finds with owner %s: %v; want %s", tc.own, err, tc.want)
		}
		got := squatter.do("get")
		if want := "none"; tc.want == "ok" {
			want = "msg=0x0400 wparam=7 lparam=8"
			if got != want {
				t.Errorf("owner %s: the queue got %q; want %q", tc.own, got, want)
			}
		} else if got != want {
			t.Errorf("owner %s, refused: the queue got %q all the same", tc.own, got)
		}
	}
	if got := victim.do("find " + name + " -"); got != "denied" {
		t.Errorf("uid %d finds: %s; want denied", another, got)
	}
	if got := victim.do("find " + name + " nobody"); got != "ok" {
		t.Errorf("uid %d finds trusting nobody: %s; want ok", another, got)
	}
	if got := squatter.do("get"); got != "msg=0x0400 wparam=7 lparam=8" {
		t.Errorf("uid %d's post: the queue got %q", another, got)
	}

	// Planted in root's own names: refused, and not removed by Register.
	planted := plantInRootsNames(t, nobody, name)
	if _, err := msgq.Find(name); outcome(err) != "denied" {
		t.Errorf("root finds a file of uid %d in its own names: %v; want denied", nobody, err)
	}
	q, err := msgq.Register(name, nil)
	if err == nil {
		q.Close()
	}
	if outcome(err) != "denied" || !strings.Contains(err.Error(), planted) {
		t.Errorf("root registers over a file of uid %d: %v; want ErrAccessDenied naming %s", nobody, err, planted)
	}
	if _, err := os.Lstat(planted); err != nil {
		t.Errorf("the planted file is gone: %v", err)
	}
	if got := squatter.do("get"); got != "none" {
		t.Errorf("the squatter got %q", got)
	}
}

// TestMsgqForeignStale: the queue file of another user whose receiver died
// is left alone by root: not by Find (even trusting any user), not by the
// sweep of Register, not by Register of its name.
func TestMsgqForeignStale(t *testing.T) {
	b := newUserBench(t)
	p := msgqPeerAs(t, b, nobody, nobody)
	name := uniq("msgq-stale")
	if got := p.do("register " + name); got != "ok" {
		t.Fatalf("register as uid %d: %s", nobody, got)
	}
	theirs := queueFileOf(t, nobody, name)
	planted := plantInRootsNames(t, nobody, name)
	p.kill()
	t.Cleanup(func() { os.Remove(theirs) })

	if _, err := msgq.Find(name); outcome(err) != "denied" {
		t.Errorf("root finds a dead queue of uid %d: %v; want denied", nobody, err)
	}
	if _, err := msgq.Find(name, msgq.Owner{AnyUser: true}); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("root finds a dead queue of uid %d trusting anyone: %v; want ErrNotFound", nobody, err)
	}
	other := uniq("msgq-sweep")
	q, err := msgq.Register(other, nil) // sweeps root's names
	if err != nil {
		t.Fatal(err)
	}
	q.Close()
	if _, err := msgq.Register(name, nil); outcome(err) != "denied" {
		t.Errorf("root registers over uid %d's dead queue: %v; want denied", nobody, err)
	}
	for _, f := range []string{theirs, planted} {
		if _, err := os.Lstat(f); err != nil {
			t.Errorf("uid %d's file %s was removed: %v", nobody, f, err)
		}
	}
}

// TestMsgqUnknownOwner: an Owner naming no user is ErrInvalidParameter.
func TestMsgqUnknownOwner(t *testing.T) {
	_, err := msgq.Find("unknown-owner", msgq.Owner{User: "xipc-no-such-user"})
	if !errors.Is(err, errs.ErrInvalidParameter) {
		t.Errorf("msgq.Find: %v; want ErrInvalidParameter", err)
	}
}
