//go:build unix && !linux

package syncobj

import (
	"sync/atomic"
	"time"
)

// Without futexes (macOS, FreeBSD; build only): waiters look at their
// words every millisecond.
func futexWaitAny(words []*uint32, seqs []uint32, cancel *uint32, max time.Duration) error {
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

func futexWake(*uint32)        {}
func futexWakePrivate(*uint32) {}
