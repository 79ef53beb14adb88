package msgq

import (
	"errors"
	"runtime"
	"testing"

	"github.com/xipc/xipc/internal/errs"
)

// TestUnknownOwner: an Owner naming no user is ErrInvalidParameter.
func TestUnknownOwner(t *testing.T) {
	if _, err := Find("unknown-owner", Owner{User: "xipc-no-such-user"}); !errors.Is(err, errs.ErrInvalidParameter) {
		t.Errorf("Find: %v; want ErrInvalidParameter", err)
	}
}

// TestOwnQueueTrusted: a queue of the caller's own user is found with the
// default Owner (the window's process, on Windows), and with any Owner.
func TestOwnQueueTrusted(t *testing.T) {
	name := "own-queue-trusted"
	q, err := Register(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	owners := [][]Owner{nil, {{AnyUser: true}}}
	if runtime.GOOS != "windows" {
		owners = append(owners, []Owner{{User: "0"}})
	}
	for _, o := range owners {
		tg, err := Find(name, o...)
		if err != nil {
			t.Fatalf("Find with %v: %v", o, err)
		}
		if err := tg.Post(WM_USER, 1, 2); err != nil {
			t.Errorf("Post with %v: %v", o, err)
		}
		tg.Close()
	}
}
