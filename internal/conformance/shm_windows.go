package conformance

import (
	"errors"
	"sync"
	"testing"

	"golang.org/x/sys/windows"

	"github.com/xipc/xipc/internal/errs"
)

// shmSizeRounding: Windows may report a paging-file mapping's size rounded
// up to whole pages.
const shmSizeRounding = 4096

// holdOtherType makes name a kernel object of another type than a mapping:
// a named mutex (CreateMutex), held until release is called or the test
// ends.
func holdOtherType(t *testing.T, name string) (release func()) {
	t.Helper()
	p, err := windows.UTF16PtrFromString(name)
	if err != nil {
		t.Fatal(err)
	}
	h, err := windows.CreateMutex(nil, false, p)
	if err != nil {
		t.Fatalf("CreateMutex(%q): %v", name, err)
	}
	release = sync.OnceFunc(func() {
		if err := windows.CloseHandle(h); err != nil {
			t.Errorf("closing the mutex %q: %v", name, err)
		}
	})
	t.Cleanup(release)
	return release
}

// skipIfGlobalDenied skips a test whose Global\ mapping Windows refused:
// outside session 0 that takes SeCreateGlobalPrivilege (administrators and
// services have it; Wine grants it).
func skipIfGlobalDenied(t *testing.T, err error) {
	if errors.Is(err, errs.ErrAccessDenied) {
		t.Skipf("creating a Global\\ mapping needs SeCreateGlobalPrivilege, which this account lacks: %v", err)
	}
}
