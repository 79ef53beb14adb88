package win32

import "github.com/xipc/xipc/internal/errs"

// Win32 error codes (winerror.h) that the package returns.
const (
	ERROR_SUCCESS               Errno = errs.ERROR_SUCCESS
	ERROR_INVALID_FUNCTION      Errno = 1
	ERROR_FILE_NOT_FOUND        Errno = errs.ERROR_FILE_NOT_FOUND
	ERROR_ACCESS_DENIED         Errno = errs.ERROR_ACCESS_DENIED
	ERROR_INVALID_HANDLE        Errno = errs.ERROR_INVALID_HANDLE
	ERROR_INVALID_DATA          Errno = errs.ERROR_INVALID_DATA
	ERROR_GEN_FAILURE           Errno = errs.ERROR_GEN_FAILURE
	ERROR_NOT_SUPPORTED         Errno = errs.ERROR_NOT_SUPPORTED
	ERROR_INVALID_PARAMETER     Errno = errs.ERROR_INVALID_PARAMETER
	ERROR_BROKEN_PIPE           Errno = errs.ERROR_BROKEN_PIPE
	ERROR_SEM_TIMEOUT           Errno = errs.ERROR_SEM_TIMEOUT
	ERROR_INSUFFICIENT_BUFFER   Errno = errs.ERROR_INSUFFICIENT_BUFFER
	ERROR_INVALID_NAME          Errno = errs.ERROR_INVALID_NAME
	ERROR_ALREADY_EXISTS        Errno = errs.ERROR_ALREADY_EXISTS
	ERROR_BAD_PIPE              Errno = 230
	ERROR_PIPE_BUSY             Errno = errs.ERROR_PIPE_BUSY
	ERROR_NO_DATA               Errno = errs.ERROR_NO_DATA
	ERROR_PIPE_NOT_CONNECTED    Errno = errs.ERROR_PIPE_NOT_CONNECTED
	ERROR_MORE_DATA             Errno = errs.ERROR_MORE_DATA
	ERROR_NOT_OWNER             Errno = errs.ERROR_NOT_OWNER
	ERROR_TOO_MANY_POSTS        Errno = errs.ERROR_TOO_MANY_POSTS
	ERROR_PIPE_CONNECTED        Errno = errs.ERROR_PIPE_CONNECTED
	ERROR_PIPE_LISTENING        Errno = 536
	ERROR_OPERATION_ABORTED     Errno = errs.ERROR_OPERATION_ABORTED
	ERROR_MAPPED_ALIGNMENT      Errno = errs.ERROR_MAPPED_ALIGNMENT
	ERROR_MESSAGE_SYNC_ONLY     Errno = errs.ERROR_MESSAGE_SYNC_ONLY
	ERROR_INVALID_WINDOW_HANDLE Errno = errs.ERROR_INVALID_WINDOW_HANDLE
	ERROR_TIMEOUT               Errno = errs.ERROR_TIMEOUT
	ERROR_NOT_ENOUGH_QUOTA      Errno = errs.ERROR_NOT_ENOUGH_QUOTA
)

// Winsock error codes (winsock2.h).
const (
	WSAEINTR           Errno = 10004
	WSAEACCES          Errno = 10013
	WSAEFAULT          Errno = 10014
	WSAEINVAL          Errno = 10022
	WSAEMFILE          Errno = 10024
	WSAEWOULDBLOCK     Errno = 10035
	WSAENOTSOCK        Errno = 10038
	WSAEPROTONOSUPPORT Errno = 10043
	WSAESOCKTNOSUPPORT Errno = 10044
	WSAEOPNOTSUPP      Errno = 10045
	WSAEAFNOSUPPORT    Errno = 10047
	WSAEADDRINUSE      Errno = 10048
	WSAEADDRNOTAVAIL   Errno = 10049
	WSAENETUNREACH     Errno = 10051
	WSAECONNABORTED    Errno = 10053
	WSAECONNRESET      Errno = 10054
	WSAEISCONN         Errno = 10056
	WSAENOTCONN        Errno = 10057
	WSAESHUTDOWN       Errno = 10058
	WSAETIMEDOUT       Errno = 10060
	WSAECONNREFUSED    Errno = 10061
	WSAEHOSTUNREACH    Errno = 10065
	WSANOTINITIALISED  Errno = 10093
)

// CreateNamedPipe's open mode.
const (
	PIPE_ACCESS_INBOUND           = 0x00000001
	PIPE_ACCESS_OUTBOUND          = 0x00000002
	PIPE_ACCESS_DUPLEX            = 0x00000003
	FILE_FLAG_FIRST_PIPE_INSTANCE = 0x00080000
	FILE_FLAG_WRITE_THROUGH       = 0x80000000
	FILE_FLAG_OVERLAPPED          = 0x40000000
)

// CreateNamedPipe's pipe mode and SetNamedPipeHandleState's mode.
const (
	PIPE_TYPE_BYTE             = 0x00000000
	PIPE_TYPE_MESSAGE          = 0x00000004
	PIPE_READMODE_BYTE         = 0x00000000
	PIPE_READMODE_MESSAGE      = 0x00000002
	PIPE_WAIT                  = 0x00000000
	PIPE_NOWAIT                = 0x00000001
	PIPE_ACCEPT_REMOTE_CLIENTS = 0x00000000
	PIPE_REJECT_REMOTE_CLIENTS = 0x00000008
	PIPE_UNLIMITED_INSTANCES   = 255
)

// WaitNamedPipe's and CallNamedPipe's timeouts, in milliseconds.
const (
	NMPWAIT_USE_DEFAULT_WAIT = 0x00000000
	NMPWAIT_NOWAIT           = 0x00000001
	NMPWAIT_WAIT_FOREVER     = 0xffffffff
)

// CreateFile's access, share mode, disposition and flags.
const (
	GENERIC_READ          = 0x80000000
	GENERIC_WRITE         = 0x40000000
	FILE_SHARE_READ       = 0x00000001
	FILE_SHARE_WRITE      = 0x00000002
	CREATE_NEW            = 1
	CREATE_ALWAYS         = 2
	OPEN_EXISTING         = 3
	OPEN_ALWAYS           = 4
	FILE_ATTRIBUTE_NORMAL = 0x00000080
)

// Mailslots.
const (
	MAILSLOT_WAIT_FOREVER = 0xffffffff
	MAILSLOT_NO_MESSAGE   = 0xffffffff
)

// File mappings: CreateFileMapping's protection and the access of
// OpenFileMapping and MapViewOfFile.
const (
	PAGE_READONLY       = 0x02
	PAGE_READWRITE      = 0x04
	FILE_MAP_WRITE      = 0x0002
	FILE_MAP_READ       = 0x0004
	FILE_MAP_ALL_ACCESS = 0x000f001f
)

// Waits.
const (
	INFINITE             = 0xffffffff
	WAIT_OBJECT_0        = 0x00000000
	WAIT_ABANDONED       = 0x00000080
	WAIT_ABANDONED_0     = 0x00000080
	WAIT_TIMEOUT         = 0x00000102
	WAIT_FAILED          = 0xffffffff
	MAXIMUM_WAIT_OBJECTS = 64
)

// Access rights of the Open functions.
const (
	SYNCHRONIZE        = 0x00100000
	MUTEX_ALL_ACCESS   = 0x001f0001
	EVENT_ALL_ACCESS   = 0x001f0003
	EVENT_MODIFY_STATE = 0x0002
)

// ERROR_INVALID_ADDRESS: UnmapViewOfFile of something that is not a view.
const ERROR_INVALID_ADDRESS Errno = 487

// Window errors.
const (
	ERROR_CLASS_ALREADY_EXISTS Errno = 1410
	ERROR_CLASS_DOES_NOT_EXIST Errno = 1411
)
