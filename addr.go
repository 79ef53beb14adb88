package xipc

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"syscall"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/internal/names"
)

// Networks of an Addr.
const (
	NetPipe = "pipe" // a named pipe, `\\.\pipe\NAME`
	NetUnix = "unix" // a unix-domain stream socket, a file path
	NetTCP  = "tcp"  // a TCP socket, HOST:PORT
)

// maxUnixPath is the longest path a unix socket address holds (sun_path
// less its terminating NUL).
var maxUnixPath = len(syscall.RawSockaddrUnix{}.Path) - 1

// maxHostName is the longest DNS name (RFC 1035).
const maxHostName = 253

// Addr is a parsed stream address: a network and an address within it.
// It implements net.Addr. The text forms are
//
//	pipe:NAME         a named pipe: NAME is `\\.\pipe\NAME` or a bare NAME
//	\\.\pipe\NAME     the same, without the prefix (also `\\HOST\pipe\NAME`)
//	unix:PATH         a unix-domain stream socket at PATH
//	tcp:HOST:PORT     a TCP socket; HOST may be a name, an IPv4 address, an
//	                  IPv6 address in brackets, or empty (every interface, for
//	                  Listen); PORT is a number, 0..65535 (0: any, for Listen)
//
// The network prefix is case-insensitive.
type Addr struct {
	Net  string // NetPipe, NetUnix or NetTCP
	Name string // the full pipe name, the socket path, or HOST:PORT
}

// Network returns the network: "pipe", "unix" or "tcp".
func (a Addr) Network() string { return a.Net }

// String returns the address in the form ParseAddr reads: `pipe:\\.\pipe\NAME`,
// `unix:PATH`, `tcp:HOST:PORT`.
func (a Addr) String() string { return a.Net + ":" + a.Name }

// ParseAddr parses an address (see Addr for the forms). A malformed address
// gives an error matching ErrInvalidName; an address of a network xipc does
// not know (`udp:...`) gives one matching ErrNotSupported. Pipe names are
// normalised to `\\HOST\pipe\NAME`, keeping the case as spelled (pipe names
// are case-insensitive).
func ParseAddr(s string) (Addr, error) {
	a, err := parseAddr(s)
	if err != nil {
		return Addr{}, errs.Op("parse", "address", strconv.Quote(s), err)
	}
	return a, nil
}

func parseAddr(s string) (Addr, error) {
	invalid := func(format string, args ...any) (Addr, error) {
		return Addr{}, errs.New(errs.ErrInvalidName, fmt.Errorf(format, args...))
	}
	if s == "" {
		return invalid("empty address (want pipe:NAME, unix:PATH or tcp:HOST:PORT)")
	}
	if strings.HasPrefix(s, `\\`) {
		p, err := names.ParsePipe(s)
		if err != nil {
			return Addr{}, err
		}
		return Addr{Net: NetPipe, Name: p.String()}, nil
	}
	network, rest, ok := strings.Cut(s, ":")
	if !ok {
		return invalid("no network (want pipe:NAME, unix:PATH or tcp:HOST:PORT)")
	}
	switch strings.ToLower(network) {
	case NetPipe:
		p, err := names.ParsePipe(rest)
		if err != nil {
			return Addr{}, err
		}
		return Addr{Net: NetPipe, Name: p.String()}, nil
	case NetUnix:
		switch {
		case rest == "":
			return invalid("empty socket path")
		case strings.IndexByte(rest, 0) >= 0:
			return invalid("NUL byte in socket path")
		case len(rest) > maxUnixPath:
			return invalid("socket path of %d bytes; a unix socket address holds %d", len(rest), maxUnixPath)
		}
		return Addr{Net: NetUnix, Name: rest}, nil
	case NetTCP:
		host, port, err := splitHostPort(rest)
		if err != nil {
			return Addr{}, err
		}
		if strings.IndexByte(host, ':') >= 0 {
			host = "[" + host + "]"
		}
		return Addr{Net: NetTCP, Name: host + ":" + port}, nil
	}
	if network == "" || strings.ContainsAny(network, `\/ `) {
		return invalid("no network (want pipe:NAME, unix:PATH or tcp:HOST:PORT)")
	}
	return Addr{}, errs.New(errs.ErrNotSupported,
		fmt.Errorf("unknown network %q (want pipe, unix or tcp)", network))
}

// splitHostPort checks HOST:PORT strictly: the port is a decimal number
// 0..65535, the host empty, an IP address ([bracketed] if IPv6) or a DNS
// name.
func splitHostPort(s string) (host, port string, err error) {
	invalid := func(format string, args ...any) (string, string, error) {
		return "", "", errs.New(errs.ErrInvalidName, fmt.Errorf(format, args...))
	}
	i := strings.LastIndexByte(s, ':')
	if i < 0 {
		return invalid("%q: missing port (want tcp:HOST:PORT)", s)
	}
	host, port = s[:i], s[i+1:]
	if port == "" || len(port) > 5 || strings.Trim(port, "0123456789") != "" {
		return invalid("port %q: want a number 0..65535", port)
	}
	if n, _ := strconv.Atoi(port); n > 65535 {
		return invalid("port %q: want a number 0..65535", port)
	}
	port = strconv.Itoa(mustAtoi(port)) // "080" → "80"
	switch {
	case strings.HasPrefix(host, "["):
		if !strings.HasSuffix(host, "]") {
			return invalid("host %q: missing ]", host)
		}
		ip, err := netip.ParseAddr(host[1 : len(host)-1])
		if err != nil || !ip.Is6() {
			return invalid("host %q: not an IPv6 address", host)
		}
		return ip.String(), port, nil
	case strings.IndexByte(host, ':') >= 0:
		return invalid("host %q: an IPv6 address goes in brackets, [%s]", host, host)
	case host == "":
		return "", port, nil
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		return ip.String(), port, nil
	}
	if err := checkHostName(host); err != nil {
		return "", "", err
	}
	return host, port, nil
}

func mustAtoi(s string) int {
	n, _ := strconv.Atoi(s) // checked by the caller: digits only, at most 5
	return n
}

// checkHostName accepts DNS names: labels of letters, digits, '-' and '_'
// (common in practice), separated by dots.
func checkHostName(h string) error {
	bad := func(why string) error {
		return errs.New(errs.ErrInvalidName, fmt.Errorf("host %q: %s", h, why))
	}
	if len(h) > maxHostName {
		return bad("longer than 253 bytes")
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 {
			return bad("not a host name")
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return bad("not a host name")
			}
		}
	}
	return nil
}
