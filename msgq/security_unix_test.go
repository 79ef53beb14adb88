//go:build unix

package msgq

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/xipc/xipc/internal/errs"
)

const secPeerEnv = "XIPC_MSGQ_SEC_PEER" // the queue a sender running as another user posts to

func init() {
	if name := os.Getenv(secPeerEnv); name != "" {
		t, err := Find(name)
		if err == nil {
			err = t.Post(WM_USER, 1, 2)
		}
		switch {
		case err == nil:
			fmt.Println("admitted")
			os.Exit(0)
		case errors.Is(err, errs.ErrAccessDenied):
			fmt.Println("denied")
			os.Exit(0)
		}
		fmt.Println("error:", err)
		os.Exit(1)
	}
}

// TestOtherUser runs a sender as another uid (root only) against queues
// with each kind of Security: Find looks in other users' queues, and the
// queue's file mode decides.
func TestOtherUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a sender as another user")
	}
	dir, err := os.MkdirTemp("", "xipc-msgq-sec")
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

	const nobody, nogroup, other = 65534, 65534, 65533
	cases := []struct {
		name     string
		sec      Security
		uid, gid uint32
		want     string
	}{
		{"owner-only", Security{}, nobody, nogroup, "denied"},
		{"all-users", Security{AllUsers: true}, nobody, nogroup, "admitted"},
		{"group-member", Security{Group: fmt.Sprint(nogroup)}, other, nogroup, "admitted"},
		{"group-outsider", Security{Group: fmt.Sprint(nogroup)}, other, other, "denied"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := "sec-" + tc.name
			q, err := Register(name, &Options{Security: tc.sec})
			if err != nil {
				t.Fatal(err)
			}
			defer q.Close()
			cmd := exec.Command(bin, "-test.run=^$")
			cmd.Env = append(os.Environ(), secPeerEnv+"="+name, "XIPC_ROOT="+root)
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: tc.uid, Gid: tc.gid}}
			out, err := cmd.CombinedOutput()
			if got := strings.TrimSpace(string(out)); err != nil || got != tc.want {
				t.Fatalf("sender as uid %d gid %d: got %q (%v), want %q", tc.uid, tc.gid, got, err, tc.want)
			}
			m, err := q.Peek(0, 0, true)
			if err != nil {
				t.Fatal(err)
			}
			if (m != nil) != (tc.want == "admitted") {
				t.Fatalf("the queue got %v; the sender was %s", m, tc.want)
			}
		})
	}
}
