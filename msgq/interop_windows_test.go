package msgq

// Interop tests: xipc against programs that use the raw Win32 API
// (testdata/*.c), so that a Queue is shown to be a real window any Win32
// program reaches, and Find/Send/Post to reach any Win32 window.
//
// The C programs are built with MinGW-w64:
//
//	x86_64-w64-mingw32-gcc -O2 -o $XIPC_INTEROP_BIN/NAME.exe testdata/NAME.c
//
// scripts/test.sh does that and sets XIPC_INTEROP_BIN; without it, under
// Wine, internal/wintest builds them.

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xipc/xipc/internal/wintest"
)

var interopPrograms = []string{"msgwin", "msgsend"}

func TestInterop(t *testing.T) {
	dir := wintest.InteropBin(t, "msgq", interopPrograms...)
	t.Run("CWindow", func(t *testing.T) { testInteropWindow(t, dir) })
	t.Run("CSender", func(t *testing.T) { testInteropSender(t, dir) })
}

func interopName(t *testing.T) string {
	return fmt.Sprintf("xipc-interop-%s-%d-%d", strings.ReplaceAll(t.Name(), "/", "-"), os.Getpid(), time.Now().UnixNano())
}

func byteSum(b []byte) uintptr {
	var s uintptr
	for _, c := range b {
		s += uintptr(c)
	}
	return s
}

// testInteropWindow: Find, Send, SendData and Post against a C program's
// message-only window.
func testInteropWindow(t *testing.T, dir string) {
	name := interopName(t)
	cmd := exec.Command(filepath.Join(dir, "msgwin.exe"), name)
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
	// Lines come through a channel so that a program that hangs (Wine
	// starting its desktop process, say) fails the test instead of
	// blocking it.
	lines := make(chan string, 16)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	expect := func(want string) {
		t.Helper()
		select {
		case got, ok := <-lines:
			if !ok || got != want {
				t.Fatalf("msgwin said %q (open: %v); want %q; stderr: %s", got, ok, want, stderr.String())
			}
		case <-time.After(time.Minute):
			t.Fatalf("msgwin said nothing for a minute; want %q; stderr: %s", want, stderr.String())
		}
	}
	expect("ready")
	tg, err := Find(name)
	if err != nil {
		t.Fatalf("Find of the C program's window: %v", err)
	}
	defer tg.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if r, err := tg.Send(ctx, WM_USER+1, 20, 22); err != nil || r != 42 {
		t.Fatalf("Send = (%d, %v); want (42, nil)", r, err)
	}
	expect("sent 0x0401 20 22")
	data := []byte("hello from Go, the long way round")
	if r, err := tg.SendData(ctx, 7, data); err != nil || r != 7+byteSum(data) {
		t.Fatalf("SendData = (%d, %v); want (%d, nil)", r, err, 7+byteSum(data))
	}
	expect(fmt.Sprintf("copydata %d %d", len(data), 7+byteSum(data)))
	if err := tg.Post(WM_USER+2, 1, 2); err != nil {
		t.Fatalf("Post: %v", err)
	}
	expect("posted 0x0402 1 2")
	if err := tg.Post(WM_QUIT, 0, 0); err != nil {
		t.Fatalf("Post(WM_QUIT): %v", err)
	}
	expect("quit")
	exited = true
	if err := cmd.Wait(); err != nil {
		t.Fatalf("msgwin: %v; stderr: %s", err, stderr.String())
	}
}

// testInteropSender: a C program finds a Register queue with FindWindowEx
// and uses SendMessage (plain and WM_COPYDATA) and PostMessage on it.
func testInteropSender(t *testing.T, dir string) {
	name := interopName(t)
	q, err := Register(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	var mu sync.Mutex
	var got []string
	done := make(chan error, 1)
	go func() {
		done <- q.Serve(context.Background(), func(m *Message) uintptr {
			mu.Lock()
			got = append(got, m.String())
			mu.Unlock()
			if m.Msg == WM_COPYDATA {
				return m.LParam + byteSum(m.Data)
			}
			if m.Msg == WM_USER+2 {
				q.Close() // the last message: end Serve
			}
			return m.WParam + m.LParam
		})
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, filepath.Join(dir, "msgsend.exe"), name).CombinedOutput()
	if err != nil {
		t.Fatalf("msgsend: %v\n%s", err, out)
	}
	text := []byte("hello from C")
	want := fmt.Sprintf("send 42\ncopydata %d\nposted\n", 7+byteSum(text))
	if strings.ReplaceAll(string(out), "\r\n", "\n") != want {
		t.Errorf("msgsend said %q; want %q", out, want)
	}
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatalf("the posted message did not arrive")
	}
	mu.Lock()
	defer mu.Unlock()
	wantGot := []string{
		"msg=0x0401 wparam=20 lparam=22",
		`msg=0x004a wparam=0 lparam=7 data="hello from C"`,
		"msg=0x0402 wparam=1 lparam=2",
	}
	if strings.Join(got, "\n") != strings.Join(wantGot, "\n") {
		t.Errorf("the queue got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(wantGot, "\n"))
	}
}
