package win32

import (
	"unsafe"

	"golang.org/x/sys/windows"
)

//sys	accept(s windows.Handle, rsa *windows.RawSockaddrAny, addrlen *int32) (ns windows.Handle, err error) [failretval==windows.InvalidHandle] = ws2_32.accept
//sys	send(s windows.Handle, buf *byte, len int32, flags int32) (n int32, err error) [failretval==-1] = ws2_32.send
//sys	recv(s windows.Handle, buf *byte, len int32, flags int32) (n int32, err error) [failretval==-1] = ws2_32.recv

func sysWSAStartup(version uint16) (WSADATA, error) {
	var d windows.WSAData
	if err := windows.WSAStartup(uint32(version), &d); err != nil {
		return WSADATA{}, err
	}
	return WSADATA{Version: d.Version, HighVersion: d.HighVersion, Description: windows.BytePtrToString(&d.Description[0])}, nil
}

func sysWSACleanup() error { return windows.WSACleanup() }

func sysSocket(af, typ, protocol int32) (SOCKET, error) {
	s, err := windows.Socket(int(af), int(typ), int(protocol))
	return SOCKET(s), err
}

func toWinSockaddr(sa Sockaddr) (windows.Sockaddr, error) {
	switch sa := sa.(type) {
	case *SockaddrInet4:
		return &windows.SockaddrInet4{Port: sa.Port, Addr: sa.Addr}, nil
	case *SockaddrInet6:
		return &windows.SockaddrInet6{Port: sa.Port, ZoneId: sa.ZoneId, Addr: sa.Addr}, nil
	}
	return nil, WSAEFAULT
}

func fromWinSockaddr(sa windows.Sockaddr) Sockaddr {
	switch sa := sa.(type) {
	case *windows.SockaddrInet4:
		return &SockaddrInet4{Port: sa.Port, Addr: sa.Addr}
	case *windows.SockaddrInet6:
		return &SockaddrInet6{Port: sa.Port, ZoneId: sa.ZoneId, Addr: sa.Addr}
	}
	return nil
}

func sysBind(s SOCKET, sa Sockaddr) error {
	wsa, err := toWinSockaddr(sa)
	if err != nil {
		return err
	}
	return windows.Bind(windows.Handle(s), wsa)
}

func sysListen(s SOCKET, backlog int32) error { return windows.Listen(windows.Handle(s), int(backlog)) }

func sysAccept(s SOCKET) (SOCKET, Sockaddr, error) {
	var rsa windows.RawSockaddrAny
	n := int32(unsafe.Sizeof(rsa))
	c, err := accept(windows.Handle(s), &rsa, &n)
	if err != nil {
		return 0, nil, err
	}
	sa, err := rsa.Sockaddr()
	if err != nil {
		return SOCKET(c), nil, nil
	}
	return SOCKET(c), fromWinSockaddr(sa), nil
}

func sysGetsockname(s SOCKET) (Sockaddr, error) {
	sa, err := windows.Getsockname(windows.Handle(s))
	if err != nil {
		return nil, err
	}
	return fromWinSockaddr(sa), nil
}

func sysConnect(s SOCKET, sa Sockaddr) error {
	wsa, err := toWinSockaddr(sa)
	if err != nil {
		return err
	}
	return windows.Connect(windows.Handle(s), wsa)
}

func sysSend(s SOCKET, buf []byte, flags int32) (int, error) {
	n, err := send(windows.Handle(s), bufPtr(buf), int32(len(buf)), flags)
	return int(n), err
}

func sysRecv(s SOCKET, buf []byte, flags int32) (int, error) {
	n, err := recv(windows.Handle(s), bufPtr(buf), int32(len(buf)), flags)
	return int(n), err
}

func sysShutdown(s SOCKET, how int32) error { return windows.Shutdown(windows.Handle(s), int(how)) }

func sysClosesocket(s SOCKET) error { return windows.Closesocket(windows.Handle(s)) }
