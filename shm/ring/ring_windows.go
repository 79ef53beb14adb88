package ring

// On Windows a side sleeps on a named auto-reset event of its own,
// `<ring name>#ring-producer` or `#ring-consumer` (CreateEvent by both
// sides: whoever comes first creates it), together with an unnamed
// manual-reset event of its handle, which Close and the end of a context
// set to interrupt the sleep (WaitForMultipleObjects). An auto-reset
// event left set by a wake-up that raced with the sleeper's last look at
// the ring only costs one spurious turn of the wait loop.

import (
	"time"

	"golang.org/x/sys/windows"

	"github.com/xipc/xipc/internal/winsec"
	"github.com/xipc/xipc/shm"
)

type waiter struct {
	self, peer windows.Handle    // named auto-reset events: ours to sleep on, the peer's to set
	cancel     windows.Handle    // unnamed, manual-reset
	handles    [2]windows.Handle // self, cancel
}

func eventName(ring string, role Role) string { return ring + "#ring-" + role.String() }

func (w *waiter) init(r *Ring, sec shm.Security) error {
	sa, err := securityAttributes(sec)
	if err != nil {
		return err
	}
	if w.self, err = namedEvent(eventName(r.name, r.role), sa); err != nil {
		return err
	}
	if w.peer, err = namedEvent(eventName(r.name, r.peerRole()), sa); err != nil {
		windows.CloseHandle(w.self)
		return err
	}
	if w.cancel, err = windows.CreateEvent(nil, 1, 0, nil); err != nil {
		windows.CloseHandle(w.self)
		windows.CloseHandle(w.peer)
		return err
	}
	w.handles = [2]windows.Handle{w.self, w.cancel}
	return nil
}

// namedEvent creates or opens an auto-reset event.
func namedEvent(name string, sa *windows.SecurityAttributes) (windows.Handle, error) {
	p, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return 0, err
	}
	h, err := windows.CreateEvent(sa, 0, 0, p)
	if err == windows.ERROR_ALREADY_EXISTS && h != 0 {
		err = nil
	}
	return h, err
}

// reset clears the cancel event. A Close racing with it has set closing
// before it sets the event, so the waiter, which looks at closing after
// reset, does not miss it.
func (w *waiter) reset() {
	_ = windows.ResetEvent(w.cancel) // fails only for a bad handle, which ours is not
}

func (w *waiter) interrupt() {
	_ = windows.SetEvent(w.cancel) // as in reset
}

func (w *waiter) prepare() uint32 { return 0 }

func (w *waiter) sleep(_ uint32, d time.Duration) error {
	_, err := windows.WaitForMultipleObjects(w.handles[:], false, uint32(d/time.Millisecond))
	return err
}

func (w *waiter) wake() {
	_ = windows.SetEvent(w.peer) // as in reset
}

func (w *waiter) close() error {
	var first error
	for _, h := range []windows.Handle{w.self, w.peer, w.cancel} {
		if err := windows.CloseHandle(h); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// processToken is this process's creation time: with the PID it names the
// process, whose PID may be reused after it dies.
func processToken() uint64 {
	var c, e, k, u windows.Filetime
	if err := windows.GetProcessTimes(windows.CurrentProcess(), &c, &e, &k, &u); err != nil {
		return 0
	}
	return uint64(c.HighDateTime)<<32 | uint64(c.LowDateTime)
}

// processAlive reports whether the process pid, created at token (0:
// unknown), still runs.
func processAlive(pid uint32, token uint64) bool {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION|windows.SYNCHRONIZE, false, pid)
	if err == windows.ERROR_INVALID_PARAMETER {
		return false // no such process
	}
	if err != nil {
		return true // another user's process, say: assume it runs
	}
	defer windows.CloseHandle(h)
	if ev, err := windows.WaitForSingleObject(h, 0); err == nil && ev == windows.WAIT_OBJECT_0 {
		return false // exited; the object lives on while handles to it are open
	}
	var c, e, k, u windows.Filetime
	if token != 0 && windows.GetProcessTimes(h, &c, &e, &k, &u) == nil &&
		uint64(c.HighDateTime)<<32|uint64(c.LowDateTime) != token {
		return false // the PID belongs to another process now
	}
	return true
}

// securityAttributes gives the events the access that package shm gives
// the mapping (internal/winsec): full access for the owner, SYSTEM and
// Administrators, and wait and set for the users that Security admits.
func securityAttributes(s shm.Security) (*windows.SecurityAttributes, error) {
	return winsec.Attributes(s.AllUsers, s.Group, "GRGWGX")
}
