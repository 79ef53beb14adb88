package win32

// HWND is a window: on Windows a real one, elsewhere an xipc message queue
// (package msgq) that this process registered or found.
type HWND uintptr

// HWND_MESSAGE is the parent of message-only windows (CreateWindowEx):
// windows that only receive messages, as the tutorial's receiver does.
const HWND_MESSAGE = ^HWND(2) // (HWND)-3

// Messages.
const (
	WM_NULL     = 0x0000
	WM_DESTROY  = 0x0002
	WM_CLOSE    = 0x0010
	WM_QUIT     = 0x0012
	WM_COPYDATA = 0x004A
	WM_USER     = 0x0400 // first message number private to a window class
	WM_APP      = 0x8000 // first message number private to an application
)

// PeekMessage's remove flag and SendMessageTimeout's flags.
const (
	PM_NOREMOVE             = 0x0000
	PM_REMOVE               = 0x0001
	SMTO_NORMAL             = 0x0000
	SMTO_BLOCK              = 0x0001
	SMTO_ABORTIFHUNG        = 0x0002
	SMTO_ERRORONEXIT        = 0x0020
	SMTO_NOTIMEOUTIFNOTHUNG = 0x0008
)

// WNDPROC is a window procedure: it handles a message sent or dispatched
// to the window and returns the result (LRESULT).
type WNDPROC func(hwnd HWND, msg uint32, wParam, lParam uintptr) uintptr

// WNDCLASS is a window class: a name and the procedure of its windows
// (RegisterClass).
type WNDCLASS struct {
	LpfnWndProc   WNDPROC
	LpszClassName string
}

// MSG is a message taken from a queue by GetMessage or PeekMessage.
type MSG struct {
	Hwnd    HWND
	Message uint32
	WParam  uintptr
	LParam  uintptr
	Time    uint32
}

// RegisterClass registers a window class for CreateWindowEx:
// ERROR_CLASS_ALREADY_EXISTS when this process registered the name before.
func RegisterClass(wc *WNDCLASS) error {
	if wc == nil || wc.LpfnWndProc == nil || wc.LpszClassName == "" {
		return fail(ERROR_INVALID_PARAMETER)
	}
	return fail(sysRegisterClass(wc))
}

// CreateWindowEx creates a window of the registered class className titled
// windowName and returns it. Make it a message-only window with parent
// HWND_MESSAGE: that is what the rest of xipc can find and what exists off
// Windows, where the window is a message queue (msgq.Register(windowName));
// the position, size, style and menu are accepted for fidelity and ignored
// there. A title that a live window of xipc holds gives ERROR_ALREADY_EXISTS
// off Windows (Windows allows two windows of one title).
//
// On Windows the calling goroutine stays locked to its OS thread until
// DestroyWindow: a window's messages go to the thread that created it, and
// GetMessage and PeekMessage must run there.
func CreateWindowEx(exStyle uint32, className, windowName string, style uint32, x, y, width, height int32, parent HWND, menu, instance, param uintptr) (HWND, error) {
	h, err := sysCreateWindowEx(exStyle, className, windowName, style, x, y, width, height, parent, menu, instance, param)
	if err != nil {
		return 0, fail(err)
	}
	return h, nil
}

// DestroyWindow destroys a window this process created; senders waiting on
// it fail.
func DestroyWindow(hwnd HWND) error { return fail(sysDestroyWindow(hwnd)) }

// DefWindowProc is the default window procedure: 0 for every message here.
func DefWindowProc(hwnd HWND, msg uint32, wParam, lParam uintptr) uintptr {
	return sysDefWindowProc(hwnd, msg, wParam, lParam)
}

// FindWindow finds a window by class and title ("" matches any class):
// top-level windows and message-only ones (FindWindow, then
// FindWindowEx(HWND_MESSAGE, …), on Windows; off Windows the class is not
// looked at and the title is a msgq queue's name, compared without case).
// None gives ERROR_FILE_NOT_FOUND (Win32 returns NULL).
func FindWindow(className, windowName string) (HWND, error) {
	h, err := sysFindWindow(className, windowName)
	if err != nil {
		return 0, fail(err)
	}
	return h, nil
}

// PostMessage puts a message in the window's queue and returns at once:
// ERROR_INVALID_WINDOW_HANDLE when the window is gone, ERROR_NOT_ENOUGH_QUOTA
// when its queue holds 10,000 messages, ERROR_MESSAGE_SYNC_ONLY for
// WM_COPYDATA (use SendCopyData).
func PostMessage(hwnd HWND, msg uint32, wParam, lParam uintptr) error {
	return fail(sysPostMessage(hwnd, msg, wParam, lParam))
}

// SendMessage delivers a message to the window's procedure and waits for
// its result, however long the receiver takes. A window that is gone (or
// dies meanwhile) gives ERROR_INVALID_WINDOW_HANDLE.
func SendMessage(hwnd HWND, msg uint32, wParam, lParam uintptr) (uintptr, error) {
	r, err := sysSendMessageTimeout(hwnd, msg, wParam, lParam, SMTO_NORMAL, INFINITE)
	return r, fail(err)
}

// SendMessageTimeout is SendMessage that gives up after timeout
// milliseconds with ERROR_TIMEOUT; a message not yet picked up then is
// never delivered. flags are SMTO_*.
func SendMessageTimeout(hwnd HWND, msg uint32, wParam, lParam uintptr, flags, timeout uint32) (uintptr, error) {
	r, err := sysSendMessageTimeout(hwnd, msg, wParam, lParam, flags, timeout)
	return r, fail(err)
}

// SendCopyData sends WM_COPYDATA carrying data tagged dwData
// (COPYDATASTRUCT) and waits for the result, as SendMessage does; the
// receiver's procedure reads the payload with CopyData.
func SendCopyData(hwnd HWND, dwData uintptr, data []byte) (uintptr, error) {
	r, err := sysSendCopyData(hwnd, dwData, data)
	return r, fail(err)
}

// CopyData returns the tag and a copy of the payload of the WM_COPYDATA
// message whose lParam is lParam, while its window procedure runs.
func CopyData(lParam uintptr) (dwData uintptr, data []byte, ok bool) {
	return sysCopyData(lParam)
}

// RegisterWindowMessage returns the message number for name, 0xC000..0xFFFF,
// the same in every process of the machine (session, on Windows).
func RegisterWindowMessage(name string) (uint32, error) {
	id, err := sysRegisterWindowMessage(name)
	return id, fail(err)
}

// GetMessage waits for the next message posted to hwnd (0: any window this
// process created; off Windows there must be just one) within
// [filterMin, filterMax] (0, 0: all), handling sent messages meanwhile by
// calling the window procedure, and fills msg. It returns false for WM_QUIT.
func GetMessage(msg *MSG, hwnd HWND, filterMin, filterMax uint32) (bool, error) {
	ok, err := sysGetMessage(msg, hwnd, filterMin, filterMax)
	return ok, fail(err)
}

// PeekMessage is GetMessage without waiting: false when no posted message
// waits. With PM_REMOVE the message is taken from the queue.
func PeekMessage(msg *MSG, hwnd HWND, filterMin, filterMax, removeMsg uint32) (bool, error) {
	ok, err := sysPeekMessage(msg, hwnd, filterMin, filterMax, removeMsg)
	return ok, fail(err)
}

// TranslateMessage exists for fidelity: there are no keyboard messages to
// translate. It returns false.
func TranslateMessage(msg *MSG) bool { return false }

// DispatchMessage passes msg to its window's procedure and returns the
// result.
func DispatchMessage(msg *MSG) uintptr { return sysDispatchMessage(msg) }

// PostQuitMessage posts WM_QUIT with exitCode to this process's windows
// (the calling thread's message queue, on Windows), which makes GetMessage
// return false.
func PostQuitMessage(exitCode int32) { sysPostQuitMessage(exitCode) }
