//go:build darwin || freebsd

package pipe

import "golang.org/x/sys/unix"

// cred is what the kernel tells about the process at the other end of a
// unix socket; -1 marks what it does not tell.
type cred struct{ uid, pid int }

// sockCred uses LOCAL_PEERCRED, which gives the user but not the process.
func sockCred(fd int) (cred, error) {
	x, err := unix.GetsockoptXucred(fd, unix.SOL_LOCAL, unix.LOCAL_PEERCRED)
	if err != nil {
		return cred{}, err
	}
	return cred{uid: int(x.Uid), pid: -1}, nil
}
