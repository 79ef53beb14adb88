package win32

import (
	"errors"
	"runtime"
	"sync"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/xipc/xipc/internal/winsec"
)

// On Windows every function is the real Win32 function; the HANDLE values
// are kernel handles. The calls missing from x/sys are generated:
//
//go:generate go run golang.org/x/sys/windows/mkwinsyscall -output zsyscall_windows.go win32_windows.go sock_windows.go msg_windows.go

//sys	waitNamedPipe(name *uint16, timeout uint32) (err error) = kernel32.WaitNamedPipeW
//sys	peekNamedPipe(h windows.Handle, buf *byte, size uint32, read *uint32, avail *uint32, left *uint32) (err error) = kernel32.PeekNamedPipe
//sys	transactNamedPipe(h windows.Handle, in *byte, inSize uint32, out *byte, outSize uint32, read *uint32, overlapped *windows.Overlapped) (err error) = kernel32.TransactNamedPipe
//sys	callNamedPipe(name *uint16, in *byte, inSize uint32, out *byte, outSize uint32, read *uint32, timeout uint32) (err error) = kernel32.CallNamedPipeW
//sys	createMailslot(name *uint16, maxMessageSize uint32, readTimeout uint32, sa *windows.SecurityAttributes) (h windows.Handle, err error) [failretval==windows.InvalidHandle] = kernel32.CreateMailslotW
//sys	getMailslotInfo(h windows.Handle, maxMessageSize *uint32, nextSize *uint32, messageCount *uint32, readTimeout *uint32) (err error) = kernel32.GetMailslotInfo
//sys	setMailslotInfo(h windows.Handle, readTimeout uint32) (err error) = kernel32.SetMailslotInfo
//sys	openFileMapping(access uint32, inherit bool, name *uint16) (h windows.Handle, err error) [failretval==0] = kernel32.OpenFileMappingW
//sys	createSemaphore(sa *windows.SecurityAttributes, initial int32, max int32, name *uint16) (h windows.Handle, err error) [failretval==0 || e1==windows.ERROR_ALREADY_EXISTS] = kernel32.CreateSemaphoreW
//sys	releaseSemaphore(h windows.Handle, n int32, prev *int32) (err error) = kernel32.ReleaseSemaphore

// namePtr is a name as Win32 takes it: nil for "".
func namePtr(name string) (*uint16, error) {
	if name == "" {
		return nil, nil
	}
	p, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return nil, ERROR_INVALID_NAME
	}
	return p, nil
}

func bufPtr(b []byte) *byte {
	if len(b) == 0 {
		return nil
	}
	return &b[0]
}

// attributes turns SECURITY_ATTRIBUTES into Win32's: nil keeps the
// default DACL.
func attributes(sa *SECURITY_ATTRIBUTES, rights string) (*windows.SecurityAttributes, error) {
	if sa == nil || !sa.AllUsers {
		return nil, nil
	}
	return winsec.Attributes(true, "", rights)
}

// created splits what a Create function that may open an existing object
// returned: ERROR_ALREADY_EXISTS with a handle is success.
func created(h windows.Handle, err error) (HANDLE, bool, error) {
	if h != 0 && h != windows.InvalidHandle && errors.Is(err, windows.ERROR_ALREADY_EXISTS) {
		return HANDLE(h), true, nil
	}
	if err != nil {
		return 0, false, err
	}
	return HANDLE(h), false, nil
}

func sysCloseHandle(h HANDLE) error {
	forgetMutex(h)
	return windows.CloseHandle(windows.Handle(h))
}

func sysCreateNamedPipe(name string, openMode, pipeMode, maxInstances, outBufferSize, inBufferSize, defaultTimeout uint32, sa *SECURITY_ATTRIBUTES) (HANDLE, error) {
	p, err := namePtr(name)
	if err != nil {
		return 0, err
	}
	wsa, err := attributes(sa, "GRGW")
	if err != nil {
		return 0, err
	}
	h, err := windows.CreateNamedPipe(p, openMode, pipeMode, maxInstances, outBufferSize, inBufferSize, defaultTimeout, wsa)
	return HANDLE(h), err
}

func sysConnectNamedPipe(h HANDLE) error {
	err := windows.ConnectNamedPipe(windows.Handle(h), nil)
	if errors.Is(err, windows.ERROR_PIPE_CONNECTED) {
		lastError.Store(uint32(ERROR_PIPE_CONNECTED))
		return nil
	}
	return err
}

func sysDisconnectNamedPipe(h HANDLE) error {
	return windows.DisconnectNamedPipe(windows.Handle(h))
}

func sysWaitNamedPipe(name string, timeout uint32) error {
	p, err := namePtr(name)
	if err != nil {
		return err
	}
	return waitNamedPipe(p, timeout)
}

func sysCreateFile(name string, access, shareMode uint32, sa *SECURITY_ATTRIBUTES, creationDisposition, flagsAndAttributes uint32, template HANDLE) (HANDLE, error) {
	p, err := namePtr(name)
	if err != nil {
		return 0, err
	}
	if p == nil {
		return 0, ERROR_FILE_NOT_FOUND
	}
	h, err := windows.CreateFile(p, access, shareMode, nil, creationDisposition, flagsAndAttributes, windows.Handle(template))
	return HANDLE(h), err
}

func sysSetNamedPipeHandleState(h HANDLE, mode uint32) error {
	return windows.SetNamedPipeHandleState(windows.Handle(h), &mode, nil, nil)
}

func sysReadFile(h HANDLE, buf []byte) (uint32, error) {
	var n uint32
	err := windows.ReadFile(windows.Handle(h), buf, &n, nil)
	return n, err
}

func sysWriteFile(h HANDLE, buf []byte) (uint32, error) {
	var n uint32
	err := windows.WriteFile(windows.Handle(h), buf, &n, nil)
	return n, err
}

func sysPeekNamedPipe(h HANDLE, buf []byte) (read, avail, left uint32, err error) {
	err = peekNamedPipe(windows.Handle(h), bufPtr(buf), uint32(len(buf)), &read, &avail, &left)
	return read, avail, left, err
}

func sysTransactNamedPipe(h HANDLE, in, out []byte) (uint32, error) {
	var n uint32
	err := transactNamedPipe(windows.Handle(h), bufPtr(in), uint32(len(in)), bufPtr(out), uint32(len(out)), &n, nil)
	return n, err
}

func sysCallNamedPipe(name string, in, out []byte, timeout uint32) (uint32, error) {
	p, err := namePtr(name)
	if err != nil {
		return 0, err
	}
	var n uint32
	err = callNamedPipe(p, bufPtr(in), uint32(len(in)), bufPtr(out), uint32(len(out)), &n, timeout)
	return n, err
}

func sysGetNamedPipeClientProcessId(h HANDLE) (uint32, error) {
	var pid uint32
	err := windows.GetNamedPipeClientProcessId(windows.Handle(h), &pid)
	return pid, err
}

func sysFlushFileBuffers(h HANDLE) error { return windows.FlushFileBuffers(windows.Handle(h)) }

func sysCreateMailslot(name string, maxMessageSize, readTimeout uint32, sa *SECURITY_ATTRIBUTES) (HANDLE, error) {
	p, err := namePtr(name)
	if err != nil {
		return 0, err
	}
	wsa, err := attributes(sa, "GRGW")
	if err != nil {
		return 0, err
	}
	h, err := createMailslot(p, maxMessageSize, readTimeout, wsa)
	return HANDLE(h), err
}

func sysGetMailslotInfo(h HANDLE) (maxMessageSize, nextSize, messageCount, readTimeout uint32, err error) {
	err = getMailslotInfo(windows.Handle(h), &maxMessageSize, &nextSize, &messageCount, &readTimeout)
	return maxMessageSize, nextSize, messageCount, readTimeout, err
}

func sysSetMailslotInfo(h HANDLE, readTimeout uint32) error {
	return setMailslotInfo(windows.Handle(h), readTimeout)
}

func sysCreateFileMapping(file HANDLE, sa *SECURITY_ATTRIBUTES, protect, maxSizeHigh, maxSizeLow uint32, name string) (HANDLE, bool, error) {
	p, err := namePtr(name)
	if err != nil {
		return 0, false, err
	}
	wsa, err := attributes(sa, "GRGW")
	if err != nil {
		return 0, false, err
	}
	return created(windows.CreateFileMapping(windows.Handle(file), wsa, protect, maxSizeHigh, maxSizeLow, p))
}

func sysOpenFileMapping(access uint32, inheritHandle bool, name string) (HANDLE, error) {
	p, err := namePtr(name)
	if err != nil {
		return 0, err
	}
	h, err := openFileMapping(access, inheritHandle, p)
	return HANDLE(h), err
}

func sysMapViewOfFile(h HANDLE, access, offsetHigh, offsetLow uint32, n uintptr) ([]byte, error) {
	addr, err := windows.MapViewOfFile(windows.Handle(h), access, offsetHigh, offsetLow, n)
	if err != nil {
		return nil, err
	}
	if n == 0 {
		var mbi windows.MemoryBasicInformation
		if err := windows.VirtualQuery(addr, &mbi, unsafe.Sizeof(mbi)); err != nil {
			windows.UnmapViewOfFile(addr)
			return nil, err
		}
		n = mbi.RegionSize
	}
	// The view is memory that Go does not manage; unsafe.Add turns the
	// address into a pointer without a uintptr-to-Pointer conversion.
	return unsafe.Slice((*byte)(unsafe.Add(nil, addr)), n), nil
}

func sysUnmapViewOfFile(view []byte) error {
	if len(view) == 0 {
		return ERROR_INVALID_ADDRESS
	}
	return windows.UnmapViewOfFile(uintptr(unsafe.Pointer(unsafe.SliceData(view))))
}

// A Win32 mutex belongs to a thread, and goroutines move between threads:
// a goroutine that takes a mutex is locked to its thread
// (runtime.LockOSThread, which nests) until it releases it, so that
// ReleaseMutex runs on the owning thread. mutexes holds the mutex handles
// this package made, so that a wait knows which objects are mutexes.
var mutexes = struct {
	sync.Mutex
	m map[HANDLE]bool
}{m: map[HANDLE]bool{}}

func isMutex(h HANDLE) bool {
	mutexes.Lock()
	defer mutexes.Unlock()
	return mutexes.m[h]
}

func forgetMutex(h HANDLE) {
	mutexes.Lock()
	delete(mutexes.m, h)
	mutexes.Unlock()
}

func sysCreateMutex(sa *SECURITY_ATTRIBUTES, initialOwner bool, name string) (HANDLE, bool, error) {
	p, err := namePtr(name)
	if err != nil {
		return 0, false, err
	}
	wsa, err := attributes(sa, "0x001F0001")
	if err != nil {
		return 0, false, err
	}
	runtime.LockOSThread()
	h, existed, err := created(windows.CreateMutex(wsa, initialOwner, p))
	// Win32 ignores initialOwner for an existing mutex.
	if err != nil || !initialOwner || existed {
		runtime.UnlockOSThread()
	}
	if err == nil {
		mutexes.Lock()
		mutexes.m[h] = true
		mutexes.Unlock()
	}
	return h, existed, err
}

func sysCreateEvent(sa *SECURITY_ATTRIBUTES, manualReset, initialState bool, name string) (HANDLE, bool, error) {
	p, err := namePtr(name)
	if err != nil {
		return 0, false, err
	}
	wsa, err := attributes(sa, "0x001F0003")
	if err != nil {
		return 0, false, err
	}
	var mr, is uint32
	if manualReset {
		mr = 1
	}
	if initialState {
		is = 1
	}
	return created(windows.CreateEvent(wsa, mr, is, p))
}

func sysCreateSemaphore(sa *SECURITY_ATTRIBUTES, initialCount, maximumCount int32, name string) (HANDLE, bool, error) {
	p, err := namePtr(name)
	if err != nil {
		return 0, false, err
	}
	wsa, err := attributes(sa, "0x001F0003")
	if err != nil {
		return 0, false, err
	}
	return created(createSemaphore(wsa, initialCount, maximumCount, p))
}

func sysReleaseMutex(h HANDLE) error {
	if err := windows.ReleaseMutex(windows.Handle(h)); err != nil {
		return err
	}
	runtime.UnlockOSThread()
	return nil
}

func sysSetEvent(h HANDLE) error   { return windows.SetEvent(windows.Handle(h)) }
func sysResetEvent(h HANDLE) error { return windows.ResetEvent(windows.Handle(h)) }

func sysReleaseSemaphore(h HANDLE, n int32) (int32, error) {
	var prev int32
	err := releaseSemaphore(windows.Handle(h), n, &prev)
	return prev, err
}

func sysWaitForMultipleObjects(handles []HANDLE, waitAll bool, milliseconds uint32) (uint32, error) {
	hs := make([]windows.Handle, len(handles))
	for i, h := range handles {
		hs[i] = windows.Handle(h)
	}
	runtime.LockOSThread()
	ev, err := windows.WaitForMultipleObjects(hs, waitAll, milliseconds)
	// Keep the thread for each mutex the wait took; let it go otherwise.
	took := 0
	switch {
	case err != nil || ev == WAIT_TIMEOUT:
	case waitAll:
		for _, h := range handles {
			if isMutex(h) {
				took++
			}
		}
	case ev < WAIT_OBJECT_0+uint32(len(handles)):
		if isMutex(handles[ev-WAIT_OBJECT_0]) {
			took = 1
		}
	case ev >= WAIT_ABANDONED_0 && ev < WAIT_ABANDONED_0+uint32(len(handles)):
		took = 1
	}
	for ; took > 1; took-- {
		runtime.LockOSThread()
	}
	if took == 0 {
		runtime.UnlockOSThread()
	}
	if waitAll && ev >= WAIT_ABANDONED_0 && ev < WAIT_ABANDONED_0+uint32(len(handles)) {
		// Every object was taken; an abandoned one among them.
		return ev, err
	}
	return ev, err
}
