//go:build windows

package robust

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/pipe"
	"github.com/xipc/xipc/shm"
	"github.com/xipc/xipc/syncobj"
)

// stranger is the SID of a user that does not exist here: the owner of the
// objects TestForeignOwner plants.
const stranger = "S-1-5-21-1-2-3-54321"

// TestForeignOwner: a mapping or a mutex whose owner is another user is
// refused by Open (and by Create, which would join it) unless an Owner
// option names that user or any user. Creating an object owned by someone
// else takes SeRestorePrivilege on Windows; Wine allows it.
func TestForeignOwner(t *testing.T) {
	sd, err := windows.SecurityDescriptorFromString("O:" + stranger + "D:P(A;;GA;;;WD)")
	if err != nil {
		t.Fatal(err)
	}
	sa := &windows.SecurityAttributes{Length: uint32(unsafe.Sizeof(windows.SecurityAttributes{})), SecurityDescriptor: sd}
	base := fmt.Sprintf("xipc-foreign-%d", os.Getpid())
	mapName, _ := windows.UTF16PtrFromString(`Local\` + base + "-map")
	h, err := windows.CreateFileMapping(windows.InvalidHandle, sa, windows.PAGE_READWRITE, 0, 4096, mapName)
	if err != nil {
		t.Skipf("cannot create an object owned by another user here (needs SeRestorePrivilege): %v", err)
	}
	defer windows.CloseHandle(h)
	mutexName, _ := windows.UTF16PtrFromString(`Local\` + base + "-mutex")
	mh, err := windows.CreateMutex(sa, false, mutexName)
	if err != nil {
		t.Skipf("cannot create an object owned by another user here: %v", err)
	}
	defer windows.CloseHandle(mh)

	denied := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, errs.ErrAccessDenied) {
			t.Errorf("%s of a stranger's object: %v; want ErrAccessDenied", what, err)
		}
	}
	accepted := func(what string, c interface{ Close() error }, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s of a stranger's object with Owner: %v", what, err)
			return
		}
		c.Close()
	}
	_, err = shm.Open(base+"-map", shm.ReadWrite)
	denied("shm.Open", err)
	_, err = shm.Create(base+"-map", 4096, nil)
	denied("shm.Create", err)
	m, err := shm.Open(base+"-map", shm.ReadWrite, shm.Owner{User: stranger})
	accepted("shm.Open", m, err)
	m, err = shm.Create(base+"-map", 4096, &shm.Options{Owner: shm.Owner{AnyUser: true}})
	accepted("shm.Create", m, err)

	_, err = syncobj.OpenMutex(base + "-mutex")
	denied("syncobj.OpenMutex", err)
	_, err = syncobj.CreateMutex(base+"-mutex", false, nil)
	denied("syncobj.CreateMutex", err)
	mu, err := syncobj.OpenMutex(base+"-mutex", syncobj.Owner{User: stranger})
	accepted("syncobj.OpenMutex", mu, err)
	mu, err = syncobj.CreateMutex(base+"-mutex", false, &syncobj.Options{Owner: syncobj.Owner{AnyUser: true}})
	accepted("syncobj.CreateMutex", mu, err)
}

// TestForeignPipe: Listen on a name where a stranger's pipe exists fails
// instead of adding instances to it (ErrExists with FirstInstance,
// ErrAccessDenied without), even when the stranger's DACL would let it.
func TestForeignPipe(t *testing.T) {
	sd, err := windows.SecurityDescriptorFromString("O:" + stranger + "D:P(A;;GA;;;WD)")
	if err != nil {
		t.Fatal(err)
	}
	sa := &windows.SecurityAttributes{Length: uint32(unsafe.Sizeof(windows.SecurityAttributes{})), SecurityDescriptor: sd}
	name := fmt.Sprintf(`\\.\pipe\xipc-foreign-%d`, os.Getpid())
	path, _ := windows.UTF16PtrFromString(name)
	h, err := windows.CreateNamedPipe(path, windows.PIPE_ACCESS_DUPLEX|windows.FILE_FLAG_OVERLAPPED,
		windows.PIPE_TYPE_BYTE, windows.PIPE_UNLIMITED_INSTANCES, 4096, 4096, 0, sa)
	if err != nil {
		t.Skipf("cannot create a pipe owned by another user here (needs SeRestorePrivilege): %v", err)
	}
	defer windows.CloseHandle(h)
	if _, err := pipe.Listen(name, &pipe.ListenConfig{FirstInstance: true}); !errors.Is(err, errs.ErrExists) {
		t.Errorf("Listen with FirstInstance on a stranger's pipe: %v; want ErrExists", err)
	}
	l, err := pipe.Listen(name, nil)
	if err == nil {
		l.Close()
	}
	if !errors.Is(err, errs.ErrAccessDenied) || !strings.Contains(err.Error(), stranger) {
		t.Errorf("Listen on a stranger's pipe: %v; want ErrAccessDenied naming its owner", err)
	}
}
