//go:build unix

package ring

// On Unix a side sleeps on the futex word seq of its control block in the
// mapping (shared between processes: not FUTEX_PRIVATE) together with a
// private word of its own handle, which Close and the end of a context set
// to interrupt the sleep. Other Unix systems than Linux get internal/futex's
// polling stand-in.

import (
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/xipc/xipc/internal/futex"
	"github.com/xipc/xipc/shm"
)

type waiter struct {
	self, peer *uint32 // the seq words this side sleeps on and wakes
	cancel     uint32  // non-zero: a sleep returns at once
}

func (w *waiter) init(r *Ring, _ shm.Security) error {
	w.self, w.peer = r.self.seq, r.peer.seq
	return nil
}

func (w *waiter) reset() { atomic.StoreUint32(&w.cancel, 0) }

func (w *waiter) interrupt() {
	atomic.StoreUint32(&w.cancel, 1)
	futex.WakePrivate(&w.cancel)
}

// prepare returns the seq value to sleep on; it is read before the wait
// flag is raised, so that a wake-up after the flag changes it.
func (w *waiter) prepare() uint32 { return atomic.LoadUint32(w.self) }

func (w *waiter) sleep(seq uint32, d time.Duration) error {
	return futex.WaitAny([]*uint32{w.self}, []uint32{seq}, &w.cancel, d)
}

func (w *waiter) wake() {
	atomic.AddUint32(w.peer, 1)
	futex.Wake(w.peer)
}

func (w *waiter) close() error { return nil }

// processToken is this process's start time: with the PID it names the
// process, whose PID may be reused after it dies.
func processToken() uint64 {
	if _, start, err := procStat(uint32(unix.Getpid())); err == nil {
		return start
	}
	return 0
}

// processAlive reports whether the process pid, started at token (0:
// unknown), still runs. A zombie is dead: its parent has not reaped it yet,
// but it runs no more.
func processAlive(pid uint32, token uint64) bool {
	if err := unix.Kill(int(pid), 0); err == unix.ESRCH {
		return false
	}
	state, start, err := procStat(pid)
	switch {
	case err == errNoProcess:
		return false
	case err != nil:
		return true // no /proc: kill's answer stands
	case state == 'Z' || state == 'X':
		return false
	case token != 0 && start != token:
		return false // the PID belongs to another process now
	}
	return true
}
