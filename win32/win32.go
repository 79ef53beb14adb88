// Package win32 offers xipc's mechanisms under their Win32 names and
// shapes — CreateNamedPipe, ConnectNamedPipe, CreateFile, ReadFile,
// CreateFileMapping, MapViewOfFile, CreateMutex, WaitForSingleObject,
// CreateMailslot, socket, bind, accept, … — so that Win32 code ports to Go
// line by line and runs on Linux as well as on Windows.
//
// On Windows each function calls the real Win32 function. Elsewhere a
// handle table maps each HANDLE to an object of xipc's packages (a pipe
// instance or client, a mailslot or its writer, a file mapping, a mutex,
// event or semaphore), and sockets are the system's BSD sockets; the
// behaviour, including the Win32 error codes, is the same on both for the
// same situation (docs/win32.md lists what is not possible off Windows).
//
// # Go-typed
//
// Handles are HANDLE (and SOCKET for sockets) values, buffers are slices,
// names are Go strings, and a function returns its result and an error
// rather than a BOOL: the error is nil on success, and otherwise an Errno
// holding the Win32 error code (ERROR_PIPE_BUSY, ERROR_MORE_DATA,
// WSAECONNREFUSED, …), which errors.Is matches against xipc's sentinels
// (errors.Is(err, xipc.ErrBusy)). No function takes an OVERLAPPED: I/O is
// synchronous, as in the seed programs; use the idiomatic packages for
// deadlines and contexts.
//
// # GetLastError
//
// Win32 keeps the last error per thread; goroutines have no threads of
// their own (and Go has no thread-local storage), so GetLastError here is
// process-wide, like errno in a single-threaded C program: every function
// that fails stores its code, and a few that succeed store one too
// (ERROR_ALREADY_EXISTS from CreateFileMapping, CreateMutex, CreateEvent and
// CreateSemaphore when the object existed; ERROR_SUCCESS when it did not).
// It is safe for concurrent use but, with several goroutines calling the
// package, another goroutine's code may replace yours: concurrent code
// should use the returned error. WSAGetLastError is the same value.
package win32

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/xipc/xipc/internal/errs"
)

// HANDLE is a handle to a pipe instance or client, a mailslot or its
// writer, a file mapping, or a synchronisation object. On Windows it is
// the kernel handle.
type HANDLE uintptr

// INVALID_HANDLE_VALUE is what the Create functions return on failure.
const INVALID_HANDLE_VALUE = ^HANDLE(0)

// SECURITY_ATTRIBUTES says who may open an object. nil is Win32's
// default: on Windows the creator's default DACL, elsewhere the creating
// user only (and root).
type SECURITY_ATTRIBUTES struct {
	// AllUsers admits every user of the machine (a DACL granting Everyone
	// on Windows, mode 0666 elsewhere).
	AllUsers bool
	// InheritHandle is accepted for fidelity; xipc's handles are never
	// inherited by child processes.
	InheritHandle bool
}

// Errno is a Win32 error code (winerror.h and winsock2.h). It is the error
// every function of the package returns; errors.Is matches it against the
// xipc sentinel for its code (ERROR_PIPE_BUSY matches xipc.ErrBusy) and
// against the standard library's twins (ERROR_FILE_NOT_FOUND matches
// fs.ErrNotExist).
type Errno uint32

// Error returns the code's name, number and meaning, such as
// "ERROR_PIPE_BUSY (231): all pipe instances are busy".
func (e Errno) Error() string {
	if s, ok := errnoNames[e]; ok {
		return fmt.Sprintf("%s (%d): %s", s.name, uint32(e), s.text)
	}
	for _, row := range errs.Table {
		if row.Code == uint32(e) {
			return fmt.Sprintf("%s (%d): %v", row.Name, uint32(e), row.Err)
		}
	}
	return fmt.Sprintf("Win32 error %d", uint32(e))
}

// Is reports whether the sentinel target stands for e's code.
func (e Errno) Is(target error) bool {
	for _, row := range errs.Table {
		if row.Code == uint32(e) && errors.Is(row.Err, target) {
			return true
		}
	}
	if s, ok := errnoNames[e]; ok && s.err != nil {
		return errors.Is(s.err, target)
	}
	return false
}

// Timeout reports whether e is a timeout, like net.Error.
func (e Errno) Timeout() bool {
	return e == ERROR_SEM_TIMEOUT || e == ERROR_TIMEOUT || e == WSAETIMEDOUT
}

// errnoNames names the codes that the error table of internal/errs does not
// hold, with the sentinel each means (or nil).
var errnoNames = map[Errno]struct {
	name, text string
	err        error
}{
	ERROR_SUCCESS:           {"ERROR_SUCCESS", "the operation completed successfully", nil},
	ERROR_INVALID_HANDLE:    {"ERROR_INVALID_HANDLE", "the handle is invalid", nil},
	ERROR_GEN_FAILURE:       {"ERROR_GEN_FAILURE", "a device attached to the system is not functioning", nil},
	ERROR_OPERATION_ABORTED: {"ERROR_OPERATION_ABORTED", "the I/O operation has been aborted", nil},
	ERROR_PIPE_CONNECTED:    {"ERROR_PIPE_CONNECTED", "there is a process on the other end of the pipe", nil},
	ERROR_BAD_PIPE:          {"ERROR_BAD_PIPE", "the pipe state is invalid", errs.ErrInvalidParameter},
	ERROR_PIPE_LISTENING:    {"ERROR_PIPE_LISTENING", "waiting for a process to open the other end of the pipe", errs.ErrNotConnected},
	ERROR_INVALID_FUNCTION:  {"ERROR_INVALID_FUNCTION", "incorrect function", errs.ErrNotSupported},
	WSAEINTR:                {"WSAEINTR", "a blocking operation was interrupted", errs.ErrClosed},
	WSAEACCES:               {"WSAEACCES", "permission denied", errs.ErrAccessDenied},
	WSAEFAULT:               {"WSAEFAULT", "bad address", errs.ErrInvalidParameter},
	WSAEINVAL:               {"WSAEINVAL", "invalid argument", errs.ErrInvalidParameter},
	WSAEMFILE:               {"WSAEMFILE", "too many open sockets", nil},
	WSAEWOULDBLOCK:          {"WSAEWOULDBLOCK", "resource temporarily unavailable", nil},
	WSAENOTSOCK:             {"WSAENOTSOCK", "not a socket", errs.ErrClosed},
	WSAEPROTONOSUPPORT:      {"WSAEPROTONOSUPPORT", "protocol not supported", errs.ErrNotSupported},
	WSAESOCKTNOSUPPORT:      {"WSAESOCKTNOSUPPORT", "socket type not supported", errs.ErrNotSupported},
	WSAEOPNOTSUPP:           {"WSAEOPNOTSUPP", "operation not supported", errs.ErrNotSupported},
	WSAEAFNOSUPPORT:         {"WSAEAFNOSUPPORT", "address family not supported", errs.ErrNotSupported},
	WSAEADDRINUSE:           {"WSAEADDRINUSE", "address already in use", errs.ErrExists},
	WSAEADDRNOTAVAIL:        {"WSAEADDRNOTAVAIL", "cannot assign requested address", errs.ErrInvalidParameter},
	WSAENETUNREACH:          {"WSAENETUNREACH", "network is unreachable", nil},
	WSAECONNABORTED:         {"WSAECONNABORTED", "connection aborted", errs.ErrBrokenPipe},
	WSAECONNRESET:           {"WSAECONNRESET", "connection reset by peer", errs.ErrBrokenPipe},
	WSAEISCONN:              {"WSAEISCONN", "socket is already connected", nil},
	WSAENOTCONN:             {"WSAENOTCONN", "socket is not connected", errs.ErrNotConnected},
	WSAESHUTDOWN:            {"WSAESHUTDOWN", "cannot send after socket shutdown", errs.ErrBrokenPipe},
	WSAETIMEDOUT:            {"WSAETIMEDOUT", "connection timed out", errs.ErrTimeout},
	WSAECONNREFUSED:         {"WSAECONNREFUSED", "connection refused", errs.ErrNotFound},
	WSAEHOSTUNREACH:         {"WSAEHOSTUNREACH", "no route to host", nil},
	WSANOTINITIALISED:       {"WSANOTINITIALISED", "WSAStartup has not been called", nil},
}

// lastError is the process-wide GetLastError value (see the package doc).
var lastError atomic.Uint32

// GetLastError returns the code stored by the last function of this
// package that failed (or that reports ERROR_ALREADY_EXISTS on success),
// in any goroutine: see the package documentation.
func GetLastError() Errno { return Errno(lastError.Load()) }

// SetLastError stores code as the last error.
func SetLastError(code Errno) { lastError.Store(uint32(code)) }

// WSAGetLastError is GetLastError, as in Winsock.
func WSAGetLastError() Errno { return GetLastError() }

// fail stores err's code as the last error and returns err as an Errno
// (nil for nil).
func fail(err error) error {
	if err == nil {
		return nil
	}
	e := toErrno(err)
	lastError.Store(uint32(e))
	return e
}

// toErrno returns the Win32 code of err: an Errno as it is, else the code
// of the sentinel it matches (errs.Win32Code).
func toErrno(err error) Errno {
	var e Errno
	if errors.As(err, &e) {
		return e
	}
	return Errno(errs.Win32Code(err))
}
