//go:build windows

// Package winsec builds the security descriptors of xipc's named Windows
// objects (pipes, mailslots, file mappings and their marker objects): full
// access for the creating user, SYSTEM and Administrators, which is what the
// Unix side's mode 0600 and root amount to, plus the rights a package chooses
// for everyone (Security.AllUsers) and for a group (Security.Group).
//
// For a user S-1-5-21-…-1001, AllUsers and group Users, rights GRGW:
//
//	D:P(A;;GA;;;S-1-5-21-…-1001)(A;;GA;;;SY)(A;;GA;;;BA)(A;;GRGW;;;WD)(A;;GRGW;;;S-1-5-32-545)
package winsec

import (
	"fmt"
	"strings"
	"sync"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/xipc/xipc/internal/errs"
)

// OwnerDACL returns the owner-only DACL in SDDL: full access for the
// process's user, SYSTEM and Administrators. The process's user does not
// change, so the answer is computed once.
func OwnerDACL() (string, error) {
	return ownerDACL()
}

var ownerDACL = sync.OnceValues(func() (string, error) {
	tok, err := windows.OpenCurrentProcessToken()
	if err != nil {
		return "", err
	}
	defer tok.Close()
	u, err := tok.GetTokenUser()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("D:P(A;;GA;;;%s)(A;;GA;;;SY)(A;;GA;;;BA)", u.User.Sid), nil
})

// GroupSID resolves a group given as a SID string ("S-1-5-32-545", any
// case) or as a name ("Users") to its SID string. An invalid SID, an unknown
// name and a name that is not a group are errs.ErrInvalidParameter.
func GroupSID(g string) (string, error) {
	if len(g) > 2 && strings.EqualFold(g[:2], "S-") {
		sid, err := windows.StringToSid(g)
		if err != nil {
			return "", errs.New(errs.ErrInvalidParameter, fmt.Errorf("group %q: %w", g, err))
		}
		return sid.String(), nil
	}
	sid, _, typ, err := windows.LookupSID("", g)
	if err != nil {
		return "", errs.New(errs.ErrInvalidParameter, fmt.Errorf("group %q: %w", g, err))
	}
	switch typ {
	case windows.SidTypeGroup, windows.SidTypeAlias, windows.SidTypeWellKnownGroup:
		return sid.String(), nil
	}
	return "", errs.New(errs.ErrInvalidParameter, fmt.Errorf("%q is not a group", g))
}

// SDDL returns the owner-only DACL (OwnerDACL) followed by an ACE granting
// rights (an SDDL rights string such as "GRGW" or "0x00100001") to everyone
// (WD) when allUsers is set, then one granting them to group, resolved with
// GroupSID, when group is not empty.
func SDDL(allUsers bool, group, rights string) (string, error) {
	owner, err := OwnerDACL()
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(owner)
	if allUsers {
		fmt.Fprintf(&b, "(A;;%s;;;WD)", rights)
	}
	if group != "" {
		sid, err := GroupSID(group)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "(A;;%s;;;%s)", rights, sid)
	}
	return b.String(), nil
}

// Descriptor returns the security descriptor of SDDL(allUsers, group,
// rights).
func Descriptor(allUsers bool, group, rights string) (*windows.SECURITY_DESCRIPTOR, error) {
	sddl, err := SDDL(allUsers, group, rights)
	if err != nil {
		return nil, err
	}
	return windows.SecurityDescriptorFromString(sddl)
}

// Attributes returns security attributes (not inheritable) holding
// Descriptor(allUsers, group, rights).
func Attributes(allUsers bool, group, rights string) (*windows.SecurityAttributes, error) {
	sd, err := Descriptor(allUsers, group, rights)
	if err != nil {
		return nil, err
	}
	return &windows.SecurityAttributes{
		Length:             uint32(unsafe.Sizeof(windows.SecurityAttributes{})),
		SecurityDescriptor: sd,
	}, nil
}
