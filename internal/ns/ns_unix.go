//go:build unix

// Package ns manages the files that stand for live objects in the Unix
// emulation's namespace (see internal/names for the directory layout).
//
// A server that owns a name holds an exclusive flock on NAME%lock for as
// long as the object lives. The kernel drops the lock when the process
// dies, so a socket or file whose lock is free was left by a crash and may be
// replaced, and a lock held by someone else means the name is taken.
package ns

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/internal/names"
)

// Path returns the path of the object key of the given kind ("pipe",
// "mailslot", ...), creating and checking the directories on the way.
func Path(kind, key string) (string, error) {
	dir, err := names.Dir(kind)
	if err != nil {
		return "", err
	}
	p, _ := names.Path(dir, key)
	return p, nil
}

// LockSuffix ends the name of an object's lock file. names.Path never writes
// a '%' followed by 'l' (it escapes '%' as %25), so no object's own path is a
// lock file's (with ".lock", a slot named "x.lock" collided with slot x's).
const LockSuffix = "%lock"

// LockPath returns the lock file of the object at path.
func LockPath(path string) string { return path + LockSuffix }

// Claim is a live owner's hold on a name.
type Claim struct {
	Path  string // where the object's socket or file goes
	lock  *os.File
	extra []string
}

// Extra returns the path of a second socket of the object,
// names.Sibling(Path, suffix), after removing a stale one left there by a
// crashed owner. Release removes it.
func (c *Claim) Extra(suffix string) (string, error) {
	p := names.Sibling(c.Path, suffix)
	if err := removeStale(p); err != nil {
		return "", err
	}
	c.extra = append(c.extra, p)
	return p, nil
}

// Acquire claims the name key of the given kind for this process: it takes
// the name's lock (ErrExists when another live process holds it) and
// removes a stale socket left at Path by a crashed owner. info is written
// to the lock file: the object's full name on the first line (for
// listings), then whatever else its openers need to know.
func Acquire(kind, key, info string) (*Claim, error) {
	path, err := Path(kind, key)
	if err != nil {
		return nil, err
	}
	lock, err := lockFile(LockPath(path), info)
	if err != nil {
		return nil, err
	}
	if err := removeStale(path); err != nil {
		lock.Close()
		return nil, err
	}
	return &Claim{Path: path, lock: lock}, nil
}

// Release removes the object's paths and its lock file, then drops the lock.
// The removal comes first, while the name is still ours.
func (c *Claim) Release() {
	os.Remove(c.Path)
	for _, p := range c.extra {
		os.Remove(p)
	}
	os.Remove(c.lock.Name())
	c.lock.Close()
}

func lockFile(path, info string) (*os.File, error) {
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0o644)
		if err != nil {
			if errors.Is(err, syscall.ELOOP) {
				return nil, errs.New(errs.ErrAccessDenied, fmt.Errorf("%s is a symlink", path))
			}
			return nil, errs.FromSys(err)
		}
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
			f.Close()
			if errors.Is(err, unix.EWOULDBLOCK) {
				return nil, errs.New(errs.ErrExists, errors.New("the name is held by a live object"))
			}
			return nil, err
		}
		// Not held: a leftover, which is ours to reuse only if it is ours.
		if err := mine(f, path); err != nil {
			f.Close()
			return nil, err
		}
		// The previous owner may have unlinked the file between our open
		// and our lock: only a lock on the file the path names counts.
		var held, now unix.Stat_t
		if unix.Fstat(int(f.Fd()), &held) == nil && unix.Stat(path, &now) == nil &&
			held.Dev == now.Dev && held.Ino == now.Ino {
			if f.Truncate(0) == nil {
				// Informational only: listings read the full name here.
				f.WriteAt([]byte(info+"\n"), 0) //nolint:errcheck
			}
			return f, nil
		}
		f.Close()
	}
}

// removeStale removes a socket left by a crashed owner. Anything else at
// the path — a planted file, a symlink, a directory — is refused, never
// removed or followed.
func removeStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode().Type() != os.ModeSocket {
		return errs.New(errs.ErrAccessDenied, fmt.Errorf("%s exists and is not a socket", path))
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return errs.New(errs.ErrAccessDenied, fmt.Errorf("%s is a socket of uid %d: its owner must remove it", path, st.Uid))
	}
	return os.Remove(path)
}

// mine refuses a lock file that is not a regular file of the caller's
// (planted by another user, or left by one): never truncated or locked,
// not even by root.
func mine(f *os.File, path string) error {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		return errs.New(errs.ErrAccessDenied, fmt.Errorf("%s is not a regular file", path))
	}
	if int(st.Uid) != os.Geteuid() {
		return errs.New(errs.ErrAccessDenied, fmt.Errorf("%s belongs to uid %d: its owner must remove it", path, st.Uid))
	}
	return nil
}

// Protect sets the mode and group of an object's file from its security
// options: owner-only (0600) by default, the group too (0660) when group
// is set (a group name or a numeric gid), everyone (0666) with allUsers.
func Protect(path string, allUsers bool, group string) error {
	mode, gid := os.FileMode(0o600), -1
	switch {
	case allUsers:
		mode = 0o666
	case group != "":
		mode = 0o660
		var err error
		if gid, err = LookupGroup(group); err != nil {
			return err
		}
	}
	if err := os.Chmod(path, mode); err != nil {
		return err
	}
	if gid >= 0 {
		return os.Chown(path, -1, gid)
	}
	return nil
}

// LookupGroup returns the gid of a group name or numeric gid.
func LookupGroup(group string) (int, error) {
	if gid, err := strconv.Atoi(group); err == nil {
		return gid, nil
	}
	g, err := user.LookupGroup(group)
	if err != nil {
		return 0, errs.New(errs.ErrInvalidParameter, fmt.Errorf("group %q: %w", group, err))
	}
	return strconv.Atoi(g.Gid)
}
