//go:build unix

package pipe_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/internal/names"
	"github.com/xipc/xipc/pipe"
)

const secPeerEnv = "XIPC_SEC_PEER" // the pipe name a peer running as another user dials

func init() {
	if name := os.Getenv(secPeerEnv); name != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := pipe.Dial(ctx, name, nil)
		switch {
		case err == nil:
			_, err = c.Write([]byte("hi"))
			c.Close()
			if err == nil {
				fmt.Println("admitted")
				os.Exit(0)
			}
		case errors.Is(err, errs.ErrAccessDenied):
			fmt.Println("denied")
			os.Exit(0)
		}
		fmt.Println("error:", err)
		os.Exit(1)
	}
}

// TestOtherUser runs a client as another uid (root only) against pipes with
// each kind of Security.
func TestOtherUser(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run a client as another user")
	}
	// Everything the other user touches must be reachable by it: the test
	// binary and the namespace root, in a world-readable directory.
	dir, err := os.MkdirTemp("", "xipc-sec")
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
		sec      pipe.Security
		uid, gid uint32
		want     string
	}{
		{"owner-only", pipe.Security{}, nobody, nogroup, "denied"},
		{"all-users", pipe.Security{AllUsers: true}, nobody, nogroup, "admitted"},
		{"group-member", pipe.Security{Group: fmt.Sprint(nogroup)}, other, nogroup, "admitted"},
		{"group-outsider", pipe.Security{Group: fmt.Sprint(nogroup)}, other, other, "denied"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := `\\.\pipe\sec-` + tc.name
			l, err := pipe.Listen(name, &pipe.ListenConfig{Security: tc.sec})
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			go func() {
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					io.Copy(io.Discard, c)
					c.Close()
				}
			}()
			cmd := exec.Command(bin, "-test.run=^$")
			cmd.Env = append(os.Environ(), secPeerEnv+"="+name, "XIPC_ROOT="+root)
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: tc.uid, Gid: tc.gid}}
			out, err := cmd.CombinedOutput()
			if got := strings.TrimSpace(string(out)); err != nil || got != tc.want {
				t.Fatalf("client as uid %d gid %d: got %q (%v), want %q", tc.uid, tc.gid, got, err, tc.want)
			}
		})
	}
}

// TestPlantedFiles: something other than a socket where a pipe's socket
// belongs is refused, never removed or followed; a stale socket is replaced.
func TestPlantedFiles(t *testing.T) {
	t.Setenv("XIPC_ROOT", t.TempDir())
	dir, err := names.Dir("pipe")
	if err != nil {
		t.Fatal(err)
	}
	path, _ := names.Path(dir, "planted")
	target := filepath.Join(t.TempDir(), "precious")
	if err := os.WriteFile(target, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, plant := range []func() error{
		func() error { return os.WriteFile(path, []byte("x"), 0o600) },
		func() error { return os.Symlink(target, path) },
		func() error { return os.Mkdir(path, 0o700) },
	} {
		if err := plant(); err != nil {
			t.Fatal(err)
		}
		_, err := pipe.Listen("planted", nil)
		if !errors.Is(err, errs.ErrAccessDenied) || !strings.Contains(err.Error(), path) {
			t.Errorf("Listen over a planted file: got %v, want ErrAccessDenied naming %s", err, path)
		}
		if _, err := os.Lstat(path); err != nil {
			t.Errorf("the planted file was removed: %v", err)
		}
		os.Remove(path)
	}
	if b, err := os.ReadFile(target); err != nil || string(b) != "keep" {
		t.Errorf("symlink target touched: %q %v", b, err)
	}

	// A socket nobody listens on, as a crashed server leaves it.
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
	if _, err := pipe.Dial(context.Background(), "planted", nil); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("Dial of a stale socket: got %v, want ErrNotFound", err)
	}
	l, err := pipe.Listen("planted", &pipe.ListenConfig{FirstInstance: true})
	if err != nil {
		t.Fatalf("Listen over a stale socket: %v", err)
	}
	l.Close()
}

// TestRootChecks: a namespace root that is a symlink, or writable by others
// without the sticky bit, is refused with a reason.
func TestRootChecks(t *testing.T) {
	base := t.TempDir()
	real := filepath.Join(base, "real")
	if err := os.Mkdir(real, 0o700); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	t.Setenv("XIPC_ROOT", link)
	if _, err := pipe.Listen("rootcheck", nil); !errors.Is(err, errs.ErrAccessDenied) || !strings.Contains(err.Error(), "XIPC_ROOT") {
		t.Errorf("symlinked root: got %v, want ErrAccessDenied with a hint", err)
	}
	loose := filepath.Join(base, "loose")
	if err := os.Mkdir(loose, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(loose, 0o777); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		// Owned by root but shared without the sticky bit: a user could
		// delete another's objects. Hand it to another owner to see it
		// refused the way a non-root user would.
		if err := os.Chown(loose, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		t.Setenv("XIPC_ROOT", loose)
		if _, err := pipe.Listen("rootcheck", nil); !errors.Is(err, errs.ErrAccessDenied) {
			t.Errorf("root owned by another user: got %v, want ErrAccessDenied", err)
		}
	}
}

// TestUnknownGroup: Security naming a group that does not exist fails at
// Listen with ErrInvalidParameter and leaves the name free.
func TestUnknownGroup(t *testing.T) {
	t.Setenv("XIPC_ROOT", t.TempDir())
	_, err := pipe.Listen("group", &pipe.ListenConfig{Security: pipe.Security{Group: "xipc-no-such-group"}})
	if !errors.Is(err, errs.ErrInvalidParameter) {
		t.Fatalf("Listen with an unknown group: %v; want ErrInvalidParameter", err)
	}
	l, err := pipe.Listen("group", &pipe.ListenConfig{FirstInstance: true})
	if err != nil {
		t.Fatalf("the name after the failed Listen: %v", err)
	}
	l.Close()
}
