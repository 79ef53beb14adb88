package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/shm"
)

// TestShm is the behavioural suite for named shared memory (file
// mappings): what the package documentation of shm promises, checked
// between real processes. The package's TestMain must call RunPeerIfAsked.
func TestShm(t *testing.T) {
	privateNamespace(t)

	runGroups(t, []group{
		{"Share", shmShareTests},
		{"Lifetime", shmLifetimeTests},
		{"Names", shmNameTests},
		{"Views", shmViewTests},
		{"MapFile", shmFileTests},
		{"Types", shmTypeTests},
	})
}

const shmGran = shm.Granularity

// Two processes, one object.

var shmShareTests = []subtest{
	{"BothWays", testShmBothWays},
	{"PeerCreates", testShmPeerCreates},
	{"AlreadyExists", testShmAlreadyExists},
	{"ReadOnlyOpen", testShmReadOnlyOpen},
}

// testShmBothWays: a mapping created here and opened by a peer process is
// one piece of memory: new and zero-filled, of the size asked, and what
// either side writes the other reads, to the last byte.
func testShmBothWays(t *testing.T) {
	const size = 10000
	name := shmName(t)
	m := createShm(t, name, size)
	if m.Existed() {
		t.Errorf("Create of a new name: Existed() = true")
	}
	wantShmSize(t, "Create", m.Size(), size)
	wantShmZero(t, "a new mapping", m.Bytes())
	mine := payload(1, 0, 1000)
	copy(m.Bytes(), mine)

	p := startPeer(t)
	id, got := p.shmMustOpen(name, shm.ReadWrite)
	if got != m.Size() {
		t.Errorf("peer Open: Size() = %d; the creator's is %d", got, m.Size())
	}
	wantShmBytes(t, "what the peer reads", p.shmRead(id, 0, len(mine)), mine)
	theirs := payload(2, 0, 1000)
	p.shmWrite(id, 5000, theirs)
	p.shmWrite(id, size-1, []byte{0xAB})
	wantShmBytes(t, "what the peer wrote, read here", m.Bytes()[5000:6000], theirs)
	if b := m.Bytes()[size-1]; b != 0xAB {
		t.Errorf("the last byte, written by the peer, reads %#x here; want 0xab", b)
	}
}

// testShmPeerCreates: the same with the roles swapped: the peer creates,
// this process opens.
func testShmPeerCreates(t *testing.T) {
	const size = 3*shmGran + 123
	name := shmName(t)
	p := startPeer(t)
	id, got, existed := p.shmCreate(name, size)
	if existed {
		t.Errorf("peer Create of a new name: Existed() = true")
	}
	wantShmSize(t, "peer Create", got, size)
	theirs := payload(3, 0, 2000)
	p.shmWrite(id, 2*shmGran, theirs)

	m := openShm(t, name, shm.ReadWrite)
	if m.Size() != got {
		t.Errorf("Open: Size() = %d; the peer's is %d", m.Size(), got)
	}
	wantShmZero(t, "what nobody wrote", m.Bytes()[:2*shmGran])
	wantShmBytes(t, "what the peer wrote, read here", m.Bytes()[2*shmGran:2*shmGran+2000], theirs)
	mine := payload(4, 0, 123)
	copy(m.Bytes()[size-123:], mine)
	wantShmBytes(t, "what the peer reads", p.shmRead(id, size-123, 123), mine)
}

// testShmAlreadyExists: Create of an existing name opens that object
// (ERROR_ALREADY_EXISTS): Existed reports it, and the size is the
// existing one whatever size was asked, in this process or another.
func testShmAlreadyExists(t *testing.T) {
	name := shmName(t)
	m := createShm(t, name, 10000)
	wantShmSize(t, "Create", m.Size(), 10000)
	data := payload(5, 0, 10000)
	copy(m.Bytes(), data)
	for _, size := range []int64{10000, 5000, 1, 1 << 20} {
		again, err := shm.Create(name, size, nil)
		if err != nil {
			t.Fatalf("Create(%q, %d) of an existing mapping: %v", name, size, err)
		}
		if !again.Existed() {
			t.Errorf("Create(%d) of an existing mapping: Existed() = false", size)
		}
		if again.Size() != m.Size() {
			t.Errorf("Create(%d) of an existing %d-byte mapping: Size() = %d; want the existing size", size, m.Size(), again.Size())
		}
		wantShmBytes(t, fmt.Sprintf("Create(%d) of an existing mapping: its content", size), again.Bytes()[:min(len(again.Bytes()), len(data))], data)
		if err := again.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}

	p := startPeer(t)
	id, got, existed := p.shmCreate(name, 20000)
	if !existed || got != m.Size() {
		t.Errorf("peer Create(20000) of an existing %d-byte mapping: (size %d, existed %v); want (%d, true)", m.Size(), got, existed, m.Size())
	}
	wantShmBytes(t, "what the peer reads", p.shmRead(id, 0, 10000), data)
	p.shmWrite(id, 0, []byte("peer"))
	wantShmBytes(t, "what the peer wrote, read here", m.Bytes()[:4], []byte("peer"))
}

// testShmReadOnlyOpen: a read-only handle sees the object itself, not a
// copy: later writes show through it.
func testShmReadOnlyOpen(t *testing.T) {
	name := shmName(t)
	m := createShm(t, name, 4096)
	copy(m.Bytes(), "before")
	p := startPeer(t)
	id, _ := p.shmMustOpen(name, shm.ReadOnly)
	ro := openShm(t, name, shm.ReadOnly)
	wantShmBytes(t, "peer's read-only view", p.shmRead(id, 0, 6), []byte("before"))
	wantShmBytes(t, "a read-only view here", ro.Bytes()[:6], []byte("before"))
	copy(m.Bytes(), "after!")
	wantShmBytes(t, "peer's read-only view after a write", p.shmRead(id, 0, 6), []byte("after!"))
	wantShmBytes(t, "a read-only view here after a write", ro.Bytes()[:6], []byte("after!"))
}

// Lifetime: the object lives while any handle or view is open in any
// process; then the name is free and a new Create is fresh and zeroed.

var shmLifetimeTests = []subtest{
	{"LastCloseFrees", testShmLastCloseFrees},
	{"CreatorClosesFirst", testShmCreatorClosesFirst},
	{"HandlesInOneProcess", testShmHandlesInOneProcess},
	{"KillSurvivorCloses", testShmKillSurvivorCloses},
	{"KillOnlyHolderThenOpen", testShmKillOnlyHolderThenOpen},
	{"KillOnlyHolderThenCreate", testShmKillOnlyHolderThenCreate},
	{"ExitWithoutClose", testShmExitWithoutClose},
	{"ViewOutlivesMapping", testShmViewOutlivesMapping},
}

// testShmLastCloseFrees: the creator closes; the object lives on in the
// peer, with its content; when the peer closes too, the name is gone.
func testShmLastCloseFrees(t *testing.T) {
	const size = 2*shmGran + 10
	name := shmName(t)
	m := createShm(t, name, size)
	data := payload(6, 0, size)
	copy(m.Bytes(), data)
	p := startPeer(t)
	id, _ := p.shmMustOpen(name, shm.ReadWrite)
	closeShm(t, m)

	wantShmBytes(t, "the peer's view after the creator closed", p.shmRead(id, 0, size), data)
	again := openShm(t, name, shm.ReadOnly)
	wantShmBytes(t, "Open while only the peer holds the object", again.Bytes()[:size], data)
	closeShm(t, again)

	p.close(id)
	wantShmGone(t, name)
	wantShmFresh(t, name, size)
}

// testShmCreatorClosesFirst: the peer creates and closes; the object lives
// on here, and goes with this process's last handle.
func testShmCreatorClosesFirst(t *testing.T) {
	const size = 5000
	name := shmName(t)
	p := startPeer(t)
	id, _, _ := p.shmCreate(name, size)
	data := payload(7, 0, size)
	p.shmWrite(id, 0, data)
	m := openShm(t, name, shm.ReadWrite)
	p.close(id)

	wantShmBytes(t, "this view after the creator closed", m.Bytes()[:size], data)
	id2, _ := p.shmMustOpen(name, shm.ReadOnly)
	wantShmBytes(t, "the peer's new handle", p.shmRead(id2, 0, size), data)
	p.close(id2)

	closeShm(t, m)
	wantShmGone(t, name)
	wantShmFresh(t, name, size)
}

// testShmHandlesInOneProcess: each handle counts, also two in one process.
func testShmHandlesInOneProcess(t *testing.T) {
	name := shmName(t)
	a := createShm(t, name, 4096)
	copy(a.Bytes(), "kept")
	b := openShm(t, name, shm.ReadWrite)
	closeShm(t, a)

	p := startPeer(t)
	id, _ := p.shmMustOpen(name, shm.ReadOnly)
	wantShmBytes(t, "the peer's view while the second handle is open", p.shmRead(id, 0, 4), []byte("kept"))
	p.close(id)

	closeShm(t, b)
	wantShmGone(t, name)
}

// testShmKillSurvivorCloses: the creator is killed (SIGKILL,
// TerminateProcess); the survivor's handle keeps the object and its
// content; the survivor's close frees it.
func testShmKillSurvivorCloses(t *testing.T) {
	const size = shmGran
	name := shmName(t)
	p := startPeer(t)
	id, _, _ := p.shmCreate(name, size)
	data := payload(8, 0, size)
	p.shmWrite(id, 0, data)
	m := openShm(t, name, shm.ReadWrite)
	p.kill()

	wantShmBytes(t, "the survivor's view", m.Bytes()[:size], data)
	again := openShm(t, name, shm.ReadOnly)
	wantShmBytes(t, "Open after the creator was killed", again.Bytes()[:size], data)
	closeShm(t, again)

	closeShm(t, m)
	wantShmGone(t, name)
	wantShmFresh(t, name, size)
}

// testShmKillOnlyHolderThenOpen: when the only holder is killed, the
// object is gone: Open fails with ErrNotFound.
func testShmKillOnlyHolderThenOpen(t *testing.T) {
	name := shmName(t)
	p := startPeer(t)
	id, _, _ := p.shmCreate(name, 4096)
	p.shmWrite(id, 0, payload(9, 0, 4096))
	p.kill()
	wantShmGone(t, name)
	wantShmFresh(t, name, 4096)
}

// testShmKillOnlyHolderThenCreate: when the only holder is killed, the next
// Create gets a new object: zero-filled, of the size it asks (here smaller
// than the dead one's).
func testShmKillOnlyHolderThenCreate(t *testing.T) {
	name := shmName(t)
	p := startPeer(t)
	id, _, _ := p.shmCreate(name, 2*shmGran)
	p.shmWrite(id, 0, payload(10, 0, 2*shmGran))
	p.kill()
	wantShmFresh(t, name, 1000)
}

// testShmExitWithoutClose: a process that exits without closing frees its
// handles as one that is killed does.
func testShmExitWithoutClose(t *testing.T) {
	name := shmName(t)
	p := startPeer(t)
	id, _, _ := p.shmCreate(name, 3000)
	p.shmWrite(id, 0, payload(11, 0, 3000))
	p.exit()
	wantShmFresh(t, name, 3000)
}

// testShmViewOutlivesMapping: a View stays valid after its Mapping closes
// and keeps the object alive, for other processes too, until it closes.
func testShmViewOutlivesMapping(t *testing.T) {
	const size = 2 * shmGran
	name := shmName(t)
	m := createShm(t, name, size)
	copy(m.Bytes(), "one")
	v := viewShm(t, m, 0, 0, shm.ReadWrite)
	closeShm(t, m)

	wantShmBytes(t, "the view after its mapping closed", v.Bytes()[:3], []byte("one"))
	copy(v.Bytes()[shmGran:], "two")
	p := startPeer(t)
	id, got := p.shmMustOpen(name, shm.ReadWrite)
	wantShmSize(t, "peer Open while only a view holds the object", got, size)
	wantShmBytes(t, "what the peer reads", p.shmRead(id, shmGran, 3), []byte("two"))
	p.shmWrite(id, 100, []byte("three"))
	wantShmBytes(t, "what the peer wrote, read through the view", v.Bytes()[100:105], []byte("three"))
	p.close(id)

	if err := v.Close(); err != nil {
		t.Fatalf("View.Close: %v", err)
	}
	wantShmGone(t, name)
}

// Names.

var shmNameTests = []subtest{
	{"LocalIsDefault", testShmLocalIsDefault},
	{"GlobalIsAnother", testShmGlobalIsAnother},
	{"CaseSensitive", testShmCaseSensitive},
	{"Longest", testShmLongestName},
	{"Invalid", testShmInvalidNames},
	{"NotFound", testShmNotFound},
	{"ZeroSize", testShmZeroSize},
	{"InvalidAccess", testShmInvalidAccess},
}

// testShmLocalIsDefault: `Local\NAME` and a bare NAME are one object, in
// this process and across processes, and Name reports `Local\NAME`.
func testShmLocalIsDefault(t *testing.T) {
	bare, bare2 := shmName(t), shmName(t) // before the peer starts, so checked after it ends
	local := `Local\` + bare
	m := createShm(t, local, 4096)
	copy(m.Bytes(), "local")
	if m.Name() != local {
		t.Errorf("Create(%q).Name() = %q; want %q", local, m.Name(), local)
	}
	b := openShm(t, bare, shm.ReadWrite)
	if b.Name() != local {
		t.Errorf("Open(%q).Name() = %q; want %q", bare, b.Name(), local)
	}
	wantShmBytes(t, "Open of the bare name", b.Bytes()[:5], []byte("local"))
	again := createShm(t, bare, 4096)
	if !again.Existed() {
		t.Errorf("Create(%q) after Create(%q): Existed() = false", bare, local)
	}

	p := startPeer(t)
	id, _ := p.shmMustOpen(bare, shm.ReadOnly)
	wantShmBytes(t, "peer Open of the bare name", p.shmRead(id, 0, 5), []byte("local"))
	id2, _, _ := p.shmCreate(bare2, 4096)
	p.shmWrite(id2, 0, []byte("bare"))
	l2 := openShm(t, `Local\`+bare2, shm.ReadOnly)
	wantShmBytes(t, `Open with Local\ of the peer's bare name`, l2.Bytes()[:4], []byte("bare"))
}

// testShmGlobalIsAnother: `Global\NAME` is another object than `Local\NAME`.
func testShmGlobalIsAnother(t *testing.T) {
	bare := shmName(t)
	global := `Global\` + bare
	sweepShm(t, global)
	g, err := shm.Create(global, 4096, nil)
	if err != nil {
		skipIfGlobalDenied(t, err)
		t.Fatalf("Create(%q): %v", global, err)
	}
	t.Cleanup(func() { _ = g.Close() }) // closing twice is a no-op
	if g.Name() != global {
		t.Errorf("Create(%q).Name() = %q", global, g.Name())
	}
	copy(g.Bytes(), "global")
	for _, other := range []string{bare, `Local\` + bare} {
		m, err := shm.Open(other, shm.ReadWrite)
		wantErr(t, fmt.Sprintf("Open(%q) while only %q exists", other, global), err, errs.ErrNotFound)
		if err == nil {
			closeShm(t, m)
		}
	}
	l := wantShmFresh(t, bare, 4096)
	copy(l.Bytes(), "local!")
	wantShmBytes(t, global+" after a write to the Local one", g.Bytes()[:6], []byte("global"))

	p := startPeer(t)
	id, _ := p.shmMustOpen(global, shm.ReadOnly)
	wantShmBytes(t, "peer Open of "+global, p.shmRead(id, 0, 6), []byte("global"))
	lid, _ := p.shmMustOpen(bare, shm.ReadOnly)
	wantShmBytes(t, "peer Open of "+bare, p.shmRead(lid, 0, 6), []byte("local!"))
}

// testShmCaseSensitive: kernel-object names are case-sensitive, unlike
// pipe and mailslot names: another case is another name.
func testShmCaseSensitive(t *testing.T) {
	name := shmName(t) // starts "xipc-"
	m := createShm(t, name, 4096)
	copy(m.Bytes(), "lower")
	upper, first := strings.ToUpper(name), "X"+name[1:]
	sweepShm(t, upper)
	for _, other := range []string{upper, first, `Local\` + upper} {
		o, err := shm.Open(other, shm.ReadWrite)
		wantErr(t, fmt.Sprintf("Open(%q) while only %q exists", other, name), err, errs.ErrNotFound)
		if err == nil {
			closeShm(t, o)
		}
	}
	p := startPeer(t)
	_, _, err := p.shmOpen(upper, shm.ReadOnly)
	wantErr(t, fmt.Sprintf("peer Open(%q) while only %q exists", upper, name), err, errs.ErrNotFound)

	u := wantShmFresh(t, upper, 4096)
	copy(u.Bytes(), "UPPER")
	wantShmBytes(t, name+" after a write to "+upper, m.Bytes()[:5], []byte("lower"))
}

// testShmLongestName: a name of MAX_PATH (260) characters with its
// `Local\` prefix works; one more character is ErrInvalidName.
func testShmLongestName(t *testing.T) {
	longest := uniqueName(t)
	longest += strings.Repeat("n", 260-len(`Local\`)-len(longest))
	sweepShm(t, longest)
	m := createShm(t, longest, 4096)
	copy(m.Bytes(), "long")
	o := openShm(t, `Local\`+longest, shm.ReadOnly)
	wantShmBytes(t, "Open of the longest name", o.Bytes()[:4], []byte("long"))

	tooLong := longest + "n"
	_, err := shm.Create(tooLong, 4096, nil)
	wantErr(t, "Create of a 261-character name", err, errs.ErrInvalidName)
	_, err = shm.Open(tooLong, shm.ReadWrite)
	wantErr(t, "Open of a 261-character name", err, errs.ErrInvalidName)
}

// testShmInvalidNames: malformed names fail with ErrInvalidName in Create,
// Open and a named MapFile, and return no mapping.
func testShmInvalidNames(t *testing.T) {
	f := openShmFile(t, shmTempFile(t, []byte("content")), os.O_RDWR)
	for _, name := range []string{
		"",
		`Local\`,
		`Global\`,
		`a\b`,
		`Local\a\b`,
		`Global\a\b`,
		`local\x`, // the prefixes are case-sensitive: this is a name with a '\'
		`GLOBAL\x`,
		`Session\1\x`,
		`\x`,
		"a\x00b",
		"\xff\xfe",
	} {
		m, err := shm.Create(name, 4096, nil)
		wantErr(t, fmt.Sprintf("Create(%q)", name), err, errs.ErrInvalidName)
		if m != nil {
			t.Errorf("Create(%q) returned a mapping with its error", name)
			closeShm(t, m)
		}
		m, err = shm.Open(name, shm.ReadWrite)
		wantErr(t, fmt.Sprintf("Open(%q)", name), err, errs.ErrInvalidName)
		if m != nil {
			t.Errorf("Open(%q) returned a mapping with its error", name)
			closeShm(t, m)
		}
		if name == "" {
			continue // "" is an unnamed file mapping
		}
		m, err = shm.MapFile(f, name, 0, shm.ReadWrite, nil)
		wantErr(t, fmt.Sprintf("MapFile(f, %q)", name), err, errs.ErrInvalidName)
		if m != nil {
			t.Errorf("MapFile(f, %q) returned a mapping with its error", name)
			closeShm(t, m)
		}
	}
}

// testShmNotFound: Open of a name nobody created fails with ErrNotFound,
// in an *errs.OpError that names the operation and the object.
func testShmNotFound(t *testing.T) {
	name := shmName(t)
	for _, access := range []shm.Access{shm.ReadWrite, shm.ReadOnly} {
		m, err := shm.Open(name, access)
		wantErr(t, fmt.Sprintf("Open(%q, %v) of a name nobody created", name, access), err, errs.ErrNotFound)
		if m != nil {
			t.Errorf("Open returned a mapping with its error")
			closeShm(t, m)
		}
		var oe *errs.OpError
		if !errors.As(err, &oe) {
			t.Errorf("Open's error %v (%T) is not an *errs.OpError", err, err)
		} else if oe.Op != "open" || oe.Kind != "shm" || oe.Name != `Local\`+name {
			t.Errorf("Open's error: Op %q, Kind %q, Name %q; want open, shm, %q", oe.Op, oe.Kind, oe.Name, `Local\`+name)
		}
	}
	p := startPeer(t)
	_, _, err := p.shmOpen(name, shm.ReadWrite)
	wantErr(t, "peer Open of a name nobody created", err, errs.ErrNotFound)
}

// testShmZeroSize: a memory-backed mapping needs a size: 0 (and less) is
// ErrInvalidParameter, and creates nothing.
func testShmZeroSize(t *testing.T) {
	name := shmName(t)
	for _, size := range []int64{0, -1, -shmGran} {
		m, err := shm.Create(name, size, nil)
		wantErr(t, fmt.Sprintf("Create(%q, %d)", name, size), err, errs.ErrInvalidParameter)
		if m != nil {
			t.Errorf("Create(%d) returned a mapping with its error", size)
			closeShm(t, m)
		}
	}
	wantShmGone(t, name)
}

// testShmInvalidAccess: an Access other than ReadWrite and ReadOnly is
// ErrInvalidParameter, in Open, View and MapFile.
func testShmInvalidAccess(t *testing.T) {
	name := shmName(t)
	m := createShm(t, name, shmGran)
	f := openShmFile(t, shmTempFile(t, []byte("content")), os.O_RDWR)
	for _, access := range []shm.Access{-1, 2, 100} {
		o, err := shm.Open(name, access)
		wantErr(t, fmt.Sprintf("Open(%q, %d)", name, access), err, errs.ErrInvalidParameter)
		if o != nil {
			closeShm(t, o)
		}
		v, err := m.View(0, 0, access)
		wantErr(t, fmt.Sprintf("View(0, 0, %d)", access), err, errs.ErrInvalidParameter)
		if v != nil {
			closeShmView(t, v)
		}
		o, err = shm.MapFile(f, "", 0, access, nil)
		wantErr(t, fmt.Sprintf("MapFile(f, \"\", 0, %d)", access), err, errs.ErrInvalidParameter)
		if o != nil {
			closeShm(t, o)
		}
	}
}

// Views.

var shmViewTests = []subtest{
	{"AtOffset", testShmViewAtOffset},
	{"Alignment", testShmViewAlignment},
	{"PastEnd", testShmViewPastEnd},
	{"ReadOnlyHandle", testShmViewReadOnlyHandle},
	{"ReadOnlyWriteFaults", testShmReadOnlyWriteFaults},
	{"CloseTwice", testShmCloseTwice},
	{"AfterClose", testShmViewAfterClose},
	{"AfterCloseWithViewOpen", testShmViewAfterCloseWithViewOpen},
	{"Concurrent", testShmConcurrent},
	{"BytesDuringClose", testShmBytesDuringClose},
}

// testShmViewAtOffset: a view at an offset maps that part of the object;
// n == 0 maps to the end.
func testShmViewAtOffset(t *testing.T) {
	const size = 3*shmGran + 5000
	m := createShm(t, shmName(t), size)
	v := viewShm(t, m, shmGran, shmGran, shm.ReadWrite)
	if len(v.Bytes()) != shmGran {
		t.Fatalf("View(%d, %d): %d bytes", shmGran, shmGran, len(v.Bytes()))
	}
	data := payload(12, 0, shmGran)
	copy(v.Bytes(), data)
	wantShmBytes(t, "the whole-object view where the view at 64 KiB wrote", m.Bytes()[shmGran:2*shmGran], data)
	wantShmZero(t, "the whole-object view around the view", append(m.Bytes()[:shmGran:shmGran], m.Bytes()[2*shmGran:size]...))

	copy(m.Bytes()[2*shmGran+10:], "tail")
	end := viewShm(t, m, 2*shmGran, 0, shm.ReadOnly)
	if want := int(m.Size() - 2*shmGran); len(end.Bytes()) != want {
		t.Errorf("View(%d, 0) of a %d-byte mapping: %d bytes; want %d, to the end", 2*shmGran, m.Size(), len(end.Bytes()), want)
	}
	wantShmBytes(t, "a read-only view at 128 KiB", end.Bytes()[10:14], []byte("tail"))
	exact := viewShm(t, m, 3*shmGran, int(m.Size()-3*shmGran), shm.ReadOnly)
	if len(exact.Bytes()) != int(m.Size()-3*shmGran) {
		t.Errorf("View of the last %d bytes: %d bytes", m.Size()-3*shmGran, len(exact.Bytes()))
	}
	head := viewShm(t, m, 0, 100, shm.ReadOnly)
	wantShmBytes(t, "View(0, 100)", head.Bytes(), m.Bytes()[:100])
}

// testShmViewAlignment: an offset that is not a multiple of Granularity
// (64 KiB; a page is not enough) fails with ErrMappedAlignment.
func testShmViewAlignment(t *testing.T) {
	m := createShm(t, shmName(t), 3*shmGran)
	for _, off := range []int64{1, 4096, shmGran / 2, shmGran - 1, shmGran + 4096, 2*shmGran + 1} {
		v, err := m.View(off, 10, shm.ReadOnly)
		wantErr(t, fmt.Sprintf("View(%d, 10)", off), err, errs.ErrMappedAlignment)
		if v != nil {
			closeShmView(t, v)
		}
	}
}

// testShmViewPastEnd: a view that would pass the end of the object, or has
// a negative offset or size, fails with ErrInvalidParameter.
func testShmViewPastEnd(t *testing.T) {
	m := createShm(t, shmName(t), 2*shmGran+5000)
	size := m.Size() // the object's, which Windows may round up
	for _, c := range []struct {
		off int64
		n   int
	}{
		{0, int(size) + 1},
		{shmGran, int(size-shmGran) + 1},
		{3 * shmGran, 0}, // an aligned offset past the end
		{3 * shmGran, 1},
		{100 * shmGran, 0},
		{-shmGran, 0},
		{0, -1},
	} {
		v, err := m.View(c.off, c.n, shm.ReadOnly)
		wantErr(t, fmt.Sprintf("View(%d, %d) of a %d-byte mapping", c.off, c.n, size), err, errs.ErrInvalidParameter)
		if v != nil {
			closeShmView(t, v)
		}
	}
}

// testShmViewReadOnlyHandle: a read-only handle gives read-only views; a
// read-write view of it is ErrAccessDenied.
func testShmViewReadOnlyHandle(t *testing.T) {
	name := shmName(t)
	m := createShm(t, name, 2*shmGran)
	copy(m.Bytes()[shmGran:], "second")
	ro := openShm(t, name, shm.ReadOnly)
	for _, c := range []struct {
		off int64
		n   int
	}{{0, 0}, {shmGran, 6}} {
		v, err := ro.View(c.off, c.n, shm.ReadWrite)
		wantErr(t, fmt.Sprintf("ReadWrite View(%d, %d) of a ReadOnly handle", c.off, c.n), err, errs.ErrAccessDenied)
		if v != nil {
			closeShmView(t, v)
		}
	}
	v := viewShm(t, ro, shmGran, 6, shm.ReadOnly)
	wantShmBytes(t, "ReadOnly view of a ReadOnly handle", v.Bytes(), []byte("second"))
}

// testShmReadOnlyWriteFaults: a write through a read-only mapping is an
// access violation that kills the writer, not an error; the object and
// the other processes are unharmed.
func testShmReadOnlyWriteFaults(t *testing.T) {
	name := shmName(t)
	m := createShm(t, name, 4096)
	copy(m.Bytes(), "original")
	p := startPeer(t)
	id, _ := p.shmMustOpen(name, shm.ReadOnly)
	wantShmBytes(t, "the peer's read-only view", p.shmRead(id, 0, 8), []byte("original"))

	err := p.crash(request{Op: "shmWrite", ID: id, Data: []byte("changed!")})
	if err == nil {
		t.Errorf("the peer that wrote through a ReadOnly mapping exited with status 0; want a fault")
	}
	if out := p.stderr.String(); !strings.Contains(out, "fault") {
		t.Errorf("the peer that wrote through a ReadOnly mapping ended (%v) without reporting a fault:\n%s", err, out)
	}
	wantShmBytes(t, "the mapping after the peer's write faulted", m.Bytes()[:8], []byte("original"))
	copy(m.Bytes(), "writable")
	again := openShm(t, name, shm.ReadOnly)
	wantShmBytes(t, "Open after the peer died", again.Bytes()[:8], []byte("writable"))
}

// testShmCloseTwice: closing a mapping or a view twice is a no-op, in
// either order.
func testShmCloseTwice(t *testing.T) {
	name := shmName(t)
	m := createShm(t, name, shmGran)
	v := viewShm(t, m, 0, 0, shm.ReadOnly)
	for i := range 2 {
		if err := m.Close(); err != nil {
			t.Errorf("Mapping.Close #%d: %v", i+1, err)
		}
	}
	for i := range 2 {
		if err := v.Close(); err != nil {
			t.Errorf("View.Close #%d: %v", i+1, err)
		}
	}
	wantShmGone(t, name)

	m = createShm(t, name, shmGran)
	v = viewShm(t, m, 0, 0, shm.ReadOnly)
	for i := range 2 {
		if err := v.Close(); err != nil {
			t.Errorf("View.Close #%d of a view of an open mapping: %v", i+1, err)
		}
	}
	copy(m.Bytes(), "still mapped") // a second View.Close must not undo the Mapping's view
	wantShmBytes(t, "the mapping after its view closed twice", m.Bytes()[:12], []byte("still mapped"))
	closeShm(t, m)
	if err := m.Close(); err != nil {
		t.Errorf("Mapping.Close #2: %v", err)
	}
	wantShmGone(t, name)
}

// testShmViewAfterClose: View on a closed handle fails with ErrClosed
// (ERROR_INVALID_HANDLE).
func testShmViewAfterClose(t *testing.T) {
	m := createShm(t, shmName(t), shmGran)
	closeShm(t, m)
	v, err := m.View(0, 0, shm.ReadOnly)
	wantErr(t, "View after Close", err, errs.ErrClosed)
	if v != nil {
		closeShmView(t, v)
	}
}

// testShmViewAfterCloseWithViewOpen: the same while a view of the handle
// is still open: the view keeps the object, not the handle.
func testShmViewAfterCloseWithViewOpen(t *testing.T) {
	m := createShm(t, shmName(t), shmGran)
	kept := viewShm(t, m, 0, 0, shm.ReadWrite)
	closeShm(t, m)
	v, err := m.View(0, 0, shm.ReadOnly)
	wantErr(t, "View after Close, while an earlier view is open", err, errs.ErrClosed)
	if v != nil {
		closeShmView(t, v)
	}
	copy(kept.Bytes(), "kept")
	wantShmBytes(t, "the earlier view", kept.Bytes()[:4], []byte("kept"))
}

// testShmConcurrent: a Mapping's methods are safe for concurrent use
// (run it with -race): views made and closed from many goroutines, then
// made while the mapping closes.
func testShmConcurrent(t *testing.T) {
	const goroutines, rounds = 8, 50
	name := shmName(t)
	m := createShm(t, name, 4*shmGran)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			off := int64(g%4) * shmGran
			for i := range rounds {
				v, err := m.View(off, shmGran, shm.ReadWrite)
				if err != nil {
					t.Errorf("View(%d): %v", off, err)
					return
				}
				v.Bytes()[(g/4)*rounds+i] = byte(g + 1)
				_, _, _ = m.Size(), m.Name(), m.Existed() // concurrently with the views' bookkeeping
				if err := v.Close(); err != nil {
					t.Errorf("View.Close: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	for g := range goroutines {
		at := int(int64(g%4)*shmGran) + (g/4)*rounds
		for i := range rounds {
			if b := m.Bytes()[at+i]; b != byte(g+1) {
				t.Fatalf("byte %d = %d; goroutine %d wrote %d there", at+i, b, g, g+1)
			}
		}
	}

	// Now close the mapping while views come and go: each View either
	// works or reports ErrClosed, and every view made can be closed.
	start := make(chan struct{})
	for range goroutines {
		wg.Go(func() {
			<-start
			for range rounds {
				v, err := m.View(0, 0, shm.ReadOnly)
				if err != nil {
					if !errors.Is(err, errs.ErrClosed) {
						t.Errorf("View while the mapping closes: %v; want success or ErrClosed", err)
					}
					return
				}
				if err := v.Close(); err != nil {
					t.Errorf("View.Close while the mapping closes: %v", err)
					return
				}
			}
		})
	}
	close(start)
	closeShm(t, m)
	wg.Wait()
	wantShmGone(t, name)
}

// testShmBytesDuringClose: Bytes, Size, Name and Existed may be called
// while another goroutine closes the mapping (run it with -race); the
// slice Bytes returns is not used here, as it may be unmapped already.
func testShmBytesDuringClose(t *testing.T) {
	m := createShm(t, shmName(t), shmGran)
	// The callers keep calling during and after Close, with nothing in
	// their loop that could order them after it (reading the clock there
	// hid the race from the detector in most runs).
	start := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			<-start
			for range 200_000 {
				_, _, _, _ = m.Bytes(), m.Size(), m.Name(), m.Existed()
			}
		})
	}
	close(start)
	closeShm(t, m)
	wg.Wait()
}

// File-backed mappings.

var shmFileTests = []subtest{
	{"SeesFile", testShmFileSees},
	{"Grow", testShmFileGrow},
	{"GrowReadOnly", testShmFileGrowReadOnly},
	{"Shorter", testShmFileShorter},
	{"ReadOnlyFile", testShmFileReadOnly},
	{"Empty", testShmFileEmpty},
	{"NegativeSize", testShmFileNegativeSize},
	{"Named", testShmFileNamed},
	{"NamedExisting", testShmFileNamedExisting},
}

// testShmFileSees: an unnamed mapping of a file shows the file's content
// and the file's later writes; writes through it reach the file; the file
// may be closed once mapped.
func testShmFileSees(t *testing.T) {
	content := payload(13, 0, 10000)
	path := shmTempFile(t, content)
	f := openShmFile(t, path, os.O_RDWR)
	m := mapShmFile(t, f, "", 0, shm.ReadWrite)
	if m.Existed() {
		t.Errorf("MapFile of an unnamed mapping: Existed() = true")
	}
	if m.Name() != f.Name() {
		t.Errorf("MapFile: Name() = %q; want the file's name %q", m.Name(), f.Name())
	}
	wantShmSize(t, "MapFile of a 10000-byte file", m.Size(), 10000)
	wantShmBytes(t, "the mapping of a file", m.Bytes()[:10000], content)
	if _, err := f.WriteAt([]byte("written to the file"), 200); err != nil {
		t.Fatal(err)
	}
	wantShmBytes(t, "the mapping after a write to the file", m.Bytes()[200:219], []byte("written to the file"))
	closeShmFile(t, f)

	copy(m.Bytes()[5000:], "written through the mapping")
	closeShm(t, m)
	want := append([]byte{}, content...)
	copy(want[200:], "written to the file")
	copy(want[5000:], "written through the mapping")
	wantShmFileContent(t, path, want)
}

// testShmFileGrow: a size larger than the file grows the file (read-write
// mappings only); the new part reads as zeros.
func testShmFileGrow(t *testing.T) {
	content := payload(14, 0, 5000)
	path := shmTempFile(t, content)
	f := openShmFile(t, path, os.O_RDWR)
	m := mapShmFile(t, f, "", 20000, shm.ReadWrite)
	wantShmSize(t, "MapFile(20000) of a 5000-byte file", m.Size(), 20000)
	wantShmFileSize(t, path, 20000)
	wantShmBytes(t, "the grown file's mapping", m.Bytes()[:5000], content)
	wantShmZero(t, "the grown part", m.Bytes()[5000:20000])
	m.Bytes()[19999] = 0x5A
	closeShm(t, m)
	want := append(append([]byte{}, content...), make([]byte, 15000)...)
	want[19999] = 0x5A
	wantShmFileContent(t, path, want)
}

// testShmFileGrowReadOnly: a read-only mapping cannot grow its file:
// ErrAccessDenied, and the file keeps its size.
func testShmFileGrowReadOnly(t *testing.T) {
	path := shmTempFile(t, payload(15, 0, 5000))
	for _, flag := range []int{os.O_RDWR, os.O_RDONLY} {
		f := openShmFile(t, path, flag)
		m, err := shm.MapFile(f, "", 20000, shm.ReadOnly, nil)
		wantErr(t, fmt.Sprintf("ReadOnly MapFile(20000) of a 5000-byte file (opened with flags %#x)", flag), err, errs.ErrAccessDenied)
		if m != nil {
			closeShm(t, m)
		}
		wantShmFileSize(t, path, 5000)
	}
}

// testShmFileShorter: a size smaller than the file maps that much of it
// and leaves the file alone.
func testShmFileShorter(t *testing.T) {
	content := payload(16, 0, 2*shmGran)
	path := shmTempFile(t, content)
	f := openShmFile(t, path, os.O_RDWR)
	m := mapShmFile(t, f, "", 5000, shm.ReadWrite)
	wantShmSize(t, "MapFile(5000) of a 128 KiB file", m.Size(), 5000)
	wantShmBytes(t, "the mapping of the file's start", m.Bytes()[:5000], content[:5000])
	closeShm(t, m)
	wantShmFileSize(t, path, 2*shmGran)
}

// testShmFileReadOnly: a file opened for reading maps read-only; a
// read-write mapping of it is ErrAccessDenied.
func testShmFileReadOnly(t *testing.T) {
	content := payload(17, 0, 3000)
	path := shmTempFile(t, content)
	f := openShmFile(t, path, os.O_RDONLY)
	m := mapShmFile(t, f, "", 0, shm.ReadOnly)
	wantShmBytes(t, "a read-only mapping of a read-only file", m.Bytes()[:3000], content)
	rw, err := shm.MapFile(f, "", 0, shm.ReadWrite, nil)
	wantErr(t, "ReadWrite MapFile of a file opened read-only", err, errs.ErrAccessDenied)
	if rw != nil {
		closeShm(t, rw)
	}
}

// testShmFileEmpty: an empty file cannot be mapped with size 0:
// ErrInvalidParameter; a named one creates no object.
func testShmFileEmpty(t *testing.T) {
	name := shmName(t)
	path := shmTempFile(t, nil)
	f := openShmFile(t, path, os.O_RDWR)
	for _, access := range []shm.Access{shm.ReadWrite, shm.ReadOnly} {
		for _, n := range []string{"", name} {
			m, err := shm.MapFile(f, n, 0, access, nil)
			wantErr(t, fmt.Sprintf("MapFile(empty file, %q, 0, %d)", n, access), err, errs.ErrInvalidParameter)
			if m != nil {
				closeShm(t, m)
			}
		}
	}
	wantShmGone(t, name)
	wantShmFileSize(t, path, 0)
}

// testShmFileNegativeSize: a negative size is ErrInvalidParameter.
func testShmFileNegativeSize(t *testing.T) {
	path := shmTempFile(t, []byte("content"))
	f := openShmFile(t, path, os.O_RDWR)
	m, err := shm.MapFile(f, "", -1, shm.ReadWrite, nil)
	wantErr(t, "MapFile(-1)", err, errs.ErrInvalidParameter)
	if m != nil {
		closeShm(t, m)
	}
	wantShmFileSize(t, path, int64(len("content")))
}

// testShmFileNamed: a named file mapping can be opened by name in another
// process, which then maps the same file; the name goes with the last
// handle, the file stays.
func testShmFileNamed(t *testing.T) {
	name := shmName(t)
	content := payload(18, 0, 9000)
	path := shmTempFile(t, content)
	f := openShmFile(t, path, os.O_RDWR)
	m := mapShmFile(t, f, name, 0, shm.ReadWrite)
	if m.Existed() {
		t.Errorf("MapFile of a new name: Existed() = true")
	}
	if m.Name() != `Local\`+name {
		t.Errorf("MapFile(f, %q).Name() = %q; want %q", name, m.Name(), `Local\`+name)
	}
	closeShmFile(t, f)

	p := startPeer(t)
	id, size := p.shmMustOpen(name, shm.ReadWrite)
	if size != m.Size() {
		t.Errorf("peer Open of a named file mapping: Size() = %d; the creator's is %d", size, m.Size())
	}
	wantShmBytes(t, "what the peer reads of the file", p.shmRead(id, 0, 9000), content)
	p.shmWrite(id, 300, []byte("from the peer"))
	wantShmBytes(t, "what the peer wrote, read here", m.Bytes()[300:313], []byte("from the peer"))
	copy(m.Bytes()[600:], "from here")
	wantShmBytes(t, "what the peer reads of this process's write", p.shmRead(id, 600, 9), []byte("from here"))
	o := openShm(t, name, shm.ReadOnly)
	wantShmBytes(t, "Open of the name here", o.Bytes()[300:313], []byte("from the peer"))
	closeShm(t, o)

	p.close(id)
	closeShm(t, m)
	wantShmGone(t, name)
	want := append([]byte{}, content...)
	copy(want[300:], "from the peer")
	copy(want[600:], "from here")
	wantShmFileContent(t, path, want)
}

// testShmFileNamedExisting: MapFile of a name that exists opens that
// object (ERROR_ALREADY_EXISTS), whatever file it was given.
func testShmFileNamedExisting(t *testing.T) {
	name := shmName(t)
	mem := createShm(t, name, 1000)
	copy(mem.Bytes(), "memory")
	content := payload(19, 0, 3000)
	path := shmTempFile(t, content)
	f := openShmFile(t, path, os.O_RDWR)
	m := mapShmFile(t, f, name, 0, shm.ReadWrite)
	if !m.Existed() {
		t.Errorf("MapFile(f, %q) of an existing mapping: Existed() = false", name)
	}
	if m.Size() != mem.Size() {
		t.Errorf("MapFile(f, %q) of an existing %d-byte mapping: Size() = %d", name, mem.Size(), m.Size())
	}
	wantShmBytes(t, "MapFile of an existing name", m.Bytes()[:6], []byte("memory"))
	copy(m.Bytes()[10:], "shared")
	wantShmBytes(t, "the memory mapping after a write through MapFile's", mem.Bytes()[10:16], []byte("shared"))
	closeShm(t, m)
	wantShmFileContent(t, path, content)
}

// Types: mappings share one namespace with the sync objects.

var shmTypeTests = []subtest{
	{"NameOfAnotherType", testShmNameOfAnotherType},
}

// testShmNameOfAnotherType: a name held by a mutex cannot be a mapping
// (ErrWrongType) until the mutex goes.
func testShmNameOfAnotherType(t *testing.T) {
	name := shmName(t)
	release := holdOtherType(t, name)
	f := openShmFile(t, shmTempFile(t, []byte("content")), os.O_RDWR)
	for _, n := range []string{name, `Local\` + name} {
		m, err := shm.Create(n, 4096, nil)
		wantErr(t, fmt.Sprintf("Create(%q) of a mutex's name", n), err, errs.ErrWrongType)
		if m != nil {
			closeShm(t, m)
		}
		for _, access := range []shm.Access{shm.ReadWrite, shm.ReadOnly} {
			m, err = shm.Open(n, access)
			wantErr(t, fmt.Sprintf("Open(%q, %d) of a mutex's name", n, access), err, errs.ErrWrongType)
			if m != nil {
				closeShm(t, m)
			}
		}
		m, err = shm.MapFile(f, n, 0, shm.ReadWrite, nil)
		wantErr(t, fmt.Sprintf("MapFile(f, %q) of a mutex's name", n), err, errs.ErrWrongType)
		if m != nil {
			closeShm(t, m)
		}
	}
	release()
	wantShmFresh(t, name, 4096)
}

// Helpers.

// crash sends the peer a command that must kill it and returns how the
// process ended; the test fails if the peer answers instead.
func (p *peer) crash(req request) error {
	p.t.Helper()
	p.killed.Store(true) // its death is the point: stop must not report it
	ch := p.send(req)
	select {
	case r := <-ch:
		p.t.Fatalf("peer %d survived %s: %+v", p.pid, req.Op, r)
	case <-p.exited:
	case <-time.After(wait):
		p.t.Fatalf("peer %d still running %v after %s", p.pid, wait, req.Op)
	}
	return p.waitErr
}

// shmName returns a name unique to this test and this run, which must be
// free again when the test ends (see sweepShm).
func shmName(t testing.TB) string {
	name := uniqueName(t)
	sweepShm(t, name)
	return name
}

// sweepShm checks, when the test ends, after its peers and its handles are
// gone, that no mapping is left under name. Win32 promises that; on Unix
// the check also clears the emulation's file that a peer which exited
// holding the object leaves in /dev/shm (the next Open or Create of the
// name would).
func sweepShm(t testing.TB, name string) {
	t.Cleanup(func() {
		m, err := shm.Open(name, shm.ReadOnly)
		if err == nil {
			t.Errorf("%q still exists after the test closed its handles and its peers ended", name)
			closeShm(t, m)
		} else if !errors.Is(err, errs.ErrNotFound) {
			t.Errorf("Open(%q) at the end of the test: %v; want ErrNotFound", name, err)
		}
	})
}

// createShm creates a mapping that must not fail; t.Cleanup closes it.
func createShm(t testing.TB, name string, size int64) *shm.Mapping {
	t.Helper()
	m, err := shm.Create(name, size, nil)
	if err != nil {
		t.Fatalf("Create(%q, %d): %v", name, size, err)
	}
	t.Cleanup(func() { _ = m.Close() }) // the test may have closed it; twice is a no-op
	return m
}

// openShm opens a mapping that must exist; t.Cleanup closes it.
func openShm(t testing.TB, name string, access shm.Access) *shm.Mapping {
	t.Helper()
	m, err := shm.Open(name, access)
	if err != nil {
		t.Fatalf("Open(%q, %d): %v", name, access, err)
	}
	t.Cleanup(func() { _ = m.Close() }) // the test may have closed it; twice is a no-op
	return m
}

// mapShmFile maps a file, which must work; t.Cleanup closes the mapping.
func mapShmFile(t testing.TB, f *os.File, name string, size int64, access shm.Access) *shm.Mapping {
	t.Helper()
	m, err := shm.MapFile(f, name, size, access, nil)
	if err != nil {
		t.Fatalf("MapFile(%s, %q, %d, %d): %v", f.Name(), name, size, access, err)
	}
	t.Cleanup(func() { _ = m.Close() }) // the test may have closed it; twice is a no-op
	return m
}

// viewShm makes a view that must work; t.Cleanup closes it.
func viewShm(t testing.TB, m *shm.Mapping, off int64, n int, access shm.Access) *shm.View {
	t.Helper()
	v, err := m.View(off, n, access)
	if err != nil {
		t.Fatalf("View(%d, %d, %d): %v", off, n, access, err)
	}
	t.Cleanup(func() { _ = v.Close() }) // the test may have closed it; twice is a no-op
	return v
}

func closeShm(t testing.TB, m *shm.Mapping) {
	t.Helper()
	if err := m.Close(); err != nil {
		t.Errorf("Close of %s: %v", m.Name(), err)
	}
}

func closeShmView(t testing.TB, v *shm.View) {
	t.Helper()
	if err := v.Close(); err != nil {
		t.Errorf("View.Close: %v", err)
	}
}

// wantShmGone fails unless Open of name reports ErrNotFound.
func wantShmGone(t testing.TB, name string) {
	t.Helper()
	m, err := shm.Open(name, shm.ReadOnly)
	wantErr(t, fmt.Sprintf("Open(%q) after its last handle closed", name), err, errs.ErrNotFound)
	if err == nil {
		closeShm(t, m)
	}
}

// wantShmFresh creates name, which must be free, and fails unless the
// mapping is new: Existed false, the size asked, all zeros.
func wantShmFresh(t testing.TB, name string, size int64) *shm.Mapping {
	t.Helper()
	m := createShm(t, name, size)
	if m.Existed() {
		t.Errorf("Create(%q) of a free name: Existed() = true; want a new object", name)
	}
	wantShmSize(t, fmt.Sprintf("Create(%q, %d) of a free name", name, size), m.Size(), size)
	wantShmZero(t, fmt.Sprintf("Create(%q) of a free name", name), m.Bytes())
	return m
}

// wantShmSize fails unless got is what a mapping created with want bytes
// may report: want, rounded up to shmSizeRounding.
func wantShmSize(t testing.TB, what string, got, want int64) {
	t.Helper()
	most := (want + shmSizeRounding - 1) / shmSizeRounding * shmSizeRounding
	if got < want || got > most {
		if most == want {
			t.Errorf("%s: size %d; want %d", what, got, want)
		} else {
			t.Errorf("%s: size %d; want %d..%d", what, got, want, most)
		}
	}
}

// wantShmZero fails unless b holds only zeros.
func wantShmZero(t testing.TB, what string, b []byte) {
	t.Helper()
	for i, c := range b {
		if c != 0 {
			t.Errorf("%s: byte %d of %d is %#x; want all zeros", what, i, len(b), c)
			return
		}
	}
}

// wantShmBytes fails unless got is want.
func wantShmBytes(t testing.TB, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Errorf("%s = %s; want %s", what, show(got), show(want))
	}
}

// shmTempFile makes a file holding content; t.Cleanup removes it. (Not in
// t.TempDir, whose removal fails under Wine.)
func shmTempFile(t testing.TB, content []byte) string {
	t.Helper()
	f, err := os.CreateTemp("", "xipc-shm-*")
	if err != nil {
		t.Fatal(err)
	}
	path := f.Name()
	t.Cleanup(func() {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
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

// openShmFile opens path; t.Cleanup closes it.
func openShmFile(t testing.TB, path string, flag int) *os.File {
	t.Helper()
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() }) // the test may have closed it
	return f
}

func closeShmFile(t testing.TB, f *os.File) {
	t.Helper()
	if err := f.Close(); err != nil {
		t.Errorf("closing %s: %v", f.Name(), err)
	}
}

func wantShmFileSize(t testing.TB, path string, want int64) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != want {
		t.Errorf("%s: %d bytes; want %d", path, fi.Size(), want)
	}
}

func wantShmFileContent(t testing.TB, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Errorf("%s: %d bytes, first difference at %d; want %d bytes", path, len(got), i, len(want))
	}
}
