package syncobj

// Windows-only tests of the Win32 backend: mutex ownership per handle over
// Win32's per-thread ownership (recursion, exclusion between two handles
// of one process, abandonment when the owning handle is closed or its
// process dies), the kernel's error codes, events, semaphores, the wait
// rules of WaitForMultipleObjects, contexts, ErrWrongType against package
// shm, and the objects' security descriptors.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
	"golang.org/x/sys/windows"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/internal/wintest"
	"github.com/xipc/xipc/shm"
)

// peerEnv makes the test binary a peer process (see init): "lock NAME"
// locks the named mutex, says "locked" and waits until its stdin ends;
// "lockexit NAME" does the same, and then exits without unlocking; its
// stdin's end only says when.
const peerEnv = "XIPC_SYNCOBJ_WINDOWS_PEER"

func init() {
	if cmd := os.Getenv(peerEnv); cmd != "" {
		os.Exit(runPeer(cmd))
	}
	// Package initialisation runs on the main thread: what goLocked does
	// there is seen only from here.
	initThread = windows.GetCurrentThreadId()
	ran := make(chan uint32)
	goLocked(func() { ran <- windows.GetCurrentThreadId() })
	fromMain := make(chan uint32, 1)
	runLocked(func() { fromMain <- windows.GetCurrentThreadId() }, nil)
	lockedThreads = [2]uint32{<-ran, <-fromMain}
}

var (
	initThread    uint32
	lockedThreads [2]uint32
)

// TestWindowsOwnerNotMainThread: owner threads are never the main thread,
// which the runtime would park forever instead of ending it, so that a
// mutex it owned would never be abandoned; not even when the goroutine
// that starts one is locked to the main thread.
func TestWindowsOwnerNotMainThread(t *testing.T) {
	if initThread != mainThread {
		t.Fatalf("package initialisation ran on thread %d, mainThread is %d", initThread, mainThread)
	}
	for i, id := range lockedThreads {
		if id == mainThread || id == 0 {
			t.Errorf("locked goroutine %d ran on thread %d; the main thread is %d", i, id, mainThread)
		}
	}
}

func runPeer(cmd string) int {
	verb, name, _ := strings.Cut(cmd, " ")
	m, err := CreateMutex(name, false, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if err := m.Lock(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if verb != "lock" && verb != "lockexit" {
		fmt.Fprintf(os.Stderr, "unknown peer command %q\n", cmd)
		return 2
	}
	fmt.Println("locked")
	// "lock" is killed while it waits here; "lockexit" returns, still
	// owning the mutex: the process's end abandons it.
	bufio.NewReader(os.Stdin).ReadString('\n') //nolint:errcheck // any end will do
	return 0
}

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

// noLeaks fails the test if it leaves goroutines behind.
func noLeaks(t *testing.T) {
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}

func closeLater(t testing.TB, o Object) {
	t.Cleanup(func() { _ = o.Close() }) // closing twice only reports ErrClosed
}

func mustMutex(t testing.TB, name string, initialOwner bool) *Mutex {
	t.Helper()
	m, err := CreateMutex(name, initialOwner, nil)
	if err != nil {
		t.Fatalf("CreateMutex(%q): %v", name, err)
	}
	closeLater(t, m)
	return m
}

func mustOpenMutex(t testing.TB, name string) *Mutex {
	t.Helper()
	m, err := OpenMutex(name)
	if err != nil {
		t.Fatalf("OpenMutex(%q): %v", name, err)
	}
	closeLater(t, m)
	return m
}

func mustEvent(t testing.TB, name string, manual, on bool) *Event {
	t.Helper()
	e, err := CreateEvent(name, manual, on, nil)
	if err != nil {
		t.Fatalf("CreateEvent(%q): %v", name, err)
	}
	closeLater(t, e)
	return e
}

func mustSemaphore(t testing.TB, name string, initial, max int) *Semaphore {
	t.Helper()
	s, err := CreateSemaphore(name, initial, max, nil)
	if err != nil {
		t.Fatalf("CreateSemaphore(%q): %v", name, err)
	}
	closeLater(t, s)
	return s
}

func mustClose(t testing.TB, o Object) {
	t.Helper()
	if err := o.Close(); err != nil {
		t.Errorf("Close(%s): %v", o.Name(), err)
	}
}

func must(t testing.TB, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// polled is a context that has ended: a wait with it only polls.
func polled() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

// short is a context that ends soon, for waits that must time out.
func short(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	t.Cleanup(cancel)
	return ctx
}

// long bounds waits that must succeed.
func long(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func wantTimeout(t testing.TB, what string, err error) {
	t.Helper()
	if !errors.Is(err, errs.ErrTimeout) && !errors.Is(err, context.Canceled) {
		t.Errorf("%s: %v; want a timeout", what, err)
	}
}

// async runs f on a goroutine; the channel gets its error.
func async(f func() error) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- f() }()
	return ch
}

// pending fails unless ch stays empty for a while.
func pending(t testing.TB, what string, ch <-chan error) {
	t.Helper()
	select {
	case err := <-ch:
		t.Fatalf("%s returned (%v) while it should wait", what, err)
	case <-time.After(100 * time.Millisecond):
	}
}

// result waits for ch.
func result(t testing.TB, what string, ch <-chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not return", what)
		return nil
	}
}

// BenchmarkMutexUncontended: Lock and Unlock of a free mutex, each a
// round trip to its owner thread; next to the raw Win32 calls on one
// locked thread.
func BenchmarkMutexUncontended(b *testing.B) {
	b.Run("syncobj", func(b *testing.B) {
		m, err := CreateMutex("", false, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer m.Close()
		ctx := context.Background()
		for b.Loop() {
			if err := m.Lock(ctx); err != nil {
				b.Fatal(err)
			}
			if err := m.Unlock(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("nested", func(b *testing.B) {
		m, err := CreateMutex("", true, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer m.Close()
		ctx := context.Background()
		for b.Loop() {
			if err := m.Lock(ctx); err != nil {
				b.Fatal(err)
			}
			if err := m.Unlock(); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		m.Unlock() //nolint:errcheck // the initial level
	})
	b.Run("win32", func(b *testing.B) {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		h, err := windows.CreateMutex(nil, false, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer windows.CloseHandle(h)
		for b.Loop() {
			if _, err := windows.WaitForSingleObject(h, windows.INFINITE); err != nil {
				b.Fatal(err)
			}
			if err := windows.ReleaseMutex(h); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestWindowsRecursion: Lock nests on the owning handle without waiting;
// each Lock needs an Unlock; one Unlock too many is ErrNotOwner
// (ERROR_NOT_OWNER). Meanwhile another handle cannot take it.
func TestWindowsRecursion(t *testing.T) {
	noLeaks(t)
	name := winName(t)
	m := mustMutex(t, name, false)
	other := mustOpenMutex(t, name)
	for i := range 3 {
		must(t, fmt.Sprintf("Lock %d", i+1), m.Lock(polled()))
	}
	for i := range 3 {
		wantTimeout(t, fmt.Sprintf("another handle's Lock, %d levels held", 3-i), other.Lock(polled()))
		must(t, fmt.Sprintf("Unlock %d", i+1), m.Unlock())
	}
	err := m.Unlock()
	if !errors.Is(err, errs.ErrNotOwner) || errs.Win32Code(err) != errs.ERROR_NOT_OWNER {
		t.Errorf("a fourth Unlock: %v (code %d); want ErrNotOwner (288)", err, errs.Win32Code(err))
	}
	must(t, "another handle's Lock once free", other.Lock(polled()))
	must(t, "its Unlock", other.Unlock())

	// initialOwner counts as one level.
	name2 := winName(t)
	o := mustMutex(t, name2, true)
	if o.Existed() {
		t.Errorf("CreateMutex of a new name: Existed")
	}
	o2 := mustMutex(t, name2, true) // existed: initialOwner ignored
	if !o2.Existed() {
		t.Errorf("CreateMutex of an existing name: not Existed")
	}
	if err := o2.Unlock(); !errors.Is(err, errs.ErrNotOwner) {
		t.Errorf("Unlock of the second CreateMutex(initialOwner) of one name: %v; want ErrNotOwner", err)
	}
	wantTimeout(t, "Lock of the second handle while the creator owns it", o2.Lock(polled()))
	must(t, "Lock on the creating handle", o.Lock(polled()))
	must(t, "Unlock 1", o.Unlock())
	must(t, "Unlock 2", o.Unlock())
	must(t, "the second handle's Lock", o2.Lock(polled()))
	must(t, "its Unlock", o2.Unlock())
	mustClose(t, o)
	mustClose(t, o2)
}

// TestWindowsHandleExclusion: two handles to one mutex in one process
// exclude each other (Win32 would let one thread nest on both; goroutines
// have no threads to compare).
func TestWindowsHandleExclusion(t *testing.T) {
	noLeaks(t)
	name := winName(t)
	a := mustMutex(t, name, false)
	b := mustOpenMutex(t, name)
	must(t, "a.Lock", a.Lock(long(t)))
	got := async(func() error { return b.Lock(long(t)) })
	pending(t, "b.Lock while a owns it", got)
	if err := b.Unlock(); !errors.Is(err, errs.ErrNotOwner) {
		t.Errorf("b.Unlock while a owns the mutex: %v; want ErrNotOwner", err)
	}
	must(t, "a.Unlock", a.Unlock())
	must(t, "b.Lock after a.Unlock", result(t, "b.Lock", got))
	if err := a.Unlock(); !errors.Is(err, errs.ErrNotOwner) {
		t.Errorf("a.Unlock while b owns the mutex: %v; want ErrNotOwner", err)
	}
	wantTimeout(t, "a.Lock while b owns it", a.Lock(short(t)))
	must(t, "b.Unlock", b.Unlock())

	// Many goroutines on each of the two handles: the goroutines of one
	// handle may nest, the two handles exclude each other.
	var inside [2]atomic.Int32
	var both atomic.Bool
	done := make(chan error)
	for k, h := range []*Mutex{a, b} {
		for range 4 {
			go func() {
				for range 20 {
					if err := h.Lock(long(t)); err != nil {
						done <- err
						return
					}
					inside[k].Add(1)
					if inside[1-k].Load() != 0 {
						both.Store(true)
					}
					time.Sleep(time.Millisecond)
					inside[k].Add(-1)
					if err := h.Unlock(); err != nil {
						done <- err
						return
					}
				}
				done <- nil
			}()
		}
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if both.Load() {
		t.Errorf("both handles held the mutex at once")
	}
	for _, h := range []*Mutex{a, b} {
		if err := h.Unlock(); !errors.Is(err, errs.ErrNotOwner) {
			t.Errorf("Unlock after the goroutines: %v; want ErrNotOwner (every Lock was undone)", err)
		}
	}
}

// TestWindowsSharedHandle: goroutines sharing one handle share its
// ownership: a Lock blocked on a handle that comes to own the mutex
// through another goroutine's Lock returns at once, nested.
func TestWindowsSharedHandle(t *testing.T) {
	noLeaks(t)
	name := winName(t)
	holder := mustMutex(t, name, true)
	m := mustOpenMutex(t, name)
	first := async(func() error { return m.Lock(long(t)) })
	second := async(func() error { return m.Lock(long(t)) })
	pending(t, "two Locks while another handle owns the mutex", first)
	must(t, "holder.Unlock", holder.Unlock())
	must(t, "one Lock", result(t, "Lock", first))
	must(t, "the other Lock", result(t, "Lock", second))
	wantTimeout(t, "holder.Lock while m owns it twice", holder.Lock(polled()))
	must(t, "Unlock 1", m.Unlock())
	wantTimeout(t, "holder.Lock while m owns it once", holder.Lock(polled()))
	must(t, "Unlock 2", m.Unlock())
	must(t, "holder.Lock once m let go", holder.Lock(polled()))
	must(t, "holder.Unlock", holder.Unlock())
}

// TestWindowsAbandonOnClose: closing the owning handle abandons the mutex
// (its owner thread ends), like a thread's end in Win32: the next waiter,
// in this process or another, owns it with ErrAbandoned.
func TestWindowsAbandonOnClose(t *testing.T) {
	noLeaks(t)
	name := winName(t)
	a := mustMutex(t, name, false)
	b := mustOpenMutex(t, name)
	must(t, "a.Lock", a.Lock(long(t)))
	must(t, "a.Lock again", a.Lock(long(t)))
	mustClose(t, a)
	err := b.Lock(polled())
	if !errors.Is(err, errs.ErrAbandoned) || errs.Win32Code(err) != errs.WAIT_ABANDONED {
		t.Fatalf("Lock after the owner's Close: %v (code %#x); want ErrAbandoned", err, errs.Win32Code(err))
	}
	must(t, "Lock on the abandoned mutex's new owner", b.Lock(polled()))
	must(t, "Unlock 1", b.Unlock())
	must(t, "Unlock 2", b.Unlock())
	if err := b.Unlock(); !errors.Is(err, errs.ErrNotOwner) {
		t.Errorf("a third Unlock: %v; want ErrNotOwner", err)
	}

	// A waiter already blocked when the owner closes; the owner being a
	// CreateMutex(initialOwner).
	name2 := winName(t)
	c := mustMutex(t, name2, true)
	d := mustOpenMutex(t, name2)
	got := async(func() error { return d.Lock(long(t)) })
	pending(t, "Lock while the creator owns it", got)
	mustClose(t, c)
	if err := result(t, "Lock", got); !errors.Is(err, errs.ErrAbandoned) {
		t.Fatalf("a blocked Lock when the owner closes: %v; want ErrAbandoned", err)
	}
	must(t, "Unlock", d.Unlock())
	must(t, "Lock once released", d.Lock(polled()))
	must(t, "Unlock", d.Unlock())

	// Closing a handle that does not own the mutex abandons nothing.
	e := mustOpenMutex(t, name2)
	must(t, "d.Lock", d.Lock(polled()))
	mustClose(t, e)
	must(t, "d.Unlock", d.Unlock())
	must(t, "Lock after an idle handle's Close", d.Lock(polled()))
	must(t, "d.Unlock", d.Unlock())
}

// TestWindowsAbandonWaitAllGroup: mutexes that one WaitAll took share its
// thread; closing one while the other is owned abandons it only once the
// other is released (the documented difference).
func TestWindowsAbandonWaitAllGroup(t *testing.T) {
	noLeaks(t)
	n1, n2 := winName(t), winName(t)
	a1, a2 := mustMutex(t, n1, false), mustMutex(t, n2, false)
	b1, b2 := mustOpenMutex(t, n1), mustOpenMutex(t, n2)
	must(t, "WaitAll(a1, a2)", WaitAll(long(t), a1, a2))
	mustClose(t, a1)
	wantTimeout(t, "Lock of the closed handle's mutex while its group holds the thread", b1.Lock(polled()))
	wantTimeout(t, "Lock of a2's mutex", b2.Lock(polled()))
	must(t, "a2.Unlock", a2.Unlock())
	if err := b1.Lock(long(t)); !errors.Is(err, errs.ErrAbandoned) {
		t.Fatalf("Lock of the closed handle's mutex once the group let go: %v; want ErrAbandoned", err)
	}
	must(t, "b2.Lock", b2.Lock(polled()))
	must(t, "b1.Unlock", b1.Unlock())
	must(t, "b2.Unlock", b2.Unlock())
}

// TestWindowsAbandonOnProcessEnd: a process that dies or exits owning the
// mutex abandons it.
func TestWindowsAbandonOnProcessEnd(t *testing.T) {
	noLeaks(t)
	for _, how := range []string{"kill", "exit"} {
		t.Run(how, func(t *testing.T) {
			name := `Local\` + winName(t)
			m := mustMutex(t, name, false)
			verb := "lock"
			if how == "exit" {
				verb = "lockexit"
			}
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), peerEnv+"="+verb+" "+name)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			stdin, err := cmd.StdinPipe()
			if err != nil {
				t.Fatal(err)
			}
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			must(t, "starting the peer", cmd.Start())
			defer stdin.Close()
			line, err := bufio.NewReader(stdout).ReadString('\n')
			if strings.TrimSpace(line) != "locked" {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("peer: %q, %v; stderr: %s", line, err, stderr.String())
			}
			wantTimeout(t, "Lock while the peer owns the mutex", m.Lock(short(t)))
			if how == "kill" {
				must(t, "killing the peer", cmd.Process.Kill())
			} else {
				stdin.Close()
			}
			cmd.Wait() //nolint:errcheck // killed, or exited 0
			err = m.Lock(long(t))
			if !errors.Is(err, errs.ErrAbandoned) {
				t.Fatalf("Lock after the owner process's %s: %v; want ErrAbandoned", how, err)
			}
			must(t, "Unlock", m.Unlock())
			must(t, "Lock again", m.Lock(polled()))
			must(t, "Unlock", m.Unlock())
		})
	}
}

// TestWindowsNotOwner: Unlock of a mutex nobody, or another handle, owns.
func TestWindowsNotOwner(t *testing.T) {
	noLeaks(t)
	m := mustMutex(t, "", false) // unnamed
	err := m.Unlock()
	if !errors.Is(err, errs.ErrNotOwner) || errs.Win32Code(err) != errs.ERROR_NOT_OWNER {
		t.Errorf("Unlock of a free mutex: %v (code %d); want ErrNotOwner (288)", err, errs.Win32Code(err))
	}
	must(t, "Lock", m.Lock(polled()))
	must(t, "Unlock", m.Unlock())
	mustClose(t, m)
	if err := m.Unlock(); !errors.Is(err, errs.ErrClosed) {
		t.Errorf("Unlock after Close: %v; want ErrClosed", err)
	}
	if err := m.Close(); !errors.Is(err, errs.ErrClosed) {
		t.Errorf("a second Close: %v; want ErrClosed", err)
	}
	if err := m.Lock(polled()); !errors.Is(err, errs.ErrClosed) {
		t.Errorf("Lock after Close: %v; want ErrClosed", err)
	}
}

// TestWindowsSemaphore: counting, the previous count, and ReleaseSemaphore
// past the maximum (ERROR_TOO_MANY_POSTS), which changes nothing.
func TestWindowsSemaphore(t *testing.T) {
	noLeaks(t)
	name := winName(t)
	s := mustSemaphore(t, name, 2, 3)
	for i := range 2 {
		must(t, fmt.Sprintf("Wait %d", i+1), s.Wait(polled()))
	}
	wantTimeout(t, "Wait at 0", s.Wait(short(t)))
	prev, err := s.Release(3)
	if err != nil || prev != 0 {
		t.Fatalf("Release(3) at 0: %d, %v; want 0, nil", prev, err)
	}
	_, err = s.Release(1)
	if !errors.Is(err, errs.ErrTooManyPosts) || errs.Win32Code(err) != errs.ERROR_TOO_MANY_POSTS {
		t.Errorf("Release(1) at the maximum: %v (code %d); want ErrTooManyPosts (298)", err, errs.Win32Code(err))
	}
	must(t, "Wait", s.Wait(polled()))
	if _, err := s.Release(2); !errors.Is(err, errs.ErrTooManyPosts) {
		t.Errorf("Release(2) at 2 of 3: %v; want ErrTooManyPosts", err)
	}
	if prev, err := s.Release(1); err != nil || prev != 2 {
		t.Errorf("Release(1) at 2: %d, %v; want 2, nil (the failed Release changed nothing)", prev, err)
	}
	if _, err := s.Release(1 << 40); !errors.Is(err, errs.ErrTooManyPosts) {
		t.Errorf("Release(1<<40): %v; want ErrTooManyPosts", err)
	}
	if _, err := s.Release(0); !errors.Is(err, errs.ErrInvalidParameter) {
		t.Errorf("Release(0): %v; want ErrInvalidParameter", err)
	}

	// Another handle's waiters are woken one per count.
	other, err := OpenSemaphore(name)
	must(t, "OpenSemaphore", err)
	closeLater(t, other)
	for range 3 {
		must(t, "draining", other.Wait(polled()))
	}
	w1 := async(func() error { return other.Wait(long(t)) })
	w2 := async(func() error { return s.Wait(long(t)) })
	pending(t, "Wait at 0", w1)
	if prev, err := s.Release(2); err != nil || prev != 0 {
		t.Fatalf("Release(2): %d, %v", prev, err)
	}
	must(t, "first waiter", result(t, "Wait", w1))
	must(t, "second waiter", result(t, "Wait", w2))
	wantTimeout(t, "Wait at 0 after both", s.Wait(polled()))

	if _, err := CreateSemaphore(winName(t), 2, 1, nil); !errors.Is(err, errs.ErrInvalidParameter) {
		t.Errorf("CreateSemaphore(2, 1): %v; want ErrInvalidParameter", err)
	}
}

// TestWindowsEvents: a manual-reset event releases every waiter and stays
// set; an auto-reset event releases one waiter and resets.
func TestWindowsEvents(t *testing.T) {
	noLeaks(t)
	manual := mustEvent(t, winName(t), true, false)
	wantTimeout(t, "Wait on a reset event", manual.Wait(short(t)))
	var waits []<-chan error
	for range 3 {
		waits = append(waits, async(func() error { return manual.Wait(long(t)) }))
	}
	pending(t, "Wait on a reset event", waits[0])
	must(t, "Set", manual.Set())
	for i, w := range waits {
		must(t, fmt.Sprintf("manual waiter %d", i), result(t, "Wait", w))
	}
	must(t, "Wait on a set manual event", manual.Wait(polled()))
	must(t, "Reset", manual.Reset())
	wantTimeout(t, "Wait after Reset", manual.Wait(polled()))

	name := winName(t)
	auto := mustEvent(t, name, false, true)
	must(t, "Wait on an initially set auto event", auto.Wait(polled()))
	wantTimeout(t, "the next Wait", auto.Wait(polled()))
	other := mustEvent(t, name, true, true) // existed: parameters ignored
	if !other.Existed() {
		t.Errorf("CreateEvent of an existing name: not Existed")
	}
	wantTimeout(t, "Wait through the second handle (still reset, auto)", other.Wait(polled()))
	w1 := async(func() error { return auto.Wait(long(t)) })
	w2 := async(func() error { return other.Wait(long(t)) })
	pending(t, "two waiters", w1)
	must(t, "Set", auto.Set())
	var first, second <-chan error
	select {
	case err := <-w1:
		must(t, "a waiter", err)
		first, second = w1, w2
	case err := <-w2:
		must(t, "a waiter", err)
		first, second = w2, w1
	case <-time.After(30 * time.Second):
		t.Fatal("Set released no waiter")
	}
	_ = first
	pending(t, "the other waiter after one Set of an auto event", second)
	must(t, "Set", other.Set())
	must(t, "the other waiter", result(t, "Wait", second))
	wantTimeout(t, "Wait after both", auto.Wait(polled()))
}

// TestWindowsWaitAny: Wait takes the lowest signalled index only;
// a handle that owns its mutex is signalled for itself.
func TestWindowsWaitAny(t *testing.T) {
	noLeaks(t)
	e0 := mustEvent(t, "", false, false)
	e1 := mustEvent(t, "", false, true)
	e2 := mustEvent(t, "", false, true)
	s3 := mustSemaphore(t, "", 1, 1)
	if i, err := Wait(polled(), e0, e1, e2, s3); i != 1 || err != nil {
		t.Fatalf("Wait(reset, set, set, 1): %d, %v; want 1, nil", i, err)
	}
	if i, err := Wait(polled(), e0, e1, e2, s3); i != 2 || err != nil {
		t.Fatalf("the next Wait: %d, %v; want 2 (the first set event was reset)", i, err)
	}
	if i, err := Wait(polled(), e0, e1, e2, s3); i != 3 || err != nil {
		t.Fatalf("the next Wait: %d, %v; want 3", i, err)
	}
	if i, err := Wait(polled(), e0, e1, e2, s3); err == nil {
		t.Fatalf("Wait with nothing signalled: %d, nil", i)
	} else {
		wantTimeout(t, "Wait with nothing signalled", err)
	}

	// Owned mutexes.
	name := winName(t)
	m := mustMutex(t, name, false)
	other := mustOpenMutex(t, name)
	must(t, "Lock", m.Lock(polled()))
	must(t, "Set", e1.Set())
	if i, err := Wait(polled(), e0, e1, m); i != 1 || err != nil {
		t.Errorf("Wait(reset, set, owned mutex): %d, %v; want 1", i, err)
	}
	if i, err := Wait(polled(), e0, e1, m); i != 2 || err != nil {
		t.Errorf("Wait(reset, reset, owned mutex): %d, %v; want 2 (recursive)", i, err)
	}
	if i, err := Wait(polled(), other, m); i != 1 || err != nil {
		t.Errorf("Wait(other handle, owning handle): %d, %v; want 1", i, err)
	}
	if i, err := Wait(long(t), m, e1); i != 0 || err != nil {
		t.Errorf("Wait(owning handle, reset): %d, %v; want 0", i, err)
	}
	for range 4 {
		must(t, "Unlock", m.Unlock())
	}
	if err := m.Unlock(); !errors.Is(err, errs.ErrNotOwner) {
		t.Errorf("Unlock beyond the 4 levels: %v; want ErrNotOwner", err)
	}
	// A free mutex among events: taking it makes this handle the owner.
	if i, err := Wait(polled(), e0, other, m); i != 1 || err != nil {
		t.Errorf("Wait(reset, free mutex, free mutex): %d, %v; want 1", i, err)
	}
	wantTimeout(t, "m.Lock while other owns", m.Lock(polled()))
	must(t, "other.Unlock", other.Unlock())

	// A blocked Wait returns for the first object signalled.
	got := make(chan int, 1)
	errc := async(func() error {
		i, err := Wait(long(t), e0, e1, e2)
		got <- i
		return err
	})
	pending(t, "Wait on reset events", errc)
	must(t, "Set e2", e2.Set())
	must(t, "Wait", result(t, "Wait", errc))
	if i := <-got; i != 2 {
		t.Errorf("Wait returned %d; want 2", i)
	}
}

// TestWindowsWaitAll: WaitAll takes everything at once or nothing.
func TestWindowsWaitAll(t *testing.T) {
	noLeaks(t)
	name := winName(t)
	m := mustMutex(t, name, false)
	other := mustOpenMutex(t, name)
	e := mustEvent(t, "", false, false)
	s := mustSemaphore(t, "", 1, 1)
	wantTimeout(t, "WaitAll with a reset event", WaitAll(short(t), m, e, s))
	must(t, "other.Lock: WaitAll took nothing", other.Lock(polled()))
	must(t, "other.Unlock", other.Unlock())
	must(t, "the semaphore is still 1", s.Wait(polled()))
	if _, err := s.Release(1); err != nil {
		t.Fatal(err)
	}

	errc := async(func() error { return WaitAll(long(t), m, e, s) })
	pending(t, "WaitAll with a reset event", errc)
	must(t, "e.Set", e.Set())
	must(t, "WaitAll", result(t, "WaitAll", errc))
	wantTimeout(t, "other.Lock after WaitAll", other.Lock(polled()))
	wantTimeout(t, "the auto event after WaitAll", e.Wait(polled()))
	wantTimeout(t, "the semaphore after WaitAll", s.Wait(polled()))
	must(t, "m.Unlock", m.Unlock())

	// Owned handles take a level, and give it back when the rest fail.
	must(t, "m.Lock", m.Lock(polled()))
	wantTimeout(t, "WaitAll(owned, reset)", WaitAll(short(t), m, e))
	wantTimeout(t, "other.Lock: WaitAll's failure left m's own level", other.Lock(polled()))
	must(t, "m.Unlock", m.Unlock())
	if err := m.Unlock(); !errors.Is(err, errs.ErrNotOwner) {
		t.Errorf("a second Unlock after a failed WaitAll: %v; want ErrNotOwner (the level it took was given back)", err)
	}
	must(t, "other.Lock", other.Lock(polled()))
	must(t, "other.Unlock", other.Unlock())
	must(t, "m.Lock", m.Lock(polled()))
	must(t, "e.Set", e.Set())
	must(t, "WaitAll(owned, set)", WaitAll(polled(), m, e))
	wantTimeout(t, "the auto event after WaitAll", e.Wait(polled()))
	must(t, "m.Unlock 1", m.Unlock())
	wantTimeout(t, "other.Lock while m holds the level WaitAll took", other.Lock(polled()))
	must(t, "m.Unlock 2", m.Unlock())
	must(t, "other.Lock once m let go", other.Lock(polled()))

	// One object twice, through one handle or two, is refused (Win32:
	// ERROR_INVALID_PARAMETER), and takes nothing.
	must(t, "other.Unlock", other.Unlock())
	must(t, "m.Lock", m.Lock(polled()))
	if err := WaitAll(polled(), m, m); !errors.Is(err, errs.ErrInvalidParameter) {
		t.Errorf("WaitAll(m, m): %v; want ErrInvalidParameter", err)
	}
	if err := WaitAll(polled(), m, other); !errors.Is(err, errs.ErrInvalidParameter) {
		t.Errorf("WaitAll of two handles of one mutex: %v; want ErrInvalidParameter", err)
	}
	must(t, "m.Unlock", m.Unlock())
	if err := m.Unlock(); !errors.Is(err, errs.ErrNotOwner) {
		t.Errorf("a second m.Unlock: %v; want ErrNotOwner (the failed WaitAll calls took nothing)", err)
	}
}

// TestWindowsContext: an ended context polls; a deadline gives ErrTimeout
// and context.DeadlineExceeded; a cancel gives context.Canceled.
func TestWindowsContext(t *testing.T) {
	noLeaks(t)
	e := mustEvent(t, "", true, true)
	must(t, "Wait on a set event with an ended context", e.Wait(polled()))
	must(t, "Reset", e.Reset())

	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := e.Wait(ctx)
	if !errors.Is(err, errs.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) || errs.Win32Code(err) != errs.ERROR_SEM_TIMEOUT {
		t.Errorf("Wait past a deadline: %v; want ErrTimeout and DeadlineExceeded", err)
	}
	if d := time.Since(start); d < 40*time.Millisecond {
		t.Errorf("Wait past a 50 ms deadline returned after %v", d)
	}

	n := winName(t)
	mustMutex(t, n, true) // owned by this other handle
	for _, o := range []Object{e, mustOpenMutex(t, n), mustSemaphore(t, "", 0, 1)} {
		ctx, cancel := context.WithCancel(context.Background())
		errc := async(func() error { _, err := Wait(ctx, o); return err })
		pending(t, "Wait", errc)
		cancel()
		if err := result(t, "Wait", errc); !errors.Is(err, context.Canceled) {
			t.Errorf("Wait(%T) cancelled: %v; want context.Canceled", o, err)
		}
	}
}

// TestWindowsCloseWakesWait: closing a handle ends the waits on it with
// ErrClosed.
func TestWindowsCloseWakesWait(t *testing.T) {
	noLeaks(t)
	e := mustEvent(t, "", false, false)
	n := winName(t)
	mustMutex(t, n, true)
	m := mustOpenMutex(t, n)
	for _, o := range []Object{e, m} {
		errc := async(func() error { _, err := Wait(context.Background(), o); return err })
		pending(t, "Wait", errc)
		mustClose(t, o)
		if err := result(t, "Wait", errc); !errors.Is(err, errs.ErrClosed) {
			t.Errorf("Wait(%T) when its handle closes: %v; want ErrClosed", o, err)
		}
	}
}

// TestWindowsCloseWakesWaitAll: closing a handle that WaitAll took a
// recursion level of (it owned its mutex) ends the wait for the rest, with
// ErrClosed, and abandons the mutex.
func TestWindowsCloseWakesWaitAll(t *testing.T) {
	noLeaks(t)
	name := winName(t)
	m := mustMutex(t, name, true)
	other := mustOpenMutex(t, name)
	e := mustEvent(t, "", false, false)
	got := make(chan int, 1)
	errc := async(func() error {
		i, err := Wait(context.Background(), e, other) // index 1 is other
		got <- i
		return err
	})
	all := async(func() error { return WaitAll(context.Background(), e, m) })
	pending(t, "WaitAll(reset event, owned mutex)", all)
	pending(t, "Wait(reset event, another handle of the mutex)", errc)
	mustClose(t, m)
	if err := result(t, "WaitAll", all); !errors.Is(err, errs.ErrClosed) {
		t.Errorf("WaitAll when the owning handle closes: %v; want ErrClosed", err)
	}
	if err := result(t, "Wait", errc); !errors.Is(err, errs.ErrAbandoned) {
		t.Errorf("Wait for the mutex when its owner closes: %v; want ErrAbandoned", err)
	}
	if i := <-got; i != 1 {
		t.Errorf("Wait returned index %d; want 1", i)
	}
	must(t, "Unlock", other.Unlock())
	wantTimeout(t, "the event", e.Wait(polled()))
}

// TestWindowsStress: goroutines, each with handles of its own to two
// shared mutexes and an event, lock, nest, wait for any and for all with
// short timeouts, unlock, and sometimes close a handle that owns its mutex
// (abandoning it) and open it again. Each mutex has one owning handle at
// a time, nothing hangs, and nothing is left behind.
func TestWindowsStress(t *testing.T) {
	noLeaks(t)
	names := [2]string{winName(t), winName(t)}
	for _, n := range names {
		mustMutex(t, n, false) // keeps the names alive between handles
	}
	ev := mustEvent(t, winName(t), false, false)
	var inside [2]atomic.Int32
	var broken atomic.Bool
	var ops, owned atomic.Int64
	deadline := time.Now().Add(3 * time.Second)
	errc := make(chan error, 6)
	for g := range 6 {
		go func() {
			errc <- func() error {
				rng := rand.New(rand.NewPCG(uint64(g), 1))
				var ms [2]*Mutex
				var depth [2]int
				open := func(k int) error {
					m, err := OpenMutex(names[k])
					ms[k] = m
					return err
				}
				for k := range ms {
					if err := open(k); err != nil {
						return err
					}
				}
				defer func() {
					for k, m := range ms {
						if depth[k] > 0 {
							inside[k].Add(-1)
						}
						m.Close()
					}
				}()
				took := func(k int, err error) error {
					if err != nil && !errors.Is(err, errs.ErrAbandoned) {
						return err
					}
					if depth[k] == 0 && inside[k].Add(1) > 1 {
						broken.Store(true)
					}
					owned.Add(1)
					depth[k]++
					return nil
				}
				for time.Now().Before(deadline) {
					ctx, cancel := context.WithTimeout(context.Background(), time.Duration(rng.IntN(5))*time.Millisecond)
					k := rng.IntN(2)
					var err error
					switch op := rng.IntN(10); {
					case op < 3:
						err = ms[k].Lock(ctx)
						if errors.Is(err, errs.ErrTimeout) || errors.Is(err, context.Canceled) {
							err = nil
						} else {
							err = took(k, err)
						}
					case op < 5:
						var i int
						i, err = Wait(ctx, ev, ms[0], ms[1])
						switch {
						case errors.Is(err, errs.ErrTimeout):
							err = nil
						case i == 0 && err == nil:
						case i > 0:
							err = took(i-1, err)
						}
					case op < 6:
						err = WaitAll(ctx, ms[0], ms[1])
						if errors.Is(err, errs.ErrTimeout) {
							err = nil
						} else if err == nil || errors.Is(err, errs.ErrAbandoned) {
							took(0, nil)
							err = took(1, nil)
						}
					case op < 9:
						if depth[k] > 0 {
							depth[k]--
							if depth[k] == 0 {
								inside[k].Add(-1)
							}
							err = ms[k].Unlock()
						} else if e := ms[k].Unlock(); !errors.Is(e, errs.ErrNotOwner) {
							err = fmt.Errorf("Unlock of a handle owning nothing: %v", e)
						}
					default:
						if depth[k] > 0 {
							depth[k] = 0
							inside[k].Add(-1)
						}
						if err = ms[k].Close(); err == nil {
							err = open(k)
						}
					}
					cancel()
					ops.Add(1)
					if rng.IntN(20) == 0 {
						ev.Set() //nolint:errcheck // checked elsewhere
					}
					if err != nil {
						return err
					}
				}
				return nil
			}()
		}()
	}
	for range 6 {
		select {
		case err := <-errc:
			if err != nil {
				t.Error(err)
			}
		case <-time.After(60 * time.Second):
			t.Fatal("a goroutine hung")
		}
	}
	if broken.Load() {
		t.Error("two handles owned one mutex at once")
	}
	t.Logf("%d operations, %d acquisitions", ops.Load(), owned.Load())
	for _, n := range names {
		m := mustOpenMutex(t, n)
		if err := m.Lock(polled()); err != nil && !errors.Is(err, errs.ErrAbandoned) {
			t.Errorf("Lock after the storm: %v", err)
		}
		mustClose(t, m)
	}
}

// TestWindowsMaxWait: all 64 objects of WaitForMultipleObjects, blocked
// and woken, and cancelled.
func TestWindowsMaxWait(t *testing.T) {
	noLeaks(t)
	objs := make([]Object, MaxWait)
	for i := range objs {
		objs[i] = mustEvent(t, "", false, false)
	}
	got := make(chan int, 1)
	errc := async(func() error {
		i, err := Wait(long(t), objs...)
		got <- i
		return err
	})
	pending(t, "Wait on 64 events", errc)
	must(t, "Set", objs[63].(*Event).Set())
	must(t, "Wait", result(t, "Wait", errc))
	if i := <-got; i != 63 {
		t.Errorf("Wait on 64 events: %d; want 63", i)
	}
	wantTimeout(t, "WaitAll of 64", WaitAll(short(t), objs...))
	if _, err := Wait(polled(), append(objs, objs[0])...); !errors.Is(err, errs.ErrInvalidParameter) {
		t.Errorf("Wait on 65 objects: %v; want ErrInvalidParameter", err)
	}
}

// TestWindowsWrongType: kernel-object names are one namespace: a name that
// a mapping or another sync object holds gives ErrWrongType
// (ERROR_INVALID_HANDLE), and Open of a missing name ErrNotFound.
func TestWindowsWrongType(t *testing.T) {
	noLeaks(t)
	mapping := `Local\` + winName(t)
	sm, err := shm.Create(mapping, 4096, nil)
	must(t, "shm.Create", err)
	defer sm.Close()
	mutex := winName(t)
	mustMutex(t, mutex, false)
	event := winName(t)
	mustEvent(t, event, false, false)

	for _, c := range []struct {
		name string
		f    func(string) (Object, error)
		what string
	}{
		{mapping, func(n string) (Object, error) { return CreateMutex(n, false, nil) }, "CreateMutex of a mapping"},
		{mapping, func(n string) (Object, error) { return CreateEvent(n, false, false, nil) }, "CreateEvent of a mapping"},
		{mapping, func(n string) (Object, error) { return CreateSemaphore(n, 0, 1, nil) }, "CreateSemaphore of a mapping"},
		{mapping, func(n string) (Object, error) { return OpenMutex(n) }, "OpenMutex of a mapping"},
		{mapping, func(n string) (Object, error) { return OpenEvent(n) }, "OpenEvent of a mapping"},
		{mapping, func(n string) (Object, error) { return OpenSemaphore(n) }, "OpenSemaphore of a mapping"},
		{mutex, func(n string) (Object, error) { return CreateEvent(n, false, false, nil) }, "CreateEvent of a mutex"},
		{mutex, func(n string) (Object, error) { return OpenSemaphore(n) }, "OpenSemaphore of a mutex"},
		{event, func(n string) (Object, error) { return CreateMutex(n, true, nil) }, "CreateMutex(initialOwner) of an event"},
		{event, func(n string) (Object, error) { return OpenMutex(n) }, "OpenMutex of an event"},
	} {
		o, err := c.f(c.name)
		if !errors.Is(err, errs.ErrWrongType) || errs.Win32Code(err) != errs.ERROR_INVALID_HANDLE {
			t.Errorf("%s: %v (code %d); want ErrWrongType (6)", c.what, err, errs.Win32Code(err))
		}
		if err == nil {
			mustClose(t, o)
		}
	}
	if _, err := shm.Create(mutex, 4096, nil); !errors.Is(err, errs.ErrWrongType) {
		t.Errorf("shm.Create of a mutex's name: %v; want ErrWrongType", err)
	}
	missing := winName(t)
	for _, f := range []func(string) (Object, error){
		func(n string) (Object, error) { return OpenMutex(n) },
		func(n string) (Object, error) { return OpenEvent(n) },
		func(n string) (Object, error) { return OpenSemaphore(n) },
	} {
		if _, err := f(missing); !errors.Is(err, errs.ErrNotFound) || errs.Win32Code(err) != errs.ERROR_FILE_NOT_FOUND {
			t.Errorf("Open of a missing name: %v; want ErrNotFound (2)", err)
		}
	}
	// Names are case-sensitive: another case is another object.
	if m, err := OpenMutex(strings.ToUpper(mutex)); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("OpenMutex of the name in upper case: %v; want ErrNotFound", err)
		if err == nil {
			mustClose(t, m)
		}
	}
}

// TestWindowsGlobal: `Global\NAME` and `Local\NAME` are two objects in a
// user's session (the emulation keeps them apart too); each Name says its
// prefix.
func TestWindowsGlobal(t *testing.T) {
	noLeaks(t)
	name := winName(t)
	g, err := CreateEvent(`Global\`+name, true, true, nil)
	if errors.Is(err, errs.ErrAccessDenied) {
		// Outside session 0 that takes SeCreateGlobalPrivilege
		// (administrators and services have it; Wine grants it).
		t.Skipf("CreateEvent(Global): %v", err)
	}
	must(t, "CreateEvent(Global)", err)
	closeLater(t, g)
	l := mustEvent(t, name, true, false)
	if l.Existed() || l.Name() != `Local\`+name || g.Name() != `Global\`+name {
		t.Errorf("Local: Existed() = %v, Name() = %q; Global: Name() = %q", l.Existed(), l.Name(), g.Name())
	}
	must(t, "Wait on the global event", g.Wait(polled()))
	wantTimeout(t, "Wait on the local event", l.Wait(polled()))
	o, err := OpenEvent(`Global\` + name)
	must(t, "OpenEvent(Global)", err)
	closeLater(t, o)
	must(t, "Wait on the global event through OpenEvent", o.Wait(polled()))
}

// TestWindowsSecurity: the objects' DACLs: owner-only by default (the
// user, SYSTEM and Administrators), plus the rights Open asks for, for
// everyone with AllUsers or for the group with Group.
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
	creators := []struct {
		kind   string
		create func(string, *Options) (Object, error)
		rights windows.ACCESS_MASK
	}{
		{"mutex", func(n string, o *Options) (Object, error) { return CreateMutex(n, false, o) }, mutexShared},
		{"event", func(n string, o *Options) (Object, error) { return CreateEvent(n, false, false, o) }, eventShared},
		{"semaphore", func(n string, o *Options) (Object, error) { return CreateSemaphore(n, 0, 1, o) }, semShared},
	}
	for _, cr := range creators {
		for _, c := range []struct {
			sec    Security
			shared string
		}{
			{Security{}, ""},
			{Security{AllUsers: true}, world},
			{Security{Group: users}, users},
			{Security{Group: "Users"}, users},
		} {
			o, err := cr.create(winName(t), &Options{Security: c.sec})
			if err != nil {
				t.Fatalf("Create %s with %+v: %v", cr.kind, c.sec, err)
			}
			aces := wintest.DACL(t, o.sys().h)
			mustClose(t, o)
			for _, sid := range owner {
				if mask, ok := aces[sid]; !ok || mask&windows.GENERIC_ALL == 0 && mask&windows.STANDARD_RIGHTS_REQUIRED != windows.STANDARD_RIGHTS_REQUIRED {
					t.Errorf("%s %+v: DACL %x: %s lacks full access", cr.kind, c.sec, aces, sid)
				}
				delete(aces, sid)
			}
			if c.shared != "" {
				if mask := aces[c.shared]; mask != cr.rights {
					t.Errorf("%s %+v: DACL %x: %s has %#x; want %#x", cr.kind, c.sec, aces, c.shared, mask, cr.rights)
				}
				delete(aces, c.shared)
			}
			if len(aces) != 0 {
				t.Errorf("%s %+v: the DACL has other entries: %x", cr.kind, c.sec, aces)
			}
		}
	}
	_, err = CreateEvent(winName(t), false, false, &Options{Security: Security{Group: "no such group xipc"}})
	if !errors.Is(err, errs.ErrInvalidParameter) {
		t.Errorf("CreateEvent with an unknown group: %v; want ErrInvalidParameter", err)
	}
}
