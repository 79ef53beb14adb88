//go:build unix

package win32

import (
	"context"
	"errors"
	"io"
	"math"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/internal/names"
	"github.com/xipc/xipc/mailslot"
	"github.com/xipc/xipc/pipe"
	"github.com/xipc/xipc/shm"
	"github.com/xipc/xipc/syncobj"
)

// The handle table: each HANDLE stands for one object of xipc's packages.

type object interface{ close() error }

var table = struct {
	sync.Mutex
	next    HANDLE
	objs    map[HANDLE]object
	servers map[string]*pipeServer // pipe key → this process's server of that pipe
	views   map[*byte]*shm.View
}{
	next:    0x100,
	objs:    map[HANDLE]object{},
	servers: map[string]*pipeServer{},
	views:   map[*byte]*shm.View{},
}

func newHandle(o object) HANDLE {
	table.Lock()
	defer table.Unlock()
	table.next += 4 // like Windows: multiples of 4
	h := table.next
	table.objs[h] = o
	return h
}

// handleOf returns the object of h as a T: ERROR_INVALID_HANDLE when h is
// not open or is not a T.
func handleOf[T object](h HANDLE) (T, error) {
	table.Lock()
	o, ok := table.objs[h]
	table.Unlock()
	t, isT := o.(T)
	if !ok || !isT {
		var zero T
		return zero, ERROR_INVALID_HANDLE
	}
	return t, nil
}

func sysCloseHandle(h HANDLE) error {
	table.Lock()
	o, ok := table.objs[h]
	delete(table.objs, h)
	table.Unlock()
	if !ok {
		return ERROR_INVALID_HANDLE
	}
	return o.close()
}

// millis turns a Win32 timeout into a context: INFINITE never ends.
func millis(ms uint32) (context.Context, context.CancelFunc) {
	if ms == INFINITE {
		return context.WithCancel(context.Background())
	}
	return context.WithTimeout(context.Background(), time.Duration(ms)*time.Millisecond)
}

// ---- Named pipes ----

// pipeServer is this process's server of one pipe: one pipe.Listener that
// all its instances (CreateNamedPipe handles) accept from.
type pipeServer struct {
	key       string
	l         *pipe.Listener
	message   bool
	max       int
	instances int // open instance handles; guarded by table
}

// pipeEnd is a connected end of a pipe. Reads go straight to the
// connection; PeekNamedPipe reads what has arrived into peeked, which the
// next reads return first.
type pipeEnd struct {
	c       *pipe.Conn
	message bool // the pipe is a message pipe

	mu     sync.Mutex // held by a read, and by a peek
	peeked []chunk    // read by a peek, not yet by a read
}

// chunk is what one ReadMsg returned: a message, or part of one (more).
type chunk struct {
	data []byte
	more bool
}

// peekWait is how long a peek waits for data that has not arrived yet.
const peekWait = time.Millisecond

func newPipeEnd(c *pipe.Conn) *pipeEnd {
	return &pipeEnd{c: c, message: c.Message()}
}

// read is ReadFile: one message (or its first part) in message read mode;
// in byte read mode what has arrived, never waiting for more once it has
// some.
func (e *pipeEnd) read(buf []byte, messageRead bool) (uint32, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.peeked) > 0 {
		return e.readPeeked(buf, messageRead)
	}
	n, err := e.c.ReadMsg(buf)
	switch {
	case errors.Is(err, errs.ErrMoreData):
		if messageRead && e.message {
			return uint32(n), ERROR_MORE_DATA
		}
		return uint32(n), nil // byte read mode: the rest is just more bytes
	case err != nil:
		return 0, readErr(err)
	}
	return uint32(n), nil
}

// readPeeked serves a read from what a peek read; e.mu is held.
func (e *pipeEnd) readPeeked(buf []byte, messageRead bool) (uint32, error) {
	if messageRead && e.message {
		ch := &e.peeked[0]
		n := copy(buf, ch.data)
		if n < len(ch.data) {
			ch.data = ch.data[n:]
			return uint32(n), ERROR_MORE_DATA
		}
		more := ch.more
		e.peeked = e.peeked[1:]
		if more {
			return uint32(n), ERROR_MORE_DATA
		}
		return uint32(n), nil
	}
	n := 0
	for len(e.peeked) > 0 && n < len(buf) {
		ch := &e.peeked[0]
		m := copy(buf[n:], ch.data)
		n += m
		if m < len(ch.data) {
			ch.data = ch.data[m:]
			break
		}
		e.peeked = e.peeked[1:]
	}
	return uint32(n), nil
}

// peekBufs recycles the buffers peeks read into.
var peekBufs = sync.Pool{New: func() any { return new([chunkSize]byte) }}

const chunkSize = 64 << 10 // the most one peek reads

// peek is PeekNamedPipe. With nothing peeked yet it reads whatever arrives
// within peekWait (a message, or its first chunkSize bytes) and keeps it
// for the next reads. A read blocked in another goroutine owns the
// connection: then nothing is available to a peek.
func (e *pipeEnd) peek(buf []byte) (read, avail, left uint32, err error) {
	if !e.mu.TryLock() {
		return 0, 0, 0, nil
	}
	defer e.mu.Unlock()
	if len(e.peeked) == 0 {
		b := peekBufs.Get().(*[chunkSize]byte)
		defer peekBufs.Put(b)
		if err := e.c.SetReadDeadline(time.Now().Add(peekWait)); err != nil {
			return 0, 0, 0, toErrno(err)
		}
		n, err := e.c.ReadMsg(b[:])
		if derr := e.c.SetReadDeadline(time.Time{}); derr != nil && err == nil {
			err = derr
		}
		more := errors.Is(err, errs.ErrMoreData)
		switch {
		case err == nil || more:
			e.peeked = append(e.peeked, chunk{data: append([]byte(nil), b[:n]...), more: more})
		case errors.Is(err, errs.ErrTimeout):
			return 0, 0, 0, nil // nothing has arrived
		default:
			return 0, 0, 0, readErr(err)
		}
	}
	n := 0
	for i, ch := range e.peeked {
		if i == 0 || !e.message { // a message pipe shows the next message only
			n += copy(buf[n:], ch.data)
		}
		avail += uint32(len(ch.data))
	}
	if e.message && len(e.peeked[0].data) > len(buf) {
		// What of the next message did not fit in buf, as Windows counts it.
		left = uint32(len(e.peeked[0].data) - len(buf))
	}
	return uint32(n), avail, left, nil
}

func (e *pipeEnd) write(buf []byte) (uint32, error) {
	n, err := e.c.Write(buf)
	if err != nil {
		return uint32(n), writeErr(err)
	}
	return uint32(n), nil
}

func (e *pipeEnd) close() error { return e.c.Close() }

// readErr is the Win32 code of a failed pipe read: the peer gone is
// ERROR_BROKEN_PIPE, a handle closed under the read ERROR_INVALID_HANDLE.
func readErr(err error) error {
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return ERROR_BROKEN_PIPE
	}
	return toErrno(err)
}

// writeErr is the Win32 code of a failed pipe write: the reader gone is
// ERROR_NO_DATA.
func writeErr(err error) error {
	if errors.Is(err, errs.ErrBrokenPipe) {
		return ERROR_NO_DATA
	}
	return toErrno(err)
}

// pipeInstance is a server handle: one instance of a pipe.
type pipeInstance struct {
	srv *pipeServer
	mu  sync.Mutex
	end *pipeEnd // the connected client, or nil
	// disconnected: DisconnectNamedPipe ran since the last client, so reads
	// report ERROR_PIPE_NOT_CONNECTED rather than ERROR_PIPE_LISTENING.
	disconnected bool
	messageRead  bool
	canRead      bool
	canWrite     bool
}

// pipeClient is a client handle (CreateFile on a pipe).
type pipeClient struct {
	end         *pipeEnd
	mu          sync.Mutex
	messageRead bool
}

func sysCreateNamedPipe(name string, openMode, pipeMode, maxInstances, outBufferSize, inBufferSize, defaultTimeout uint32, sa *SECURITY_ATTRIBUTES) (HANDLE, error) {
	p, err := names.ParsePipe(name)
	if err != nil || !strings.HasPrefix(name, `\\`) {
		return 0, ERROR_INVALID_NAME
	}
	access := openMode &^ (FILE_FLAG_FIRST_PIPE_INSTANCE | FILE_FLAG_WRITE_THROUGH | FILE_FLAG_OVERLAPPED)
	if access < PIPE_ACCESS_INBOUND || access > PIPE_ACCESS_DUPLEX ||
		maxInstances < 1 || maxInstances > PIPE_UNLIMITED_INSTANCES ||
		pipeMode&^(PIPE_TYPE_MESSAGE|PIPE_READMODE_MESSAGE|PIPE_NOWAIT|PIPE_REJECT_REMOTE_CLIENTS) != 0 ||
		pipeMode&PIPE_READMODE_MESSAGE != 0 && pipeMode&PIPE_TYPE_MESSAGE == 0 {
		return 0, ERROR_INVALID_PARAMETER
	}
	if pipeMode&PIPE_NOWAIT != 0 {
		return 0, ERROR_NOT_SUPPORTED
	}
	message := pipeMode&PIPE_TYPE_MESSAGE != 0
	table.Lock()
	defer table.Unlock()
	srv := table.servers[p.Key()]
	if srv != nil {
		switch {
		case openMode&FILE_FLAG_FIRST_PIPE_INSTANCE != 0:
			return 0, ERROR_ACCESS_DENIED
		case srv.message != message:
			return 0, ERROR_ACCESS_DENIED
		case srv.instances >= srv.max:
			return 0, ERROR_PIPE_BUSY
		}
	} else {
		dir := pipe.Duplex
		switch access {
		case PIPE_ACCESS_INBOUND:
			dir = pipe.Inbound
		case PIPE_ACCESS_OUTBOUND:
			dir = pipe.Outbound
		}
		cfg := &pipe.ListenConfig{
			Message:       message,
			Direction:     dir,
			MaxInstances:  int(maxInstances),
			InBufferSize:  int(inBufferSize),
			OutBufferSize: int(outBufferSize),
			FirstInstance: true, // another process's pipe of that name: as for a first instance
		}
		if sa != nil {
			cfg.Security.AllUsers = sa.AllUsers
		}
		l, err := pipe.Listen(name, cfg)
		if err != nil {
			if errors.Is(err, errs.ErrExists) {
				return 0, ERROR_ACCESS_DENIED
			}
			return 0, err
		}
		srv = &pipeServer{key: p.Key(), l: l, message: message, max: int(maxInstances)}
		table.servers[p.Key()] = srv
	}
	srv.instances++
	inst := &pipeInstance{
		srv:         srv,
		messageRead: pipeMode&PIPE_READMODE_MESSAGE != 0,
		canRead:     access&PIPE_ACCESS_INBOUND != 0,
		canWrite:    access&PIPE_ACCESS_OUTBOUND != 0,
	}
	table.next += 4
	h := table.next
	table.objs[h] = inst
	return h, nil
}

func (i *pipeInstance) close() error {
	i.mu.Lock()
	end := i.end
	i.end = nil
	i.mu.Unlock()
	if end != nil {
		end.close()
	}
	table.Lock()
	i.srv.instances--
	last := i.srv.instances == 0
	if last {
		delete(table.servers, i.srv.key)
	}
	table.Unlock()
	if last {
		return i.srv.l.Close()
	}
	return nil
}

func sysConnectNamedPipe(h HANDLE) error {
	i, err := handleOf[*pipeInstance](h)
	if err != nil {
		return err
	}
	i.mu.Lock()
	connected := i.end != nil
	i.mu.Unlock()
	if connected {
		return ERROR_PIPE_CONNECTED
	}
	c, err := i.srv.l.AcceptPipe()
	if err != nil {
		return toErrno(err)
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	if _, open := handleOf[*pipeInstance](h); open != nil || i.end != nil {
		c.Close()
		return ERROR_INVALID_HANDLE
	}
	i.end = newPipeEnd(c)
	i.disconnected = false
	return nil
}

func sysDisconnectNamedPipe(h HANDLE) error {
	i, err := handleOf[*pipeInstance](h)
	if err != nil {
		return err
	}
	i.mu.Lock()
	end := i.end
	i.end = nil
	i.disconnected = true
	i.mu.Unlock()
	if end != nil {
		end.close()
	}
	return nil
}

// connected returns the instance's client, or the error a read or write
// of an instance without one gets.
func (i *pipeInstance) connected() (*pipeEnd, bool, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.end == nil {
		if i.disconnected {
			return nil, false, ERROR_PIPE_NOT_CONNECTED
		}
		return nil, false, ERROR_PIPE_LISTENING
	}
	return i.end, i.messageRead, nil
}

// reservations hold the connections WaitNamedPipe made, for the CreateFile
// that follows it: the emulation cannot wait for a free instance without
// taking it (see docs/win32.md).
var reservations = struct {
	sync.Mutex
	m map[string]*reservation
}{m: map[string]*reservation{}}

type reservation struct {
	c      *pipe.Conn
	access pipe.Access
	timer  *time.Timer
}

// reservationTTL is how long a WaitNamedPipe's connection waits for its
// CreateFile before it is given back.
const reservationTTL = 5 * time.Second

func sysWaitNamedPipe(name string, timeout uint32) error {
	p, err := names.ParsePipe(name)
	if err != nil {
		return ERROR_INVALID_NAME
	}
	if timeout == NMPWAIT_USE_DEFAULT_WAIT {
		timeout = 50 // Win32's default when the server gives none
	}
	ctx, cancel := millis(timeout)
	defer cancel()
	var c *pipe.Conn
	var access pipe.Access
	for _, access = range []pipe.Access{pipe.ReadWrite, pipe.WriteOnly, pipe.ReadOnly} {
		c, err = pipe.Dial(ctx, name, &pipe.DialConfig{Access: access})
		if !errors.Is(err, errs.ErrAccessDenied) {
			break
		}
	}
	if err != nil {
		if errors.Is(err, errs.ErrBusy) || errors.Is(err, errs.ErrTimeout) {
			return ERROR_SEM_TIMEOUT
		}
		return toErrno(err)
	}
	r := &reservation{c: c, access: access}
	reservations.Lock()
	if old := reservations.m[p.Key()]; old != nil {
		old.timer.Stop()
		old.c.Close()
	}
	reservations.m[p.Key()] = r
	r.timer = time.AfterFunc(reservationTTL, func() {
		reservations.Lock()
		defer reservations.Unlock()
		if reservations.m[p.Key()] == r {
			delete(reservations.m, p.Key())
			r.c.Close()
		}
	})
	reservations.Unlock()
	return nil
}

// reserved returns the connection a WaitNamedPipe made for key, if it has
// the access asked for.
func reserved(key string, access pipe.Access) *pipe.Conn {
	reservations.Lock()
	defer reservations.Unlock()
	r := reservations.m[key]
	if r == nil {
		return nil
	}
	delete(reservations.m, key)
	r.timer.Stop()
	if r.access != access {
		r.c.Close()
		return nil
	}
	return r.c
}

// isPrefix reports whether name is `\\HOST\kind\...`.
func isPrefix(name, kind string) bool {
	if !strings.HasPrefix(name, `\\`) {
		return false
	}
	_, rest, ok := strings.Cut(name[2:], `\`)
	return ok && len(rest) > len(kind) && strings.EqualFold(rest[:len(kind)+1], kind+`\`)
}

func sysCreateFile(name string, access, shareMode uint32, sa *SECURITY_ATTRIBUTES, creationDisposition, flagsAndAttributes uint32, template HANDLE) (HANDLE, error) {
	switch {
	case isPrefix(name, "pipe"):
		p, err := names.ParsePipe(name)
		if err != nil {
			return 0, ERROR_INVALID_NAME
		}
		var a pipe.Access
		switch access & (GENERIC_READ | GENERIC_WRITE) {
		case GENERIC_READ | GENERIC_WRITE:
			a = pipe.ReadWrite
		case GENERIC_READ:
			a = pipe.ReadOnly
		case GENERIC_WRITE:
			a = pipe.WriteOnly
		default:
			return 0, ERROR_ACCESS_DENIED
		}
		c := reserved(p.Key(), a)
		if c == nil {
			c, err = pipe.Dial(context.Background(), name, &pipe.DialConfig{Access: a})
			if err != nil {
				return 0, toErrno(err)
			}
		}
		return newHandle(&pipeClient{end: newPipeEnd(c)}), nil
	case isPrefix(name, "mailslot"):
		if access&GENERIC_READ != 0 || access&GENERIC_WRITE == 0 {
			return 0, ERROR_ACCESS_DENIED // only the slot's creator reads it
		}
		w, err := mailslot.Open(name)
		if err != nil {
			return 0, toErrno(err)
		}
		return newHandle(&slotWriter{w}), nil
	}
	return 0, ERROR_NOT_SUPPORTED
}

func (c *pipeClient) close() error { return c.end.close() }

func sysSetNamedPipeHandleState(h HANDLE, mode uint32) error {
	if mode&^(PIPE_READMODE_MESSAGE|PIPE_NOWAIT) != 0 {
		return ERROR_INVALID_PARAMETER
	}
	if mode&PIPE_NOWAIT != 0 {
		return ERROR_NOT_SUPPORTED
	}
	msg := mode&PIPE_READMODE_MESSAGE != 0
	table.Lock()
	o := table.objs[h]
	table.Unlock()
	switch o := o.(type) {
	case *pipeClient:
		if msg && !o.end.message {
			return ERROR_INVALID_PARAMETER
		}
		o.mu.Lock()
		o.messageRead = msg
		o.mu.Unlock()
	case *pipeInstance:
		if msg && !o.srv.message {
			return ERROR_INVALID_PARAMETER
		}
		o.mu.Lock()
		o.messageRead = msg
		o.mu.Unlock()
	default:
		return ERROR_INVALID_HANDLE
	}
	return nil
}

// pipeOf returns the connected end and read mode of a pipe handle.
func pipeOf(h HANDLE) (*pipeEnd, bool, error) {
	table.Lock()
	o := table.objs[h]
	table.Unlock()
	switch o := o.(type) {
	case *pipeClient:
		o.mu.Lock()
		defer o.mu.Unlock()
		return o.end, o.messageRead, nil
	case *pipeInstance:
		return o.connected()
	}
	return nil, false, ERROR_INVALID_HANDLE
}

func sysReadFile(h HANDLE, buf []byte) (uint32, error) {
	table.Lock()
	o := table.objs[h]
	table.Unlock()
	if s, ok := o.(*slot); ok {
		n, err := s.s.Read(buf)
		if err != nil {
			return 0, toErrno(err)
		}
		return uint32(n), nil
	}
	if _, ok := o.(*slotWriter); ok {
		return 0, ERROR_ACCESS_DENIED
	}
	if i, ok := o.(*pipeInstance); ok && !i.canRead {
		return 0, ERROR_ACCESS_DENIED
	}
	end, msg, err := pipeOf(h)
	if err != nil {
		return 0, err
	}
	return end.read(buf, msg)
}

func sysWriteFile(h HANDLE, buf []byte) (uint32, error) {
	table.Lock()
	o := table.objs[h]
	table.Unlock()
	if w, ok := o.(*slotWriter); ok {
		n, err := w.w.Write(buf)
		if err != nil {
			return 0, toErrno(err)
		}
		return uint32(n), nil
	}
	if _, ok := o.(*slot); ok {
		return 0, ERROR_ACCESS_DENIED
	}
	if i, ok := o.(*pipeInstance); ok && !i.canWrite {
		return 0, ERROR_ACCESS_DENIED
	}
	end, _, err := pipeOf(h)
	if err != nil {
		return 0, err
	}
	return end.write(buf)
}

func sysPeekNamedPipe(h HANDLE, buf []byte) (read, avail, left uint32, err error) {
	end, _, err := pipeOf(h)
	if err != nil {
		return 0, 0, 0, err
	}
	return end.peek(buf)
}

func sysTransactNamedPipe(h HANDLE, in, out []byte) (uint32, error) {
	end, msg, err := pipeOf(h)
	if err != nil {
		return 0, err
	}
	if !end.message || !msg {
		return 0, ERROR_BAD_PIPE
	}
	if _, err := end.write(in); err != nil {
		return 0, err
	}
	return end.read(out, true)
}

func sysCallNamedPipe(name string, in, out []byte, timeout uint32) (uint32, error) {
	if timeout == NMPWAIT_USE_DEFAULT_WAIT {
		timeout = 50
	}
	ctx, cancel := millis(timeout)
	defer cancel()
	c, err := pipe.Dial(ctx, name, nil)
	if err != nil {
		if errors.Is(err, errs.ErrBusy) || errors.Is(err, errs.ErrTimeout) {
			return 0, ERROR_SEM_TIMEOUT
		}
		if errors.Is(err, errs.ErrInvalidName) {
			return 0, ERROR_INVALID_NAME
		}
		return 0, toErrno(err)
	}
	end := newPipeEnd(c)
	defer end.close()
	if !end.message {
		return 0, ERROR_BAD_PIPE
	}
	if _, err := end.write(in); err != nil {
		return 0, err
	}
	return end.read(out, true)
}

func sysGetNamedPipeClientProcessId(h HANDLE) (uint32, error) {
	i, err := handleOf[*pipeInstance](h)
	if err != nil {
		return 0, err
	}
	end, _, err := i.connected()
	if err != nil {
		return 0, err
	}
	return uint32(end.c.PeerPID()), nil
}

func sysFlushFileBuffers(h HANDLE) error {
	_, _, err := pipeOf(h)
	if errors.Is(err, ERROR_INVALID_HANDLE) {
		if _, werr := handleOf[*slotWriter](h); werr == nil {
			return nil
		}
	}
	return err
}

// ---- Mailslots ----

type slot struct{ s *mailslot.Slot }

func (s *slot) close() error { return s.s.Close() }

type slotWriter struct{ w *mailslot.Writer }

func (w *slotWriter) close() error { return w.w.Close() }

func slotTimeout(ms uint32) time.Duration {
	if ms == MAILSLOT_WAIT_FOREVER {
		return mailslot.WaitForever
	}
	return time.Duration(ms) * time.Millisecond
}

func sysCreateMailslot(name string, maxMessageSize, readTimeout uint32, sa *SECURITY_ATTRIBUTES) (HANDLE, error) {
	if !isPrefix(name, "mailslot") {
		return 0, ERROR_INVALID_NAME
	}
	if maxMessageSize > mailslot.MaxMessage {
		return 0, ERROR_INVALID_PARAMETER
	}
	cfg := &mailslot.Config{MaxMessageSize: int(maxMessageSize), ReadTimeout: slotTimeout(readTimeout)}
	if sa != nil {
		cfg.Security.AllUsers = sa.AllUsers
	}
	s, err := mailslot.Create(name, cfg)
	if err != nil {
		return 0, toErrno(err)
	}
	return newHandle(&slot{s}), nil
}

func sysGetMailslotInfo(h HANDLE) (maxMessageSize, nextSize, messageCount, readTimeout uint32, err error) {
	s, err := handleOf[*slot](h)
	if err != nil {
		return 0, 0, 0, 0, err
	}
	info, err := s.s.Info()
	if err != nil {
		return 0, 0, 0, 0, toErrno(err)
	}
	nextSize = MAILSLOT_NO_MESSAGE
	if info.NextSize != mailslot.NoMessage {
		nextSize = uint32(info.NextSize)
	}
	readTimeout = MAILSLOT_WAIT_FOREVER
	if info.ReadTimeout != mailslot.WaitForever {
		readTimeout = uint32(info.ReadTimeout / time.Millisecond)
	}
	return uint32(info.MaxMessageSize), nextSize, uint32(info.Count), readTimeout, nil
}

func sysSetMailslotInfo(h HANDLE, readTimeout uint32) error {
	s, err := handleOf[*slot](h)
	if err != nil {
		return err
	}
	if err := s.s.SetReadTimeout(slotTimeout(readTimeout)); err != nil {
		return toErrno(err)
	}
	return nil
}

// ---- File mappings ----

type mapping struct {
	m        *shm.Mapping
	readOnly bool
}

func (m *mapping) close() error { return m.m.Close() }

func sysCreateFileMapping(file HANDLE, sa *SECURITY_ATTRIBUTES, protect, maxSizeHigh, maxSizeLow uint32, name string) (HANDLE, bool, error) {
	if file != INVALID_HANDLE_VALUE {
		return 0, false, ERROR_NOT_SUPPORTED
	}
	if protect != PAGE_READWRITE && protect != PAGE_READONLY {
		return 0, false, ERROR_INVALID_PARAMETER
	}
	size := int64(maxSizeHigh)<<32 | int64(maxSizeLow)
	if size == 0 {
		return 0, false, ERROR_INVALID_PARAMETER
	}
	if name == "" {
		return 0, false, ERROR_NOT_SUPPORTED // an unnamed mapping is only for child processes, which xipc does not hand handles to
	}
	var opts shm.Options
	if sa != nil {
		opts.Security.AllUsers = sa.AllUsers
	}
	m, err := shm.Create(name, size, &opts)
	if err != nil {
		return 0, false, toErrno(err)
	}
	return newHandle(&mapping{m: m, readOnly: protect == PAGE_READONLY}), m.Existed(), nil
}

func sysOpenFileMapping(access uint32, inheritHandle bool, name string) (HANDLE, error) {
	a := shm.ReadWrite
	switch {
	case access == FILE_MAP_READ:
		a = shm.ReadOnly
	case access&(FILE_MAP_READ|FILE_MAP_WRITE) == 0:
		return 0, ERROR_INVALID_PARAMETER
	}
	m, err := shm.Open(name, a)
	if err != nil {
		return 0, toErrno(err)
	}
	return newHandle(&mapping{m: m, readOnly: a == shm.ReadOnly}), nil
}

func sysMapViewOfFile(h HANDLE, access, offsetHigh, offsetLow uint32, n uintptr) ([]byte, error) {
	m, err := handleOf[*mapping](h)
	if err != nil {
		return nil, err
	}
	a := shm.ReadOnly
	if access&FILE_MAP_WRITE != 0 {
		if m.readOnly {
			return nil, ERROR_ACCESS_DENIED
		}
		a = shm.ReadWrite
	}
	if n > math.MaxInt {
		return nil, ERROR_INVALID_PARAMETER
	}
	off := int64(offsetHigh)<<32 | int64(offsetLow)
	v, err := m.m.View(off, int(n), a)
	if err != nil {
		return nil, toErrno(err)
	}
	b := v.Bytes()
	if len(b) == 0 {
		v.Close()
		return nil, ERROR_INVALID_PARAMETER
	}
	table.Lock()
	table.views[unsafe.SliceData(b)] = v
	table.Unlock()
	return b, nil
}

func sysUnmapViewOfFile(view []byte) error {
	if len(view) == 0 {
		return ERROR_INVALID_ADDRESS
	}
	table.Lock()
	v, ok := table.views[unsafe.SliceData(view)]
	delete(table.views, unsafe.SliceData(view))
	table.Unlock()
	if !ok {
		return ERROR_INVALID_ADDRESS
	}
	return v.Close()
}

// ---- Sync objects ----

type syncObject struct{ o syncobj.Object }

func (s *syncObject) close() error { return s.o.Close() }

func syncOptions(sa *SECURITY_ATTRIBUTES) *syncobj.Options {
	var o syncobj.Options
	if sa != nil {
		o.Security.AllUsers = sa.AllUsers
	}
	return &o
}

func sysCreateMutex(sa *SECURITY_ATTRIBUTES, initialOwner bool, name string) (HANDLE, bool, error) {
	m, err := syncobj.CreateMutex(name, initialOwner, syncOptions(sa))
	if err != nil {
		return 0, false, toErrno(err)
	}
	return newHandle(&syncObject{m}), m.Existed(), nil
}

func sysCreateEvent(sa *SECURITY_ATTRIBUTES, manualReset, initialState bool, name string) (HANDLE, bool, error) {
	e, err := syncobj.CreateEvent(name, manualReset, initialState, syncOptions(sa))
	if err != nil {
		return 0, false, toErrno(err)
	}
	return newHandle(&syncObject{e}), e.Existed(), nil
}

func sysCreateSemaphore(sa *SECURITY_ATTRIBUTES, initialCount, maximumCount int32, name string) (HANDLE, bool, error) {
	s, err := syncobj.CreateSemaphore(name, int(initialCount), int(maximumCount), syncOptions(sa))
	if err != nil {
		return 0, false, toErrno(err)
	}
	return newHandle(&syncObject{s}), s.Existed(), nil
}

// syncOf returns the sync object of h as a T.
func syncOf[T syncobj.Object](h HANDLE) (T, error) {
	var zero T
	s, err := handleOf[*syncObject](h)
	if err != nil {
		return zero, err
	}
	t, ok := s.o.(T)
	if !ok {
		return zero, ERROR_INVALID_HANDLE
	}
	return t, nil
}

func sysReleaseMutex(h HANDLE) error {
	m, err := syncOf[*syncobj.Mutex](h)
	if err != nil {
		return err
	}
	if err := m.Unlock(); err != nil {
		return toErrno(err)
	}
	return nil
}

func sysSetEvent(h HANDLE) error {
	e, err := syncOf[*syncobj.Event](h)
	if err != nil {
		return err
	}
	if err := e.Set(); err != nil {
		return toErrno(err)
	}
	return nil
}

func sysResetEvent(h HANDLE) error {
	e, err := syncOf[*syncobj.Event](h)
	if err != nil {
		return err
	}
	if err := e.Reset(); err != nil {
		return toErrno(err)
	}
	return nil
}

func sysReleaseSemaphore(h HANDLE, n int32) (int32, error) {
	s, err := syncOf[*syncobj.Semaphore](h)
	if err != nil {
		return 0, err
	}
	if n < 1 {
		return 0, ERROR_INVALID_PARAMETER
	}
	prev, err := s.Release(int(n))
	if err != nil {
		return 0, toErrno(err)
	}
	return int32(prev), nil
}

func sysWaitForMultipleObjects(handles []HANDLE, waitAll bool, milliseconds uint32) (uint32, error) {
	objs := make([]syncobj.Object, len(handles))
	for i, h := range handles {
		s, err := handleOf[*syncObject](h)
		if err != nil {
			return 0, err
		}
		objs[i] = s.o
	}
	ctx, cancel := millis(milliseconds)
	defer cancel()
	if waitAll {
		err := syncobj.WaitAll(ctx, objs...)
		return waitResult(0, err)
	}
	i, err := syncobj.Wait(ctx, objs...)
	return waitResult(i, err)
}

// waitResult turns a syncobj wait's outcome into a Win32 wait's.
func waitResult(i int, err error) (uint32, error) {
	switch {
	case err == nil:
		return WAIT_OBJECT_0 + uint32(i), nil
	case errors.Is(err, errs.ErrAbandoned):
		return WAIT_ABANDONED_0 + uint32(i), nil
	case errors.Is(err, errs.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return WAIT_TIMEOUT, nil
	}
	return WAIT_FAILED, toErrno(err)
}
