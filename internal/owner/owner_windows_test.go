//go:build windows

package owner_test

import (
	"errors"
	"testing"

	"golang.org/x/sys/windows"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/internal/owner"
)

// TestTrustSID: the zero Trust takes the process's user, SYSTEM and
// Administrators only; named users add to that; AnyUser takes everyone.
func TestTrustSID(t *testing.T) {
	tok, err := windows.OpenCurrentProcessToken()
	if err != nil {
		t.Fatal(err)
	}
	defer tok.Close()
	u, err := tok.GetTokenUser()
	if err != nil {
		t.Fatal(err)
	}
	system, _ := windows.CreateWellKnownSid(windows.WinLocalSystemSid)
	admins, _ := windows.CreateWellKnownSid(windows.WinBuiltinAdministratorsSid)
	stranger, err := windows.StringToSid("S-1-5-21-1-2-3-54321")
	if err != nil {
		t.Fatal(err)
	}
	var zero owner.Trust
	for _, s := range []*windows.SID{u.User.Sid, system, admins} {
		if err := zero.CheckSID(s, "x"); err != nil {
			t.Errorf("%s: %v; want trusted", s, err)
		}
	}
	if err := zero.CheckSID(stranger, "x"); !errors.Is(err, errs.ErrAccessDenied) {
		t.Errorf("a stranger: %v; want ErrAccessDenied", err)
	}
	named, err := owner.New(false, "S-1-5-21-1-2-3-54321")
	if err != nil {
		t.Fatal(err)
	}
	if err := named.CheckSID(stranger, "x"); err != nil {
		t.Errorf("a named user: %v", err)
	}
	any, _ := owner.New(true)
	if err := any.CheckSID(stranger, "x"); err != nil {
		t.Errorf("AnyUser: %v", err)
	}
	if _, err := owner.New(false, "xipc-no-such-user"); !errors.Is(err, errs.ErrInvalidParameter) {
		t.Errorf("an unknown user: %v; want ErrInvalidParameter", err)
	}
	// The process's own event: its owner is trusted.
	name, _ := windows.UTF16PtrFromString(`Local\xipc-owner-test`)
	ev, err := windows.CreateEvent(nil, 0, 0, name)
	if err != nil {
		t.Fatal(err)
	}
	defer windows.CloseHandle(ev)
	if err := zero.CheckHandle(ev, windows.SE_KERNEL_OBJECT, "an event"); err != nil {
		t.Errorf("an object of this process: %v", err)
	}
	ok, err := zero.CheckProcess(windows.GetCurrentProcessId(), "this process")
	if !ok || err != nil {
		t.Errorf("this process: %v, %v; want trusted", ok, err)
	}
}
