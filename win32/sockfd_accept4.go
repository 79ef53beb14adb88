//go:build linux || freebsd || netbsd || openbsd || dragonfly

package win32

import "golang.org/x/sys/unix"

// sendFlags keeps a send to a closed peer from raising SIGPIPE (Go ignores
// it for such descriptors anyway).
const sendFlags = unix.MSG_NOSIGNAL

func socketFD(af, typ, proto int) (int, error) {
	return unix.Socket(af, typ|unix.SOCK_CLOEXEC, proto)
}

func acceptFD(fd int) (int, unix.Sockaddr, error) {
	return unix.Accept4(fd, unix.SOCK_CLOEXEC)
}
