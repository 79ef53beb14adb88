// Package shm provides Win32 named shared memory (file mappings): the real
// CreateFileMapping, OpenFileMapping and MapViewOfFile on Windows, and on
// Linux and other Unix systems an emulation with the same lifetime rules
// over files in /dev/shm that C programs can shm_open too.
//
// A *Mapping is a handle to the object together with a view of all of it
// (Bytes); View maps more views at 64 KiB-aligned offsets. The object lives
// while any handle or view is open in any process; after the last one closes
// (or its process dies) the name is free, and the next Create gets a fresh,
// zero-filled object.
//
// Names are kernel-object names: `Local\NAME` (the default: a bare NAME is
// the same), or `Global\NAME`; case-sensitive; shared with the named sync
// objects of package syncobj, so a name that a mutex holds cannot be a
// mapping (ErrWrongType).
//
// Shared memory has no synchronisation of its own: pair it with a
// syncobj.Mutex or Event, or use shm/ring.
package shm

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/internal/names"
	"github.com/xipc/xipc/internal/owner"
)

// Granularity is the allocation granularity: view offsets must be
// multiples of it (ERROR_MAPPED_ALIGNMENT otherwise), as on Windows.
const Granularity = 64 << 10

// Access is the access asked of a mapping or a view.
type Access int

const (
	// ReadWrite maps for reading and writing (FILE_MAP_WRITE, PAGE_READWRITE).
	ReadWrite Access = iota
	// ReadOnly maps for reading only (FILE_MAP_READ, PAGE_READONLY): a write
	// through the view faults, as an access violation does on Windows.
	ReadOnly
)

func (a Access) valid() bool { return a == ReadWrite || a == ReadOnly }

// Security says who besides the creating user may open the object. The
// zero value is owner-only (and root / Administrators and SYSTEM).
type Security struct {
	// AllUsers admits every user of the machine.
	AllUsers bool
	// Group admits members of this group: a name or numeric gid on Unix, a
	// name or SID string on Windows.
	Group string
}

// Options holds the options of Create and MapFile.
type Options struct {
	// Security says who may open the object; the zero value is owner-only.
	Security Security
	// Owner says whose existing object Create (or a named MapFile) may
	// join besides the caller's own and the administrators'; an object of
	// anyone else fails with ErrAccessDenied instead of being shared with
	// a user who took the name first. The zero value adds no one.
	Owner Owner
}

// Owner names the users whose objects an opener trusts besides its own user
// and the administrators (root; SYSTEM and Administrators on Windows), who
// are always trusted (see docs/security.md). The zero value adds no one.
type Owner struct {
	// User is one more trusted user: a user name or numeric uid on Unix, a
	// user name or SID string on Windows.
	User string
	// AnyUser trusts every user: the owner check is off, as in plain Win32.
	AnyUser bool
}

// trustOf resolves owners into the set of trusted users.
func trustOf(owners ...Owner) (owner.Trust, error) {
	any := false
	var users []string
	for _, o := range owners {
		any = any || o.AnyUser
		users = append(users, o.User)
	}
	return owner.New(any, users...)
}

const kind = "shm"

// Mapping is an open handle to a named (or file-backed) mapping object,
// with a view of the whole object. Its methods are safe for concurrent use.
type Mapping struct {
	m       *sysMapping
	name    string
	size    int64
	access  Access
	existed bool
	view    []byte

	mu     sync.Mutex
	refs   int // the handle itself plus open views
	closed bool
}

// Create creates the named mapping of size bytes, backed by memory (as
// CreateFileMapping with INVALID_HANDLE_VALUE), zero-filled. If an object
// of that name exists it opens it instead, with its existing size, and
// Existed reports true (ERROR_ALREADY_EXISTS). A size of 0 or less fails
// with ErrInvalidParameter.
func Create(name string, size int64, opts *Options) (*Mapping, error) {
	k, err := names.ParseKernel(name)
	if err != nil {
		return nil, errs.Op("create", kind, name, err)
	}
	if size <= 0 {
		return nil, errs.Op("create", kind, k.String(), errs.New(errs.ErrInvalidParameter, fmt.Errorf("size %d: a memory-backed mapping needs a size", size)))
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	trust, err := trustOf(o.Owner)
	if err != nil {
		return nil, errs.Op("create", kind, k.String(), err)
	}
	m, existed, err := create(k, size, &o, trust)
	if err != nil {
		return nil, errs.Op("create", kind, k.String(), errs.FromSys(err))
	}
	return newMapping(m, k.String(), ReadWrite, existed)
}

// Open opens the existing named mapping (OpenFileMapping + MapViewOfFile of
// all of it) with the given access. No such object → ErrNotFound. An
// object created by a user other than the caller's own, the administrators
// and those the owners name fails with ErrAccessDenied.
func Open(name string, access Access, owners ...Owner) (*Mapping, error) {
	k, err := names.ParseKernel(name)
	if err != nil {
		return nil, errs.Op("open", kind, name, err)
	}
	if !access.valid() {
		return nil, errs.Op("open", kind, k.String(), errs.New(errs.ErrInvalidParameter, errors.New("invalid access")))
	}
	trust, err := trustOf(owners...)
	if err != nil {
		return nil, errs.Op("open", kind, k.String(), err)
	}
	m, err := open(k, access, trust)
	if err != nil {
		return nil, errs.Op("open", kind, k.String(), errs.FromSys(err))
	}
	return newMapping(m, k.String(), access, true)
}

// MapFile maps the file f (CreateFileMapping with a file handle). size 0
// maps the whole file; a larger size grows the file (ReadWrite only). name
// may be "" for an unnamed mapping; a named one can be opened by others
// with Open and then maps the same file. f may be closed after MapFile.
func MapFile(f *os.File, name string, size int64, access Access, opts *Options) (*Mapping, error) {
	var k *names.Kernel
	display := f.Name()
	if name != "" {
		kk, err := names.ParseKernel(name)
		if err != nil {
			return nil, errs.Op("mapfile", kind, name, err)
		}
		k, display = &kk, kk.String()
	}
	if size < 0 || !access.valid() {
		return nil, errs.Op("mapfile", kind, display, errs.New(errs.ErrInvalidParameter, errors.New("negative size or invalid access")))
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	trust, err := trustOf(o.Owner)
	if err != nil {
		return nil, errs.Op("mapfile", kind, display, err)
	}
	m, existed, err := mapFile(f, k, size, access, &o, trust)
	if err != nil {
		return nil, errs.Op("mapfile", kind, display, errs.FromSys(err))
	}
	return newMapping(m, display, access, existed)
}

func newMapping(m *sysMapping, name string, access Access, existed bool) (*Mapping, error) {
	size := m.size()
	view, err := m.mapView(0, int(size), access)
	if err != nil {
		m.close()
		return nil, errs.Op("map", kind, name, errs.FromSys(err))
	}
	return &Mapping{m: m, name: name, size: size, access: access, existed: existed, view: view, refs: 1}, nil
}

// Bytes returns the view of the whole object. It stays valid until Close;
// using it afterwards faults. After Close, Bytes returns nil.
func (m *Mapping) Bytes() []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.view
}

// Size returns the object's size in bytes. Windows rounds a memory-backed
// mapping up to whole pages (4 KiB) and reports that size; Linux keeps the
// size asked for. File-backed sizes are exact on both.
func (m *Mapping) Size() int64 { return m.size }

// Name returns the object's name, `Local\NAME` or `Global\NAME`, or the
// file's name for an unnamed file mapping.
func (m *Mapping) Name() string { return m.name }

// Existed reports whether Create (or a named MapFile) found the object
// already there (ERROR_ALREADY_EXISTS) and opened it.
func (m *Mapping) Existed() bool { return m.existed }

// View is an extra view of a mapping (MapViewOfFile at an offset).
type View struct {
	m    *Mapping
	b    []byte
	once sync.Once
}

// View maps n bytes of the object from offset (a multiple of Granularity,
// else ErrMappedAlignment), with the given access (ReadWrite on a ReadOnly
// handle → ErrAccessDenied). n == 0 maps to the end of the object. The view
// keeps the object alive after the Mapping is closed, until View.Close.
func (m *Mapping) View(offset int64, n int, access Access) (*View, error) {
	switch {
	case !access.valid() || offset < 0 || n < 0:
		return nil, m.opErr("view", errs.New(errs.ErrInvalidParameter, errors.New("negative offset or size, or invalid access")))
	case offset%Granularity != 0:
		return nil, m.opErr("view", errs.New(errs.ErrMappedAlignment, fmt.Errorf("offset %d is not a multiple of %d", offset, Granularity)))
	case access == ReadWrite && m.access == ReadOnly:
		return nil, m.opErr("view", errs.New(errs.ErrAccessDenied, errors.New("a read-write view of a read-only handle")))
	case offset >= m.size || int64(n) > m.size-offset:
		return nil, m.opErr("view", errs.New(errs.ErrInvalidParameter, fmt.Errorf("%d bytes at %d pass the end of a %d-byte object", n, offset, m.size)))
	}
	if n == 0 {
		n = int(m.size - offset)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, m.opErr("view", errs.ErrClosed)
	}
	b, err := m.m.mapView(offset, n, access)
	if err != nil {
		return nil, m.opErr("view", err)
	}
	m.refs++
	return &View{m: m, b: b}, nil
}

// Bytes returns the view's memory; valid until Close.
func (v *View) Bytes() []byte { return v.b }

// Close unmaps the view (UnmapViewOfFile). Closing twice is a no-op.
func (v *View) Close() error {
	var err error
	v.once.Do(func() {
		err = v.m.m.unmap(v.b)
		v.b = nil
		v.m.release()
	})
	return v.m.opErr("unmap", err)
}

// Close unmaps the whole-object view and closes the handle (UnmapViewOfFile
// + CloseHandle). Views made with View stay valid until they are closed.
// Closing twice is a no-op.
func (m *Mapping) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	view := m.view
	m.view = nil
	m.mu.Unlock()
	err := m.m.unmap(view)
	if rerr := m.release(); err == nil {
		err = rerr
	}
	return m.opErr("close", err)
}

// release drops one reference; the last closes the object's handle.
func (m *Mapping) release() error {
	m.mu.Lock()
	m.refs--
	last := m.refs == 0
	m.mu.Unlock()
	if last {
		return m.m.close()
	}
	return nil
}

func (m *Mapping) opErr(op string, err error) error {
	if err == nil {
		return nil
	}
	return errs.Op(op, kind, m.name, errs.FromSys(err))
}
