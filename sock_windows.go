package xipc

import (
	"errors"

	"golang.org/x/sys/windows"

	"github.com/xipc/xipc/internal/errs"
)

// sockError wraps a socket error with the sentinel its Winsock code means
// (the Win32 table has no WSA codes), or with the one its Win32 code means.
func sockError(err error) error {
	var e windows.Errno
	if errors.As(err, &e) {
		switch e {
		case windows.WSAECONNREFUSED:
			return errs.New(errs.ErrNotFound, err)
		case windows.WSAEADDRINUSE:
			return errs.New(errs.ErrExists, err)
		case windows.WSAECONNRESET, windows.WSAECONNABORTED:
			return errs.New(errs.ErrBrokenPipe, err)
		case windows.WSAETIMEDOUT:
			return errs.New(errs.ErrTimeout, err)
		case windows.WSAEACCES:
			return errs.New(errs.ErrAccessDenied, err)
		}
	}
	return errs.FromSys(err)
}
