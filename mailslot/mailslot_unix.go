//go:build unix

package mailslot

// The Unix emulation: a unix datagram socket per slot under ROOT/mailslot,
// claimed through ns like a pipe, so a crashed reader's socket is replaced.
// Datagrams keep message boundaries and each writer's order, and a send is
// all or nothing.
//
// The kernel queues only net.unix.max_dgram_qlen datagrams (often 10) per
// receiving socket before senders block, but a Win32 writer does not wait for
// the reader. So a writer whose datagram does not fit kicks the slot: it
// sends a byte to the slot's second socket (PATH%kick, see names.Sibling) and waits for room.
// The kick wakes a pump goroutine that moves datagrams from the socket into
// a queue of up to QueueLimit bytes, and goes on doing so while no reader is
// in Read; writers wait only when that queue is full. While a reader is
// reading, it receives from the socket itself, and the pump, parked on the
// kick socket, costs nothing: no hand-off between goroutines and no timer on
// the hot path. A reader that finds the pump at the socket kicks it off with
// a deadline on the pump's own descriptor (a dup of the reader's). Every
// receive and queue operation happens under the slot's lock, queued messages
// first, so order is kept whoever receives, and Info, which drains the
// socket first, counts exactly.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/internal/names"
	"github.com/xipc/xipc/internal/ns"
	"github.com/xipc/xipc/internal/owner"
)

// QueueLimit bounds the bytes of messages a slot holds for its reader on
// Unix. Past it, writers wait for the reader (and Info's Count is exact only
// up to it).
const QueueLimit = 4 << 20

// freeMax and freeMaxBytes bound the buffers a slot keeps for reuse.
const freeMax, freeMaxBytes = 8, 256 << 10

// kickSuffix names a slot's kick socket (see names.Sibling).
const kickSuffix = "%kick"

var longAgo = time.Unix(1, 0)

type sysSlot struct {
	uc    *net.UnixConn // the reader's descriptor
	rc    syscall.RawConn
	puc   *net.UnixConn // the pump's: the same socket, its own deadline
	prc   syscall.RawConn
	kuc   *net.UnixConn // the kick socket: writers that found no room
	claim *ns.Claim
	max   int

	rmu sync.Mutex // one Read at a time: the read deadline is per descriptor

	mu        sync.Mutex
	queue     [][]byte // received, not yet read; oldest first
	head      int      // queue[head] is the next message
	queued    int      // bytes in queue[head:]
	free      [][]byte // buffers of messages read, for the next ones
	freeBytes int      // their capacity
	scratch   []byte   // one receive's worth
	reading   bool     // a reader is in read
	pumpIn    bool     // the pump waits on the socket
	kicked    bool     // writers kicked while a reader was in read: it drains
	nudged    bool     // Info woke the reader with a deadline in the past
	closed    bool
	wake      chan struct{} // for the pump: room freed, or close
	done      chan struct{} // closed when the pump has stopped

	// The reader's RawConn callback and its results, used under rmu.
	readFn   func(uintptr) bool
	deadline time.Time // the read deadline last set on uc
	rp       []byte
	rn       int
	rerr     error
	pumpFn   func(uintptr) bool
}

func create(m names.Mailslot, c *Config) (*sysSlot, error) {
	if c.Security.Group != "" {
		if _, err := ns.LookupGroup(c.Security.Group); err != nil {
			return nil, err
		}
	}
	claim, err := ns.Acquire(kind, m.Key(), fmt.Sprintf("%s\nmax %d", m, c.MaxMessageSize)+remoteInfo(c))
	if err != nil {
		return nil, err
	}
	s := &sysSlot{
		claim: claim, max: c.MaxMessageSize,
		scratch: make([]byte, c.MaxMessageSize+1),
		wake:    make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	if err := s.openSocket(c); err != nil {
		s.closeFiles()
		claim.Release()
		return nil, err
	}
	s.readFn, s.pumpFn = s.readerRead, s.pumpRead
	go s.pump()
	return s, nil
}

func (s *sysSlot) openSocket(c *Config) error {
	var err error
	if s.uc, err = net.ListenUnixgram("unixgram", &net.UnixAddr{Name: s.claim.Path, Net: "unixgram"}); err != nil {
		return errs.UnwrapNet(err)
	}
	if err := ns.Protect(s.claim.Path, c.Security.AllUsers, c.Security.Group); err != nil {
		return err
	}
	f, err := s.uc.File() // a dup
	if err != nil {
		return err
	}
	fc, err := net.FileConn(f)
	f.Close()
	if err != nil {
		return err
	}
	s.puc = fc.(*net.UnixConn)
	if s.rc, err = s.uc.SyscallConn(); err != nil {
		return err
	}
	if s.prc, err = s.puc.SyscallConn(); err != nil {
		return err
	}
	kick, err := s.claim.Extra(kickSuffix)
	if err != nil {
		return err
	}
	if s.kuc, err = net.ListenUnixgram("unixgram", &net.UnixAddr{Name: kick, Net: "unixgram"}); err != nil {
		return errs.UnwrapNet(err)
	}
	return ns.Protect(kick, c.Security.AllUsers, c.Security.Group)
}

func (s *sysSlot) closeFiles() error {
	var err error
	if s.uc != nil {
		err = s.uc.Close()
	}
	if s.puc != nil {
		s.puc.Close()
	}
	if s.kuc != nil {
		s.kuc.Close()
	}
	return errs.UnwrapNet(err)
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// recvLocked moves datagrams from the socket to the queue without waiting,
// until the socket is empty or the queue full. It reports whether the
// queue filled up. s.mu is held.
//
// Only a reader, or the pump while no reader is in read, may call it: a
// reader waiting in the poller must find the datagram that woke it. Linux
// checks a socket's readiness again when it reports an event, so a datagram
// moved to the queue between its arrival and that report leaves the
// reader asleep. Others call drainLocked.
func (s *sysSlot) recvLocked(fd int) (full bool, err error) {
	for s.queued < QueueLimit {
		n, err := s.recv(fd, s.scratch)
		if err != nil || n < 0 {
			return false, err
		}
		s.push(n)
	}
	return true, nil
}

// drainLocked is recvLocked for Info, which may run while a reader waits:
// if it moves anything, it wakes the reader, which then tries the queue.
// s.mu is held.
func (s *sysSlot) drainLocked(fd int) error {
	before := len(s.queue)
	_, err := s.recvLocked(fd)
	if s.reading && len(s.queue) != before {
		s.nudged = true
		s.uc.SetReadDeadline(longAgo)
	}
	return err
}

// recv receives one datagram into p without waiting; n < 0 means none.
func (s *sysSlot) recv(fd int, p []byte) (int, error) {
	for {
		// The descriptor is non-blocking (Go's poller set it so), and a
		// read of a datagram socket takes one datagram, without the
		// sender's address that recvfrom would decode and allocate.
		n, err := unix.Read(fd, p)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return -1, nil
		case err != nil:
			return 0, err
		case n > s.max:
			continue // cannot come from xipc writers, which check the size
		}
		return n, nil
	}
}

// push queues the n-byte message in s.scratch; s.mu is held.
func (s *sysSlot) push(n int) {
	var msg []byte
	for i := len(s.free) - 1; i >= 0; i-- {
		if b := s.free[i]; cap(b) >= n {
			msg = b[:n]
			s.freeBytes -= cap(b)
			s.free[i] = s.free[len(s.free)-1]
			s.free[len(s.free)-1] = nil
			s.free = s.free[:len(s.free)-1]
			break
		}
	}
	if msg == nil {
		msg = make([]byte, n)
	}
	copy(msg, s.scratch)
	s.queue = append(s.queue, msg)
	s.queued += n
}

// takeLocked removes the next message into p; s.mu is held and a message
// queued.
func (s *sysSlot) takeLocked(p []byte) (int, error) {
	msg := s.queue[s.head]
	if len(p) < len(msg) {
		return 0, errs.New(errs.ErrInsufficientBuffer, fmt.Errorf("the next message has %d bytes, the buffer %d", len(msg), len(p)))
	}
	wasFull := s.queued >= QueueLimit
	n := copy(p, msg)
	if len(s.free) < freeMax && s.freeBytes+cap(msg) <= freeMaxBytes {
		s.free = append(s.free, msg)
		s.freeBytes += cap(msg)
	}
	s.queue[s.head] = nil
	s.head++
	s.queued -= len(msg)
	if s.head == len(s.queue) {
		s.queue, s.head = s.queue[:0], 0
	} else if s.head > 64 && s.head*2 > len(s.queue) {
		s.queue = append(s.queue[:0], s.queue[s.head:]...)
		s.head = 0
	}
	if wasFull {
		signal(s.wake) // the pump may wait for room
	}
	return n, nil
}

// nextLocked returns the next message into p from the queue or, when the
// queue is empty, straight from the socket, without waiting. ok is false
// when there is none. s.mu is held.
func (s *sysSlot) nextLocked(fd int, p []byte) (n int, ok bool, err error) {
	if s.head < len(s.queue) {
		n, err = s.takeLocked(p)
		return n, true, err
	}
	if len(p) > s.max {
		// No copy: any message fits, and a longer datagram (not from an
		// xipc writer) still shows as one, which recv drops. With exactly
		// s.max bytes it would arrive cut to a message that looks whole.
		n, err = s.recv(fd, p)
		return n, n >= 0 || err != nil, err
	}
	n, err = s.recv(fd, s.scratch)
	if n < 0 || err != nil {
		return 0, err != nil, err
	}
	if n <= len(p) {
		return copy(p, s.scratch[:n]), true, nil
	}
	s.push(n) // so that a too-small p leaves it queued
	n, err = s.takeLocked(p)
	return n, true, err
}

// readerRead is the reader's RawConn callback.
func (s *sysSlot) readerRead(fd uintptr) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ok bool
	s.rn, ok, s.rerr = s.nextLocked(int(fd), s.rp)
	return ok
}

func (s *sysSlot) read(ctx context.Context, p []byte, deadline time.Time) (int, error) {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return 0, errs.ErrClosed
	}
	s.reading = true
	if s.pumpIn {
		s.puc.SetReadDeadline(longAgo) // off the socket: the reader takes over
	}
	if s.nudged {
		s.nudged = false
		s.deadline = longAgo // set again below
	}
	poll := !deadline.IsZero() && !time.Now().Before(deadline)
	var n int
	var ok bool
	var err error
	if poll {
		// RawConn.Read checks the deadline before trying: poll by hand.
		if cerr := s.rc.Control(func(fd uintptr) { n, ok, err = s.nextLocked(int(fd), p) }); cerr != nil {
			ok, err = true, errs.ErrClosed
		}
	}
	s.mu.Unlock()
	defer s.leave()
	switch {
	case ok:
		return n, err
	case poll:
		return 0, errs.ErrTimeout
	}
	if !deadline.Equal(s.deadline) {
		if err := s.uc.SetReadDeadline(deadline); err != nil {
			return 0, errs.ErrClosed
		}
		s.deadline = deadline
	}
	if ctx != nil && ctx.Done() != nil {
		fired := make(chan struct{})
		stop := context.AfterFunc(ctx, func() { s.uc.SetReadDeadline(longAgo); close(fired) })
		defer func() {
			if !stop() {
				// The callback has started: wait for it to set its
				// deadline, or it could land on the next read's.
				<-fired
				s.deadline = longAgo
			}
		}()
	}
	s.rp = p
	for {
		err = s.rc.Read(s.readFn) // tries the queue and the socket first, then waits
		if err == nil || !errors.Is(err, os.ErrDeadlineExceeded) || !s.unnudge(ctx, deadline) {
			break
		}
	}
	s.rp = nil
	switch {
	case err == nil:
		return s.rn, s.rerr
	case errors.Is(err, os.ErrDeadlineExceeded):
		if ctx != nil && ctx.Err() != nil {
			return 0, errs.Timeout(ctx, nil)
		}
		return 0, errs.ErrTimeout
	}
	return 0, errs.ErrClosed
}

// unnudge reports whether a read that ended with its deadline was woken by
// Info (drainLocked) and should wait again, and if so sets its deadline
// back. The read is still in s.rmu.
func (s *sysSlot) unnudge(ctx context.Context, deadline time.Time) bool {
	s.mu.Lock()
	nudged := s.nudged
	s.nudged = false
	s.mu.Unlock()
	if !nudged || !deadline.IsZero() && !time.Now().Before(deadline) {
		return false
	}
	if s.uc.SetReadDeadline(deadline) != nil {
		return false
	}
	s.deadline = deadline
	// A cancellation that set its deadline before ours is lost on the
	// descriptor, but not on the context.
	return ctx == nil || ctx.Err() == nil
}

// leave ends a read. If a writer kicked meanwhile, the reader moves what
// the socket holds to the queue, so that the writers go on, and does so at
// the end of every read until it finds the socket empty.
func (s *sysSlot) leave() {
	s.mu.Lock()
	s.reading = false
	if s.kicked && !s.closed {
		before := len(s.queue)
		s.rc.Control(func(fd uintptr) { s.recvLocked(int(fd)) }) //nolint:errcheck
		s.kicked = len(s.queue) != before
	}
	s.mu.Unlock()
}

// pumpRead is the pump's RawConn callback: drain what is there and wait for
// more, unless a reader has come or the queue is full.
func (s *sysSlot) pumpRead(fd uintptr) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.reading {
		return true
	}
	full, err := s.recvLocked(int(fd))
	return full || err != nil
}

// pump serves kicks: a writer found the socket full. It moves what the
// socket holds into the queue, waiting for room when the queue is full, and
// while no reader is in Read it goes on draining the socket as datagrams
// come, until a reader comes (and kicks it off the socket).
func (s *sysSlot) pump() {
	defer close(s.done)
	var kick [64]byte
	for {
		if _, err := s.kuc.Read(kick[:]); err != nil {
			return // closed
		}
		s.mu.Lock()
		for !s.closed && s.queued >= QueueLimit {
			s.mu.Unlock()
			<-s.wake // a read that frees room, or close
			s.mu.Lock()
		}
		if s.closed {
			s.mu.Unlock()
			return
		}
		if s.reading {
			// The reader is at the socket: it drains it when it leaves
			// (not the pump, which would take datagrams from under a
			// waiting reader, see recvLocked).
			s.kicked = true
			s.mu.Unlock()
			continue
		}
		s.pumpIn = true
		s.puc.SetReadDeadline(time.Time{}) // under s.mu: a reader's kick comes after
		s.mu.Unlock()
		err := s.prc.Read(s.pumpFn)
		s.mu.Lock()
		s.pumpIn = false
		s.mu.Unlock()
		if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			return // closed
		}
		// A reader came, or the queue is full: wait for the next kick
		// (writers kick whenever they find the socket full).
	}
}

func (s *sysSlot) info() (next, count int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, 0, errs.ErrClosed
	}
	var rerr error
	if err := s.rc.Control(func(fd uintptr) { rerr = s.drainLocked(int(fd)) }); err != nil {
		return 0, 0, errs.ErrClosed
	}
	if rerr != nil {
		return 0, 0, rerr
	}
	count = len(s.queue) - s.head
	if count == 0 {
		return NoMessage, 0, nil
	}
	return len(s.queue[s.head]), count, nil
}

// setTimeout has nothing to do on Unix: Slot keeps the timeout.
func (s *sysSlot) setTimeout(time.Duration) error { return nil }

func (s *sysSlot) close() error {
	s.mu.Lock()
	s.closed = true
	s.queue, s.head, s.queued = nil, 0, 0
	s.free, s.freeBytes = nil, 0
	s.mu.Unlock()
	// Remove the name first, so that writers fail from now on.
	s.claim.Release()
	err := s.closeFiles()
	signal(s.wake)
	<-s.done
	return err
}

type sysWriter struct {
	uc   *net.UnixConn
	rc   syscall.RawConn
	max  int
	kick string // the slot's kick socket

	kmu     sync.Mutex
	kc      *net.UnixConn   // dialed at the first kick
	krc     syscall.RawConn // kc's
	kt      *time.Timer     // kicks the slot while writes wait for room
	blocked int             // writes waiting for room, under kmu
	kdelay  time.Duration   // between kicks
}

// kickDelay is how long a write waits for room before it kicks the slot,
// and then between kicks while it waits. A reader that keeps up makes room
// sooner, and nobody kicks; one that does not is made to move the backlog
// to its queue in one go (see leave), which measured faster than letting
// the writers wait: with 4 writer processes, 20 µs gave 0.7-0.8 of the
// time of 100 µs, 1 µs 0.86, 1 ms 1.3.
//
// Plus kickPerByte for each byte of the message: a reader that keeps up
// takes longer to make room for a large one, and a kick costs it a copy
// through the queue. With 64 KiB messages one way, 3 ns (a first kick after
// 217 µs) took 0.85 of the time of none.
const (
	kickDelay   = 20 * time.Microsecond
	kickPerByte = 3 * time.Nanosecond
)

func open(m names.Mailslot, trust owner.Trust) (*sysWriter, error) {
	path, err := ns.Path(kind, m.Key())
	if err != nil {
		return nil, err
	}
	before, err := slotFile(path, trust)
	if err != nil {
		return nil, err
	}
	max, err := readMax(ns.LockPath(path), trust)
	if err != nil {
		return nil, err
	}
	uc, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		err = errs.UnwrapNet(err)
		if errors.Is(err, unix.EACCES) {
			// The socket's mode refuses us: Security says no.
			return nil, errs.New(errs.ErrAccessDenied, err)
		}
		// ENOENT: no slot; ECONNREFUSED: a crashed reader's socket.
		return nil, errs.New(errs.ErrNotFound, err)
	}
	if err := sameSlot(path, before, trust); err != nil {
		uc.Close()
		return nil, err
	}
	rc, err := uc.SyscallConn()
	if err != nil {
		uc.Close()
		return nil, err
	}
	return &sysWriter{uc: uc, rc: rc, max: max, kick: names.Sibling(path, kickSuffix)}, nil
}

// readMax reads the slot's MaxMessageSize from its lock file.
func readMax(lock string, trust owner.Trust) (int, error) {
	f, err := openLock(lock, trust)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "max "); ok {
			if n, err := strconv.Atoi(v); err == nil && n > 0 && n <= MaxMessage {
				return n, nil
			}
		}
	}
	// A lock file being rewritten, or not a slot's: treat it as absent.
	return 0, errs.New(errs.ErrNotFound, errors.New("no live mailslot"))
}

func (w *sysWriter) write(p []byte) (int, error) {
	if len(p) > w.max {
		return 0, errs.New(errs.ErrMessageTooLarge, fmt.Errorf("%d bytes, the slot takes at most %d", len(p), w.max))
	}
	var n int
	var werr error
	waited := false
	err := w.rc.Write(func(fd uintptr) bool {
		for {
			// A connected datagram socket: write sends one datagram,
			// whole or not at all.
			n, werr = unix.Write(int(fd), p)
			switch {
			case werr == unix.EINTR:
				continue
			case werr == unix.EAGAIN:
				// No room: the reader is slow, or away. Wait for room
				// (or the deadline); if that takes long, kick.
				if !waited {
					waited = true
					w.waiting(1, len(p))
				}
				return false
			}
			return true
		}
	})
	if waited {
		w.waiting(-1, 0)
	}
	if err == nil {
		err = werr
	}
	if err != nil {
		err = errs.UnwrapNet(err)
		if errors.Is(err, unix.ECONNREFUSED) || errors.Is(err, unix.ENOTCONN) {
			err = errs.New(errs.ErrNotFound, fmt.Errorf("the mailslot was closed: %w", err))
		}
		return 0, err
	}
	return n, nil
}

// waiting counts a write that starts (d = 1) or stops (-1) waiting for
// room, and keeps the kick timer armed while any does.
func (w *sysWriter) waiting(d, size int) {
	w.kmu.Lock()
	defer w.kmu.Unlock()
	w.blocked += d
	switch {
	case w.blocked == 1 && d > 0:
		w.kdelay = kickDelay + time.Duration(size)*kickPerByte
		if w.kt == nil {
			w.kt = time.AfterFunc(w.kdelay, w.kickFired)
		} else {
			w.kt.Reset(w.kdelay)
		}
	case w.blocked == 0 && w.kt != nil:
		w.kt.Stop()
	}
}

// kickFired kicks the slot, and again every w.kdelay while writes still
// wait: a kick that came while the reader was reading is served when that
// read ends, and the reader may then go away.
func (w *sysWriter) kickFired() {
	w.kmu.Lock()
	defer w.kmu.Unlock()
	if w.blocked > 0 {
		w.kickLocked()
		w.kt.Reset(w.kdelay)
	}
}

// kickLocked wakes the slot's pump, without waiting: a kick that finds the
// kick socket full or gone is dropped (kicks already wait there, or the
// slot has closed and the write will say so). w.kmu is held.
func (w *sysWriter) kickLocked() {
	if w.kc == nil {
		c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: w.kick, Net: "unixgram"})
		if err != nil {
			return
		}
		rc, err := c.SyscallConn()
		if err != nil {
			c.Close()
			return
		}
		w.kc, w.krc = c, rc
	}
	w.krc.Control(kickWrite) //nolint:errcheck
}

// kickByte is what a kick sends; kickWrite sends it on the kick socket's
// descriptor without waiting (a full kick socket drops it).
var kickByte = []byte{0}

func kickWrite(fd uintptr) { unix.Write(int(fd), kickByte) } //nolint:errcheck

func (w *sysWriter) setWriteDeadline(t time.Time) error {
	return errs.UnwrapNet(w.uc.SetWriteDeadline(t))
}

func (w *sysWriter) close() error {
	w.kmu.Lock()
	if w.kt != nil {
		w.kt.Stop()
	}
	if w.kc != nil {
		w.kc.Close()
	}
	w.kmu.Unlock()
	return errs.UnwrapNet(w.uc.Close())
}
