//go:build unix && !(linux || freebsd || netbsd || openbsd || dragonfly)

package win32

import (
	"syscall"

	"golang.org/x/sys/unix"
)

// sendFlags is 0: Go ignores SIGPIPE for descriptors other than stdout and
// stderr, so a send to a closed peer just fails with EPIPE.
const sendFlags = 0

// socketFD and acceptFD set close-on-exec in a second step, under the
// fork lock, as package syscall does where there is no SOCK_CLOEXEC.
func socketFD(af, typ, proto int) (int, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	fd, err := unix.Socket(af, typ, proto)
	if err == nil {
		unix.CloseOnExec(fd)
	}
	return fd, err
}

func acceptFD(fd int) (int, unix.Sockaddr, error) {
	syscall.ForkLock.RLock()
	defer syscall.ForkLock.RUnlock()
	nfd, sa, err := unix.Accept(fd)
	if err == nil {
		unix.CloseOnExec(nfd)
	}
	return nfd, sa, err
}
