package errs

import (
	"errors"
	"syscall"
)

// sysCode returns the Win32 code carried by err, if any.
func sysCode(err error) (uint32, bool) {
	var e syscall.Errno
	if errors.As(err, &e) {
		return uint32(e), true
	}
	return 0, false
}

// FromSys returns err wrapped with the sentinel its Win32 code means, or
// err unchanged when it has none.
func FromSys(err error) error {
	var done *Error
	if errors.As(err, &done) {
		return err
	}
	var e syscall.Errno
	if errors.As(err, &e) {
		if s := FromWin32(uint32(e)); s != nil {
			return New(s, err)
		}
	}
	return err
}
