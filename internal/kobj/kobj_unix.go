//go:build unix

// Package kobj is the Unix emulation's namespace of Win32 kernel objects:
// file mappings, mutexes, events and semaphores share it, as they share one
// namespace on Windows. Each object is a file in /dev/shm (so that a C
// program can shm_open it), named from its kernel-object name:
//
//	/dev/shm/xipc.l<UID>.NAME   Local\NAME of the user UID (Local is per session on Windows;
//	                            here, per user)
//	/dev/shm/xipc.g.NAME        Global\NAME
//
// Bytes of NAME outside [A-Za-z0-9._-] are escaped as %XX; a name too long
// for a file name becomes a hash. When XIPC_ROOT is set (tests), the prefix
// is "xipc-HASH." with a hash of the root, so that separate roots do not
// share objects. Systems without /dev/shm keep the files in ROOT/kobj.
//
// Win32 lifetime: an object exists while any handle to it is open. Every
// open handle holds a shared lock on the file; a closer that can take the
// lock exclusively is the last and removes the file, and a creator that can
// take it exclusively finds no live holder, so it starts the object afresh
// (zero-filled), whatever a crashed process left there. The type of object
// is kept in an extended attribute, so that a name held by one type cannot
// be opened as another (ErrWrongType).
package kobj

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/internal/names"
	"github.com/xipc/xipc/internal/ns"
	"github.com/xipc/xipc/internal/owner"
)

// Object is an open handle to a kernel object's file.
type Object struct {
	File *os.File
	Path string
}

// Path returns the file that stands for the kernel object k.
func Path(k names.Kernel) (string, error) {
	dir := "/dev/shm"
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		var derr error
		if dir, derr = names.Dir("kobj"); derr != nil {
			return "", derr
		}
	}
	prefix := "xipc."
	if os.Getenv("XIPC_ROOT") != "" {
		sum := sha256.Sum256([]byte(names.Root()))
		prefix = "xipc-" + hex.EncodeToString(sum[:4]) + "."
	}
	var b strings.Builder
	b.WriteString(prefix)
	if k.Global {
		b.WriteString("g.")
	} else {
		fmt.Fprintf(&b, "l%d.", os.Geteuid())
	}
	for i := 0; i < len(k.Name); i++ {
		c := k.Name[i]
		if ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') || c == '-' || c == '_' || c == '.' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "%%%02X", c)
	}
	name := b.String()
	if len(name) > 255 {
		sum := sha256.Sum256([]byte(k.Key()))
		name = prefix + "~" + hex.EncodeToString(sum[:16])
	}
	return filepath.Join(dir, name), nil
}

// Init prepares a fresh object's file; it runs while the creator holds the
// object exclusively.
type Init func(f *os.File) error

// Create opens the object k of type typ, creating it (with init) when no
// live handle to it exists. created reports which happened. A live object
// whose file belongs to a user that trust (by default: the caller's own
// user and root) does not trust is refused with ErrAccessDenied rather
// than joined; a leftover file of another user is never reused.
func Create(k names.Kernel, typ string, allUsers bool, group string, init Init, trust ...owner.Trust) (o *Object, created bool, err error) {
	path, err := Path(k)
	if err != nil {
		return nil, false, err
	}
	if group != "" {
		// Before anything is created: a bad group leaves nothing behind.
		if _, err := ns.LookupGroup(group); err != nil {
			return nil, false, err
		}
	}
	for {
		f, err := openFile(path, os.O_RDWR|os.O_CREATE)
		if err != nil {
			return nil, false, err
		}
		ok, err := tryLock(f, true)
		if err != nil {
			f.Close()
			return nil, false, err
		}
		if ok {
			if !linked(f, path) {
				f.Close()
				continue // its last holder removed it meanwhile
			}
			// No live handle: a new file, or one a crashed process left.
			if err := fresh(f, typ, allUsers, group, init); err != nil {
				unlock(f)
				f.Close()
				return nil, false, err
			}
			if err := downgrade(f); err != nil {
				f.Close()
				return nil, false, err
			}
			return &Object{File: f, Path: path}, true, nil
		}
		o, err := attach(f, path, typ, false, trustOf(trust))
		if errors.Is(err, errGone) {
			continue
		}
		return o, false, err
	}
}

// trustOf returns the Trust a caller passed, or the default one.
func trustOf(trust []owner.Trust) owner.Trust {
	if len(trust) > 0 {
		return trust[0]
	}
	return owner.Trust{}
}

// Open opens the live object k of type typ; none → ErrNotFound. An object
// whose file belongs to a user that trust (by default: the caller's own
// user and root) does not trust gives ErrAccessDenied.
func Open(k names.Kernel, typ string, trust ...owner.Trust) (*Object, error) {
	path, err := Path(k)
	if err != nil {
		return nil, err
	}
	for {
		f, err := openFile(path, os.O_RDWR)
		if err != nil {
			return nil, err
		}
		o, err := attach(f, path, typ, true, trustOf(trust))
		if errors.Is(err, errGone) {
			continue
		}
		return o, err
	}
}

var errGone = errors.New("removed while opening")

// attach takes a shared lock on an existing object's file and checks it.
// With stale, a file that no other process holds is a dead process's
// leftover, not a live object (whatever its type): ErrNotFound, and it goes.
func attach(f *os.File, path, typ string, stale bool, trust owner.Trust) (*Object, error) {
	// Before the lock: a shared lock on a squatter's file would keep it
	// alive for others.
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
	if err := lockShared(f); err != nil {
		f.Close()
		return nil, err
	}
	if !linked(f, path) {
		f.Close()
		return nil, errGone
	}
	if stale && !othersHold(f) {
		(&Object{File: f, Path: path}).Close()
		return nil, errs.New(errs.ErrNotFound, errors.New("no live object of that name"))
	}
	if got := typeOf(f); got != "" && got != typ {
		f.Close()
		return nil, errs.New(errs.ErrWrongType, fmt.Errorf("the name belongs to a %s; wanted a %s", got, typ))
	}
	return &Object{File: f, Path: path}, nil
}

func openFile(path string, flag int) (*os.File, error) {
	f, err := os.OpenFile(path, flag|syscall.O_NOFOLLOW|syscall.O_CLOEXEC, 0o600)
	switch {
	case err == nil:
		return f, nil
	case errors.Is(err, syscall.ELOOP):
		return nil, errs.New(errs.ErrAccessDenied, fmt.Errorf("%s is a symlink", path))
	}
	return nil, errs.FromSys(err)
}

// fresh makes f a new, zero-length object of type typ; f is held exclusively.
func fresh(f *os.File, typ string, allUsers bool, group string, init Init) error {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return err
	}
	// Not even root takes over another user's leftover: that user could
	// still hold a descriptor of it (without a lock) and see or change the
	// new object.
	if st.Mode&unix.S_IFMT != unix.S_IFREG || int(st.Uid) != os.Geteuid() {
		return errs.New(errs.ErrAccessDenied, fmt.Errorf("%s is not a regular file of yours (uid %d): its owner must remove it", f.Name(), st.Uid))
	}
	if err := f.Truncate(0); err != nil {
		return err
	}
	if err := ns.Protect(f.Name(), allUsers, group); err != nil {
		return err
	}
	if err := setType(f, typ); err != nil {
		return err
	}
	if init != nil {
		return init(f)
	}
	return nil
}

// linked reports whether path still names the file f.
func linked(f *os.File, path string) bool {
	var a, b unix.Stat_t
	return unix.Fstat(int(f.Fd()), &a) == nil && unix.Stat(path, &b) == nil &&
		a.Dev == b.Dev && a.Ino == b.Ino && a.Nlink > 0
}

// Close closes the handle; the last handle removes the object.
func (o *Object) Close() error {
	ok, _ := tryLock(o.File, true)
	if !ok {
		// Another handle holds it — or is closing at this very moment and
		// sees ours. Let go and look once more, so that of two last
		// closers one removes the file.
		unlock(o.File)
		ok, _ = tryLock(o.File, true)
	}
	if ok && linked(o.File, o.Path) {
		os.Remove(o.Path)
	}
	return o.File.Close()
}
