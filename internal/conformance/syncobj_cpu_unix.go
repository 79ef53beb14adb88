//go:build unix

package conformance

import (
	"time"

	"golang.org/x/sys/unix"
)

// processCPU returns the CPU time this process has used, user and system.
func processCPU() (time.Duration, error) {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		return 0, err
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}
