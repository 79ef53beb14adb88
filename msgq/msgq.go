// Package msgq provides Win32 window message queues: a receiver registers a
// named queue (a "window"), senders find it by name and post messages to it
// (PostMessage: queued, the call returns at once) or send them (SendMessage:
// the call waits for the receiver's result), optionally with a data payload
// (WM_COPYDATA).
//
// On Windows a Queue is a real message-only window (HWND_MESSAGE) titled
// with the name, whose message loop runs on a goroutine locked to its OS
// thread: any Win32 program can reach it with FindWindowEx(HWND_MESSAGE, …)
// and SendMessage/PostMessage, and Find reaches windows of other programs.
// On Linux and other Unix systems an emulation in shared memory gives the
// same behaviour between processes (see docs/msgq.md for its design).
//
// The rules on both systems:
//   - A receiver's Get returns sent messages before posted ones, and posted
//     messages in the order they were posted (FIFO), within the filter
//     range. Sent messages are returned whatever the filter, as GetMessage
//     dispatches them whatever its filter.
//   - Post into a queue that holds Quota (10,000) posted messages fails at
//     once with ErrQuota [ERROR_NOT_ENOUGH_QUOTA 1816].
//   - A Send that the receiver has not picked up when its context ends fails
//     with an error matching ErrTimeout and is not delivered later.
//   - A Send to a receiver that closes its queue or dies fails promptly with
//     an error matching ErrNotFound; Post to a gone receiver fails with
//     ErrNotFound [ERROR_INVALID_WINDOW_HANDLE 1400 in Win32].
//   - SendData payloads of any size the memory allows (16 MiB and more)
//     arrive whole.
package msgq

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/internal/owner"
)

// Message numbers with a meaning of their own (winuser.h).
const (
	WM_NULL     = 0x0000 // does nothing; a receiver answers it with 0
	WM_QUIT     = 0x0012 // asks a message loop to end: Serve returns when it gets one
	WM_COPYDATA = 0x004A // a message that carries bytes (SendData)
	WM_USER     = 0x0400 // first private message number of a window class
	WM_APP      = 0x8000 // first private message number of an application
)

// Registered message numbers (RegisterMessage) lie in this range.
const (
	FirstRegistered = 0xC000
	LastRegistered  = 0xFFFF
)

// Quota is the number of posted messages a queue holds; a Post into a full
// queue fails with ErrQuota (USERPostMessageLimit in Windows).
const Quota = 10000

// MaxName is the longest queue name, in characters (a window title may be
// longer in Win32; xipc keeps one limit on every OS).
const MaxName = 256

// Security says who besides the registering user may send to a queue on
// Unix. The zero value is owner-only. Windows has no security on windows:
// every process on the desktop may send (User Interface Privilege
// Isolation aside), and Security is ignored there.
type Security struct {
	// AllUsers admits every user of the machine.
	AllUsers bool
	// Group admits members of this group (a name or numeric gid).
	Group string
}

// Options holds Register's options; nil means the defaults.
type Options struct {
	// Security says who may send; the zero value is owner-only.
	Security Security
}

// Message is one message taken from a queue.
type Message struct {
	Msg    uint32  // the message number: WM_USER+1, WM_COPYDATA, ...
	WParam uintptr // its first parameter
	// LParam is its second parameter. For WM_COPYDATA it is the payload's
	// tag (COPYDATASTRUCT.dwData) and WParam the sending window (0 from xipc).
	LParam uintptr
	// Data is WM_COPYDATA's payload, copied into this process. It is
	// valid until Reply, as WM_COPYDATA's data is valid only while the
	// window procedure runs in Win32: the receiver may reuse the memory
	// for a later message, so copy it to keep it.
	Data []byte
	PID  int  // the sending process, 0 where unknown (Windows)
	Sent bool // sent (the sender waits for Reply), not posted

	reply func(result uintptr) error
	once  sync.Once
}

// Reply answers a sent message: the sender's Send returns result. A sent
// message that the receiver does not answer keeps its sender waiting until
// its context ends, so every sent message must get one Reply (Serve replies
// for the handler). On Windows, where a window procedure must return before
// its thread takes the next message, the next Get answers an unanswered
// sent message with 0. Reply of a posted message, or a second Reply, does
// nothing and returns nil. Reply fails with an error matching ErrNotFound
// when the sender has given up (its context ended) or died: the result is
// lost, as in Win32.
func (m *Message) Reply(result uintptr) error {
	var err error
	m.once.Do(func() {
		if m.reply != nil {
			err = m.reply(result)
		}
	})
	return err
}

// String formats the message as the xipc CLI prints it:
// msg=0x0401 wparam=20 lparam=22 [data="…"].
func (m *Message) String() string {
	s := fmt.Sprintf("msg=0x%04x wparam=%d lparam=%d", m.Msg, m.WParam, m.LParam)
	if m.Msg == WM_COPYDATA || m.Data != nil {
		s += fmt.Sprintf(" data=%q", m.Data)
	}
	return s
}

const kind = "msgq"

// checkName validates a queue name (a window title).
func checkName(name string) error {
	bad := func(why string) error {
		return errs.New(errs.ErrInvalidName, fmt.Errorf("%q: %s", name, why))
	}
	switch {
	case name == "":
		return bad("empty name")
	case !utf8.ValidString(name):
		return bad("not valid UTF-8")
	case strings.ContainsRune(name, 0):
		return bad("a queue name may not contain NUL")
	case utf8.RuneCountInString(name) > MaxName:
		return bad(fmt.Sprintf("%d characters, more than %d", utf8.RuneCountInString(name), MaxName))
	}
	return nil
}

// The seam between the API and a transport. Each OS has its own local
// backend (localBackend); another transport (a queue on another machine,
// reached through NATS) can implement these three interfaces too.
type (
	// backend creates and finds queues.
	backend interface {
		register(name string, opts *Options) (receiver, error)
		// find finds the queue name, refusing one whose owner trust
		// does not trust.
		find(name string, trust owner.Trust) (sender, error)
	}
	// receiver is the registering side of one queue.
	receiver interface {
		// get returns the next message in [min, max] (sent ones whatever
		// the filter); without wait it returns nil, nil when there is
		// none; without remove a posted message stays queued.
		get(ctx context.Context, min, max uint32, remove, wait bool) (*Message, error)
		close() error
	}
	// sender is a handle on someone else's queue.
	sender interface {
		post(msg uint32, w, l uintptr) error
		// send delivers a sent message and, unless notify, waits for its
		// result; data != nil makes it a WM_COPYDATA payload.
		send(ctx context.Context, msg uint32, w, l uintptr, data []byte, notify bool) (uintptr, error)
		close() error
	}
)

// Queue is a registered receiver: the "window" and its message queue. Its
// methods are safe for concurrent use.
type Queue struct {
	r    receiver
	name string

	mu     sync.Mutex
	closed bool
}

// Register creates the queue name and returns it (CreateWindowEx of a
// message-only window titled name, on Windows). A name that a live queue
// holds gives ErrExists; one left by a crashed process does not count.
// Names are compared without regard to case, like window titles by
// FindWindow.
func Register(name string, opts *Options) (*Queue, error) {
	if err := checkName(name); err != nil {
		return nil, errs.Op("register", kind, name, err)
	}
	if opts == nil {
		opts = &Options{}
	}
	r, err := currentBackend().register(name, opts)
	if err != nil {
		return nil, errs.Op("register", kind, name, errs.FromSys(err))
	}
	return &Queue{r: r, name: name}, nil
}

// Name returns the queue's name.
func (q *Queue) Name() string { return q.name }

func (q *Queue) opErr(op string, err error) error {
	if err == nil {
		return nil
	}
	return errs.Op(op, kind, q.name, errs.FromSys(err))
}

// Get waits for the next message (GetMessage): a sent message if one
// waits, else the first posted message whose number lies in [filterMin,
// filterMax]; 0, 0 means every message. It fails with an error matching
// ErrClosed when the queue is closed, also while it waits, and with the
// context's error (and ErrTimeout for a deadline) when ctx ends.
// A sent message must be answered with Reply.
func (q *Queue) Get(ctx context.Context, filterMin, filterMax uint32) (*Message, error) {
	if err := ctx.Err(); err != nil {
		return nil, q.opErr("get", errs.Timeout(ctx, nil))
	}
	m, err := q.r.get(ctx, filterMin, filterMax, true, true)
	return m, q.opErr("get", err)
}

// Peek returns the next message like Get but without waiting
// (PeekMessage): nil, nil when there is none. With remove (PM_REMOVE) the
// message is taken from the queue; without (PM_NOREMOVE) a posted message
// stays for the next Get. A sent message is always taken, and must be
// answered with Reply, as PeekMessage dispatches it in either mode.
func (q *Queue) Peek(filterMin, filterMax uint32, remove bool) (*Message, error) {
	m, err := q.r.get(context.Background(), filterMin, filterMax, remove, false)
	return m, q.opErr("peek", err)
}

// Serve runs a message loop: it gets every message and passes it to
// handler, replying to sent messages with handler's result (the window
// procedure's LRESULT). It returns nil after handling a WM_QUIT, and the
// error of Get otherwise (ctx ended, queue closed).
func (q *Queue) Serve(ctx context.Context, handler func(*Message) uintptr) error {
	for {
		m, err := q.Get(ctx, 0, 0)
		if err != nil {
			return err
		}
		res := handler(m)
		if m.Sent {
			// The sender may have given up meanwhile; the loop goes on.
			_ = m.Reply(res)
		}
		if m.Msg == WM_QUIT {
			return nil
		}
	}
}

// Close destroys the queue (DestroyWindow): a Get in progress fails with
// ErrClosed, sends waiting for the queue fail with ErrNotFound, and later
// posts and sends to the name fail with ErrNotFound. Closing twice gives
// ErrClosed.
func (q *Queue) Close() error {
	q.mu.Lock()
	closed := q.closed
	q.closed = true
	q.mu.Unlock()
	if closed {
		return q.opErr("close", errs.ErrClosed)
	}
	return q.opErr("close", q.r.close())
}

// Target is a sender's handle on a queue found by name. Its methods are
// safe for concurrent use.
type Target struct {
	s    sender
	name string
}

// Owner names the users whose queues a sender trusts besides its own user
// and the administrators (root; SYSTEM and Administrators on Windows), who
// are always trusted (see docs/security.md). The zero value adds no one.
type Owner struct {
	// User is one more trusted user: a user name or numeric uid on Unix, a
	// user name or SID string on Windows.
	User string
	// AnyUser trusts every user: the owner check is off, as in plain Win32.
	AnyUser bool
}

// Find finds the queue name (FindWindowEx(HWND_MESSAGE, …) and then
// FindWindow, on Windows); no live queue of that name gives ErrNotFound.
// A queue registered by a user other than the caller's own, the
// administrators and those the owners name fails with ErrAccessDenied
// naming its owner, so that a user who took the name first does not
// receive the caller's messages: on Unix the owner of the queue's file, on
// Windows the user of the window's process. An unknown user in owners is
// ErrInvalidParameter.
func Find(name string, owners ...Owner) (*Target, error) {
	if err := checkName(name); err != nil {
		return nil, errs.Op("find", kind, name, err)
	}
	any := false
	var users []string
	for _, o := range owners {
		any = any || o.AnyUser
		users = append(users, o.User)
	}
	trust, err := owner.New(any, users...)
	if err != nil {
		return nil, errs.Op("find", kind, name, err)
	}
	s, err := currentBackend().find(name, trust)
	if err != nil {
		return nil, errs.Op("find", kind, name, errs.FromSys(err))
	}
	return &Target{s: s, name: name}, nil
}

// Name returns the name the target was found by.
func (t *Target) Name() string { return t.name }

func (t *Target) opErr(op string, err error) error {
	if err == nil {
		return nil
	}
	return errs.Op(op, kind, t.name, errs.FromSys(err))
}

// Post queues a message and returns at once (PostMessage). A full queue
// gives ErrQuota, a queue that is gone ErrNotFound. WM_COPYDATA cannot be
// posted (ErrInvalidParameter; ERROR_MESSAGE_SYNC_ONLY in Win32).
func (t *Target) Post(msg uint32, wParam, lParam uintptr) error {
	if msg == WM_COPYDATA {
		return t.opErr("post", errs.New(errs.ErrInvalidParameter, errors.New("WM_COPYDATA can only be sent")))
	}
	return t.opErr("post", t.s.post(msg, wParam, lParam))
}

// Send delivers a message and waits for the receiver's Reply
// (SendMessageTimeout), returning its result. When ctx ends before the
// receiver has taken the message, the message is withdrawn (never
// delivered) and Send fails with the context's error, matching ErrTimeout
// for a deadline; when it ends after, the receiver still handles it but its
// result is lost. A receiver that closes or dies makes Send fail with
// ErrNotFound. On Windows only ctx's deadline can end a Send: a context
// that is cancelled without one is noticed only before the call.
func (t *Target) Send(ctx context.Context, msg uint32, wParam, lParam uintptr) (uintptr, error) {
	if msg == WM_COPYDATA {
		return 0, t.opErr("send", errs.New(errs.ErrInvalidParameter, errors.New("WM_COPYDATA carries data: use SendData")))
	}
	if err := ctx.Err(); err != nil {
		return 0, t.opErr("send", errs.Timeout(ctx, nil))
	}
	r, err := t.s.send(ctx, msg, wParam, lParam, nil, false)
	return r, t.opErr("send", err)
}

// SendData sends WM_COPYDATA carrying data, tagged with dwData, and waits
// for the result like Send. The receiver gets Msg WM_COPYDATA, LParam
// dwData and a copy of data in Message.Data.
func (t *Target) SendData(ctx context.Context, dwData uintptr, data []byte) (uintptr, error) {
	if err := ctx.Err(); err != nil {
		return 0, t.opErr("senddata", errs.Timeout(ctx, nil))
	}
	if data == nil {
		data = []byte{}
	}
	r, err := t.s.send(ctx, WM_COPYDATA, 0, dwData, data, false)
	return r, t.opErr("senddata", err)
}

// SendNotify delivers a message as a sent one (ahead of posted messages)
// but does not wait for its result (SendNotifyMessage); the receiver gets
// it with Sent false. In the Unix emulation it fails with ErrQuota when
// every send slot of the queue (32) is in use, instead of waiting.
func (t *Target) SendNotify(msg uint32, wParam, lParam uintptr) error {
	if msg == WM_COPYDATA {
		return t.opErr("sendnotify", errs.New(errs.ErrInvalidParameter, errors.New("WM_COPYDATA can only be sent with SendData")))
	}
	_, err := t.s.send(context.Background(), msg, wParam, lParam, nil, true)
	return t.opErr("sendnotify", err)
}

// Close releases the target; the queue is not affected.
func (t *Target) Close() error { return t.opErr("close", t.s.close()) }

// RegisterMessage returns the message number for name
// (RegisterWindowMessage): the same number, in 0xC000–0xFFFF, for the same
// name in every process of the machine, and different numbers for
// different names. Names are compared without regard to case. It returns 0
// when it fails, as Win32 does: for an empty or invalid name, or when the
// table is full or cannot be used.
func RegisterMessage(name string) uint32 {
	if checkName(name) != nil {
		return 0
	}
	return registerMessage(name)
}
