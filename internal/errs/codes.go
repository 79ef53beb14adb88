package errs

import (
	"context"
	"errors"
	"io"
	"syscall"
)

// Win32 error codes that xipc reproduces (winerror.h).
const (
	ERROR_SUCCESS               = 0
	ERROR_FILE_NOT_FOUND        = 2
	ERROR_ACCESS_DENIED         = 5
	ERROR_INVALID_HANDLE        = 6
	ERROR_INVALID_DATA          = 13
	ERROR_NOT_SUPPORTED         = 50
	ERROR_BAD_NETPATH           = 53
	ERROR_NETNAME_DELETED       = 64
	ERROR_INVALID_PARAMETER     = 87
	ERROR_BROKEN_PIPE           = 109
	ERROR_SEM_TIMEOUT           = 121
	ERROR_INSUFFICIENT_BUFFER   = 122
	ERROR_INVALID_NAME          = 123
	ERROR_ALREADY_EXISTS        = 183
	ERROR_PIPE_BUSY             = 231
	ERROR_NO_DATA               = 232
	ERROR_PIPE_NOT_CONNECTED    = 233
	ERROR_MORE_DATA             = 234
	ERROR_NOT_OWNER             = 288
	ERROR_TOO_MANY_POSTS        = 298
	ERROR_OPERATION_ABORTED     = 995
	ERROR_MAPPED_ALIGNMENT      = 1132
	ERROR_MESSAGE_SYNC_ONLY     = 1159
	ERROR_INVALID_WINDOW_HANDLE = 1400
	ERROR_TIMEOUT               = 1460
	ERROR_NOT_ENOUGH_QUOTA      = 1816
	WAIT_ABANDONED              = 0x80
	ERROR_PIPE_CONNECTED        = 535
)

// Code is one row of the table: a sentinel and the Win32 code it stands for.
type Code struct {
	Err  error
	Code uint32
	Name string
}

// Table maps each sentinel to its Win32 error code. When several codes map
// to one sentinel (ERROR_BROKEN_PIPE and ERROR_NO_DATA both mean the peer is
// gone) the first row is the one Win32Code returns; FromWin32 accepts all.
var Table = []Code{
	{ErrNotFound, ERROR_FILE_NOT_FOUND, "ERROR_FILE_NOT_FOUND"},
	{ErrNotFound, ERROR_INVALID_WINDOW_HANDLE, "ERROR_INVALID_WINDOW_HANDLE"}, // a window (msgq) that is gone
	{ErrAccessDenied, ERROR_ACCESS_DENIED, "ERROR_ACCESS_DENIED"},
	{ErrClosed, ERROR_INVALID_HANDLE, "ERROR_INVALID_HANDLE"},
	{ErrProtocol, ERROR_INVALID_DATA, "ERROR_INVALID_DATA"},
	{ErrNotSupported, ERROR_NOT_SUPPORTED, "ERROR_NOT_SUPPORTED"},
	{ErrInvalidParameter, ERROR_INVALID_PARAMETER, "ERROR_INVALID_PARAMETER"},
	{ErrMessageTooLarge, ERROR_INVALID_PARAMETER, "ERROR_INVALID_PARAMETER"},
	{ErrBrokenPipe, ERROR_BROKEN_PIPE, "ERROR_BROKEN_PIPE"},
	{ErrBrokenPipe, ERROR_NO_DATA, "ERROR_NO_DATA"},
	{ErrTimeout, ERROR_SEM_TIMEOUT, "ERROR_SEM_TIMEOUT"},
	{ErrTimeout, ERROR_TIMEOUT, "ERROR_TIMEOUT"},
	{ErrInsufficientBuffer, ERROR_INSUFFICIENT_BUFFER, "ERROR_INSUFFICIENT_BUFFER"},
	{ErrInvalidName, ERROR_INVALID_NAME, "ERROR_INVALID_NAME"},
	{ErrExists, ERROR_ALREADY_EXISTS, "ERROR_ALREADY_EXISTS"},
	{ErrBusy, ERROR_PIPE_BUSY, "ERROR_PIPE_BUSY"},
	{ErrNotConnected, ERROR_PIPE_NOT_CONNECTED, "ERROR_PIPE_NOT_CONNECTED"},
	{ErrMoreData, ERROR_MORE_DATA, "ERROR_MORE_DATA"},
	{ErrNotOwner, ERROR_NOT_OWNER, "ERROR_NOT_OWNER"},
	{ErrTooManyPosts, ERROR_TOO_MANY_POSTS, "ERROR_TOO_MANY_POSTS"},
	{ErrQuota, ERROR_NOT_ENOUGH_QUOTA, "ERROR_NOT_ENOUGH_QUOTA"},
	{ErrWrongType, ERROR_INVALID_HANDLE, "ERROR_INVALID_HANDLE"},
	{ErrAbandoned, WAIT_ABANDONED, "WAIT_ABANDONED"},
	{ErrMappedAlignment, ERROR_MAPPED_ALIGNMENT, "ERROR_MAPPED_ALIGNMENT"},
	{ErrNetwork, ERROR_BAD_NETPATH, "ERROR_BAD_NETPATH"},
	{ErrNetwork, ERROR_NETNAME_DELETED, "ERROR_NETNAME_DELETED"},
}

// Win32Code returns the Win32 error code a Windows program would see for
// err: 0 for nil, the code of a windows.Errno inside err as it is (on
// Windows), else the code of the first sentinel err matches. Unknown errors
// give ERROR_GEN_FAILURE (31).
func Win32Code(err error) uint32 {
	if err == nil {
		return ERROR_SUCCESS
	}
	if c, ok := sysCode(err); ok {
		return c
	}
	if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
		return ERROR_BROKEN_PIPE
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return ERROR_SEM_TIMEOUT
	}
	if errors.Is(err, context.Canceled) {
		return ERROR_OPERATION_ABORTED
	}
	for _, row := range Table {
		if errors.Is(err, row.Err) {
			return row.Code
		}
	}
	return ERROR_GEN_FAILURE
}

// ERROR_GEN_FAILURE is what Win32Code returns for an error it cannot place.
const ERROR_GEN_FAILURE = 31

// FromWin32 returns the sentinel for a Win32 error code, or nil when the
// code has no sentinel.
func FromWin32(code uint32) error {
	for _, row := range Table {
		if row.Code == code {
			return row.Err
		}
	}
	return nil
}

// errnoSentinel maps the Unix errors the emulation meets to sentinels.
func errnoSentinel(e syscall.Errno) error {
	switch e {
	case syscall.ENOENT, syscall.ECONNREFUSED:
		return ErrNotFound
	case syscall.EACCES, syscall.EPERM:
		return ErrAccessDenied
	case syscall.EEXIST, syscall.EADDRINUSE:
		return ErrExists
	case syscall.EPIPE, syscall.ECONNRESET:
		return ErrBrokenPipe
	case syscall.ENAMETOOLONG:
		return ErrInvalidName
	case syscall.EINVAL:
		return ErrInvalidParameter
	case syscall.ENOTCONN:
		return ErrNotConnected
	case syscall.ETIMEDOUT, syscall.EAGAIN:
		return ErrTimeout
	}
	return nil
}
