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
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/internal/wintest"
)

var interopPrograms = []string{"msserver", "msclient"}

func TestInterop(t *testing.T) {
	dir := wintest.InteropBin(t, "mailslot", interopPrograms...)
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
