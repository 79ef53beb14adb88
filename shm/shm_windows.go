package shm

// The Windows backend: real file mappings. A memory-backed mapping is
// CreateFileMapping(INVALID_HANDLE_VALUE, …, `Local\NAME`), so any Win32
// program that creates or opens the same name shares the memory.
//
// Win32 has no call that returns a mapping object's size; the section
// behind it knows it, and NtQuerySection (SectionBasicInformation) reports
// it. A memory-backed section's size is rounded up to whole pages (4 KiB):
// ZwCreateSection does that on Windows, and Wine does the same, so
// Create(name, 10000) reports 12288 on both, and Bytes has 12288 bytes. A
// file-backed section keeps its exact size. Every handle asks the object,
// so all of them, in every process, report the same size. A handle that
// lacks SECTION_QUERY (an object of another program whose DACL grants only
// FILE_MAP_READ, say) falls back to VirtualQuery of a view, which also
// rounds a file mapping up to whole pages.

//go:generate go run golang.org/x/sys/windows/mkwinsyscall -output zsyscall_windows.go shm_windows.go

//sys	openFileMapping(access uint32, inherit bool, name *uint16) (handle windows.Handle, err error) [failretval==0] = kernel32.OpenFileMappingW
//sys	ntQuerySection(section windows.Handle, class uint32, info unsafe.Pointer, infoLen uintptr, retLen *uintptr) (ntstatus error) = ntdll.NtQuerySection

import (
	"errors"
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/internal/names"
	"github.com/xipc/xipc/internal/owner"
	"github.com/xipc/xipc/internal/winsec"
)

const (
	// sectionQuery is SECTION_QUERY, the right NtQuerySection needs.
	sectionQuery = 0x0001
	// sectionBasicInformation is the SECTION_INFORMATION_CLASS whose
	// answer holds the section's size.
	sectionBasicInformation = 0
)

// sectionBasicInfo is SECTION_BASIC_INFORMATION.
type sectionBasicInfo struct {
	BaseAddress uintptr
	Attributes  uint32
	Size        int64 // LARGE_INTEGER MaximumSize
}

type sysMapping struct {
	h windows.Handle
	n int64
}

func create(k names.Kernel, size int64, o *Options, trust owner.Trust) (*sysMapping, bool, error) {
	name, err := windows.UTF16PtrFromString(k.String())
	if err != nil {
		return nil, false, errs.New(errs.ErrInvalidName, err)
	}
	sa, err := securityAttributes(o.Security)
	if err != nil {
		return nil, false, err
	}
	h, existed, err := createMapping(windows.InvalidHandle, sa, windows.PAGE_READWRITE, size, name)
	if err != nil {
		return nil, false, err
	}
	if err := checkOwner(h, existed, trust); err != nil {
		return nil, false, err
	}
	m, err := attach(h)
	return m, existed, err
}

func open(k names.Kernel, access Access, trust owner.Trust) (*sysMapping, error) {
	name, err := windows.UTF16PtrFromString(k.String())
	if err != nil {
		return nil, errs.New(errs.ErrInvalidName, err)
	}
	want := uint32(windows.FILE_MAP_READ)
	if access == ReadWrite {
		want |= windows.FILE_MAP_WRITE
	}
	if !trust.Any() {
		want |= windows.READ_CONTROL // to read the owner
	}
	h, err := openFileMapping(want|sectionQuery, false, name)
	if err == windows.ERROR_ACCESS_DENIED {
		// The object's DACL may grant mapping but not SECTION_QUERY;
		// attach then finds the size another way.
		h, err = openFileMapping(want, false, name)
	}
	if err != nil {
		return nil, typeErr(err)
	}
	if err := checkOwner(h, true, trust); err != nil {
		return nil, err
	}
	return attach(h)
}

// checkOwner refuses an existing object whose owner is not trusted (see
// Options.Owner); it closes h when it fails.
func checkOwner(h windows.Handle, existed bool, trust owner.Trust) error {
	if !existed {
		return nil
	}
	if err := trust.CheckHandle(h, windows.SE_KERNEL_OBJECT, "the mapping"); err != nil {
		windows.CloseHandle(h) //nolint:errcheck // err is the one to report
		return err
	}
	return nil
}

func mapFile(f *os.File, k *names.Kernel, size int64, access Access, o *Options, trust owner.Trust) (*sysMapping, bool, error) {
	// The same checks as on Unix, before Windows sees the call: Win32 would
	// fail a read-only mapping larger than its file with
	// ERROR_NOT_ENOUGH_MEMORY, and one of an empty file with
	// ERROR_FILE_INVALID.
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, false, err
	}
	// On Windows, Stat of a closed file asks Windows about
	// INVALID_HANDLE_VALUE; ask the file whether it is open first.
	if err := rc.Control(func(uintptr) {}); err != nil {
		return nil, false, closedFile(f)
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, false, err
	}
	if size > fi.Size() && access == ReadOnly {
		return nil, false, errs.New(errs.ErrAccessDenied, fmt.Errorf("cannot grow a file to %d bytes through a read-only mapping", size))
	}
	if size == 0 && fi.Size() == 0 {
		return nil, false, errs.New(errs.ErrInvalidParameter, errors.New("cannot map an empty file"))
	}
	prot := uint32(windows.PAGE_READWRITE)
	if access == ReadOnly {
		prot = windows.PAGE_READONLY
	}
	var name *uint16
	var sa *windows.SecurityAttributes
	if k != nil {
		if name, err = windows.UTF16PtrFromString(k.String()); err != nil {
			return nil, false, errs.New(errs.ErrInvalidName, err)
		}
		if sa, err = securityAttributes(o.Security); err != nil {
			return nil, false, err
		}
	}
	var h windows.Handle
	var existed bool
	var cerr error
	// Control keeps f's handle open during the call; a closed f fails here
	// rather than passing INVALID_HANDLE_VALUE, which would ask for a
	// memory-backed mapping.
	if err := rc.Control(func(fd uintptr) {
		// A size larger than the file grows it (PAGE_READWRITE); 0 maps
		// all of it. Of an existing name, Windows returns that object
		// and leaves the file alone.
		h, existed, cerr = createMapping(windows.Handle(fd), sa, prot, size, name)
	}); err != nil {
		return nil, false, closedFile(f)
	}
	if cerr != nil {
		return nil, false, cerr
	}
	if err := checkOwner(h, existed, trust); err != nil {
		return nil, false, err
	}
	m, err := attach(h)
	return m, existed, err
}

// closedFile is the error for a file whose handle Control could not lend
// (the runtime's unexported "use of closed file"): os.ErrClosed, as
// package os reports a closed file elsewhere and as MapFile does on Unix.
func closedFile(f *os.File) error {
	return &os.PathError{Op: "map", Path: f.Name(), Err: os.ErrClosed}
}

// createMapping is CreateFileMapping: a new object, or (existed) the
// existing one of that name.
func createMapping(file windows.Handle, sa *windows.SecurityAttributes, prot uint32, size int64, name *uint16) (h windows.Handle, existed bool, err error) {
	h, err = windows.CreateFileMapping(file, sa, prot, uint32(uint64(size)>>32), uint32(size), name)
	switch {
	case h != 0 && err == windows.ERROR_ALREADY_EXISTS:
		// x/sys reports ERROR_ALREADY_EXISTS as an error, with the
		// handle: for us it is success.
		return h, true, nil
	case err != nil:
		if h != 0 {
			windows.CloseHandle(h) //nolint:errcheck // not reached: a failure returns no handle
		}
		return 0, false, typeErr(err)
	}
	return h, false, nil
}

// typeErr turns ERROR_INVALID_HANDLE from CreateFileMapping or
// OpenFileMapping, which means that the name belongs to an object of
// another type (STATUS_OBJECT_TYPE_MISMATCH), into ErrWrongType: the shared
// table reads code 6 as ErrClosed.
func typeErr(err error) error {
	if err == windows.ERROR_INVALID_HANDLE {
		return errs.New(errs.ErrWrongType, err)
	}
	return err
}

// attach takes a handle to a mapping object and finds its size; it closes
// h when it fails.
func attach(h windows.Handle) (*sysMapping, error) {
	m := &sysMapping{h: h}
	n, err := m.querySize()
	if err != nil {
		m.close() //nolint:errcheck // the query's error is the one to report
		return nil, err
	}
	m.n = n
	return m, nil
}

// querySize asks the section for its size; see the top of this file.
func (m *sysMapping) querySize() (int64, error) {
	var info sectionBasicInfo
	if err := ntQuerySection(m.h, sectionBasicInformation, unsafe.Pointer(&info), unsafe.Sizeof(info), nil); err == nil && info.Size > 0 {
		return info.Size, nil
	}
	addr, err := windows.MapViewOfFile(m.h, windows.FILE_MAP_READ, 0, 0, 0)
	if err != nil {
		return 0, err
	}
	var mbi windows.MemoryBasicInformation
	err = windows.VirtualQuery(addr, &mbi, unsafe.Sizeof(mbi))
	if uerr := windows.UnmapViewOfFile(addr); err == nil {
		err = uerr
	}
	if err != nil {
		return 0, err
	}
	return int64(mbi.RegionSize), nil
}

func (m *sysMapping) size() int64 { return m.n }

func (m *sysMapping) mapView(offset int64, n int, access Access) ([]byte, error) {
	if n <= 0 {
		return nil, errs.New(errs.ErrInvalidParameter, fmt.Errorf("a view of %d bytes", n))
	}
	acc := uint32(windows.FILE_MAP_READ)
	if access == ReadWrite {
		acc = windows.FILE_MAP_WRITE // which includes reading
	}
	length := uintptr(n)
	if offset+int64(n) == m.n {
		// "To the end": right also when n is a size rounded up to pages
		// (VirtualQuery's), which Windows would refuse to map as a length
		// past the end of a section of an odd size.
		length = 0
	}
	addr, err := windows.MapViewOfFile(m.h, acc, uint32(uint64(offset)>>32), uint32(offset), length)
	if err != nil {
		return nil, err
	}
	// The view is memory that Go does not manage; unsafe.Add turns the
	// address into a pointer without the uintptr conversion vet warns of.
	return unsafe.Slice((*byte)(unsafe.Add(nil, addr)), n), nil
}

func (m *sysMapping) unmap(b []byte) error {
	if b == nil {
		return nil
	}
	return windows.UnmapViewOfFile(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
}

func (m *sysMapping) close() error {
	return windows.CloseHandle(m.h)
}

// securityAttributes gives a named object the security descriptor for s:
// full access for the creating user, SYSTEM and Administrators (what the
// Unix side's mode 0600 and root amount to), plus read/write (GENERIC_READ
// and GENERIC_WRITE: query, map for reading, map for writing) for everyone
// (AllUsers) or for a group. Packages pipe and mailslot do the same for
// their objects (internal/winsec).
func securityAttributes(s Security) (*windows.SecurityAttributes, error) {
	return winsec.Attributes(s.AllUsers, s.Group, "GRGW")
}
