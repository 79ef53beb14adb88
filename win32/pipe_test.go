package win32_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/xipc/xipc"
	"github.com/xipc/xipc/win32"
)

// wantErr checks that err is the Errno want.
func wantErr(t *testing.T, what string, err error, want win32.Errno) {
	t.Helper()
	var got win32.Errno
	if want == 0 {
		if err != nil {
			t.Fatalf("%s: %v, want success", what, err)
		}
		return
	}
	if !errors.As(err, &got) || got != want {
		t.Fatalf("%s: %v, want %v", what, err, want)
	}
	if win32.GetLastError() != want {
		t.Errorf("%s: GetLastError() = %d, want %d", what, win32.GetLastError(), want)
	}
}

// wantAnswer checks a peer's answer.
func wantAnswer(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: peer answered %q, want %q", what, got, want)
	}
	for i := range want {
		if want[i] != "*" && got[i] != want[i] {
			t.Fatalf("%s: peer answered %q, want %q", what, got, want)
		}
	}
}

func code(e win32.Errno) string { return strconv.FormatUint(uint64(e), 10) }

func createPipe(t *testing.T, name string, mode, instances uint32) win32.HANDLE {
	t.Helper()
	h, err := win32.CreateNamedPipe(name, win32.PIPE_ACCESS_DUPLEX, mode, instances, 4096, 4096, 0, nil)
	if err != nil {
		t.Fatalf("CreateNamedPipe(%s): %v", name, err)
	}
	return h
}

// TestMessagePipe: a message pipe between this process (server) and a
// peer (client): ERROR_MORE_DATA in both directions, PeekNamedPipe, the
// client's PID, ERROR_PIPE_BUSY, ERROR_BROKEN_PIPE and ERROR_NO_DATA.
func TestMessagePipe(t *testing.T) {
	name := `\\.\pipe\` + uniq(t)
	p := startPeer(t)
	wantAnswer(t, "CreateFile before the pipe exists", p.do("createfile %s rw", name), "*", code(win32.ERROR_FILE_NOT_FOUND))

	h := createPipe(t, name, win32.PIPE_TYPE_MESSAGE|win32.PIPE_READMODE_MESSAGE, 1)
	defer win32.CloseHandle(h)
	_, err := win32.CreateNamedPipe(name, win32.PIPE_ACCESS_DUPLEX, win32.PIPE_TYPE_MESSAGE|win32.PIPE_READMODE_MESSAGE, 1, 0, 0, 0, nil)
	wantErr(t, "a second instance past maxInstances 1", err, win32.ERROR_PIPE_BUSY)
	if !errors.Is(err, xipc.ErrBusy) {
		t.Errorf("ERROR_PIPE_BUSY does not match xipc.ErrBusy")
	}

	ans := p.do("createfile %s rw", name)
	wantAnswer(t, "CreateFile", ans, "*", "0")
	ch := ans[0]
	wantErr(t, "ConnectNamedPipe", win32.ConnectNamedPipe(h), 0)
	pid, err := win32.GetNamedPipeClientProcessId(h)
	if err != nil || int(pid) != p.pid() {
		t.Errorf("GetNamedPipeClientProcessId = %d, %v; want %d", pid, err, p.pid())
	}
	wantAnswer(t, "SetNamedPipeHandleState", p.do("setmsg %s", ch), "0")

	// A second client: every instance is taken.
	p2 := startPeer(t)
	wantAnswer(t, "CreateFile of a busy pipe", p2.do("createfile %s rw", name), "*", code(win32.ERROR_PIPE_BUSY))
	wantAnswer(t, "WaitNamedPipe of a busy pipe", p2.do("waitpipe %s 100", name), code(win32.ERROR_SEM_TIMEOUT))

	wantAnswer(t, "WriteFile", p.do("write %s %s", ch, quote("hello, server")), "13", "0")
	buf := make([]byte, 64)
	r, avail, left, err := win32.PeekNamedPipe(h, buf[:5])
	for err == nil && avail == 0 { // the message is on its way
		r, avail, left, err = win32.PeekNamedPipe(h, buf[:5])
	}
	if err != nil || r != 5 || avail != 13 || left != 8 || string(buf[:5]) != "hello" {
		t.Errorf("PeekNamedPipe = %d %d %d %v %q; want 5 13 8 nil hello", r, avail, left, err, buf[:5])
	}
	n, err := win32.ReadFile(h, buf[:8])
	wantErr(t, "ReadFile with an 8-byte buffer", err, win32.ERROR_MORE_DATA)
	if n != 8 || string(buf[:n]) != "hello, s" {
		t.Errorf("ReadFile = %d %q", n, buf[:n])
	}
	n, err = win32.ReadFile(h, buf)
	if err != nil || string(buf[:n]) != "erver" {
		t.Errorf("ReadFile of the rest = %q, %v", buf[:n], err)
	}

	if n, err := win32.WriteFile(h, []byte("the reply, long")); err != nil || n != 15 {
		t.Fatalf("WriteFile = %d, %v", n, err)
	}
	wantAnswer(t, "ReadFile with a 4-byte buffer", p.do("read %s 4", ch), "4", "the ", code(win32.ERROR_MORE_DATA))
	wantAnswer(t, "ReadFile of the rest", p.do("read %s 64", ch), "11", "reply, long", "0")
	if _, err := win32.WriteFile(h, nil); err != nil {
		t.Fatalf("WriteFile of a zero-length message: %v", err)
	}
	wantAnswer(t, "ReadFile of a zero-length message", p.do("read %s 64", ch), "0", "", "0")

	// The client goes: reads fail ERROR_BROKEN_PIPE, writes ERROR_NO_DATA.
	wantAnswer(t, "CloseHandle", p.do("close %s", ch), "0")
	_, err = win32.ReadFile(h, buf)
	wantErr(t, "ReadFile after the client closed", err, win32.ERROR_BROKEN_PIPE)
	if !errors.Is(err, xipc.ErrBrokenPipe) {
		t.Errorf("ERROR_BROKEN_PIPE does not match xipc.ErrBrokenPipe")
	}
	_, err = win32.WriteFile(h, []byte("anyone?"))
	wantErr(t, "WriteFile after the client closed", err, win32.ERROR_NO_DATA)

	// DisconnectNamedPipe; then ConnectNamedPipe makes the instance free for
	// the next client, which WaitNamedPipe sees.
	wantErr(t, "DisconnectNamedPipe", win32.DisconnectNamedPipe(h), 0)
	_, err = win32.ReadFile(h, buf)
	wantErr(t, "ReadFile of a disconnected instance", err, win32.ERROR_PIPE_NOT_CONNECTED)
	connected := make(chan error, 1)
	go func() { connected <- win32.ConnectNamedPipe(h) }()
	wantAnswer(t, "WaitNamedPipe of a free instance", p2.do("waitpipe %s 5000", name), "0")
	ans = p2.do("createfile %s rw", name)
	wantAnswer(t, "CreateFile after WaitNamedPipe", ans, "*", "0")
	wantErr(t, "ConnectNamedPipe again", <-connected, 0)
	wantAnswer(t, "WriteFile by the second client", p2.do("write %s two", ans[0]), "3", "0")
	n, err = win32.ReadFile(h, buf)
	if err != nil || string(buf[:n]) != "two" {
		t.Errorf("ReadFile from the second client = %q, %v", buf[:n], err)
	}

	// The client is killed: ERROR_BROKEN_PIPE, no hang.
	p2.kill()
	_, err = win32.ReadFile(h, buf)
	wantErr(t, "ReadFile after the client was killed", err, win32.ERROR_BROKEN_PIPE)

	wantErr(t, "CloseHandle", win32.CloseHandle(h), 0)
	// (Closing h again is not tested: Windows may have given its value to a
	// new handle already, as the runtime opens handles of its own.)
	wantErr(t, "CloseHandle of a handle never opened", win32.CloseHandle(0x7fff0000), win32.ERROR_INVALID_HANDLE)
	wantAnswer(t, "CreateFile after the server closed", p.do("createfile %s rw", name), "*", code(win32.ERROR_FILE_NOT_FOUND))
}

// TestBytePipe: a client's handle starts in byte read mode, which joins
// messages; PIPE_READMODE_MESSAGE needs a message pipe.
func TestBytePipe(t *testing.T) {
	name := `\\.\pipe\` + uniq(t)
	h := createPipe(t, name, win32.PIPE_TYPE_BYTE, win32.PIPE_UNLIMITED_INSTANCES)
	defer win32.CloseHandle(h)
	p := startPeer(t)
	ans := p.do("createfile %s rw", name)
	wantAnswer(t, "CreateFile", ans, "*", "0")
	wantErr(t, "ConnectNamedPipe", win32.ConnectNamedPipe(h), 0)
	wantAnswer(t, "PIPE_READMODE_MESSAGE on a byte pipe", p.do("setmsg %s", ans[0]), code(win32.ERROR_INVALID_PARAMETER))
	for _, s := range []string{"abc", "def"} {
		if _, err := win32.WriteFile(h, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	got := ""
	for len(got) < 6 {
		a := p.do("read %s 64", ans[0])
		wantAnswer(t, "ReadFile", a, "*", "*", "0")
		got += a[1]
	}
	if got != "abcdef" {
		t.Errorf("byte reads = %q, want abcdef", got)
	}
	wantAnswer(t, "CloseHandle", p.do("close %s", ans[0]), "0")
}

// TestTransact: TransactNamedPipe and CallNamedPipe against a server in
// this process.
func TestTransact(t *testing.T) {
	name := `\\.\pipe\` + uniq(t)
	h := createPipe(t, name, win32.PIPE_TYPE_MESSAGE|win32.PIPE_READMODE_MESSAGE, 1)
	defer win32.CloseHandle(h)
	p := startPeer(t)
	p.send("call %s %s 4 5000", name, quote("question"))
	wantErr(t, "ConnectNamedPipe", win32.ConnectNamedPipe(h), 0)
	buf := make([]byte, 64)
	n, err := win32.ReadFile(h, buf)
	if err != nil || string(buf[:n]) != "question" {
		t.Fatalf("ReadFile = %q, %v", buf[:n], err)
	}
	if _, err := win32.WriteFile(h, []byte("answer")); err != nil {
		t.Fatal(err)
	}
	wantAnswer(t, "CallNamedPipe with a 4-byte buffer", p.answer(), "4", "answ", code(win32.ERROR_MORE_DATA))
	win32.DisconnectNamedPipe(h)

	// TransactNamedPipe from this process's own client.
	connected := make(chan error, 1)
	go func() { connected <- win32.ConnectNamedPipe(h) }()
	if err := win32.WaitNamedPipe(name, win32.NMPWAIT_WAIT_FOREVER); err != nil {
		t.Fatal(err)
	}
	c, err := win32.CreateFile(name, win32.GENERIC_READ|win32.GENERIC_WRITE, 0, nil, win32.OPEN_EXISTING, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer win32.CloseHandle(c)
	wantErr(t, "ConnectNamedPipe", <-connected, 0)
	_, err = win32.TransactNamedPipe(c, []byte("x"), buf)
	wantErr(t, "TransactNamedPipe in byte read mode", err, win32.ERROR_BAD_PIPE)
	if err := win32.SetNamedPipeHandleState(c, win32.PIPE_READMODE_MESSAGE); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		b := make([]byte, 64)
		n, err := win32.ReadFile(h, b)
		if err == nil {
			_, err = win32.WriteFile(h, append([]byte("re: "), b[:n]...))
		}
		done <- err
	}()
	n, err = win32.TransactNamedPipe(c, []byte("ping"), buf)
	if err != nil || string(buf[:n]) != "re: ping" {
		t.Errorf("TransactNamedPipe = %q, %v", buf[:n], err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestPipeBadArguments(t *testing.T) {
	name := `\\.\pipe\` + uniq(t)
	h := createPipe(t, name, win32.PIPE_TYPE_MESSAGE, 2)
	defer win32.CloseHandle(h)
	if !underWine() { // Wine 8 ignores FILE_FLAG_FIRST_PIPE_INSTANCE and accepts 0 instances
		_, err := win32.CreateNamedPipe(name, win32.PIPE_ACCESS_DUPLEX|win32.FILE_FLAG_FIRST_PIPE_INSTANCE, win32.PIPE_TYPE_MESSAGE, 2, 0, 0, 0, nil)
		wantErr(t, "FILE_FLAG_FIRST_PIPE_INSTANCE on an existing pipe", err, win32.ERROR_ACCESS_DENIED)
		_, err = win32.CreateNamedPipe(`\\.\pipe\`+uniq(t), win32.PIPE_ACCESS_DUPLEX, win32.PIPE_TYPE_MESSAGE, 0, 0, 0, 0, nil)
		wantErr(t, "maxInstances 0", err, win32.ERROR_INVALID_PARAMETER)
	}
	if h, err := win32.CreateNamedPipe(`\\.\pipe\`+strings.Repeat("x", 300), win32.PIPE_ACCESS_DUPLEX, 0, 1, 0, 0, 0, nil); err == nil {
		win32.CloseHandle(h)
		t.Fatal("a 300-character name was accepted")
	}
	_, err := win32.ReadFile(win32.HANDLE(12345), make([]byte, 1))
	wantErr(t, "ReadFile of a bad handle", err, win32.ERROR_INVALID_HANDLE)
	if !errors.Is(err, xipc.ErrClosed) {
		t.Errorf("ERROR_INVALID_HANDLE does not match xipc.ErrClosed")
	}
	wantErr(t, "WaitNamedPipe of a missing pipe", win32.WaitNamedPipe(`\\.\pipe\`+uniq(t), 100), win32.ERROR_FILE_NOT_FOUND)
	_, err = win32.CallNamedPipe(`\\.\pipe\`+uniq(t), nil, nil, 100)
	wantErr(t, "CallNamedPipe of a missing pipe", err, win32.ERROR_FILE_NOT_FOUND)
}
