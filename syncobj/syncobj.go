// Package syncobj provides the named Win32 synchronisation objects —
// mutexes, events and semaphores — shared between processes: the real
// CreateMutex, CreateEvent, CreateSemaphore and WaitForMultipleObjects on
// Windows, and on Linux an emulation over futex words in shared memory.
//
// Names are kernel-object names (`Local\NAME`, bare NAME, `Global\NAME`;
// case-sensitive) in the namespace shared with package shm's mappings: a
// name that another type of object holds gives ErrWrongType. An empty name
// makes an unnamed object, usable only through its handle. An object lives
// while any handle to it is open in any process.
//
// Every wait takes a context. A wait first tries without waiting, so a
// context that has already ended polls (a zero timeout in Win32); when it
// would have to wait and the context ends first, it fails with an error
// matching the context's error, and ErrTimeout (WAIT_TIMEOUT) too when the
// context's deadline passed. No wait spins:
// a blocked waiter sleeps in the kernel.
//
// A Mutex is owned by the handle (the *Mutex) that locked it, where Win32
// says the thread: goroutines have no fixed thread. Lock on the owning
// handle nests; each Lock needs an Unlock. If the owner's process dies, or
// the owning handle is closed, while it holds the mutex, the next waiter
// gets the mutex together with ErrAbandoned (WAIT_ABANDONED).
package syncobj

import (
	"context"
	"errors"
	"fmt"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/internal/names"
	"github.com/xipc/xipc/internal/owner"
)

// Security says who besides the creating user may open the object. The
// zero value is owner-only (and root / Administrators and SYSTEM).
type Security struct {
	// AllUsers admits every user of the machine.
	AllUsers bool
	// Group admits members of this group: a name or numeric gid on Unix, a
	// name or SID string on Windows.
	Group string
}

// Options holds what all the Create functions take besides their own
// parameters.
type Options struct {
	// Security says who may open the object; the zero value is owner-only.
	Security Security
	// Owner says whose existing object a Create function may join besides
	// the caller's own and the administrators'; an object of anyone else
	// fails with ErrAccessDenied instead of being shared with a user who
	// took the name first. The zero value adds no one.
	Owner Owner
}

// Owner names the users whose objects an opener trusts besides its own user
// and the administrators (root; SYSTEM and Administrators on Windows), who
// are always trusted (see docs/security.md). The zero value adds no one.
type Owner struct {
	// User is one more trusted user: a user name or numeric uid on Unix, a
	// user name or SID string on Windows.
	User string
	// AnyUser trusts every user: the owner check is off, as in plain Win32.
	AnyUser bool
}

// trustOf resolves owners into the set of trusted users.
func trustOf(owners ...Owner) (owner.Trust, error) {
	any := false
	var users []string
	for _, o := range owners {
		any = any || o.AnyUser
		users = append(users, o.User)
	}
	return owner.New(any, users...)
}

// createNamed is create with the owner check of opts.Owner.
func createNamed(kind string, k *names.Kernel, display string, t objType, p params, opts *Options) (*sysObject, bool, error) {
	var own Owner
	if opts != nil {
		own = opts.Owner
	}
	trust, err := trustOf(own)
	if err != nil {
		return nil, false, errs.Op("create", kind, display, err)
	}
	o, existed, err := create(k, t, p, opts, trust)
	if err != nil {
		return nil, false, errs.Op("create", kind, display, errs.FromSys(err))
	}
	return o, existed, nil
}

// Object is a Mutex, an Event or a Semaphore: something Wait and WaitAll
// wait for.
type Object interface {
	// Name returns the object's name, or "" for an unnamed object.
	Name() string
	// Close closes the handle.
	Close() error
	sys() *sysObject
}

// handle is what the three types share.
type handle struct {
	o       *sysObject
	name    string
	kind    string
	existed bool
}

func (h *handle) sys() *sysObject { return h.o }

// Name returns the object's name (`Local\NAME` or `Global\NAME`), or "".
func (h *handle) Name() string { return h.name }

// Existed reports whether Create found the object already there and opened
// it (ERROR_ALREADY_EXISTS); the parameters given to Create were then
// ignored, as in Win32.
func (h *handle) Existed() bool { return h.existed }

// Close closes the handle (CloseHandle). Closing a Mutex handle that owns
// the mutex abandons it. Closing twice returns an error matching ErrClosed.
func (h *handle) Close() error { return h.opErr("close", h.o.close()) }

func (h *handle) opErr(op string, err error) error {
	if err == nil {
		return nil
	}
	return errs.Op(op, h.kind, h.name, errs.FromSys(err))
}

// parse checks a name; "" is an unnamed object.
func parse(kind, name string) (*names.Kernel, string, error) {
	if name == "" {
		return nil, "", nil
	}
	k, err := names.ParseKernel(name)
	if err != nil {
		return nil, name, errs.Op("create", kind, name, err)
	}
	return &k, k.String(), nil
}

// Mutex is a handle to a named mutex.
type Mutex struct{ handle }

// CreateMutex creates the named mutex, or opens it if it exists (then
// Existed is true and initialOwner is ignored). With initialOwner the new
// mutex starts locked by the returned handle.
func CreateMutex(name string, initialOwner bool, opts *Options) (*Mutex, error) {
	k, display, err := parse("mutex", name)
	if err != nil {
		return nil, err
	}
	o, existed, err := createNamed("mutex", k, display, mutexType, params{initialOwner: initialOwner}, opts)
	if err != nil {
		return nil, err
	}
	return &Mutex{handle{o: o, name: display, kind: "mutex", existed: existed}}, nil
}

// OpenMutex opens an existing named mutex; none → ErrNotFound.
// An object created by a user other than the caller's own, the
// administrators and those the owners name fails with ErrAccessDenied.
func OpenMutex(name string, owners ...Owner) (*Mutex, error) {
	o, display, err := openNamed("mutex", name, mutexType, owners)
	if err != nil {
		return nil, err
	}
	return &Mutex{handle{o: o, name: display, kind: "mutex", existed: true}}, nil
}

// Lock waits until the mutex is free or owned by this handle, and takes it
// (WaitForSingleObject). If the previous owner died or closed its handle
// holding it, Lock takes it and returns an error matching ErrAbandoned:
// the caller owns the mutex, but what it protects may be half updated.
func (m *Mutex) Lock(ctx context.Context) error {
	_, err := waitFor(ctx, false, m)
	return err
}

// Unlock releases one level of ownership (ReleaseMutex). A handle that
// does not own the mutex gets ErrNotOwner.
func (m *Mutex) Unlock() error { return m.opErr("unlock", m.o.unlock()) }

// Event is a handle to a named event.
type Event struct{ handle }

// CreateEvent creates the named event, or opens it if it exists (then
// Existed is true and the parameters are ignored). A manual-reset event
// stays set until Reset and releases every waiter; an auto-reset event
// releases one waiter and resets itself.
func CreateEvent(name string, manualReset, initialState bool, opts *Options) (*Event, error) {
	k, display, err := parse("event", name)
	if err != nil {
		return nil, err
	}
	o, existed, err := createNamed("event", k, display, eventType, params{manualReset: manualReset, initialState: initialState}, opts)
	if err != nil {
		return nil, err
	}
	return &Event{handle{o: o, name: display, kind: "event", existed: existed}}, nil
}

// OpenEvent opens an existing named event; none → ErrNotFound.
// An object created by a user other than the caller's own, the
// administrators and those the owners name fails with ErrAccessDenied.
func OpenEvent(name string, owners ...Owner) (*Event, error) {
	o, display, err := openNamed("event", name, eventType, owners)
	if err != nil {
		return nil, err
	}
	return &Event{handle{o: o, name: display, kind: "event", existed: true}}, nil
}

// Set signals the event (SetEvent).
func (e *Event) Set() error { return e.opErr("set", e.o.set()) }

// Reset clears the event (ResetEvent).
func (e *Event) Reset() error { return e.opErr("reset", e.o.reset()) }

// Wait waits until the event is set; an auto-reset event is reset by the
// wait that it releases.
func (e *Event) Wait(ctx context.Context) error {
	_, err := waitFor(ctx, false, e)
	return err
}

// Semaphore is a handle to a named semaphore.
type Semaphore struct{ handle }

// CreateSemaphore creates the named semaphore with initial count initial
// and maximum max (0 <= initial <= max, max >= 1), or opens it if it exists
// (then Existed is true and the counts are ignored).
func CreateSemaphore(name string, initial, max int, opts *Options) (*Semaphore, error) {
	k, display, err := parse("semaphore", name)
	if err != nil {
		return nil, err
	}
	if max < 1 || initial < 0 || initial > max || max > maxSemaphore {
		return nil, errs.Op("create", "semaphore", display, errs.New(errs.ErrInvalidParameter, fmt.Errorf("initial %d, max %d: want 0 <= initial <= max, 1 <= max <= %d", initial, max, maxSemaphore)))
	}
	o, existed, err := createNamed("semaphore", k, display, semaphoreType, params{initial: initial, max: max}, opts)
	if err != nil {
		return nil, err
	}
	return &Semaphore{handle{o: o, name: display, kind: "semaphore", existed: existed}}, nil
}

// maxSemaphore is the largest maximum count (LONG_MAX in Win32; the
// emulation keeps counts in 31 bits).
const maxSemaphore = 1<<31 - 1

// OpenSemaphore opens an existing named semaphore; none → ErrNotFound.
// An object created by a user other than the caller's own, the
// administrators and those the owners name fails with ErrAccessDenied.
func OpenSemaphore(name string, owners ...Owner) (*Semaphore, error) {
	o, display, err := openNamed("semaphore", name, semaphoreType, owners)
	if err != nil {
		return nil, err
	}
	return &Semaphore{handle{o: o, name: display, kind: "semaphore", existed: true}}, nil
}

// Release adds n (>= 1) to the count (ReleaseSemaphore) and returns the
// count before. Past the maximum it changes nothing and fails with
// ErrTooManyPosts.
func (s *Semaphore) Release(n int) (prev int, err error) {
	if n < 1 {
		return 0, s.opErr("release", errs.New(errs.ErrInvalidParameter, fmt.Errorf("release count %d", n)))
	}
	prev, err = s.o.release(n)
	return prev, s.opErr("release", err)
}

// Wait waits until the count is above zero and takes one.
func (s *Semaphore) Wait(ctx context.Context) error {
	_, err := waitFor(ctx, false, s)
	return err
}

// MaxWait is the most objects one Wait or WaitAll takes
// (MAXIMUM_WAIT_OBJECTS).
const MaxWait = 64

// Wait waits until any of objs is signalled, takes it (locks a mutex,
// resets an auto-reset event, decrements a semaphore) and returns its index
// — the lowest signalled one (WaitForMultipleObjects with bWaitAll false).
// A mutex abandoned by its owner gives its index and ErrAbandoned.
func Wait(ctx context.Context, objs ...Object) (int, error) {
	return waitFor(ctx, false, objs...)
}

// WaitAll waits until all of objs are signalled at once and takes them all
// together (bWaitAll true): it never holds some while waiting for others.
// If a mutex among them was abandoned, the error matches ErrAbandoned.
func WaitAll(ctx context.Context, objs ...Object) error {
	_, err := waitFor(ctx, true, objs...)
	return err
}

func waitFor(ctx context.Context, all bool, objs ...Object) (int, error) {
	if len(objs) == 0 || len(objs) > MaxWait {
		return -1, errs.Op("wait", "syncobj", "", errs.New(errs.ErrInvalidParameter, fmt.Errorf("%d objects: want 1..%d", len(objs), MaxWait)))
	}
	sys := make([]*sysObject, len(objs))
	for i, o := range objs {
		if o == nil {
			return -1, errs.Op("wait", "syncobj", "", errs.New(errs.ErrInvalidParameter, errors.New("nil object")))
		}
		sys[i] = o.sys()
	}
	i, err := wait(ctx, all, sys)
	if err != nil {
		name, kind := "", "syncobj"
		if len(objs) == 1 {
			name, kind = objs[0].Name(), objs[0].sys().kindName()
		} else if i >= 0 {
			name, kind = objs[i].Name(), objs[i].sys().kindName()
		}
		return i, errs.Op("wait", kind, name, errs.FromSys(err))
	}
	return i, nil
}

func openNamed(kind, name string, t objType, owners []Owner) (*sysObject, string, error) {
	k, err := names.ParseKernel(name)
	if err != nil {
		return nil, name, errs.Op("open", kind, name, err)
	}
	trust, err := trustOf(owners...)
	if err != nil {
		return nil, k.String(), errs.Op("open", kind, k.String(), err)
	}
	o, err := open(k, t, trust)
	if err != nil {
		return nil, k.String(), errs.Op("open", kind, k.String(), errs.FromSys(err))
	}
	return o, k.String(), nil
}

// objType is the kind of a sync object.
type objType int

const (
	mutexType objType = iota + 1
	eventType
	semaphoreType
)

func (t objType) String() string {
	switch t {
	case mutexType:
		return "mutex"
	case eventType:
		return "event"
	case semaphoreType:
		return "semaphore"
	}
	return "invalid"
}

// params are the creation parameters of any type.
type params struct {
	initialOwner              bool
	manualReset, initialState bool
	initial, max              int
}

var (
	_ Object = (*Mutex)(nil)
	_ Object = (*Event)(nil)
	_ Object = (*Semaphore)(nil)
)
