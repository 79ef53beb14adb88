//go:build unix

package win32

import (
	"errors"
	"sync"

	"golang.org/x/sys/unix"
)

// Sockets off Windows are the system's BSD sockets, called as Winsock
// calls them (blocking), with Winsock's constants and error codes.

type socket struct {
	fd       int
	calls    int  // calls in progress; guarded by sockets
	closed   bool // closesocket ran; the fd closes when calls reaches 0
	sentDone bool // shutdown(SD_SEND) ran: a send gives WSAESHUTDOWN
}

var sockets = struct {
	sync.Mutex
	started int // WSAStartup calls not yet matched by WSACleanup
	next    SOCKET
	m       map[SOCKET]*socket
}{next: 0x100, m: map[SOCKET]*socket{}}

func sysWSAStartup(version uint16) (WSADATA, error) {
	if version&0xff < 1 {
		return WSADATA{}, Errno(10092) // WSAVERNOTSUPPORTED
	}
	sockets.Lock()
	sockets.started++
	sockets.Unlock()
	return WSADATA{Version: MAKEWORD(2, 2), HighVersion: MAKEWORD(2, 2), Description: "xipc sockets"}, nil
}

func sysWSACleanup() error {
	sockets.Lock()
	defer sockets.Unlock()
	if sockets.started == 0 {
		return WSANOTINITIALISED
	}
	sockets.started--
	return nil
}

// acquire returns s's socket for one call; release must follow.
func acquire(s SOCKET) (*socket, error) {
	sockets.Lock()
	defer sockets.Unlock()
	if sockets.started == 0 {
		return nil, WSANOTINITIALISED
	}
	so := sockets.m[s]
	if so == nil || so.closed {
		return nil, WSAENOTSOCK
	}
	so.calls++
	return so, nil
}

func release(so *socket) {
	sockets.Lock()
	defer sockets.Unlock()
	so.calls--
	if so.closed && so.calls == 0 {
		unix.Close(so.fd)
	}
}

// sockErr is the Winsock code of a socket call's error. A call that a
// closesocket interrupted gets WSAEINTR, as on Windows.
func sockErr(so *socket, err error) error {
	sockets.Lock()
	closed, sentDone := so.closed, so.sentDone
	sockets.Unlock()
	if closed {
		return WSAEINTR
	}
	var e unix.Errno
	if !errors.As(err, &e) {
		return toErrno(err)
	}
	switch e {
	case unix.EPIPE:
		if sentDone {
			return WSAESHUTDOWN
		}
		return WSAECONNRESET
	case unix.EINTR:
		return WSAEINTR
	case unix.EACCES, unix.EPERM:
		return WSAEACCES
	case unix.EINVAL:
		return WSAEINVAL
	case unix.EMFILE, unix.ENFILE:
		return WSAEMFILE
	case unix.EAGAIN:
		return WSAEWOULDBLOCK
	case unix.ENOTSOCK, unix.EBADF:
		return WSAENOTSOCK
	case unix.EPROTONOSUPPORT:
		return WSAEPROTONOSUPPORT
	case unix.ESOCKTNOSUPPORT:
		return WSAESOCKTNOSUPPORT
	case unix.EOPNOTSUPP:
		return WSAEOPNOTSUPP
	case unix.EAFNOSUPPORT:
		return WSAEAFNOSUPPORT
	case unix.EADDRINUSE:
		return WSAEADDRINUSE
	case unix.EADDRNOTAVAIL:
		return WSAEADDRNOTAVAIL
	case unix.ENETUNREACH:
		return WSAENETUNREACH
	case unix.ECONNABORTED:
		return WSAECONNABORTED
	case unix.ECONNRESET:
		return WSAECONNRESET
	case unix.EISCONN:
		return WSAEISCONN
	case unix.ENOTCONN:
		return WSAENOTCONN
	case unix.ESHUTDOWN:
		return WSAESHUTDOWN
	case unix.ETIMEDOUT:
		return WSAETIMEDOUT
	case unix.ECONNREFUSED:
		return WSAECONNREFUSED
	case unix.EHOSTUNREACH:
		return WSAEHOSTUNREACH
	}
	return Errno(10000 + uint32(e)) // no Winsock twin: keep the errno visible
}

func sysSocket(af, typ, protocol int32) (SOCKET, error) {
	sockets.Lock()
	started := sockets.started
	sockets.Unlock()
	if started == 0 {
		return 0, WSANOTINITIALISED
	}
	var uaf int
	switch af {
	case AF_INET:
		uaf = unix.AF_INET
	case AF_INET6:
		uaf = unix.AF_INET6
	default:
		return 0, WSAEAFNOSUPPORT
	}
	var utyp int
	switch typ {
	case SOCK_STREAM:
		utyp = unix.SOCK_STREAM
	case SOCK_DGRAM:
		utyp = unix.SOCK_DGRAM
	default:
		return 0, WSAESOCKTNOSUPPORT
	}
	fd, err := socketFD(uaf, utyp, int(protocol))
	if err != nil {
		return 0, sockErr(&socket{}, err)
	}
	if utyp == unix.SOCK_STREAM {
		// Windows lets a listener bind a port whose old connections linger
		// in TIME_WAIT; on Linux that takes SO_REUSEADDR (which, unlike
		// Windows', never lets two live sockets share a port).
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1) // best effort: without it only a rebind in TIME_WAIT fails
	}
	sockets.Lock()
	defer sockets.Unlock()
	sockets.next += 4
	s := sockets.next
	sockets.m[s] = &socket{fd: fd}
	return s, nil
}

func toUnixSockaddr(sa Sockaddr) (unix.Sockaddr, error) {
	switch sa := sa.(type) {
	case *SockaddrInet4:
		return &unix.SockaddrInet4{Port: sa.Port, Addr: sa.Addr}, nil
	case *SockaddrInet6:
		return &unix.SockaddrInet6{Port: sa.Port, ZoneId: sa.ZoneId, Addr: sa.Addr}, nil
	}
	return nil, WSAEFAULT
}

func fromUnixSockaddr(sa unix.Sockaddr) Sockaddr {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return &SockaddrInet4{Port: sa.Port, Addr: sa.Addr}
	case *unix.SockaddrInet6:
		return &SockaddrInet6{Port: sa.Port, ZoneId: sa.ZoneId, Addr: sa.Addr}
	}
	return nil
}

func sysBind(s SOCKET, sa Sockaddr) error {
	so, err := acquire(s)
	if err != nil {
		return err
	}
	defer release(so)
	usa, err := toUnixSockaddr(sa)
	if err != nil {
		return err
	}
	if err := unix.Bind(so.fd, usa); err != nil {
		return sockErr(so, err)
	}
	return nil
}

func sysListen(s SOCKET, backlog int32) error {
	so, err := acquire(s)
	if err != nil {
		return err
	}
	defer release(so)
	if backlog < 0 || backlog > 4096 {
		backlog = 4096
	}
	if err := unix.Listen(so.fd, int(backlog)); err != nil {
		return sockErr(so, err)
	}
	return nil
}

func sysAccept(s SOCKET) (SOCKET, Sockaddr, error) {
	so, err := acquire(s)
	if err != nil {
		return 0, nil, err
	}
	defer release(so)
	for {
		fd, sa, err := acceptFD(so.fd)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, nil, sockErr(so, err)
		}
		sockets.Lock()
		defer sockets.Unlock()
		sockets.next += 4
		c := sockets.next
		sockets.m[c] = &socket{fd: fd}
		return c, fromUnixSockaddr(sa), nil
	}
}

func sysGetsockname(s SOCKET) (Sockaddr, error) {
	so, err := acquire(s)
	if err != nil {
		return nil, err
	}
	defer release(so)
	sa, err := unix.Getsockname(so.fd)
	if err != nil {
		return nil, sockErr(so, err)
	}
	return fromUnixSockaddr(sa), nil
}

func sysConnect(s SOCKET, sa Sockaddr) error {
	so, err := acquire(s)
	if err != nil {
		return err
	}
	defer release(so)
	usa, err := toUnixSockaddr(sa)
	if err != nil {
		return err
	}
	for {
		err := unix.Connect(so.fd, usa)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return sockErr(so, err)
		}
		return nil
	}
}

func sysSend(s SOCKET, buf []byte, flags int32) (int, error) {
	so, err := acquire(s)
	if err != nil {
		return 0, err
	}
	defer release(so)
	if flags != 0 {
		return 0, WSAEOPNOTSUPP
	}
	for {
		n, err := unix.SendmsgN(so.fd, buf, nil, nil, sendFlags)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, sockErr(so, err)
		}
		return n, nil
	}
}

func sysRecv(s SOCKET, buf []byte, flags int32) (int, error) {
	so, err := acquire(s)
	if err != nil {
		return 0, err
	}
	defer release(so)
	if flags != 0 {
		return 0, WSAEOPNOTSUPP
	}
	for {
		n, _, err := unix.Recvfrom(so.fd, buf, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return 0, sockErr(so, err)
		}
		return n, nil
	}
}

func sysShutdown(s SOCKET, how int32) error {
	so, err := acquire(s)
	if err != nil {
		return err
	}
	defer release(so)
	var uhow int
	switch how {
	case SD_RECEIVE:
		uhow = unix.SHUT_RD
	case SD_SEND:
		uhow = unix.SHUT_WR
	case SD_BOTH:
		uhow = unix.SHUT_RDWR
	default:
		return WSAEINVAL
	}
	if err := unix.Shutdown(so.fd, uhow); err != nil {
		return sockErr(so, err)
	}
	if how != SD_RECEIVE {
		sockets.Lock()
		so.sentDone = true
		sockets.Unlock()
	}
	return nil
}

func sysClosesocket(s SOCKET) error {
	sockets.Lock()
	defer sockets.Unlock()
	if sockets.started == 0 {
		return WSANOTINITIALISED
	}
	so := sockets.m[s]
	if so == nil {
		return WSAENOTSOCK
	}
	delete(sockets.m, s)
	so.closed = true
	if so.calls == 0 {
		if err := unix.Close(so.fd); err != nil {
			return sockErr(&socket{}, err)
		}
		return nil
	}
	// A call blocked in accept or recv: shutdown wakes it (closesocket
	// does on Windows), and the last call out closes the descriptor.
	_ = unix.Shutdown(so.fd, unix.SHUT_RDWR) // fails only on an unconnected socket, which no call blocks on
	return nil
}
