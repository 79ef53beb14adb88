// Package owner decides whether an object found under a name was made by a
// user this process trusts: the defence against squatting, where another
// user creates a pipe, mailslot, mapping or sync object name first and waits
// for a client that expects its own server.
//
// The trusted users are always the process's own user and the machine's
// administrators (root on Unix; SYSTEM and Administrators on Windows, which
// could act as anyone anyway), plus the users an opener names. A Trust that
// trusts any user turns the check off.
package owner

import (
	"fmt"

	"github.com/xipc/xipc/internal/errs"
)

// Trust is a resolved set of trusted users. The zero value trusts the
// process's own user and the administrators only.
type Trust struct {
	any   bool
	users []user // resolved extra users
}

// New returns the Trust of the process's user, the administrators and
// users (user names, numeric uids on Unix, SID strings on Windows; empty
// strings are ignored). With any, every user is trusted. An unknown user is
// errs.ErrInvalidParameter.
func New(any bool, users ...string) (Trust, error) {
	t := Trust{any: any}
	if any {
		return t, nil
	}
	for _, u := range users {
		if u == "" {
			continue
		}
		r, err := lookup(u)
		if err != nil {
			return Trust{}, errs.New(errs.ErrInvalidParameter, fmt.Errorf("owner %q: %w", u, err))
		}
		t.users = append(t.users, r)
	}
	return t, nil
}

// Any reports whether every user is trusted (the check is off).
func (t Trust) Any() bool { return t.any }

func denied(what, who string) error {
	return errs.New(errs.ErrAccessDenied, fmt.Errorf("%s belongs to %s, not to a trusted user (yourself, the administrators or one named in the Owner option): another user may have taken the name first", what, who))
}
