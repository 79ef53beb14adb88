// Package futex wraps the Linux futex calls that the emulations sleep in:
// waits on 32-bit words in memory shared between processes (not
// FUTEX_PRIVATE), several words at once with futex_waitv, and wakes. Other
// Unix systems get a millisecond-polling stand-in, enough for the builds
// there.
package futex

import (
	"math"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// futex_waitv(2), Linux 5.16+: one sleep on several futex words, here the
// seq words of the objects waited for (shared between processes) and a
// private word that a context's end sets.
const (
	sysFutexWaitv = 449
	futex32       = 2
	futexWait     = 0
	futexWakeOp   = 1
	futexPrivate  = 128
)

type kernelTimespec struct{ sec, nsec int64 }

type futexWaitv struct {
	val      uint64
	uaddr    uint64
	flags    uint32
	reserved uint32
}

// MaxWords is the most words WaitAny takes (besides cancel).
const MaxWords = 64

var noWaitv atomic.Bool // the kernel lacks futex_waitv

// WaitAny sleeps until one of words differs from its seq, cancel
// becomes non-zero, a wake arrives, or max passes.
func WaitAny(words []*uint32, seqs []uint32, cancel *uint32, max time.Duration) error {
	if !noWaitv.Load() {
		var v [MaxWords + 1]futexWaitv
		for i, w := range words {
			v[i] = futexWaitv{val: uint64(seqs[i]), uaddr: uint64(uintptr(unsafe.Pointer(w))), flags: futex32}
		}
		n := len(words)
		v[n] = futexWaitv{val: 0, uaddr: uint64(uintptr(unsafe.Pointer(cancel))), flags: futex32 | futexPrivate}
		var ts unix.Timespec
		if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
			return err
		}
		// futex_waitv takes a struct __kernel_timespec: 64-bit fields on
		// every architecture, unlike unix.Timespec on 32-bit ones.
		end := ts.Nano() + max.Nanoseconds()
		deadline := kernelTimespec{sec: end / 1e9, nsec: end % 1e9}
		_, _, e := syscall.Syscall6(sysFutexWaitv, uintptr(unsafe.Pointer(&v[0])), uintptr(n+1), 0,
			uintptr(unsafe.Pointer(&deadline)), uintptr(unix.CLOCK_MONOTONIC), 0)
		switch e {
		case 0, unix.EAGAIN, unix.ETIMEDOUT, unix.EINTR:
			return nil
		case unix.ENOSYS:
			noWaitv.Store(true)
		default:
			return e
		}
	}
	// Without futex_waitv: sleep on the first word, in short slices so
	// that the others and cancel are looked at often.
	slice := max
	if len(words) > 1 && slice > 5*time.Millisecond {
		slice = 5 * time.Millisecond
	}
	ts := unix.NsecToTimespec(slice.Nanoseconds())
	_, _, e := syscall.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(words[0])), futexWait,
		uintptr(seqs[0]), uintptr(unsafe.Pointer(&ts)), 0, 0)
	switch e {
	case 0, unix.EAGAIN, unix.ETIMEDOUT, unix.EINTR:
		return nil
	}
	return e
}

// Wake wakes every process waiting on w.
func Wake(w *uint32) {
	syscall.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(w)), futexWakeOp, math.MaxInt32, 0, 0, 0)
}

// WakePrivate wakes this process's waiters on w.
func WakePrivate(w *uint32) {
	syscall.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(w)), futexWakeOp|futexPrivate, math.MaxInt32, 0, 0, 0)
}
