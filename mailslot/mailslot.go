// Package mailslot provides Win32 mailslots: one-way datagram slots with
// one reader and any number of writers. On Windows it calls CreateMailslot,
// GetMailslotInfo, SetMailslotInfo and CreateFile/WriteFile; on Linux and
// other Unix systems an emulation over a unix datagram socket gives the same
// behaviour.
//
// The reader calls Create and then Read (one whole message per call); a
// writer calls Open and then Write (one message per call). A writer never
// waits for the reader to read; messages from one writer arrive in the
// order it wrote them, whole or not at all.
//
// Names are `\\.\mailslot\[PATH\]NAME` or a bare `[PATH\]NAME`; they are
// case-insensitive. On Linux, Open of `\\HOST\mailslot\NAME` sends each
// message as a signed UDP datagram to HOST's xipc gateway, and
// `\\*\mailslot\NAME` broadcasts it to every gateway on the network
// segment; such messages hold at most 424 bytes, as on Windows, and may be
// lost, never cut (see docs/network.md). Only slots created with
// Config.RemoteWriters receive them.
package mailslot

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/internal/names"
	"github.com/xipc/xipc/internal/owner"
)

// WaitForever is the ReadTimeout that waits for a message without limit
// (MAILSLOT_WAIT_FOREVER).
const WaitForever time.Duration = -1

// NoMessage is Info.NextSize when no message is waiting
// (MAILSLOT_NO_MESSAGE, 0xFFFFFFFF in Win32).
const NoMessage = -1

// MaxMessage is the largest message the Unix emulation carries, and so the
// largest MaxMessageSize it accepts; a MaxMessageSize of 0 means this.
// Windows has no such limit for local slots, but xipc keeps one number on
// every OS so that programs behave alike.
const MaxMessage = 64 << 10

// Security says who besides the creating user may write to a slot. The zero
// value is owner-only: the creating user (and root / Administrators and
// SYSTEM).
type Security struct {
	// AllUsers admits every user of the machine.
	AllUsers bool
	// Group admits members of this group: a group name or numeric gid on
	// Unix, a group name or SID string on Windows.
	Group string
}

// Config holds the options of Create, the parameters of CreateMailslot.
type Config struct {
	// MaxMessageSize is the largest message writers may send, 1..MaxMessage;
	// 0 means MaxMessage. Larger writes fail at the writer.
	MaxMessageSize int
	// ReadTimeout is how long Read waits for a message: 0 returns at once
	// (poll), WaitForever waits without limit. The zero value polls, as in
	// Win32.
	ReadTimeout time.Duration
	// Security says who may write; the zero value is owner-only.
	Security Security
	// RemoteWriters lets the xipc gateway deliver messages from other
	// machines to this slot (Linux). Windows mailslots always accept
	// them.
	RemoteWriters bool
}

// Info is what GetMailslotInfo reports.
type Info struct {
	MaxMessageSize int           // the slot's limit
	NextSize       int           // size of the next message, or NoMessage
	Count          int           // messages waiting
	ReadTimeout    time.Duration // the current read timeout
}

const kind = "mailslot"

// Slot is the reading end of a mailslot. Its methods are safe for
// concurrent use.
type Slot struct {
	s    *sysSlot
	name names.Mailslot
	max  int

	mu      sync.Mutex
	timeout time.Duration
	closed  bool
}

// Create creates the mailslot name and returns its reading end. A name
// that exists gives ErrExists; a slot left by a crashed process does not
// count.
func Create(name string, cfg *Config) (*Slot, error) {
	m, err := names.ParseMailslot(name)
	if err != nil {
		return nil, errs.Op("create", kind, name, err)
	}
	var c Config
	if cfg != nil {
		c = *cfg
	}
	if c.MaxMessageSize == 0 {
		c.MaxMessageSize = MaxMessage
	}
	if err := checkConfig(&c); err != nil {
		return nil, errs.Op("create", kind, m.String(), err)
	}
	if !m.Local() {
		return nil, errs.Op("create", kind, m.String(), errs.New(errs.ErrInvalidParameter, errors.New("a mailslot can only be created on this machine")))
	}
	s, err := create(m, &c)
	if err != nil {
		return nil, errs.Op("create", kind, m.String(), errs.FromSys(err))
	}
	return &Slot{s: s, name: m, max: c.MaxMessageSize, timeout: c.ReadTimeout}, nil
}

func checkConfig(c *Config) error {
	if c.MaxMessageSize < 0 || c.MaxMessageSize > MaxMessage {
		return errs.New(errs.ErrInvalidParameter, fmt.Errorf("MaxMessageSize %d is outside 0..%d", c.MaxMessageSize, MaxMessage))
	}
	return checkTimeout(c.ReadTimeout)
}

func checkTimeout(d time.Duration) error {
	if d < 0 && d != WaitForever {
		return errs.New(errs.ErrInvalidParameter, fmt.Errorf("read timeout %v: want >= 0 or WaitForever", d))
	}
	return nil
}

// Name returns the slot's full name.
func (s *Slot) Name() string { return s.name.String() }

func (s *Slot) opErr(op string, err error) error {
	if err == nil {
		return nil
	}
	return errs.Op(op, kind, s.name.String(), errs.FromSys(err))
}

// Read reads the next message into p and returns its length, waiting up to
// the read timeout. A p shorter than the message gives ErrInsufficientBuffer
// and the message stays queued (ReadFile). No message in time gives an error
// matching ErrTimeout (os.ErrDeadlineExceeded); ERROR_SEM_TIMEOUT in Win32.
func (s *Slot) Read(p []byte) (int, error) {
	s.mu.Lock()
	d := s.timeout
	s.mu.Unlock()
	var deadline time.Time
	switch {
	case d == 0:
		deadline = time.Now() // poll
	case d > 0:
		deadline = time.Now().Add(d)
	}
	n, err := s.s.read(nil, p, deadline)
	return n, s.opErr("read", err)
}

// ReadContext is Read that waits until ctx ends instead of the read timeout.
func (s *Slot) ReadContext(ctx context.Context, p []byte) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, s.opErr("read", errs.Timeout(ctx, nil))
	}
	deadline, hasDeadline := ctx.Deadline()
	n, err := s.s.read(ctx, p, deadline)
	if err != nil && errors.Is(err, errs.ErrTimeout) &&
		(ctx.Err() != nil || hasDeadline && !time.Now().Before(deadline)) {
		// The context's own timer may not have fired yet: it still ended.
		err = errs.Timeout(ctx, nil)
	}
	return n, s.opErr("read", err)
}

// ReadMsg reads the next message into a new slice of its exact size,
// waiting up to the read timeout.
func (s *Slot) ReadMsg() ([]byte, error) {
	p := make([]byte, s.max)
	n, err := s.Read(p)
	if err != nil {
		return nil, err
	}
	return p[:n:n], nil
}

// Info returns the slot's limits and what is waiting in it
// (GetMailslotInfo). Count and NextSize are exact at the moment of the
// call, while writers write.
func (s *Slot) Info() (Info, error) {
	next, count, err := s.s.info()
	if err != nil {
		return Info{}, s.opErr("info", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return Info{MaxMessageSize: s.max, NextSize: next, Count: count, ReadTimeout: s.timeout}, nil
}

// SetReadTimeout changes the read timeout for later reads
// (SetMailslotInfo).
func (s *Slot) SetReadTimeout(d time.Duration) error {
	if err := checkTimeout(d); err != nil {
		return s.opErr("set read timeout", err)
	}
	s.mu.Lock()
	s.timeout = d
	s.mu.Unlock()
	return s.opErr("set read timeout", s.s.setTimeout(d))
}

// Close deletes the slot and the messages waiting in it; a pending Read
// returns an error matching ErrClosed, and writers' later writes fail.
func (s *Slot) Close() error {
	s.mu.Lock()
	closed := s.closed
	s.closed = true
	s.mu.Unlock()
	if closed {
		return s.opErr("close", errs.ErrClosed)
	}
	return s.opErr("close", s.s.close())
}

// Writer is the writing end of a mailslot.
type Writer struct {
	w    *sysWriter
	net  *netWriter // a network mailslot's writer, or nil
	name names.Mailslot
}

// Owner names the users whose slots a writer trusts besides its own user
// and the administrators (root; SYSTEM and Administrators on Windows), who
// are always trusted (see docs/security.md). The zero value adds no one.
type Owner struct {
	// User is one more trusted user: a user name or numeric uid on Unix, a
	// user name or SID string on Windows.
	User string
	// AnyUser trusts every user: the owner check is off, as in plain Win32.
	AnyUser bool
}

// Open opens the mailslot name for writing (CreateFile with GENERIC_WRITE).
// A name with no slot gives ErrNotFound. A slot created by a user other
// than the caller's own, the administrators and those the owners name
// fails with ErrAccessDenied, so that a user who took the name first does
// not receive the messages.
func Open(name string, owners ...Owner) (*Writer, error) {
	m, err := names.ParseMailslot(name)
	if err != nil {
		return nil, errs.Op("open", kind, name, err)
	}
	if !m.Local() {
		nw, err := openNet(m)
		if err != nil {
			return nil, errs.Op("open", kind, m.String(), err)
		}
		return &Writer{net: nw, name: m}, nil
	}
	any := false
	var users []string
	for _, o := range owners {
		any = any || o.AnyUser
		users = append(users, o.User)
	}
	trust, err := owner.New(any, users...)
	if err != nil {
		return nil, errs.Op("open", kind, m.String(), err)
	}
	w, err := open(m, trust)
	if err != nil {
		return nil, errs.Op("open", kind, m.String(), errs.FromSys(err))
	}
	return &Writer{w: w, name: m}, nil
}

// Write sends p as one message. It does not wait for the reader to read it;
// it waits only while the slot's queue is full (see SetWriteDeadline). A
// message longer than the slot's MaxMessageSize fails with
// ErrMessageTooLarge and nothing is delivered. When the slot has been
// closed, Write fails with ErrNotFound.
func (w *Writer) Write(p []byte) (int, error) {
	if w.net != nil {
		n, err := w.net.write(p)
		return n, errs.Op("write", kind, w.name.String(), err)
	}
	n, err := w.w.write(p)
	if err != nil {
		return 0, errs.Op("write", kind, w.name.String(), errs.FromSys(err))
	}
	return n, nil
}

// SetWriteDeadline bounds how long Write may wait while the slot's queue is
// full (the reader is not keeping up); a Write past it fails with an error
// matching ErrTimeout. The zero time waits without limit.
func (w *Writer) SetWriteDeadline(t time.Time) error {
	if w.net != nil {
		return errs.Op("set deadline", kind, w.name.String(), w.net.setWriteDeadline(t))
	}
	return errs.Op("set deadline", kind, w.name.String(), errs.FromSys(w.w.setWriteDeadline(t)))
}

// Close closes the writer.
func (w *Writer) Close() error {
	if w.net != nil {
		return errs.Op("close", kind, w.name.String(), w.net.close())
	}
	return errs.Op("close", kind, w.name.String(), errs.FromSys(w.w.close()))
}
