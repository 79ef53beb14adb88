package win32_test

import (
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/xipc/xipc/win32"
)

// TestWindowMessages: a message-only window with a message loop in this
// process; a peer process finds it by title and posts, sends and sends data.
func TestWindowMessages(t *testing.T) {
	title := uniq(t)
	class := "XipcTestClass-" + title
	type got struct {
		msg  uint32
		w, l uintptr
		data string
	}
	var (
		mu     sync.Mutex
		calls  []got
		posted []got
	)
	proc := func(hwnd win32.HWND, msg uint32, w, l uintptr) uintptr {
		switch {
		case msg == win32.WM_COPYDATA:
			tag, data, ok := win32.CopyData(l)
			if !ok {
				return 0
			}
			mu.Lock()
			calls = append(calls, got{msg, w, tag, string(data)})
			mu.Unlock()
			return uintptr(len(data))
		case msg >= win32.WM_USER:
			mu.Lock()
			calls = append(calls, got{msg, w, l, ""})
			mu.Unlock()
			return w + l
		}
		return win32.DefWindowProc(hwnd, msg, w, l)
	}
	if err := win32.RegisterClass(&win32.WNDCLASS{LpfnWndProc: proc, LpszClassName: class}); err != nil {
		t.Fatal(err)
	}
	err := win32.RegisterClass(&win32.WNDCLASS{LpfnWndProc: proc, LpszClassName: class})
	wantErr(t, "RegisterClass twice", err, win32.ERROR_CLASS_ALREADY_EXISTS)

	// The window lives on one goroutine (one thread, on Windows): create,
	// loop until WM_QUIT, then wait to be told to destroy it.
	hwndc := make(chan win32.HWND, 1)
	loopDone := make(chan error, 1)
	destroy := make(chan struct{})
	destroyed := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		h, err := win32.CreateWindowEx(0, class, title, 0, 0, 0, 0, 0, win32.HWND_MESSAGE, 0, 0, 0)
		if err != nil {
			loopDone <- err
			hwndc <- 0
			return
		}
		hwndc <- h
		var m win32.MSG
		for {
			ok, err := win32.GetMessage(&m, h, 0, 0)
			if err != nil {
				loopDone <- err
				break
			}
			if !ok {
				loopDone <- nil
				break
			}
			mu.Lock()
			posted = append(posted, got{m.Message, m.WParam, m.LParam, ""})
			mu.Unlock()
			win32.TranslateMessage(&m)
			win32.DispatchMessage(&m)
		}
		<-destroy
		destroyed <- win32.DestroyWindow(h)
	}()
	h := <-hwndc
	if h == 0 {
		t.Fatal(<-loopDone)
	}

	p := startPeer(t)
	wantAnswer(t, "FindWindow of a missing title", p.do("findwindow %s", quote(title+"-missing")), "0", code(win32.ERROR_FILE_NOT_FOUND))
	ans := p.do("findwindow %s", quote(title))
	wantAnswer(t, "FindWindow", ans, "*", "0")
	ph := ans[0]
	wantAnswer(t, "PostMessage", p.do("post %s %d 20 22", ph, win32.WM_USER+1), "0")
	wantAnswer(t, "SendMessageTimeout", p.do("send %s %d 3 4 10000", ph, win32.WM_USER+2), "7", "0")
	wantAnswer(t, "SendCopyData", p.do("senddata %s 9 %s", ph, quote("hello")), "5", "0")
	wantAnswer(t, "PostMessage of WM_COPYDATA", p.do("post %s %d 0 0", ph, win32.WM_COPYDATA), code(win32.ERROR_MESSAGE_SYNC_ONLY))
	wantAnswer(t, "PostMessage WM_QUIT", p.do("post %s %d 0 0", ph, win32.WM_QUIT), "0")
	if err := <-loopDone; err != nil {
		t.Fatalf("message loop: %v", err)
	}
	// Nobody runs the loop now: a send times out, and is not delivered.
	wantAnswer(t, "SendMessageTimeout to a window nobody serves", p.do("send %s %d 1 1 200", ph, win32.WM_USER+3), "0", code(win32.ERROR_TIMEOUT))
	close(destroy)
	if err := <-destroyed; err != nil {
		t.Fatalf("DestroyWindow: %v", err)
	}
	wantAnswer(t, "PostMessage to a destroyed window", p.do("post %s %d 0 0", ph, win32.WM_USER+1), code(win32.ERROR_INVALID_WINDOW_HANDLE))

	mu.Lock()
	defer mu.Unlock()
	// GetMessage returned the posted message (and false for WM_QUIT); the
	// procedure got it from DispatchMessage, and the sent ones directly.
	if len(posted) != 1 || posted[0] != (got{win32.WM_USER + 1, 20, 22, ""}) {
		t.Errorf("GetMessage returned %+v", posted)
	}
	// Sent messages are handled before posted ones that still wait, so
	// the posted one may come before or after the sent one.
	want := []got{{win32.WM_USER + 1, 20, 22, ""}, {win32.WM_USER + 2, 3, 4, ""}, {win32.WM_COPYDATA, 0, 9, "hello"}}
	if len(calls) != len(want) {
		t.Fatalf("the window procedure got %+v, want %+v in any order", calls, want)
	}
	for _, w := range want {
		found := false
		for _, c := range calls {
			if c.msg == w.msg && c.l == w.l && c.data == w.data && (w.msg == win32.WM_COPYDATA || c.w == w.w) {
				found = true
			}
		}
		if !found {
			t.Errorf("the window procedure got %+v, want %+v in any order", calls, want)
		}
	}
}

func TestRegisterWindowMessage(t *testing.T) {
	name := uniq(t)
	a, err := win32.RegisterWindowMessage(name)
	if err != nil || a < 0xC000 || a > 0xFFFF {
		t.Fatalf("RegisterWindowMessage = %#x, %v", a, err)
	}
	p := startPeer(t)
	wantAnswer(t, "RegisterWindowMessage in another process", p.do("regmsg %s", quote(name)), strconv.Itoa(int(a)), "0")
	_, err = win32.RegisterWindowMessage("")
	wantErr(t, "RegisterWindowMessage of \"\"", err, win32.ERROR_INVALID_PARAMETER)
}
