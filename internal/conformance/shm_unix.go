//go:build unix

package conformance

import (
	"sync"
	"testing"

	"github.com/xipc/xipc/internal/kobj"
	"github.com/xipc/xipc/internal/names"
)

// shmSizeRounding: the emulation keeps a mapping's size exact.
const shmSizeRounding = 1

// holdOtherType makes name a kernel object of another type than a mapping:
// a mutex's entry in the emulation's namespace (package syncobj, which
// would make a real one, builds on this). It is held until release is
// called or the test ends.
func holdOtherType(t *testing.T, name string) (release func()) {
	t.Helper()
	k, err := names.ParseKernel(name)
	if err != nil {
		t.Fatal(err)
	}
	o, created, err := kobj.Create(k, "mutex", false, "", nil)
	if err != nil {
		t.Fatalf("kobj.Create(%q, mutex): %v", name, err)
	}
	if !created {
		t.Fatalf("kobj.Create(%q, mutex): the name was already taken", name)
	}
	release = sync.OnceFunc(func() {
		if err := o.Close(); err != nil {
			t.Errorf("closing the mutex %q: %v", name, err)
		}
	})
	t.Cleanup(release)
	return release
}

// skipIfGlobalDenied: the emulation lets every user create Global\ objects.
func skipIfGlobalDenied(*testing.T, error) {}
