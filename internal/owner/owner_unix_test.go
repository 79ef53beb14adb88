//go:build unix

package owner_test

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/internal/owner"
)

// TestTrustUID: the zero Trust takes the caller's user and root only;
// named users add to that; AnyUser takes everyone.
func TestTrustUID(t *testing.T) {
	const stranger = 54321
	var zero owner.Trust
	for _, uid := range []int{0, os.Geteuid()} {
		if err := zero.CheckUID(uid, "x"); err != nil {
			t.Errorf("uid %d: %v; want trusted", uid, err)
		}
	}
	err := zero.CheckUID(stranger, "the thing")
	if !errors.Is(err, errs.ErrAccessDenied) || !strings.Contains(err.Error(), "the thing") || !strings.Contains(err.Error(), "54321") {
		t.Errorf("a stranger: %v; want ErrAccessDenied naming the object and the uid", err)
	}
	named, err := owner.New(false, "", "54321")
	if err != nil {
		t.Fatal(err)
	}
	if err := named.CheckUID(stranger, "x"); err != nil {
		t.Errorf("a named user: %v", err)
	}
	if err := named.CheckUID(stranger+1, "x"); err == nil {
		t.Error("another stranger trusted")
	}
	any, _ := owner.New(true)
	if err := any.CheckUID(stranger, "x"); err != nil || !any.Any() {
		t.Errorf("AnyUser: %v", err)
	}
	if _, err := owner.New(false, "xipc-no-such-user"); !errors.Is(err, errs.ErrInvalidParameter) {
		t.Errorf("an unknown user: %v; want ErrInvalidParameter", err)
	}
	root, err := owner.New(false, "root")
	if err != nil || !root.TrustsUID(0) {
		t.Errorf("a user by name: %v", err)
	}
}
