package conformance

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/shm"
	"github.com/xipc/xipc/syncobj"
)

// The peer's sync-object commands. A mutex, event or semaphore the peer
// creates or opens gets an ID; "close" (common to all suites) closes it.
// The fields of request and reply they use:
//
//	mutexCreate  Name, Count (1: initialOwner)                  → ID, Count (1 if Existed())
//	eventCreate  Name, Count (1: manual reset), Size (1: set)   → ID, Count (1 if Existed())
//	semCreate    Name, Count (initial), Size (max)              → ID, Count (1 if Existed())
//	mutexOpen, eventOpen, semOpen  Name                         → ID
//	wait         ID, Timeout (see syncCtx)     Lock of a mutex, Wait of an event or semaphore
//	unlock, set, reset  ID
//	release      ID, Count                                      → N (the count before)
//	mutexCount   ID (a mutex), Name (a mapping), Size (offset), Count
//	             once the 4-byte word at Size+8 is non-zero, Count times: Lock,
//	             add 1 to the 8-byte counter at Size, Unlock
//	waitAllLoop  ID, Size (another object's ID), Count
//	             Count times WaitAll of the two objects
//	cpuTime      → N: the CPU time the peer process has used, in nanoseconds
var syncobjOps = map[string]agentOp{
	"mutexCreate": func(a *agent, req request, r *reply) error {
		m, err := syncobj.CreateMutex(req.Name, req.Count == 1, nil)
		return addSync(a, r, m, err)
	},
	"eventCreate": func(a *agent, req request, r *reply) error {
		e, err := syncobj.CreateEvent(req.Name, req.Count == 1, req.Size == 1, nil)
		return addSync(a, r, e, err)
	},
	"semCreate": func(a *agent, req request, r *reply) error {
		s, err := syncobj.CreateSemaphore(req.Name, req.Count, req.Size, nil)
		return addSync(a, r, s, err)
	},
	"mutexOpen": func(a *agent, req request, r *reply) error {
		m, err := syncobj.OpenMutex(req.Name)
		return addSync(a, r, m, err)
	},
	"eventOpen": func(a *agent, req request, r *reply) error {
		e, err := syncobj.OpenEvent(req.Name)
		return addSync(a, r, e, err)
	},
	"semOpen": func(a *agent, req request, r *reply) error {
		s, err := syncobj.OpenSemaphore(req.Name)
		return addSync(a, r, s, err)
	},
	"wait": on(func(o syncobj.Object, req request, _ *reply) error {
		ctx, cancel := syncCtx(req.Timeout)
		defer cancel()
		switch o := o.(type) {
		case *syncobj.Mutex:
			return o.Lock(ctx)
		case *syncobj.Event:
			return o.Wait(ctx)
		case *syncobj.Semaphore:
			return o.Wait(ctx)
		}
		return fmt.Errorf("wait on a %T", o)
	}),
	"unlock": on(func(m *syncobj.Mutex, _ request, _ *reply) error { return m.Unlock() }),
	"set":    on(func(e *syncobj.Event, _ request, _ *reply) error { return e.Set() }),
	"reset":  on(func(e *syncobj.Event, _ request, _ *reply) error { return e.Reset() }),
	"release": on(func(s *syncobj.Semaphore, req request, r *reply) error {
		prev, err := s.Release(req.Count)
		r.N = prev
		return err
	}),
	"mutexCount": on(func(m *syncobj.Mutex, req request, r *reply) error {
		sh, err := shm.Open(req.Name, shm.ReadWrite)
		if err != nil {
			return err
		}
		defer sh.Close()
		b, err := shmRange(sh, req.Size, 12)
		if err != nil {
			return err
		}
		if err := awaitStart(b[8:]); err != nil {
			return err
		}
		return countUnder(m, b[:8], req.Count)
	}),
	"waitAllLoop": func(a *agent, req request, _ *reply) error {
		objs := make([]syncobj.Object, 2)
		for i, id := range []int{req.ID, req.Size} {
			o, err := object[syncobj.Object](a, id)
			if err != nil {
				return err
			}
			objs[i] = o
		}
		return waitAllLoop(objs, req.Count)
	},
	"cpuTime": func(_ *agent, _ request, r *reply) error {
		d, err := processCPU()
		r.N = int(d)
		return err
	},
}

// The sync-object commands and the errors only they report join here, as
// the shared-memory ones do in shm_peer.go.
func init() {
	agentOps = joinOps(agentOps, syncobjOps)
	for _, k := range []struct {
		name string
		err  error
	}{
		{"ErrAbandoned", errs.ErrAbandoned},
		{"ErrNotOwner", errs.ErrNotOwner},
		{"ErrTooManyPosts", errs.ErrTooManyPosts},
		{"ErrWrongType", errs.ErrWrongType},
	} {
		if errName(k.err) == fmt.Sprint(k.err) { // not known yet
			knownErrors = append(knownErrors, k)
		}
	}
}

// addSync keeps a sync object the peer made and reports whether Create
// found it existing.
func addSync[T interface {
	syncobj.Object
	Existed() bool
}](a *agent, r *reply, o T, err error) error {
	if err != nil {
		return err
	}
	r.ID = a.add(o)
	if o.Existed() {
		r.Count = 1
	}
	return nil
}

// syncCtx is the context of a peer's wait: d < 0 has ended already (a
// poll), 0 waits as long as a test waits for anything, d > 0 that long.
func syncCtx(d time.Duration) (context.Context, context.CancelFunc) {
	switch {
	case d < 0:
		return context.WithDeadline(context.Background(), time.Now().Add(d))
	case d == 0:
		d = wait
	}
	return context.WithTimeout(context.Background(), d)
}

// awaitStart waits until the word at b is non-zero: the start of a race
// between processes, which all begin at once.
func awaitStart(b []byte) error {
	word := (*uint32)(unsafe.Pointer(&b[0]))
	for end := time.Now().Add(wait); atomic.LoadUint32(word) == 0; time.Sleep(100 * time.Microsecond) {
		if time.Now().After(end) {
			return fmt.Errorf("no start signal within %v", wait)
		}
	}
	return nil
}

// startRace gives the start signal that awaitStart waits for.
func startRace(b []byte) { atomic.StoreUint32((*uint32)(unsafe.Pointer(&b[0])), 1) }

// countUnder adds 1 to the little-endian counter b, n times, each time
// under the mutex and in two steps a microsecond or so apart (a read, a
// pause, a write), so that processes counting together lose updates unless
// the mutex excludes them.
func countUnder(m *syncobj.Mutex, b []byte, n int) error {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for i := range n {
		if err := m.Lock(ctx); err != nil {
			return fmt.Errorf("lock %d of %d: %w", i+1, n, err)
		}
		v := binary.LittleEndian.Uint64(b)
		dawdle(i)
		binary.LittleEndian.PutUint64(b, v+1)
		if err := m.Unlock(); err != nil {
			return fmt.Errorf("unlock %d of %d: %w", i+1, n, err)
		}
	}
	return nil
}

// dawdle takes a moment: a short computation, and a yield now and then.
func dawdle(i int) {
	x := uint32(i)
	for range 500 {
		x = x*1664525 + 1013904223
	}
	if x == 0 {
		runtime.Gosched()
	}
	if i%8 == 0 {
		runtime.Gosched()
	}
}

// waitAllLoop calls WaitAll of objs n times.
func waitAllLoop(objs []syncobj.Object, n int) error {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for i := range n {
		if err := syncobj.WaitAll(ctx, objs...); err != nil {
			return fmt.Errorf("WaitAll %d of %d: %w", i+1, n, err)
		}
	}
	return nil
}

// Test-side calls of those commands.

// syncCreate makes the peer create (or open, when it exists) a sync
// object; it returns the peer's handle and whether it existed.
func (p *peer) syncCreate(req request) (id int, existed bool) {
	p.t.Helper()
	r := p.must(req)
	return r.ID, r.Count == 1
}

func (p *peer) mutexCreate(name string, initialOwner bool) (id int, existed bool) {
	p.t.Helper()
	return p.syncCreate(request{Op: "mutexCreate", Name: name, Count: b2i(initialOwner)})
}

func (p *peer) eventCreate(name string, manualReset, initialState bool) (id int, existed bool) {
	p.t.Helper()
	return p.syncCreate(request{Op: "eventCreate", Name: name, Count: b2i(manualReset), Size: b2i(initialState)})
}

func (p *peer) semCreate(name string, initial, max int) (id int, existed bool) {
	p.t.Helper()
	return p.syncCreate(request{Op: "semCreate", Name: name, Count: initial, Size: max})
}

// syncOpen makes the peer open an existing object with op (mutexOpen,
// eventOpen or semOpen); it returns the peer's handle or the peer's error.
func (p *peer) syncOpen(op, name string) (int, error) {
	p.t.Helper()
	r := p.do(request{Op: op, Name: name})
	return r.ID, r.err()
}

// syncMustOpen is syncOpen that must succeed.
func (p *peer) syncMustOpen(op, name string) int {
	p.t.Helper()
	id, err := p.syncOpen(op, name)
	if err != nil {
		p.t.Fatalf("peer %s(%q): %v", op, name, err)
	}
	return id
}

// syncWait makes the peer wait for its object id (Lock of a mutex) for up
// to d (< 0: a poll) and returns the outcome.
func (p *peer) syncWait(id int, d time.Duration) error {
	p.t.Helper()
	return p.do(request{Op: "wait", ID: id, Timeout: d}).err()
}

// startWait makes the peer wait for its object id without waiting for the
// outcome, which comes on the channel (see nextReply and wantNoReply).
func (p *peer) startWait(id int) <-chan reply {
	return p.send(request{Op: "wait", ID: id})
}

// syncDo runs a command on the peer's object id and returns its error.
func (p *peer) syncDo(op string, id int) error {
	p.t.Helper()
	return p.do(request{Op: op, ID: id}).err()
}

// syncMust runs a command on the peer's object id that must succeed:
// "wait" (which must take the object), "unlock", "set" or "reset".
func (p *peer) syncMust(op string, id int) {
	p.t.Helper()
	if err := p.syncDo(op, id); err != nil {
		p.t.Fatalf("peer %s of its object %d: %v", op, id, err)
	}
}

// release makes the peer release n permits of its semaphore id.
func (p *peer) release(id, n int) (prev int, err error) {
	p.t.Helper()
	r := p.do(request{Op: "release", ID: id, Count: n})
	return r.N, r.err()
}

// cpuTime returns the CPU time the peer process has used, or skips the
// test where that cannot be measured.
func (p *peer) cpuTime(t *testing.T) time.Duration {
	t.Helper()
	r := p.do(request{Op: "cpuTime"})
	if err := r.err(); err != nil {
		if errors.Is(err, errs.ErrNotSupported) {
			t.Skipf("the CPU time of a process: %v", err)
		}
		t.Fatalf("peer cpuTime: %v", err)
	}
	return time.Duration(r.N)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
