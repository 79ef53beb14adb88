package win32_test

import (
	"runtime"
	"testing"

	"github.com/xipc/xipc/win32"
)

// On Windows a mutex belongs to the goroutine that took it (its thread is
// locked until it releases): the owner releases it however much the
// scheduler moved other goroutines meanwhile, and another goroutine gets
// ERROR_NOT_OWNER, as another thread would (docs/win32.md).
func TestMutexOwnerGoroutine(t *testing.T) {
	m, err := win32.CreateMutex(nil, false, uniq(t))
	if err != nil {
		t.Fatal(err)
	}
	defer win32.CloseHandle(m)
	taken, release, done := make(chan struct{}), make(chan struct{}), make(chan error)
	go func() {
		if ev, err := win32.WaitForSingleObject(m, win32.INFINITE); err != nil || ev != win32.WAIT_OBJECT_0 {
			t.Errorf("WaitForSingleObject = %#x, %v", ev, err)
		}
		close(taken)
		<-release
		for range 100 {
			runtime.Gosched() // would move an unlocked goroutine between threads
		}
		done <- win32.ReleaseMutex(m)
	}()
	<-taken
	wantErr(t, "ReleaseMutex by another goroutine", win32.ReleaseMutex(m), win32.ERROR_NOT_OWNER)
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("ReleaseMutex by the owner: %v", err)
	}
	// Free again: this goroutine takes and releases it.
	if ev, err := win32.WaitForSingleObject(m, 0); err != nil || ev != win32.WAIT_OBJECT_0 {
		t.Fatalf("WaitForSingleObject = %#x, %v", ev, err)
	}
	if err := win32.ReleaseMutex(m); err != nil {
		t.Fatal(err)
	}
}
