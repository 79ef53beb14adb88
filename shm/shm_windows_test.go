package shm

// Windows-only tests of the Win32 backend: what Windows itself does that
// the shared conformance suite (internal/conformance) leaves open or cannot
// see from the portable API: page-rounded sizes, ERROR_INVALID_HANDLE read
// as ErrWrongType, the kernel's own alignment and access checks, page
// protections, and the objects' security descriptors.

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime/debug"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/internal/wintest"
)

const page = 4096

// winName returns a kernel-object name unique to this test run.
func winName(t testing.TB) string {
	var b strings.Builder
	for _, r := range t.Name() {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := b.String()
	if len(s) > 48 {
		s = s[len(s)-48:]
	}
	return fmt.Sprintf("xipc-%s-%d-%08x", s, os.Getpid(), rand.Uint32())
}

// pattern is byte at of the object in pattern seed, as testdata/win32peer.c
// computes it.
func pattern(at int64, seed int) byte {
	a := uint64(at)
	return byte((a*31 + uint64(seed)*17 + a/256) % 251)
}

// fill writes pattern seed into b, which starts at byte off of the object.
func fill(b []byte, off int64, seed int) {
	for i := range b {
		b[i] = pattern(off+int64(i), seed)
	}
}

// wantPattern fails unless b, at byte off of the object, holds pattern seed.
func wantPattern(t testing.TB, what string, b []byte, off int64, seed int) {
	t.Helper()
	for i, c := range b {
		if want := pattern(off+int64(i), seed); c != want {
			t.Errorf("%s: byte %d is %#x; want %#x (pattern %d)", what, off+int64(i), c, want, seed)
			return
		}
	}
}

// wantZero fails unless b holds only zeros.
func wantZero(t testing.TB, what string, b []byte) {
	t.Helper()
	for i, c := range b {
		if c != 0 {
			t.Errorf("%s: byte %d of %d is %#x; want 0", what, i, len(b), c)
			return
		}
	}
}

func roundPage(n int64) int64 { return (n + page - 1) / page * page }

func mustCreate(t testing.TB, name string, size int64) *Mapping {
	t.Helper()
	m, err := Create(name, size, nil)
	if err != nil {
		t.Fatalf("Create(%q, %d): %v", name, size, err)
	}
	t.Cleanup(func() { _ = m.Close() }) // closing twice is a no-op
	return m
}

func mustOpen(t testing.TB, name string, access Access) *Mapping {
	t.Helper()
	m, err := Open(name, access)
	if err != nil {
		t.Fatalf("Open(%q, %d): %v", name, access, err)
	}
	t.Cleanup(func() { _ = m.Close() }) // closing twice is a no-op
	return m
}

func mustClose(t testing.TB, m *Mapping) {
	t.Helper()
	if err := m.Close(); err != nil {
		t.Errorf("Close(%s): %v", m.Name(), err)
	}
}

// holdMutex makes name a named mutex (CreateMutex) until the test ends or
// release is called.
func holdMutex(t testing.TB, name string) (release func()) {
	t.Helper()
	p, err := windows.UTF16PtrFromString(name)
	if err != nil {
		t.Fatal(err)
	}
	h, err := windows.CreateMutex(nil, false, p)
	if err != nil {
		t.Fatalf("CreateMutex(%q): %v", name, err)
	}
	var done bool
	release = func() {
		if !done {
			done = true
			if err := windows.CloseHandle(h); err != nil {
				t.Errorf("CloseHandle(mutex %q): %v", name, err)
			}
		}
	}
	t.Cleanup(release)
	return release
}

// tempFile makes a file holding content; t.Cleanup removes it (not in
// t.TempDir, whose removal fails under Wine).
func tempFile(t testing.TB, content []byte) string {
	t.Helper()
	f, err := os.CreateTemp("", "xipc-shm-*")
	if err != nil {
		t.Fatal(err)
	}
	path := f.Name()
	t.Cleanup(func() {
		if err := os.Remove(path); err != nil {
			t.Errorf("removing %s: %v", path, err)
		}
	})
	if _, err := f.Write(content); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func openFile(t testing.TB, path string, flag int) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() }) // the test may have closed it
	return f
}

// protection returns the page protection of the memory at b (VirtualQuery).
func protection(t testing.TB, b []byte) uint32 {
	t.Helper()
	var mbi windows.MemoryBasicInformation
	if err := windows.VirtualQuery(uintptr(unsafe.Pointer(&b[0])), &mbi, unsafe.Sizeof(mbi)); err != nil {
		t.Fatalf("VirtualQuery: %v", err)
	}
	return mbi.Protect
}

// TestWindowsSizeRoundedToPages: Windows (ZwCreateSection) and Wine round a
// memory-backed mapping's size up to whole pages, and that is the size
// every handle reports, whatever size a later Create asks.
func TestWindowsSizeRoundedToPages(t *testing.T) {
	for _, size := range []int64{1, page - 1, page, page + 1, 10000, Granularity + 1, 5*Granularity + 3} {
		name := winName(t)
		m := mustCreate(t, name, size)
		if m.Existed() {
			t.Errorf("Create(%d) of a new name: Existed() = true", size)
		}
		if want := roundPage(size); m.Size() != want || int64(len(m.Bytes())) != want {
			t.Errorf("Create(%d): Size() = %d, len(Bytes()) = %d; want %d (whole pages)", size, m.Size(), len(m.Bytes()), want)
		}
		wantZero(t, fmt.Sprintf("Create(%d)", size), m.Bytes())
		fill(m.Bytes(), 0, 1)
		for _, again := range []int64{size, 1, 2 * size, 1 << 20} {
			a, err := Create(name, again, nil)
			if err != nil {
				t.Fatalf("Create(%d) of an existing %d-byte mapping: %v", again, size, err)
			}
			if !a.Existed() || a.Size() != m.Size() {
				t.Errorf("Create(%d) of an existing %d-byte mapping: Existed() = %v, Size() = %d; want true, %d", again, m.Size(), a.Existed(), a.Size(), m.Size())
			}
			wantPattern(t, "the existing mapping's content", a.Bytes(), 0, 1)
			mustClose(t, a)
		}
		o := mustOpen(t, name, ReadOnly)
		if o.Size() != m.Size() {
			t.Errorf("Open: Size() = %d; the creator's is %d", o.Size(), m.Size())
		}
		mustClose(t, o)
		mustClose(t, m)
	}
}

// TestWindowsWrongType: a name held by a mutex gives ERROR_INVALID_HANDLE
// to CreateFileMapping and OpenFileMapping, which the backend reports as
// ErrWrongType (not ErrClosed, which the shared table reads code 6 as),
// keeping the Win32 code. And the other way: a mapping's name cannot be a
// mutex.
func TestWindowsWrongType(t *testing.T) {
	name := winName(t)
	release := holdMutex(t, name)
	f := openFile(t, tempFile(t, []byte("content")), os.O_RDWR)
	check := func(what string, m *Mapping, err error) {
		t.Helper()
		if m != nil {
			t.Errorf("%s returned a mapping with its error", what)
			mustClose(t, m)
		}
		if !errors.Is(err, errs.ErrWrongType) {
			t.Errorf("%s of a mutex's name: %v; want ErrWrongType", what, err)
		}
		if errors.Is(err, errs.ErrClosed) {
			t.Errorf("%s of a mutex's name: %v matches ErrClosed", what, err)
		}
		if !errors.Is(err, windows.ERROR_INVALID_HANDLE) || errs.Win32Code(err) != uint32(windows.ERROR_INVALID_HANDLE) {
			t.Errorf("%s of a mutex's name: %v (Win32 code %d); want it to carry ERROR_INVALID_HANDLE", what, err, errs.Win32Code(err))
		}
	}
	for _, n := range []string{name, `Local\` + name} {
		m, err := Create(n, page, nil)
		check(fmt.Sprintf("Create(%q)", n), m, err)
		for _, access := range []Access{ReadWrite, ReadOnly} {
			m, err = Open(n, access)
			check(fmt.Sprintf("Open(%q, %d)", n, access), m, err)
		}
		m, err = MapFile(f, n, 0, ReadWrite, nil)
		check(fmt.Sprintf("MapFile(f, %q)", n), m, err)
	}
	// Another case is another name, free for a mapping.
	mustClose(t, mustCreate(t, strings.ToUpper(name), page))
	release()
	mustClose(t, mustCreate(t, name, page))

	mapped := winName(t)
	m := mustCreate(t, mapped, page)
	p, err := windows.UTF16PtrFromString(`Local\` + mapped)
	if err != nil {
		t.Fatal(err)
	}
	h, err := windows.CreateMutex(nil, false, p)
	if err == nil || h != 0 {
		windows.CloseHandle(h) //nolint:errcheck // the test already failed
		t.Errorf("CreateMutex of a mapping's name: handle %v, %v; want ERROR_INVALID_HANDLE", h, err)
	} else if err != windows.ERROR_INVALID_HANDLE {
		t.Errorf("CreateMutex of a mapping's name: %v; want ERROR_INVALID_HANDLE", err)
	}
	mustClose(t, m)
}

// TestWindowsAlignment: Windows itself refuses a view at an offset that is
// a multiple of a page but not of the 64 KiB allocation granularity, with
// the ERROR_MAPPED_ALIGNMENT that View reports before asking it; views at
// multiples of 64 KiB see the same memory, and start at 64 KiB-aligned
// addresses.
func TestWindowsAlignment(t *testing.T) {
	m := mustCreate(t, winName(t), 4*Granularity)
	fill(m.Bytes(), 0, 2)
	for _, off := range []int64{page, Granularity / 2, Granularity + page, 3*Granularity - page} {
		b, err := m.m.mapView(off, page, ReadOnly)
		if err == nil {
			m.m.unmap(b) //nolint:errcheck // the test already failed
			t.Errorf("MapViewOfFile at offset %d succeeded; want ERROR_MAPPED_ALIGNMENT", off)
		} else if err != windows.ERROR_MAPPED_ALIGNMENT || !errors.Is(errs.FromSys(err), errs.ErrMappedAlignment) {
			t.Errorf("MapViewOfFile at offset %d: %v; want ERROR_MAPPED_ALIGNMENT", off, err)
		}
		v, err := m.View(off, page, ReadOnly)
		if !errors.Is(err, errs.ErrMappedAlignment) {
			t.Errorf("View(%d): %v; want ErrMappedAlignment", off, err)
		}
		if v != nil {
			v.Close()
		}
	}
	for off := int64(0); off < m.Size(); off += Granularity {
		v, err := m.View(off, 0, ReadWrite)
		if err != nil {
			t.Fatalf("View(%d, 0): %v", off, err)
		}
		if addr := uintptr(unsafe.Pointer(&v.Bytes()[0])); addr%Granularity != 0 {
			t.Errorf("View(%d) starts at %#x, not a multiple of 64 KiB", off, addr)
		}
		if int64(len(v.Bytes())) != m.Size()-off {
			t.Errorf("View(%d, 0): %d bytes; want %d", off, len(v.Bytes()), m.Size()-off)
		}
		wantPattern(t, fmt.Sprintf("View(%d)", off), v.Bytes(), off, 2)
		v.Bytes()[1] = 0xEE
		if got := m.Bytes()[off+1]; got != 0xEE {
			t.Errorf("a write through View(%d) reads %#x through the whole-object view", off, got)
		}
		if err := v.Close(); err != nil {
			t.Errorf("View(%d).Close: %v", off, err)
		}
	}
}

// TestWindowsReadOnly: read-only handles and views are read-only pages
// (PAGE_READONLY), a read-write view of a read-only handle is refused by
// Windows itself (ERROR_ACCESS_DENIED), and a write through a read-only
// view is an access violation (here recovered as a Go fault panic).
func TestWindowsReadOnly(t *testing.T) {
	name := winName(t)
	m := mustCreate(t, name, 2*Granularity)
	copy(m.Bytes(), "written")
	if p := protection(t, m.Bytes()); p != windows.PAGE_READWRITE {
		t.Errorf("a Create'd mapping's pages: protection %#x; want PAGE_READWRITE", p)
	}
	ro := mustOpen(t, name, ReadOnly)
	if p := protection(t, ro.Bytes()); p != windows.PAGE_READONLY {
		t.Errorf("a ReadOnly Open's pages: protection %#x; want PAGE_READONLY", p)
	}
	if string(ro.Bytes()[:7]) != "written" {
		t.Errorf("the read-only view reads %q", ro.Bytes()[:7])
	}
	b, err := ro.m.mapView(0, Granularity, ReadWrite)
	if err == nil {
		ro.m.unmap(b) //nolint:errcheck // the test already failed
		t.Errorf("MapViewOfFile(FILE_MAP_WRITE) of a FILE_MAP_READ handle succeeded")
	} else if err != windows.ERROR_ACCESS_DENIED {
		t.Errorf("MapViewOfFile(FILE_MAP_WRITE) of a FILE_MAP_READ handle: %v; want ERROR_ACCESS_DENIED", err)
	}
	rv, err := m.View(Granularity, 0, ReadOnly)
	if err != nil {
		t.Fatal(err)
	}
	defer rv.Close()
	if p := protection(t, rv.Bytes()); p != windows.PAGE_READONLY {
		t.Errorf("a ReadOnly view of a ReadWrite handle: protection %#x; want PAGE_READONLY", p)
	}

	for what, view := range map[string][]byte{"a ReadOnly handle": ro.Bytes(), "a ReadOnly view": rv.Bytes()} {
		if !faults(func() { view[10] = 1 }) {
			t.Errorf("a write through %s did not fault", what)
		}
	}
	if m.Bytes()[10] != 0 || m.Bytes()[Granularity+10] != 0 {
		t.Errorf("a faulting write changed the mapping")
	}

	f := openFile(t, tempFile(t, []byte("file content")), os.O_RDONLY)
	fm, err := MapFile(f, "", 0, ReadOnly, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer fm.Close()
	if p := protection(t, fm.Bytes()); p != windows.PAGE_READONLY {
		t.Errorf("a ReadOnly MapFile's pages: protection %#x; want PAGE_READONLY", p)
	}
	if !faults(func() { fm.Bytes()[0] = 'F' }) {
		t.Errorf("a write through a ReadOnly file mapping did not fault")
	}
}

// faults reports whether f faulted (an access violation, which
// SetPanicOnFault turns into a panic).
func faults(f func()) (faulted bool) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			_, faulted = r.(interface{ Addr() uintptr })
		}
	}()
	f()
	return false
}

// TestWindowsFileSize: a file-backed section keeps its exact size, unlike
// a memory-backed one, for the creator and for Open by name.
func TestWindowsFileSize(t *testing.T) {
	content := make([]byte, 9000)
	fill(content, 0, 3)
	path := tempFile(t, content)
	f := openFile(t, path, os.O_RDWR)
	name := winName(t)
	m, err := MapFile(f, name, 0, ReadWrite, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Size() != 9000 || len(m.Bytes()) != 9000 {
		t.Errorf("MapFile of a 9000-byte file: Size() = %d, %d bytes; want 9000", m.Size(), len(m.Bytes()))
	}
	o := mustOpen(t, name, ReadWrite)
	if o.Size() != 9000 {
		t.Errorf("Open of a named mapping of a 9000-byte file: Size() = %d; want 9000", o.Size())
	}
	wantPattern(t, "Open of the named file mapping", o.Bytes(), 0, 3)
	mustClose(t, o)

	g, err := MapFile(f, "", 5000, ReadOnly, nil)
	if err != nil {
		t.Fatal(err)
	}
	if g.Size() != 5000 {
		t.Errorf("MapFile(5000) of a 9000-byte file: Size() = %d", g.Size())
	}
	mustClose(t, g)
}

// TestWindowsMapFileClosed: MapFile of a closed file fails and maps
// nothing: its handle is never passed on as INVALID_HANDLE_VALUE, which
// would ask for a memory-backed mapping instead.
func TestWindowsMapFileClosed(t *testing.T) {
	f := openFile(t, tempFile(t, []byte("content")), os.O_RDWR)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	name := winName(t)
	for _, size := range []int64{0, page} {
		m, err := MapFile(f, name, size, ReadWrite, nil)
		if err == nil {
			t.Errorf("MapFile(closed file, %d) worked: %d bytes", size, m.Size())
			mustClose(t, m)
		} else if !errors.Is(err, os.ErrClosed) {
			t.Errorf("MapFile(closed file, %d): %v; want os.ErrClosed", size, err)
		}
	}
	if m, err := Open(name, ReadOnly); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("Open after MapFile of a closed file failed: %v; want ErrNotFound", err)
		if err == nil {
			mustClose(t, m)
		}
	}
}

// TestWindowsLargeOffset: sizes and offsets past 4 GiB go through the
// high and low halves of CreateFileMapping's and MapViewOfFile's 64-bit
// arguments. A sparse file keeps it cheap.
func TestWindowsLargeOffset(t *testing.T) {
	const size = 4<<30 + 3*Granularity
	path := tempFile(t, nil)
	f := openFile(t, path, os.O_RDWR)
	rc, err := f.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		var n uint32
		serr = windows.DeviceIoControl(windows.Handle(fd), windows.FSCTL_SET_SPARSE, nil, 0, nil, 0, &n, nil)
	}); err != nil {
		t.Fatal(err)
	}
	if serr != nil && !underWine() { // Wine's files are as sparse as the Unix file system makes them
		t.Skipf("FSCTL_SET_SPARSE: %v: the test would write a 4 GiB file", serr)
	}
	m, err := MapFile(f, "", size, ReadWrite, nil)
	if err != nil {
		t.Fatalf("MapFile(%d): %v", int64(size), err)
	}
	defer m.Close()
	if m.Size() != size {
		t.Errorf("MapFile(%d): Size() = %d", int64(size), m.Size())
	}
	if fi, err := f.Stat(); err != nil || fi.Size() != size {
		t.Errorf("the file after MapFile(%d): %v, %v", int64(size), fi.Size(), err)
	}
	const off = 4<<30 + Granularity
	v, err := m.View(off, Granularity, ReadWrite)
	if err != nil {
		t.Fatalf("View(%d): %v", int64(off), err)
	}
	defer v.Close()
	fill(v.Bytes(), off, 4)
	wantPattern(t, "the whole-file view past 4 GiB", m.Bytes()[off:off+Granularity], off, 4)
	wantZero(t, "the whole-file view at 4 GiB", m.Bytes()[4<<30:off])
}

// TestWindowsSecurity: the objects' DACLs: owner-only by default (the
// user, SYSTEM and Administrators), plus read and write for everyone with
// AllUsers or for the group with Group.
func TestWindowsSecurity(t *testing.T) {
	tok, err := windows.OpenCurrentProcessToken()
	if err != nil {
		t.Fatal(err)
	}
	u, err := tok.GetTokenUser()
	tok.Close()
	if err != nil {
		t.Fatal(err)
	}
	const (
		system = "S-1-5-18"
		admins = "S-1-5-32-544"
		users  = "S-1-5-32-545" // BUILTIN\Users
		world  = "S-1-1-0"      // Everyone
	)
	owner := []string{u.User.Sid.String(), system, admins}
	for _, c := range []struct {
		sec    Security
		shared string // the SID given read and write
	}{
		{Security{}, ""},
		{Security{AllUsers: true}, world},
		{Security{Group: users}, users},
		{Security{Group: "Users"}, users},
	} {
		m, err := Create(winName(t), page, &Options{Security: c.sec})
		if err != nil {
			t.Fatalf("Create with %+v: %v", c.sec, err)
		}
		aces := wintest.DACL(t, m.m.h)
		mustClose(t, m)
		for _, sid := range owner {
			// Windows maps GENERIC_ALL to the section's rights; Wine
			// keeps it as it is.
			if mask, ok := aces[sid]; !ok || mask&windows.GENERIC_ALL == 0 && mask&sectionAllAccess != sectionAllAccess {
				t.Errorf("Security %+v: DACL %x: %s lacks full access", c.sec, aces, sid)
			}
			delete(aces, sid)
		}
		if c.shared != "" {
			mask, ok := aces[c.shared]
			const generic, specific = windows.GENERIC_READ | windows.GENERIC_WRITE, sectionQuery | windows.FILE_MAP_READ | windows.FILE_MAP_WRITE
			if !ok || mask&generic != generic && mask&specific != specific {
				t.Errorf("Security %+v: DACL %x: %s lacks read and write", c.sec, aces, c.shared)
			}
			if mask&(windows.GENERIC_ALL|windows.WRITE_DAC|windows.WRITE_OWNER) != 0 {
				t.Errorf("Security %+v: DACL %x: %s has more than read and write", c.sec, aces, c.shared)
			}
			delete(aces, c.shared)
		}
		if len(aces) != 0 {
			t.Errorf("Security %+v: the DACL has other entries: %x", c.sec, aces)
		}
	}
	_, err = Create(winName(t), page, &Options{Security: Security{Group: "no such group xipc"}})
	if !errors.Is(err, errs.ErrInvalidParameter) {
		t.Errorf("Create with an unknown group: %v; want ErrInvalidParameter", err)
	}
}

// sectionAllAccess is SECTION_ALL_ACCESS.
const sectionAllAccess = 0xF001F

// TestWindowsNoQueryRight: an object of another program whose DACL lets
// this user map it but not query it (no SECTION_QUERY): Open still works,
// and finds the size from a view (VirtualQuery), in whole pages, also for
// a file-backed section.
func TestWindowsNoQueryRight(t *testing.T) {
	tok, err := windows.OpenCurrentProcessToken()
	if err != nil {
		t.Fatal(err)
	}
	u, err := tok.GetTokenUser()
	tok.Close()
	if err != nil {
		t.Fatal(err)
	}
	// SECTION_MAP_READ | SECTION_MAP_WRITE, for this user only.
	sd, err := windows.SecurityDescriptorFromString(fmt.Sprintf("D:P(A;;0x6;;;%s)", u.User.Sid))
	if err != nil {
		t.Fatal(err)
	}
	sa := &windows.SecurityAttributes{Length: uint32(unsafe.Sizeof(windows.SecurityAttributes{})), SecurityDescriptor: sd}

	content := make([]byte, 9000)
	fill(content, 0, 11)
	f := openFile(t, tempFile(t, content), os.O_RDWR)
	for _, c := range []struct {
		what string
		file windows.Handle
		size int64
	}{
		{"memory", windows.InvalidHandle, 10000},
		{"file", windows.Handle(f.Fd()), 0},
	} {
		name := `Local\` + winName(t)
		p, err := windows.UTF16PtrFromString(name)
		if err != nil {
			t.Fatal(err)
		}
		h, err := windows.CreateFileMapping(c.file, sa, windows.PAGE_READWRITE, 0, uint32(c.size), p)
		if err != nil {
			t.Fatalf("CreateFileMapping(%s): %v", c.what, err)
		}
		if c.file == windows.InvalidHandle {
			m, err := Open(name, ReadWrite)
			if err != nil {
				t.Fatalf("Open(%s): %v", c.what, err)
			}
			fill(m.Bytes(), 0, 11)
			mustClose(t, m)
		}
		if _, err := openFileMapping(windows.FILE_MAP_READ|sectionQuery, false, p); err != windows.ERROR_ACCESS_DENIED {
			t.Errorf("OpenFileMapping(%s, with SECTION_QUERY): %v; want ERROR_ACCESS_DENIED: the DACL is not enforced", c.what, err)
		}
		for _, access := range []Access{ReadOnly, ReadWrite} {
			m, err := Open(name, access)
			if err != nil {
				t.Fatalf("Open(%s, %d) without SECTION_QUERY: %v", c.what, access, err)
			}
			if m.Size() != 12288 || len(m.Bytes()) != 12288 {
				t.Errorf("Open(%s, %d) without SECTION_QUERY: Size() = %d, %d bytes; want 12288", c.what, access, m.Size(), len(m.Bytes()))
			}
			wantPattern(t, "Open without SECTION_QUERY", m.Bytes()[:9000], 0, 11)
			mustClose(t, m)
		}
		_, err = Create(name, 10000, nil)
		if !errors.Is(err, errs.ErrAccessDenied) {
			t.Errorf("Create of an existing %s mapping the DACL lets this user only map: %v; want ErrAccessDenied", c.what, err)
		}
		if err := windows.CloseHandle(h); err != nil {
			t.Fatal(err)
		}
	}
}
