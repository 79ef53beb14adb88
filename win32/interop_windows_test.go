package win32_test

// Interop: Go code written against the facade talks to C programs written
// against the raw Win32 API (the interop programs of packages pipe and
// mailslot), under Wine or Windows.

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/xipc/xipc/internal/wintest"
	"github.com/xipc/xipc/win32"
)

// interopBin returns the directory of the C programs of package pkg
// (../pkg/testdata), built as wintest does.
func interopBin(t *testing.T, pkg string, programs ...string) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	// wintest builds testdata/NAME.c of the current directory.
	if err := os.Chdir(filepath.Join("..", pkg)); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	return wintest.InteropBin(t, pkg, programs...)
}

func startC(t *testing.T, exe string, args ...string) (*exec.Cmd, *bufio.Reader, *strings.Builder) {
	t.Helper()
	cmd := exec.Command(exe, args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	// Stdin stays open (and empty) while the program runs: msclient waits
	// on it for a go-ahead.
	if _, err := cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd, bufio.NewReader(out), &stderr
}

func TestInteropPipe(t *testing.T) {
	dir := interopBin(t, "pipe", "msgserver", "msgclient")

	t.Run("CServer", func(t *testing.T) {
		name := `\\.\pipe\` + uniq(t)
		cmd, out, stderr := startC(t, filepath.Join(dir, "msgserver.exe"), name)
		if line, _ := out.ReadString('\n'); strings.TrimSpace(line) != "ready" {
			t.Fatalf("msgserver said %q; stderr %s", line, stderr)
		}
		h, err := win32.CreateFile(name, win32.GENERIC_READ|win32.GENERIC_WRITE, 0, nil, win32.OPEN_EXISTING, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := win32.SetNamedPipeHandleState(h, win32.PIPE_READMODE_MESSAGE); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 64)
		n, err := win32.TransactNamedPipe(h, []byte("pid"), buf)
		if err != nil || string(buf[:n]) != strconv.Itoa(os.Getpid()) {
			t.Errorf("pid → %q, %v; want %d", buf[:n], err, os.Getpid())
		}
		// A 100-byte reply read 16 bytes at a time through ERROR_MORE_DATA.
		if _, err := win32.WriteFile(h, []byte("big 100")); err != nil {
			t.Fatal(err)
		}
		var msg []byte
		more := 0
		for {
			n, err := win32.ReadFile(h, buf[:16])
			msg = append(msg, buf[:n]...)
			if err == win32.ERROR_MORE_DATA {
				more++
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			break
		}
		if len(msg) != 100 || msg[99] != 'a'+99%26 || more != 6 {
			t.Errorf("big 100 → %d bytes in %d ERROR_MORE_DATA reads", len(msg), more)
		}
		n, err = win32.TransactNamedPipe(h, []byte("echo me"), buf)
		if err != nil || string(buf[:n]) != "echo me" {
			t.Errorf("echo → %q, %v", buf[:n], err)
		}
		if err := win32.CloseHandle(h); err != nil {
			t.Fatal(err)
		}
		line, _ := out.ReadString('\n')
		if !strings.HasPrefix(line, "bye 3 ") {
			t.Errorf("msgserver said %q at the end; stderr %s", line, stderr)
		}
		if err := cmd.Wait(); err != nil {
			t.Errorf("msgserver: %v; stderr %s", err, stderr)
		}
	})

	t.Run("CClient", func(t *testing.T) {
		name := `\\.\pipe\` + uniq(t)
		h, err := win32.CreateNamedPipe(name, win32.PIPE_ACCESS_DUPLEX,
			win32.PIPE_TYPE_MESSAGE|win32.PIPE_READMODE_MESSAGE|win32.PIPE_WAIT, 1, 4096, 4096, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer win32.CloseHandle(h)
		cmd, out, stderr := startC(t, filepath.Join(dir, "msgclient.exe"), name, strconv.Itoa(os.Getpid()))
		if err := win32.ConnectNamedPipe(h); err != nil {
			t.Fatal(err)
		}
		// Answer each message M with "re:" M, reading it whole through
		// ERROR_MORE_DATA; a zero-length message with a zero-length one.
		buf := make([]byte, 100)
		for {
			var msg []byte
			for {
				n, err := win32.ReadFile(h, buf)
				msg = append(msg, buf[:n]...)
				if err == win32.ERROR_MORE_DATA {
					continue
				}
				if err == win32.ERROR_BROKEN_PIPE {
					msg = nil
					goto done
				}
				if err != nil {
					t.Fatal(err)
				}
				break
			}
			reply := []byte{}
			if len(msg) > 0 {
				reply = append([]byte("re:"), msg...)
			}
			if _, err := win32.WriteFile(h, reply); err != nil {
				t.Fatal(err)
			}
		}
	done:
		line, _ := out.ReadString('\n')
		if !strings.HasPrefix(line, "ok ") {
			t.Errorf("msgclient said %q; stderr %s", line, stderr)
		}
		if err := cmd.Wait(); err != nil {
			t.Errorf("msgclient: %v; stderr %s", err, stderr)
		}
	})
}

func TestInteropMailslot(t *testing.T) {
	dir := interopBin(t, "mailslot", "msclient")
	name := `\\.\mailslot\` + uniq(t)
	h, err := win32.CreateMailslot(name, 400, win32.MAILSLOT_WAIT_FOREVER, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer win32.CloseHandle(h)
	// It stays alive, waiting for a go-ahead on stdin, while the test
	// reads (under Wine, a mailslot whose writer has exited reports
	// ERROR_BROKEN_PIPE instead of its queued messages).
	_, out, stderr := startC(t, filepath.Join(dir, "msclient.exe"), name, "400")
	var got []string
	buf := make([]byte, 400)
	for len(got) < 5 {
		n, err := win32.ReadFile(h, buf)
		if err == win32.ERROR_BROKEN_PIPE && underWine() && len(got) == 2 {
			err = nil // Wine 8 reads a zero-length message as ERROR_BROKEN_PIPE
		}
		if err != nil {
			t.Fatalf("ReadFile after %q: %v; msclient: %s", got, err, stderr)
		}
		got = append(got, string(buf[:n]))
	}
	want := []string{"one", "two", "", strings.Repeat("x", 300), "last"}
	for i := range want {
		if i == 3 {
			if len(got[3]) != 300 || got[3][25] != 'z' {
				t.Errorf("message 4 = %d bytes", len(got[3]))
			}
			continue
		}
		if got[i] != want[i] {
			t.Errorf("message %d = %q, want %q", i+1, got[i], want[i])
		}
	}
	if line, _ := out.ReadString('\n'); strings.TrimSpace(line) != "sent" {
		t.Errorf("msclient said %q", line)
	}
}

// TestInteropMessages: a facade window reached by a C program's
// FindWindowEx + SendMessage/PostMessage, and a C program's window reached
// by the facade's FindWindow, SendMessage, SendCopyData and PostMessage.
func TestInteropMessages(t *testing.T) {
	dir := interopBin(t, "msgq", "msgsend", "msgwin")

	t.Run("CSender", func(t *testing.T) {
		title := uniq(t)
		class := "XipcInterop-" + title
		var copied string
		proc := func(hwnd win32.HWND, msg uint32, w, l uintptr) uintptr {
			switch msg {
			case win32.WM_USER + 1:
				return w + l
			case win32.WM_COPYDATA:
				tag, data, _ := win32.CopyData(l)
				copied = string(data)
				return tag + uintptr(len(data))
			}
			return win32.DefWindowProc(hwnd, msg, w, l)
		}
		if err := win32.RegisterClass(&win32.WNDCLASS{LpfnWndProc: proc, LpszClassName: class}); err != nil {
			t.Fatal(err)
		}
		runtime.LockOSThread() // the window's messages come to this thread
		defer runtime.UnlockOSThread()
		h, err := win32.CreateWindowEx(0, class, title, 0, 0, 0, 0, 0, win32.HWND_MESSAGE, 0, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer win32.DestroyWindow(h)
		cmd, out, stderr := startC(t, filepath.Join(dir, "msgsend.exe"), title)
		var m win32.MSG
		ok, err := win32.GetMessage(&m, h, 0, 0) // the sent ones are handled inside
		if err != nil || !ok || m.Message != win32.WM_USER+2 || m.WParam != 1 || m.LParam != 2 {
			t.Fatalf("GetMessage = %v, %v, %+v; want WM_USER+2 1 2", ok, err, m)
		}
		var lines []string
		for {
			line, err := out.ReadString('\n')
			if err != nil {
				break
			}
			lines = append(lines, strings.TrimSpace(line))
		}
		want := []string{"send 42", "copydata 19", "posted"} // 7 + len("hello from C")
		if strings.Join(lines, "|") != strings.Join(want, "|") || copied != "hello from C" {
			t.Errorf("msgsend said %q (copied %q), want %q; stderr %s", lines, copied, want, stderr)
		}
		if err := cmd.Wait(); err != nil {
			t.Errorf("msgsend: %v", err)
		}
	})

	t.Run("CWindow", func(t *testing.T) {
		title := uniq(t)
		cmd, out, stderr := startC(t, filepath.Join(dir, "msgwin.exe"), title)
		if line, _ := out.ReadString('\n'); strings.TrimSpace(line) != "ready" {
			t.Fatalf("msgwin said %q; stderr %s", line, stderr)
		}
		h, err := win32.FindWindow("", title)
		if err != nil {
			t.Fatal(err)
		}
		r, err := win32.SendMessage(h, win32.WM_USER+1, 20, 22)
		if err != nil || r != 42 {
			t.Errorf("SendMessage = %d, %v; want 42", r, err)
		}
		if line, _ := out.ReadString('\n'); !strings.HasPrefix(line, "sent 0x0401 20 22") {
			t.Errorf("msgwin said %q", line)
		}
		r, err = win32.SendCopyData(h, 7, []byte("abc"))
		if err != nil || r != 7+'a'+'b'+'c' {
			t.Errorf("SendCopyData = %d, %v; want %d", r, err, 7+'a'+'b'+'c')
		}
		if line, _ := out.ReadString('\n'); !strings.HasPrefix(line, "copydata 3 301") {
			t.Errorf("msgwin said %q", line)
		}
		if err := win32.PostMessage(h, win32.WM_USER+2, 1, 2); err != nil {
			t.Fatal(err)
		}
		if line, _ := out.ReadString('\n'); !strings.HasPrefix(line, "posted 0x0402 1 2") {
			t.Errorf("msgwin said %q", line)
		}
		if err := win32.PostMessage(h, win32.WM_QUIT, 0, 0); err != nil {
			t.Fatal(err)
		}
		if line, _ := out.ReadString('\n'); strings.TrimSpace(line) != "quit" {
			t.Errorf("msgwin said %q", line)
		}
		if err := cmd.Wait(); err != nil {
			t.Errorf("msgwin: %v; stderr %s", err, stderr)
		}
	})
}

// TestInteropFileMapping: a mapping made with the facade, opened and
// written by a C program through the raw API, and the other way round.
func TestInteropFileMapping(t *testing.T) {
	dir := interopBin(t, "shm", "win32peer")
	pattern := func(at, seed uint64) byte { return byte((at*31 + seed*17 + at/256) % 251) }
	cmd := exec.Command(filepath.Join(dir, "win32peer.exe"))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	outp, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	}()
	out := bufio.NewReader(outp)
	do := func(line string) string {
		t.Helper()
		if _, err := stdin.Write([]byte(line + "\n")); err != nil {
			t.Fatal(err)
		}
		s, err := out.ReadString('\n')
		if err != nil {
			t.Fatalf("win32peer: %v; stderr %s", err, stderr.String())
		}
		return strings.TrimSpace(s)
	}

	name := `Local\` + uniq(t)
	h, err := win32.CreateFileMapping(win32.INVALID_HANDLE_VALUE, nil, win32.PAGE_READWRITE, 0, 128<<10, name)
	if err != nil {
		t.Fatal(err)
	}
	defer win32.CloseHandle(h)
	v, err := win32.MapViewOfFile(h, win32.FILE_MAP_ALL_ACCESS, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer win32.UnmapViewOfFile(v)
	if got := do("open " + name + " rw"); !strings.HasPrefix(got, "ok ") {
		t.Fatalf("open: %q", got)
	}
	if got := do("write 70000 100 3"); got != "ok" {
		t.Fatalf("write: %q", got)
	}
	for i := uint64(70000); i < 70100; i++ {
		if v[i] != pattern(i, 3) {
			t.Fatalf("byte %d = %d, want %d", i, v[i], pattern(i, 3))
		}
	}
	for i := uint64(10); i < 60; i++ {
		v[i] = pattern(i, 5)
	}
	if got := do("check 10 50 5"); got != "ok" {
		t.Errorf("check: %q", got)
	}
	if got := do("view 4096"); got != "err "+strconv.Itoa(int(win32.ERROR_MAPPED_ALIGNMENT)) {
		t.Errorf("view at 4096: %q", got)
	}
	if got := do("close"); got != "ok" {
		t.Errorf("close: %q", got)
	}

	// The other way: the C program creates, the facade opens.
	name2 := `Local\` + uniq(t) + "-c"
	if got := do("create " + name2 + " 65536"); !strings.HasPrefix(got, "created ") {
		t.Fatalf("create: %q", got)
	}
	if got := do("write 0 64 9"); got != "ok" {
		t.Fatalf("write: %q", got)
	}
	h2, err := win32.OpenFileMapping(win32.FILE_MAP_READ, false, name2)
	if err != nil {
		t.Fatal(err)
	}
	defer win32.CloseHandle(h2)
	v2, err := win32.MapViewOfFile(h2, win32.FILE_MAP_READ, 0, 0, 64)
	if err != nil {
		t.Fatal(err)
	}
	defer win32.UnmapViewOfFile(v2)
	for i := uint64(0); i < 64; i++ {
		if v2[i] != pattern(i, 9) {
			t.Fatalf("byte %d = %d, want %d", i, v2[i], pattern(i, 9))
		}
	}
	_, err = win32.CreateMutex(nil, false, name2)
	if !errors.Is(err, win32.ERROR_INVALID_HANDLE) {
		t.Errorf("CreateMutex on the C program's mapping name: %v, want ERROR_INVALID_HANDLE", err)
	}
}
