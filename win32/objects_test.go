package win32_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/xipc/xipc"
	"github.com/xipc/xipc/win32"
)

func TestMailslot(t *testing.T) {
	name := `\\.\mailslot\` + uniq(t)
	p := startPeer(t)
	wantAnswer(t, "CreateFile of a missing slot", p.do("slotwrite %s x", name), code(win32.ERROR_FILE_NOT_FOUND))
	h, err := win32.CreateMailslot(name, 16, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer win32.CloseHandle(h)
	_, err = win32.CreateMailslot(name, 0, 0, nil)
	wantErr(t, "CreateMailslot of an existing name", err, win32.ERROR_ALREADY_EXISTS)
	if !errors.Is(err, xipc.ErrExists) {
		t.Errorf("ERROR_ALREADY_EXISTS does not match xipc.ErrExists")
	}

	max, next, count, timeout, err := win32.GetMailslotInfo(h)
	if err != nil || max != 16 || next != win32.MAILSLOT_NO_MESSAGE || count != 0 || timeout != 0 {
		t.Errorf("GetMailslotInfo of an empty slot = %d %#x %d %d %v", max, next, count, timeout, err)
	}
	buf := make([]byte, 64)
	_, err = win32.ReadFile(h, buf)
	wantErr(t, "ReadFile of an empty slot", err, win32.ERROR_SEM_TIMEOUT)

	wantAnswer(t, "WriteFile", p.do("slotwrite %s %s", name, quote("twelve bytes")), "0")
	wantAnswer(t, "WriteFile", p.do("slotwrite %s two", name), "0")
	if !underWine() { // Wine 8 delivers it, and counts at most one message
		wantAnswer(t, "WriteFile past the maximum", p.do("slotwrite %s %s", name, quote(strings.Repeat("x", 17))), code(win32.ERROR_INVALID_PARAMETER))
		_, next, count, _, err = win32.GetMailslotInfo(h)
		if err != nil || next != 12 || count != 2 {
			t.Errorf("GetMailslotInfo = next %d, count %d, %v; want 12, 2", next, count, err)
		}
	}
	if !underWine() { // Wine 8 truncates the message instead
		_, err = win32.ReadFile(h, buf[:4])
		wantErr(t, "ReadFile with a short buffer", err, win32.ERROR_INSUFFICIENT_BUFFER)
	}
	n, err := win32.ReadFile(h, buf)
	if err != nil || string(buf[:n]) != "twelve bytes" {
		t.Errorf("ReadFile = %q, %v", buf[:n], err)
	}
	if err := win32.SetMailslotInfo(h, 50); err != nil {
		t.Fatal(err)
	}
	if _, _, _, timeout, _ := win32.GetMailslotInfo(h); timeout != 50 {
		t.Errorf("read timeout after SetMailslotInfo(50) = %d", timeout)
	}
	n, err = win32.ReadFile(h, buf)
	if err != nil || string(buf[:n]) != "two" {
		t.Errorf("ReadFile = %q, %v", buf[:n], err)
	}
	_, err = win32.ReadFile(h, buf)
	wantErr(t, "ReadFile after the read timeout", err, win32.ERROR_SEM_TIMEOUT)
	_, err = win32.WriteFile(h, []byte("x"))
	if err == nil {
		t.Errorf("WriteFile on the reading handle succeeded")
	}
	wantErr(t, "CloseHandle", win32.CloseHandle(h), 0)
	wantAnswer(t, "CreateFile after the slot closed", p.do("slotwrite %s x", name), code(win32.ERROR_FILE_NOT_FOUND))
}

func TestFileMapping(t *testing.T) {
	name := uniq(t)
	p := startPeer(t)
	wantAnswer(t, "OpenFileMapping of a missing name", p.do("mapwrite %s 0 x", name), code(win32.ERROR_FILE_NOT_FOUND))
	_, err := win32.CreateFileMapping(win32.INVALID_HANDLE_VALUE, nil, win32.PAGE_READWRITE, 0, 0, name)
	wantErr(t, "CreateFileMapping of size 0", err, win32.ERROR_INVALID_PARAMETER)

	h, err := win32.CreateFileMapping(win32.INVALID_HANDLE_VALUE, nil, win32.PAGE_READWRITE, 0, 128<<10, name)
	if err != nil {
		t.Fatal(err)
	}
	defer win32.CloseHandle(h)
	if win32.GetLastError() != win32.ERROR_SUCCESS {
		t.Errorf("GetLastError after creating = %v", win32.GetLastError())
	}
	h2, err := win32.CreateFileMapping(win32.INVALID_HANDLE_VALUE, nil, win32.PAGE_READWRITE, 0, 4096, name)
	if err != nil || win32.GetLastError() != win32.ERROR_ALREADY_EXISTS {
		t.Errorf("CreateFileMapping of an existing name: %v, GetLastError %v", err, win32.GetLastError())
	}
	win32.CloseHandle(h2)

	v, err := win32.MapViewOfFile(h, win32.FILE_MAP_ALL_ACCESS, 0, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(v) < 128<<10 {
		t.Errorf("view of %d bytes", len(v))
	}
	wantAnswer(t, "a write through another process's view", p.do("mapwrite %s 100 %s", name, quote("from the peer")), "0")
	if got := string(v[100:113]); got != "from the peer" {
		t.Errorf("view holds %q", got)
	}
	_, err = win32.MapViewOfFile(h, win32.FILE_MAP_READ, 0, 4096, 0)
	wantErr(t, "MapViewOfFile at offset 4096", err, win32.ERROR_MAPPED_ALIGNMENT)
	v2, err := win32.MapViewOfFile(h, win32.FILE_MAP_READ, 0, 64<<10, 4096)
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, "UnmapViewOfFile", win32.UnmapViewOfFile(v2), 0)
	wantErr(t, "UnmapViewOfFile", win32.UnmapViewOfFile(v), 0)

	// The name belongs to a mapping: a mutex of that name is refused.
	_, err = win32.CreateMutex(nil, false, name)
	wantErr(t, "CreateMutex on a mapping's name", err, win32.ERROR_INVALID_HANDLE)
}

func TestSyncObjects(t *testing.T) {
	name := uniq(t)
	p := startPeer(t)
	ans := p.do("mutex %s", name)
	wantAnswer(t, "CreateMutex(initialOwner)", ans, "*", "0")
	m, err := win32.CreateMutex(nil, false, name)
	if err != nil || win32.GetLastError() != win32.ERROR_ALREADY_EXISTS {
		t.Fatalf("CreateMutex of an existing name: %v, GetLastError %v", err, win32.GetLastError())
	}
	defer win32.CloseHandle(m)
	ev, err := win32.WaitForSingleObject(m, 50)
	if err != nil || ev != win32.WAIT_TIMEOUT {
		t.Errorf("WaitForSingleObject of a mutex another process owns = %#x, %v", ev, err)
	}
	wantErr(t, "ReleaseMutex not owned", win32.ReleaseMutex(m), win32.ERROR_NOT_OWNER)

	p.kill() // dies holding the mutex
	ev, err = win32.WaitForSingleObject(m, 10000)
	if err != nil || ev != win32.WAIT_ABANDONED {
		t.Fatalf("WaitForSingleObject of a mutex whose owner was killed = %#x, %v; want WAIT_ABANDONED", ev, err)
	}
	wantErr(t, "ReleaseMutex", win32.ReleaseMutex(m), 0)

	e, err := win32.CreateEvent(nil, true, false, name+"-ev")
	if err != nil {
		t.Fatal(err)
	}
	defer win32.CloseHandle(e)
	s, err := win32.CreateSemaphore(nil, 0, 2, name+"-sem")
	if err != nil {
		t.Fatal(err)
	}
	defer win32.CloseHandle(s)
	ev, err = win32.WaitForMultipleObjects([]win32.HANDLE{e, s}, false, 0)
	if err != nil || ev != win32.WAIT_TIMEOUT {
		t.Errorf("WaitForMultipleObjects of nothing signalled = %#x, %v", ev, err)
	}
	if prev, err := win32.ReleaseSemaphore(s, 2); err != nil || prev != 0 {
		t.Errorf("ReleaseSemaphore(2) = %d, %v", prev, err)
	}
	_, err = win32.ReleaseSemaphore(s, 1)
	wantErr(t, "ReleaseSemaphore past the maximum", err, win32.ERROR_TOO_MANY_POSTS)
	win32.SetEvent(e)
	ev, err = win32.WaitForMultipleObjects([]win32.HANDLE{e, s}, false, 0)
	if err != nil || ev != win32.WAIT_OBJECT_0 {
		t.Errorf("WaitForMultipleObjects = %#x, %v; want the event (0)", ev, err)
	}
	win32.ResetEvent(e)
	ev, err = win32.WaitForMultipleObjects([]win32.HANDLE{e, s}, false, 0)
	if err != nil || ev != win32.WAIT_OBJECT_0+1 {
		t.Errorf("WaitForMultipleObjects = %#x, %v; want the semaphore (1)", ev, err)
	}
	_, err = win32.WaitForMultipleObjects(nil, false, 0)
	wantErr(t, "WaitForMultipleObjects of no handles", err, win32.ERROR_INVALID_PARAMETER)
	_, err = win32.WaitForSingleObject(win32.HANDLE(4242), 0)
	wantErr(t, "WaitForSingleObject of a bad handle", err, win32.ERROR_INVALID_HANDLE)
}

func TestSockets(t *testing.T) {
	if _, err := win32.WSAStartup(win32.MAKEWORD(2, 2)); err != nil {
		t.Fatal(err)
	}
	defer win32.WSACleanup()
	l, err := win32.Socket(win32.AF_INET, win32.SOCK_STREAM, win32.IPPROTO_TCP)
	if err != nil {
		t.Fatal(err)
	}
	defer win32.Closesocket(l)
	if err := win32.Bind(l, &win32.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	sa, err := win32.Getsockname(l)
	if err != nil {
		t.Fatal(err)
	}
	port := sa.(*win32.SockaddrInet4).Port
	p := startPeer(t)
	wantAnswer(t, "connect before listen", p.do("sockconnect %d", port), "*", code(win32.WSAECONNREFUSED))
	if err := win32.Listen(l, win32.SOMAXCONN); err != nil {
		t.Fatal(err)
	}
	s2, _ := win32.Socket(win32.AF_INET, win32.SOCK_STREAM, win32.IPPROTO_TCP)
	wantErr(t, "bind of a port in use", win32.Bind(s2, &win32.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}), win32.WSAEADDRINUSE)
	win32.Closesocket(s2)

	ans := p.do("sockconnect %d", port)
	wantAnswer(t, "connect", ans, "*", "0")
	c, _, err := win32.Accept(l)
	if err != nil {
		t.Fatal(err)
	}
	defer win32.Closesocket(c)
	wantAnswer(t, "send", p.do("sendsock %s hello", ans[0]), "5", "0")
	buf := make([]byte, 64)
	n, err := win32.Recv(c, buf, 0)
	if err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("recv = %q, %v", buf[:max(n, 0)], err)
	}
	if _, err := win32.Send(c, []byte("world"), 0); err != nil {
		t.Fatal(err)
	}
	wantAnswer(t, "recv", p.do("recv %s 64", ans[0]), "5", "world", "0")
	if err := win32.Shutdown(c, win32.SD_SEND); err != nil {
		t.Fatal(err)
	}
	wantAnswer(t, "recv after the peer's shutdown", p.do("recv %s 64", ans[0]), "0", "", "0")
	wantAnswer(t, "closesocket", p.do("closesocket %s", ans[0]), "0")
	n, err = win32.Recv(c, buf, 0)
	if n != 0 || err != nil {
		t.Errorf("recv after the peer closed = %d, %v; want 0", n, err)
	}
	wantErr(t, "closesocket of a bad socket", win32.Closesocket(win32.SOCKET(4242)), win32.WSAENOTSOCK)
}

func TestErrno(t *testing.T) {
	for _, c := range []struct {
		e    win32.Errno
		is   error
		text string
	}{
		{win32.ERROR_FILE_NOT_FOUND, xipc.ErrNotFound, "ERROR_FILE_NOT_FOUND (2)"},
		{win32.ERROR_PIPE_BUSY, xipc.ErrBusy, "ERROR_PIPE_BUSY (231)"},
		{win32.ERROR_MORE_DATA, xipc.ErrMoreData, "ERROR_MORE_DATA (234)"},
		{win32.ERROR_ALREADY_EXISTS, xipc.ErrExists, "ERROR_ALREADY_EXISTS (183)"},
		{win32.ERROR_BROKEN_PIPE, xipc.ErrBrokenPipe, "ERROR_BROKEN_PIPE (109)"},
		{win32.ERROR_NO_DATA, xipc.ErrBrokenPipe, "ERROR_NO_DATA (232)"},
		{win32.ERROR_SEM_TIMEOUT, xipc.ErrTimeout, "ERROR_SEM_TIMEOUT (121)"},
		{win32.ERROR_INVALID_HANDLE, xipc.ErrClosed, "ERROR_INVALID_HANDLE (6)"},
		{win32.ERROR_NOT_OWNER, xipc.ErrNotOwner, "ERROR_NOT_OWNER (288)"},
		{win32.WSAECONNREFUSED, xipc.ErrNotFound, "WSAECONNREFUSED (10061)"},
		{win32.WSAEADDRINUSE, xipc.ErrExists, "WSAEADDRINUSE (10048)"},
	} {
		if !errors.Is(c.e, c.is) {
			t.Errorf("%v does not match %v", c.e, c.is)
		}
		if !strings.HasPrefix(c.e.Error(), c.text) {
			t.Errorf("Error() = %q, want it to start %q", c.e.Error(), c.text)
		}
		if xipc.Win32Code(c.is) != uint32(c.e) && c.e < 10000 && c.e != win32.ERROR_NO_DATA {
			t.Errorf("xipc.Win32Code(%v) = %d, want %d", c.is, xipc.Win32Code(c.is), c.e)
		}
	}
	if errors.Is(win32.ERROR_PIPE_BUSY, xipc.ErrNotFound) {
		t.Error("ERROR_PIPE_BUSY matches ErrNotFound")
	}
	if !win32.ERROR_SEM_TIMEOUT.Timeout() || win32.ERROR_PIPE_BUSY.Timeout() {
		t.Error("Timeout() is wrong")
	}
	win32.SetLastError(win32.ERROR_PIPE_BUSY)
	if win32.GetLastError() != win32.ERROR_PIPE_BUSY || win32.WSAGetLastError() != win32.ERROR_PIPE_BUSY {
		t.Error("SetLastError is not what GetLastError returns")
	}
}
