package shm

// Interop tests: xipc mappings shared with a program that uses the raw
// Win32 API (testdata/win32peer.c: CreateFileMapping, OpenFileMapping,
// MapViewOfFile, CreateMutex), so that an xipc mapping is shown to be the
// same object any Win32 program sees under the same name.
//
// The C program is built with MinGW-w64:
//
//	x86_64-w64-mingw32-gcc -O2 -o $XIPC_INTEROP_BIN/win32peer.exe shm/testdata/win32peer.c
//
// scripts/test.sh does that and sets XIPC_INTEROP_BIN. Without it, a test
// binary running under Wine builds it itself: Wine can start a Linux
// program (here /bin/sh running the cross-compiler), though it cannot wait
// for it, so the build leaves its exit status in a file that the test polls.
// Anywhere else the tests fail and say how to build the program. (The
// mechanism is package pipe's interop test's.)

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/internal/wintest"
)

var interopPrograms = []string{"win32peer"}

func TestInterop(t *testing.T) {
	dir := wintest.InteropBin(t, "shm", interopPrograms...)
	t.Run("GoCreatesCOpens", func(t *testing.T) { testInteropGoCreates(t, dir) })
	t.Run("CCreatesGoOpens", func(t *testing.T) { testInteropCCreates(t, dir) })
	t.Run("AlreadyExists", func(t *testing.T) { testInteropAlreadyExists(t, dir) })
	t.Run("WrongType", func(t *testing.T) { testInteropWrongType(t, dir) })
	t.Run("Alignment", func(t *testing.T) { testInteropAlignment(t, dir) })
	t.Run("FileMapping", func(t *testing.T) { testInteropFileMapping(t, dir) })
}

// testInteropGoCreates: shm.Create, then the C program opens the name
// (with the prefix Create reports, or as given) and both sides read what
// the other wrote, to the last byte, through views at 64 KiB offsets on
// the C side.
func testInteropGoCreates(t *testing.T, dir string) {
	const size = 3*Granularity + 1000
	for _, c := range []struct{ create, open string }{
		{"NAME", `Local\NAME`},
		{`Local\NAME`, "NAME"},
		{`Global\NAME`, `Global\NAME`},
		{`Local\NAME-ünïcødé-名前`, `Local\NAME-ünïcødé-名前`},
	} {
		name := winName(t)
		create, open := strings.ReplaceAll(c.create, "NAME", name), strings.ReplaceAll(c.open, "NAME", name)
		m, err := Create(create, size, nil)
		if errors.Is(err, errs.ErrAccessDenied) && strings.HasPrefix(create, `Global\`) {
			// Outside session 0 that takes SeCreateGlobalPrivilege
			// (administrators and services have it; Wine grants it).
			t.Logf("skipped %s: %v", create, err)
			continue
		}
		if err != nil {
			t.Fatalf("Create(%q): %v", create, err)
		}
		t.Cleanup(func() { _ = m.Close() }) // closing twice is a no-op
		half := int64(size / 2)
		fill(m.Bytes()[:half], 0, 1)

		p := startWin32Peer(t, dir)
		got := p.do("open %s rw", open)
		if got != fmt.Sprintf("ok %d", m.Size()) {
			t.Fatalf("C OpenFileMapping(%q) of Go's %q (%d bytes): %q", open, create, m.Size(), got)
		}
		p.want("ok", "check 0 %d 1", half)
		p.want("ok", "zero %d %d", half, m.Size()-half)
		p.want("ok", "write %d %d 2", half, m.Size()-half)
		wantPattern(t, "what the C program wrote", m.Bytes()[half:], half, 2)
		wantPattern(t, "what Go wrote, after the C program's write", m.Bytes()[:half], 0, 1)
		p.want("ok", "close")
		mustClose(t, m)
		if got := p.do("open %s ro", open); got != "err 2" {
			t.Errorf("C OpenFileMapping(%q) after the last close: %q; want err 2 (ERROR_FILE_NOT_FOUND)", open, got)
		}
	}
}

// testInteropCCreates: the C program creates (CreateFileMapping of 10000
// bytes) and writes; shm.Open and shm.Create of the name find that object,
// of its size (whole pages), and the object lives while either side holds
// it.
func testInteropCCreates(t *testing.T, dir string) {
	name := `Local\` + winName(t)
	p := startWin32Peer(t, dir)
	want := roundPage(10000)
	p.want(fmt.Sprintf("created %d", want), "create %s 10000", name)
	p.want("ok", "write 0 10000 3")

	ro := mustOpen(t, name, ReadOnly)
	if ro.Size() != want || !ro.Existed() {
		t.Errorf("Open of the C program's 10000-byte mapping: Size() = %d, Existed() = %v; want %d, true", ro.Size(), ro.Existed(), want)
	}
	wantPattern(t, "what the C program wrote", ro.Bytes()[:10000], 0, 3)
	wantZero(t, "the rest of the last page", ro.Bytes()[10000:])
	rw := mustCreate(t, name, 5)
	if !rw.Existed() || rw.Size() != want {
		t.Errorf("Create(5) of the C program's mapping: Existed() = %v, Size() = %d; want true, %d", rw.Existed(), rw.Size(), want)
	}
	fill(rw.Bytes()[5000:], 5000, 4)
	p.want("ok", "check 5000 %d 4", want-5000)
	p.want("ok", "check 0 5000 3")

	// The C program closes; Go's handles keep the object.
	p.want("ok", "close")
	mustClose(t, ro)
	again := mustOpen(t, name, ReadOnly)
	wantPattern(t, "Open after the C program closed", again.Bytes()[5000:], 5000, 4)
	mustClose(t, again)
	p.want(fmt.Sprintf("ok %d", want), "open %s ro", name)
	p.want("ok", "check 0 5000 3")

	// Go closes; the C program's handle keeps it; then it closes too.
	mustClose(t, rw)
	o := mustOpen(t, name, ReadWrite)
	wantPattern(t, "Open while only the C program holds the object", o.Bytes()[:5000], 0, 3)
	mustClose(t, o)
	p.want("ok", "close")
	if m, err := Open(name, ReadOnly); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("Open after the last handle closed: %v; want ErrNotFound", err)
		if err == nil {
			mustClose(t, m)
		}
	}

	// A new object of the name is fresh and zero-filled for both.
	m := mustCreate(t, name, 3000)
	if m.Existed() {
		t.Errorf("Create of the free name: Existed() = true")
	}
	p.want(fmt.Sprintf("ok %d", roundPage(3000)), "open %s rw", name)
	p.want("ok", "zero 0 %d", roundPage(3000))
}

// testInteropAlreadyExists: CreateFileMapping in C of a name Go created
// gets ERROR_ALREADY_EXISTS and the existing object, of the existing size
// whatever size it asked; and the other way round. A memory-backed mapping
// of size 0 is ERROR_INVALID_PARAMETER in C, as shm.Create's
// ErrInvalidParameter.
func testInteropAlreadyExists(t *testing.T, dir string) {
	name := `Local\` + winName(t)
	m := mustCreate(t, name, 10000)
	fill(m.Bytes(), 0, 5)
	p := startWin32Peer(t, dir)
	for _, size := range []int64{10000, 1, 1 << 20} {
		p.want(fmt.Sprintf("existed %d", m.Size()), "create %s %d", name, size)
		p.want("ok", "check 0 %d 5", m.Size())
	}

	other := `Local\` + winName(t)
	p.want(fmt.Sprintf("created %d", roundPage(Granularity+1)), "create %s %d", other, Granularity+1)
	p.want("ok", "write 0 %d 6", roundPage(Granularity+1))
	for _, size := range []int64{1, Granularity + 1, 1 << 30} {
		a, err := Create(other, size, nil)
		if err != nil {
			t.Fatalf("Create(%d) of the C program's mapping: %v", size, err)
		}
		if !a.Existed() || a.Size() != roundPage(Granularity+1) {
			t.Errorf("Create(%d) of the C program's mapping: Existed() = %v, Size() = %d; want true, %d", size, a.Existed(), a.Size(), roundPage(Granularity+1))
		}
		wantPattern(t, "the C program's mapping", a.Bytes(), 0, 6)
		mustClose(t, a)
	}

	if got := p.do("create %s 0", `Local\`+winName(t)); got != "err 87" {
		t.Errorf("C CreateFileMapping(INVALID_HANDLE_VALUE, size 0): %q; want err 87 (ERROR_INVALID_PARAMETER)", got)
	}
	_, err := Create(winName(t), 0, nil)
	if errs.Win32Code(err) != 87 {
		t.Errorf("Create(0): %v, Win32 code %d; want 87", err, errs.Win32Code(err))
	}
}

// testInteropWrongType: mappings and mutexes share one namespace across
// programs: a mutex's name (Go's or C's) is not a mapping's, and the other
// way round, with ERROR_INVALID_HANDLE on both sides.
func testInteropWrongType(t *testing.T, dir string) {
	p := startWin32Peer(t, dir)

	goMutex := `Local\` + winName(t)
	release := holdMutex(t, goMutex)
	for _, cmd := range []string{"create %s 4096", "open %s rw", "open %s ro"} {
		if got := p.do(cmd, goMutex); got != "err 6" {
			t.Errorf("C %q of Go's mutex: %q; want err 6 (ERROR_INVALID_HANDLE)", fmt.Sprintf(cmd, goMutex), got)
		}
	}
	release()
	p.want(fmt.Sprintf("created %d", page), "create %s 4096", goMutex)
	p.want("ok", "close")

	cMutex := `Local\` + winName(t)
	p.want("ok", "mutex %s", cMutex)
	m, err := Create(cMutex, page, nil)
	if !errors.Is(err, errs.ErrWrongType) {
		t.Errorf("Create of the C program's mutex: %v; want ErrWrongType", err)
	}
	if m != nil {
		mustClose(t, m)
	}
	_, err = Open(cMutex, ReadOnly)
	if !errors.Is(err, errs.ErrWrongType) {
		t.Errorf("Open of the C program's mutex: %v; want ErrWrongType", err)
	}
	p.want("ok", "unmutex")
	mustClose(t, mustCreate(t, cMutex, page))

	goMapping := `Local\` + winName(t)
	m = mustCreate(t, goMapping, page)
	if got := p.do("mutex %s", goMapping); got != "err 6" {
		t.Errorf("C CreateMutex of Go's mapping: %q; want err 6 (ERROR_INVALID_HANDLE)", got)
	}
	mustClose(t, m)
}

// testInteropAlignment: MapViewOfFile in C refuses the offsets View
// refuses (ERROR_MAPPED_ALIGNMENT), and accepts multiples of 64 KiB.
func testInteropAlignment(t *testing.T, dir string) {
	name := `Local\` + winName(t)
	m := mustCreate(t, name, 3*Granularity)
	p := startWin32Peer(t, dir)
	p.want(fmt.Sprintf("ok %d", m.Size()), "open %s ro", name)
	for _, off := range []int64{1, page, Granularity / 2, Granularity + page, 2*Granularity + 1} {
		if got := p.do("view %d", off); got != "err 1132" {
			t.Errorf("C MapViewOfFile at %d: %q; want err 1132 (ERROR_MAPPED_ALIGNMENT)", off, got)
		}
		_, err := m.View(off, 1, ReadOnly)
		if errs.Win32Code(err) != 1132 {
			t.Errorf("View(%d): %v; want Win32 code 1132", off, err)
		}
	}
	for _, off := range []int64{0, Granularity, 2 * Granularity} {
		p.want("ok", "view %d", off)
	}
}

// testInteropFileMapping: named file-backed mappings both ways: the C
// program maps a file under a name and shm.Open finds it, of the file's
// exact size; shm.MapFile maps one under a name and the C program opens
// it. Writes from both sides reach the file.
func testInteropFileMapping(t *testing.T, dir string) {
	content := make([]byte, 9000)
	fill(content, 0, 7)
	path := tempFile(t, content)
	name := `Local\` + winName(t)
	p := startWin32Peer(t, dir)
	p.want(fmt.Sprintf("created %d", roundPage(9000)), "file %s %s", name, path)
	m := mustOpen(t, name, ReadWrite)
	if m.Size() != 9000 {
		t.Errorf("Open of the C program's mapping of a 9000-byte file: Size() = %d; want 9000", m.Size())
	}
	wantPattern(t, "Open of the C program's file mapping", m.Bytes(), 0, 7)
	fill(m.Bytes()[1000:2000], 1000, 8)
	p.want("ok", "check 1000 1000 8")
	p.want("ok", "write 8000 1000 9")
	wantPattern(t, "what the C program wrote", m.Bytes()[8000:9000], 8000, 9)

	f := openFile(t, path, os.O_RDWR)
	again, err := MapFile(f, name, 0, ReadWrite, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !again.Existed() || again.Size() != 9000 {
		t.Errorf("MapFile of the C program's name: Existed() = %v, Size() = %d; want true, 9000", again.Existed(), again.Size())
	}
	mustClose(t, again)
	p.want("ok", "close")
	mustClose(t, m)

	goName := `Local\` + winName(t)
	gm, err := MapFile(f, goName, 0, ReadWrite, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer gm.Close()
	p.want(fmt.Sprintf("ok %d", roundPage(9000)), "open %s rw", goName)
	p.want("ok", "check 1000 1000 8")
	p.want("ok", "write 4000 1000 10")
	wantPattern(t, "what the C program wrote to Go's file mapping", gm.Bytes()[4000:5000], 4000, 10)
	p.want("ok", "close")
	mustClose(t, gm)
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}

	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 9000 {
		t.Fatalf("the file: %d bytes; want 9000", len(b))
	}
	for _, r := range []struct {
		from, to int64
		seed     int
	}{{0, 1000, 7}, {1000, 2000, 8}, {2000, 4000, 7}, {4000, 5000, 10}, {5000, 8000, 7}, {8000, 9000, 9}} {
		wantPattern(t, fmt.Sprintf("the file's bytes %d..%d", r.from, r.to), b[r.from:r.to], r.from, r.seed)
	}
}

// win32Peer drives testdata/win32peer.c: one command line in, one reply
// line out.
type win32Peer struct {
	t        testing.TB
	cmd      *exec.Cmd
	in       io.WriteCloser
	out      *bufio.Reader
	stderr   lockedBuffer
	watchdog *time.Timer
}

// lockedBuffer collects the peer's stderr, written by exec's copying
// goroutine while a failing test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// peerTimeout bounds each command; a peer that takes longer is killed, and
// the read of its reply fails.
const peerTimeout = 30 * time.Second

func startWin32Peer(t testing.TB, dir string) *win32Peer {
	t.Helper()
	p := &win32Peer{t: t, cmd: exec.Command(filepath.Join(dir, "win32peer.exe"))}
	p.cmd.Stderr = &p.stderr
	var err error
	if p.in, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p.out = bufio.NewReader(stdout)
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.watchdog = time.AfterFunc(peerTimeout, func() { p.cmd.Process.Kill() })
	t.Cleanup(func() {
		p.watchdog.Reset(peerTimeout)
		fmt.Fprintln(p.in, "quit")
		p.in.Close()
		err := p.cmd.Wait()
		p.watchdog.Stop()
		if err != nil {
			t.Errorf("win32peer: %v; stderr: %s", err, p.stderr.String())
		}
	})
	return p
}

// do sends a command and returns the reply.
func (p *win32Peer) do(format string, args ...any) string {
	p.t.Helper()
	line := fmt.Sprintf(format, args...)
	p.watchdog.Reset(peerTimeout)
	if _, err := fmt.Fprintln(p.in, line); err != nil {
		p.t.Fatalf("win32peer %q: %v; stderr: %s", line, err, p.stderr.String())
	}
	reply, err := p.out.ReadString('\n')
	if err != nil {
		p.t.Fatalf("win32peer %q: no reply (%v); stderr: %s", line, err, p.stderr.String())
	}
	return strings.TrimRight(reply, "\r\n")
}

// want sends a command and fails the test unless the reply is want.
func (p *win32Peer) want(want, format string, args ...any) {
	p.t.Helper()
	if got := p.do(format, args...); got != want {
		p.t.Fatalf("win32peer %q: %q; want %q", fmt.Sprintf(format, args...), got, want)
	}
}

// underWine is wintest.UnderWine, for this package's other tests.
func underWine() bool { return wintest.UnderWine() }
