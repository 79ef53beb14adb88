//go:build unix

package syncobj

// The Unix emulation. Each named object is a kobj file (the namespace it
// shares with shm's mappings, with Win32 lifetime), mapped MAP_SHARED; the
// object's state lives in that page:
//
//	seq    a futex word bumped, and woken, on every change that may release
//	       a waiter; waiters sleep on it (several objects at once with
//	       futex_waitv) and recheck
//	ilock  a small lock over the other fields, held for a few instructions;
//	       it holds its holder's pid, so a process killed while holding it
//	       does not wedge the object: a waiter that finds the holder gone
//	       takes the lock over
//	state  mutex: 1 when owned; event: 1 when set; semaphore: the count
//	owner  mutex: the owning handle, pid<<32 | handle number
//
// Abandonment: a mutex whose owner process has died is abandoned; waiters
// sleep in slices of abandonCheck and look at the owner between them, so a
// dead owner is noticed within that time without spinning. A mutex whose
// owning handle is closed is marked abandoned at once.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/internal/futex"
	"github.com/xipc/xipc/internal/kobj"
	"github.com/xipc/xipc/internal/names"
	"github.com/xipc/xipc/internal/owner"
)

const (
	pageSize     = 4096
	magic        = 0x78697063 // "xipc"
	abandonCheck = 100 * time.Millisecond
)

// shared is the object's state in the shared page.
type shared struct {
	magic uint32
	typ   uint32
	seq   uint32
	ilock uint32
	state uint32
	max   uint32 // semaphore: the maximum; event: 1 for manual reset
	rec   uint32 // mutex: nesting depth of the owner
	aband uint32 // mutex: left abandoned by a closed handle
	owner uint64 // mutex: pid<<32 | handle number
	sleep uint32 // waiters asleep on seq, in any process
}

var handleSeq atomic.Uint32

// pid is this process's id, read once: os.Getpid is a system call, and the
// internal lock takes it on every operation.
var pid = os.Getpid()

type sysObject struct {
	t     objType
	obj   *kobj.Object // nil for an unnamed object
	mem   []byte
	s     *shared
	token uint64 // this handle's identity as a mutex owner
	ino   uint64 // orders locks in WaitAll; 0 for unnamed
	mu    sync.Mutex
	shut  bool // closed: no new waits
	waits int  // waits in progress, which still use the mapping
	wake  bool // a change under the internal lock: wake sleepers after it
}

func (o *sysObject) kindName() string { return o.t.String() }

func create(k *names.Kernel, t objType, p params, opts *Options, trust owner.Trust) (*sysObject, bool, error) {
	var sec Security
	if opts != nil {
		sec = opts.Security
	}
	o := &sysObject{t: t, token: uint64(pid)<<32 | uint64(handleSeq.Add(1))}
	init := func(s *shared) {
		s.typ = uint32(t)
		switch t {
		case mutexType:
			if p.initialOwner {
				s.state, s.owner, s.rec = 1, o.token, 1
			}
		case eventType:
			if p.initialState {
				s.state = 1
			}
			if p.manualReset {
				s.max = 1
			}
		case semaphoreType:
			s.state, s.max = uint32(p.initial), uint32(p.max)
		}
		atomic.StoreUint32(&s.magic, magic)
	}
	if k == nil {
		mem, err := unix.Mmap(-1, 0, pageSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED|unix.MAP_ANON)
		if err != nil {
			return nil, false, err
		}
		o.attach(mem)
		init(o.s)
		return o, false, nil
	}
	obj, created, err := kobj.Create(*k, t.String(), sec.AllUsers, sec.Group, func(f *os.File) error {
		if err := f.Truncate(pageSize); err != nil {
			return err
		}
		mem, err := mmap(f)
		if err != nil {
			return err
		}
		o.attach(mem)
		init(o.s)
		return nil
	}, trust)
	if err != nil {
		o.unmap()
		return nil, false, err
	}
	o.setObject(obj)
	if !created {
		if err := o.mapExisting(); err != nil {
			obj.Close()
			return nil, false, err
		}
	}
	return o, !created, nil
}

func open(k names.Kernel, t objType, trust owner.Trust) (*sysObject, error) {
	obj, err := kobj.Open(k, t.String(), trust)
	if err != nil {
		return nil, err
	}
	o := &sysObject{t: t, token: uint64(pid)<<32 | uint64(handleSeq.Add(1))}
	o.setObject(obj)
	if err := o.mapExisting(); err != nil {
		obj.Close()
		return nil, err
	}
	return o, nil
}

func (o *sysObject) mapExisting() error {
	mem, err := mmap(o.obj.File)
	if err != nil {
		return err
	}
	o.attach(mem)
	if atomic.LoadUint32(&o.s.magic) != magic || objType(o.s.typ) != o.t {
		o.unmap()
		return errs.New(errs.ErrWrongType, errors.New("the name belongs to another type of object"))
	}
	return nil
}

func mmap(f *os.File) ([]byte, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() < pageSize {
		return nil, errs.New(errs.ErrWrongType, errors.New("not a sync object"))
	}
	return unix.Mmap(int(f.Fd()), 0, pageSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
}

func (o *sysObject) attach(mem []byte) {
	o.mem = mem
	o.s = (*shared)(unsafe.Pointer(&mem[0]))
}

// setObject records the object's file; its inode orders WaitAll's locks,
// the same in every process.
func (o *sysObject) setObject(obj *kobj.Object) {
	o.obj = obj
	var st unix.Stat_t
	if unix.Fstat(int(obj.File.Fd()), &st) == nil {
		o.ino = st.Ino
	}
}

func (o *sysObject) unmap() {
	if o.mem != nil {
		unix.Munmap(o.mem)
		o.mem, o.s = nil, nil
	}
}

// The internal lock word: the holder's pid, with lockSleepers set while
// another process or thread may be asleep on the word waiting for it.
const lockSleepers = 1 << 31

// lock takes the object's internal lock: the handle's mutex for this
// process's goroutines, then the shared lock word between processes. The
// word is held for a few instructions, so a taker spins briefly (yielding)
// and then sleeps on it; a holder that died holding it (killed between two
// instructions of an update) is noticed and the lock taken over.
func (o *sysObject) lock() error {
	o.mu.Lock()
	if o.shut {
		o.mu.Unlock()
		return errs.ErrClosed
	}
	me := uint32(pid)
	w := &o.s.ilock
	for spins := 0; spins < 100; spins++ {
		if atomic.CompareAndSwapUint32(w, 0, me) {
			return nil
		}
		runtime.Gosched()
	}
	// Contended: from here on the lock is taken with lockSleepers set, as
	// someone else may be asleep too (the classic three-state futex lock).
	words, seqs := []*uint32{w}, []uint32{0}
	for naps := 1; ; naps++ {
		v := atomic.LoadUint32(w)
		switch {
		case v == 0:
			if atomic.CompareAndSwapUint32(w, 0, me|lockSleepers) {
				return nil
			}
			continue
		case v&lockSleepers == 0:
			if !atomic.CompareAndSwapUint32(w, v, v|lockSleepers) {
				continue
			}
			v |= lockSleepers
		}
		if naps%8 == 0 && !alive(int(v&^lockSleepers)) {
			if atomic.CompareAndSwapUint32(w, v, me|lockSleepers) {
				return nil
			}
			continue
		}
		if naps > lockGiveUp {
			// A live process that holds the word this long is stopped or
			// hostile (it may write the shared page): fail rather than
			// hang every caller, whatever its deadline.
			o.mu.Unlock()
			return errs.New(errs.ErrProtocol, fmt.Errorf("the object's internal lock has been held by process %d for %v", v&^lockSleepers, lockGiveUp*lockNap))
		}
		seqs[0] = v
		futex.WaitAny(words, seqs, &neverCancel, lockNap)
	}
}

// lockNap bounds one sleep on a contended internal lock, so that a holder
// that died is noticed.
const lockNap = 10 * time.Millisecond

// lockGiveUp is how many naps a taker waits for a live holder of the
// internal lock before it fails with ErrProtocol.
const lockGiveUp = 500

// neverCancel is the cancel word of the internal lock's sleeps: never set.
var neverCancel uint32

func (o *sysObject) unlockInternal() {
	if atomic.SwapUint32(&o.s.ilock, 0)&lockSleepers != 0 {
		futex.Wake(&o.s.ilock)
	}
	wake := o.wake
	o.wake = false
	s := o.s
	o.mu.Unlock()
	// Sleepers on seq are woken after the lock is let go, so that they do
	// not wake into a held lock.
	if wake && atomic.LoadUint32(&s.sleep) != 0 {
		futex.Wake(&s.seq)
	}
}

// changed bumps seq; the internal lock's release then wakes every waiter,
// who rechecks. o's lock is held.
func (o *sysObject) changed() {
	atomic.AddUint32(&o.s.seq, 1)
	// Only a sleeper needs the system call. A waiter counts itself in
	// before it sleeps, and its sleep compares seq, so a change between
	// the two is seen either here or there.
	o.wake = true
}

func alive(pid int) bool {
	return unix.Kill(pid, 0) != unix.ESRCH
}

// tryTake takes the object if it is signalled; o's lock is held. abandoned
// reports a mutex taken from a dead or closed owner.
func (o *sysObject) tryTake() (ok, abandoned bool) {
	s := o.s
	switch o.t {
	case mutexType:
		switch {
		case s.state == 0:
		case s.owner == o.token:
			s.rec++
			return true, false
		case alive(int(s.owner >> 32)):
			return false, false
		default:
			abandoned = true // its process died holding it
		}
		if s.aband != 0 {
			abandoned, s.aband = true, 0
		}
		s.state, s.owner, s.rec = 1, o.token, 1
		return true, abandoned
	case eventType:
		if s.state == 0 {
			return false, false
		}
		if s.max == 0 {
			s.state = 0 // auto-reset: this waiter takes it
		}
		return true, false
	default:
		if s.state == 0 {
			return false, false
		}
		s.state--
		return true, false
	}
}

// ready reports whether tryTake would succeed; o's lock is held.
func (o *sysObject) ready() bool {
	s := o.s
	if o.t == mutexType {
		return s.state == 0 || s.owner == o.token || !alive(int(s.owner>>32))
	}
	return s.state != 0
}

func (o *sysObject) unlock() error {
	if err := o.lock(); err != nil {
		return err
	}
	s := o.s
	if s.state == 0 || s.owner != o.token {
		o.unlockInternal()
		return errs.ErrNotOwner
	}
	s.rec--
	if s.rec == 0 {
		s.state, s.owner = 0, 0
		o.changed()
	}
	o.unlockInternal()
	return nil
}

func (o *sysObject) set() error { return o.setState(1) }

func (o *sysObject) reset() error { return o.setState(0) }

func (o *sysObject) setState(v uint32) error {
	if err := o.lock(); err != nil {
		return err
	}
	o.s.state = v
	if v != 0 {
		o.changed()
	}
	o.unlockInternal()
	return nil
}

func (o *sysObject) release(n int) (int, error) {
	if err := o.lock(); err != nil {
		return 0, err
	}
	defer o.unlockInternal()
	s := o.s
	prev := int(s.state)
	if uint64(prev)+uint64(n) > uint64(s.max) {
		return prev, errs.ErrTooManyPosts
	}
	s.state += uint32(n)
	o.changed()
	return prev, nil
}

func (o *sysObject) close() error {
	if err := o.lock(); err != nil {
		if errors.Is(err, errs.ErrClosed) {
			return err
		}
		// The shared page is unusable (see lock): still let go of it.
		o.mu.Lock()
		o.shut = true
		if o.waits == 0 {
			o.unmap()
		}
		o.mu.Unlock()
		if o.obj != nil {
			o.obj.Close()
		}
		return err
	}
	if o.t == mutexType && o.s.state != 0 && o.s.owner == o.token {
		// Closed while owning: the next owner hears it was abandoned.
		o.s.state, o.s.owner, o.s.rec, o.s.aband = 0, 0, 0, 1
		o.changed()
	}
	o.shut = true
	o.changed() // wake this handle's waiters: they see it closed
	if atomic.SwapUint32(&o.s.ilock, 0)&lockSleepers != 0 {
		futex.Wake(&o.s.ilock)
	}
	o.wake = false
	if atomic.LoadUint32(&o.s.sleep) != 0 {
		futex.Wake(&o.s.seq)
	}
	if o.waits == 0 {
		o.unmap()
	}
	o.mu.Unlock()
	if o.obj != nil {
		return o.obj.Close()
	}
	return nil
}

// take tries once to take any (or, with all, every one) of objs. It
// returns the index taken, or -1.
func take(all bool, objs []*sysObject) (int, bool, error) {
	if !all {
		for i, o := range objs {
			if err := o.lock(); err != nil {
				return i, false, err
			}
			ok, ab := o.tryTake()
			o.unlockInternal()
			if ok {
				return i, ab, nil
			}
		}
		return -1, false, nil
	}
	// All at once: lock every object, in one order so that two WaitAll
	// calls cannot deadlock, and take them only if all are ready.
	order := make([]*sysObject, len(objs))
	copy(order, objs)
	sort.Slice(order, func(a, b int) bool {
		if order[a].ino != order[b].ino {
			return order[a].ino < order[b].ino
		}
		return uintptr(unsafe.Pointer(order[a])) < uintptr(unsafe.Pointer(order[b]))
	})
	for i, o := range order {
		if err := o.lock(); err != nil {
			for _, l := range order[:i] {
				l.unlockInternal()
			}
			return -1, false, err
		}
	}
	defer func() {
		for _, o := range order {
			o.unlockInternal()
		}
	}()
	for _, o := range order {
		if !o.ready() {
			return -1, false, nil
		}
	}
	abandoned := false
	for _, o := range order {
		_, ab := o.tryTake()
		abandoned = abandoned || ab
	}
	return 0, abandoned, nil
}

// enter registers a wait on o, which keeps its mapping until leave.
func (o *sysObject) enter() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.shut {
		return errs.ErrClosed
	}
	o.waits++
	return nil
}

func (o *sysObject) leave() {
	o.mu.Lock()
	o.waits--
	if o.shut && o.waits == 0 {
		o.unmap() // closed while this wait ran
	}
	o.mu.Unlock()
}

func wait(ctx context.Context, all bool, objs []*sysObject) (int, error) {
	if all && duplicates(objs) {
		return -1, errs.New(errs.ErrInvalidParameter, errors.New("WaitAll of one object twice"))
	}
	for i, o := range objs {
		if err := o.enter(); err != nil {
			for _, e := range objs[:i] {
				e.leave()
			}
			return i, err
		}
		defer o.leave()
	}
	words := make([]*uint32, len(objs))
	seqs := make([]uint32, len(objs))
	var cancel uint32 // set, and woken, when ctx ends
	if ctx.Done() != nil {
		stop := context.AfterFunc(ctx, func() {
			atomic.StoreUint32(&cancel, 1)
			futex.WakePrivate(&cancel)
		})
		defer stop()
	}
	for {
		for i, o := range objs {
			words[i] = &o.s.seq
			seqs[i] = atomic.LoadUint32(&o.s.seq)
		}
		i, abandoned, err := take(all, objs)
		switch {
		case err != nil:
			return i, err
		case i >= 0 && abandoned:
			return i, errs.ErrAbandoned
		case i >= 0:
			return i, nil
		case ctx.Err() != nil || atomic.LoadUint32(&cancel) != 0:
			return -1, errs.Timeout(ctx, nil)
		}
		for _, o := range objs {
			atomic.AddUint32(&o.s.sleep, 1)
		}
		err = futex.WaitAny(words, seqs, &cancel, abandonCheck)
		for _, o := range objs {
			atomic.AddUint32(&o.s.sleep, ^uint32(0))
		}
		if err != nil {
			return -1, err
		}
	}
}

func duplicates(objs []*sysObject) bool {
	seen := make(map[any]bool, len(objs))
	for _, o := range objs {
		var key any = o
		if o.ino != 0 {
			key = o.ino
		}
		if seen[key] {
			return true
		}
		seen[key] = true
	}
	return false
}
