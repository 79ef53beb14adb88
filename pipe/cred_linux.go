package pipe

import "golang.org/x/sys/unix"

// cred is what the kernel tells about the process at the other end of a
// unix socket; -1 marks what it does not tell.
type cred struct{ uid, pid int }

func sockCred(fd int) (cred, error) {
	u, err := unix.GetsockoptUcred(fd, unix.SOL_SOCKET, unix.SO_PEERCRED)
	if err != nil {
		return cred{}, err
	}
	return cred{uid: int(u.Uid), pid: int(u.Pid)}, nil
}
