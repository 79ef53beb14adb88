//go:build unix

package shm

// The Unix emulation: a memory-backed mapping is a file in /dev/shm (see
// internal/kobj for its name, locks and lifetime), mmapped MAP_SHARED. A C
// program maps the same memory with shm_open("/xipc.l<UID>.NAME") for
// Local\NAME. A named file-backed mapping is a kobj file that records the
// backing file's path; openers map that file.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/internal/kobj"
	"github.com/xipc/xipc/internal/names"
	"github.com/xipc/xipc/internal/owner"
)

const objType = "mapping"

type sysMapping struct {
	obj  *kobj.Object // the named object's handle; nil for an unnamed file mapping
	data *os.File     // what is mapped: obj.File, or the backing file
	n    int64
}

func create(k names.Kernel, size int64, o *Options, trust owner.Trust) (*sysMapping, bool, error) {
	obj, created, err := kobj.Create(k, objType, o.Security.AllUsers, o.Security.Group,
		func(f *os.File) error { return f.Truncate(size) }, trust)
	if err != nil {
		return nil, false, err
	}
	m, err := attach(obj)
	return m, !created, err
}

func open(k names.Kernel, _ Access, trust owner.Trust) (*sysMapping, error) {
	obj, err := kobj.Open(k, objType, trust)
	if err != nil {
		return nil, err
	}
	return attach(obj)
}

// attach finds what a named object maps and its size.
func attach(obj *kobj.Object) (*sysMapping, error) {
	m := &sysMapping{obj: obj, data: obj.File}
	if path := kobj.Attr(obj.File, "file"); path != "" {
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		if err != nil {
			obj.Close()
			return nil, err
		}
		m.data = f
	}
	fi, err := m.data.Stat()
	if err != nil {
		m.close()
		return nil, err
	}
	m.n = fi.Size()
	if m.n == 0 {
		m.close()
		return nil, errs.New(errs.ErrNotFound, errors.New("the object is being created or was left empty"))
	}
	return m, nil
}

func mapFile(f *os.File, k *names.Kernel, size int64, access Access, o *Options, trust owner.Trust) (*sysMapping, bool, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, false, err
	}
	if size > fi.Size() {
		if access == ReadOnly {
			return nil, false, errs.New(errs.ErrAccessDenied, fmt.Errorf("cannot grow a file to %d bytes through a read-only mapping", size))
		}
		if err := f.Truncate(size); err != nil {
			return nil, false, err
		}
	} else if size == 0 {
		size = fi.Size()
	}
	if size == 0 {
		return nil, false, errs.New(errs.ErrInvalidParameter, errors.New("cannot map an empty file"))
	}
	if k == nil {
		d, err := dup(f)
		if err != nil {
			return nil, false, err
		}
		return &sysMapping{data: d, n: size}, false, nil
	}
	path, err := filepath.Abs(f.Name())
	if err != nil {
		return nil, false, err
	}
	obj, created, err := kobj.Create(*k, objType, o.Security.AllUsers, o.Security.Group,
		func(kf *os.File) error { return kobj.SetAttr(kf, "file", path) }, trust)
	if err != nil {
		return nil, false, err
	}
	if !created {
		// Win32 returns the existing object, whatever file it maps.
		m, err := attach(obj)
		return m, true, err
	}
	d, err := dup(f)
	if err != nil {
		obj.Close()
		return nil, false, err
	}
	return &sysMapping{obj: obj, data: d, n: size}, false, nil
}

func dup(f *os.File) (*os.File, error) {
	fd, err := unix.FcntlInt(f.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	return os.NewFile(uintptr(fd), f.Name()), nil
}

func (m *sysMapping) size() int64 { return m.n }

func (m *sysMapping) mapView(offset int64, n int, access Access) ([]byte, error) {
	prot := unix.PROT_READ
	if access == ReadWrite {
		prot |= unix.PROT_WRITE
	}
	b, err := unix.Mmap(int(m.data.Fd()), offset, n, prot, unix.MAP_SHARED)
	if err != nil {
		return nil, err
	}
	return b, nil
}

func (m *sysMapping) unmap(b []byte) error {
	if b == nil {
		return nil
	}
	return unix.Munmap(b)
}

func (m *sysMapping) close() error {
	var err error
	if m.obj == nil || m.data != m.obj.File {
		err = m.data.Close()
	}
	if m.obj != nil {
		if cerr := m.obj.Close(); err == nil {
			err = cerr
		}
	}
	return err
}
