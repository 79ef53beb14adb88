//go:build unix

package mailslot

import (
	"errors"
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/internal/owner"
)

// A datagram socket tells no peer credentials, so a writer trusts a slot
// by its files: the socket and its lock file must belong to a trusted user
// (in the sticky namespace directory only their owner or root can replace
// them), and the socket must be the same file before and after connect.

// slotFile returns the socket file at path after checking its type and
// owner.
func slotFile(path string, trust owner.Trust) (unix.Stat_t, error) {
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return st, errs.New(errs.ErrNotFound, err)
	}
	if st.Mode&unix.S_IFMT != unix.S_IFSOCK {
		return st, errs.New(errs.ErrAccessDenied, fmt.Errorf("%s is not a socket", path))
	}
	return st, trust.CheckUID(int(st.Uid), path)
}

// sameSlot checks that path still names the socket first seen as before.
func sameSlot(path string, before unix.Stat_t, trust owner.Trust) error {
	after, err := slotFile(path, trust)
	if err != nil {
		return err
	}
	if after.Dev != before.Dev || after.Ino != before.Ino {
		return errs.New(errs.ErrNotFound, errors.New("the mailslot was replaced while opening it"))
	}
	return nil
}

// openLock opens a slot's lock file for reading its parameters: never
// through a symlink, never blocking on a FIFO planted there, and only a
// regular file of a trusted user.
func openLock(path string, trust owner.Trust) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, errs.New(errs.ErrAccessDenied, fmt.Errorf("%s is a symlink", path))
		}
		return nil, errs.FromSys(err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		f.Close()
		return nil, err
	}
	if st.Mode&unix.S_IFMT != unix.S_IFREG {
		f.Close()
		return nil, errs.New(errs.ErrAccessDenied, fmt.Errorf("%s is not a regular file", path))
	}
	if err := trust.CheckUID(int(st.Uid), path); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}
