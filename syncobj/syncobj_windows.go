package syncobj

// The Windows backend: the real kernel objects. CreateMutex, CreateEvent
// and CreateSemaphore with the name `Local\NAME` or `Global\NAME`, so any
// Win32 program that opens the same name shares the object.
//
// # Mutex ownership
//
// Win32 gives a mutex to a thread; package syncobj gives it to a handle,
// because a goroutine has no thread of its own. Every handle that owns its
// mutex therefore has an owner thread: an OS thread, locked to a goroutine
// (runtime.LockOSThread), on which the mutex was acquired and on which it
// is released. The owner thread does nothing else: it sleeps on a channel
// and runs, on request, the recursive re-acquisitions of a nested Lock
// (WaitForSingleObject with a zero timeout, which succeeds at once for the
// owning thread) and the ReleaseMutex calls of Unlock. When its last handle
// is unlocked, the goroutine unlocks the thread and ends.
//
// A wait that may acquire a mutex therefore runs on a new locked goroutine,
// which, if it does acquire one, stays as that handle's owner thread. A
// second handle to the same mutex waits on a thread of its own, so it
// blocks while the first handle owns the mutex, as two Win32 threads would.
// Handles that already own their mutex are never waited on in the kernel:
// a wait that lists one takes it recursively on its owner thread (in Wait,
// whatever comes before it in the list is first polled; in WaitAll, the
// recursion level is taken first and given back if the wait for the rest
// fails), and only the other objects are waited for. Waits that involve no
// mutex run on the calling goroutine, its thread locked for the wait.
//
// Closing a handle that owns its mutex ends its owner thread without
// ReleaseMutex: the goroutine returns still locked, the runtime ends the
// OS thread, and Windows abandons the mutexes the thread owned (the next
// waiter gets WAIT_ABANDONED). The runtime never ends the main thread (it
// parks a locked main thread forever), so owner threads are never the
// main thread. Close returns once the thread has ended. One difference
// remains: the mutexes that one WaitAll acquired share the thread that
// acquired them (Win32 cannot move a mutex to another thread), so closing
// one of them while another of them is still owned abandons it only when
// the last of them is unlocked or closed.
//
// # Waiting
//
// A blocked wait sleeps in an alertable WaitForMultipleObjectsEx on the
// objects themselves. It is woken by a user APC (QueueUserAPC) queued to
// its thread when the context ends, when one of its handles is closed, or
// when a mutex handle it waits on comes to own its mutex through another
// wait (then it plans again: that handle is now recursive). The APC needs
// no extra handle in the wait, so all MaxWait (64) objects can be waited
// for, as in Win32.

//go:generate go run golang.org/x/sys/windows/mkwinsyscall -output zsyscall_windows.go syncobj_windows.go

//sys	createSemaphore(sa *windows.SecurityAttributes, initial int32, max int32, name *uint16) (handle windows.Handle, err error) [failretval==0 || e1==windows.ERROR_ALREADY_EXISTS] = kernel32.CreateSemaphoreW
//sys	openSemaphore(access uint32, inherit bool, name *uint16) (handle windows.Handle, err error) [failretval==0] = kernel32.OpenSemaphoreW
//sys	releaseSemaphore(sem windows.Handle, n int32, prev *int32) (err error) = kernel32.ReleaseSemaphore
//sys	waitForMultipleObjectsEx(count uint32, handles *windows.Handle, waitAll bool, milliseconds uint32, alertable bool) (event uint32, err error) [failretval==0xffffffff] = kernel32.WaitForMultipleObjectsEx
//sys	queueUserAPC(fn uintptr, thread windows.Handle, data uintptr) (err error) = kernel32.QueueUserAPC

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"

	"golang.org/x/sys/windows"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/internal/names"
	"github.com/xipc/xipc/internal/owner"
	"github.com/xipc/xipc/internal/winsec"
)

const (
	waitAbandoned0   = windows.WAIT_ABANDONED
	waitTimeout      = uint32(windows.WAIT_TIMEOUT)
	waitIOCompletion = windows.WAIT_IO_COMPLETION

	// The rights Open asks for, and that AllUsers and Group grant, with
	// SYNCHRONIZE: a mutex's MUTEX_MODIFY_STATE is MUTANT_QUERY_STATE (1);
	// events and semaphores have QUERY_STATE (1) and MODIFY_STATE (2).
	mutexShared = windows.SYNCHRONIZE | windows.MUTEX_MODIFY_STATE
	eventShared = windows.SYNCHRONIZE | windows.EVENT_MODIFY_STATE | 1
	semShared   = windows.SYNCHRONIZE | windows.SEMAPHORE_MODIFY_STATE | 1
)

type sysObject struct {
	t    objType
	h    windows.Handle
	name string // `Local\NAME`, or "" for an unnamed object

	// The rest is guarded by book.mu.
	closed  bool
	refs    int                  // calls using h; close waits for none
	waiters map[*waiter]struct{} // blocked waits that list the object
	owner   *ownerThread         // mutex: the thread owning it for this handle
	depth   int                  // mutex: Lock levels held through this handle
	gone    <-chan struct{}      // closed while owning: its thread's end
}

// book guards the handles' state and their owner threads' counts. It is
// held across the calls run on owner threads, which never block, and never
// across a blocking wait.
var book struct {
	mu      sync.Mutex
	drained sync.Cond // broadcast when a closed object's last call ends
}

// mainThread is the process's main thread, which runs package
// initialisation.
var mainThread uint32

func init() {
	book.drained.L = &book.mu
	mainThread = windows.GetCurrentThreadId()
}

func (o *sysObject) kindName() string { return o.t.String() }

func create(k *names.Kernel, t objType, p params, opts *Options, trust owner.Trust) (*sysObject, bool, error) {
	var name *uint16
	var sa *windows.SecurityAttributes
	o := &sysObject{t: t}
	if k != nil {
		o.name = k.String()
		var err error
		if name, err = windows.UTF16PtrFromString(o.name); err != nil {
			return nil, false, errs.New(errs.ErrInvalidName, err)
		}
		var sec Security
		if opts != nil {
			sec = opts.Security
		}
		if sa, err = securityAttributes(sec, sharedRights(t)); err != nil {
			return nil, false, err
		}
	}
	var h windows.Handle
	var err error
	switch t {
	case mutexType:
		if p.initialOwner {
			// The creating thread owns a new mutex: create it on a
			// thread that can stay its owner.
			return checkExisting(createOwnedMutex(o, sa, name))(trust)
		}
		h, err = windows.CreateMutex(sa, false, name)
	case eventType:
		h, err = windows.CreateEvent(sa, boolArg(p.manualReset), boolArg(p.initialState), name)
	case semaphoreType:
		h, err = createSemaphore(sa, int32(p.initial), int32(p.max), name)
	default:
		return nil, false, errs.New(errs.ErrInvalidParameter, fmt.Errorf("object type %d", t))
	}
	existed, err := created(h, err)
	if err != nil {
		return nil, false, err
	}
	o.h = h
	return checkExisting(o, existed, nil)(trust)
}

// checkExisting refuses, and closes, an existing object whose owner is not
// trusted (Options.Owner): a new one is ours.
func checkExisting(o *sysObject, existed bool, err error) func(owner.Trust) (*sysObject, bool, error) {
	return func(trust owner.Trust) (*sysObject, bool, error) {
		if err != nil || !existed {
			return o, existed, err
		}
		if err := trust.CheckHandle(o.h, windows.SE_KERNEL_OBJECT, "the "+o.t.String()); err != nil {
			o.close() //nolint:errcheck // err is the one to report
			return nil, false, err
		}
		return o, existed, nil
	}
}

// createOwnedMutex is CreateMutex(initialOwner) on a new locked thread,
// which stays as the handle's owner thread unless the mutex existed (Win32
// then ignores initialOwner).
func createOwnedMutex(o *sysObject, sa *windows.SecurityAttributes, name *uint16) (*sysObject, bool, error) {
	type result struct {
		existed bool
		err     error
	}
	res := make(chan result, 1)
	goLocked(func() {
		t := newOwnerThread()
		h, err := windows.CreateMutex(sa, true, name)
		existed, err := created(h, err)
		serve := false
		if err == nil {
			o.h = h
			book.mu.Lock()
			if !existed {
				o.owner, o.depth = t, 1
				t.live++
			}
			serve = t.live > 0
			book.mu.Unlock()
		}
		res <- result{existed, err}
		t.run(serve)
	})
	r := <-res
	if r.err != nil {
		return nil, false, r.err
	}
	return o, r.existed, nil
}

// created sorts out what a Create call returned: x/sys reports
// ERROR_ALREADY_EXISTS as an error together with a valid handle, which for
// us is success; ERROR_INVALID_HANDLE means the name belongs to an object
// of another type.
func created(h windows.Handle, err error) (existed bool, _ error) {
	switch {
	case h != 0 && err == windows.ERROR_ALREADY_EXISTS:
		return true, nil
	case err != nil:
		if h != 0 {
			windows.CloseHandle(h) //nolint:errcheck // not reached: a failure returns no handle
		}
		return false, typeErr(err)
	}
	return false, nil
}

// typeErr turns ERROR_INVALID_HANDLE from a Create or Open call, which
// means that the name belongs to an object of another type
// (STATUS_OBJECT_TYPE_MISMATCH), into ErrWrongType: the shared table reads
// code 6 as ErrClosed.
func typeErr(err error) error {
	if err == windows.ERROR_INVALID_HANDLE {
		return errs.New(errs.ErrWrongType, err)
	}
	return err
}

func boolArg(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

func open(k names.Kernel, t objType, trust owner.Trust) (*sysObject, error) {
	o := &sysObject{t: t, name: k.String()}
	name, err := windows.UTF16PtrFromString(o.name)
	if err != nil {
		return nil, errs.New(errs.ErrInvalidName, err)
	}
	var rc uint32
	if !trust.Any() {
		rc = windows.READ_CONTROL // to read the owner
	}
	switch t {
	case mutexType:
		o.h, err = windows.OpenMutex(mutexShared|rc, false, name)
	case eventType:
		o.h, err = windows.OpenEvent(windows.SYNCHRONIZE|windows.EVENT_MODIFY_STATE|rc, false, name)
	case semaphoreType:
		o.h, err = openSemaphore(windows.SYNCHRONIZE|windows.SEMAPHORE_MODIFY_STATE|rc, false, name)
	default:
		return nil, errs.New(errs.ErrInvalidParameter, fmt.Errorf("object type %d", t))
	}
	if err != nil {
		return nil, typeErr(err)
	}
	if err := trust.CheckHandle(o.h, windows.SE_KERNEL_OBJECT, "the "+t.String()); err != nil {
		windows.CloseHandle(o.h) //nolint:errcheck // err is the one to report
		return nil, err
	}
	return o, nil
}

// use marks a call using o's handle, which close waits for; done ends it.
func (o *sysObject) use() error {
	book.mu.Lock()
	defer book.mu.Unlock()
	if o.closed {
		return errs.ErrClosed
	}
	o.refs++
	return nil
}

func (o *sysObject) done() {
	book.mu.Lock()
	o.unref()
	book.mu.Unlock()
}

// unref ends a call using o; book.mu held.
func (o *sysObject) unref() {
	o.refs--
	if o.refs == 0 && o.closed {
		book.drained.Broadcast()
	}
}

func (o *sysObject) close() error {
	book.mu.Lock()
	if o.closed {
		book.mu.Unlock()
		return errs.ErrClosed
	}
	o.closed = true
	for w := range o.waiters {
		w.wake(wakeClosed)
	}
	if t := o.owner; t != nil {
		// Closed while owning: the thread ends without releasing, and
		// Windows abandons the mutex; unless the thread still owns
		// other handles' mutexes (acquired with this one by WaitAll),
		// and then that happens when they are released.
		o.owner, o.depth = nil, 0
		t.live--
		t.zombies++
		if t.live == 0 {
			o.gone = t.end()
		}
	}
	for o.refs > 0 {
		book.drained.Wait()
	}
	gone := o.gone
	book.mu.Unlock()
	if gone != nil {
		<-gone
	}
	return windows.CloseHandle(o.h)
}

func (o *sysObject) unlock() error {
	book.mu.Lock()
	if o.closed {
		book.mu.Unlock()
		return errs.ErrClosed
	}
	if o.owner == nil {
		book.mu.Unlock()
		// What ReleaseMutex says on a thread that does not own it.
		return windows.ERROR_NOT_OWNER
	}
	gone, err := o.releaseOwned()
	book.mu.Unlock()
	if gone != nil {
		<-gone
	}
	return err
}

// releaseOwned is ReleaseMutex on o's owner thread; when it was the last
// level of the thread's last handle, the thread ends, and releaseOwned
// returns the channel closed when it has. book.mu held.
func (o *sysObject) releaseOwned() (gone <-chan struct{}, err error) {
	t := o.owner
	t.do(func() { err = windows.ReleaseMutex(o.h) })
	if err != nil {
		return nil, err
	}
	o.depth--
	if o.depth == 0 {
		o.owner = nil
		t.live--
		if t.live == 0 {
			return t.end(), nil
		}
	}
	return nil, nil
}

// acquireOwned takes o's mutex once more on its owner thread, where it is
// signalled: recursion. book.mu held.
func (o *sysObject) acquireOwned() error {
	var r uint32
	var err error
	o.owner.do(func() { r, err = windows.WaitForSingleObject(o.h, 0) })
	if err != nil {
		return err
	}
	if r != windows.WAIT_OBJECT_0 {
		return fmt.Errorf("recursive wait on the owning thread returned %#x", r)
	}
	o.depth++
	return nil
}

func (o *sysObject) set() error {
	if err := o.use(); err != nil {
		return err
	}
	defer o.done()
	return windows.SetEvent(o.h)
}

func (o *sysObject) reset() error {
	if err := o.use(); err != nil {
		return err
	}
	defer o.done()
	return windows.ResetEvent(o.h)
}

func (o *sysObject) release(n int) (int, error) {
	if err := o.use(); err != nil {
		return 0, err
	}
	defer o.done()
	if n > math.MaxInt32 {
		// Past any maximum (a LONG); Win32 cannot even be asked.
		return 0, windows.ERROR_TOO_MANY_POSTS
	}
	var prev int32
	if err := releaseSemaphore(o.h, int32(n), &prev); err != nil {
		return 0, err
	}
	return int(prev), nil
}

// ownerThread is a goroutine locked to an OS thread that owns mutexes for
// handles; see the top of the file.
type ownerThread struct {
	reqs chan func() bool // run on the thread; true ends it
	gone chan struct{}    // closed when the thread has ended or been unlocked
	// Guarded by book.mu.
	live    int // handles owning their mutex through this thread
	zombies int // handles closed while owning through it
}

func newOwnerThread() *ownerThread {
	return &ownerThread{reqs: make(chan func() bool), gone: make(chan struct{})}
}

// goLocked runs f on a new goroutine locked to an OS thread that is not the
// main thread: the runtime never ends a locked main thread, so a mutex it
// owns could not be abandoned. (Package initialisation runs there, so
// mainThread is known.)
func goLocked(f func()) { go runLocked(f, nil) }

func runLocked(f func(), moved chan<- struct{}) {
	runtime.LockOSThread()
	if moved != nil {
		close(moved)
	}
	if windows.GetCurrentThreadId() == mainThread {
		// Hand f to another goroutine, which cannot run on this thread
		// while this goroutine holds it.
		m := make(chan struct{})
		go runLocked(f, m)
		<-m
		runtime.UnlockOSThread()
		return
	}
	f()
}

// run serves requests (when serve) until the thread's last handle lets go
// of it, then ends the thread: still locked, so that the OS thread ends and
// Windows abandons its mutexes, if a handle was closed owning one;
// otherwise unlocked, back to the runtime. Called last on the thread's
// goroutine.
func (t *ownerThread) run(serve bool) {
	if serve {
		for req := range t.reqs {
			if req() {
				break
			}
		}
	}
	book.mu.Lock()
	abandon := t.zombies > 0
	book.mu.Unlock()
	if !abandon {
		runtime.UnlockOSThread()
		close(t.gone)
		return
	}
	th, err := currentThread()
	if err != nil {
		// Cannot watch the thread end; it will end all the same.
		close(t.gone)
		return
	}
	go func() {
		// The runtime ends the thread after this goroutine returns.
		windows.WaitForSingleObject(th, windows.INFINITE) //nolint:errcheck // fails only for a bad handle
		windows.CloseHandle(th)                           //nolint:errcheck // nothing to do about it
		close(t.gone)
	}()
}

// do runs f on the thread and waits for it. book.mu held.
func (t *ownerThread) do(f func()) {
	done := make(chan struct{})
	t.reqs <- func() bool {
		f()
		close(done)
		return false
	}
	<-done
}

// end tells the thread, which owns nothing for a live handle any more, to
// end; the channel returned is closed when it has. book.mu held.
func (t *ownerThread) end() <-chan struct{} {
	t.reqs <- func() bool { return true }
	return t.gone
}

// adopt makes t the owner thread of the mutex handles that the wait res on
// objs acquired, and says whether t must stay to serve them. Handles closed
// during the wait count as closed while owning. book.mu held.
func (t *ownerThread) adopt(all bool, objs []*sysObject, res waitResult) bool {
	i, err := res.decode()
	if i < 0 || (err != nil && !errors.Is(err, errs.ErrAbandoned)) {
		return false
	}
	got := objs[i : i+1]
	if all {
		got = objs
	}
	for _, o := range got {
		if o.t != mutexType {
			continue
		}
		if o.closed {
			t.zombies++
			continue
		}
		o.owner, o.depth = t, 1
		t.live++
		for w := range o.waiters {
			// Waits listing o now find it owned: recursive.
			w.wake(wakeReplan)
		}
	}
	if t.live == 0 && t.zombies > 0 {
		for _, o := range got {
			if o.t == mutexType && o.closed {
				o.gone = t.gone
			}
		}
	}
	return t.live > 0
}

// currentThread returns a real handle to the calling thread.
func currentThread() (windows.Handle, error) {
	self, _ := windows.GetCurrentThread() // a pseudo-handle; never fails
	p := windows.CurrentProcess()
	var h windows.Handle
	err := windows.DuplicateHandle(p, self, p, &h, 0, false, windows.DUPLICATE_SAME_ACCESS)
	return h, err
}

// Reasons to wake a blocked wait.
const (
	wakeContext = 1 << iota
	wakeClosed
	wakeReplan
)

// waiter is a blocked wait, woken by an APC queued to its thread.
type waiter struct {
	thread windows.Handle
	mu     sync.Mutex
	done   bool
	why    int
}

// apcFunc is the APC that wakes a waiter: it only has to run, which makes
// the alertable wait return WAIT_IO_COMPLETION.
var apcFunc = sync.OnceValue(func() uintptr {
	return windows.NewCallback(func(uintptr) uintptr { return 0 })
})

func (w *waiter) wake(why int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return
	}
	w.why |= why
	// Fails only if the thread has ended, and it waits until done.
	queueUserAPC(apcFunc(), w.thread, 0) //nolint:errcheck // see above
}

func (w *waiter) reasons() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.why
}

// finish stops further wakes and runs the APCs already queued, which
// would otherwise wake an unrelated alertable wait of the thread later.
func (w *waiter) finish() {
	w.mu.Lock()
	w.done = true
	w.mu.Unlock()
	windows.SleepEx(0, true)
}

// waitResult is what one wait on the kernel gave.
type waitResult struct {
	r      uint32 // WaitForMultipleObjects' result; waitTimeout for none
	index  int    // with err: the object it concerns, or -1
	err    error
	replan bool // a handle waited for came to own its mutex meanwhile
}

// decode returns the index of the object that the wait took (-1: none)
// and the error: ErrAbandoned with the index of an abandoned mutex.
func (res waitResult) decode() (int, error) {
	switch {
	case res.replan:
		return -1, nil
	case res.err != nil:
		return res.index, res.err
	case res.r < MaxWait:
		return int(res.r), nil
	case res.r >= waitAbandoned0 && res.r < waitAbandoned0+MaxWait:
		return int(res.r - waitAbandoned0), errs.ErrAbandoned
	}
	return -1, nil
}

func wait(ctx context.Context, all bool, objs []*sysObject) (int, error) {
	if all {
		if i := duplicate(objs); i >= 0 {
			// As Win32 refuses it (and one mutex would be owned twice
			// here, once per handle).
			return i, errs.New(errs.ErrInvalidParameter, windows.ERROR_INVALID_PARAMETER)
		}
	}
	for {
		res := attempt(ctx, all, objs)
		if !res.replan {
			i, err := res.decode()
			if i < 0 && err == nil {
				err = errs.Timeout(ctx, nil) // a poll found nothing
			}
			return i, err
		}
	}
}

// duplicate returns the index of an object that appears twice in objs,
// through one handle or (named objects) through two, or -1.
func duplicate(objs []*sysObject) int {
	seen := make(map[any]bool, len(objs))
	for i, o := range objs {
		var key any = o
		if o.name != "" {
			// Two live handles of one name are one object.
			key = o.name
		}
		if seen[key] {
			return i
		}
		seen[key] = true
	}
	return -1
}

// attempt plans a wait from which handles own their mutexes now, and runs
// it; its result asks for another attempt when that changed meanwhile.
func attempt(ctx context.Context, all bool, objs []*sysObject) waitResult {
	book.mu.Lock()
	for i, o := range objs {
		if o.closed {
			book.mu.Unlock()
			return waitResult{index: i, err: errs.ErrClosed}
		}
	}
	var owned []int
	for i, o := range objs {
		o.refs++
		if o.owner != nil {
			owned = append(owned, i)
		}
	}
	book.mu.Unlock()
	defer func() {
		book.mu.Lock()
		for _, o := range objs {
			o.unref()
		}
		book.mu.Unlock()
	}()

	switch {
	case len(owned) == 0:
		return runWait(ctx, all, objs, nil, false)
	case !all:
		return recursive(ctx, objs, owned[0])
	}
	return waitAllOwning(ctx, objs, owned)
}

// recursive is Wait when objs[j] is the first handle in objs that owns its
// mutex: that one is signalled, so only the objects before it matter, and
// a poll of them decides.
func recursive(ctx context.Context, objs []*sysObject, j int) waitResult {
	if j > 0 {
		if res := runWait(ctx, false, objs[:j], nil, true); res.err != nil || res.r != waitTimeout {
			return res
		}
	}
	book.mu.Lock()
	defer book.mu.Unlock()
	o := objs[j]
	switch {
	case o.closed:
		return waitResult{index: j, err: errs.ErrClosed}
	case o.owner == nil:
		return waitResult{replan: true} // unlocked meanwhile
	}
	if err := o.acquireOwned(); err != nil {
		return waitResult{index: j, err: err}
	}
	return waitResult{r: uint32(j)}
}

// waitAllOwning is WaitAll when objs[owned...] own their mutexes: each
// takes its recursion level on its own thread, and the rest are waited for
// together; if that fails, the levels are given back.
func waitAllOwning(ctx context.Context, objs []*sysObject, owned []int) waitResult {
	var took []*sysObject
	giveBack := func() {
		var ends []<-chan struct{}
		book.mu.Lock()
		for _, o := range took {
			if o.owner != nil && o.depth > 0 {
				if gone, _ := o.releaseOwned(); gone != nil { // an error leaves a level taken; nothing better to do
					ends = append(ends, gone)
				}
			}
		}
		book.mu.Unlock()
		for _, gone := range ends {
			<-gone
		}
	}
	book.mu.Lock()
	for _, j := range owned {
		o := objs[j]
		var res waitResult
		switch {
		case o.closed:
			res = waitResult{index: j, err: errs.ErrClosed}
		case o.owner == nil:
			res = waitResult{replan: true}
		default:
			if err := o.acquireOwned(); err != nil {
				res = waitResult{index: j, err: err}
			} else {
				took = append(took, o)
				continue
			}
		}
		book.mu.Unlock()
		giveBack()
		return res
	}
	book.mu.Unlock()

	if len(owned) == len(objs) {
		return waitResult{r: 0}
	}
	rest := make([]*sysObject, 0, len(objs)-len(owned))
	where := make([]int, 0, len(objs)-len(owned)) // rest[k] is objs[where[k]]
	for i, o := range objs {
		if !contains(owned, i) {
			rest = append(rest, o)
			where = append(where, i)
		}
	}
	// The handles that took a level are watched too: closing one ends
	// the wait.
	res := runWait(ctx, true, rest, took, false)
	i, err := res.decode()
	if res.replan || i < 0 || (err != nil && !errors.Is(err, errs.ErrAbandoned)) {
		giveBack()
		switch {
		case res.err != nil && res.index >= 0:
			res.index = where[res.index]
		case errors.Is(res.err, errs.ErrClosed):
			res.index = closedIndex(objs)
		}
		return res
	}
	if err != nil {
		// WAIT_ABANDONED_0 + an index of rest: all are taken, and that
		// mutex was abandoned.
		return waitResult{r: waitAbandoned0 + uint32(where[i])}
	}
	return waitResult{r: 0}
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// runWait waits for objs, none of which owns its mutex: on a new owner
// thread if one of them is a mutex, else on this goroutine's thread. With
// poll it only polls. Closing one of watch also ends the wait.
func runWait(ctx context.Context, all bool, objs, watch []*sysObject, poll bool) waitResult {
	mutexes := false
	for _, o := range objs {
		mutexes = mutexes || o.t == mutexType
	}
	if !mutexes {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		return waitHere(ctx, all, objs, watch, poll)
	}
	ch := make(chan waitResult, 1)
	goLocked(func() {
		t := newOwnerThread()
		res := waitHere(ctx, all, objs, watch, poll)
		book.mu.Lock()
		serve := t.adopt(all, objs, res)
		book.mu.Unlock()
		ch <- res
		t.run(serve)
	})
	return <-ch
}

// waitHere waits for objs on the calling goroutine's thread, which is
// locked: a poll, then (unless poll) an alertable wait until one is taken
// or the wait is woken, also by the close of one of watch.
func waitHere(ctx context.Context, all bool, objs, watch []*sysObject, poll bool) waitResult {
	hs := make([]windows.Handle, len(objs))
	for i, o := range objs {
		hs[i] = o.h
	}
	n := uint32(len(hs))
	r, err := waitForMultipleObjectsEx(n, &hs[0], all, 0, false)
	switch {
	case err != nil:
		return waitResult{index: -1, err: err}
	case r != waitTimeout || poll:
		return waitResult{r: r}
	case ctx.Err() != nil:
		return waitResult{index: -1, err: errs.Timeout(ctx, nil)}
	}

	th, err := currentThread()
	if err != nil {
		return waitResult{index: -1, err: err}
	}
	defer windows.CloseHandle(th) //nolint:errcheck // nothing to do about it
	w := &waiter{thread: th}
	if res, ok := register(w, objs, watch); !ok {
		return res
	}
	stop := context.AfterFunc(ctx, func() { w.wake(wakeContext) })
	res := waitResult{index: -1}
	for {
		r, err := waitForMultipleObjectsEx(n, &hs[0], all, windows.INFINITE, true)
		if err != nil {
			res.err = err
			break
		}
		if r != waitIOCompletion {
			res.r = r
			break
		}
		why := w.reasons()
		if why&wakeClosed != 0 {
			res.index, res.err = closedIndex(objs), errs.ErrClosed
			break
		}
		if why&wakeContext != 0 {
			res.err = errs.Timeout(ctx, nil)
			break
		}
		if why&wakeReplan != 0 {
			res.replan = true
			break
		}
		// Another APC of this thread's: wait on.
	}
	stop()
	w.finish()
	book.mu.Lock()
	for _, o := range objs {
		delete(o.waiters, w)
	}
	for _, o := range watch {
		delete(o.waiters, w)
	}
	book.mu.Unlock()
	return res
}

// register lists w with objs, so that closing one of them, or one of them
// coming to own its mutex, wakes it, and with watch, so that closing one of
// those wakes it. It fails when that has already happened since the wait
// was planned.
func register(w *waiter, objs, watch []*sysObject) (waitResult, bool) {
	book.mu.Lock()
	defer book.mu.Unlock()
	for i, o := range objs {
		if o.closed {
			return waitResult{index: i, err: errs.ErrClosed}, false
		}
		if o.owner != nil {
			return waitResult{replan: true}, false
		}
	}
	for _, o := range watch {
		if o.closed {
			return waitResult{index: -1, err: errs.ErrClosed}, false
		}
	}
	for _, list := range [][]*sysObject{objs, watch} {
		for _, o := range list {
			if o.waiters == nil {
				o.waiters = make(map[*waiter]struct{})
			}
			o.waiters[w] = struct{}{}
		}
	}
	return waitResult{}, true
}

// closedIndex returns the index of a closed object in objs, or -1.
func closedIndex(objs []*sysObject) int {
	book.mu.Lock()
	defer book.mu.Unlock()
	for i, o := range objs {
		if o.closed {
			return i
		}
	}
	return -1
}

// sharedRights is what AllUsers and Group grant for an object of type t:
// what Open asks for.
func sharedRights(t objType) uint32 {
	switch t {
	case mutexType:
		return mutexShared
	case eventType:
		return eventShared
	}
	return semShared
}

// securityAttributes gives a named object the security descriptor for s
// (internal/winsec): owner-only, plus rights (waiting and changing the
// state) for everyone (AllUsers) or for a group.
func securityAttributes(s Security, rights uint32) (*windows.SecurityAttributes, error) {
	return winsec.Attributes(s.AllUsers, s.Group, fmt.Sprintf("%#x", rights))
}
