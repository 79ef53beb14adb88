// Package errs defines xipc's sentinel errors, the error type that wraps
// them with the operating system's error, and the table that maps each
// sentinel to the Win32 error code a Windows program would see.
//
// The root package xipc re-exports everything here, the way os re-exports
// the io/fs errors; the mechanism packages use this package directly so that
// the root package can import them.
package errs

import (
	"context"
	"errors"
	"io/fs"
	"net"
	"os"
)

// Sentinel errors. Where the standard library already has an error with the
// same meaning, the sentinel is that error, so errors.Is works with either.
var (
	// ErrNotFound: no object of that name exists [ERROR_FILE_NOT_FOUND 2].
	ErrNotFound = fs.ErrNotExist
	// ErrExists: the object exists and the call asked for a new one
	// [ERROR_ALREADY_EXISTS 183].
	ErrExists = fs.ErrExist
	// ErrAccessDenied: the object's security or access mode refuses the
	// caller [ERROR_ACCESS_DENIED 5].
	ErrAccessDenied = fs.ErrPermission
	// ErrClosed: the handle was closed by this process [ERROR_INVALID_HANDLE 6].
	ErrClosed = net.ErrClosed
	// ErrTimeout: a deadline or a wait timed out [ERROR_SEM_TIMEOUT 121].
	ErrTimeout = os.ErrDeadlineExceeded

	// ErrBusy: every instance of the pipe is in use [ERROR_PIPE_BUSY 231].
	ErrBusy = errors.New("all pipe instances are busy")
	// ErrMoreData: the message is longer than the buffer; the first part was
	// returned and the rest waits for the next read [ERROR_MORE_DATA 234].
	ErrMoreData = errors.New("more data is available")
	// ErrBrokenPipe: the other end closed or died [ERROR_BROKEN_PIPE 109;
	// a write reports ERROR_NO_DATA 232].
	ErrBrokenPipe = errors.New("the pipe has been ended")
	// ErrNotConnected: no process is on the other end [ERROR_PIPE_NOT_CONNECTED 233].
	ErrNotConnected = errors.New("no process is on the other end of the pipe")
	// ErrInvalidName: the name is malformed or too long [ERROR_INVALID_NAME 123].
	ErrInvalidName = errors.New("invalid name")
	// ErrInvalidParameter: an argument is out of range [ERROR_INVALID_PARAMETER 87].
	ErrInvalidParameter = errors.New("invalid parameter")
	// ErrInsufficientBuffer: the buffer is too small and nothing was consumed
	// [ERROR_INSUFFICIENT_BUFFER 122].
	ErrInsufficientBuffer = errors.New("the data area passed is too small")
	// ErrMessageTooLarge: the message exceeds the receiver's limit
	// [ERROR_INVALID_PARAMETER 87 on the writer].
	ErrMessageTooLarge = errors.New("message too large")
	// ErrQuota: the receiver's queue is full [ERROR_NOT_ENOUGH_QUOTA 1816].
	ErrQuota = errors.New("not enough quota")
	// ErrAbandoned: a mutex's owner died holding it; the waiter now owns it
	// [WAIT_ABANDONED 0x80].
	ErrAbandoned = errors.New("mutex abandoned by its owner")
	// ErrNotOwner: the caller does not own the mutex [ERROR_NOT_OWNER 288].
	ErrNotOwner = errors.New("attempt to release mutex not owned by caller")
	// ErrTooManyPosts: a semaphore release would pass its maximum
	// [ERROR_TOO_MANY_POSTS 298].
	ErrTooManyPosts = errors.New("too many posts to the semaphore")
	// ErrWrongType: the name belongs to an object of another type
	// [ERROR_INVALID_HANDLE 6].
	ErrWrongType = errors.New("name in use by an object of another type")
	// ErrNotSupported: the operation is not possible on this object or platform
	// [ERROR_NOT_SUPPORTED 50].
	ErrNotSupported = errors.New("not supported")
	// ErrMappedAlignment: a view's offset is not a multiple of the allocation
	// granularity [ERROR_MAPPED_ALIGNMENT 1132].
	ErrMappedAlignment = errors.New("the base address or the file offset specified does not have the proper alignment")
	// ErrProtocol: the peer sent bytes that break xipc's wire protocol
	// [ERROR_INVALID_DATA 13].
	ErrProtocol = errors.New("protocol violation by peer")
	// ErrNetwork: the other machine's gateway could not be reached,
	// refused this machine's certificate, or its connection was lost
	// [ERROR_BAD_NETPATH 53, ERROR_NETNAME_DELETED 64].
	ErrNetwork = errors.New("the network path failed")
)

// Error carries a sentinel together with the operating-system error that
// caused it. errors.Is matches both.
type Error struct {
	Sentinel error // one of the sentinels above, or a context error
	Sys      error // the OS error (syscall.Errno, windows.Errno), or nil
}

// New returns an *Error for sentinel caused by sys; sys may be nil.
func New(sentinel, sys error) error {
	if sys == nil || sys == sentinel {
		return sentinel
	}
	return &Error{Sentinel: sentinel, Sys: sys}
}

func (e *Error) Error() string {
	return e.Sentinel.Error() + " (" + e.Sys.Error() + ")"
}

// Unwrap returns the sentinel and the OS error.
func (e *Error) Unwrap() []error { return []error{e.Sentinel, e.Sys} }

// Timeout reports true for timeouts, like net.Error.
func (e *Error) Timeout() bool { return errors.Is(e, ErrTimeout) }

// OpError is the error type returned by every exported xipc call that fails:
// it names the operation, the kind of object and the object, like
// *net.OpError and *fs.PathError.
type OpError struct {
	Op   string // "listen", "dial", "read", "write", "accept", "close", ...
	Kind string // "pipe", "mailslot", "shm", "mutex", "msgq", ...
	Name string // the object's full name, e.g. `\\.\pipe\foo`
	Err  error  // a sentinel, an *Error, or a context/io error
}

// Error formats as `pipe \\.\pipe\foo: dial: all pipe instances are busy`.
func (e *OpError) Error() string {
	s := e.Kind
	if e.Name != "" {
		s += " " + e.Name
	}
	return s + ": " + e.Op + ": " + e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *OpError) Unwrap() error { return e.Err }

// Timeout reports whether the error is a timeout, like net.Error.
func (e *OpError) Timeout() bool {
	return errors.Is(e.Err, ErrTimeout) || errors.Is(e.Err, context.DeadlineExceeded)
}

// Temporary is false: kept so *OpError satisfies net.Error.
func (e *OpError) Temporary() bool { return false }

// Op wraps err in an *OpError unless it is nil, io.EOF-like plain sentinels
// that callers compare with ==, or already an *OpError.
func Op(op, kind, name string, err error) error {
	if err == nil {
		return nil
	}
	var oe *OpError
	if errors.As(err, &oe) {
		return err
	}
	return &OpError{Op: op, Kind: kind, Name: name, Err: err}
}

// Timeout returns the error for a wait that ended because ctx ended: it
// matches ErrTimeout (when the deadline passed), ctx.Err(), and also
// because, when non-nil.
func Timeout(ctx context.Context, because error) error {
	cerr := ctx.Err()
	if cerr == nil {
		// The deadline passed but the context's timer has not fired yet.
		cerr = context.DeadlineExceeded
	}
	list := []error{cerr}
	if errors.Is(cerr, context.DeadlineExceeded) {
		list = append(list, ErrTimeout)
	}
	if because != nil {
		list = append(list, because)
	}
	return &multi{list}
}

type multi struct{ errs []error }

func (m *multi) Error() string {
	s := m.errs[0].Error()
	if len(m.errs) > 1 {
		s = m.errs[len(m.errs)-1].Error() + ": " + s
	}
	return s
}
func (m *multi) Unwrap() []error { return m.errs }
func (m *multi) Timeout() bool   { return errors.Is(m, ErrTimeout) }

// UnwrapNet strips the *net.OpError and *os.SyscallError layers the
// standard library puts around OS errors, so that an exported method wraps
// the cause once, in its own *OpError.
func UnwrapNet(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) {
		err = oe.Err
	}
	var se *os.SyscallError
	if errors.As(err, &se) {
		err = se.Err
	}
	return err
}
