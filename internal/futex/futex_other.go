//go:build unix && !linux

package futex

import (
	"sync/atomic"
	"time"
)

// MaxWords is the most words WaitAny takes (besides cancel).
const MaxWords = 64

// WaitAny, without futexes (macOS, FreeBSD; build only): waiters look at their
// words every millisecond.
func WaitAny(words []*uint32, seqs []uint32, cancel *uint32, max time.Duration) error {
	end := time.Now().Add(max)
	for time.Now().Before(end) {
		if atomic.LoadUint32(cancel) != 0 {
			return nil
		}
		for i, w := range words {
			if atomic.LoadUint32(w) != seqs[i] {
				return nil
			}
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}

// Wake does nothing: waiters poll.
func Wake(*uint32) {}

// WakePrivate does nothing: waiters poll.
func WakePrivate(*uint32) {}
