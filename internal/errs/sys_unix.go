//go:build !windows

package errs

import (
	"errors"
	"syscall"
)

// sysCode has no OS codes to pass through off Windows: the sentinel decides.
func sysCode(error) (uint32, bool) { return 0, false }

// FromSys returns err wrapped with the sentinel its errno means, or err
// unchanged when it has none.
func FromSys(err error) error {
	var done *Error
	if errors.As(err, &done) {
		return err
	}
	var e syscall.Errno
	if errors.As(err, &e) {
		if s := errnoSentinel(e); s != nil {
			return New(s, err)
		}
	}
	return err
}
