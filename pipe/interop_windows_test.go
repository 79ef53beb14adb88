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

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/internal/wintest"
)

var interopPrograms = []string{"msgserver", "msgclient"}

func TestInterop(t *testing.T) {
	dir := wintest.InteropBin(t, "pipe", interopPrograms...)
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
