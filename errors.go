package xipc

import "github.com/xipc/xipc/internal/errs"

// Sentinel errors returned (wrapped) by every xipc package. Test for them
// with errors.Is. Those with a standard-library twin are that error, so
// errors.Is(err, fs.ErrNotExist) and errors.Is(err, xipc.ErrNotFound) agree.
var (
	ErrNotFound           = errs.ErrNotFound           // no such object [ERROR_FILE_NOT_FOUND 2]; = fs.ErrNotExist
	ErrExists             = errs.ErrExists             // the object exists [ERROR_ALREADY_EXISTS 183]; = fs.ErrExist
	ErrAccessDenied       = errs.ErrAccessDenied       // refused by security or access mode [ERROR_ACCESS_DENIED 5]; = fs.ErrPermission
	ErrClosed             = errs.ErrClosed             // use of a closed handle [ERROR_INVALID_HANDLE 6]; = net.ErrClosed
	ErrTimeout            = errs.ErrTimeout            // deadline or wait timed out [ERROR_SEM_TIMEOUT 121]; = os.ErrDeadlineExceeded
	ErrBusy               = errs.ErrBusy               // all pipe instances busy [ERROR_PIPE_BUSY 231]
	ErrMoreData           = errs.ErrMoreData           // message longer than the buffer; rest follows [ERROR_MORE_DATA 234]
	ErrBrokenPipe         = errs.ErrBrokenPipe         // the other end closed or died [ERROR_BROKEN_PIPE 109, ERROR_NO_DATA 232]
	ErrNotConnected       = errs.ErrNotConnected       // nobody on the other end [ERROR_PIPE_NOT_CONNECTED 233]
	ErrInvalidName        = errs.ErrInvalidName        // malformed or too long name [ERROR_INVALID_NAME 123]
	ErrInvalidParameter   = errs.ErrInvalidParameter   // argument out of range [ERROR_INVALID_PARAMETER 87]
	ErrInsufficientBuffer = errs.ErrInsufficientBuffer // buffer too small, nothing consumed [ERROR_INSUFFICIENT_BUFFER 122]
	ErrMessageTooLarge    = errs.ErrMessageTooLarge    // message over the receiver's limit [ERROR_INVALID_PARAMETER 87]
	ErrQuota              = errs.ErrQuota              // receiver's queue full [ERROR_NOT_ENOUGH_QUOTA 1816]
	ErrAbandoned          = errs.ErrAbandoned          // mutex owner died holding it [WAIT_ABANDONED]
	ErrNotOwner           = errs.ErrNotOwner           // release of a mutex not owned [ERROR_NOT_OWNER 288]
	ErrTooManyPosts       = errs.ErrTooManyPosts       // semaphore released past its maximum [ERROR_TOO_MANY_POSTS 298]
	ErrWrongType          = errs.ErrWrongType          // name held by another object type [ERROR_INVALID_HANDLE 6]
	ErrNotSupported       = errs.ErrNotSupported       // not possible here [ERROR_NOT_SUPPORTED 50]
	ErrMappedAlignment    = errs.ErrMappedAlignment    // view offset not a multiple of 64 KiB [ERROR_MAPPED_ALIGNMENT 1132]
	ErrProtocol           = errs.ErrProtocol           // peer broke the wire protocol [ERROR_INVALID_DATA 13]
	ErrNetwork            = errs.ErrNetwork            // remote gateway unreachable, refused or lost [ERROR_BAD_NETPATH 53, ERROR_NETNAME_DELETED 64]
)

// OpError is the error every exported xipc call returns on failure: the
// operation, the kind of object, its name, and the cause. It implements
// net.Error.
type OpError = errs.OpError

// Win32Code returns the Win32 error code that a Windows program would get
// from GetLastError in the situation err describes (0 for nil). On Windows an
// error that came from the OS keeps its own code.
func Win32Code(err error) uint32 { return errs.Win32Code(err) }

// FromWin32 returns the sentinel error for a Win32 error code, or nil.
func FromWin32(code uint32) error { return errs.FromWin32(code) }
