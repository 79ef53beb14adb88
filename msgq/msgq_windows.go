package msgq

// The Windows backend: real windows. A Queue is a message-only window
// (parent HWND_MESSAGE) titled with the queue's name, of a window class
// this package registers once per process. Its thread is a goroutine locked
// to its OS thread that creates the window and then serves Get calls one at
// a time: for each it calls PeekMessage with the call's filter, which
// dispatches waiting sent messages to the window procedure first (whatever
// the filter) and then returns the first posted message in the filter's
// range; with nothing there it sleeps in MsgWaitForMultipleObjectsEx on the
// queue and an event that the call's context and Close set.
//
// The window procedure hands a sent message to the Get being served and
// blocks, as a window procedure does, until the message's Reply; its result
// is the LRESULT that SendMessageTimeout returns to the sender. Between two
// Gets the thread does not look at its queue, so senders wait there, and a
// SendMessageTimeout that times out meanwhile is never dispatched, as the
// emulation promises. Posted messages stay in Win32's own queue until a Get
// takes them, so Windows itself enforces the 10,000-message quota
// (ERROR_NOT_ENOUGH_QUOTA).
//
// Close sets the event, lets a blocked window procedure return 0, destroys
// the window and ends the thread: senders still waiting get
// ERROR_INVALID_WINDOW_HANDLE or a failed SendMessageTimeout.

//go:generate go run golang.org/x/sys/windows/mkwinsyscall -output zsyscall_windows.go msgq_windows.go

//sys	registerClassEx(wc *wndClassEx) (atom uint16, err error) [failretval==0] = user32.RegisterClassExW
//sys	createWindowEx(exStyle uint32, className *uint16, windowName *uint16, style uint32, x int32, y int32, width int32, height int32, parent windows.HWND, menu windows.Handle, instance windows.Handle, param uintptr) (hwnd windows.HWND, err error) [failretval==0] = user32.CreateWindowExW
//sys	destroyWindow(hwnd windows.HWND) (err error) = user32.DestroyWindow
//sys	defWindowProc(hwnd windows.HWND, msg uint32, wparam uintptr, lparam uintptr) (lresult uintptr) = user32.DefWindowProcW
//sys	peekMessage(msg *winMsg, hwnd windows.HWND, min uint32, max uint32, remove uint32) (ok bool) = user32.PeekMessageW
//sys	msgWaitForMultipleObjectsEx(count uint32, handles *windows.Handle, timeout uint32, wakeMask uint32, flags uint32) (event uint32, err error) [failretval==0xFFFFFFFF] = user32.MsgWaitForMultipleObjectsEx
//sys	postMessage(hwnd windows.HWND, msg uint32, wparam uintptr, lparam uintptr) (err error) = user32.PostMessageW
//sys	sendMessageTimeout(hwnd windows.HWND, msg uint32, wparam uintptr, lparam uintptr, flags uint32, timeout uint32, result *uintptr) (lresult uintptr, err error) [failretval==0] = user32.SendMessageTimeoutW
//sys	sendNotifyMessage(hwnd windows.HWND, msg uint32, wparam uintptr, lparam uintptr) (err error) = user32.SendNotifyMessageW
//sys	findWindowEx(parent windows.HWND, childAfter windows.HWND, className *uint16, windowName *uint16) (hwnd windows.HWND, err error) [failretval==0] = user32.FindWindowExW
//sys	findWindow(className *uint16, windowName *uint16) (hwnd windows.HWND, err error) [failretval==0] = user32.FindWindowW
//sys	isWindow(hwnd windows.HWND) (ok bool) = user32.IsWindow
//sys	registerWindowMessage(name *uint16) (id uint32, err error) [failretval==0] = user32.RegisterWindowMessageW
//sys	inSendMessageEx(reserved uintptr) (flags uint32) = user32.InSendMessageEx

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/internal/owner"
)

const (
	hwndMessage  = ^windows.HWND(2) // HWND_MESSAGE, (HWND)-3
	pmNoRemove   = 0x0000
	pmRemove     = 0x0001
	qsAllInput   = 0x04FF
	smtoNormal   = 0x0000
	infinite     = 0xFFFFFFFF
	maxSendMilli = math.MaxInt32 // SendMessageTimeout's longest wait: about 24 days
	ismexNotify  = 0x00000002
)

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

type winMsg struct {
	hwnd    windows.HWND
	message uint32
	wParam  uintptr
	lParam  uintptr
	time    uint32
	x, y    int32
	private uint32
}

type copyDataStruct struct {
	dwData uintptr
	cbData uint32
	lpData *byte
}

type winBackend struct{}

var localBackend backend = winBackend{}

// The window class, registered once per process, and its window procedure.
var (
	classOnce sync.Once
	classErr  error
	className *uint16
	instance  windows.Handle
	windowsMu sync.Mutex
	queues    = map[windows.HWND]*winReceiver{}
)

func registerClass() error {
	classOnce.Do(func() {
		if classErr = windows.GetModuleHandleEx(0, nil, &instance); classErr != nil {
			return
		}
		className, classErr = windows.UTF16PtrFromString(fmt.Sprintf("xipc.msgq.%d", windows.GetCurrentProcessId()))
		if classErr != nil {
			return
		}
		wc := wndClassEx{
			wndProc:   windows.NewCallback(wndProc),
			instance:  instance,
			className: className,
		}
		wc.size = uint32(unsafe.Sizeof(wc))
		_, classErr = registerClassEx(&wc)
	})
	return classErr
}

func wndProc(hwnd windows.HWND, msg uint32, wparam, lparam uintptr) uintptr {
	// Only the messages of programs: Wine's own (0x80000000 up) and the
	// system's go to DefWindowProc.
	if msg >= WM_USER && msg <= 0xFFFF || msg == WM_COPYDATA {
		windowsMu.Lock()
		q := queues[hwnd]
		windowsMu.Unlock()
		if q != nil {
			return q.dispatch(msg, wparam, lparam)
		}
	}
	return defWindowProc(hwnd, msg, wparam, lparam)
}

// findWindow finds a window titled name: a message-only one first, then a
// top-level one.
func findTitled(name string) (windows.HWND, error) {
	title, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return 0, errs.New(errs.ErrInvalidName, err)
	}
	if h, err := findWindowEx(hwndMessage, 0, nil, title); err == nil && h != 0 {
		return h, nil
	}
	if h, err := findWindow(nil, title); err == nil && h != 0 {
		return h, nil
	}
	return 0, errs.New(errs.ErrNotFound, errors.New("no window of that name"))
}

// The receiver.

type getReq struct {
	ctx          context.Context
	min, max     uint32
	remove, wait bool
	res          chan getRes
	delivered    bool // the thread has answered (thread only)
}

type getRes struct {
	m   *Message
	err error
}

type winReceiver struct {
	hwnd   windows.HWND
	reqs   chan *getReq
	done   chan struct{} // closed by close
	exited chan struct{} // closed when the thread has destroyed the window
	event  windows.Handle
	once   sync.Once

	// The thread's own.
	cur   *getReq    // the Get being served
	next  *getReq    // a Get that arrived while a window procedure waited for a Reply
	stash []*Message // posted messages PeekMessage removed after a sent one answered the Get
}

func (winBackend) register(name string, opts *Options) (receiver, error) {
	if err := registerClass(); err != nil {
		return nil, err
	}
	if _, err := findTitled(name); err == nil {
		return nil, errs.New(errs.ErrExists, errors.New("a window of that name exists"))
	}
	title, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return nil, errs.New(errs.ErrInvalidName, err)
	}
	ev, err := windows.CreateEvent(nil, 0, 0, nil)
	if err != nil {
		return nil, err
	}
	q := &winReceiver{
		reqs:   make(chan *getReq),
		done:   make(chan struct{}),
		exited: make(chan struct{}),
		event:  ev,
	}
	ready := make(chan error, 1)
	go q.loop(title, ready)
	if err := <-ready; err != nil {
		windows.CloseHandle(ev)
		return nil, err
	}
	return q, nil
}

// loop is the window's thread.
func (q *winReceiver) loop(title *uint16, ready chan<- error) {
	// Never unlocked: the thread ends with the goroutine, and with it
	// whatever Windows still queues for the window.
	runtime.LockOSThread()
	hwnd, err := createWindowEx(0, className, title, 0, 0, 0, 0, 0, hwndMessage, 0, instance, 0)
	if err != nil {
		close(q.exited)
		ready <- err
		return
	}
	q.hwnd = hwnd
	windowsMu.Lock()
	queues[hwnd] = q
	windowsMu.Unlock()
	ready <- nil
	for {
		req := q.next
		q.next = nil
		if req == nil {
			select {
			case req = <-q.reqs:
			case <-q.done:
				windowsMu.Lock()
				delete(queues, hwnd)
				windowsMu.Unlock()
				destroyWindow(hwnd) //nolint:errcheck // the window goes with its thread anyway
				close(q.exited)
				return
			}
		}
		q.serve(req)
	}
}

func (q *winReceiver) answer(req *getReq, m *Message, err error) {
	if !req.delivered {
		req.delivered = true
		req.res <- getRes{m, err}
	}
}

// serve answers one Get on the window's thread.
func (q *winReceiver) serve(req *getReq) {
	if req.delivered {
		return // a window procedure answered it already
	}
	for i, m := range q.stash {
		if req.min == 0 && req.max == 0 || m.Msg >= req.min && m.Msg <= req.max {
			if req.remove {
				q.stash = append(q.stash[:i], q.stash[i+1:]...)
			}
			q.answer(req, m, nil)
			return
		}
	}
	flags := uint32(pmNoRemove)
	if req.remove {
		flags = pmRemove
	}
	for {
		q.cur = req
		var msg winMsg
		ok := peekMessage(&msg, 0, req.min, req.max, flags)
		q.cur = nil
		if ok && msg.message == WM_QUIT && msg.hwnd == 0 && req.remove {
			// A thread message from PostQuitMessage: the window's WM_QUIT.
			msg.hwnd = q.hwnd
		}
		var m *Message
		if ok {
			m = &Message{Msg: msg.message, WParam: msg.wParam, LParam: msg.lParam}
		}
		if req.delivered {
			// A sent message answered the Get; keep what PeekMessage took.
			if m != nil && req.remove {
				q.stash = append(q.stash, m)
			}
			return
		}
		if m != nil {
			q.answer(req, m, nil)
			return
		}
		select {
		case <-q.done:
			q.answer(req, nil, errs.ErrClosed)
			return
		default:
		}
		if !req.wait {
			q.answer(req, nil, nil)
			return
		}
		if req.ctx.Err() != nil {
			q.answer(req, nil, errs.Timeout(req.ctx, nil))
			return
		}
		// Flags 0: woken by input that arrived since PeekMessage looked,
		// not by what waits outside the filter.
		if _, err := msgWaitForMultipleObjectsEx(1, &q.event, infinite, qsAllInput, 0); err != nil {
			q.answer(req, nil, err)
			return
		}
	}
}

// dispatch is the window procedure for a sent message, on the window's
// thread inside PeekMessage: it hands the message to a Get and waits for
// its Reply.
func (q *winReceiver) dispatch(msg uint32, wparam, lparam uintptr) uintptr {
	m := &Message{Msg: msg, WParam: wparam, LParam: lparam, Sent: true}
	if msg == WM_COPYDATA {
		if lparam == 0 {
			return 0
		}
		// lparam points to the sender's COPYDATASTRUCT, which Windows
		// copied into this process for the call.
		cds := *(**copyDataStruct)(unsafe.Pointer(&lparam))
		m.LParam = cds.dwData
		m.Data = []byte{}
		if cds.cbData > 0 && cds.lpData != nil {
			m.Data = append(m.Data, unsafe.Slice(cds.lpData, cds.cbData)...)
		}
	}
	notify := inSendMessageEx(0)&ismexNotify != 0
	replies := make(chan uintptr, 1)
	if notify {
		m.Sent = false // SendNotifyMessage: nobody waits for the result
	} else {
		m.reply = func(r uintptr) error {
			replies <- r // buffered, and Reply calls this once
			return nil
		}
	}
	req := q.cur
	if req == nil || req.delivered {
		// The Get was answered by an earlier sent message in this same
		// PeekMessage: this one goes to the next Get, as to a busy window.
		req = q.next
		q.next = nil
		if req == nil || req.delivered {
			select {
			case req = <-q.reqs:
			case <-q.done:
				return 0
			}
		}
	}
	q.cur = req
	q.answer(req, m, nil)
	if notify {
		return 0
	}
	select {
	case r := <-replies:
		return r
	case next := <-q.reqs:
		// The next Get came before a Reply: the window procedure has
		// returned without an answer, which is 0 (a later Reply is lost).
		q.next, q.cur = next, next
		select {
		case r := <-replies: // a Reply came just before the Get after all
			return r
		default:
			return 0
		}
	case <-q.done:
		// Closed; but a Reply may have come just before, and select
		// picks at random among the ready cases.
		select {
		case r := <-replies:
			return r
		default:
			return 0
		}
	}
}

func (q *winReceiver) get(ctx context.Context, min, max uint32, remove, wait bool) (*Message, error) {
	req := &getReq{ctx: ctx, min: min, max: max, remove: remove, wait: wait, res: make(chan getRes, 1)}
	if wait && ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() { windows.SetEvent(q.event) })
		defer stop()
	}
	select {
	case q.reqs <- req:
	case <-q.done:
		return nil, errs.ErrClosed
	}
	select {
	case r := <-req.res:
		return r.m, r.err
	case <-q.exited:
		select {
		case r := <-req.res:
			return r.m, r.err
		default:
		}
		return nil, errs.ErrClosed
	}
}

func (q *winReceiver) close() error {
	closed := false
	q.once.Do(func() {
		closed = true
		close(q.done)
		windows.SetEvent(q.event)
		<-q.exited
		windows.CloseHandle(q.event)
	})
	if !closed {
		return errs.ErrClosed
	}
	return nil
}

// The sender.

type winSender struct {
	hwnd   windows.HWND
	mu     sync.Mutex
	closed bool
}

// maxSameTitle bounds how many windows of one title Find looks at.
const maxSameTitle = 64

// find finds the first window titled name, message-only ones first, whose
// process runs as a user trust trusts. Windows have no owner of their own:
// the user is the one of the process that created the window
// (GetWindowThreadProcessId, then that process's token, as pipe's
// checkServer). A process whose token cannot be read (another user's,
// usually) is not trusted: that is ErrAccessDenied, unless trust is Any.
func (winBackend) find(name string, trust owner.Trust) (sender, error) {
	if trust.Any() {
		h, err := findTitled(name)
		if err != nil {
			return nil, err
		}
		return &winSender{hwnd: h}, nil
	}
	title, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return nil, errs.New(errs.ErrInvalidName, err)
	}
	var refused error
	for _, parent := range []windows.HWND{hwndMessage, 0} {
		var h windows.HWND
		for range maxSameTitle {
			if h, err = findWindowEx(parent, h, nil, title); err != nil || h == 0 {
				break
			}
			err := checkWindow(h, trust)
			if err == nil {
				return &winSender{hwnd: h}, nil
			}
			if refused == nil && !errors.Is(err, errs.ErrNotFound) {
				refused = err
			}
		}
	}
	if refused != nil {
		return nil, refused
	}
	return nil, errs.New(errs.ErrNotFound, errors.New("no window of that name"))
}

// checkWindow checks the user of the process of the window h.
func checkWindow(h windows.HWND, trust owner.Trust) error {
	var pid uint32
	if _, err := windows.GetWindowThreadProcessId(h, &pid); err != nil || pid == 0 {
		return errs.New(errs.ErrNotFound, errors.New("the window is gone"))
	}
	what := fmt.Sprintf("the window's process (pid %d)", pid)
	if ok, err := trust.CheckProcess(pid, what); ok {
		return err
	}
	return errs.New(errs.ErrAccessDenied, fmt.Errorf("%s cannot be inspected, so its user is unknown: another user's process? (Owner{AnyUser: true} turns the check off)", what))
}

func (s *winSender) check() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errs.ErrClosed
	}
	return nil
}

func (s *winSender) close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errs.ErrClosed
	}
	s.closed = true
	return nil
}

// sysErr maps a user32 failure: a window that is gone is ErrNotFound, a
// full queue ErrQuota (both through the error table).
func sysErr(err error) error {
	if errors.Is(err, windows.ERROR_INVALID_WINDOW_HANDLE) {
		return errs.New(errs.ErrNotFound, err)
	}
	return errs.FromSys(err)
}

func (s *winSender) post(msg uint32, w, l uintptr) error {
	if err := s.check(); err != nil {
		return err
	}
	if err := postMessage(s.hwnd, msg, w, l); err != nil {
		return sysErr(err)
	}
	return nil
}

func (s *winSender) send(ctx context.Context, msg uint32, w, l uintptr, data []byte, notify bool) (uintptr, error) {
	if err := s.check(); err != nil {
		return 0, err
	}
	if notify {
		return 0, sysErr(sendNotifyMessage(s.hwnd, msg, w, l))
	}
	ms := uint32(maxSendMilli)
	if d, ok := ctx.Deadline(); ok {
		left := time.Until(d)
		if left <= 0 {
			return 0, errs.Timeout(ctx, nil)
		}
		ms = uint32(min((left+time.Millisecond-1)/time.Millisecond, maxSendMilli))
	}
	var cds copyDataStruct
	if data != nil {
		if uint64(len(data)) > math.MaxUint32 {
			return 0, errs.New(errs.ErrMessageTooLarge, fmt.Errorf("%d bytes: WM_COPYDATA carries at most 4 GiB", len(data)))
		}
		cds = copyDataStruct{dwData: l, cbData: uint32(len(data))}
		if len(data) > 0 {
			cds.lpData = &data[0]
		}
		l = uintptr(unsafe.Pointer(&cds))
	}
	var result uintptr
	_, err := sendMessageTimeout(s.hwnd, msg, w, l, smtoNormal, ms, &result)
	runtime.KeepAlive(data)
	runtime.KeepAlive(&cds)
	if err == nil {
		return result, nil
	}
	if errors.Is(err, windows.ERROR_TIMEOUT) {
		return 0, errs.Timeout(ctx, errors.New("the window did not answer in time"))
	}
	if !isWindow(s.hwnd) {
		return 0, errs.New(errs.ErrNotFound, fmt.Errorf("the window is gone (%v)", err))
	}
	return 0, sysErr(err)
}

func registerMessage(name string) uint32 {
	p, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return 0
	}
	id, err := registerWindowMessage(p)
	if err != nil {
		return 0
	}
	return id
}
