package kobj

import (
	"errors"
	"os"

	"github.com/xipc/xipc/internal/errs"

	"golang.org/x/sys/unix"
)

// Locks are open-file-description locks on the file's first byte: like
// flock they belong to the open file and go when the process dies, and a
// shared lock can be taken over exclusively (and back) in one step, so no
// other process slips in between.

func setlk(f *os.File, cmd int, typ int16) error {
	lk := unix.Flock_t{Type: typ, Whence: 0, Start: 0, Len: 1}
	for {
		err := unix.FcntlFlock(f.Fd(), cmd, &lk)
		if err != unix.EINTR {
			return err
		}
	}
}

// tryLock takes the lock (exclusively or shared) without waiting; false
// when another holder conflicts.
func tryLock(f *os.File, exclusive bool) (bool, error) {
	typ := int16(unix.F_RDLCK)
	if exclusive {
		typ = unix.F_WRLCK
	}
	switch err := setlk(f, unix.F_OFD_SETLK, typ); err {
	case nil:
		return true, nil
	case unix.EAGAIN, unix.EACCES:
		return false, nil
	default:
		return false, err
	}
}

// lockShared takes the shared lock, waiting while a creator or a closer
// holds the object exclusively (briefly).
func lockShared(f *os.File) error { return setlk(f, unix.F_OFD_SETLKW, unix.F_RDLCK) }

// downgrade turns the exclusive lock into a shared one, atomically.
func downgrade(f *os.File) error { return setlk(f, unix.F_OFD_SETLK, unix.F_RDLCK) }

func unlock(f *os.File) { setlk(f, unix.F_OFD_SETLK, unix.F_UNLCK) }

// othersHold reports whether another open file holds a lock on f's object.
func othersHold(f *os.File) bool {
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: 0, Len: 1}
	if err := unix.FcntlFlock(f.Fd(), unix.F_OFD_GETLK, &lk); err != nil {
		return true // cannot tell: assume live
	}
	return lk.Type != unix.F_UNLCK
}

// setType records the object's type in an extended attribute. A file
// system without user attributes keeps no type (no ErrWrongType checks).
func setType(f *os.File, typ string) error {
	err := SetAttr(f, "type", typ)
	if errors.Is(err, errs.ErrNotSupported) {
		return nil
	}
	return err
}

// typeOf returns the recorded type, or "" when there is none.
func typeOf(f *os.File) string { return Attr(f, "type") }

// SetAttr records a value of the object (user.xipc.NAME); ErrNotSupported
// where the file system keeps no user attributes.
func SetAttr(f *os.File, name, value string) error {
	err := unix.Fsetxattr(int(f.Fd()), "user.xipc."+name, []byte(value), 0)
	if err == unix.ENOTSUP || err == unix.EOPNOTSUPP {
		return errs.New(errs.ErrNotSupported, err)
	}
	return err
}

// Attr returns a value SetAttr recorded, or "".
func Attr(f *os.File, name string) string {
	buf := make([]byte, 4096)
	n, err := unix.Fgetxattr(int(f.Fd()), "user.xipc."+name, buf)
	if err != nil {
		return ""
	}
	return string(buf[:n])
}
