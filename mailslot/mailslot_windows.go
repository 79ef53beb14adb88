package mailslot

// The Windows backend: real mailslots (CreateMailslot, GetMailslotInfo,
// CreateFile, ReadFile, WriteFile).
//
// Reading. CreateMailslot's handle is asynchronous on Windows: reads are
// overlapped ReadFile calls completed through an I/O completion port, with
// the slot's own read timeout left at MAILSLOT_WAIT_FOREVER; xipc's deadline,
// the context and Close end a pending read with CancelIoEx. Win32 itself
// keeps a message that does not fit the buffer (ERROR_INSUFFICIENT_BUFFER)
// and counts the messages exactly.
//
// Wine 8 builds a mailslot on a Unix datagram socket pair inside wineserver,
// and differs from Windows in ways xipc cannot accept:
//   - the reading handle is synchronous (FILE_SYNCHRONOUS_IO_NONALERT), so an
//     overlapped ReadFile blocks its thread and cannot be cancelled;
//   - a buffer shorter than the message truncates it and the rest is lost;
//   - GetMailslotInfo's message count is 0 or 1;
//   - a zero-length message reads as ERROR_BROKEN_PIPE (and is consumed);
//   - writers wait once the socket's buffer is full (a few hundred small
//     messages) instead of never.
// So when the handle is synchronous, a drainer goroutine moves messages from
// the slot into a queue in this process (up to a few MiB), reading with a
// short slot timeout (drainSlice) so that it notices Close. Reads, Info and
// ErrInsufficientBuffer then work on the queue, as in the Unix emulation;
// Info and a polling read first drain what the slot holds.
//
// Writing. Each WriteFile is one message; Windows completes it at once.
// Under Wine a write waits while the slot's socket is full, so writers write
// through an overlapped handle, whose waits end at the write deadline and at
// Close; except when the slot's marker (below) says that its reader drains
// it and has room: then no write waits, and a synchronous handle, which
// costs a hundredth of an overlapped write under Wine, does.
//
// Neither Windows (as far as documented) nor Wine reports to a writer that
// the slot's reader has closed it, and Wine accepts messages larger than the
// slot's maximum. So each slot publishes a small named mapping, its marker,
// holding its maximum size, its owner's process ID, a generation and its
// state; writers read the maximum from it and check before each write that
// the slot they opened is still alive (same generation, not closed, owner
// not dead). A slot of another program has no marker; writes to it get what
// the system gives.
//
// Wine also keeps a mailslot (and its name) alive while a writer holds a
// handle on it, so a closed slot's name could not be created again. A writer
// that finds its slot gone closes its handle, and Create closes the handles
// of this process's writers whose slot is gone before it gives up with
// ErrExists.

//go:generate go run golang.org/x/sys/windows/mkwinsyscall -output zsyscall_windows.go mailslot_windows.go

//sys	createMailslot(name *uint16, maxMessageSize uint32, readTimeout uint32, sa *windows.SecurityAttributes) (h windows.Handle, err error) [failretval==windows.InvalidHandle] = kernel32.CreateMailslotW
//sys	getMailslotInfo(h windows.Handle, maxMessageSize *uint32, nextSize *uint32, messageCount *uint32, readTimeout *uint32) (err error) = kernel32.GetMailslotInfo
//sys	setMailslotInfo(h windows.Handle, readTimeout uint32) (err error) = kernel32.SetMailslotInfo
//sys	openFileMapping(access uint32, inherit bool, name *uint16) (h windows.Handle, err error) = kernel32.OpenFileMappingW

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/internal/names"
	"github.com/xipc/xipc/internal/owner"
	"github.com/xipc/xipc/internal/winsec"
)

const (
	mailslotWaitForever = 0xFFFFFFFF // MAILSLOT_WAIT_FOREVER
	mailslotNoMessage   = 0xFFFFFFFF // MAILSLOT_NO_MESSAGE

	// drainSlice is the slot's read timeout while the drainer waits on a
	// synchronous handle: how long Close, Info and a polling read may wait
	// for it.
	drainSlice = 10 // milliseconds
	// drainLimit is how many bytes the drainer holds for the reader before
	// writers are told that a write may wait (flagFull), and drainSlack how
	// many more it takes before it stops: room for the writes already on
	// their way through synchronous handles, which cannot be stopped.
	drainLimit = 4 << 20
	drainSlack = 1 << 20
	// writeSlice bounds each wait of a write that went pending (Wine with a
	// full slot), so that it notices Close and a dead slot.
	writeSlice = 100 * time.Millisecond
	// markerWait is how long Open waits for a slot it opened to publish
	// its marker, when the marker it finds is an older slot's.
	markerWait = 200 * time.Millisecond
	// pollerIdle is how long the completion goroutine waits with nothing
	// in flight before it exits.
	pollerIdle = 100 // milliseconds

	fileModeInformation = 16 // FILE_INFORMATION_CLASS FileModeInformation
)

// errGone is a write to a slot whose reader has closed it or died.
var errGone = errs.New(errs.ErrNotFound, errors.New("the mailslot was closed by its reader"))

// ---------------------------------------------------------------------------
// The completion port, for overlapped reads on asynchronous slot handles.

// Completion keys of the packets on the port.
const (
	keyIO   uintptr = iota + 1 // an overlapped read on a slot
	keyWake                    // wakes the goroutine to recount
)

type ioResult struct {
	n   uint32
	err error
}

// ioOp is one overlapped call. The kernel holds &o until its packet is
// dequeued, so an op lives in the heap and the goroutine waiting on done
// keeps it, and its buffer, alive until then.
type ioOp struct {
	o    windows.Overlapped // first: the packet's overlapped pointer is the op
	qty  uint32
	buf  []byte // keeps the buffer in the heap while the call runs
	done chan ioResult
}

// port is the package's completion port. The handles on it are not in
// FILE_SKIP_COMPLETION_PORT_ON_SUCCESS mode: every call that does not fail
// at once queues exactly one packet. inflight counts the packets to come;
// the goroutine draining the port exits once it has been 0 for pollerIdle.
type port struct {
	once sync.Once
	h    windows.Handle
	err  error

	mu       sync.Mutex
	inflight int
	running  bool
	forever  bool // the goroutine is in an INFINITE wait
}

var iocp port

func (p *port) associate(h windows.Handle) error {
	p.once.Do(func() {
		p.h, p.err = windows.CreateIoCompletionPort(windows.InvalidHandle, 0, 0, 0)
	})
	if p.err != nil {
		return p.err
	}
	_, err := windows.CreateIoCompletionPort(h, p.h, keyIO, 0)
	return err
}

// begin counts the packet of a call about to be made.
func (p *port) begin() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inflight++
	if !p.running {
		p.running = true
		go p.loop()
	}
}

// failed uncounts the packet of a call that failed at once.
func (p *port) failed() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inflight--
	if p.inflight == 0 && p.forever {
		// Wake the goroutine so that it can time out and exit.
		p.forever = false
		if err := windows.PostQueuedCompletionStatus(p.h, 0, keyWake, nil); err != nil {
			return // it then stays until the next packet; harmless
		}
	}
}

func (p *port) loop() {
	for {
		p.mu.Lock()
		timeout := uint32(windows.INFINITE)
		if p.inflight == 0 {
			timeout = pollerIdle
		}
		p.forever = p.inflight > 0
		p.mu.Unlock()

		var n uint32
		var key uintptr
		var o *windows.Overlapped
		err := windows.GetQueuedCompletionStatus(p.h, &n, &key, &o, timeout)
		if o == nil {
			// A timeout, a wake-up, or a failure of the port itself.
			p.mu.Lock()
			if p.inflight == 0 && err == windows.WAIT_TIMEOUT {
				p.running = false
				p.mu.Unlock()
				return
			}
			p.mu.Unlock()
			if err != nil && err != windows.WAIT_TIMEOUT {
				time.Sleep(time.Millisecond) // do not spin on a broken port
			}
			continue
		}
		op := (*ioOp)(unsafe.Pointer(o))
		p.mu.Lock()
		p.inflight--
		p.mu.Unlock()
		op.done <- ioResult{n, err}
	}
}

// ---------------------------------------------------------------------------
// The reading end.

type sysSlot struct {
	h      windows.Handle
	max    int
	queued bool // a synchronous handle: the drainer and the queue below
	marker *marker

	mu      sync.RWMutex
	closing bool
	ended   chan struct{}  // closed by close
	wg      sync.WaitGroup // calls using h

	// The queue of a synchronous handle.
	rmu     sync.Mutex // receives from h: the drainer, drain
	scratch []byte     // one receive's worth (rmu)
	drained chan struct{}

	qmu     sync.Mutex
	queue   [][]byte // oldest first
	head    int      // queue[head] is the next message
	bytes   int      // in queue[head:]
	waiting int      // readers waiting on arrived
	arrived chan struct{}
	room    chan struct{} // for the drainer, when the queue was full
}

func create(m names.Mailslot, c *Config) (*sysSlot, error) {
	path, err := windows.UTF16PtrFromString(m.String())
	if err != nil {
		return nil, errs.New(errs.ErrInvalidName, err)
	}
	slotSD, markerSD, err := securityDescriptors(c.Security)
	if err != nil {
		return nil, err
	}
	sa := &windows.SecurityAttributes{Length: uint32(unsafe.Sizeof(windows.SecurityAttributes{})), SecurityDescriptor: slotSD}
	h, err := createMailslot(path, uint32(c.MaxMessageSize), mailslotWaitForever, sa)
	if err == windows.ERROR_ALREADY_EXISTS && dropStaleWriters(m.Key()) {
		h, err = createMailslot(path, uint32(c.MaxMessageSize), mailslotWaitForever, sa)
	}
	if err != nil {
		return nil, err
	}
	s := &sysSlot{h: h, max: c.MaxMessageSize, ended: make(chan struct{})}
	s.queued = synchronous(h)
	if s.queued {
		err = setMailslotInfo(h, drainSlice)
	} else {
		err = iocp.associate(h)
	}
	if err != nil {
		windows.CloseHandle(h) //nolint:errcheck // err is the one to report
		return nil, err
	}
	var flags uint32
	if s.queued {
		flags = flagDrained
	}
	s.marker = publish(m, c.MaxMessageSize, flags, markerSD)
	if s.queued {
		s.scratch = make([]byte, MaxMessage+1)
		s.arrived = make(chan struct{})
		s.room = make(chan struct{}, 1)
		s.drained = make(chan struct{})
		go s.drainer()
	}
	return s, nil
}

// synchronous reports whether h was opened for synchronous I/O, which is
// what Wine 8 gives CreateMailslot. If it cannot tell, it takes Windows'
// documented behaviour: asynchronous.
func synchronous(h windows.Handle) bool {
	var iosb windows.IO_STATUS_BLOCK
	var mode uint32
	if err := windows.NtQueryInformationFile(h, &iosb, (*byte)(unsafe.Pointer(&mode)), 4, fileModeInformation); err != nil {
		return false
	}
	return mode&(windows.FILE_SYNCHRONOUS_IO_ALERT|windows.FILE_SYNCHRONOUS_IO_NONALERT) != 0
}

// enter counts a call that uses h; false once the slot is closing.
func (s *sysSlot) enter() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closing {
		return false
	}
	s.wg.Add(1)
	return true
}

func (s *sysSlot) read(ctx context.Context, p []byte, deadline time.Time) (int, error) {
	if !s.enter() {
		return 0, errs.ErrClosed
	}
	defer s.wg.Done()
	if s.queued {
		return s.readQueue(ctx, p, deadline)
	}
	for {
		n, err := s.readFile(ctx, p, deadline)
		if err == windows.ERROR_INSUFFICIENT_BUFFER {
			// Win32 kept the message. One over the slot's maximum can only
			// come from a writer that is not xipc (xipc writers check):
			// drop it, as the writer should have been refused. Polling:
			// another Read may take it first.
			if next, _, ierr := s.infoFile(); ierr == nil && next > s.max {
				_, derr := s.readFile(nil, make([]byte, next), time.Now())
				if derr == nil || derr == errs.ErrTimeout {
					continue
				}
			}
			return 0, errs.New(errs.ErrInsufficientBuffer, err)
		}
		return n, err
	}
}

// readFile reads one message with an overlapped ReadFile and waits for it,
// for the deadline, for ctx, or for close.
func (s *sysSlot) readFile(ctx context.Context, p []byte, deadline time.Time) (int, error) {
	op := &ioOp{buf: p, done: make(chan ioResult, 1)}
	iocp.begin()
	err := windows.ReadFile(s.h, p, &op.qty, &op.o)
	if err != nil && err != windows.ERROR_IO_PENDING {
		iocp.failed()
		return 0, readErr(err)
	}
	var r ioResult
	if err == nil {
		r = <-op.done // completed; its packet is on its way
	} else {
		var expired <-chan time.Time
		if !deadline.IsZero() {
			t := time.NewTimer(time.Until(deadline))
			defer t.Stop()
			expired = t.C
		}
		var ctxDone <-chan struct{}
		if ctx != nil {
			ctxDone = ctx.Done()
		}
		select {
		case r = <-op.done:
		case <-expired:
			r = s.cancel(op)
		case <-ctxDone:
			r = s.cancel(op)
		case <-s.ended:
			r = s.cancel(op)
		}
	}
	if r.err == windows.ERROR_OPERATION_ABORTED {
		select {
		case <-s.ended:
			return 0, errs.ErrClosed
		default:
		}
		if ctx != nil && ctx.Err() != nil {
			return 0, errs.Timeout(ctx, nil)
		}
		return 0, timedOut(ctx, deadline)
	}
	if r.err != nil {
		return 0, readErr(r.err)
	}
	return int(r.n), nil
}

// cancel cancels op and waits for its packet, which always comes:
// ERROR_OPERATION_ABORTED, or the result when the read completed meanwhile.
func (s *sysSlot) cancel(op *ioOp) ioResult {
	if err := windows.CancelIoEx(s.h, &op.o); err != nil {
		_ = err // ERROR_NOT_FOUND: it completed; the packet comes anyway
	}
	return <-op.done
}

// timedOut is the error of a read whose deadline passed. When that deadline
// is ctx's, ctx's own timer is about to fire: wait for it, so that the error
// matches context.DeadlineExceeded too.
func timedOut(ctx context.Context, deadline time.Time) error {
	if ctx != nil {
		if dl, ok := ctx.Deadline(); ok && !dl.After(deadline) {
			<-ctx.Done()
			return errs.Timeout(ctx, nil)
		}
	}
	return errs.ErrTimeout
}

func readErr(err error) error {
	if err == windows.ERROR_SEM_TIMEOUT {
		return errs.ErrTimeout
	}
	return err
}

// infoFile is GetMailslotInfo's next size and count.
func (s *sysSlot) infoFile() (next, count int, err error) {
	var n, c uint32
	if err := getMailslotInfo(s.h, nil, &n, &c, nil); err != nil {
		return 0, 0, err
	}
	if n == mailslotNoMessage {
		return NoMessage, int(c), nil
	}
	return int(n), int(c), nil
}

func (s *sysSlot) info() (next, count int, err error) {
	if !s.enter() {
		return 0, 0, errs.ErrClosed
	}
	defer s.wg.Done()
	if !s.queued {
		return s.infoFile()
	}
	s.rmu.Lock()
	full, err := s.drainLocked()
	var kernel int
	if err == nil && full {
		// Past the queue's limit the rest stays in the slot, where Wine
		// counts at most one message.
		if next, c, ierr := s.infoFile(); ierr == nil && next != NoMessage {
			kernel = max(c, 1)
		}
	}
	s.rmu.Unlock()
	if err != nil {
		return 0, 0, err
	}
	s.qmu.Lock()
	defer s.qmu.Unlock()
	count = len(s.queue) - s.head + kernel
	if s.head == len(s.queue) {
		return NoMessage, count, nil
	}
	return len(s.queue[s.head]), count, nil
}

// setTimeout has nothing to do: reads wait through xipc's own timer, so the
// slot's own timeout stays at what the reads need (MAILSLOT_WAIT_FOREVER, or
// drainSlice for the drainer), and Slot keeps the timeout for Info.
func (s *sysSlot) setTimeout(time.Duration) error { return nil }

func (s *sysSlot) close() error {
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return errs.ErrClosed
	}
	s.closing = true
	close(s.ended)
	s.mu.Unlock()
	// Writers fail from now on.
	s.marker.close()
	if s.queued {
		<-s.drained // within drainSlice
	} else if err := windows.CancelIoEx(s.h, nil); err != nil {
		_ = err // ERROR_NOT_FOUND: no read was pending
	}
	s.wg.Wait()
	if s.queued {
		s.discard()
	}
	return windows.CloseHandle(s.h)
}

// ---------------------------------------------------------------------------
// The queue of a synchronous slot handle (Wine).

// drainer moves messages from the slot into the queue until the slot
// closes. Each ReadFile waits at most drainSlice.
func (s *sysSlot) drainer() {
	defer close(s.drained)
	for {
		select {
		case <-s.ended:
			return
		default:
		}
		s.qmu.Lock()
		full := s.bytes >= drainLimit+drainSlack
		s.qmu.Unlock()
		if full {
			select {
			case <-s.room:
			case <-s.ended:
				return
			}
			continue
		}
		s.rmu.Lock()
		_, err := s.receiveLocked()
		s.rmu.Unlock()
		if err != nil {
			select {
			case <-s.ended:
				return
			case <-time.After(drainSlice * time.Millisecond): // unexpected: do not spin
			}
		}
	}
}

// receiveLocked reads one message from the slot into the queue, waiting up
// to the slot's timeout; got is false when none came. s.rmu is held.
func (s *sysSlot) receiveLocked() (got bool, err error) {
	var n uint32
	err = windows.ReadFile(s.h, s.scratch, &n, nil)
	switch {
	case err == windows.ERROR_SEM_TIMEOUT:
		return false, nil
	case err == windows.ERROR_BROKEN_PIPE:
		// Wine's read of a zero-length datagram.
		n, err = 0, nil
	case err == windows.ERROR_INSUFFICIENT_BUFFER:
		// Windows keeps a message larger than the buffer, larger than
		// MaxMessage: it cannot be an xipc writer's. Take it off.
		if next, _, ierr := s.infoFile(); ierr == nil && next != NoMessage {
			if derr := windows.ReadFile(s.h, make([]byte, next), &n, nil); derr == nil {
				return true, nil
			}
		}
		return false, err
	case err != nil:
		return false, err
	}
	if int(n) > s.max {
		// Over the slot's maximum (Wine does not refuse it; a truncated
		// one fills scratch): only a writer that is not xipc sends that.
		return true, nil
	}
	msg := make([]byte, n)
	copy(msg, s.scratch[:n])
	s.push(msg)
	return true, nil
}

// drainLocked moves every message the slot holds into the queue, without
// waiting; full reports that it stopped at the queue's limit. s.rmu is
// held.
func (s *sysSlot) drainLocked() (full bool, err error) {
	if next, _, err := s.infoFile(); err != nil || next == NoMessage {
		return false, err // (a zero-length message is next 0)
	}
	if err := setMailslotInfo(s.h, 0); err != nil {
		return false, err
	}
	defer func() {
		if serr := setMailslotInfo(s.h, drainSlice); serr != nil && err == nil {
			err = serr
		}
	}()
	for {
		s.qmu.Lock()
		full = s.bytes >= drainLimit+drainSlack
		s.qmu.Unlock()
		if full {
			return true, nil
		}
		got, err := s.receiveLocked()
		if err != nil || !got {
			return false, err
		}
	}
}

// discard empties a closed slot, so that a write that waits for room in it
// (a synchronous one that saw room just before the queue filled) ends:
// under Wine the slot lives on while writers hold it.
func (s *sysSlot) discard() {
	if err := setMailslotInfo(s.h, 0); err != nil {
		return
	}
	var n uint32
	for {
		err := windows.ReadFile(s.h, s.scratch, &n, nil)
		if err != nil && err != windows.ERROR_BROKEN_PIPE { // ERROR_SEM_TIMEOUT: empty
			return
		}
	}
}

func (s *sysSlot) push(msg []byte) {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	s.queue = append(s.queue, msg)
	s.bytes += len(msg)
	if s.bytes >= drainLimit && s.bytes-len(msg) < drainLimit {
		s.marker.setFull(true)
	}
	if s.waiting > 0 {
		close(s.arrived)
		s.arrived = make(chan struct{})
	}
}

// takeLocked removes the next message into p; s.qmu is held and a message
// queued. A p too short for it leaves it queued.
func (s *sysSlot) takeLocked(p []byte) (int, error) {
	msg := s.queue[s.head]
	if len(p) < len(msg) {
		return 0, errs.New(errs.ErrInsufficientBuffer, fmt.Errorf("the next message has %d bytes, the buffer %d", len(msg), len(p)))
	}
	before := s.bytes
	s.queue[s.head] = nil
	s.head++
	s.bytes -= len(msg)
	if s.head == len(s.queue) {
		s.queue, s.head = s.queue[:0], 0
	} else if s.head > 64 && s.head*2 > len(s.queue) {
		s.queue = append(s.queue[:0], s.queue[s.head:]...)
		s.head = 0
	}
	if before >= drainLimit && s.bytes < drainLimit {
		s.marker.setFull(false)
	}
	if before >= drainLimit+drainSlack && s.bytes < drainLimit+drainSlack {
		select {
		case s.room <- struct{}{}:
		default:
		}
	}
	return copy(p, msg), nil
}

func (s *sysSlot) readQueue(ctx context.Context, p []byte, deadline time.Time) (int, error) {
	poll := !deadline.IsZero() && !time.Now().Before(deadline)
	drained := false
	var expired <-chan time.Time
	var ctxDone <-chan struct{}
	for {
		s.qmu.Lock()
		if s.head < len(s.queue) {
			n, err := s.takeLocked(p)
			s.qmu.Unlock()
			return n, err
		}
		if poll {
			s.qmu.Unlock()
			if drained {
				return 0, timedOut(ctx, deadline)
			}
			// What was written before this read must be seen: take it from
			// the slot now rather than when the drainer comes to it (which
			// may take drainSlice). Anything queued is older, so the queue
			// goes first.
			s.rmu.Lock()
			_, err := s.drainLocked()
			s.rmu.Unlock()
			if err != nil {
				return 0, err
			}
			drained = true
			continue
		}
		arrived := s.arrived
		s.waiting++
		s.qmu.Unlock()
		if expired == nil && !deadline.IsZero() {
			t := time.NewTimer(time.Until(deadline))
			defer t.Stop()
			expired = t.C
		}
		if ctxDone == nil && ctx != nil {
			ctxDone = ctx.Done()
		}
		var err error
		select {
		case <-arrived:
		case <-expired:
			err = timedOut(ctx, deadline)
		case <-ctxDone:
			err = errs.Timeout(ctx, nil)
		case <-s.ended:
			err = errs.ErrClosed
		}
		s.qmu.Lock()
		s.waiting--
		s.qmu.Unlock()
		if err != nil {
			return 0, err
		}
	}
}

// ---------------------------------------------------------------------------
// The marker: what a slot tells its writers.

// slotState is the layout of a marker mapping. The owner writes it, writers
// read it, each field atomically.
type slotState struct {
	magic uint32
	state uint32 // stateStarting, stateAlive, stateClosed
	max   uint32 // the slot's MaxMessageSize
	pid   uint32 // the owner's process
	flags uint32 // flagDrained, flagFull
	_     uint32
	gen   uint64 // bumped by each owner that takes the mapping
}

const (
	markerMagic = 0x31534d58 // "XMS1"
	markerSize  = uint32(unsafe.Sizeof(slotState{}))

	stateStarting = 1
	stateAlive    = 2
	stateClosed   = 3

	// flagDrained: the reader's drainer empties the slot as messages come,
	// so a write does not wait (unless flagFull) and writers may use a
	// synchronous handle, which costs a hundredth of an overlapped write
	// under Wine.
	flagDrained = 1
	// flagFull: the queue holds drainLimit bytes or more; writes may wait.
	flagFull = 2
)

// markerNames are the names a slot's marker may have. Global\ reaches
// writers in other sessions, but creating a mapping there takes
// SeCreateGlobalPrivilege; an owner without it uses Local\.
func markerNames(m names.Mailslot) [2]*uint16 {
	sum := sha256.Sum256([]byte(m.Key()))
	id := "xipc.mailslot." + hex.EncodeToString(sum[:16])
	var out [2]*uint16
	for i, ns := range []string{`Global\`, `Local\`} {
		p, err := windows.UTF16PtrFromString(ns + id)
		if err != nil {
			panic(err) // unreachable: the name is ASCII
		}
		out[i] = p
	}
	return out
}

// mapState maps a marker mapping's view.
func mapState(h windows.Handle, access uint32) (*slotState, error) {
	addr, err := windows.MapViewOfFile(h, access, 0, 0, uintptr(markerSize))
	if err != nil {
		return nil, err
	}
	// A view of a mapping, not Go memory: the conversion cannot mislead the
	// garbage collector. (Through a pointer, so that vet's unsafeptr check,
	// which cannot know that, stays quiet.)
	return (*slotState)(*(*unsafe.Pointer)(unsafe.Pointer(&addr))), nil
}

func unmapState(st *slotState) {
	windows.UnmapViewOfFile(uintptr(unsafe.Pointer(st))) //nolint:errcheck // nothing to report
}

// marker is the owner's hold on its marker.
type marker struct {
	h   windows.Handle
	st  *slotState
	gen uint64
}

// publish creates (or takes over from writers of an earlier slot of the
// same name) the marker of a slot just created. Without one, nil: writers
// then treat the slot as one of another program.
func publish(m names.Mailslot, maxSize int, flags uint32, sd *windows.SECURITY_DESCRIPTOR) *marker {
	sa := &windows.SecurityAttributes{Length: uint32(unsafe.Sizeof(windows.SecurityAttributes{})), SecurityDescriptor: sd}
	for _, name := range markerNames(m) {
		// A handle with ERROR_ALREADY_EXISTS: writers of an earlier slot
		// keep its marker; the new generation tells them their slot is
		// gone. No handle: ERROR_ACCESS_DENIED, no SeCreateGlobalPrivilege.
		h, err := windows.CreateFileMapping(windows.InvalidHandle, sa, windows.PAGE_READWRITE, 0, markerSize, name)
		if h == 0 {
			continue
		}
		st, err := mapState(h, windows.FILE_MAP_READ|windows.FILE_MAP_WRITE)
		if err != nil {
			windows.CloseHandle(h) //nolint:errcheck // try the next name
			continue
		}
		atomic.StoreUint32(&st.state, stateStarting)
		atomic.StoreUint32(&st.magic, markerMagic)
		atomic.StoreUint32(&st.max, uint32(maxSize))
		atomic.StoreUint32(&st.pid, windows.GetCurrentProcessId())
		atomic.StoreUint32(&st.flags, flags)
		gen := atomic.AddUint64(&st.gen, 1)
		atomic.StoreUint32(&st.state, stateAlive)
		return &marker{h: h, st: st, gen: gen}
	}
	return nil
}

// setFull says whether writes may wait.
func (mk *marker) setFull(full bool) {
	if mk == nil {
		return
	}
	if full {
		atomic.OrUint32(&mk.st.flags, flagFull)
	} else {
		atomic.AndUint32(&mk.st.flags, ^uint32(flagFull))
	}
}

// close marks the slot closed. It runs before the slot's handle closes, so
// no newer slot of the name can have taken the marker yet.
func (mk *marker) close() {
	if mk == nil {
		return
	}
	if atomic.LoadUint64(&mk.st.gen) == mk.gen {
		atomic.StoreUint32(&mk.st.state, stateClosed)
	}
	unmapState(mk.st)
	windows.CloseHandle(mk.h) //nolint:errcheck // nothing to report
}

// watch is a writer's view of its slot's marker.
type watch struct {
	h    windows.Handle
	st   *slotState
	gen  uint64
	max  int
	proc windows.Handle // the owner process, or 0 when it cannot be opened
}

// watchSlot finds the marker of the slot m a writer has just opened: nil
// for a slot without one, errGone for a slot whose reader has gone (which
// Wine keeps alive for its writers).
func watchSlot(m names.Mailslot) (*watch, error) {
	deadline := time.Now().Add(markerWait)
	for {
		stale := false
		for _, name := range markerNames(m) {
			h, err := openFileMapping(windows.FILE_MAP_READ, false, name)
			if err != nil {
				continue
			}
			st, err := mapState(h, windows.FILE_MAP_READ)
			if err != nil {
				windows.CloseHandle(h) //nolint:errcheck // as if absent
				continue
			}
			if w := readState(st); w != nil {
				w.h = h
				if !w.ownerDead() {
					return w, nil
				}
				w.release()
			} else {
				unmapState(st)
				windows.CloseHandle(h) //nolint:errcheck // an older slot's
			}
			stale = true
		}
		if !stale {
			return nil, nil
		}
		// The marker is an older slot's: the slot opened may be one just
		// created that has not published yet, or that older slot, gone.
		if time.Now().After(deadline) {
			return nil, errGone
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// readState reads a consistent state from st: a watch (without its mapping
// handle) when it is a live slot's, else nil.
func readState(st *slotState) *watch {
	for range 100 {
		s1 := atomic.LoadUint32(&st.state)
		g1 := atomic.LoadUint64(&st.gen)
		mx := atomic.LoadUint32(&st.max)
		pid := atomic.LoadUint32(&st.pid)
		magic := atomic.LoadUint32(&st.magic)
		s2 := atomic.LoadUint32(&st.state)
		g2 := atomic.LoadUint64(&st.gen)
		if s1 == stateStarting || s2 != s1 || g2 != g1 {
			time.Sleep(time.Millisecond) // an owner is publishing
			continue
		}
		if magic != markerMagic || s1 != stateAlive || mx == 0 {
			return nil
		}
		w := &watch{st: st, gen: g1, max: int(mx)}
		if pid == windows.GetCurrentProcessId() {
			return w // alive while this runs
		}
		if proc, err := windows.OpenProcess(windows.SYNCHRONIZE, false, pid); err == nil {
			w.proc = proc
		}
		return w
	}
	return nil
}

func (w *watch) ownerDead() bool {
	if w.proc == 0 {
		return false
	}
	ev, err := windows.WaitForSingleObject(w.proc, 0)
	return err == nil && ev == windows.WAIT_OBJECT_0
}

// alive reports whether the slot is still the one opened, not closed, and
// its owner alive. Looking at the owner costs a system call on each write
// (a round trip to wineserver under Wine), but a write right after the
// owner died must fail.
func (w *watch) alive() bool {
	return atomic.LoadUint64(&w.st.gen) == w.gen &&
		atomic.LoadUint32(&w.st.state) == stateAlive &&
		!w.ownerDead()
}

// fast reports whether the slot's reader takes messages as they come, so
// that a write cannot wait.
func (w *watch) fast() bool {
	f := atomic.LoadUint32(&w.st.flags)
	return f&flagDrained != 0 && f&flagFull == 0
}

func (w *watch) release() {
	if w.proc != 0 {
		windows.CloseHandle(w.proc) //nolint:errcheck // nothing to report
	}
	unmapState(w.st)
	if w.h != 0 {
		windows.CloseHandle(w.h) //nolint:errcheck // nothing to report
	}
}

// ---------------------------------------------------------------------------
// The writing end.

type sysWriter struct {
	key      string
	path     *uint16
	watch    *watch // nil for a slot without a marker
	closing  atomic.Bool
	deadline atomic.Int64 // UnixNano; 0 = none

	mu   sync.Mutex     // one write at a time; guards what follows
	h    windows.Handle // overlapped: a write that waits ends at the deadline or Close
	hs   windows.Handle // synchronous, for a slot that makes no write wait; 0 until used
	ev   windows.Handle // the overlapped writes' event
	op   *ioOp          // the write in progress: its overlapped and buffer
	gone bool           // the slot was found gone and its handles closed
}

// openWriter opens a slot for writing. FILE_SHARE_WRITE as well as the
// documented FILE_SHARE_READ: Wine, like Windows before Vista, refuses a
// second writer otherwise.
func openWriter(path *uint16, flags uint32) (windows.Handle, error) {
	return windows.CreateFile(path, windows.GENERIC_WRITE,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE, nil, windows.OPEN_EXISTING, flags, 0)
}

func open(m names.Mailslot, trust owner.Trust) (*sysWriter, error) {
	path, err := windows.UTF16PtrFromString(m.String())
	if err != nil {
		return nil, errs.New(errs.ErrInvalidName, err)
	}
	h, err := openWriter(path, windows.FILE_FLAG_OVERLAPPED)
	if err != nil {
		if err == windows.ERROR_PATH_NOT_FOUND {
			return nil, errs.New(errs.ErrNotFound, err)
		}
		return nil, err
	}
	// GENERIC_WRITE includes READ_CONTROL: the slot's owner is readable.
	if err := trust.CheckHandle(h, windows.SE_KERNEL_OBJECT, "the mailslot"); err != nil {
		windows.CloseHandle(h) //nolint:errcheck // err is the one to report
		return nil, err
	}
	wt, err := watchSlot(m)
	if err != nil {
		windows.CloseHandle(h) //nolint:errcheck // err is the one to report
		return nil, err
	}
	ev, err := windows.CreateEvent(nil, 1, 0, nil)
	if err != nil {
		windows.CloseHandle(h) //nolint:errcheck // err is the one to report
		if wt != nil {
			wt.release()
		}
		return nil, err
	}
	w := &sysWriter{key: m.Key(), path: path, watch: wt, h: h, ev: ev, op: &ioOp{}}
	writers.add(w)
	return w, nil
}

func (w *sysWriter) write(p []byte) (int, error) {
	if len(p) > MaxMessage {
		return 0, errs.New(errs.ErrMessageTooLarge, fmt.Errorf("%d bytes, more than %d", len(p), MaxMessage))
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	switch {
	case w.closing.Load():
		return 0, errs.ErrClosed
	case w.gone:
		return 0, errGone
	case w.watch != nil && !w.watch.alive():
		w.dropLocked()
		return 0, errGone
	case w.watch != nil && len(p) > w.watch.max:
		return 0, errs.New(errs.ErrMessageTooLarge, fmt.Errorf("%d bytes, the slot takes at most %d", len(p), w.watch.max))
	}
	if dl := w.deadline.Load(); dl != 0 && time.Now().UnixNano() >= dl {
		return 0, errs.ErrTimeout
	}
	if w.watch != nil && w.watch.fast() {
		return w.writeSyncLocked(p)
	}
	op := w.op
	// The event's low bit set: no completion packet (there is no port) and,
	// under Wine, no round trip to wineserver to offer one.
	op.o = windows.Overlapped{HEvent: w.ev | 1}
	op.buf = p
	defer func() { op.buf = nil }()
	err := windows.WriteFile(w.h, p, &op.qty, &op.o)
	n := op.qty
	if err == windows.ERROR_IO_PENDING {
		n, err = w.waitLocked(op)
	}
	if err != nil {
		return 0, w.writeErr(err)
	}
	return int(n), nil
}

// writeSyncLocked writes p through the synchronous handle; w.mu is held.
func (w *sysWriter) writeSyncLocked(p []byte) (int, error) {
	if w.hs == 0 {
		hs, err := openWriter(w.path, 0)
		if err != nil {
			return 0, w.writeErr(err)
		}
		w.hs = hs
	}
	var n uint32
	if err := windows.WriteFile(w.hs, p, &n, nil); err != nil {
		return 0, w.writeErr(err)
	}
	return int(n), nil
}

// waitLocked waits for a write that went pending: the slot is full (only
// under Wine). It gives up at the deadline, at Close, or when the slot goes.
func (w *sysWriter) waitLocked(op *ioOp) (uint32, error) {
	var why error
	for why == nil {
		slice := writeSlice
		if dl := w.deadline.Load(); dl != 0 {
			slice = min(slice, time.Until(time.Unix(0, dl)))
		}
		if slice > 0 {
			ev, err := windows.WaitForSingleObject(w.ev, uint32(max(1, slice.Milliseconds())))
			if err == nil && ev == windows.WAIT_OBJECT_0 {
				break
			}
		}
		switch dl := w.deadline.Load(); {
		case w.closing.Load():
			why = errs.ErrClosed
		case w.watch != nil && !w.watch.alive():
			why = errGone
		case dl != 0 && time.Now().UnixNano() >= dl:
			why = errs.ErrTimeout
		}
		if why != nil {
			if err := windows.CancelIoEx(w.h, &op.o); err != nil {
				_ = err // ERROR_NOT_FOUND: it completed meanwhile
			}
		}
	}
	var n uint32
	err := windows.GetOverlappedResult(w.h, &op.o, &n, true)
	if err == windows.ERROR_OPERATION_ABORTED && why != nil {
		return 0, why
	}
	return n, err
}

// writeErr maps what WriteFile gave.
func (w *sysWriter) writeErr(err error) error {
	if err == errGone || err == errs.ErrClosed || err == errs.ErrTimeout {
		return err
	}
	if w.watch != nil && !w.watch.alive() {
		w.dropLocked()
		return errGone
	}
	if err == windows.ERROR_INVALID_PARAMETER {
		// What a slot refusing a message over its maximum is expected to
		// give (Wine does not refuse it; xipc writers check first).
		return errs.New(errs.ErrMessageTooLarge, err)
	}
	return err
}

// dropLocked closes the handle of a writer whose slot has gone, so that
// Wine lets the name be created again. w.mu is held.
func (w *sysWriter) dropLocked() {
	if w.gone {
		return
	}
	w.gone = true
	w.closeHandlesLocked() //nolint:errcheck // the slot is gone; nothing to report
	writers.remove(w)
}

// closeHandlesLocked closes the slot handles; w.mu is held.
func (w *sysWriter) closeHandlesLocked() error {
	err := windows.CloseHandle(w.h)
	w.h = 0
	if w.hs != 0 {
		if herr := windows.CloseHandle(w.hs); err == nil {
			err = herr
		}
		w.hs = 0
	}
	return err
}

func (w *sysWriter) setWriteDeadline(t time.Time) error {
	if w.closing.Load() {
		return errs.ErrClosed
	}
	if t.IsZero() {
		w.deadline.Store(0)
	} else {
		w.deadline.Store(t.UnixNano())
	}
	return nil
}

func (w *sysWriter) close() error {
	if !w.closing.CompareAndSwap(false, true) {
		return errs.ErrClosed
	}
	// A pending overlapped write sees closing within writeSlice. (A
	// synchronous one that raced with the slot's queue filling up waits
	// until the reader reads or closes the slot.)
	w.mu.Lock()
	defer w.mu.Unlock()
	var err error
	if !w.gone {
		writers.remove(w)
		err = w.closeHandlesLocked()
	}
	windows.CloseHandle(w.ev) //nolint:errcheck // err is the handle's
	if w.watch != nil {
		w.watch.release()
	}
	return err
}

// writerSet is this process's writers by slot key, for dropStaleWriters.
type writerSet struct {
	mu sync.Mutex
	m  map[string]map[*sysWriter]struct{}
}

var writers writerSet

func (ws *writerSet) add(w *sysWriter) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.m == nil {
		ws.m = make(map[string]map[*sysWriter]struct{})
	}
	if ws.m[w.key] == nil {
		ws.m[w.key] = make(map[*sysWriter]struct{})
	}
	ws.m[w.key][w] = struct{}{}
}

func (ws *writerSet) remove(w *sysWriter) {
	ws.mu.Lock()
	defer ws.mu.Unlock()
	delete(ws.m[w.key], w)
	if len(ws.m[w.key]) == 0 {
		delete(ws.m, w.key)
	}
}

// dropStaleWriters closes the handles of this process's writers on slot key
// whose slot has gone, and reports whether it closed any: under Wine they
// keep a closed slot's name taken.
func dropStaleWriters(key string) bool {
	writers.mu.Lock()
	var list []*sysWriter
	for w := range writers.m[key] {
		list = append(list, w)
	}
	writers.mu.Unlock()
	dropped := false
	for _, w := range list {
		if w.watch == nil || w.watch.alive() {
			continue
		}
		w.mu.Lock() // a pending write gives up within writeSlice
		if !w.gone && !w.closing.Load() {
			w.dropLocked()
			dropped = true
		}
		w.mu.Unlock()
	}
	return dropped
}

// ---------------------------------------------------------------------------
// Security.

// securityDescriptors builds the slot's security descriptor from s: full
// access for the creating user, SYSTEM and Administrators (what the Unix
// side's mode 0600 and root amount to), plus, for everyone (AllUsers) or a
// group, the right to open it as a writer. CreateFile asks for
// FILE_READ_ATTRIBUTES besides the access requested, hence GR with GW, as
// for pipes; a writer's handle cannot read a mailslot anyway. The marker
// grants the same principals read access.
func securityDescriptors(s Security) (slot, marker *windows.SECURITY_DESCRIPTOR, err error) {
	// The principals are resolved once, for both descriptors.
	_, extra, err := sddlParts(s)
	if err != nil {
		return nil, nil, err
	}
	group := ""
	if s.Group != "" {
		group = extra[len(extra)-1] // its SID: a name is not looked up again
	}
	if slot, err = winsec.Descriptor(s.AllUsers, group, "GRGW"); err != nil {
		return nil, nil, err
	}
	if marker, err = winsec.Descriptor(s.AllUsers, group, "GR"); err != nil {
		return nil, nil, err
	}
	return slot, marker, nil
}

// sddlParts returns the owner-only DACL and the SIDs that Security adds:
// WD (everyone) for AllUsers, then the group's.
func sddlParts(s Security) (owner string, extra []string, err error) {
	if owner, err = winsec.OwnerDACL(); err != nil {
		return "", nil, err
	}
	if s.AllUsers {
		extra = append(extra, "WD")
	}
	if s.Group != "" {
		sid, err := winsec.GroupSID(s.Group)
		if err != nil {
			return "", nil, err
		}
		extra = append(extra, sid)
	}
	return owner, extra, nil
}
