//go:build unix

package shm_test

import (
	"errors"
	"os"
	"testing"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/internal/kobj"
	"github.com/xipc/xipc/internal/names"
	"github.com/xipc/xipc/mailslot"
	"github.com/xipc/xipc/shm"
	"github.com/xipc/xipc/syncobj"
)

// TestUnknownGroup: Security naming a group that does not exist fails with
// ErrInvalidParameter for every kind of object on Unix, and leaves nothing
// at the name.
func TestUnknownGroup(t *testing.T) {
	t.Setenv("XIPC_ROOT", t.TempDir())
	const group = "xipc-no-such-group"
	_, err := shm.Create("grp", 4096, &shm.Options{Security: shm.Security{Group: group}})
	check(t, "shm.Create", err)
	_, err = syncobj.CreateEvent("grp", false, false, &syncobj.Options{Security: syncobj.Security{Group: group}})
	check(t, "syncobj.CreateEvent", err)
	_, err = mailslot.Create("grp", &mailslot.Config{Security: mailslot.Security{Group: group}})
	check(t, "mailslot.Create", err)
	path, err := kobj.Path(names.Kernel{Name: "grp"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s after the failed creations: %v; want it absent", path, err)
	}
}

func check(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, errs.ErrInvalidParameter) {
		t.Errorf("%s with an unknown group: %v; want ErrInvalidParameter", what, err)
	}
}
