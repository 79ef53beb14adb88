//go:build unix

package pipe

// The Unix emulation: one unix stream socket per pipe name, under
// ROOT/pipe. A listening server holds the name's ns.Claim, so a socket left
// by a crashed server is replaced and a second live server is refused.
//
// A client sends a wire.Hello after connect; the server answers with a
// wire.Reply that grants an instance, says busy, or refuses access. Clients
// that may wait (their context can end) are parked by the server and answered
// when an instance frees up, in arrival order, like WaitNamedPipe without
// polling. In message mode every message travels as a 4-byte length and the
// payload, written with one syscall.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/internal/names"
	"github.com/xipc/xipc/internal/ns"
	"github.com/xipc/xipc/internal/owner"
	"github.com/xipc/xipc/internal/wire"
)

// handshakeTimeout bounds how long a connecting peer may take to send its
// hello, so a silent peer cannot hold a server goroutine, and how long a
// client that may not wait waits for the server's reply. A variable for
// the tests.
var handshakeTimeout = 10 * time.Second

const (
	// maxReady bounds the connections a server has admitted but not yet
	// accepted when instances are unlimited.
	maxReady = 64
	// maxWaiters bounds the clients parked waiting for an instance; past it
	// a waiting client is told busy and retries after busyRetry.
	maxWaiters = 1024
	busyRetry  = 5 * time.Millisecond
)

type sysListener struct {
	ln    *net.UnixListener
	claim *ns.Claim
	cfg   ListenConfig
	uid   int

	ready chan *sysConn // admitted, not yet accepted
	done  chan struct{} // closed by close

	mu      sync.Mutex
	active  int                           // admitted instances not yet closed
	waiters []*net.UnixConn               // parked clients, oldest first
	pending map[*net.UnixConn]struct{}    // in handshake
	remotes map[*net.UnixConn]wire.Remote // relayed remote clients, until admitted
	closed  bool
	wg      sync.WaitGroup
}

func listen(p names.Pipe, c *ListenConfig) (*sysListener, error) {
	if c.Security.Group != "" {
		if _, err := ns.LookupGroup(c.Security.Group); err != nil {
			return nil, err
		}
	}
	claim, err := ns.Acquire("pipe", p.Key(), p.String()+claimInfo(c))
	if err != nil {
		return nil, err
	}
	path := claim.Path
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		claim.Release()
		return nil, errs.UnwrapNet(err)
	}
	ln.SetUnlinkOnClose(false) // close removes it, while still holding the lock
	if err := ns.Protect(path, c.Security.AllUsers, c.Security.Group); err != nil {
		ln.Close()
		claim.Release()
		return nil, err
	}
	readyCap := c.MaxInstances
	if c.MaxInstances == Unlimited || readyCap > maxReady {
		readyCap = maxReady
	}
	l := &sysListener{
		ln: ln, claim: claim, cfg: *c, uid: os.Geteuid(),
		ready:   make(chan *sysConn, readyCap),
		done:    make(chan struct{}),
		pending: make(map[*net.UnixConn]struct{}),
		remotes: make(map[*net.UnixConn]wire.Remote),
	}
	l.wg.Add(1)
	go l.acceptLoop()
	return l, nil
}

func (l *sysListener) acceptLoop() {
	defer l.wg.Done()
	for {
		uc, err := l.ln.AcceptUnix()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && !errors.Is(err, net.ErrClosed) {
				// EMFILE and friends: back off instead of spinning.
				select {
				case <-l.done:
					return
				case <-time.After(10 * time.Millisecond):
					continue
				}
			}
			return
		}
		l.mu.Lock()
		if l.closed {
			l.mu.Unlock()
			uc.Close()
			return
		}
		l.pending[uc] = struct{}{}
		l.wg.Add(1)
		l.mu.Unlock()
		go l.handshake(uc)
	}
}

// handshake reads a client's hello and admits, parks or refuses it.
func (l *sysListener) handshake(uc *net.UnixConn) {
	defer l.wg.Done()
	ok := false
	defer func() {
		l.mu.Lock()
		delete(l.pending, uc)
		l.mu.Unlock()
		if !ok {
			uc.Close()
		}
	}()
	var b [wire.HelloSize]byte
	uc.SetDeadline(time.Now().Add(handshakeTimeout))
	if _, err := io.ReadFull(uc, b[:]); err != nil {
		return
	}
	h, err := wire.ParseHello(b[:])
	if err != nil {
		return
	}
	cr, err := peerCred(uc)
	if err != nil {
		return
	}
	if !l.admits(cr, h) {
		l.reply(uc, wire.StatusDenied)
		return
	}
	if h.Flags&wire.HelloRemote != 0 {
		r, err := wire.ReadRemote(func(p []byte) error { _, err := io.ReadFull(uc, p); return err })
		if err != nil {
			return
		}
		if !l.admitsRemote(cr) {
			l.reply(uc, wire.StatusDenied)
			return
		}
		l.mu.Lock()
		l.remotes[uc] = r
		l.mu.Unlock()
		defer func() {
			if !ok {
				l.mu.Lock()
				delete(l.remotes, uc)
				l.mu.Unlock()
			}
		}()
	}
	uc.SetDeadline(time.Time{})
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.closed:
	case l.hasRoom():
		ok = l.admit(uc)
	case h.Flags&wire.HelloWait != 0 && len(l.waiters) < maxWaiters:
		l.waiters = append(l.waiters, uc)
		ok = true
	default:
		l.reply(uc, wire.StatusBusy)
	}
}

// admits applies the pipe's security and direction to a client.
func (l *sysListener) admits(cr cred, h wire.Hello) bool {
	if !l.cfg.Security.AllUsers && l.cfg.Security.Group == "" &&
		cr.uid != 0 && cr.uid != l.uid && cr.uid != -1 {
		return false // owner-only; the socket's mode says so too
	}
	read, write := h.Flags&wire.HelloRead != 0, h.Flags&wire.HelloWrite != 0
	switch l.cfg.Direction {
	case Inbound:
		return write && !read
	case Outbound:
		return read && !write
	}
	return true
}

func (l *sysListener) hasRoom() bool {
	return (l.cfg.MaxInstances == Unlimited || l.active < l.cfg.MaxInstances) &&
		len(l.ready) < cap(l.ready)
}

// admit grants uc an instance; l.mu is held. It reports false if the client
// is already gone.
func (l *sysListener) admit(uc *net.UnixConn) bool {
	r, remote := l.remotes[uc]
	delete(l.remotes, uc)
	if !l.reply(uc, wire.StatusOK) {
		return false
	}
	c, err := newSysConn(uc, l.cfg.Message, l.cfg.Message, l.cfg.Direction != Outbound, l.cfg.Direction != Inbound)
	if err != nil {
		return false
	}
	if remote {
		c.remote = &RemotePeer{Subject: r.Subject, Addr: r.Addr}
	}
	c.l = l
	l.active++
	l.ready <- c // cannot block: hasRoom checked len < cap under l.mu
	return true
}

func (l *sysListener) reply(uc *net.UnixConn, status uint8) bool {
	r := wire.Reply{Status: status}
	if l.cfg.Message {
		r.Flags |= wire.ReplyMessage
	}
	if l.cfg.Direction != Outbound {
		r.Flags |= wire.ReplyServerRead
	}
	if l.cfg.Direction != Inbound {
		r.Flags |= wire.ReplyServerWrite
	}
	b := r.Marshal()
	uc.SetWriteDeadline(time.Now().Add(handshakeTimeout))
	_, err := uc.Write(b[:])
	uc.SetWriteDeadline(time.Time{})
	return err == nil
}

// wake admits parked clients while there is room; l.mu is held. Clients
// that gave up meanwhile fail the reply and are skipped.
func (l *sysListener) wake() {
	for len(l.waiters) > 0 && l.hasRoom() && !l.closed {
		uc := l.waiters[0]
		l.waiters[0] = nil
		l.waiters = l.waiters[1:]
		if !l.admit(uc) {
			uc.Close()
		}
	}
}

func (l *sysListener) release() {
	l.mu.Lock()
	l.active--
	l.wake()
	l.mu.Unlock()
}

func (l *sysListener) accept() (*sysConn, error) {
	select {
	case c := <-l.ready:
		l.mu.Lock()
		l.wake()
		l.mu.Unlock()
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *sysListener) close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return errs.ErrClosed
	}
	l.closed = true
	close(l.done)
	err := l.ln.Close()
	for _, uc := range l.waiters {
		uc.Close() // a parked client sees the pipe vanish: ErrNotFound
	}
	l.waiters = nil
	for uc := range l.pending {
		uc.SetDeadline(time.Now())
	}
	l.mu.Unlock()
	l.wg.Wait()
	for {
		select {
		case c := <-l.ready: // admitted but never accepted
			c.close()
			continue
		default:
		}
		break
	}
	l.claim.Release()
	return errs.UnwrapNet(err)
}

func dial(ctx context.Context, p names.Pipe, c *DialConfig, trust owner.Trust) (*sysConn, error) {
	path, err := ns.Path("pipe", p.Key())
	if err != nil {
		return nil, err
	}
	h := wire.Hello{}
	canWait := ctx.Done() != nil
	if canWait {
		h.Flags |= wire.HelloWait
	}
	if c.Access != WriteOnly {
		h.Flags |= wire.HelloRead
	}
	if c.Access != ReadOnly {
		h.Flags |= wire.HelloWrite
	}
	for {
		sc, status, err := tryDial(ctx, path, h, c, trust)
		if err != nil || status != wire.StatusBusy {
			return sc, err
		}
		if !canWait {
			return nil, errs.ErrBusy
		}
		// The server had no room to park us: retry shortly.
		t := time.NewTimer(busyRetry)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, errs.Timeout(ctx, errs.ErrBusy)
		case <-t.C:
		}
	}
}

func tryDial(ctx context.Context, path string, h wire.Hello, c *DialConfig, trust owner.Trust) (*sysConn, uint8, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		err = errs.UnwrapNet(err)
		switch {
		case ctx.Err() != nil, errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
			// The Dialer may see the deadline before the context does.
			return nil, 0, errs.Timeout(ctx, errs.ErrBusy)
		case errors.Is(err, unix.EAGAIN):
			return nil, wire.StatusBusy, nil // backlog full
		case errors.Is(err, unix.ECONNREFUSED), errors.Is(err, unix.ENOENT):
			// No socket, or a stale one whose server died.
			return nil, 0, errs.New(errs.ErrNotFound, err)
		}
		return nil, 0, err
	}
	uc := nc.(*net.UnixConn)
	if err := checkServer(uc, path, trust); err != nil {
		uc.Close() // before the hello: a squatter learns nothing
		return nil, 0, err
	}
	if ctx.Done() == nil {
		// Nothing else bounds the wait for the reply (a client that may
		// not wait is answered at once): a server that never answers
		// must not hang Dial.
		uc.SetDeadline(time.Now().Add(handshakeTimeout))
	}
	stop := context.AfterFunc(ctx, func() { uc.SetDeadline(time.Now()) })
	sc, status, err := handshakeClient(uc, h, c)
	if !stop() {
		// The context ended during the handshake and may have cut it
		// short; even if it completed, its deadline is now on uc.
		uc.Close()
		return nil, 0, errs.Timeout(ctx, errs.ErrBusy)
	}
	if err != nil || sc == nil {
		uc.Close()
	}
	return sc, status, err
}

func handshakeClient(uc *net.UnixConn, h wire.Hello, c *DialConfig) (*sysConn, uint8, error) {
	hb := h.Marshal()
	if _, err := uc.Write(hb[:]); err != nil {
		return nil, 0, errs.New(errs.ErrNotFound, errs.UnwrapNet(err))
	}
	var b [wire.ReplySize]byte
	if _, err := io.ReadFull(uc, b[:]); err != nil {
		if err == io.EOF {
			// The server closed without answering: it went away.
			return nil, 0, errs.New(errs.ErrNotFound, errors.New("server closed the pipe"))
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, 0, errs.New(errs.ErrProtocol, fmt.Errorf("the pipe's server did not answer within %v", handshakeTimeout))
		}
		return nil, 0, errs.UnwrapNet(err)
	}
	r, err := wire.ParseReply(b[:])
	if err != nil {
		return nil, 0, err
	}
	switch r.Status {
	case wire.StatusBusy:
		return nil, r.Status, nil
	case wire.StatusDenied:
		return nil, r.Status, errs.New(errs.ErrAccessDenied, errors.New("the pipe refused this client or access mode"))
	}
	uc.SetDeadline(time.Time{})
	msg := r.Flags&wire.ReplyMessage != 0
	sc, err := newSysConn(uc, msg, msg && !c.ByteReadMode, c.Access != WriteOnly, c.Access != ReadOnly)
	return sc, r.Status, err
}

// peerCred returns the credentials of the process on the other end of uc.
func peerCred(uc *net.UnixConn) (cred, error) {
	rc, err := uc.SyscallConn()
	if err != nil {
		return cred{}, err
	}
	var c cred
	var cerr error
	if err := rc.Control(func(fd uintptr) { c, cerr = sockCred(int(fd)) }); err != nil {
		return cred{}, err
	}
	return c, cerr
}

// checkServer checks that the server at the other end of uc runs as a
// trusted user: SO_PEERCRED gives the user that called listen(2), which a
// client cannot be fooled about. Where the kernel does not tell, the
// socket file's owner stands in.
func checkServer(uc *net.UnixConn, path string, trust owner.Trust) error {
	if trust.Any() {
		return nil
	}
	cr, err := peerCred(uc)
	if err != nil {
		return err
	}
	uid := cr.uid
	if uid < 0 {
		var st unix.Stat_t
		if err := unix.Lstat(path, &st); err != nil {
			return errs.New(errs.ErrNotFound, err)
		}
		uid = int(st.Uid)
	}
	return trust.CheckUID(uid, "the pipe's server")
}
