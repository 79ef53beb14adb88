package xipc

import (
	"context"
	"errors"
	"net"
	"os"
	"syscall"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/pipe"
)

// Listen listens for stream connections at addr (see Addr for the forms:
// `pipe:NAME`, `\\.\pipe\NAME`, `unix:PATH`, `tcp:HOST:PORT`), so that a
// program changes transport by changing a string.
//
//   - pipe: a message-mode duplex named pipe with unlimited instances,
//     owner-only (pipe.Listen). Connections are *pipe.Conn; read as a byte
//     stream they never return bytes of two writes at once, and CloseWrite
//     works (it sends the zero-length end-of-stream message).
//   - unix: a unix-domain stream socket (*net.UnixListener). A socket file
//     left at PATH by a crashed listener (connect refused) is replaced, as
//     pipe.Listen replaces a stale pipe; any other file there gives ErrExists.
//     Close removes the file.
//   - tcp: a TCP socket (*net.TCPListener).
//
// ctx bounds the setup only (name resolution), not the listener's life.
// Errors are *OpError values: a malformed address matches ErrInvalidName,
// an unknown network ErrNotSupported, an address in use ErrExists.
func Listen(ctx context.Context, addr string) (net.Listener, error) {
	a, err := parseAddr(addr)
	if err != nil {
		return nil, errs.Op("listen", "address", addr, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, errs.Op("listen", a.Net, a.Name, err)
	}
	switch a.Net {
	case NetPipe:
		l, err := pipe.Listen(a.Name, &pipe.ListenConfig{Message: true})
		if err != nil {
			return nil, err // already an *OpError naming the pipe
		}
		return l, nil
	case NetUnix:
		l, err := listenUnix(ctx, a.Name)
		if err != nil {
			return nil, errs.Op("listen", a.Net, a.Name, netError(err))
		}
		return l, nil
	}
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", a.Name)
	if err != nil {
		return nil, errs.Op("listen", a.Net, a.Name, netError(err))
	}
	return l, nil
}

// listenUnix listens at path, replacing a socket that nobody listens on any
// more: a connect refused means its listener is gone.
func listenUnix(ctx context.Context, path string) (net.Listener, error) {
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "unix", path)
	if err == nil || !errors.Is(err, syscall.EADDRINUSE) {
		return l, err
	}
	fi, serr := os.Lstat(path)
	if serr != nil || fi.Mode().Type() != os.ModeSocket {
		return nil, err
	}
	var d net.Dialer
	c, derr := d.DialContext(ctx, "unix", path)
	if derr == nil {
		c.Close()
		return nil, err // a live listener holds it
	}
	if !errors.Is(derr, syscall.ECONNREFUSED) {
		return nil, err
	}
	if rerr := os.Remove(path); rerr != nil {
		return nil, err
	}
	return lc.Listen(ctx, "unix", path)
}

// Dial connects to addr (see Addr for the forms) and returns the
// connection: a *pipe.Conn for a pipe (pipe.Dial: it waits for a free
// instance until ctx ends), a *net.UnixConn or a *net.TCPConn.
//
// Errors are *OpError values: a malformed address matches ErrInvalidName,
// an unknown network ErrNotSupported, nobody listening ErrNotFound (for a
// socket: connection refused, which Win32Code reports as ERROR_FILE_NOT_FOUND;
// the win32 facade's connect reports WSAECONNREFUSED), and a context that
// ends first ErrTimeout or the context's error.
func Dial(ctx context.Context, addr string) (net.Conn, error) {
	a, err := parseAddr(addr)
	if err != nil {
		return nil, errs.Op("dial", "address", addr, err)
	}
	if a.Net == NetPipe {
		c, err := pipe.Dial(ctx, a.Name, nil)
		if err != nil {
			return nil, err
		}
		return c, nil
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, a.Net, a.Name)
	if err != nil {
		return nil, errs.Op("dial", a.Net, a.Name, netError(err))
	}
	return c, nil
}

// netError turns an error of package net into one that matches a sentinel,
// keeping the OS error and the context's error.
func netError(err error) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return errs.New(errs.ErrTimeout, err)
	case errors.Is(err, context.Canceled):
		return err
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return errs.New(errs.ErrNotFound, err)
	}
	return sockError(errs.UnwrapNet(err))
}
