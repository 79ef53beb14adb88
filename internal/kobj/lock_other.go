//go:build unix && !linux

package kobj

import (
	"os"

	"github.com/xipc/xipc/internal/errs"

	"golang.org/x/sys/unix"
)

// Elsewhere, flock: a shared lock cannot be taken over atomically, so a
// second creator may slip in while the first downgrades; it then sees a
// live object, which is what it is. Types are not recorded.

func tryLock(f *os.File, exclusive bool) (bool, error) {
	how := unix.LOCK_SH
	if exclusive {
		how = unix.LOCK_EX
	}
	switch err := unix.Flock(int(f.Fd()), how|unix.LOCK_NB); err {
	case nil:
		return true, nil
	case unix.EWOULDBLOCK:
		return false, nil
	default:
		return false, err
	}
}

func lockShared(f *os.File) error { return unix.Flock(int(f.Fd()), unix.LOCK_SH) }
func downgrade(f *os.File) error  { return unix.Flock(int(f.Fd()), unix.LOCK_SH) }
func unlock(f *os.File)           { unix.Flock(int(f.Fd()), unix.LOCK_UN) }

// othersHold: flock cannot ask; assume the object is live.
func othersHold(*os.File) bool { return true }

func setType(*os.File, string) error { return nil }
func typeOf(*os.File) string         { return "" }

// SetAttr: no portable extended attributes here.
func SetAttr(*os.File, string, string) error { return errs.ErrNotSupported }

// Attr returns "": nothing is recorded here.
func Attr(*os.File, string) string { return "" }
