package mailslot

// Tests of what only the Windows backend has: the Win32 codes behind the
// sentinels, the queue that stands in for Wine's synchronous slot handles,
// the marker that tells writers a slot's size and whether it lives, and the
// security descriptors. The behaviour both backends share is the
// conformance suite's.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/windows"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/internal/names"
)

// peerEnv makes the test binary a process that creates a slot, says
// "ready" and waits to be killed (TestWinOwnerKilled).
const peerEnv = "XIPC_MAILSLOT_WIN_PEER"

func init() {
	if name := os.Getenv(peerEnv); name != "" {
		s, err := Create(name, nil)
		if err != nil {
			fmt.Println("error", err)
			os.Exit(1)
		}
		fmt.Println("ready")
		time.Sleep(time.Minute)
		s.Close()
		os.Exit(0)
	}
}

// winSlotName returns a slot name unique to the test, in a pseudo-directory.
func winSlotName(t testing.TB) string {
	t.Helper()
	n := strings.NewReplacer("/", "-", " ", "_").Replace(t.Name())
	return fmt.Sprintf(`\\.\mailslot\xipc-test\%s-%d-%08x`, n, os.Getpid(), rand.Uint32())
}

func mustCreate(t testing.TB, name string, cfg *Config) *Slot {
	t.Helper()
	s, err := Create(name, cfg)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustOpen(t testing.TB, name string) *Writer {
	t.Helper()
	w, err := Open(name)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

func mustWrite(t testing.TB, w *Writer, msg string) {
	t.Helper()
	if n, err := w.Write([]byte(msg)); err != nil || n != len(msg) {
		t.Fatalf("Write(%q) = %d, %v", msg, n, err)
	}
}

func wantInfo(t testing.TB, s *Slot, next, count int) {
	t.Helper()
	info, err := s.Info()
	if err != nil {
		t.Fatalf("Info: %v", err)
	}
	if info.NextSize != next || info.Count != count {
		t.Errorf("Info = NextSize %d, Count %d; want %d, %d", info.NextSize, info.Count, next, count)
	}
}

func TestWinHandleMode(t *testing.T) {
	s := mustCreate(t, winSlotName(t), nil)
	if s.s.queued {
		t.Log("the slot handle is synchronous (Wine): reads go through the drainer's queue")
	} else {
		t.Log("the slot handle is asynchronous (Windows): overlapped reads on the completion port")
	}
	if s.s.marker == nil {
		t.Error("the slot published no marker")
	}
}

func TestWinMessages(t *testing.T) {
	name := winSlotName(t)
	s := mustCreate(t, name, &Config{MaxMessageSize: 100})
	w := mustOpen(t, name)
	wantInfo(t, s, NoMessage, 0)
	for _, m := range []string{"hello", "", "world!"} {
		mustWrite(t, w, m)
	}
	wantInfo(t, s, 5, 3)
	buf := make([]byte, 100)
	for _, want := range []string{"hello", "", "world!"} {
		n, err := s.Read(buf)
		if err != nil || string(buf[:n]) != want {
			t.Fatalf("Read = %q, %v; want %q", buf[:n], err, want)
		}
	}
	wantInfo(t, s, NoMessage, 0)
	if _, err := s.Read(buf); !errors.Is(err, errs.ErrTimeout) {
		t.Errorf("Read of an empty slot with timeout 0 = %v, want ErrTimeout", err)
	}
	if got := errs.Win32Code(errs.ErrTimeout); got != errs.ERROR_SEM_TIMEOUT {
		t.Errorf("Win32Code(ErrTimeout) = %d", got)
	}
}

// TestWinInsufficientBuffer: a buffer shorter than the next message gives
// ErrInsufficientBuffer [ERROR_INSUFFICIENT_BUFFER] and the message stays,
// although Wine's ReadFile truncates it.
func TestWinInsufficientBuffer(t *testing.T) {
	name := winSlotName(t)
	s := mustCreate(t, name, nil)
	w := mustOpen(t, name)
	mustWrite(t, w, "hello world")
	mustWrite(t, w, "second")
	for _, size := range []int{0, 5, 10} {
		n, err := s.Read(make([]byte, size))
		if !errors.Is(err, errs.ErrInsufficientBuffer) || n != 0 {
			t.Fatalf("Read into %d bytes = %d, %v; want ErrInsufficientBuffer", size, n, err)
		}
		if code := errs.Win32Code(err); code != errs.ERROR_INSUFFICIENT_BUFFER {
			t.Errorf("Win32Code = %d, want %d", code, errs.ERROR_INSUFFICIENT_BUFFER)
		}
		wantInfo(t, s, 11, 2)
	}
	buf := make([]byte, 11)
	if n, err := s.Read(buf); err != nil || string(buf[:n]) != "hello world" {
		t.Fatalf("Read = %q, %v", buf[:n], err)
	}
	if n, err := s.Read(buf); err != nil || string(buf[:n]) != "second" {
		t.Fatalf("Read = %q, %v", buf[:n], err)
	}
}

// TestWinOversizeWrite: a message over the slot's maximum fails at the
// writer with ErrMessageTooLarge, and nothing of it arrives.
func TestWinOversizeWrite(t *testing.T) {
	name := winSlotName(t)
	s := mustCreate(t, name, &Config{MaxMessageSize: 100})
	w := mustOpen(t, name)
	for _, size := range []int{101, 1000, MaxMessage + 1} {
		if n, err := w.Write(make([]byte, size)); !errors.Is(err, errs.ErrMessageTooLarge) || n != 0 {
			t.Errorf("Write of %d bytes = %d, %v; want ErrMessageTooLarge", size, n, err)
		}
	}
	mustWrite(t, w, strings.Repeat("x", 100))
	wantInfo(t, s, 100, 1)

	// A writer that does not check (the raw API): the system may take the
	// message (Wine does), but the reader never sees it.
	raw := rawWriter(t, name)
	var n uint32
	err := windows.WriteFile(raw, make([]byte, 101), &n, nil)
	t.Logf("raw WriteFile of 101 bytes to a slot of at most 100: %d, %v", n, err)
	if err := windows.WriteFile(raw, []byte("end"), &n, nil); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, MaxMessage)
	for _, want := range []string{strings.Repeat("x", 100), "end"} {
		n, err := s.Read(buf)
		if err != nil || string(buf[:n]) != want {
			t.Fatalf("Read = %d bytes %.10q, %v; want %d bytes", n, buf[:n], err, len(want))
		}
	}
	wantInfo(t, s, NoMessage, 0)
}

// rawWriter opens name with CreateFile as a C program would.
func rawWriter(t testing.TB, name string) windows.Handle {
	t.Helper()
	p, err := windows.UTF16PtrFromString(name)
	if err != nil {
		t.Fatal(err)
	}
	h, err := windows.CreateFile(p, windows.GENERIC_WRITE, windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE, nil, windows.OPEN_EXISTING, 0, 0)
	if err != nil {
		t.Fatalf("CreateFile: %v", err)
	}
	t.Cleanup(func() { windows.CloseHandle(h) })
	return h
}

// TestWinWriteAfterClose: once the reader has closed the slot, writes fail
// with ErrNotFound (Wine would take them silently), and the name can be
// created again although an old writer is still open.
func TestWinWriteAfterClose(t *testing.T) {
	name := winSlotName(t)
	s, err := Create(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	w := mustOpen(t, name)
	idle := mustOpen(t, name) // never writes after the close
	mustWrite(t, w, "before")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := w.Write([]byte("after")); !errors.Is(err, errs.ErrNotFound) {
			t.Fatalf("Write after the slot closed = %v, want ErrNotFound", err)
		}
	}
	if _, err := Open(name); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("Open after the slot closed = %v, want ErrNotFound", err)
	}

	s2 := mustCreate(t, name, nil)
	if _, err := idle.Write([]byte("old")); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("Write by a writer of the closed slot = %v, want ErrNotFound", err)
	}
	if _, err := w.Write([]byte("old")); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("Write by a writer of the closed slot = %v, want ErrNotFound", err)
	}
	w2 := mustOpen(t, name)
	mustWrite(t, w2, "new")
	msg, err := s2.ReadMsg()
	if err != nil || string(msg) != "new" {
		t.Fatalf("ReadMsg = %q, %v; want \"new\" alone", msg, err)
	}
	wantInfo(t, s2, NoMessage, 0)
	if err := w.Close(); err != nil {
		t.Errorf("Close of a writer whose slot went: %v", err)
	}
	if err := w.Close(); !errors.Is(err, errs.ErrClosed) {
		t.Errorf("second Close = %v, want ErrClosed", err)
	}
}

// TestWinOwnerKilled: a writer of a slot whose process was killed gets
// ErrNotFound, and the name can be created again.
func TestWinOwnerKilled(t *testing.T) {
	name := winSlotName(t)
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), peerEnv+"="+name)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	killed := false
	t.Cleanup(func() {
		if !killed {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	sc := bufio.NewScanner(out)
	if !sc.Scan() || sc.Text() != "ready" {
		t.Fatalf("peer: %q %v", sc.Text(), sc.Err())
	}
	w := mustOpen(t, name)
	mustWrite(t, w, "to the peer")
	cmd.Process.Kill()
	cmd.Wait()
	killed = true
	if _, err := w.Write([]byte("x")); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("Write after the reader was killed = %v, want ErrNotFound", err)
	}
	s := mustCreate(t, name, nil)
	w2 := mustOpen(t, name)
	mustWrite(t, w2, "fresh")
	wantInfo(t, s, 5, 1)
}

// TestWinManyMessages: with no reader reading, writers do not wait (Wine's
// slot would hold a few hundred small messages before they did), and Info
// counts exactly (Wine's GetMailslotInfo says 0 or 1).
func TestWinManyMessages(t *testing.T) {
	const writers, each = 4, 1500
	name := winSlotName(t)
	s := mustCreate(t, name, &Config{MaxMessageSize: 64})
	var wg sync.WaitGroup
	errc := make(chan error, writers)
	for i := range writers {
		w := mustOpen(t, name)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range each {
				msg := fmt.Sprintf("%d %d %s", i, j, strings.Repeat("p", 40))
				if _, err := w.Write([]byte(msg)); err != nil {
					errc <- fmt.Errorf("writer %d, message %d: %w", i, j, err)
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("writers still writing after 60s: they wait for the reader")
	}
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	info, err := s.Info()
	if err != nil {
		t.Fatal(err)
	}
	if info.Count != writers*each {
		t.Fatalf("Info.Count = %d, want %d", info.Count, writers*each)
	}
	next := make([]int, writers)
	buf := make([]byte, 64)
	for range writers * each {
		n, err := s.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		var i, j int
		if _, err := fmt.Sscanf(string(buf[:n]), "%d %d", &i, &j); err != nil || i < 0 || i >= writers {
			t.Fatalf("message %q", buf[:n])
		}
		if j != next[i] {
			t.Fatalf("writer %d: message %d after %d", i, j, next[i]-1)
		}
		next[i]++
	}
	wantInfo(t, s, NoMessage, 0)
}

// TestWinReadWaits: the read timeout, SetReadTimeout, ReadContext, and
// Close, each ending a read that waits.
func TestWinReadWaits(t *testing.T) {
	name := winSlotName(t)
	s := mustCreate(t, name, &Config{ReadTimeout: 200 * time.Millisecond})
	w := mustOpen(t, name)
	buf := make([]byte, 64)

	start := time.Now()
	if _, err := s.Read(buf); !errors.Is(err, errs.ErrTimeout) {
		t.Fatalf("Read = %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d < 150*time.Millisecond || d > 5*time.Second {
		t.Errorf("a read timeout of 200ms took %v", d)
	}

	if err := s.SetReadTimeout(0); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	if _, err := s.Read(buf); !errors.Is(err, errs.ErrTimeout) {
		t.Fatalf("Read = %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("a polling read took %v", d)
	}
	mustWrite(t, w, "polled")
	if n, err := s.Read(buf); err != nil || string(buf[:n]) != "polled" {
		t.Fatalf("polling Read after a write = %q, %v", buf[:n], err)
	}

	if err := s.SetReadTimeout(WaitForever); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(100 * time.Millisecond)
		w.Write([]byte("late"))
	}()
	if n, err := s.Read(buf); err != nil || string(buf[:n]) != "late" {
		t.Fatalf("Read waiting forever = %q, %v", buf[:n], err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	if _, err := s.ReadContext(ctx, buf); !errors.Is(err, context.Canceled) {
		t.Errorf("ReadContext cancelled = %v, want context.Canceled", err)
	}
	ctx, cancel = context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := s.ReadContext(ctx, buf); !errors.Is(err, errs.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("ReadContext past its deadline = %v, want ErrTimeout and DeadlineExceeded", err)
	}

	errc := make(chan error, 1)
	go func() {
		_, err := s.Read(buf)
		errc <- err
	}()
	time.Sleep(100 * time.Millisecond)
	start = time.Now()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, errs.ErrClosed) {
			t.Errorf("Read pending at Close = %v, want ErrClosed", err)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("Close took %v to end the read", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end a pending Read")
	}
	if _, err := s.Read(buf); !errors.Is(err, errs.ErrClosed) {
		t.Errorf("Read after Close = %v, want ErrClosed", err)
	}
	if _, err := s.Info(); !errors.Is(err, errs.ErrClosed) {
		t.Errorf("Info after Close = %v, want ErrClosed", err)
	}
}

// TestWinWriteDeadline: a write that waits for room (Wine, on a slot nobody
// drains: one of another program) ends at the write deadline and at Close.
// Windows never makes a mailslot write wait.
func TestWinWriteDeadline(t *testing.T) {
	name := winSlotName(t)
	p, err := windows.UTF16PtrFromString(name)
	if err != nil {
		t.Fatal(err)
	}
	h, err := createMailslot(p, 0, 0, nil) // the raw API: no drainer, no marker
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { windows.CloseHandle(h) })
	w := mustOpen(t, name)
	if err := w.SetWriteDeadline(time.Now().Add(300 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	msg := make([]byte, 1024)
	for i := range 20000 {
		_, err := w.Write(msg)
		if err == nil {
			continue
		}
		if !errors.Is(err, errs.ErrTimeout) {
			t.Fatalf("Write %d = %v, want ErrTimeout", i, err)
		}
		t.Logf("the slot took %d messages of 1 KiB before a write waited", i)
		if err := w.SetWriteDeadline(time.Time{}); err != nil {
			t.Fatal(err)
		}
		errc := make(chan error, 1)
		go func() {
			_, err := w.Write(msg)
			errc <- err
		}()
		time.Sleep(100 * time.Millisecond)
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-errc:
			if !errors.Is(err, errs.ErrClosed) {
				t.Errorf("Write pending at Close = %v, want ErrClosed", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Close did not end a pending Write")
		}
		return
	}
	t.Log("no write waited: the system keeps every message (Windows)")
}

// TestWinFullQueue: past drainLimit bytes unread, writes may wait (Wine),
// and then honour the write deadline; reading makes room again.
func TestWinFullQueue(t *testing.T) {
	const size = 60000
	name := winSlotName(t)
	s := mustCreate(t, name, &Config{MaxMessageSize: size, ReadTimeout: 10 * time.Second})
	w := mustOpen(t, name)
	msg := make([]byte, size)
	written := 0
	for ; written < 2*drainLimit/size; written++ {
		if err := w.SetWriteDeadline(time.Now().Add(500 * time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		copy(msg, fmt.Sprintf("%08d", written))
		if _, err := w.Write(msg); err != nil {
			if !errors.Is(err, errs.ErrTimeout) {
				t.Fatalf("Write %d = %v, want ErrTimeout once the queue is full", written, err)
			}
			break
		}
	}
	if !s.s.queued {
		t.Logf("no write waited after %d messages of %d bytes (Windows keeps them)", written, size)
	} else {
		if written < drainLimit/size || written == 2*drainLimit/size {
			t.Fatalf("%d messages of %d bytes written before a write waited; drainLimit is %d", written, size, drainLimit)
		}
		t.Logf("%d messages of %d bytes written before a write waited", written, size)
		if err := w.SetWriteDeadline(time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	buf := make([]byte, size)
	for i := range written {
		n, err := s.Read(buf)
		if err != nil || n != size || string(buf[:8]) != fmt.Sprintf("%08d", i) {
			t.Fatalf("Read %d = %d bytes %q, %v", i, n, buf[:8], err)
		}
	}
	// Room again: writes go through, and arrive.
	mustWrite(t, w, "again")
	if n, err := s.Read(buf); err != nil || string(buf[:n]) != "again" {
		t.Fatalf("Read = %q, %v", buf[:min(n, 8)], err)
	}
}

// TestWinSharedWriters: writers of the same slot coexist (Wine refuses a
// second writer without FILE_SHARE_WRITE), and Open finds names whatever
// their case.
func TestWinSharedWriters(t *testing.T) {
	name := winSlotName(t)
	s := mustCreate(t, name, nil)
	w1 := mustOpen(t, name)
	w2 := mustOpen(t, strings.ToUpper(name))
	mustWrite(t, w1, "1")
	mustWrite(t, w2, "2")
	wantInfo(t, s, 1, 2)
}

func TestWinExistsAndNotFound(t *testing.T) {
	name := winSlotName(t)
	mustCreate(t, name, nil)
	_, err := Create(name, nil)
	if !errors.Is(err, errs.ErrExists) {
		t.Errorf("Create of an existing name = %v, want ErrExists", err)
	}
	if code := errs.Win32Code(err); code != errs.ERROR_ALREADY_EXISTS {
		t.Errorf("Win32Code = %d, want %d", code, errs.ERROR_ALREADY_EXISTS)
	}
	_, err = Open(name + "-missing")
	if !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("Open of a missing slot = %v, want ErrNotFound", err)
	}
	if code := errs.Win32Code(err); code != errs.ERROR_FILE_NOT_FOUND {
		t.Errorf("Win32Code = %d, want %d", code, errs.ERROR_FILE_NOT_FOUND)
	}
	if _, err := Open(name + `\missing\deeper`); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("Open of a missing pseudo-directory = %v, want ErrNotFound", err)
	}
}

// TestWinForeignSlot: a slot of another program (no marker) takes xipc
// writers, which then rely on the system alone.
func TestWinForeignSlot(t *testing.T) {
	name := winSlotName(t)
	p, err := windows.UTF16PtrFromString(name)
	if err != nil {
		t.Fatal(err)
	}
	h, err := createMailslot(p, 0, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer windows.CloseHandle(h)
	w := mustOpen(t, name)
	if w.w.watch != nil {
		t.Error("a slot without a marker is watched")
	}
	mustWrite(t, w, "to C")
	var next, count uint32
	if err := getMailslotInfo(h, nil, &next, &count, nil); err != nil || next != 4 || count < 1 {
		t.Errorf("GetMailslotInfo = next %d, count %d, %v", next, count, err)
	}
}

func TestWinSecurityDescriptor(t *testing.T) {
	tok, err := windows.OpenCurrentProcessToken()
	if err != nil {
		t.Fatal(err)
	}
	defer tok.Close()
	u, err := tok.GetTokenUser()
	if err != nil {
		t.Fatal(err)
	}
	owner := "D:P(A;;GA;;;" + u.User.Sid.String() + ")(A;;GA;;;SY)(A;;GA;;;BA)"
	for _, tc := range []struct {
		s     Security
		extra []string
	}{
		{Security{}, nil},
		{Security{AllUsers: true}, []string{"WD"}},
		{Security{Group: "S-1-5-32-545"}, []string{"S-1-5-32-545"}},
		{Security{Group: "Administrators"}, []string{"S-1-5-32-544"}},
	} {
		o, extra, err := sddlParts(tc.s)
		if err != nil {
			t.Errorf("sddlParts(%+v): %v", tc.s, err)
			continue
		}
		if o != owner || fmt.Sprint(extra) != fmt.Sprint(tc.extra) {
			t.Errorf("sddlParts(%+v) = %s %v, want %s %v", tc.s, o, extra, owner, tc.extra)
		}
		if _, _, err := securityDescriptors(tc.s); err != nil {
			t.Errorf("securityDescriptors(%+v): %v", tc.s, err)
		}
		// A slot and its writer with these settings.
		name := winSlotName(t)
		s := mustCreate(t, name, &Config{Security: tc.s})
		w := mustOpen(t, name)
		mustWrite(t, w, "x")
		wantInfo(t, s, 1, 1)
	}
	for _, g := range []string{"no such group xipc", "S-1-x"} {
		if _, err := Create(winSlotName(t), &Config{Security: Security{Group: g}}); !errors.Is(err, errs.ErrInvalidParameter) {
			t.Errorf("Create with group %q = %v, want ErrInvalidParameter", g, err)
		}
	}
}

// TestWinMarkerNames: markers are per name, case-insensitively.
func TestWinMarkerNames(t *testing.T) {
	a, _ := names.ParseMailslot(`\\.\mailslot\Foo\Bar`)
	b, _ := names.ParseMailslot(`foo\bar`)
	c, _ := names.ParseMailslot(`foo\baz`)
	na, nb, nc := markerNames(a), markerNames(b), markerNames(c)
	if windows.UTF16PtrToString(na[0]) != windows.UTF16PtrToString(nb[0]) {
		t.Error("names differing in case have different markers")
	}
	if windows.UTF16PtrToString(na[0]) == windows.UTF16PtrToString(nc[0]) {
		t.Error("different names share a marker")
	}
	if !strings.HasPrefix(windows.UTF16PtrToString(na[0]), `Global\`) || !strings.HasPrefix(windows.UTF16PtrToString(na[1]), `Local\`) {
		t.Errorf("marker names %s, %s", windows.UTF16PtrToString(na[0]), windows.UTF16PtrToString(na[1]))
	}
}
