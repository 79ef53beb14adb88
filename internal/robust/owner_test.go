package robust

import (
	"context"
	"errors"
	"testing"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/mailslot"
	"github.com/xipc/xipc/pipe"
	"github.com/xipc/xipc/shm"
	"github.com/xipc/xipc/shm/ring"
	"github.com/xipc/xipc/syncobj"
)

// TestUnknownOwner: an Owner option naming a user that does not exist is
// ErrInvalidParameter in every package, before anything is opened.
func TestUnknownOwner(t *testing.T) {
	const nobodyHere = "xipc-no-such-user"
	ctx := context.Background()
	_, err := pipe.Dial(ctx, "unknown-owner", &pipe.DialConfig{Owner: pipe.Owner{User: nobodyHere}})
	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, errs.ErrInvalidParameter) {
			t.Errorf("%s: %v; want ErrInvalidParameter", what, err)
		}
	}
	check("pipe.Dial", err)
	_, err = mailslot.Open("unknown-owner", mailslot.Owner{User: nobodyHere})
	check("mailslot.Open", err)
	_, err = shm.Open("unknown-owner", shm.ReadWrite, shm.Owner{User: nobodyHere})
	check("shm.Open", err)
	_, err = shm.Create("unknown-owner", 4096, &shm.Options{Owner: shm.Owner{User: nobodyHere}})
	check("shm.Create", err)
	_, err = ring.Open("unknown-owner", ring.Consumer, &ring.Options{Owner: shm.Owner{User: nobodyHere}})
	check("ring.Open", err)
	_, err = syncobj.OpenMutex("unknown-owner", syncobj.Owner{User: nobodyHere})
	check("syncobj.OpenMutex", err)
	_, err = syncobj.OpenEvent("unknown-owner", syncobj.Owner{User: nobodyHere})
	check("syncobj.OpenEvent", err)
	_, err = syncobj.OpenSemaphore("unknown-owner", syncobj.Owner{User: nobodyHere})
	check("syncobj.OpenSemaphore", err)
	_, err = syncobj.CreateEvent("unknown-owner", false, false, &syncobj.Options{Owner: syncobj.Owner{User: nobodyHere}})
	check("syncobj.CreateEvent", err)
}
