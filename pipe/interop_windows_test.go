package pipe

// Interop tests: xipc against programs that use the raw Win32 API
// (testdata/*.c), so that an xipc endpoint is shown to work with any Win32
// peer, not just with itself.
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

var interopPrograms = []string{"msgserver", "msgclient"}

func TestInterop(t *testing.T) {
	dir := interopBin(t)
	t.Run("MessageServer", func(t *testing.T) { testInteropMessageServer(t, dir) })
	t.Run("MessageClient", func(t *testing.T) { testInteropMessageClient(t, dir) })
}

// testInteropMessageServer: pipe.Dial against a C server that creates a
// message pipe with CreateNamedPipe and reads it through ERROR_MORE_DATA.
func testInteropMessageServer(t *testing.T, dir string) {
	name := testName(t)
	cmd := exec.Command(filepath.Join(dir, "msgserver.exe"), name)
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
	if !out.Scan() || out.Text() != "ready" {
		t.Fatalf("msgserver did not start: %q %v; stderr: %s", out.Text(), out.Err(), stderr.String())
	}

	c := mustDial(t, name, nil)
	if !c.Message() {
		t.Fatal("Dial of a PIPE_TYPE_MESSAGE pipe is not in message mode")
	}
	if got := c.PeerPID(); got != cmd.Process.Pid {
		t.Errorf("PeerPID = %d, want the server's %d", got, cmd.Process.Pid)
	}
	buf := make([]byte, 256)
	roundTrip := func(msg string) string {
		t.Helper()
		if _, err := c.WriteMsg([]byte(msg)); err != nil {
			t.Fatalf("WriteMsg(%q): %v", msg, err)
		}
		n, err := c.ReadMsg(buf)
		if err != nil {
			t.Fatalf("ReadMsg after %q: %v", msg, err)
		}
		return string(buf[:n])
	}
	if got := roundTrip("hello"); got != "hello" {
		t.Errorf("echo = %q", got)
	}
	long := strings.Repeat("0123456789", 10) // the server reads it 16 bytes at a time
	if got := roundTrip(long); got != long {
		t.Errorf("echo of 100 bytes = %q", got)
	}
	if got := roundTrip(""); got != "" {
		t.Errorf("echo of a zero-length message = %q", got)
	}
	if got := roundTrip("pid"); got != strconv.Itoa(os.Getpid()) {
		t.Errorf("GetNamedPipeClientProcessId in the server = %s, want %d", got, os.Getpid())
	}

	// A reply longer than the buffer: ErrMoreData, then the rest.
	if _, err := c.WriteMsg([]byte("big 100")); err != nil {
		t.Fatal(err)
	}
	small := make([]byte, 10)
	var got []byte
	parts := 0
	for {
		n, err := c.ReadMsg(small)
		got = append(got, small[:n]...)
		parts++
		if err == nil {
			break
		}
		if !errors.Is(err, errs.ErrMoreData) {
			t.Fatalf("ReadMsg of a long reply: %v", err)
		}
	}
	if len(got) != 100 || parts != 10 {
		t.Errorf("long reply: %d bytes in %d reads, want 100 in 10", len(got), parts)
	}
	for i, b := range got {
		if b != byte('a'+i%26) {
			t.Fatalf("long reply byte %d = %q", i, b)
		}
	}

	// The server reads its end of stream (ERROR_BROKEN_PIPE) and exits.
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if !out.Scan() {
		t.Fatalf("msgserver said nothing at the end; stderr: %s", stderr.String())
	}
	var messages, moredata int
	if _, err := fmt.Sscanf(out.Text(), "bye %d %d", &messages, &moredata); err != nil {
		t.Fatalf("msgserver: %q; stderr: %s", out.Text(), stderr.String())
	}
	if messages != 5 || moredata != 6 {
		// 100 bytes in 16-byte reads: 6 ERROR_MORE_DATA and a last read.
		t.Errorf("msgserver saw %d messages and %d ERROR_MORE_DATA reads, want 5 and 6", messages, moredata)
	}
	err = cmd.Wait()
	exited = true
	if err != nil {
		t.Fatalf("msgserver: %v; stderr: %s", err, stderr.String())
	}
}

// testInteropMessageClient: a C client (CreateFile,
// SetNamedPipeHandleState, TransactNamedPipe) of pipe.Listen.
func testInteropMessageClient(t *testing.T, dir string) {
	name := testName(t)
	l := mustListen(t, name, &ListenConfig{Message: true})
	cmd := exec.Command(filepath.Join(dir, "msgclient.exe"), name, strconv.Itoa(os.Getpid()))
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var waitErr error
	exited := make(chan struct{})
	go func() {
		waitErr = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})

	c := mustAccept(t, l)
	if got := c.PeerPID(); got != cmd.Process.Pid {
		t.Errorf("PeerPID = %d, want the client's %d", got, cmd.Process.Pid)
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	buf := make([]byte, 4096)
	var sizes []int
	for {
		n, err := c.ReadMsg(buf)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("ReadMsg: %v; client stderr: %s", err, stderr.String())
		}
		sizes = append(sizes, n)
		reply := []byte{}
		if n > 0 {
			reply = append([]byte("re:"), buf[:n]...)
		}
		if _, err := c.WriteMsg(reply); err != nil {
			t.Fatalf("WriteMsg: %v; client stderr: %s", err, stderr.String())
		}
	}
	if want := []int{5, 1000, 0, 4}; fmt.Sprint(sizes) != fmt.Sprint(want) {
		t.Errorf("messages from the client: sizes %v, want %v", sizes, want)
	}
	select {
	case <-exited:
		if waitErr != nil {
			t.Fatalf("msgclient: %v; stdout: %s; stderr: %s", waitErr, stdout.String(), stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("msgclient did not exit")
	}
	var moredata int
	if _, err := fmt.Sscanf(stdout.String(), "ok %d", &moredata); err != nil {
		t.Fatalf("msgclient: %q; stderr: %s", stdout.String(), stderr.String())
	}
	if moredata != 15 {
		// "re:" + 1000 bytes in 64-byte reads: 15 ERROR_MORE_DATA.
		t.Errorf("msgclient saw %d ERROR_MORE_DATA reads, want 15", moredata)
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
		how += fmt.Sprintf("\tx86_64-w64-mingw32-gcc -O2 -o $XIPC_INTEROP_BIN/%s.exe pipe/testdata/%s.c\n", p, p)
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
