//go:build unix

package owner

import (
	"fmt"
	"os"
	osuser "os/user"
	"strconv"

	"golang.org/x/sys/unix"
)

type user = int // a uid

func lookup(u string) (user, error) {
	if uid, err := strconv.Atoi(u); err == nil && uid >= 0 {
		return uid, nil
	}
	r, err := osuser.Lookup(u)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(r.Uid)
}

// TrustsUID reports whether objects of the user uid are trusted.
func (t Trust) TrustsUID(uid int) bool {
	if t.any || uid == 0 || uid == os.Geteuid() {
		return true
	}
	for _, u := range t.users {
		if u == uid {
			return true
		}
	}
	return false
}

// CheckUID returns nil if uid is trusted, else an error matching
// errs.ErrAccessDenied that says that what belongs to uid.
func (t Trust) CheckUID(uid int, what string) error {
	if t.TrustsUID(uid) {
		return nil
	}
	return denied(what, UserName(uid))
}

// CheckFile checks the owner of the open file fd (fstat, so no path can be
// swapped under the check).
func (t Trust) CheckFile(fd int, what string) error {
	if t.any {
		return nil
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return err
	}
	return t.CheckUID(int(st.Uid), what)
}

// UserName returns "uid N (NAME)", or "uid N" when N has no name.
func UserName(uid int) string {
	if u, err := osuser.LookupId(strconv.Itoa(uid)); err == nil {
		return fmt.Sprintf("uid %d (%s)", uid, u.Username)
	}
	return fmt.Sprintf("uid %d", uid)
}
