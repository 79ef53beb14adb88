package win32

import (
	"errors"
	"runtime"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

//sys	registerClassEx(wc *wndClassEx) (atom uint16, err error) [failretval==0] = user32.RegisterClassExW
//sys	createWindowEx(exStyle uint32, className *uint16, windowName *uint16, style uint32, x int32, y int32, width int32, height int32, parent HWND, menu uintptr, instance windows.Handle, param uintptr) (hwnd HWND, err error) [failretval==0] = user32.CreateWindowExW
//sys	destroyWindow(hwnd HWND) (err error) = user32.DestroyWindow
//sys	defWindowProc(hwnd HWND, msg uint32, wparam uintptr, lparam uintptr) (lresult uintptr) = user32.DefWindowProcW
//sys	findWindow(className *uint16, windowName *uint16) (hwnd HWND, err error) [failretval==0] = user32.FindWindowW
//sys	findWindowEx(parent HWND, childAfter HWND, className *uint16, windowName *uint16) (hwnd HWND, err error) [failretval==0] = user32.FindWindowExW
//sys	postMessage(hwnd HWND, msg uint32, wparam uintptr, lparam uintptr) (err error) = user32.PostMessageW
//sys	sendMessageTimeout(hwnd HWND, msg uint32, wparam uintptr, lparam uintptr, flags uint32, timeout uint32, result *uintptr) (lresult uintptr, err error) [failretval==0] = user32.SendMessageTimeoutW
//sys	sendMessage(hwnd HWND, msg uint32, wparam uintptr, lparam uintptr) (lresult uintptr) = user32.SendMessageW
//sys	sendMessagePtr(hwnd HWND, msg uint32, wparam uintptr, lparam unsafe.Pointer) (lresult uintptr) = user32.SendMessageW
//sys	registerWindowMessage(name *uint16) (id uint32, err error) [failretval==0] = user32.RegisterWindowMessageW
//sys	getMessage(msg *MSG, hwnd HWND, min uint32, max uint32) (ret int32, err error) [failretval==-1] = user32.GetMessageW
//sys	peekMessage(msg *MSG, hwnd HWND, min uint32, max uint32, remove uint32) (ok bool) = user32.PeekMessageW
//sys	dispatchMessage(msg *MSG) (lresult uintptr) = user32.DispatchMessageW
//sys	postQuitMessage(exitCode int32) = user32.PostQuitMessage
//sys	isWindow(hwnd HWND) (ok bool) = user32.IsWindow

// MSG is laid out as Win32's: Hwnd, Message, WParam, LParam, Time, then a
// POINT and lPrivate, which the win32 MSG type leaves out, so the real API
// writes into winMSG.

type wndClassEx struct {
	size       uint32
	style      uint32
	wndProc    uintptr
	clsExtra   int32
	wndExtra   int32
	instance   windows.Handle
	icon       windows.Handle
	cursor     windows.Handle
	background windows.Handle
	menuName   *uint16
	className  *uint16
	iconSm     windows.Handle
}

// classes holds the Go procedure of each class this process registered;
// the class's Win32 procedure is one callback that looks it up.
var classes = struct {
	sync.Mutex
	procs map[string]WNDPROC
	byWnd map[HWND]WNDPROC
}{procs: map[string]WNDPROC{}, byWnd: map[HWND]WNDPROC{}}

// creating is the procedure of the window CreateWindowEx is making: the
// first messages arrive before it returns the HWND.
var creating struct {
	sync.Mutex
	proc WNDPROC
}

var wndProcCallback = windows.NewCallback(func(hwnd, msg, wparam, lparam uintptr) uintptr {
	classes.Lock()
	proc := classes.byWnd[HWND(hwnd)]
	classes.Unlock()
	if proc == nil {
		proc = creating.proc // only the creating thread gets here before byWnd is set
	}
	if proc == nil {
		return defWindowProc(HWND(hwnd), uint32(msg), wparam, lparam)
	}
	return proc(HWND(hwnd), uint32(msg), wparam, lparam)
})

func sysRegisterClass(wc *WNDCLASS) error {
	name, err := windows.UTF16PtrFromString(wc.LpszClassName)
	if err != nil {
		return ERROR_INVALID_NAME
	}
	var instance windows.Handle
	if err := windows.GetModuleHandleEx(0, nil, &instance); err != nil {
		return err
	}
	c := wndClassEx{wndProc: wndProcCallback, instance: instance, className: name}
	c.size = uint32(unsafe.Sizeof(c))
	if _, err := registerClassEx(&c); err != nil {
		return err
	}
	classes.Lock()
	classes.procs[wc.LpszClassName] = wc.LpfnWndProc
	classes.Unlock()
	return nil
}

func sysCreateWindowEx(exStyle uint32, className, windowName string, style uint32, x, y, width, height int32, parent HWND, menu, instance, param uintptr) (HWND, error) {
	cls, err := windows.UTF16PtrFromString(className)
	if err != nil {
		return 0, ERROR_INVALID_NAME
	}
	title, err := windows.UTF16PtrFromString(windowName)
	if err != nil {
		return 0, ERROR_INVALID_NAME
	}
	classes.Lock()
	proc := classes.procs[className]
	classes.Unlock()
	var module windows.Handle
	if err := windows.GetModuleHandleEx(0, nil, &module); err != nil {
		return 0, err
	}
	// The window's messages go to this thread: keep the goroutine on it
	// until DestroyWindow.
	runtime.LockOSThread()
	creating.Lock()
	creating.proc = proc
	h, err := createWindowEx(exStyle, cls, title, style, x, y, width, height, parent, menu, module, param)
	creating.proc = nil
	creating.Unlock()
	if err != nil {
		runtime.UnlockOSThread()
		return 0, err
	}
	classes.Lock()
	classes.byWnd[h] = proc
	classes.Unlock()
	return h, nil
}

func sysDestroyWindow(h HWND) error {
	if err := destroyWindow(h); err != nil {
		return err
	}
	classes.Lock()
	delete(classes.byWnd, h)
	classes.Unlock()
	runtime.UnlockOSThread()
	return nil
}

func sysDefWindowProc(hwnd HWND, msg uint32, wParam, lParam uintptr) uintptr {
	return defWindowProc(hwnd, msg, wParam, lParam)
}

func sysFindWindow(className, windowName string) (HWND, error) {
	var cls, title *uint16
	var err error
	if className != "" {
		if cls, err = windows.UTF16PtrFromString(className); err != nil {
			return 0, ERROR_INVALID_NAME
		}
	}
	if windowName != "" {
		if title, err = windows.UTF16PtrFromString(windowName); err != nil {
			return 0, ERROR_INVALID_NAME
		}
	}
	if h, err := findWindow(cls, title); err == nil && h != 0 {
		return h, nil
	}
	// Message-only windows (xipc's queues among them) are not top-level.
	if h, err := findWindowEx(HWND_MESSAGE, 0, cls, title); err == nil && h != 0 {
		return h, nil
	}
	return 0, ERROR_FILE_NOT_FOUND
}

func sysPostMessage(hwnd HWND, msg uint32, wParam, lParam uintptr) error {
	return postMessage(hwnd, msg, wParam, lParam)
}

func sysSendMessageTimeout(hwnd HWND, msg uint32, wParam, lParam uintptr, flags, timeout uint32) (uintptr, error) {
	if !isWindow(hwnd) {
		return 0, ERROR_INVALID_WINDOW_HANDLE
	}
	if timeout == INFINITE {
		return sendMessage(hwnd, msg, wParam, lParam), nil
	}
	var result uintptr
	_, err := sendMessageTimeout(hwnd, msg, wParam, lParam, flags, timeout, &result)
	if err != nil {
		if errors.Is(err, syscall.EINVAL) {
			return 0, ERROR_TIMEOUT // failed without a code: Wine's timeout
		}
		return 0, err
	}
	return result, nil
}

type copyDataStruct struct {
	dwData uintptr
	cbData uint32
	lpData *byte
}

func sysSendCopyData(hwnd HWND, dwData uintptr, data []byte) (uintptr, error) {
	if !isWindow(hwnd) {
		return 0, ERROR_INVALID_WINDOW_HANDLE
	}
	cds := copyDataStruct{dwData: dwData, cbData: uint32(len(data)), lpData: bufPtr(data)}
	r := sendMessagePtr(hwnd, WM_COPYDATA, 0, unsafe.Pointer(&cds))
	runtime.KeepAlive(data)
	return r, nil
}

func sysCopyData(lParam uintptr) (uintptr, []byte, bool) {
	if lParam == 0 {
		return 0, nil, false
	}
	// lParam points to the sender's COPYDATASTRUCT, copied into this
	// process by Windows for the time of the window procedure.
	cds := (*copyDataStruct)(unsafe.Add(nil, lParam))
	var data []byte
	if cds.cbData > 0 && cds.lpData != nil {
		data = append([]byte(nil), unsafe.Slice(cds.lpData, cds.cbData)...)
	}
	return cds.dwData, data, true
}

func sysRegisterWindowMessage(name string) (uint32, error) {
	p, err := windows.UTF16PtrFromString(name)
	if err != nil || name == "" {
		return 0, ERROR_INVALID_PARAMETER
	}
	return registerWindowMessage(p)
}

// winMSG is Win32's MSG in full.
type winMSG struct {
	MSG
	pt       [2]int32
	lPrivate uint32
}

func sysGetMessage(msg *MSG, hwnd HWND, filterMin, filterMax uint32) (bool, error) {
	if msg == nil {
		return false, ERROR_INVALID_PARAMETER
	}
	var m winMSG
	r, err := getMessage(&m.MSG, hwnd, filterMin, filterMax)
	if err != nil {
		return false, err
	}
	*msg = m.MSG
	return r != 0, nil
}

func sysPeekMessage(msg *MSG, hwnd HWND, filterMin, filterMax, removeMsg uint32) (bool, error) {
	if msg == nil {
		return false, ERROR_INVALID_PARAMETER
	}
	var m winMSG
	ok := peekMessage(&m.MSG, hwnd, filterMin, filterMax, removeMsg)
	*msg = m.MSG
	return ok, nil
}

func sysDispatchMessage(msg *MSG) uintptr {
	if msg == nil {
		return 0
	}
	m := winMSG{MSG: *msg}
	return dispatchMessage(&m.MSG)
}

func sysPostQuitMessage(exitCode int32) { postQuitMessage(exitCode) }
