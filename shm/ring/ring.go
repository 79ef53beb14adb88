// Package ring is a message ring in a named shared-memory mapping: one
// producer process writes variable-size messages in place, one consumer
// process reads them in place, and no byte goes through the kernel. It is
// xipc's fastest path between two processes.
//
// A ring is a mapping of package shm (so it has the Win32 lifetime: it
// exists while either side has it open, and its name is free after both
// close or die) holding a 4 KiB header and a power-of-two data area. One
// side creates it with Create, the other attaches with Open; each says
// whether it is the Producer or the Consumer, and a second producer or
// consumer is refused (ErrBusy).
//
// The producer calls Reserve for n contiguous bytes, writes the message
// there and publishes it with Commit. The consumer calls Read, which returns
// the next whole message where it lies in the ring, and Release when done
// with it. Messages arrive whole, in order, exactly once; every message is
// contiguous (at the end of the data area a wrap marker sends the next
// message to the start), so a message can be at most MaxMessage bytes,
// about half the ring; a larger one fails with ErrMessageTooLarge.
//
// A call that must wait (Reserve on a full ring, Read on an empty one)
// first spins (for up to Options.Spin) and then sleeps: on a futex word in the
// ring's header on Linux, on a named auto-reset event on Windows. The side
// going to sleep raises a flag in the header first, and the other side
// makes the wake-up system call only when it sees that flag, so a stream
// that keeps both sides busy makes no system calls at all.
//
// Every wait takes a context; its end fails the call with an error matching
// ErrTimeout (for a deadline) and the context's error. A context that has
// ended already makes the call poll: it succeeds if it need not wait.
//
// The end of a stream is the producer's Close: the consumer reads what is
// left and then gets io.EOF. After the consumer's Close the producer gets
// ErrBrokenPipe. A side that dies is found by the other while it waits:
// each side records its process ID and start time in the header, a sleeping
// waiter looks at its peer's process every 100 ms, and a dead peer fails
// the wait with ErrBrokenPipe (the consumer still reads every message
// committed before the producer died). A ring carries one stream: once a
// side has closed or died, no new producer or consumer can attach.
package ring

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/shm"
)

// Role is the side of the ring a handle is attached as.
type Role int

const (
	// Producer writes messages: Reserve and Commit.
	Producer Role = iota + 1
	// Consumer reads messages: Read and Release.
	Consumer
)

// String returns "producer" or "consumer".
func (r Role) String() string {
	switch r {
	case Producer:
		return "producer"
	case Consumer:
		return "consumer"
	}
	return fmt.Sprintf("Role(%d)", int(r))
}

func (r Role) valid() bool { return r == Producer || r == Consumer }

const (
	// MinSize is the smallest data area a ring may have.
	MinSize = 4 << 10
	// MaxSize is the largest data area a ring may have.
	MaxSize = 1 << 30
	// DefaultSpin is how long a blocked call spins before it sleeps when
	// Options.Spin is zero.
	DefaultSpin = 30 * time.Microsecond
)

// Options holds the options of Create and Open. A nil *Options means the
// zero value.
type Options struct {
	// Spin is the longest a call that has to wait spins, watching the
	// ring, before it sleeps in the kernel: a peer that answers within the
	// spin is seen in well under a microsecond, at the cost of a busy CPU
	// while spinning. The spin adapts: each wait that spins in vain halves
	// the next one's (down to 2 µs), each that spinning ends doubles it
	// (up to Spin), and every 64th wait spins for all of Spin to see
	// whether spinning pays again; so on CPUs too busy to run both sides
	// at once the spinning side does not keep its peer from running. Zero means
	// DefaultSpin; a negative value means no spin: the call sleeps at once.
	Spin time.Duration
	// Security says who besides the creating user may open the ring (used
	// by Create only); the zero value is owner-only.
	Security shm.Security
	// Owner says whose ring Open attaches to besides the caller's own and
	// the administrators' (a ring of anyone else fails with
	// ErrAccessDenied); see shm.Owner. The zero value adds no one.
	Owner shm.Owner
}

const kind = "ring"

// The mapping holds a header page and then the data area. Each group of
// words that one side writes often has a 128-byte block of its own, so the
// two sides do not pull each other's cache lines (or their adjacent-line
// prefetch pairs) back and forth.
const (
	headerSize = 4096

	offMagic   = 0  // uint64: stored last by the creator: the header is ready
	offVersion = 8  // uint32
	offSize    = 16 // uint64: bytes in the data area

	offTail = 128 // uint64: bytes ever committed; written by the producer
	offHead = 256 // uint64: bytes ever released; written by the consumer

	offProducer = 384 // the producer's control block (ctl)
	offConsumer = 512 // the consumer's control block

	// A control block. Its owner writes all of it but seq; all of it is
	// written only when the owner attaches, sleeps or closes.
	ctlPID    = 0  // uint32: the owner's process ID, claimed by compare-and-swap
	ctlClosed = 4  // uint32: 1 once the owner has closed its handle
	ctlToken  = 8  // uint64: the owner's process start time, against PID reuse
	ctlWait   = 16 // uint32: 1 while the owner is (about to be) asleep; cleared by its waker
	ctlSeq    = 20 // uint32: Linux futex word the owner sleeps on; the waker bumps it

	magic   = 0x676e69726370_6978 // "xipcring" read as little-endian bytes
	version = 1

	// A message is an 8-byte header (uint32 length, uint32 flags) and its
	// bytes, padded to 8 so that every header, and every message, is
	// 8-byte aligned.
	msgHeader = 8
	flagWrap  = 1 // a wrap marker: the next message is at the start of the data area
)

// ctl points at one side's control block.
type ctl struct {
	pid, closed, wait, seq *uint32
	token                  *uint64
}

func newCtl(mem []byte, off int) ctl {
	return ctl{
		pid:    u32(mem, off+ctlPID),
		closed: u32(mem, off+ctlClosed),
		token:  u64(mem, off+ctlToken),
		wait:   u32(mem, off+ctlWait),
		seq:    u32(mem, off+ctlSeq),
	}
}

func u32(mem []byte, off int) *uint32 { return (*uint32)(unsafe.Pointer(&mem[off])) }
func u64(mem []byte, off int) *uint64 { return (*uint64)(unsafe.Pointer(&mem[off])) }

// Ring is one side of a ring: a producer or a consumer handle.
//
// A Ring is used by one goroutine at a time, except Close, which any
// goroutine may call at any time: it ends a pending Reserve or Read with
// ErrClosed.
type Ring struct {
	name string
	role Role
	m    *shm.Mapping
	data []byte
	size uint64 // len(data), a power of two
	mask uint64
	max  int

	// spin is Options.Spin; budget is how long the next wait spins: up
	// to spin, halved by each wait that spins in vain, doubled by each
	// wait that spinning ends. waits counts the waits, for the probes.
	spin, budget time.Duration
	waits        uint64

	tail, head *uint64 // in the header
	self, peer ctl

	// pos is this side's own index: the tail for the producer (where the
	// next message goes), the head for the consumer (where the next
	// message to read is). seen is the other side's index as last loaded.
	pos, seen uint64

	// The producer's open reservation: resvCap bytes for a message whose
	// header is at resvPos, after a wrap marker at pos if resvPos != pos.
	// resvCap < 0: none.
	resvPos uint64
	resvCap int

	// The consumer's held message, if held: Release moves pos to next.
	held bool
	next uint64

	// Every call holds mu for reading while it touches the mapping; Close
	// takes it for writing before it unmaps.
	mu      sync.RWMutex
	closing atomic.Bool
	w       waiter
}

// Create creates the named ring with a data area of size bytes (a power of
// two, MinSize to MaxSize) and attaches to it as role. The ring is a shm
// mapping of the same name of size+4096 bytes; a name that exists already,
// as a ring or as anything else, fails with ErrExists.
func Create(name string, role Role, size int, opts *Options) (*Ring, error) {
	if !role.valid() {
		return nil, errs.Op("create", kind, name, errs.New(errs.ErrInvalidParameter, fmt.Errorf("invalid role %d", int(role))))
	}
	if size < MinSize || size > MaxSize || size&(size-1) != 0 {
		return nil, errs.Op("create", kind, name, errs.New(errs.ErrInvalidParameter, fmt.Errorf("size %d: want a power of two from %d to %d", size, MinSize, MaxSize)))
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	m, err := shm.Create(name, int64(headerSize+size), &shm.Options{Security: o.Security, Owner: o.Owner})
	if err != nil {
		return nil, renameOp(err, "create")
	}
	if m.Existed() {
		m.Close() // ours is only a second handle: nothing to undo
		return nil, errs.Op("create", kind, m.Name(), errs.New(errs.ErrExists, errors.New("the name exists")))
	}
	mem := m.Bytes()
	// The creator owns the header until it stores the magic number.
	binary.LittleEndian.PutUint32(mem[offVersion:], version)
	binary.LittleEndian.PutUint64(mem[offSize:], uint64(size))
	prefault(mem[headerSize:], true)
	r, err := attach(m, role, &o, "create")
	if err != nil {
		return nil, err
	}
	atomic.StoreUint64(u64(mem, offMagic), magic)
	return r, nil
}

// Open attaches to the existing named ring as role. No such name →
// ErrNotFound; a mapping that is not a ring → ErrWrongType; a role that
// another handle holds → ErrBusy; a role whose holder has closed or died →
// ErrBrokenPipe.
func Open(name string, role Role, opts *Options) (*Ring, error) {
	if !role.valid() {
		return nil, errs.Op("open", kind, name, errs.New(errs.ErrInvalidParameter, fmt.Errorf("invalid role %d", int(role))))
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	m, err := shm.Open(name, shm.ReadWrite, o.Owner)
	if err != nil {
		return nil, renameOp(err, "open")
	}
	fail := func(err error) (*Ring, error) {
		m.Close()
		return nil, errs.Op("open", kind, m.Name(), err)
	}
	mem := m.Bytes()
	if len(mem) < headerSize+MinSize {
		return fail(errs.New(errs.ErrWrongType, fmt.Errorf("a %d-byte mapping is too small to be a ring", len(mem))))
	}
	// The creator stores the magic number microseconds after it creates
	// the mapping; wait that long, not more.
	for start := time.Now(); atomic.LoadUint64(u64(mem, offMagic)) == 0; {
		if time.Since(start) > time.Second {
			return fail(errs.New(errs.ErrWrongType, errors.New("the mapping is not a ring")))
		}
		time.Sleep(100 * time.Microsecond)
	}
	if atomic.LoadUint64(u64(mem, offMagic)) != magic {
		return fail(errs.New(errs.ErrWrongType, errors.New("the mapping is not a ring")))
	}
	if v := binary.LittleEndian.Uint32(mem[offVersion:]); v != version {
		return fail(errs.New(errs.ErrNotSupported, fmt.Errorf("ring format version %d, want %d", v, version)))
	}
	size := binary.LittleEndian.Uint64(mem[offSize:])
	if size < MinSize || size > MaxSize || size&(size-1) != 0 || uint64(len(mem)-headerSize) < size {
		return fail(errs.New(errs.ErrProtocol, fmt.Errorf("header says %d data bytes in a %d-byte mapping", size, len(mem))))
	}
	prefault(mem[headerSize:headerSize+int(size)], false)
	return attach(m, role, &o, "open")
}

// renameOp makes a shm error read as the ring's.
func renameOp(err error, op string) error {
	var oe *errs.OpError
	if errors.As(err, &oe) {
		return &errs.OpError{Op: op, Kind: kind, Name: oe.Name, Err: oe.Err}
	}
	return err
}

// attach claims role in the header of the mapping m, which it takes over.
func attach(m *shm.Mapping, role Role, o *Options, op string) (*Ring, error) {
	mem := m.Bytes()
	size := binary.LittleEndian.Uint64(mem[offSize:])
	r := &Ring{
		name:    m.Name(),
		role:    role,
		m:       m,
		data:    mem[headerSize : headerSize+int(size) : headerSize+int(size)],
		size:    size,
		mask:    size - 1,
		max:     int(size/2) - msgHeader,
		spin:    o.Spin,
		tail:    u64(mem, offTail),
		head:    u64(mem, offHead),
		resvCap: -1,
	}
	if r.spin == 0 {
		r.spin = DefaultSpin
	}
	r.budget = max(r.spin, 0)
	prod, cons := newCtl(mem, offProducer), newCtl(mem, offConsumer)
	r.self, r.peer = prod, cons
	if role == Consumer {
		r.self, r.peer = cons, prod
	}
	pid := uint32(os.Getpid())
	if !atomic.CompareAndSwapUint32(r.self.pid, 0, pid) {
		holder, closed, token := atomic.LoadUint32(r.self.pid), atomic.LoadUint32(r.self.closed), atomic.LoadUint64(r.self.token)
		m.Close()
		if closed != 0 || !processAlive(holder, token) {
			return nil, errs.Op(op, kind, r.name, errs.New(errs.ErrBrokenPipe, fmt.Errorf("the ring's %s (pid %d) has closed or died: a ring carries one stream", role, holder)))
		}
		return nil, errs.Op(op, kind, r.name, errs.New(errs.ErrBusy, fmt.Errorf("the ring has a %s already (pid %d)", role, holder)))
	}
	atomic.StoreUint64(r.self.token, processToken())
	// Both indexes start where they are: a side that attaches late finds
	// the other's progress (the producer may have filled the ring before
	// the consumer came).
	if role == Producer {
		r.pos = atomic.LoadUint64(r.tail)
		r.seen = atomic.LoadUint64(r.head)
	} else {
		r.pos = atomic.LoadUint64(r.head)
		r.seen = r.pos
	}
	if err := r.w.init(r, o.Security); err != nil {
		atomic.StoreUint32(r.self.closed, 1)
		m.Close()
		return nil, errs.Op(op, kind, r.name, errs.FromSys(err))
	}
	return r, nil
}

// prefault maps the data area's pages into this process now rather than
// on the first message through each page. The creator writes (the pages
// are zero and nobody else sees them yet); an opener only reads, because
// the other side may be writing messages already.
func prefault(b []byte, write bool) {
	var sum byte
	for i := 0; i < len(b); i += 4096 {
		if write {
			b[i] = 0
		} else {
			sum += b[i]
		}
	}
	prefaultSink = sum
}

var prefaultSink byte

// Name returns the ring's name, `Local\NAME` or `Global\NAME`.
func (r *Ring) Name() string { return r.name }

// Role returns the side this handle is attached as.
func (r *Ring) Role() Role { return r.role }

// Size returns the size of the data area in bytes.
func (r *Ring) Size() int { return int(r.size) }

// MaxMessage returns the largest message the ring carries: half the data
// area less a message header. Any message up to that size fits whole
// wherever the previous one ended, once the consumer has made room.
func (r *Ring) MaxMessage() int { return r.max }

func align8(n int) uint64 { return uint64(n+7) &^ 7 }

// Reserve waits until n contiguous bytes are free and returns them for the
// next message to be written in place; Commit publishes it. The slice is
// valid until Commit, the next Reserve or Close. A Reserve replaces the
// reservation before it, if any; one that fails leaves none. Reserve fails with ErrMessageTooLarge for n > MaxMessage, with
// ErrBrokenPipe once the consumer has closed or died, and with an error
// matching ErrTimeout and the context's error if ctx ends first.
func (r *Ring) Reserve(ctx context.Context, n int) ([]byte, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	switch {
	case r.closing.Load():
		return nil, r.opErr("reserve", errs.ErrClosed)
	case r.role != Producer:
		return nil, r.opErr("reserve", errs.New(errs.ErrAccessDenied, errors.New("reserve on the consumer's handle")))
	}
	r.resvCap = -1
	switch {
	case n < 0:
		return nil, r.opErr("reserve", errs.New(errs.ErrInvalidParameter, fmt.Errorf("negative size %d", n)))
	case n > r.max:
		return nil, r.opErr("reserve", errs.New(errs.ErrMessageTooLarge, fmt.Errorf("%d bytes; the most a ring of %d bytes carries is %d", n, r.size, r.max)))
	}
	start, need := r.pos, msgHeader+align8(n)
	if room := r.size - r.pos&r.mask; need > room {
		start += room // a wrap marker fills the rest of the data area
	}
	total := start - r.pos + need
	if atomic.LoadUint32(r.peer.closed) != 0 {
		return nil, r.opErr("reserve", r.peerGone())
	}
	if r.size-(r.pos-r.seen) < total {
		if err := r.waitSpace(ctx, total); err != nil {
			return nil, r.opErr("reserve", err)
		}
	}
	r.resvPos, r.resvCap = start, n
	off := start&r.mask + msgHeader
	return r.data[off : off+uint64(n) : off+uint64(n)], nil
}

// waitSpace waits until total bytes from pos are free.
func (r *Ring) waitSpace(ctx context.Context, total uint64) error {
	var bad error
	ready := func() bool {
		h := atomic.LoadUint64(r.head)
		if h > r.pos || r.pos-h > r.size {
			bad = errs.New(errs.ErrProtocol, fmt.Errorf("the consumer's head %d is out of range (tail %d)", h, r.pos))
			return true
		}
		r.seen = h
		return r.size-(r.pos-h) >= total || atomic.LoadUint32(r.peer.closed) != 0
	}
	if err := r.await(ctx, ready); err != nil {
		return err
	}
	if bad != nil {
		return bad
	}
	if r.size-(r.pos-r.seen) >= total {
		return nil
	}
	return r.peerGone()
}

// Commit publishes the first n bytes of the reservation as one message;
// the rest of the reserved bytes go back to the ring. n greater than the
// reservation, or no reservation, fails with ErrInvalidParameter.
func (r *Ring) Commit(n int) error {
	r.mu.RLock()
	defer r.mu.RUnlock()
	switch {
	case r.closing.Load():
		return r.opErr("commit", errs.ErrClosed)
	case r.role != Producer:
		return r.opErr("commit", errs.New(errs.ErrAccessDenied, errors.New("commit on the consumer's handle")))
	case r.resvCap < 0:
		return r.opErr("commit", errs.New(errs.ErrInvalidParameter, errors.New("nothing reserved")))
	case n < 0 || n > r.resvCap:
		return r.opErr("commit", errs.New(errs.ErrInvalidParameter, fmt.Errorf("commit of %d bytes after a reservation of %d", n, r.resvCap)))
	}
	if r.resvPos != r.pos {
		off := r.pos & r.mask
		binary.LittleEndian.PutUint64(r.data[off:], uint64(flagWrap)<<32)
	}
	off := r.resvPos & r.mask
	binary.LittleEndian.PutUint64(r.data[off:], uint64(n))
	r.pos = r.resvPos + msgHeader + align8(n)
	r.resvCap = -1
	// The store of the tail publishes the message's bytes: the consumer
	// loads the tail before it reads them.
	atomic.StoreUint64(r.tail, r.pos)
	r.wakePeer()
	return nil
}

// Read waits for the next message and returns it where it lies in the
// ring; it is valid until Release or Close, and the next Read needs a
// Release first (ErrInvalidParameter otherwise). After the producer's
// Close, Read returns the messages left and then io.EOF; if the producer
// died, ErrBrokenPipe instead of io.EOF. If ctx ends first, Read fails
// with an error matching ErrTimeout and the context's error.
func (r *Ring) Read(ctx context.Context) ([]byte, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	switch {
	case r.closing.Load():
		return nil, r.opErr("read", errs.ErrClosed)
	case r.role != Consumer:
		return nil, r.opErr("read", errs.New(errs.ErrAccessDenied, errors.New("read on the producer's handle")))
	case r.held:
		return nil, r.opErr("read", errs.New(errs.ErrInvalidParameter, errors.New("the previous message is not released")))
	}
	if r.seen == r.pos {
		if err := r.waitData(ctx); err != nil {
			if err == io.EOF {
				return nil, err
			}
			return nil, r.opErr("read", err)
		}
	}
	pos := r.pos
	off := pos & r.mask
	h := binary.LittleEndian.Uint64(r.data[off:])
	if h>>32 == flagWrap {
		pos += r.size - off
		off = 0
		h = binary.LittleEndian.Uint64(r.data)
	}
	n := int(uint32(h))
	if h>>32 != 0 || n > r.max || pos+msgHeader+align8(n) > r.seen {
		return nil, r.opErr("read", errs.New(errs.ErrProtocol, fmt.Errorf("bad message header %#x at %d (tail %d)", h, pos, r.seen)))
	}
	r.held, r.next = true, pos+msgHeader+align8(n)
	off += msgHeader
	return r.data[off : off+uint64(n) : off+uint64(n)], nil
}

// waitData waits until the tail moves past pos; io.EOF if the producer
// has closed and left nothing.
func (r *Ring) waitData(ctx context.Context) error {
	var bad error
	load := func() bool {
		t := atomic.LoadUint64(r.tail)
		if t < r.pos || t-r.pos > r.size {
			bad = errs.New(errs.ErrProtocol, fmt.Errorf("the producer's tail %d is out of range (head %d)", t, r.pos))
			return true
		}
		r.seen = t
		return t != r.pos
	}
	if load() {
		return bad
	}
	ready := func() bool { return load() || atomic.LoadUint32(r.peer.closed) != 0 }
	if err := r.await(ctx, ready); err != nil {
		return err
	}
	// The producer stores its last tail before its closed flag: a load of
	// the tail after the flag sees every message.
	if load() {
		return bad
	}
	return io.EOF
}

// Release frees the message that Read returned; its bytes may be
// overwritten from then on. Without a held message it does nothing.
func (r *Ring) Release() {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if !r.held || r.closing.Load() {
		return
	}
	r.held = false
	r.pos = r.next
	atomic.StoreUint64(r.head, r.pos)
	r.wakePeer()
}

// wakePeer wakes the other side if it sleeps. The flag is the other
// side's: it raises it before its last look at the ring, and we look at
// it after our store; sequentially consistent atomics make at least one of
// us see the other's store, so no wake-up is lost.
func (r *Ring) wakePeer() {
	if atomic.LoadUint32(r.peer.wait) != 0 && atomic.CompareAndSwapUint32(r.peer.wait, 1, 0) {
		r.w.wake()
	}
}

// peerGone is the error of a producer whose consumer has closed or died.
func (r *Ring) peerGone() error {
	return errs.New(errs.ErrBrokenPipe, errors.New("the consumer has closed the ring"))
}

// minSpin is the least a spinning Ring spins, however little spinning
// has paid off lately: enough to see a peer that is on a CPU and answering.
const minSpin = 2 * time.Microsecond

// Every probeEvery-th wait spins for all of Options.Spin. Without probes
// two sides that have fallen back to sleeping would stay there when the
// CPUs come free: each answers only after a wake-up, slower than the
// other's short spin, so no spin would ever succeed again.
const probeEvery = 64

// peerCheck is how often a sleeping waiter looks whether its peer's
// process is still alive.
const peerCheck = 100 * time.Millisecond

// await waits until ready reports true, the ring is closed, ctx ends, or
// the peer's process is found dead.
func (r *Ring) await(ctx context.Context, ready func() bool) error {
	if ready() {
		return nil
	}
	if ctx.Err() != nil {
		return errs.Timeout(ctx, nil)
	}
	if r.spin > 0 {
		budget := r.budget
		if r.waits++; r.waits%probeEvery == 0 {
			budget = r.spin
		}
		start := time.Now()
		for i := 1; ; i++ {
			if ready() {
				// Spinning pays: let the next wait spin longer.
				r.budget = min(r.spin, max(2*r.budget, 2*time.Since(start)))
				return nil
			}
			if i%64 == 0 && time.Since(start) >= budget {
				break
			}
		}
		// The peer did not come in time. When the CPUs are busy it may be
		// our spinning that keeps it from running: spin less next time.
		r.budget = max(r.budget/2, minSpin)
	}
	return r.sleep(ctx, ready)
}

func (r *Ring) sleep(ctx context.Context, ready func() bool) error {
	r.w.reset()
	if ctx.Done() != nil {
		fired := make(chan struct{})
		stop := context.AfterFunc(ctx, func() {
			r.w.interrupt()
			close(fired)
		})
		defer func() {
			if !stop() {
				<-fired // so that it cannot interrupt a later wait
			}
		}()
	}
	defer atomic.StoreUint32(r.self.wait, 0)
	checked := time.Now()
	for {
		seq := r.w.prepare()
		atomic.StoreUint32(r.self.wait, 1)
		switch {
		case ready():
			return nil
		case r.closing.Load():
			return errs.ErrClosed
		case ctx.Err() != nil:
			return errs.Timeout(ctx, nil)
		}
		if time.Since(checked) >= peerCheck {
			checked = time.Now()
			if pid := atomic.LoadUint32(r.peer.pid); pid != 0 && !processAlive(pid, atomic.LoadUint64(r.peer.token)) {
				return errs.New(errs.ErrBrokenPipe, fmt.Errorf("the ring's %s (pid %d) died", r.peerRole(), pid))
			}
		}
		if err := r.w.sleep(seq, peerCheck); err != nil {
			return errs.FromSys(err)
		}
	}
}

func (r *Ring) peerRole() Role {
	if r.role == Producer {
		return Consumer
	}
	return Producer
}

// Close detaches from the ring and closes the mapping. A Reserve or Read
// pending in another goroutine returns ErrClosed first. The producer's
// Close ends the stream: the consumer reads what is left, then io.EOF.
// The consumer's Close makes the producer's calls fail with ErrBrokenPipe.
// Slices returned by Reserve and Read are invalid afterwards. Closing
// twice is a no-op.
func (r *Ring) Close() error {
	if r.closing.Swap(true) {
		return nil
	}
	r.w.interrupt()
	r.mu.Lock()
	defer r.mu.Unlock()
	atomic.StoreUint32(r.self.closed, 1)
	r.w.wake() // the peer may sleep: let it see the flag
	err := r.w.close()
	if merr := r.m.Close(); err == nil {
		err = merr
	}
	return r.opErr("close", err)
}

func (r *Ring) opErr(op string, err error) error {
	if err == nil {
		return nil
	}
	return errs.Op(op, kind, r.name, err)
}
