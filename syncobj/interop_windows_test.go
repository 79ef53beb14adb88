package syncobj

// Interop tests: xipc's sync objects shared with a program that uses the
// raw Win32 API (testdata/syncpeer.c: CreateMutex, OpenMutex,
// WaitForSingleObject, ReleaseMutex, CreateEvent, SetEvent,
// CreateSemaphore, ReleaseSemaphore, WaitForMultipleObjects), so that an
// xipc object is shown to be the same object any Win32 program sees under
// the same name, with the same ownership, abandonment and counts.
//
// The C program is built with MinGW-w64:
//
//	x86_64-w64-mingw32-gcc -O2 -o $XIPC_INTEROP_BIN/syncpeer.exe syncobj/testdata/syncpeer.c
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
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/internal/wintest"
)

var interopPrograms = []string{"syncpeer"}

func TestInterop(t *testing.T) {
	noLeaks(t)
	dir := wintest.InteropBin(t, "syncobj", interopPrograms...)
	t.Run("GoHoldsCWaits", func(t *testing.T) { testInteropGoHolds(t, dir) })
	t.Run("CHoldsGoWaits", func(t *testing.T) { testInteropCHolds(t, dir) })
	t.Run("Abandoned", func(t *testing.T) { testInteropAbandoned(t, dir) })
	t.Run("Events", func(t *testing.T) { testInteropEvents(t, dir) })
	t.Run("Semaphore", func(t *testing.T) { testInteropSemaphore(t, dir) })
	t.Run("WaitAll", func(t *testing.T) { testInteropWaitAll(t, dir) })
	t.Run("Names", func(t *testing.T) { testInteropNames(t, dir) })
}

// testInteropGoHolds: a mutex that Go owns is owned for a Win32 thread of
// another process too; Go's Unlock lets it in.
func testInteropGoHolds(t *testing.T, dir string) {
	name := `Local\` + winName(t)
	m := mustMutex(t, name, false)
	must(t, "Lock", m.Lock(long(t)))
	must(t, "Lock (nested)", m.Lock(long(t)))
	p := startSyncPeer(t, dir)
	p.want("ok", "openmutex %s", name)
	p.want("timeout", "lock 100")
	must(t, "Unlock", m.Unlock())
	p.want("timeout", "lock 0")
	must(t, "Unlock", m.Unlock())
	p.want("ok", "lock 0")
	if got := p.do("unlock"); got != "ok" {
		t.Fatalf("C ReleaseMutex: %q", got)
	}
	if got := p.do("unlock"); got != "err 288" {
		t.Errorf("C ReleaseMutex of a mutex it no longer owns: %q; want err 288 (ERROR_NOT_OWNER)", got)
	}

	// C blocked in WaitForSingleObject while Go owns it.
	must(t, "Lock", m.Lock(long(t)))
	p.send("lock 30000")
	time.Sleep(100 * time.Millisecond)
	must(t, "Unlock", m.Unlock())
	p.expect("ok", "lock 30000")
	wantTimeout(t, "Lock while the C program owns it", m.Lock(short(t)))
	p.want("ok", "unlock")
	must(t, "Lock after the C program's ReleaseMutex", m.Lock(polled()))
	must(t, "Unlock", m.Unlock())
}

// testInteropCHolds: a mutex that the C program creates and owns; Go's
// Lock waits until its ReleaseMutex.
func testInteropCHolds(t *testing.T, dir string) {
	name := `Local\` + winName(t)
	p := startSyncPeer(t, dir)
	p.want("created", "mutex %s", name)
	p.want("ok", "lock 0")
	p.want("ok", "lock 0") // recursive for the C thread
	m := mustOpenMutex(t, name)
	got := async(func() error { return m.Lock(long(t)) })
	pending(t, "Lock while the C program owns the mutex", got)
	if err := m.Unlock(); !errors.Is(err, errs.ErrNotOwner) {
		t.Errorf("Unlock while the C program owns it: %v; want ErrNotOwner", err)
	}
	p.want("ok", "unlock")
	pending(t, "Lock while the C program owns the mutex once", got)
	p.want("ok", "unlock")
	must(t, "Lock after the C program let go", result(t, "Lock", got))
	p.want("timeout", "lock 50")
	must(t, "Unlock", m.Unlock())
	p.want("ok", "lock 0")
	p.want("ok", "unlock")
}

// testInteropAbandoned: closing Go's owning handle abandons the mutex for
// the C program (WAIT_ABANDONED); the C program's exit while owning it
// abandons it for Go (ErrAbandoned).
func testInteropAbandoned(t *testing.T, dir string) {
	name := `Local\` + winName(t)
	m := mustMutex(t, name, true)
	p := startSyncPeer(t, dir)
	p.want("ok", "openmutex %s", name)
	p.want("timeout", "lock 0")
	mustClose(t, m)
	p.want("abandoned", "lock 0")
	p.want("ok", "unlock")

	// A C thread blocked on the mutex when Go's handle closes.
	m = mustOpenMutex(t, name)
	must(t, "Lock", m.Lock(long(t)))
	p.send("lock 30000")
	time.Sleep(100 * time.Millisecond)
	mustClose(t, m)
	p.expect("abandoned", "lock 30000")

	// The C program exits owning it.
	m = mustOpenMutex(t, name)
	got := async(func() error { return m.Lock(long(t)) })
	pending(t, "Lock while the C program owns the mutex", got)
	p.exit()
	if err := result(t, "Lock", got); !errors.Is(err, errs.ErrAbandoned) {
		t.Fatalf("Lock when the owning C program exits: %v; want ErrAbandoned", err)
	}
	must(t, "Unlock", m.Unlock())

	// WaitForMultipleObjects in C reports the index of the abandoned one.
	p = startSyncPeer(t, dir)
	p.want("ok", "openmutex %s", name)
	p.want("created", "event %s 0 0", `Local\`+winName(t))
	p.want("created", "sem %s 1 1", `Local\`+winName(t))
	must(t, "Lock", m.Lock(polled()))
	p.want("ok 2", "waitany 0") // the semaphore
	mustClose(t, m)
	p.want("abandoned 0", "waitany 0")
	p.want("ok", "unlock")
}

// testInteropEvents: events set on one side release waiters on the
// other, manual and auto reset.
func testInteropEvents(t *testing.T, dir string) {
	p := startSyncPeer(t, dir)
	auto := `Local\` + winName(t)
	p.want("created", "event %s 0 0", auto)
	e, err := OpenEvent(auto)
	must(t, "OpenEvent", err)
	closeLater(t, e)
	got := async(func() error { return e.Wait(long(t)) })
	pending(t, "Wait on the C program's reset event", got)
	p.want("ok", "set")
	must(t, "Wait", result(t, "Wait", got))
	p.want("timeout", "waitevent 0") // the Go wait reset it
	must(t, "Set", e.Set())
	p.want("ok", "waitevent 0")
	p.want("timeout", "waitevent 0")

	manual := `Local\` + winName(t)
	m := mustEvent(t, manual, true, false)
	p.want("ok", "openevent %s", manual)
	p.want("timeout", "waitevent 0")
	p.send("waitevent 30000")
	time.Sleep(100 * time.Millisecond)
	must(t, "Set", m.Set())
	p.expect("ok", "waitevent 30000")
	p.want("ok", "waitevent 0")
	must(t, "Wait", m.Wait(polled()))
	p.want("ok", "reset")
	wantTimeout(t, "Wait after the C program's ResetEvent", m.Wait(polled()))
	p.want("existed", "event %s 0 1", manual) // parameters ignored
	wantTimeout(t, "Wait after the C program's CreateEvent of the name", m.Wait(polled()))
}

// testInteropSemaphore: counts are shared; ReleaseSemaphore past the
// maximum fails on both sides.
func testInteropSemaphore(t *testing.T, dir string) {
	name := `Local\` + winName(t)
	s := mustSemaphore(t, name, 0, 2)
	p := startSyncPeer(t, dir)
	p.want("ok", "opensem %s", name)
	p.want("timeout", "waitsem 0")
	if prev, err := s.Release(2); prev != 0 || err != nil {
		t.Fatalf("Release(2): %d, %v", prev, err)
	}
	p.want("ok", "waitsem 0")
	if got := p.do("release 5"); got != "err 298" {
		t.Errorf("C ReleaseSemaphore past the maximum: %q; want err 298 (ERROR_TOO_MANY_POSTS)", got)
	}
	p.want("ok 1", "release 1")
	if _, err := s.Release(1); !errors.Is(err, errs.ErrTooManyPosts) {
		t.Errorf("Release at the maximum: %v; want ErrTooManyPosts", err)
	}
	must(t, "Wait", s.Wait(polled()))
	must(t, "Wait", s.Wait(polled()))
	wantTimeout(t, "Wait at 0", s.Wait(polled()))
	got := async(func() error { return s.Wait(long(t)) })
	pending(t, "Wait at 0", got)
	p.want("ok 0", "release 1")
	must(t, "Wait", result(t, "Wait", got))
	p.want("created", "sem %s 0 1", `Local\`+winName(t))
	p.want("existed", "sem %s 1 1", name)
}

// testInteropWaitAll: WaitAll holds nothing while it waits: an event set
// while the C program owns the mutex stays set until the mutex is free
// too, and then both are taken at once.
func testInteropWaitAll(t *testing.T, dir string) {
	mname, ename := `Local\`+winName(t), `Local\`+winName(t)
	p := startSyncPeer(t, dir)
	p.want("created", "mutex %s", mname)
	p.want("created", "event %s 0 0", ename)
	p.want("ok", "lock 0")
	m := mustOpenMutex(t, mname)
	e, err := OpenEvent(ename)
	must(t, "OpenEvent", err)
	closeLater(t, e)
	got := async(func() error { return WaitAll(long(t), m, e) })
	pending(t, "WaitAll while the C program owns the mutex", got)
	p.want("ok", "set")
	pending(t, "WaitAll with the event set and the mutex owned", got)
	p.want("ok", "unlock")
	must(t, "WaitAll", result(t, "WaitAll", got))
	p.want("timeout", "waitevent 0") // WaitAll reset it
	p.want("ok", "set")
	p.want("timeout", "waitall 50") // Go owns the mutex
	p.want("ok", "waitevent 0")     // the failed WaitAll took nothing
	must(t, "Unlock", m.Unlock())
	p.want("ok", "set")
	p.want("ok", "waitall 0")
	wantTimeout(t, "Lock while the C program's WaitAll owns the mutex", m.Lock(polled()))
	p.want("ok", "unlock")
}

// testInteropNames: one namespace: the C program meets Go's objects under
// their names, with ERROR_ALREADY_EXISTS for the same type and
// ERROR_INVALID_HANDLE for another; and Go meets the C program's.
func testInteropNames(t *testing.T, dir string) {
	p := startSyncPeer(t, dir)
	name := `Local\` + winName(t)
	m := mustMutex(t, name, false)
	p.want("existed", "mutex %s", name)
	p.want("err 6", "event %s 0 0", name)
	p.want("err 6", "sem %s 0 1", name)
	p.want("err 6", "openevent %s", name)
	p.want("ok", "openmutex %s", name)
	p.want("ok", "close")
	mustClose(t, m)
	p.want("err 2", "openmutex %s", name)

	cname := `Local\` + winName(t)
	p.want("created", "event %s 1 0", cname)
	if _, err := CreateMutex(cname, true, nil); !errors.Is(err, errs.ErrWrongType) {
		t.Errorf("CreateMutex of the C program's event: %v; want ErrWrongType", err)
	}
	if _, err := OpenSemaphore(cname); !errors.Is(err, errs.ErrWrongType) {
		t.Errorf("OpenSemaphore of the C program's event: %v; want ErrWrongType", err)
	}
	e := mustEvent(t, cname, false, true)
	if !e.Existed() {
		t.Errorf("CreateEvent of the C program's event: Existed() = false")
	}
	wantTimeout(t, "Wait on the C program's reset event", e.Wait(polled()))

	// A bare name is Local\NAME for both.
	bare := winName(t)
	s := mustSemaphore(t, bare, 1, 1)
	if s.Name() != `Local\`+bare {
		t.Errorf("Name() of %q = %q", bare, s.Name())
	}
	p.want("ok", "opensem %s", bare)
	p.want("ok", "opensem Local\\%s", bare)
	p.want("ok", "waitsem 0")
	wantTimeout(t, "Wait after the C program took the count", s.Wait(polled()))
}

// syncPeer drives testdata/syncpeer.c: one command line in, one reply line
// out.
type syncPeer struct {
	t        testing.TB
	cmd      *exec.Cmd
	in       io.WriteCloser
	out      *bufio.Reader
	stderr   strings.Builder
	watchdog *time.Timer
	exited   bool
}

// peerTimeout bounds each command; a peer that takes longer is killed, and
// the read of its reply fails.
const peerTimeout = 60 * time.Second

func startSyncPeer(t testing.TB, dir string) *syncPeer {
	t.Helper()
	p := &syncPeer{t: t, cmd: exec.Command(filepath.Join(dir, "syncpeer.exe"))}
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
		if p.exited {
			return
		}
		p.watchdog.Reset(peerTimeout)
		fmt.Fprintln(p.in, "quit")
		p.in.Close()
		err := p.cmd.Wait()
		p.watchdog.Stop()
		if err != nil {
			t.Errorf("syncpeer: %v; stderr: %s", err, p.stderr.String())
		}
	})
	return p
}

// send sends a command without reading its reply (see expect).
func (p *syncPeer) send(format string, args ...any) {
	p.t.Helper()
	line := fmt.Sprintf(format, args...)
	p.watchdog.Reset(peerTimeout)
	if _, err := fmt.Fprintln(p.in, line); err != nil {
		p.t.Fatalf("syncpeer %q: %v; stderr: %s", line, err, p.stderr.String())
	}
}

// reply reads the reply to the command sent last.
func (p *syncPeer) reply(cmd string) string {
	p.t.Helper()
	reply, err := p.out.ReadString('\n')
	if err != nil {
		p.t.Fatalf("syncpeer %q: no reply (%v); stderr: %s", cmd, err, p.stderr.String())
	}
	return strings.TrimRight(reply, "\r\n")
}

// do sends a command and returns the reply.
func (p *syncPeer) do(format string, args ...any) string {
	p.t.Helper()
	p.send(format, args...)
	return p.reply(fmt.Sprintf(format, args...))
}

// want sends a command and fails the test unless the reply is want.
func (p *syncPeer) want(want, format string, args ...any) {
	p.t.Helper()
	if got := p.do(format, args...); got != want {
		p.t.Fatalf("syncpeer %q: %q; want %q", fmt.Sprintf(format, args...), got, want)
	}
}

// expect fails the test unless the reply to cmd, sent with send, is want.
func (p *syncPeer) expect(want, cmd string) {
	p.t.Helper()
	if got := p.reply(cmd); got != want {
		p.t.Fatalf("syncpeer %q: %q; want %q", cmd, got, want)
	}
}

// exit makes the program exit at once (ExitProcess), holding whatever it
// holds, and waits for its end.
func (p *syncPeer) exit() {
	p.t.Helper()
	p.send("exit")
	p.in.Close()
	err := p.cmd.Wait()
	p.watchdog.Stop()
	p.exited = true
	if err != nil {
		p.t.Fatalf("syncpeer exit: %v; stderr: %s", err, p.stderr.String())
	}
}
