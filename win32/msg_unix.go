//go:build unix

package win32

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/msgq"
)

// Windows off Windows: a window this process creates is a msgq.Queue, a
// window it finds a msgq.Target; HWND values index this table.

type window struct {
	hwnd  HWND
	title string
	q     *msgq.Queue // a window of this process, or nil
	proc  WNDPROC
	t     *msgq.Target // for sending to it; made on first use for own windows
}

var wins = struct {
	sync.Mutex
	next    HWND
	m       map[HWND]*window
	classes map[string]WNDPROC
	found   map[string]HWND // folded title → the HWND FindWindow gave for it
	data    map[uintptr]copyData
}{
	next:    0x10000,
	m:       map[HWND]*window{},
	classes: map[string]WNDPROC{},
	found:   map[string]HWND{},
	data:    map[uintptr]copyData{},
}

type copyData struct {
	dwData uintptr
	data   []byte
}

var start = time.Now()

func addWindow(w *window) HWND {
	wins.Lock()
	defer wins.Unlock()
	wins.next += 2
	w.hwnd = wins.next
	wins.m[w.hwnd] = w
	return w.hwnd
}

func windowOf(h HWND) (*window, error) {
	wins.Lock()
	defer wins.Unlock()
	w := wins.m[h]
	if w == nil {
		return nil, ERROR_INVALID_WINDOW_HANDLE
	}
	return w, nil
}

// ownWindow returns this process's window h, or its only window for 0.
func ownWindow(h HWND) (*window, error) {
	if h != 0 {
		w, err := windowOf(h)
		if err != nil || w.q == nil {
			return nil, ERROR_INVALID_WINDOW_HANDLE
		}
		return w, nil
	}
	wins.Lock()
	defer wins.Unlock()
	var own *window
	for _, w := range wins.m {
		if w.q != nil {
			if own != nil {
				return nil, ERROR_INVALID_PARAMETER // several: say which
			}
			own = w
		}
	}
	if own == nil {
		return nil, ERROR_INVALID_WINDOW_HANDLE
	}
	return own, nil
}

// target returns the msgq.Target that reaches w.
func (w *window) target() (*msgq.Target, error) {
	wins.Lock()
	t := w.t
	wins.Unlock()
	if t != nil {
		return t, nil
	}
	t, err := msgq.Find(w.title)
	if err != nil {
		return nil, msgErr(err)
	}
	wins.Lock()
	defer wins.Unlock()
	if w.t != nil {
		t.Close()
		return w.t, nil
	}
	w.t = t
	return t, nil
}

// msgErr gives a msgq error its Win32 code: a window that is gone is
// ERROR_INVALID_WINDOW_HANDLE, a send that timed out ERROR_TIMEOUT.
func msgErr(err error) error {
	switch {
	case errors.Is(err, errs.ErrNotFound), errors.Is(err, errs.ErrClosed):
		return ERROR_INVALID_WINDOW_HANDLE
	case errors.Is(err, errs.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return ERROR_TIMEOUT
	}
	return toErrno(err)
}

func sysRegisterClass(wc *WNDCLASS) error {
	wins.Lock()
	defer wins.Unlock()
	if _, ok := wins.classes[wc.LpszClassName]; ok {
		return ERROR_CLASS_ALREADY_EXISTS
	}
	wins.classes[wc.LpszClassName] = wc.LpfnWndProc
	return nil
}

func sysCreateWindowEx(exStyle uint32, className, windowName string, style uint32, x, y, width, height int32, parent HWND, menu, instance, param uintptr) (HWND, error) {
	wins.Lock()
	proc := wins.classes[className]
	wins.Unlock()
	if proc == nil {
		return 0, ERROR_CLASS_DOES_NOT_EXIST
	}
	q, err := msgq.Register(windowName, nil)
	if err != nil {
		return 0, toErrno(err)
	}
	return addWindow(&window{title: windowName, q: q, proc: proc}), nil
}

func sysDestroyWindow(h HWND) error {
	w, err := windowOf(h)
	if err != nil {
		return err
	}
	if w.q == nil {
		return ERROR_ACCESS_DENIED // another process's window
	}
	wins.Lock()
	delete(wins.m, h)
	t := w.t
	wins.Unlock()
	if t != nil {
		t.Close()
	}
	if err := w.q.Close(); err != nil {
		return toErrno(err)
	}
	return nil
}

func sysDefWindowProc(hwnd HWND, msg uint32, wParam, lParam uintptr) uintptr { return 0 }

func sysFindWindow(className, windowName string) (HWND, error) {
	key := strings.ToLower(windowName)
	wins.Lock()
	for _, w := range wins.m {
		if w.q != nil && strings.ToLower(w.title) == key {
			wins.Unlock()
			return w.hwnd, nil
		}
	}
	old := wins.m[wins.found[key]]
	wins.Unlock()
	t, err := msgq.Find(windowName)
	if err != nil {
		if errors.Is(err, errs.ErrNotFound) {
			return 0, ERROR_FILE_NOT_FOUND
		}
		return 0, toErrno(err)
	}
	// A fresh target each time: the window of that title may be a new one.
	if old != nil {
		wins.Lock()
		ot := old.t
		old.t = t
		wins.Unlock()
		if ot != nil {
			ot.Close()
		}
		return old.hwnd, nil
	}
	h := addWindow(&window{title: windowName, t: t})
	wins.Lock()
	wins.found[key] = h
	wins.Unlock()
	return h, nil
}

func sysPostMessage(hwnd HWND, msg uint32, wParam, lParam uintptr) error {
	if msg == WM_COPYDATA {
		return ERROR_MESSAGE_SYNC_ONLY
	}
	w, err := windowOf(hwnd)
	if err != nil {
		return err
	}
	t, err := w.target()
	if err != nil {
		return err
	}
	if err := t.Post(msg, wParam, lParam); err != nil {
		return msgErr(err)
	}
	return nil
}

// sendContext is the context of a send with a Win32 timeout.
func sendContext(timeout uint32) (context.Context, context.CancelFunc) {
	if timeout == INFINITE {
		return context.Background(), func() {}
	}
	return context.WithTimeout(context.Background(), time.Duration(timeout)*time.Millisecond)
}

func sysSendMessageTimeout(hwnd HWND, msg uint32, wParam, lParam uintptr, flags, timeout uint32) (uintptr, error) {
	if msg == WM_COPYDATA {
		return 0, ERROR_INVALID_PARAMETER // the payload needs SendCopyData
	}
	w, err := windowOf(hwnd)
	if err != nil {
		return 0, err
	}
	t, err := w.target()
	if err != nil {
		return 0, err
	}
	ctx, cancel := sendContext(timeout)
	defer cancel()
	r, err := t.Send(ctx, msg, wParam, lParam)
	if err != nil {
		return 0, msgErr(err)
	}
	return r, nil
}

func sysSendCopyData(hwnd HWND, dwData uintptr, data []byte) (uintptr, error) {
	w, err := windowOf(hwnd)
	if err != nil {
		return 0, err
	}
	t, err := w.target()
	if err != nil {
		return 0, err
	}
	r, err := t.SendData(context.Background(), dwData, data)
	if err != nil {
		return 0, msgErr(err)
	}
	return r, nil
}

func sysCopyData(lParam uintptr) (uintptr, []byte, bool) {
	wins.Lock()
	defer wins.Unlock()
	d, ok := wins.data[lParam]
	if !ok {
		return 0, nil, false
	}
	return d.dwData, append([]byte(nil), d.data...), true
}

// copyDataKey numbers the WM_COPYDATA payloads being handled; the lParam
// a window procedure gets for one is its key. Guarded by wins.
var copyDataKey uintptr = 1 << 30

// call runs w's procedure on a sent message and returns its result.
func (w *window) call(m *msgq.Message) uintptr {
	if m.Msg != WM_COPYDATA {
		return w.proc(w.hwnd, m.Msg, m.WParam, m.LParam)
	}
	wins.Lock()
	copyDataKey++
	key := copyDataKey
	wins.data[key] = copyData{dwData: m.LParam, data: m.Data}
	wins.Unlock()
	defer func() {
		wins.Lock()
		delete(wins.data, key)
		wins.Unlock()
	}()
	return w.proc(w.hwnd, m.Msg, m.WParam, key)
}

func fillMsg(msg *MSG, w *window, m *msgq.Message) {
	*msg = MSG{Hwnd: w.hwnd, Message: m.Msg, WParam: m.WParam, LParam: m.LParam, Time: uint32(time.Since(start) / time.Millisecond)}
}

func sysGetMessage(msg *MSG, hwnd HWND, filterMin, filterMax uint32) (bool, error) {
	if msg == nil {
		return false, ERROR_INVALID_PARAMETER
	}
	w, err := ownWindow(hwnd)
	if err != nil {
		return false, err
	}
	for {
		m, err := w.q.Get(context.Background(), filterMin, filterMax)
		if err != nil {
			return false, msgErr(err)
		}
		if m.Sent {
			m.Reply(w.call(m)) // a sender that gave up loses the result, as in Win32
			continue
		}
		fillMsg(msg, w, m)
		return m.Msg != WM_QUIT, nil
	}
}

func sysPeekMessage(msg *MSG, hwnd HWND, filterMin, filterMax, removeMsg uint32) (bool, error) {
	if msg == nil {
		return false, ERROR_INVALID_PARAMETER
	}
	w, err := ownWindow(hwnd)
	if err != nil {
		return false, err
	}
	for {
		m, err := w.q.Peek(filterMin, filterMax, removeMsg&PM_REMOVE != 0)
		if err != nil {
			return false, msgErr(err)
		}
		if m == nil {
			return false, nil
		}
		if m.Sent {
			m.Reply(w.call(m))
			continue
		}
		fillMsg(msg, w, m)
		return true, nil
	}
}

func sysDispatchMessage(msg *MSG) uintptr {
	if msg == nil {
		return 0
	}
	w, err := windowOf(msg.Hwnd)
	if err != nil || w.proc == nil {
		return 0
	}
	return w.proc(msg.Hwnd, msg.Message, msg.WParam, msg.LParam)
}

func sysPostQuitMessage(exitCode int32) {
	wins.Lock()
	var own []*window
	for _, w := range wins.m {
		if w.q != nil {
			own = append(own, w)
		}
	}
	wins.Unlock()
	for _, w := range own {
		if t, err := w.target(); err == nil {
			_ = t.Post(WM_QUIT, uintptr(exitCode), 0) // a window closing meanwhile needs no WM_QUIT
		}
	}
}

func sysRegisterWindowMessage(name string) (uint32, error) {
	if name == "" {
		return 0, ERROR_INVALID_PARAMETER
	}
	return msgq.RegisterMessage(name), nil
}
