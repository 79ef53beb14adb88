//go:build unix

package mailslot

// The Unix emulation: a unix datagram socket per slot under ROOT/mailslot,
// claimed through ns like a pipe, so a crashed reader's socket is replaced.
// Datagrams keep message boundaries and each writer's order, and a send is
// all or nothing.
//
// The kernel queues only net.unix.max_dgram_qlen datagrams (often 10) per
// receiving socket before senders block. A Win32 writer does not wait for the
// reader, so the slot runs a pump goroutine that moves datagrams from the
// socket into a queue of up to QueueLimit bytes as they arrive; writers block
// only when that is full. Every receive and push happens under the slot's
// lock, so Info, which first drains the socket, counts exactly and order is
// kept whoever receives.

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
)

// QueueLimit bounds the bytes of messages a slot holds for its reader on
// Unix. Past it, writers wait for the reader (and Info's Count is exact only
// up to it).
const QueueLimit = 4 << 20

type sysSlot struct {
	uc    *net.UnixConn
	rc    syscall.RawConn
	claim *ns.Claim
	max   int

	mu      sync.Mutex
	queue   [][]byte // received, not yet read; oldest first
	head    int      // queue[head] is the next message
	queued  int      // bytes in queue[head:]
	scratch []byte   // one receive's worth
	pumpErr error
	closed  bool
	arrived chan struct{} // signalled when a message is queued
	room    chan struct{} // signalled when a read frees queue space
	pumpFn  func(uintptr) bool
	done    chan struct{} // closed when the pump has stopped
}

func create(m names.Mailslot, c *Config) (*sysSlot, error) {
	if c.Security.Group != "" {
		if _, err := ns.LookupGroup(c.Security.Group); err != nil {
			return nil, err
		}
	}
	claim, err := ns.Acquire(kind, m.Key(), fmt.Sprintf("%s\nmax %d", m, c.MaxMessageSize))
	if err != nil {
		return nil, err
	}
	uc, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: claim.Path, Net: "unixgram"})
	if err != nil {
		claim.Release()
		return nil, errs.UnwrapNet(err)
	}
	if err := ns.Protect(claim.Path, c.Security.AllUsers, c.Security.Group); err != nil {
		uc.Close()
		claim.Release()
		return nil, err
	}
	rc, err := uc.SyscallConn()
	if err != nil {
		uc.Close()
		claim.Release()
		return nil, err
	}
	s := &sysSlot{
		uc: uc, rc: rc, claim: claim, max: c.MaxMessageSize,
		scratch: make([]byte, c.MaxMessageSize+1),
		arrived: make(chan struct{}, 1),
		room:    make(chan struct{}, 1),
		done:    make(chan struct{}),
	}
	s.pumpFn = s.pumpRead
	go s.pump()
	return s, nil
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// recvLocked moves datagrams from the socket to the queue without waiting,
// until the socket is empty or the queue full. It reports whether the
// socket may have more. s.mu is held.
func (s *sysSlot) recvLocked(fd int) (more bool, err error) {
	for s.queued < QueueLimit {
		n, _, err := unix.Recvfrom(fd, s.scratch, unix.MSG_DONTWAIT)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return false, nil
		case err != nil:
			return false, err
		}
		if n > s.max {
			continue // cannot come from xipc writers, which check the size
		}
		msg := make([]byte, n)
		copy(msg, s.scratch)
		s.queue = append(s.queue, msg)
		s.queued += n
		signal(s.arrived)
	}
	return true, nil
}

// pumpRead is the pump's RawConn callback: drain what is there, then wait
// for more, or stop when the queue is full.
func (s *sysSlot) pumpRead(fd uintptr) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	more, err := s.recvLocked(int(fd))
	if err != nil {
		s.pumpErr = err
		return true
	}
	return more
}

func (s *sysSlot) pump() {
	defer close(s.done)
	for {
		if err := s.rc.Read(s.pumpFn); err != nil {
			return // closed
		}
		s.mu.Lock()
		full, closed, err := s.queued >= QueueLimit, s.closed, s.pumpErr
		s.mu.Unlock()
		if closed || err != nil {
			return
		}
		if full {
			<-s.room
		}
	}
}

// drain moves what the socket holds into the queue. s.mu is held.
func (s *sysSlot) drainLocked() error {
	var rerr error
	err := s.rc.Control(func(fd uintptr) { _, rerr = s.recvLocked(int(fd)) })
	if err != nil {
		return errs.UnwrapNet(err)
	}
	return rerr
}

// take removes the next message into p; s.mu is held and a message queued.
func (s *sysSlot) takeLocked(p []byte) (int, error) {
	msg := s.queue[s.head]
	if len(p) < len(msg) {
		return 0, errs.New(errs.ErrInsufficientBuffer, fmt.Errorf("the next message has %d bytes, the buffer %d", len(msg), len(p)))
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
	signal(s.room)
	return copy(p, msg), nil
}

func (s *sysSlot) read(ctx context.Context, p []byte, deadline time.Time) (int, error) {
	var timer *time.Timer
	var expired <-chan time.Time
	var ctxDone <-chan struct{}
	if ctx != nil {
		ctxDone = ctx.Done()
	}
	for {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return 0, errs.ErrClosed
		}
		if s.head == len(s.queue) {
			// The pump may not have run yet: what writers sent before
			// this call must be seen, even by a poll.
			if err := s.drainLocked(); err != nil {
				s.mu.Unlock()
				return 0, err
			}
		}
		if s.head < len(s.queue) {
			n, err := s.takeLocked(p)
			s.mu.Unlock()
			return n, err
		}
		s.mu.Unlock()
		if expired == nil && !deadline.IsZero() {
			d := time.Until(deadline)
			if d <= 0 {
				return 0, errs.ErrTimeout
			}
			timer = time.NewTimer(d)
			defer timer.Stop()
			expired = timer.C
		}
		select {
		case <-s.arrived:
		case <-expired:
			return 0, errs.ErrTimeout
		case <-ctxDone:
			return 0, errs.Timeout(ctx, nil)
		case <-s.done:
		}
	}
}

func (s *sysSlot) info() (next, count int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, 0, errs.ErrClosed
	}
	if err := s.drainLocked(); err != nil {
		return 0, 0, err
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
	s.mu.Unlock()
	// Remove the name first, so that writers fail from now on.
	s.claim.Release()
	err := s.uc.Close()
	signal(s.room)
	<-s.done
	return errs.UnwrapNet(err)
}

type sysWriter struct {
	uc  *net.UnixConn
	max int
}

func open(m names.Mailslot) (*sysWriter, error) {
	path, err := ns.Path(kind, m.Key())
	if err != nil {
		return nil, err
	}
	max, err := readMax(path + ".lock")
	if err != nil {
		return nil, err
	}
	uc, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		// ENOENT: no slot; ECONNREFUSED: a crashed reader's socket.
		return nil, errs.New(errs.ErrNotFound, errs.UnwrapNet(err))
	}
	return &sysWriter{uc: uc, max: max}, nil
}

// readMax reads the slot's MaxMessageSize from its lock file.
func readMax(lock string) (int, error) {
	f, err := os.Open(lock)
	if err != nil {
		return 0, errs.FromSys(err)
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
	n, err := w.uc.Write(p)
	if err != nil {
		err = errs.UnwrapNet(err)
		if errors.Is(err, unix.ECONNREFUSED) || errors.Is(err, unix.ENOTCONN) {
			err = errs.New(errs.ErrNotFound, fmt.Errorf("the mailslot was closed: %w", err))
		}
		return 0, err
	}
	return n, nil
}

func (w *sysWriter) setWriteDeadline(t time.Time) error {
	return errs.UnwrapNet(w.uc.SetWriteDeadline(t))
}

func (w *sysWriter) close() error { return errs.UnwrapNet(w.uc.Close()) }
