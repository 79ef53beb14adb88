//go:build unix

package pipe

// Remote pipes on Unix. Dial of `\\HOST\pipe\NAME` opens a mutual-TLS
// connection to HOST's gateway (internal/gateway/link), which opens an
// instance of the local pipe there on the client's behalf. The client's
// Conn is an ordinary emulated Conn on one end of a socketpair; two
// goroutines relay between the other end and the TLS connection. So
// message boundaries, ErrMoreData, deadlines and Close behave exactly as
// on a local pipe, and back-pressure reaches the writer through the
// bounded buffers on the way (socket buffers and one chunk per relay).

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/internal/gateway/link"
	"github.com/xipc/xipc/internal/names"
	"github.com/xipc/xipc/internal/wire"
)

// claimInfo is what a listener adds to its name's lock file: "remote"
// when it admits clients relayed by the gateway, which reads it.
func claimInfo(c *ListenConfig) string {
	if c.RemoteClients {
		return "\nremote"
	}
	return ""
}

func (c *sysConn) remotePeer() (RemotePeer, bool) {
	if c.remote == nil {
		return RemotePeer{}, false
	}
	return *c.remote, true
}

// admitsRemote reports whether a client relayed by the process with
// credentials cr may connect: the pipe must allow remote clients, and the
// relaying process must run as root or as the pipe's owner, who alone may
// vouch for a remote identity.
func (l *sysListener) admitsRemote(cr cred) bool {
	return l.cfg.RemoteClients && (cr.uid == 0 || cr.uid == l.uid)
}

// tlsDefault caches the client TLS configuration loaded from the default
// directory, by directory.
var tlsDefault struct {
	sync.Mutex
	dir string
	cfg *tls.Config
}

func clientTLS(c *DialConfig) (*tls.Config, error) {
	if c.TLS != nil {
		return c.TLS, nil
	}
	dir := link.DefaultDir()
	tlsDefault.Lock()
	defer tlsDefault.Unlock()
	if tlsDefault.cfg != nil && tlsDefault.dir == dir {
		return tlsDefault.cfg, nil
	}
	cr, err := link.Load(dir)
	if err != nil {
		return nil, errs.New(errs.ErrNetwork, err)
	}
	tlsDefault.dir, tlsDefault.cfg = dir, cr.ClientConfig()
	return tlsDefault.cfg, nil
}

func dialRemote(ctx context.Context, p names.Pipe, c *DialConfig) (*sysConn, remoteLink, error) {
	cfg, err := clientTLS(c)
	if err != nil {
		return nil, nil, err
	}
	q := link.Request{Op: link.OpPipe, Name: p.Key()}
	canWait := ctx.Done() != nil
	if canWait {
		q.Flags |= wire.HelloWait
	}
	if c.Access != WriteOnly {
		q.Flags |= wire.HelloRead
	}
	if c.Access != ReadOnly {
		q.Flags |= wire.HelloWrite
	}
	for {
		tc, r, err := link.Open(ctx, p.Host, cfg, q)
		if err != nil {
			return nil, nil, err
		}
		switch r.Status {
		case link.StatusOK:
			return relay(tc, r, c)
		case link.StatusBusy:
			tc.Close()
			if !canWait {
				return nil, nil, errs.ErrBusy
			}
			t := time.NewTimer(busyRetry)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, nil, errs.Timeout(ctx, errs.ErrBusy)
			case <-t.C:
			}
			continue
		}
		tc.Close()
		return nil, nil, responseErr(r)
	}
}

func responseErr(r link.Response) error {
	why := errors.New(r.Msg)
	switch r.Status {
	case link.StatusDenied:
		return errs.New(errs.ErrAccessDenied, why)
	case link.StatusNotFound:
		return errs.New(errs.ErrNotFound, why)
	case link.StatusVersion:
		return errs.New(errs.ErrProtocol, why)
	}
	return errs.New(errs.ErrNetwork, fmt.Errorf("gateway: %s", r.Msg))
}

// netLink is a remote Conn's relay: it records how the gateway
// connection ended.
type netLink struct {
	addr string
	mu   sync.Mutex
	lost error // set when the connection ended without an end chunk
}

func (l *netLink) fail(err error) error {
	if errors.Is(err, errs.ErrClosed) || errors.Is(err, errs.ErrTimeout) || errors.Is(err, errs.ErrMoreData) {
		return err
	}
	l.mu.Lock()
	lost := l.lost
	l.mu.Unlock()
	if lost == nil {
		return err
	}
	return errs.New(errs.ErrNetwork, errs.New(errs.ErrBrokenPipe,
		fmt.Errorf("the connection to the gateway %s was lost (%v) after %v", l.addr, lost, err)))
}

// relayLinger is how long a closed remote Conn waits for the gateway to
// end its side of the stream.
const relayLinger = 5 * time.Second

// relay connects a local socketpair to the gateway connection tc and
// returns the Conn end.
func relay(tc *tls.Conn, r link.Response, c *DialConfig) (*sysConn, remoteLink, error) {
	// Not SOCK_CLOEXEC, which not every Unix has: close-on-exec under
	// ForkLock, as the standard library does.
	syscall.ForkLock.RLock()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err == nil {
		unix.CloseOnExec(fds[0])
		unix.CloseOnExec(fds[1])
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		tc.Close()
		return nil, nil, err
	}
	mine, err := fileConn(fds[0], "pipe-remote")
	if err != nil {
		unix.Close(fds[1])
		tc.Close()
		return nil, nil, err
	}
	far, err := fileConn(fds[1], "pipe-relay")
	if err != nil {
		mine.Close()
		tc.Close()
		return nil, nil, err
	}
	msg := r.Flags&wire.ReplyMessage != 0
	sc, err := newSysConn(mine, msg, msg && !c.ByteReadMode, c.Access != WriteOnly, c.Access != ReadOnly)
	if err != nil {
		mine.Close()
		far.Close()
		tc.Close()
		return nil, nil, err
	}
	sc.pid = 0
	lk := &netLink{addr: tc.RemoteAddr().String()}
	go lk.run(tc, far)
	return sc, lk, nil
}

// run relays until both directions are done: the Conn's writes go to the
// gateway as chunks; the gateway's chunks go to the Conn. An end chunk from
// the gateway (the server closed) closes the Conn's peer end, so the Conn
// reads what came and then io.EOF, and its writes fail as on a local pipe.
func (l *netLink) run(tc *tls.Conn, far *net.UnixConn) {
	up := make(chan struct{})
	go func() {
		defer close(up)
		link.SendStream(tc, far) //nolint:errcheck // the Conn closed or the link failed: both end the relay
		// The Conn is closed: give the gateway a moment to end its side.
		tc.SetReadDeadline(time.Now().Add(relayLinger))
	}()
	err := link.RecvStream(far, tc)
	if errors.Is(err, link.ErrNoEnd) || errors.Is(err, errs.ErrProtocol) {
		l.mu.Lock()
		l.lost = err
		l.mu.Unlock()
	}
	far.Close()
	<-up
	tc.Close()
}

func fileConn(fd int, name string) (*net.UnixConn, error) {
	f := os.NewFile(uintptr(fd), name)
	nc, err := net.FileConn(f)
	f.Close()
	if err != nil {
		return nil, err
	}
	return nc.(*net.UnixConn), nil
}
