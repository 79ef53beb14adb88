package mailslot

// Interop tests: xipc against programs that use the raw Win32 API
// (testdata/*.c), so that an xipc slot or writer is shown to work with any
// Win32 peer, not just with itself.
//
// The C programs are built with MinGW-w64:
//
//	x86_64-w64-mingw32-gcc -O2 -o $XIPC_INTEROP_BIN/NAME.exe testdata/NAME.c
//
// scripts/test.sh does that and sets XIPC_INTEROP_BIN. Without it, a test
// binary running under Wine builds them itself: Wine can start a Linux
// program (here /bin/sh running the cross-compiler), though it cannot wait
// for it, so the build leaves its exit status in a file that the test polls.
// Anywhere else the tests fail and say how to build the programs.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/windows"

	"github.com/xipc/xipc/internal/errs"
)

var interopPrograms = []string{"msserver", "msclient"}

func TestInterop(t *testing.T) {
	dir := interopBin(t)
	t.Run("Server", func(t *testing.T) { testInteropServer(t, dir) })
	t.Run("Client", func(t *testing.T) { testInteropClient(t, dir) })
}

// testInteropServer: mailslot.Open and Write against a C server that
// creates its slot with CreateMailslot and reads it with GetMailslotInfo
// and ReadFile.
func testInteropServer(t *testing.T, dir string) {
	name := winSlotName(t)
	big := make([]byte, 60000)
	var bigSum uint32
	for i := range big {
		big[i] = byte(i * 7)
		bigSum += uint32(big[i])
	}
	msgs := [][]byte{[]byte("hello"), {}, []byte("a message with spaces"), []byte(strings.Repeat("0123456789", 20)), big, []byte("bye")}
	cmd := exec.Command(filepath.Join(dir, "msserver.exe"), name, strconv.Itoa(len(msgs)))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := false
	t.Cleanup(func() {
		if !exited {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	out := bufio.NewScanner(stdout)
	out.Buffer(make([]byte, 4096), 1<<20)
	if !out.Scan() || out.Text() != "ready" {
		t.Fatalf("msserver did not start: %q %v; stderr: %s", out.Text(), out.Err(), stderr.String())
	}

	w, err := Open(name)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer w.Close()
	for _, m := range msgs {
		if n, err := w.Write(m); err != nil || n != len(m) {
			t.Fatalf("Write of %d bytes = %d, %v", len(m), n, err)
		}
	}
	for _, m := range msgs {
		want := fmt.Sprintf("msg %d %s", len(m), m)
		if len(m) == len(big) {
			want = fmt.Sprintf("msg %d sum=%d", len(big), bigSum)
		}
		if !out.Scan() {
			t.Fatalf("msserver ended before %q: %v; stderr: %s", want, out.Err(), stderr.String())
		}
		if got := strings.TrimRight(out.Text(), " "); got != strings.TrimRight(want, " ") {
			t.Errorf("msserver printed %q, want %q", got, want)
		}
	}
	if !out.Scan() || out.Text() != "bye" {
		t.Fatalf("msserver: %q, want bye; stderr: %s", out.Text(), stderr.String())
	}
	err = cmd.Wait()
	exited = true
	if err != nil {
		t.Fatalf("msserver: %v; stderr: %s", err, stderr.String())
	}
}

// testInteropClient: a C client (CreateFile with FILE_SHARE_READ, WriteFile)
// of mailslot.Create, checked through Info and Read.
func testInteropClient(t *testing.T, dir string) {
	const maxSize = 512
	name := winSlotName(t)
	s := mustCreate(t, name, &Config{MaxMessageSize: maxSize, ReadTimeout: 10 * time.Second})
	cmd := exec.Command(filepath.Join(dir, "msclient.exe"), name, strconv.Itoa(maxSize))
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
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := false
	t.Cleanup(func() {
		if !exited {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	out := bufio.NewScanner(stdout)
	if !out.Scan() || out.Text() != "sent" {
		t.Fatalf("msclient: %q %v; stderr: %s", out.Text(), out.Err(), stderr.String())
	}

	// Every message the client wrote is waiting, whole, in order.
	info, err := s.Info()
	if err != nil {
		t.Fatal(err)
	}
	if info.Count != 5 || info.NextSize != 3 || info.MaxMessageSize != maxSize {
		t.Errorf("Info = %+v, want Count 5, NextSize 3, MaxMessageSize %d", info, maxSize)
	}
	long := make([]byte, 300)
	for i := range long {
		long[i] = byte('a' + i%26)
	}
	want := []string{"one", "two", "", string(long), "last"}
	for i, m := range want {
		if m == string(long) {
			// A buffer too small: the message stays for the next read.
			n, err := s.Read(make([]byte, 100))
			if !errors.Is(err, errs.ErrInsufficientBuffer) || n != 0 {
				t.Errorf("Read of 300 bytes into 100 = %d, %v; want ErrInsufficientBuffer", n, err)
			}
			if info, _ := s.Info(); info.NextSize != 300 || info.Count != len(want)-i {
				t.Errorf("Info after the short buffer = %+v, want NextSize 300, Count %d", info, len(want)-i)
			}
		}
		got, err := s.ReadMsg()
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if string(got) != m {
			t.Errorf("message %d = %q, want %q", i, got, m)
		}
	}
	if info, _ := s.Info(); info.Count != 0 || info.NextSize != NoMessage {
		t.Errorf("Info when empty = %+v", info)
	}

	// A message over the slot's maximum from a writer that does not check:
	// whatever the system makes of it, the reader never sees it.
	if _, err := io.WriteString(stdin, "go\n"); err != nil {
		t.Fatal(err)
	}
	if !out.Scan() || !strings.HasPrefix(out.Text(), "oversize ") {
		t.Fatalf("msclient: %q %v; stderr: %s", out.Text(), out.Err(), stderr.String())
	}
	t.Logf("WriteFile of %d bytes to a slot of at most %d: %s", maxSize+1, maxSize, out.Text())
	if !out.Scan() || out.Text() != "done" {
		t.Fatalf("msclient: %q %v; stderr: %s", out.Text(), out.Err(), stderr.String())
	}
	err = cmd.Wait()
	exited = true
	if err != nil {
		t.Fatalf("msclient: %v; stderr: %s", err, stderr.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	buf := make([]byte, MaxMessage)
	n, err := s.ReadContext(ctx, buf)
	if err != nil || string(buf[:n]) != "after" {
		t.Errorf("the message after the oversized one = %q, %v; want \"after\"", buf[:n], err)
	}
}

// interopBin returns the directory holding the C programs built for
// Windows: $XIPC_INTEROP_BIN, or, under Wine, a directory where the test
// builds them. It fails the test when neither works: these tests must not
// be skipped quietly.
func interopBin(t *testing.T) string {
	t.Helper()
	how := "build them with\n"
	for _, p := range interopPrograms {
		how += fmt.Sprintf("\tx86_64-w64-mingw32-gcc -O2 -o $XIPC_INTEROP_BIN/%s.exe mailslot/testdata/%s.c\n", p, p)
	}
	how += "and set XIPC_INTEROP_BIN (scripts/test.sh does both)"
	if dir := os.Getenv("XIPC_INTEROP_BIN"); dir != "" {
		if underWine() && strings.HasPrefix(dir, "/") {
			dir = `Z:` + filepath.FromSlash(dir) // Wine's Z: is the Unix root
		}
		for _, p := range interopPrograms {
			if _, err := os.Stat(filepath.Join(dir, p+".exe")); err != nil {
				t.Fatalf("XIPC_INTEROP_BIN=%s lacks %s.exe (%v); %s", os.Getenv("XIPC_INTEROP_BIN"), p, err, how)
			}
		}
		return dir
	}
	if !underWine() {
		t.Fatalf("the interop tests need their C programs: %s", how)
	}
	dir, err := buildUnderWine(t)
	if err != nil {
		t.Fatalf("building the C programs from within Wine: %v; %s", err, how)
	}
	return dir
}

// underWine reports whether the process runs under Wine, whose ntdll
// exports wine_get_version.
func underWine() bool {
	return windows.NewLazySystemDLL("ntdll.dll").NewProc("wine_get_version").Find() == nil
}

const (
	wineShell = `Z:\bin\sh`
	wineGCC   = "/usr/bin/x86_64-w64-mingw32-gcc"
)

// buildUnderWine compiles the C programs with the Linux cross-compiler,
// started through Wine, into a new directory under /tmp (Z:\tmp), removed
// when the test ends.
func buildUnderWine(t *testing.T) (string, error) {
	if _, err := os.Stat(wineShell); err != nil {
		return "", fmt.Errorf("no Unix shell at %s: %w", wineShell, err)
	}
	if _, err := os.Stat(`Z:` + filepath.FromSlash(wineGCC)); err != nil {
		return "", fmt.Errorf("no %s: %w", wineGCC, err)
	}
	dir, err := os.MkdirTemp(`Z:\tmp`, "xipc-interop-")
	if err != nil {
		return "", err
	}
	t.Cleanup(func() { removeTree(t, dir) })
	var script strings.Builder
	fmt.Fprintf(&script, "cd '%s' && {", unixPath(dir))
	for _, p := range interopPrograms {
		src, err := os.ReadFile(filepath.Join("testdata", p+".c"))
		if err != nil {
			return "", err
		}
		if err := os.WriteFile(filepath.Join(dir, p+".c"), src, 0o644); err != nil {
			return "", err
		}
		fmt.Fprintf(&script, " %s -O2 -o %s.exe %s.c &&", wineGCC, p, p)
	}
	script.WriteString(" true; } >build.log 2>&1; echo $? >status.tmp; mv status.tmp status")
	// Wine runs the shell as a Unix process; the handle it returns cannot
	// be waited on, so the exit status comes through the status file.
	proc, err := os.StartProcess(wineShell, []string{"sh", "-c", script.String()},
		&os.ProcAttr{Files: []*os.File{nil, nil, nil}})
	if err != nil {
		return "", fmt.Errorf("starting %s: %w", wineShell, err)
	}
	proc.Release() //nolint:errcheck // the handle was never a real one
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for {
		status, err := os.ReadFile(filepath.Join(dir, "status"))
		if err == nil {
			if s := strings.TrimSpace(string(status)); s != "0" {
				log, _ := os.ReadFile(filepath.Join(dir, "build.log"))
				return "", fmt.Errorf("the compiler failed (status %s):\n%s", s, log)
			}
			return dir, nil
		}
		select {
		case <-ctx.Done():
			return "", errors.New("no build status after 3 minutes")
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// unixPath turns a path on Wine's Z: drive into the Unix path it stands for.
func unixPath(p string) string {
	return filepath.ToSlash(p[len(`Z:`):])
}

// removeTree removes dir file by file: os.RemoveAll fails under Wine 8
// ("unlinkat: Invalid function") while os.Remove works.
func removeTree(t *testing.T, dir string) {
	var paths []string
	filepath.WalkDir(dir, func(p string, _ os.DirEntry, err error) error {
		if err == nil {
			paths = append(paths, p)
		}
		return nil
	})
	for i := len(paths) - 1; i >= 0; i-- {
		if err := os.Remove(paths[i]); err != nil {
			t.Logf("removing %s: %v", paths[i], err)
		}
	}
}
