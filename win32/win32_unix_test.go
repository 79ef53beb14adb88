//go:build unix

package win32_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/xipc/xipc/win32"
)

// What the facade cannot do off Windows fails with a code, never silently
// (docs/win32.md).
func TestNotSupportedOffWindows(t *testing.T) {
	path := filepath.Join(t.TempDir(), "file.txt")
	if err := os.WriteFile(path, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := win32.CreateFile(path, win32.GENERIC_READ, 0, nil, win32.OPEN_EXISTING, 0, 0)
	wantErr(t, "CreateFile of a regular file", err, win32.ERROR_NOT_SUPPORTED)
	_, err = win32.CreateFileMapping(win32.HANDLE(0x1234), nil, win32.PAGE_READWRITE, 0, 4096, uniq(t))
	wantErr(t, "CreateFileMapping of a file handle", err, win32.ERROR_NOT_SUPPORTED)
	_, err = win32.CreateFileMapping(win32.INVALID_HANDLE_VALUE, nil, win32.PAGE_READWRITE, 0, 4096, "")
	wantErr(t, "an unnamed mapping", err, win32.ERROR_NOT_SUPPORTED)
	_, err = win32.CreateNamedPipe(`\\.\pipe\`+uniq(t), win32.PIPE_ACCESS_DUPLEX, win32.PIPE_NOWAIT, 1, 0, 0, 0, nil)
	wantErr(t, "PIPE_NOWAIT", err, win32.ERROR_NOT_SUPPORTED)
	_, err = win32.CreateMailslot(`\\.\mailslot\`+uniq(t), 1<<20, 0, nil)
	wantErr(t, "a mailslot for 1 MiB messages", err, win32.ERROR_INVALID_PARAMETER)
	_, err = win32.Send(win32.SOCKET(4242), []byte("x"), 0)
	if err == nil {
		t.Error("Send on a socket never made succeeded")
	}
}

// Before WSAStartup every socket call fails with WSANOTINITIALISED (on
// Windows Go's net package has started Winsock already, so this is tested
// here only).
func TestWSANotInitialised(t *testing.T) {
	_, err := win32.Socket(win32.AF_INET, win32.SOCK_STREAM, 0)
	wantErr(t, "socket before WSAStartup", err, win32.WSANOTINITIALISED)
	if _, err := win32.WSAStartup(win32.MAKEWORD(2, 2)); err != nil {
		t.Fatal(err)
	}
	s, err := win32.Socket(win32.AF_INET, win32.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	win32.Closesocket(s)
	if err := win32.WSACleanup(); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "WSACleanup once too often", win32.WSACleanup(), win32.WSANOTINITIALISED)
}

// Off Windows a mutex belongs to its handle: another goroutine may release
// what one took through the same handle (docs/win32.md).
func TestMutexOwnerHandle(t *testing.T) {
	m, err := win32.CreateMutex(nil, false, uniq(t))
	if err != nil {
		t.Fatal(err)
	}
	defer win32.CloseHandle(m)
	done := make(chan error)
	go func() {
		_, err := win32.WaitForSingleObject(m, win32.INFINITE)
		done <- err
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := win32.ReleaseMutex(m); err != nil {
		t.Fatalf("ReleaseMutex by another goroutine, same handle: %v", err)
	}
	wantErr(t, "ReleaseMutex once too often", win32.ReleaseMutex(m), win32.ERROR_NOT_OWNER)
}
