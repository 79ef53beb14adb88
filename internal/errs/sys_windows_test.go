package errs

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"
)

func TestFromSysWin32(t *testing.T) {
	for _, row := range Table {
		errno := syscall.Errno(row.Code)
		in := &os.SyscallError{Syscall: "CreateFile", Err: errno}
		got := FromSys(in)
		want := FromWin32(row.Code)
		if !errors.Is(got, want) || !errors.Is(got, errno) {
			t.Errorf("FromSys(%s) = %v; want it to match %v and the Errno", row.Name, got, want)
		}
		// On Windows an OS error keeps its own code.
		if code := Win32Code(got); code != row.Code {
			t.Errorf("Win32Code(FromSys(%s)) = %d; want %d", row.Name, code, row.Code)
		}
	}
	if in := syscall.Errno(ERROR_PIPE_CONNECTED); FromSys(in) != in {
		t.Errorf("FromSys(ERROR_PIPE_CONNECTED) = %v; want it unchanged", FromSys(in))
	}
	done := New(ErrBusy, syscall.Errno(ERROR_FILE_NOT_FOUND))
	if got := FromSys(fmt.Errorf("ctx: %w", done)); !errors.Is(got, ErrBusy) {
		t.Errorf("FromSys(*Error{ErrBusy, 2}) = %v; want ErrBusy kept", got)
	}
}
