package win32

// The exported functions document the call once and keep GetLastError; the
// work is done by the sys functions of win32_windows.go (the real API) and
// win32_unix.go (xipc's packages).

// CreateNamedPipe creates an instance of the named pipe name
// (`\\.\pipe\NAME`) and returns its server handle. openMode is
// PIPE_ACCESS_DUPLEX, _INBOUND or _OUTBOUND, optionally with
// FILE_FLAG_FIRST_PIPE_INSTANCE; pipeMode combines PIPE_TYPE_BYTE or
// PIPE_TYPE_MESSAGE with PIPE_READMODE_BYTE or PIPE_READMODE_MESSAGE.
// maxInstances is 1..255 (PIPE_UNLIMITED_INSTANCES). More instances than
// that fail with ERROR_PIPE_BUSY; FILE_FLAG_FIRST_PIPE_INSTANCE on an
// existing pipe with ERROR_ACCESS_DENIED.
func CreateNamedPipe(name string, openMode, pipeMode, maxInstances, outBufferSize, inBufferSize, defaultTimeout uint32, sa *SECURITY_ATTRIBUTES) (HANDLE, error) {
	h, err := sysCreateNamedPipe(name, openMode, pipeMode, maxInstances, outBufferSize, inBufferSize, defaultTimeout, sa)
	if err != nil {
		return INVALID_HANDLE_VALUE, fail(err)
	}
	return h, nil
}

// ConnectNamedPipe waits for a client to connect to the pipe instance h.
// A client that connected before the call is success too (Win32 then
// reports ERROR_PIPE_CONNECTED, which this function stores as the last
// error and does not return).
func ConnectNamedPipe(h HANDLE) error { return fail(sysConnectNamedPipe(h)) }

// DisconnectNamedPipe ends the session of the client of instance h: data
// it has not read is lost, and it gets ERROR_PIPE_NOT_CONNECTED or
// ERROR_BROKEN_PIPE. The instance may then ConnectNamedPipe again.
func DisconnectNamedPipe(h HANDLE) error { return fail(sysDisconnectNamedPipe(h)) }

// WaitNamedPipe waits up to timeout milliseconds (NMPWAIT_WAIT_FOREVER,
// or NMPWAIT_USE_DEFAULT_WAIT for the server's default) until an instance
// of the pipe name is free: ERROR_SEM_TIMEOUT when none became free,
// ERROR_FILE_NOT_FOUND when there is no such pipe.
func WaitNamedPipe(name string, timeout uint32) error { return fail(sysWaitNamedPipe(name, timeout)) }

// CreateFile opens the client end of a named pipe (`\\.\pipe\NAME`: fails
// with ERROR_FILE_NOT_FOUND or ERROR_PIPE_BUSY) or a mailslot for writing
// (`\\.\mailslot\NAME`, GENERIC_WRITE). The pipe starts in byte read mode,
// as in Win32: use SetNamedPipeHandleState for message read mode. Off
// Windows other files are not supported (ERROR_NOT_SUPPORTED).
func CreateFile(name string, access, shareMode uint32, sa *SECURITY_ATTRIBUTES, creationDisposition, flagsAndAttributes uint32, template HANDLE) (HANDLE, error) {
	h, err := sysCreateFile(name, access, shareMode, sa, creationDisposition, flagsAndAttributes, template)
	if err != nil {
		return INVALID_HANDLE_VALUE, fail(err)
	}
	return h, nil
}

// SetNamedPipeHandleState sets the read mode of a pipe handle:
// PIPE_READMODE_BYTE or PIPE_READMODE_MESSAGE (which needs a message pipe:
// ERROR_INVALID_PARAMETER otherwise), with PIPE_WAIT.
func SetNamedPipeHandleState(h HANDLE, mode uint32) error {
	return fail(sysSetNamedPipeHandleState(h, mode))
}

// ReadFile reads from a pipe or a mailslot into buf and returns the number
// of bytes read. A message longer than buf on a pipe in message read mode
// gives ERROR_MORE_DATA with buf filled (the rest comes with the next
// reads); a mailslot message longer than buf gives ERROR_INSUFFICIENT_BUFFER
// and stays queued; an empty mailslot after its read timeout gives
// ERROR_SEM_TIMEOUT; a pipe whose other end has gone, ERROR_BROKEN_PIPE.
func ReadFile(h HANDLE, buf []byte) (uint32, error) {
	n, err := sysReadFile(h, buf)
	return n, fail(err)
}

// WriteFile writes buf to a pipe (one message on a message pipe; blocks
// while the reader's buffer is full) or a mailslot (one message; never waits
// for the reader). A pipe whose other end has gone gives ERROR_NO_DATA.
func WriteFile(h HANDLE, buf []byte) (uint32, error) {
	n, err := sysWriteFile(h, buf)
	return n, fail(err)
}

// PeekNamedPipe copies into buf what can be read from the pipe h without
// removing it, and reports how many bytes it copied, how many are waiting
// in all, and how many bytes of the next message did not fit in buf (0 on a
// byte pipe). On a message pipe it copies from the next message only.
// It does not wait. Off Windows, avail counts what has reached this
// process (see docs/win32.md).
func PeekNamedPipe(h HANDLE, buf []byte) (read, avail, leftThisMessage uint32, err error) {
	read, avail, leftThisMessage, err = sysPeekNamedPipe(h, buf)
	return read, avail, leftThisMessage, fail(err)
}

// TransactNamedPipe writes in as one message to the message pipe h and
// reads the reply into out (ERROR_MORE_DATA when it is longer).
func TransactNamedPipe(h HANDLE, in, out []byte) (uint32, error) {
	n, err := sysTransactNamedPipe(h, in, out)
	return n, fail(err)
}

// CallNamedPipe connects to the message pipe name (waiting up to timeout
// milliseconds for a free instance), writes in, reads the reply into out
// and closes: CreateFile + TransactNamedPipe + CloseHandle.
func CallNamedPipe(name string, in, out []byte, timeout uint32) (uint32, error) {
	n, err := sysCallNamedPipe(name, in, out, timeout)
	return n, fail(err)
}

// GetNamedPipeClientProcessId returns the process ID of the client
// connected to the server instance h.
func GetNamedPipeClientProcessId(h HANDLE) (uint32, error) {
	pid, err := sysGetNamedPipeClientProcessId(h)
	return pid, fail(err)
}

// FlushFileBuffers waits until the reader has read everything written to
// the pipe h. Off Windows it returns at once: written data reaches the
// reader even if the writer closes next (see docs/win32.md).
func FlushFileBuffers(h HANDLE) error { return fail(sysFlushFileBuffers(h)) }

// CloseHandle closes any handle of the package. Closing a pipe instance's
// last handle removes the pipe's name; closing a mailslot deletes it and
// its messages; the last handle (and view) of a file mapping or a sync
// object destroys it. Closing a handle twice gives ERROR_INVALID_HANDLE.
func CloseHandle(h HANDLE) error { return fail(sysCloseHandle(h)) }

// CreateMailslot creates the mailslot name (`\\.\mailslot\[PATH\]NAME`) and
// returns its reading handle. maxMessageSize 0 means any size (xipc's limit,
// 64 KiB); readTimeout is in milliseconds, 0 to poll, MAILSLOT_WAIT_FOREVER
// to wait. An existing name fails with ERROR_ALREADY_EXISTS.
func CreateMailslot(name string, maxMessageSize, readTimeout uint32, sa *SECURITY_ATTRIBUTES) (HANDLE, error) {
	h, err := sysCreateMailslot(name, maxMessageSize, readTimeout, sa)
	if err != nil {
		return INVALID_HANDLE_VALUE, fail(err)
	}
	return h, nil
}

// GetMailslotInfo reports a mailslot's maximum message size, the size of
// the next message (MAILSLOT_NO_MESSAGE when none waits), the number of
// messages waiting and the read timeout in milliseconds.
func GetMailslotInfo(h HANDLE) (maxMessageSize, nextSize, messageCount, readTimeout uint32, err error) {
	maxMessageSize, nextSize, messageCount, readTimeout, err = sysGetMailslotInfo(h)
	return maxMessageSize, nextSize, messageCount, readTimeout, fail(err)
}

// SetMailslotInfo changes a mailslot's read timeout, in milliseconds.
func SetMailslotInfo(h HANDLE, readTimeout uint32) error {
	return fail(sysSetMailslotInfo(h, readTimeout))
}

// CreateFileMapping creates the named shared memory name (`Local\NAME`,
// `Global\NAME` or a bare NAME) of maxSizeHigh<<32|maxSizeLow bytes,
// zero-filled, backed by memory: file must be INVALID_HANDLE_VALUE (file
// mappings are not supported off Windows). protect is PAGE_READWRITE or
// PAGE_READONLY. If the name exists, the existing object is opened, with
// its size, and GetLastError reports ERROR_ALREADY_EXISTS (ERROR_SUCCESS
// otherwise). A size of 0 fails with ERROR_INVALID_PARAMETER; a name held
// by a sync object with ERROR_INVALID_HANDLE.
func CreateFileMapping(file HANDLE, sa *SECURITY_ATTRIBUTES, protect, maxSizeHigh, maxSizeLow uint32, name string) (HANDLE, error) {
	h, existed, err := sysCreateFileMapping(file, sa, protect, maxSizeHigh, maxSizeLow, name)
	if err != nil {
		return 0, fail(err)
	}
	setExisted(existed)
	return h, nil
}

// OpenFileMapping opens the existing named shared memory name with access
// FILE_MAP_READ, FILE_MAP_WRITE or FILE_MAP_ALL_ACCESS: ERROR_FILE_NOT_FOUND
// when no process holds it.
func OpenFileMapping(access uint32, inheritHandle bool, name string) (HANDLE, error) {
	h, err := sysOpenFileMapping(access, inheritHandle, name)
	if err != nil {
		return 0, fail(err)
	}
	return h, nil
}

// MapViewOfFile maps n bytes (0: to the end) of the mapping h from offset
// offsetHigh<<32|offsetLow, a multiple of 64 KiB (ERROR_MAPPED_ALIGNMENT
// otherwise), and returns the view as a slice. The view keeps the object
// alive after CloseHandle until UnmapViewOfFile.
func MapViewOfFile(h HANDLE, access, offsetHigh, offsetLow uint32, n uintptr) ([]byte, error) {
	b, err := sysMapViewOfFile(h, access, offsetHigh, offsetLow, n)
	if err != nil {
		return nil, fail(err)
	}
	return b, nil
}

// UnmapViewOfFile unmaps a view that MapViewOfFile returned; view must be
// that slice (its first byte). Using the memory afterwards faults.
func UnmapViewOfFile(view []byte) error { return fail(sysUnmapViewOfFile(view)) }

// CreateMutex creates the named mutex name, or opens it when it exists
// (GetLastError then reports ERROR_ALREADY_EXISTS and initialOwner is
// ignored). "" makes an unnamed mutex. Ownership belongs to the handle
// (off Windows; to the thread on Windows: see docs/win32.md).
func CreateMutex(sa *SECURITY_ATTRIBUTES, initialOwner bool, name string) (HANDLE, error) {
	h, existed, err := sysCreateMutex(sa, initialOwner, name)
	if err != nil {
		return 0, fail(err)
	}
	setExisted(existed)
	return h, nil
}

// CreateEvent creates the named event name (manual or auto reset,
// initially set or not), or opens it when it exists (ERROR_ALREADY_EXISTS
// in GetLastError).
func CreateEvent(sa *SECURITY_ATTRIBUTES, manualReset, initialState bool, name string) (HANDLE, error) {
	h, existed, err := sysCreateEvent(sa, manualReset, initialState, name)
	if err != nil {
		return 0, fail(err)
	}
	setExisted(existed)
	return h, nil
}

// CreateSemaphore creates the named semaphore name with the initial and
// maximum counts, or opens it when it exists (ERROR_ALREADY_EXISTS in
// GetLastError).
func CreateSemaphore(sa *SECURITY_ATTRIBUTES, initialCount, maximumCount int32, name string) (HANDLE, error) {
	h, existed, err := sysCreateSemaphore(sa, initialCount, maximumCount, name)
	if err != nil {
		return 0, fail(err)
	}
	setExisted(existed)
	return h, nil
}

// ReleaseMutex releases one level of ownership of the mutex h:
// ERROR_NOT_OWNER when the caller does not own it.
func ReleaseMutex(h HANDLE) error { return fail(sysReleaseMutex(h)) }

// SetEvent signals the event h.
func SetEvent(h HANDLE) error { return fail(sysSetEvent(h)) }

// ResetEvent clears the event h.
func ResetEvent(h HANDLE) error { return fail(sysResetEvent(h)) }

// ReleaseSemaphore adds n to the semaphore h's count and returns the count
// before: ERROR_TOO_MANY_POSTS (and no change) past its maximum.
func ReleaseSemaphore(h HANDLE, n int32) (previous int32, err error) {
	previous, err = sysReleaseSemaphore(h, n)
	return previous, fail(err)
}

// WaitForSingleObject waits up to milliseconds (INFINITE: no limit) for the
// mutex, event or semaphore h and takes it. It returns WAIT_OBJECT_0,
// WAIT_ABANDONED (a mutex whose owner died holding it; the caller owns it
// now) or WAIT_TIMEOUT with a nil error, or WAIT_FAILED and an error.
func WaitForSingleObject(h HANDLE, milliseconds uint32) (uint32, error) {
	ev, err := sysWaitForMultipleObjects([]HANDLE{h}, false, milliseconds)
	if err != nil {
		return WAIT_FAILED, fail(err)
	}
	return ev, nil
}

// WaitForMultipleObjects waits for any (waitAll false) or all of up to 64
// handles. It returns WAIT_OBJECT_0+i for the lowest signalled index i
// (WAIT_OBJECT_0 when all were taken), WAIT_ABANDONED_0+i for an abandoned
// mutex, or WAIT_TIMEOUT.
func WaitForMultipleObjects(handles []HANDLE, waitAll bool, milliseconds uint32) (uint32, error) {
	if len(handles) == 0 || len(handles) > MAXIMUM_WAIT_OBJECTS {
		return WAIT_FAILED, fail(ERROR_INVALID_PARAMETER)
	}
	ev, err := sysWaitForMultipleObjects(handles, waitAll, milliseconds)
	if err != nil {
		return WAIT_FAILED, fail(err)
	}
	return ev, nil
}

// setExisted stores the last error a Create function reports on success.
func setExisted(existed bool) {
	if existed {
		lastError.Store(uint32(ERROR_ALREADY_EXISTS))
	} else {
		lastError.Store(uint32(ERROR_SUCCESS))
	}
}
