package win32

// SOCKET is a Winsock socket.
type SOCKET uintptr

// INVALID_SOCKET is what socket and accept return on failure.
const INVALID_SOCKET = ^SOCKET(0)

// Address families, socket types, protocols and shutdown directions, with
// their Winsock values (translated off Windows).
const (
	AF_INET     = 2
	AF_INET6    = 23
	SOCK_STREAM = 1
	SOCK_DGRAM  = 2
	IPPROTO_TCP = 6
	IPPROTO_UDP = 17
	SD_RECEIVE  = 0
	SD_SEND     = 1
	SD_BOTH     = 2
	SOMAXCONN   = 0x7fffffff
)

// WSADATA is what WSAStartup reports.
type WSADATA struct {
	Version     uint16
	HighVersion uint16
	Description string
}

// Sockaddr is a socket address: *SockaddrInet4 or *SockaddrInet6.
type Sockaddr interface {
	sockaddr()
}

// SockaddrInet4 is an IPv4 address and port (sockaddr_in).
type SockaddrInet4 struct {
	Port int
	Addr [4]byte
}

// SockaddrInet6 is an IPv6 address and port (sockaddr_in6).
type SockaddrInet6 struct {
	Port   int
	ZoneId uint32
	Addr   [16]byte
}

func (*SockaddrInet4) sockaddr() {}
func (*SockaddrInet6) sockaddr() {}

// MAKEWORD makes the version word WSAStartup takes: MAKEWORD(2, 2).
func MAKEWORD(low, high uint8) uint16 { return uint16(high)<<8 | uint16(low) }

// WSAStartup initialises Winsock for the process; every socket function
// before it fails with WSANOTINITIALISED, as on Windows.
func WSAStartup(version uint16) (WSADATA, error) {
	d, err := sysWSAStartup(version)
	return d, fail(err)
}

// WSACleanup ends the use of Winsock (one call per WSAStartup).
func WSACleanup() error { return fail(sysWSACleanup()) }

// Socket creates a socket: AF_INET or AF_INET6, SOCK_STREAM or SOCK_DGRAM,
// IPPROTO_TCP, IPPROTO_UDP or 0.
func Socket(af, typ, protocol int32) (SOCKET, error) {
	s, err := sysSocket(af, typ, protocol)
	if err != nil {
		return INVALID_SOCKET, fail(err)
	}
	return s, nil
}

// Bind gives the socket s its local address (WSAEADDRINUSE when taken).
func Bind(s SOCKET, sa Sockaddr) error { return fail(sysBind(s, sa)) }

// Listen makes s accept connections, with up to backlog waiting.
func Listen(s SOCKET, backlog int32) error { return fail(sysListen(s, backlog)) }

// Accept waits for a connection on the listening socket s and returns it
// and the peer's address.
func Accept(s SOCKET) (SOCKET, Sockaddr, error) {
	c, sa, err := sysAccept(s)
	if err != nil {
		return INVALID_SOCKET, nil, fail(err)
	}
	return c, sa, nil
}

// Getsockname returns the local address of s (the port a bind to port 0
// got).
func Getsockname(s SOCKET) (Sockaddr, error) {
	sa, err := sysGetsockname(s)
	return sa, fail(err)
}

// Connect connects s to sa: WSAECONNREFUSED when nobody listens there.
func Connect(s SOCKET, sa Sockaddr) error { return fail(sysConnect(s, sa)) }

// Send sends buf on the connected socket s and returns how much was sent.
func Send(s SOCKET, buf []byte, flags int32) (int, error) {
	n, err := sysSend(s, buf, flags)
	if err != nil {
		return -1, fail(err)
	}
	return n, nil
}

// Recv receives into buf from s; 0 means the peer has closed its sending
// side (a graceful close).
func Recv(s SOCKET, buf []byte, flags int32) (int, error) {
	n, err := sysRecv(s, buf, flags)
	if err != nil {
		return -1, fail(err)
	}
	return n, nil
}

// Shutdown ends sending (SD_SEND), receiving (SD_RECEIVE) or both on s.
func Shutdown(s SOCKET, how int32) error { return fail(sysShutdown(s, how)) }

// Closesocket closes s.
func Closesocket(s SOCKET) error { return fail(sysClosesocket(s)) }
