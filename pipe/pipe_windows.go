package pipe

// The Windows backend: real named pipes (CreateNamedPipe, ConnectNamedPipe,
// CreateFile) with overlapped I/O completed through one I/O completion port
// for the whole package, drained by one goroutine that runs only while I/O
// is in flight. An idle connection holds no OS thread; Close and deadlines
// cancel pending calls with CancelIoEx.
//
// A listener keeps a few instances listening (ConnectNamedPipe pending) at
// all times, so that clients connect without the server sitting in Accept,
// and hands connected instances to Accept in the order they connected. When
// MaxInstances are connected it creates no more until a server connection
// closes, and clients see ERROR_PIPE_BUSY.
//
// A pipe name lives while any of its instances does, so once a listener has
// closed, the connections it accepted keep the name and a client would find
// it busy, not gone as on Unix. Two named events tell these apart: one held
// by each listener ("listening"), one held by each listener and each of its
// server connections ("served"). A busy pipe that is served but has no
// listener is reported as not found. A pipe of another program has no
// markers, and busy stays busy.
//
// A third event ("room") is signalled while the listener has an instance
// listening or may create one. A client that finds the pipe busy then knows
// that the next instance is on its way, and waits for it even when its
// context cannot end: on Unix a client of a pipe with room never sees busy.

//go:generate go run golang.org/x/sys/windows/mkwinsyscall -output zsyscall_windows.go pipe_windows.go

//sys	waitNamedPipe(name *uint16, timeout uint32) (err error) = kernel32.WaitNamedPipeW

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"os"
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
	// spareInstances is how many instances a listener keeps listening, so
	// that a burst of clients finds one free while the listener replaces
	// those just taken.
	spareInstances = 4
	// maxReady bounds the connections connected but not yet accepted when
	// instances are unlimited (as on Unix).
	maxReady = 64
	// pollerIdle is how long the completion goroutine waits with nothing in
	// flight before it exits.
	pollerIdle = 100 // milliseconds
	// busyGrace is how long Dial with a context that cannot end retries a
	// busy pipe before it reports ErrBusy: long enough to cover the moment
	// between a client taking the last listening instance and the listener
	// creating the next one, which the Unix emulation does not have.
	busyGrace = 25 * time.Millisecond
	// roomWait bounds how long such a Dial waits for an instance that an
	// xipc listener with room is about to create (see "room" above).
	roomWait = 5 * time.Second
	// busySlice bounds each WaitNamedPipe call, so that Dial notices its
	// context ending.
	busySlice = 50 * time.Millisecond
	// retryCreate is how soon a listener tries again after it failed to
	// create an instance.
	retryCreate = 20 * time.Millisecond
	// maxByteIO bounds one ReadFile/WriteFile on a byte stream; the
	// counts are 32-bit.
	maxByteIO = 1 << 30
)

// Completion keys of the packets on the port.
const (
	keyIO     uintptr = iota + 1 // an overlapped call on one of our handles
	keyMarker                    // posted after a synchronous ERROR_MORE_DATA
	keyWake                      // wakes the goroutine to recount
)

// ioResult is how an overlapped call ended.
type ioResult struct {
	n   uint32
	err error
}

// ioOp is one overlapped call. The kernel holds &o until the call
// completes, so an op always lives in the heap and stays referenced — by
// the goroutine waiting on done, by its listener instance, or by
// port.orphans — until its packet has been dequeued.
type ioOp struct {
	o    windows.Overlapped // first: the packet's overlapped pointer is the op
	qty  uint32             // ReadFile/WriteFile's count (x/sys -race reads it)
	buf  []byte             // keeps the buffer in the heap while the call runs
	done chan ioResult      // the result, for a waiting goroutine
	fn   func(error)        // or a callback run on the completion goroutine

	delivered bool // its packet was dequeued (port.mu)
	orphan    bool // completed synchronously; a packet may follow (port.mu)
}

// port is the completion port of the package. inflight counts the packets
// still to come (one per call that went asynchronous, one per marker); the
// goroutine draining the port exits once inflight has been 0 for pollerIdle,
// so that no goroutine outlives the package's handles.
type port struct {
	once sync.Once
	h    windows.Handle
	err  error

	mu       sync.Mutex
	inflight int
	running  bool
	forever  bool // the goroutine is in an INFINITE wait
	orphans  map[*ioOp]struct{}
}

var iocp port

// noSkip, set by tests, keeps handles out of
// FILE_SKIP_COMPLETION_PORT_ON_SUCCESS, to run the path taken where that
// mode is refused.
var noSkip atomic.Bool

// associate adds h to the port and asks for no packet when a call
// completes synchronously with success; it reports whether that took.
func (p *port) associate(h windows.Handle) (skip bool, err error) {
	p.once.Do(func() {
		p.h, p.err = windows.CreateIoCompletionPort(windows.InvalidHandle, 0, 0, 0)
		p.orphans = make(map[*ioOp]struct{})
	})
	if p.err != nil {
		return false, p.err
	}
	if _, err := windows.CreateIoCompletionPort(h, p.h, keyIO, 0); err != nil {
		return false, err
	}
	if noSkip.Load() {
		return false, nil
	}
	err = windows.SetFileCompletionNotificationModes(h,
		windows.FILE_SKIP_COMPLETION_PORT_ON_SUCCESS|windows.FILE_SKIP_SET_EVENT_ON_HANDLE)
	return err == nil, nil
}

// begin counts the packet an overlapped call about to be made may queue.
// Counting before the call means the goroutine never sees a packet it has
// not counted.
func (p *port) begin() {
	p.mu.Lock()
	p.inflight++
	p.mu.Unlock()
}

// settle takes what an overlapped call on a handle with the given skip mode
// returned, and reports whether its result will come as a packet.
//
// No packet follows a synchronous failure, nor, in skip mode, a synchronous
// success. A synchronous ERROR_MORE_DATA (STATUS_BUFFER_OVERFLOW, a warning)
// is neither: without skip mode it queues a packet; in skip mode Wine queues
// none, and Windows is not documented. So the op becomes an orphan, kept
// alive, and a marker packet posted behind it: the port is FIFO and a
// synchronous completion queues its packet before the call returns, so by
// the time the marker is dequeued any packet of the op has been too.
func (p *port) settle(op *ioOp, skip bool, err error) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case err == windows.ERROR_IO_PENDING, !skip && (err == nil || err == windows.ERROR_MORE_DATA):
		p.startLocked()
		return true
	case err == windows.ERROR_MORE_DATA:
		if op.delivered {
			return false // its packet came already, and was counted
		}
		op.orphan = true
		p.orphans[op] = struct{}{}
		p.startLocked()
		if perr := windows.PostQueuedCompletionStatus(p.h, 0, keyMarker, &op.o); perr != nil {
			// No marker: the op stays an orphan for good (a few bytes),
			// so that a late packet still finds it.
			p.doneLocked()
		}
		return false
	default:
		p.doneLocked()
		return false
	}
}

// post queues a completion packet for op, as if its call had completed
// now; the callback sees a nil error.
func (p *port) post(op *ioOp) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inflight++
	p.startLocked()
	err := windows.PostQueuedCompletionStatus(p.h, 0, keyIO, &op.o)
	if err != nil {
		p.doneLocked()
	}
	return err
}

// doneLocked uncounts a packet that will not come.
func (p *port) doneLocked() {
	p.inflight--
	if p.inflight == 0 && p.forever {
		// The goroutine waits forever for packets that will not come:
		// wake it so that it can time out and exit.
		p.forever = false
		if err := windows.PostQueuedCompletionStatus(p.h, 0, keyWake, nil); err != nil {
			// It then stays until the next packet; harmless.
			return
		}
	}
}

func (p *port) startLocked() {
	if !p.running {
		p.running = true
		go p.loop()
	}
}

// loop drains the port, delivering each result to its op.
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
		if key == keyMarker {
			delete(p.orphans, op)
			p.inflight--
			p.mu.Unlock()
			continue
		}
		if op.orphan {
			// The packet of a synchronous ERROR_MORE_DATA, already handled;
			// its marker is behind it and holds the count.
			p.mu.Unlock()
			continue
		}
		op.delivered = true
		p.inflight--
		p.mu.Unlock()
		if op.fn != nil {
			op.fn(err)
		} else {
			op.done <- ioResult{n, err}
		}
	}
}

// deadline is one direction's deadline: a channel closed when it passes,
// replaced when the deadline is set again after it passed (go-winio's
// pattern), so that a pending call sees a deadline moved while it waits.
type deadline struct {
	mu    sync.Mutex
	ch    chan struct{}
	fired bool
	gen   uint64
	timer *time.Timer
}

func (d *deadline) channel() <-chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ch == nil {
		d.ch = make(chan struct{})
	}
	return d.ch
}

func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil {
		d.timer.Stop()
		d.timer = nil
	}
	d.gen++
	if d.ch == nil || d.fired {
		d.ch, d.fired = make(chan struct{}), false
	}
	if t.IsZero() {
		return
	}
	dur := time.Until(t)
	if dur <= 0 {
		close(d.ch)
		d.fired = true
		return
	}
	gen := d.gen
	d.timer = time.AfterFunc(dur, func() {
		d.mu.Lock()
		defer d.mu.Unlock()
		if d.gen == gen && !d.fired {
			close(d.ch)
			d.fired = true
		}
	})
}

type sysConn struct {
	h     windows.Handle
	skip  bool // FILE_SKIP_COMPLETION_PORT_ON_SUCCESS took
	msgW  bool // message pipe: each write is a message
	msgR  bool // reads keep message boundaries
	pid   int
	l     *sysListener   // server side: the instance is freed on close
	mark  windows.Handle // server side: a handle on the "served" marker, or 0
	rd    deadline
	wd    deadline
	ended chan struct{} // closed by close

	mu      sync.RWMutex
	closing bool
	wg      sync.WaitGroup // calls in progress
}

func newSysConn(h windows.Handle, skip, msgW, msgR bool, pid uint32, l *sysListener) *sysConn {
	return &sysConn{h: h, skip: skip, msgW: msgW, msgR: msgR, pid: int(pid), l: l, ended: make(chan struct{})}
}

func (c *sysConn) messageRead() bool  { return c.msgR }
func (c *sysConn) messageWrite() bool { return c.msgW }
func (c *sysConn) peerPID() int       { return c.pid }

// do runs one overlapped ReadFile or WriteFile on p and waits for it, for
// the deadline, or for close.
func (c *sysConn) do(dl *deadline, write bool, p []byte) (int, error) {
	c.mu.RLock()
	if c.closing {
		c.mu.RUnlock()
		return 0, net.ErrClosed
	}
	c.wg.Add(1)
	c.mu.RUnlock()
	defer c.wg.Done()

	expired := dl.channel()
	select {
	case <-expired:
		return 0, os.ErrDeadlineExceeded
	default:
	}
	op := &ioOp{buf: p, done: make(chan ioResult, 1)}
	iocp.begin()
	var err error
	if write {
		err = windows.WriteFile(c.h, p, &op.qty, &op.o)
	} else {
		err = windows.ReadFile(c.h, p, &op.qty, &op.o)
	}
	if !iocp.settle(op, c.skip, err) {
		if err == nil || err == windows.ERROR_MORE_DATA {
			return int(op.o.InternalHigh), err
		}
		return 0, err
	}
	var r ioResult
	select {
	case r = <-op.done:
	case <-expired:
		r = c.cancel(op)
	case <-c.ended:
		r = c.cancel(op)
	}
	if r.err == windows.ERROR_OPERATION_ABORTED {
		select {
		case <-c.ended:
			r.err = net.ErrClosed
		default:
			select {
			case <-expired:
				r.err = os.ErrDeadlineExceeded
			default:
			}
		}
	}
	return int(r.n), r.err
}

// cancel cancels op and waits for its packet, which always comes: either
// ERROR_OPERATION_ABORTED or, when the call completed meanwhile
// (CancelIoEx gives ERROR_NOT_FOUND), its result.
func (c *sysConn) cancel(op *ioOp) ioResult {
	if err := windows.CancelIoEx(c.h, &op.o); err != nil && err != windows.ERROR_NOT_FOUND {
		// Nothing else is expected; the wait below still ends when the
		// call does.
		_ = err
	}
	return <-op.done
}

// peerGone reports the errors a read sees once the other end has gone.
func peerGone(err error) bool {
	return err == windows.ERROR_BROKEN_PIPE || err == windows.ERROR_PIPE_NOT_CONNECTED || err == windows.ERROR_NO_DATA
}

func (c *sysConn) read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if len(p) > maxByteIO {
		p = p[:maxByteIO]
	}
	for {
		n, err := c.do(&c.rd, false, p)
		switch {
		case err == windows.ERROR_MORE_DATA:
			return n, nil // a message pipe read in message mode: the rest follows
		case peerGone(err):
			if n > 0 {
				return n, nil
			}
			return 0, io.EOF
		case err != nil:
			return n, err
		case n == 0:
			continue // a zero-length message, read in byte mode: no data
		}
		return n, nil
	}
}

func (c *sysConn) readMsg(p []byte) (int, error) {
	if len(p) > math.MaxUint32 {
		p = p[:math.MaxUint32]
	}
	n, err := c.do(&c.rd, false, p)
	switch {
	case err == windows.ERROR_MORE_DATA:
		return n, errs.ErrMoreData
	case peerGone(err):
		return 0, io.EOF
	}
	return n, err
}

func (c *sysConn) write(p []byte) (int, error) {
	if c.msgW {
		if len(p) > math.MaxUint32 {
			return 0, errs.New(errs.ErrMessageTooLarge, fmt.Errorf("%d bytes", len(p)))
		}
		n, err := c.do(&c.wd, true, p)
		return n, writeErr(err)
	}
	total := 0
	for total < len(p) {
		n, err := c.do(&c.wd, true, p[total:min(len(p), total+maxByteIO)])
		total += n
		if err != nil {
			return total, writeErr(err)
		}
		if n == 0 {
			return total, io.ErrShortWrite
		}
	}
	return total, nil
}

// writeErr keeps the peer-gone codes of a write as they are (ERROR_NO_DATA,
// ERROR_BROKEN_PIPE: ErrBrokenPipe), except ERROR_PIPE_NOT_CONNECTED (a
// server that called DisconnectNamedPipe), which must match ErrBrokenPipe too.
func writeErr(err error) error {
	if err == windows.ERROR_PIPE_NOT_CONNECTED {
		return errs.New(errs.ErrBrokenPipe, err)
	}
	return err
}

func (c *sysConn) setDeadline(t time.Time, read, write bool) error {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if c.closing {
		return net.ErrClosed
	}
	if read {
		c.rd.set(t)
	}
	if write {
		c.wd.set(t)
	}
	return nil
}

// close cancels the calls in progress, waits for them, and closes the
// handle. A server connection is not disconnected first
// (DisconnectNamedPipe would drop what the client has not read yet): the
// client reads the rest and then sees the end, as with a Unix socket.
func (c *sysConn) close() error {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return errs.ErrClosed
	}
	c.closing = true
	close(c.ended)
	c.mu.Unlock()
	if err := windows.CancelIoEx(c.h, nil); err != nil {
		_ = err // ERROR_NOT_FOUND: nothing was pending
	}
	c.wg.Wait()
	c.rd.set(time.Time{})
	c.wd.set(time.Time{})
	err := windows.CloseHandle(c.h)
	if c.mark != 0 {
		windows.CloseHandle(c.mark) //nolint:errcheck // a marker; nothing to report
	}
	if c.l != nil {
		c.l.release()
	}
	return err
}

// instance is one listening pipe instance with its pending ConnectNamedPipe.
type instance struct {
	h    windows.Handle
	skip bool
	op   ioOp
}

type sysListener struct {
	path *uint16
	cfg  ListenConfig
	sa   *windows.SecurityAttributes

	// The marker events; 0 when they could not be made.
	listeningMark, servedMark, roomMark windows.Handle
	room                                bool // roomMark is set (l.mu)

	ready chan *sysConn // connected, not yet accepted
	done  chan struct{} // closed by close

	mu        sync.Mutex
	closed    bool
	listening map[*instance]struct{} // keeps each instance's op alive too
	active    int                    // connected instances not yet closed
	retry     *time.Timer            // set while waiting to retry creating
	drained   chan struct{}          // closed when the last listening instance is gone, after close
}

func listen(p names.Pipe, c *ListenConfig) (*sysListener, error) {
	path, err := windows.UTF16PtrFromString(p.String())
	if err != nil {
		return nil, errs.New(errs.ErrInvalidName, err)
	}
	sd, err := securityDescriptor(c.Security)
	if err != nil {
		return nil, err
	}
	markSD, err := markerSecurity()
	if err != nil {
		return nil, err
	}
	readyCap := c.MaxInstances
	if c.MaxInstances == Unlimited || readyCap > maxReady {
		readyCap = maxReady
	}
	l := &sysListener{
		path: path,
		cfg:  *c,
		sa: &windows.SecurityAttributes{
			Length:             uint32(unsafe.Sizeof(windows.SecurityAttributes{})),
			SecurityDescriptor: sd,
		},
		ready:     make(chan *sysConn, readyCap),
		done:      make(chan struct{}),
		listening: make(map[*instance]struct{}),
	}
	// The markers come before the first instance, so that no client
	// sees a served pipe without its listener.
	markSA := &windows.SecurityAttributes{
		Length:             uint32(unsafe.Sizeof(windows.SecurityAttributes{})),
		SecurityDescriptor: markSD,
	}
	l.listeningMark = createMarker(markerName("listening", p), markSA)
	l.servedMark = createMarker(markerName("served", p), markSA)
	l.roomMark = createMarker(markerName("room", p), markSA)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.newInstance(true); err != nil {
		l.closeMarkers()
		return nil, err
	}
	l.fill()
	return l, nil
}

func (l *sysListener) closeMarkers() {
	for _, h := range []windows.Handle{l.listeningMark, l.servedMark, l.roomMark} {
		if h != 0 {
			windows.CloseHandle(h) //nolint:errcheck // a marker; nothing to report
		}
	}
	l.listeningMark, l.servedMark, l.roomMark = 0, 0, 0
}

// setRoom signals or resets the "room" marker; l.mu is held.
func (l *sysListener) setRoom(room bool) {
	if l.roomMark == 0 || room == l.room {
		return
	}
	var err error
	if room {
		err = windows.SetEvent(l.roomMark)
	} else {
		err = windows.ResetEvent(l.roomMark)
	}
	if err == nil {
		l.room = room
	}
}

// markerName names a marker event of pipe p. The Global namespace reaches
// clients in other sessions; any user may create events there.
func markerName(kind string, p names.Pipe) *uint16 {
	sum := sha256.Sum256([]byte(p.Key()))
	name, err := windows.UTF16PtrFromString(`Global\xipc.pipe.` + kind + "." + hex.EncodeToString(sum[:16]))
	if err != nil {
		panic(err) // unreachable: the name is ASCII
	}
	return name
}

// createMarker creates or opens a marker event; 0 when it cannot, and then
// Dial reports busy where Unix would say not found.
func createMarker(name *uint16, sa *windows.SecurityAttributes) windows.Handle {
	h, err := windows.CreateEvent(sa, 1, 0, name)
	if err != nil && err != windows.ERROR_ALREADY_EXISTS {
		return 0
	}
	return h
}

func markerExists(name *uint16) bool {
	h, err := windows.OpenEvent(windows.SYNCHRONIZE, false, name)
	if err == nil {
		windows.CloseHandle(h) //nolint:errcheck // only its existence mattered
		return true
	}
	return err == windows.ERROR_ACCESS_DENIED
}

// listenerGone reports whether p is a pipe an xipc listener served and no
// xipc listener serves any longer.
func listenerGone(p names.Pipe) bool {
	return markerExists(markerName("served", p)) && !markerExists(markerName("listening", p))
}

// listenerHasRoom reports whether an xipc listener of p has an instance
// listening or is about to create one.
func listenerHasRoom(p names.Pipe) bool {
	h, err := windows.OpenEvent(windows.SYNCHRONIZE, false, markerName("room", p))
	if err != nil {
		return false
	}
	defer windows.CloseHandle(h) //nolint:errcheck // a marker
	ev, err := windows.WaitForSingleObject(h, 0)
	return err == nil && ev == windows.WAIT_OBJECT_0
}

// newInstance creates one more instance and starts ConnectNamedPipe on it;
// l.mu is held (or l is not shared yet).
func (l *sysListener) newInstance(first bool) error {
	var openMode uint32 = windows.FILE_FLAG_OVERLAPPED
	switch l.cfg.Direction {
	case Inbound:
		openMode |= windows.PIPE_ACCESS_INBOUND
	case Outbound:
		openMode |= windows.PIPE_ACCESS_OUTBOUND
	default:
		openMode |= windows.PIPE_ACCESS_DUPLEX
	}
	exists := func() error {
		return errs.New(errs.ErrExists, errors.New("a server is listening on this name (ERROR_ACCESS_DENIED)"))
	}
	if first && l.cfg.FirstInstance {
		openMode |= windows.FILE_FLAG_FIRST_PIPE_INSTANCE
		// Wine 8 ignores FILE_FLAG_FIRST_PIPE_INSTANCE: look first.
		// WaitNamedPipe tells a missing pipe (ERROR_FILE_NOT_FOUND) from
		// one that exists, without connecting to it. Windows still
		// enforces the flag atomically below.
		if err := waitNamedPipe(l.path, 1); err == nil || err == windows.ERROR_SEM_TIMEOUT {
			return exists()
		}
	}
	// Remote (SMB) clients only when the pipe opts in.
	var pipeMode uint32 = windows.PIPE_WAIT
	if !l.cfg.RemoteClients {
		pipeMode |= windows.PIPE_REJECT_REMOTE_CLIENTS
	}
	if l.cfg.Message {
		pipeMode |= windows.PIPE_TYPE_MESSAGE | windows.PIPE_READMODE_MESSAGE
	}
	h, err := windows.CreateNamedPipe(l.path, openMode, pipeMode, uint32(l.cfg.MaxInstances),
		clamp32(l.cfg.OutBufferSize), clamp32(l.cfg.InBufferSize), 0, l.sa)
	if err != nil {
		if first && l.cfg.FirstInstance && err == windows.ERROR_ACCESS_DENIED {
			// Without the Errno, so that the error reads as what it means
			// rather than as a permission problem.
			return exists()
		}
		return err
	}
	if first && !l.cfg.FirstInstance {
		// Without FirstInstance, CreateNamedPipe joins a pipe of that name
		// as one more instance whoever made it, if its DACL lets us: never
		// serve next to a stranger's instances (see docs/security.md).
		if err := (owner.Trust{}).CheckHandle(h, windows.SE_KERNEL_OBJECT, "the existing pipe"); err != nil {
			windows.CloseHandle(h) //nolint:errcheck // err is the one to report
			return err
		}
	}
	skip, err := iocp.associate(h)
	if err != nil {
		windows.CloseHandle(h) //nolint:errcheck // the association error is the one to report
		return err
	}
	inst := &instance{h: h, skip: skip}
	inst.op.fn = func(err error) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.connected(inst, err)
		l.fill()
	}
	l.listening[inst] = struct{}{}
	iocp.begin()
	err = windows.ConnectNamedPipe(h, &inst.op.o)
	if iocp.settle(&inst.op, skip, err) {
		return nil
	}
	switch err {
	case nil, windows.ERROR_PIPE_CONNECTED, windows.ERROR_NO_DATA:
		// A client came between CreateNamedPipe and ConnectNamedPipe.
		// Clients whose connections wait in the port came before it: post
		// its completion behind theirs, so that Accept keeps the order.
		if iocp.post(&inst.op) == nil {
			return nil
		}
		l.connected(inst, nil)
		return nil
	}
	l.connected(inst, err)
	return err
}

func clamp32(n int) uint32 {
	return uint32(min(n, math.MaxUint32))
}

// connected takes an instance whose ConnectNamedPipe ended; l.mu is held.
// ERROR_NO_DATA means the client connected and closed already: its
// connection is still handed to Accept, where reads see the end, as on Unix.
func (l *sysListener) connected(inst *instance, err error) {
	delete(l.listening, inst)
	if l.closed || (err != nil && err != windows.ERROR_NO_DATA) {
		windows.CloseHandle(inst.h) //nolint:errcheck // nothing to report it to
		if l.closed && len(l.listening) == 0 && l.drained != nil {
			close(l.drained)
			l.drained = nil
		}
		return
	}
	var pid uint32
	if err := windows.GetNamedPipeClientProcessId(inst.h, &pid); err != nil {
		pid = 0 // the client has gone already
	}
	c := newSysConn(inst.h, inst.skip, l.cfg.Message, l.cfg.Message, pid, l)
	if l.servedMark != 0 {
		cur := windows.CurrentProcess()
		if err := windows.DuplicateHandle(cur, l.servedMark, cur, &c.mark, 0, false, windows.DUPLICATE_SAME_ACCESS); err != nil {
			c.mark = 0 // then the name may look busy rather than gone
		}
	}
	l.active++
	select {
	case l.ready <- c:
	default:
		// fill keeps len(ready)+len(listening) <= cap(ready): unreachable.
		l.active--
		windows.CloseHandle(inst.h) //nolint:errcheck // the instance is dropped
		if c.mark != 0 {
			windows.CloseHandle(c.mark) //nolint:errcheck // a marker
		}
	}
}

// fill creates instances until enough listen, within MaxInstances and the
// room left for connections not yet accepted; l.mu is held.
func (l *sysListener) fill() {
	defer func() { l.setRoom(!l.closed && (len(l.listening) > 0 || l.canCreate())) }()
	for !l.closed && l.retry == nil && len(l.listening) < spareInstances && l.canCreate() {
		if err := l.newInstance(false); err != nil {
			// ERROR_PIPE_BUSY when another server's instances fill the
			// pipe, or resources running out: try again shortly.
			l.retry = time.AfterFunc(retryCreate, func() {
				l.mu.Lock()
				defer l.mu.Unlock()
				l.retry = nil
				l.fill()
			})
			return
		}
	}
}

// canCreate reports whether one more instance fits within MaxInstances
// and the room left for connections not yet accepted; l.mu is held.
func (l *sysListener) canCreate() bool {
	return len(l.ready)+len(l.listening) < cap(l.ready) &&
		(l.cfg.MaxInstances == Unlimited || l.active+len(l.listening) < l.cfg.MaxInstances)
}

// release frees the instance of a server connection that closed.
func (l *sysListener) release() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.active--
	l.fill()
}

func (l *sysListener) accept() (*sysConn, error) {
	select {
	case <-l.done:
		return nil, net.ErrClosed
	default:
	}
	select {
	case c := <-l.ready:
		l.mu.Lock()
		l.fill()
		l.mu.Unlock()
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *sysListener) close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return errs.ErrClosed
	}
	l.closed = true
	close(l.done)
	l.setRoom(false)
	if l.retry != nil {
		l.retry.Stop()
		l.retry = nil
	}
	var drained chan struct{}
	if len(l.listening) > 0 {
		drained = make(chan struct{})
		l.drained = drained
		for inst := range l.listening {
			if err := windows.CancelIoEx(inst.h, &inst.op.o); err != nil {
				_ = err // ERROR_NOT_FOUND: it connected meanwhile; its packet comes anyway
			}
		}
	}
	l.mu.Unlock()
	if drained != nil {
		<-drained // each instance's packet closes its handle
	}
	l.closeMarkers()
	for {
		select {
		case c := <-l.ready: // connected but never accepted
			c.close() //nolint:errcheck // the client sees the pipe end
		default:
			return nil
		}
	}
}

func dial(ctx context.Context, p names.Pipe, c *DialConfig, trust owner.Trust) (*sysConn, error) {
	path, err := windows.UTF16PtrFromString(p.String())
	if err != nil {
		return nil, errs.New(errs.ErrInvalidName, err)
	}
	// The attribute rights let GetNamedPipeInfo and SetNamedPipeHandleState
	// work whatever data access was asked for.
	var access, plain uint32
	switch c.Access {
	case ReadOnly:
		plain = windows.GENERIC_READ
		access = plain | windows.FILE_WRITE_ATTRIBUTES
	case WriteOnly:
		plain = windows.GENERIC_WRITE
		access = plain | windows.FILE_READ_ATTRIBUTES
	default:
		plain = windows.GENERIC_READ | windows.GENERIC_WRITE
		access = plain
	}
	canWait := ctx.Done() != nil
	var grace, roomGrace time.Time
	for {
		h, err := openPipe(path, access)
		if err == windows.ERROR_ACCESS_DENIED && access != plain {
			// A pipe of another program may grant no more than the data
			// access; then message read mode may be out of reach.
			h, err = openPipe(path, plain)
		}
		if err == nil {
			return clientConn(h, c, trust)
		}
		if err != windows.ERROR_PIPE_BUSY {
			return nil, err
		}
		if listenerGone(p) {
			// Only connections of a closed listener keep the name.
			return nil, windows.ERROR_FILE_NOT_FOUND
		}
		slice := busySlice
		if canWait {
			if dl, ok := ctx.Deadline(); ok {
				slice = min(slice, time.Until(dl))
			}
		} else {
			end := grace
			if listenerHasRoom(p) {
				if roomGrace.IsZero() {
					roomGrace = time.Now().Add(roomWait)
				}
				end = roomGrace
			} else if grace.IsZero() {
				grace = time.Now().Add(busyGrace)
				end = grace
			}
			slice = min(slice, time.Until(end))
			if slice <= 0 {
				return nil, err // ERROR_PIPE_BUSY: ErrBusy
			}
		}
		if ctx.Err() != nil {
			return nil, errs.Timeout(ctx, errs.ErrBusy)
		}
		// WaitNamedPipe returns once an instance listens (then another
		// client may still take it first), or after the slice with
		// ERROR_SEM_TIMEOUT, or at once with ERROR_FILE_NOT_FOUND when the
		// pipe is gone, which the next CreateFile reports.
		werr := waitNamedPipe(path, uint32(max(1, slice.Milliseconds())))
		if werr != nil && werr != windows.ERROR_SEM_TIMEOUT && werr != windows.ERROR_FILE_NOT_FOUND {
			time.Sleep(time.Millisecond) // unexpected: do not spin
		}
		if ctx.Err() != nil {
			return nil, errs.Timeout(ctx, errs.ErrBusy)
		}
	}
}

func openPipe(path *uint16, access uint32) (windows.Handle, error) {
	// SECURITY_IDENTIFICATION: the server may learn who the client is,
	// but not act as the client.
	return windows.CreateFile(path, access, 0, nil, windows.OPEN_EXISTING,
		windows.FILE_FLAG_OVERLAPPED|windows.SECURITY_SQOS_PRESENT|windows.SECURITY_IDENTIFICATION, 0)
}

// clientConn completes a client connection: the port, message read mode on
// a message pipe, and the server's PID.
func clientConn(h windows.Handle, c *DialConfig, trust owner.Trust) (*sysConn, error) {
	fail := func(err error) (*sysConn, error) {
		windows.CloseHandle(h) //nolint:errcheck // err is the one to report
		return nil, err
	}
	skip, err := iocp.associate(h)
	if err != nil {
		return fail(err)
	}
	var flags uint32
	if err := windows.GetNamedPipeInfo(h, &flags, nil, nil, nil); err != nil {
		return fail(err)
	}
	msg := flags&windows.PIPE_TYPE_MESSAGE != 0
	if msg && !c.ByteReadMode && c.Access != WriteOnly {
		mode := uint32(windows.PIPE_READMODE_MESSAGE)
		if err := windows.SetNamedPipeHandleState(h, &mode, nil, nil); err != nil {
			return fail(err)
		}
	}
	var pid uint32
	if err := windows.GetNamedPipeServerProcessId(h, &pid); err != nil {
		pid = 0 // the server has gone already
	}
	if err := checkServer(h, pid, trust); err != nil {
		return fail(err)
	}
	return newSysConn(h, skip, msg, msg && !c.ByteReadMode, pid, nil), nil
}

// checkServer checks that the pipe's server runs as a trusted user: the
// user of the server process's token (GetNamedPipeServerProcessId,
// OpenProcessToken), or, when that token cannot be read (another user's
// process, a service), the owner of the pipe object, which is the user
// that created its first instance.
func checkServer(h windows.Handle, pid uint32, trust owner.Trust) error {
	if trust.Any() {
		return nil
	}
	if pid != 0 {
		if ok, err := trust.CheckProcess(pid, "the pipe's server"); ok {
			return err
		}
	}
	return trust.CheckHandle(h, windows.SE_KERNEL_OBJECT, "the pipe")
}

// pipeRights is what Security grants everyone (AllUsers) or a group on a
// pipe: read/write.
const pipeRights = "GRGW"

// markerRights is what everyone may do with the marker events: see whether
// they exist and are set (SYNCHRONIZE|EVENT_QUERY_STATE), as anyone may see
// pipe names; only the owner may change them.
const markerRights = "0x00100001"

// securityDescriptor builds the pipe's security descriptor from s: full
// access for the creating user, SYSTEM and Administrators (what the Unix
// side's mode 0600 and root amount to), plus read/write for everyone
// (AllUsers) or for a group.
func securityDescriptor(s Security) (*windows.SECURITY_DESCRIPTOR, error) {
	return winsec.Descriptor(s.AllUsers, s.Group, pipeRights)
}

// sddlFor is securityDescriptor's SDDL.
func sddlFor(s Security) (string, error) {
	return winsec.SDDL(s.AllUsers, s.Group, pipeRights)
}

// markerSecurity is the security descriptor of the marker events: the
// owner-only DACL plus markerRights for everyone.
func markerSecurity() (*windows.SECURITY_DESCRIPTOR, error) {
	return winsec.Descriptor(true, "", markerRights)
}
