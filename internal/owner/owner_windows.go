//go:build windows

package owner

import (
	"fmt"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/windows"
)

type user = *windows.SID

func lookup(u string) (user, error) {
	if len(u) > 2 && strings.EqualFold(u[:2], "S-") {
		return windows.StringToSid(u)
	}
	sid, _, _, err := windows.LookupSID("", u)
	return sid, err
}

// always are the SIDs every Trust trusts: the process's user, its token's
// default owner and primary group, SYSTEM and Administrators (the owner of
// what an elevated administrator creates).
var always = sync.OnceValues(func() ([]*windows.SID, error) {
	tok, err := windows.OpenCurrentProcessToken()
	if err != nil {
		return nil, err
	}
	defer tok.Close()
	u, err := tok.GetTokenUser()
	if err != nil {
		return nil, err
	}
	self, err := u.User.Sid.Copy()
	if err != nil {
		return nil, err
	}
	sids := []*windows.SID{self}
	// The token's default owner (the user, or Administrators for an
	// elevated one) and its primary group: Windows makes the first the
	// owner of a new object whose descriptor names none, Wine the second.
	// No one else can make an object owned by either without privileges.
	if o, err := tok.GetTokenPrimaryGroup(); err == nil {
		if s, err := o.PrimaryGroup.Copy(); err == nil {
			sids = append(sids, s)
		}
	}
	var buf [32]uint64 // aligned for the pointer it starts with
	var n uint32
	if windows.GetTokenInformation(tok, windows.TokenOwner, (*byte)(unsafe.Pointer(&buf[0])), uint32(len(buf)*8), &n) == nil {
		// TOKEN_OWNER is one *SID.
		if s, err := (*struct{ Owner *windows.SID })(unsafe.Pointer(&buf[0])).Owner.Copy(); err == nil {
			sids = append(sids, s)
		}
	}
	for _, w := range []windows.WELL_KNOWN_SID_TYPE{windows.WinLocalSystemSid, windows.WinBuiltinAdministratorsSid} {
		s, err := windows.CreateWellKnownSid(w)
		if err != nil {
			return nil, err
		}
		sids = append(sids, s)
	}
	return sids, nil
})

// TrustsSID reports whether objects owned by sid are trusted.
func (t Trust) TrustsSID(sid *windows.SID) (bool, error) {
	if t.any {
		return true, nil
	}
	base, err := always()
	if err != nil {
		return false, err
	}
	for _, list := range [][]*windows.SID{base, t.users} {
		for _, s := range list {
			if s.Equals(sid) {
				return true, nil
			}
		}
	}
	return false, nil
}

// CheckSID returns nil if sid is trusted, else an error matching
// errs.ErrAccessDenied that says that what belongs to sid.
func (t Trust) CheckSID(sid *windows.SID, what string) error {
	ok, err := t.TrustsSID(sid)
	if err != nil || ok {
		return err
	}
	return denied(what, SIDName(sid))
}

// CheckHandle checks the owner in the security descriptor of the object h
// (GetSecurityInfo with OWNER_SECURITY_INFORMATION; h needs READ_CONTROL).
func (t Trust) CheckHandle(h windows.Handle, typ windows.SE_OBJECT_TYPE, what string) error {
	if t.any {
		return nil
	}
	sd, err := windows.GetSecurityInfo(h, typ, windows.OWNER_SECURITY_INFORMATION)
	if err != nil {
		return fmt.Errorf("reading the owner of %s: %w", what, err)
	}
	sid, _, err := sd.Owner()
	if err != nil {
		return fmt.Errorf("reading the owner of %s: %w", what, err)
	}
	if sid == nil {
		// Windows gives every named object an owner (the creator's token
		// owner when its descriptor names none), so no user can make one
		// without. Wine keeps no owner unless the creator set one: there,
		// where every process is one user anyway, nothing can be told.
		return nil
	}
	return t.CheckSID(sid, what)
}

// CheckProcess checks the user of the process pid (OpenProcess +
// OpenProcessToken + TokenUser). ok is false when that process's token
// cannot be read (another user's process usually cannot be): the caller
// then falls back to the object's owner.
func (t Trust) CheckProcess(pid uint32, what string) (ok bool, err error) {
	if t.any {
		return true, nil
	}
	p, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, pid)
	if err != nil {
		return false, nil
	}
	defer windows.CloseHandle(p) //nolint:errcheck // a query handle
	var tok windows.Token
	if err := windows.OpenProcessToken(p, windows.TOKEN_QUERY, &tok); err != nil {
		return false, nil
	}
	defer tok.Close()
	u, err := tok.GetTokenUser()
	if err != nil {
		return false, nil
	}
	return true, t.CheckSID(u.User.Sid, what)
}

// SIDName returns "DOMAIN\name (SID)", or the SID alone when it has no name.
func SIDName(sid *windows.SID) string {
	if a, d, _, err := sid.LookupAccount(""); err == nil {
		return fmt.Sprintf(`%s\%s (%s)`, d, a, sid)
	}
	return sid.String()
}
