//go:build !windows

package errs

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"
)

func TestFromSysErrno(t *testing.T) {
	tests := []struct {
		errno syscall.Errno
		want  error
	}{
		{syscall.ENOENT, ErrNotFound},
		{syscall.ECONNREFUSED, ErrNotFound},
		{syscall.EACCES, ErrAccessDenied},
		{syscall.EPERM, ErrAccessDenied},
		{syscall.EEXIST, ErrExists},
		{syscall.EADDRINUSE, ErrExists},
		{syscall.EPIPE, ErrBrokenPipe},
		{syscall.ECONNRESET, ErrBrokenPipe},
		{syscall.ENAMETOOLONG, ErrInvalidName},
		{syscall.EINVAL, ErrInvalidParameter},
		{syscall.ENOTCONN, ErrNotConnected},
		{syscall.ETIMEDOUT, ErrTimeout},
	}
	for _, tt := range tests {
		in := &os.SyscallError{Syscall: "connect", Err: tt.errno}
		got := FromSys(in)
		if !errors.Is(got, tt.want) || !errors.Is(got, tt.errno) {
			t.Errorf("FromSys(%v) = %v; want it to match %v and %v", in, got, tt.want, tt.errno)
		}
		if code := Win32Code(got); code != Win32Code(tt.want) {
			t.Errorf("Win32Code(FromSys(%v)) = %d; want %d", in, code, Win32Code(tt.want))
		}
	}
	// An errno with no sentinel stays as it is; so does an error with no errno.
	if in := syscall.EXDEV; FromSys(in) != in {
		t.Errorf("FromSys(EXDEV) = %v; want it unchanged", FromSys(in))
	}
	plain := errors.New("plain")
	if FromSys(plain) != plain {
		t.Errorf("FromSys(plain) = %v; want it unchanged", FromSys(plain))
	}
	// An error already carrying a sentinel is not wrapped again.
	done := New(ErrBusy, syscall.ECONNREFUSED)
	if got := FromSys(fmt.Errorf("ctx: %w", done)); errors.Is(got, ErrNotFound) {
		t.Errorf("FromSys(*Error{ErrBusy, ECONNREFUSED}) = %v; matches ErrNotFound, want ErrBusy kept", got)
	}
}
