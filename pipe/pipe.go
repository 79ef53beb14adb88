// Package pipe provides Win32 named pipes: the real thing on Windows
// (CreateNamedPipe, ConnectNamedPipe, CreateFile with overlapped I/O), and a
// faithful emulation on Linux and other Unix systems built on unix stream
// sockets, so that two processes see the same behaviour on both.
//
// A server calls Listen and then Accept for each client; a client calls
// Dial. A *Conn is a net.Conn; in message mode each Write is one message and
// ReadMsg returns one message, reporting ErrMoreData when the buffer is too
// small (the rest comes with the next ReadMsg), as ReadFile does.
//
// Names are `\\.\pipe\NAME` or a bare NAME (the same pipe); they are
// case-insensitive. `\\HOST\pipe\NAME` names a pipe on another machine:
// on Linux, Dial reaches it through HOST's xipc gateway over mutual TLS
// (see docs/network.md and DialConfig.TLS), on Windows natively over SMB.
// Only pipes whose ListenConfig.RemoteClients is set accept such clients;
// Conn.RemotePeer tells the server who they are.
//
// Behaviour shared by both operating systems:
//   - Dial of a missing pipe fails at once with ErrNotFound.
//   - When every instance (ListenConfig.MaxInstances) is connected, Dial
//     fails with ErrBusy if its context can never end (context.Background),
//     and otherwise waits for a free instance, like WaitNamedPipe, until the
//     context ends; the error then matches ErrBusy, ErrTimeout (for a
//     deadline) and the context's error.
//   - When the peer has closed or died, Read and ReadMsg return io.EOF (the
//     net.Conn convention; Win32 reports ERROR_BROKEN_PIPE) and Write returns
//     an error matching ErrBrokenPipe (ERROR_NO_DATA). A peer that died in
//     the middle of a message gives ErrBrokenPipe with io.ErrUnexpectedEOF,
//     never a short message that looks whole.
//   - Writes block while the reader's buffer is full: nothing is dropped.
//   - Close and deadlines unblock pending reads and writes.
package pipe

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"time"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/internal/names"
	"github.com/xipc/xipc/internal/owner"
)

// Direction is the direction data flows on a pipe, seen from the server
// (PIPE_ACCESS_DUPLEX, PIPE_ACCESS_INBOUND, PIPE_ACCESS_OUTBOUND).
type Direction int

const (
	// Duplex pipes carry data both ways (PIPE_ACCESS_DUPLEX).
	Duplex Direction = iota
	// Inbound pipes carry data from clients to the server (PIPE_ACCESS_INBOUND):
	// clients must dial with WriteOnly access.
	Inbound
	// Outbound pipes carry data from the server to clients (PIPE_ACCESS_OUTBOUND):
	// clients must dial with ReadOnly access.
	Outbound
)

func (d Direction) String() string {
	switch d {
	case Duplex:
		return "duplex"
	case Inbound:
		return "inbound"
	case Outbound:
		return "outbound"
	}
	return "invalid direction"
}

// Unlimited is the MaxInstances value that sets no limit
// (PIPE_UNLIMITED_INSTANCES, 255).
const Unlimited = 255

// DefaultBufferSize is the buffer size used when ListenConfig leaves it 0.
const DefaultBufferSize = 64 << 10

// Security says who besides the creating user may open an object. The zero
// value is owner-only: the creating user (and root / Administrators and
// SYSTEM) only.
type Security struct {
	// AllUsers admits every user of the machine.
	AllUsers bool
	// Group admits members of this group: a group name or numeric gid on
	// Unix, a group name or SID string on Windows.
	Group string
}

// ListenConfig holds the options of Listen, the parameters of
// CreateNamedPipe. The zero value is a duplex byte-mode pipe with unlimited
// instances, owner-only.
type ListenConfig struct {
	// Message selects message mode (PIPE_TYPE_MESSAGE|PIPE_READMODE_MESSAGE):
	// each write is one message and reads keep message boundaries. The
	// default is byte mode, a plain byte stream.
	Message bool
	// Direction is the data direction; the default is Duplex.
	Direction Direction
	// MaxInstances limits how many clients may be connected at once, 1..254,
	// or Unlimited (255). 0 means Unlimited.
	MaxInstances int
	// InBufferSize and OutBufferSize are the sizes of the pipe's buffers
	// (advisory, as in Win32). 0 means DefaultBufferSize.
	InBufferSize, OutBufferSize int
	// FirstInstance makes Listen fail with ErrExists when the pipe already
	// exists (FILE_FLAG_FIRST_PIPE_INSTANCE).
	FirstInstance bool
	// Security says who may connect; the zero value is owner-only.
	Security Security
	// RemoteClients lets clients on other machines connect, through this
	// machine's xipc gateway on Linux (over SMB on Windows). The default
	// refuses them, as PIPE_REJECT_REMOTE_CLIENTS does; a remote client
	// is identified by Conn.RemotePeer, not by a user of this machine, so
	// Security does not apply to it.
	RemoteClients bool
}

// Access is the access a client asks for when it opens a pipe
// (GENERIC_READ|GENERIC_WRITE, GENERIC_READ, GENERIC_WRITE).
type Access int

const (
	// ReadWrite opens a duplex pipe for reading and writing (the default).
	ReadWrite Access = iota
	// ReadOnly opens the pipe for reading; needed for Outbound pipes.
	ReadOnly
	// WriteOnly opens the pipe for writing; needed for Inbound pipes.
	WriteOnly
)

// DialConfig holds the options of Dial. The zero value opens the pipe for
// reading and writing, in message read mode when the pipe is a message pipe.
type DialConfig struct {
	// Access is the access asked for; a pipe whose direction does not allow
	// it refuses with ErrAccessDenied.
	Access Access
	// ByteReadMode reads a message pipe as a byte stream, ignoring message
	// boundaries (PIPE_READMODE_BYTE). Writes still make messages.
	ByteReadMode bool
	// Owner says which server users Dial trusts besides the caller's own
	// user and the administrators (root; SYSTEM and Administrators on
	// Windows). A pipe whose server runs as anyone else fails with
	// ErrAccessDenied, so a user who creates the name first cannot receive
	// the client's traffic. The zero value trusts no one else. It does not
	// apply to remote pipes, whose gateway is authenticated by TLS.
	Owner Owner
	// TLS is the client side of the mutual TLS to a remote pipe's gateway
	// (Linux): the client certificate and the CA that signed the
	// gateways'. Nil loads them from the directory $XIPC_TLS_DIR, or
	// ~/.config/xipc/tls, laid out by `xipc gateway certs` (ca.pem,
	// cert.pem, key.pem). The gateway listens on HOST's port 7440 unless
	// the name says `\\HOST:PORT\pipe\NAME` or $XIPC_GATEWAY_PORT is set.
	TLS *tls.Config
}

// Owner names the users whose objects an opener trusts besides its own user
// and the administrators, who are always trusted (see docs/security.md).
// The zero value adds no one.
type Owner struct {
	// User is one more trusted user: a user name or numeric uid on Unix, a
	// user name or SID string on Windows.
	User string
	// AnyUser trusts every user: the owner check is off, as in plain Win32.
	AnyUser bool
}

// Addr is the address of a pipe; it implements net.Addr.
type Addr string

// Network returns "pipe".
func (a Addr) Network() string { return "pipe" }

// String returns the full pipe name, `\\.\pipe\NAME`.
func (a Addr) String() string { return string(a) }

const kind = "pipe"

// Listener is a named pipe server. It implements net.Listener.
type Listener struct {
	l    *sysListener
	name names.Pipe
}

// Listen creates the pipe name with the options in cfg (nil means the
// defaults) and returns a listener for its clients. It corresponds to
// CreateNamedPipe. A name that a live server holds gives ErrExists when
// cfg.FirstInstance is set. A stale pipe left by a crashed server is
// replaced.
func Listen(name string, cfg *ListenConfig) (*Listener, error) {
	p, err := names.ParsePipe(name)
	if err != nil {
		return nil, errs.Op("listen", kind, name, err)
	}
	var c ListenConfig
	if cfg != nil {
		c = *cfg
	}
	if err := c.normalize(); err != nil {
		return nil, errs.Op("listen", kind, p.String(), err)
	}
	if !p.Local() {
		return nil, errs.Op("listen", kind, p.String(), errs.New(errs.ErrInvalidParameter, errors.New("cannot create a pipe on another machine")))
	}
	l, err := listen(p, &c)
	if err != nil {
		return nil, errs.Op("listen", kind, p.String(), errs.FromSys(err))
	}
	return &Listener{l: l, name: p}, nil
}

func (c *ListenConfig) normalize() error {
	if c.MaxInstances == 0 {
		c.MaxInstances = Unlimited
	}
	if c.MaxInstances < 1 || c.MaxInstances > Unlimited {
		return errs.New(errs.ErrInvalidParameter, errors.New("MaxInstances must be 1..255"))
	}
	if c.Direction < Duplex || c.Direction > Outbound {
		return errs.New(errs.ErrInvalidParameter, errors.New("invalid Direction"))
	}
	if c.InBufferSize < 0 || c.OutBufferSize < 0 {
		return errs.New(errs.ErrInvalidParameter, errors.New("negative buffer size"))
	}
	if c.InBufferSize == 0 {
		c.InBufferSize = DefaultBufferSize
	}
	if c.OutBufferSize == 0 {
		c.OutBufferSize = DefaultBufferSize
	}
	return nil
}

// Accept waits for the next client and returns its connection. It
// corresponds to ConnectNamedPipe on a fresh instance.
func (l *Listener) Accept() (net.Conn, error) { return l.AcceptPipe() }

// AcceptPipe is Accept returning the concrete *Conn.
func (l *Listener) AcceptPipe() (*Conn, error) {
	c, err := l.l.accept()
	if err != nil {
		return nil, errs.Op("accept", kind, l.name.String(), errs.FromSys(err))
	}
	return newConn(c, l.name), nil
}

// Close stops listening and removes the pipe name; connections already
// accepted stay open. Pending Accept calls return an error matching
// ErrClosed (net.ErrClosed).
func (l *Listener) Close() error {
	return errs.Op("close", kind, l.name.String(), l.l.close())
}

// Addr returns the pipe's name.
func (l *Listener) Addr() net.Addr { return Addr(l.name.String()) }

// Dial connects to the pipe name, like CreateFile followed, on a message
// pipe, by SetNamedPipeHandleState(PIPE_READMODE_MESSAGE); cfg nil means the
// defaults. A missing pipe fails at once with ErrNotFound. When all
// instances are busy, Dial waits for one until ctx ends if ctx can end, and
// otherwise fails with ErrBusy (see the package doc).
func Dial(ctx context.Context, name string, cfg *DialConfig) (*Conn, error) {
	p, err := names.ParsePipe(name)
	if err != nil {
		return nil, errs.Op("dial", kind, name, err)
	}
	var c DialConfig
	if cfg != nil {
		c = *cfg
	}
	if c.Access < ReadWrite || c.Access > WriteOnly {
		return nil, errs.Op("dial", kind, p.String(), errs.New(errs.ErrInvalidParameter, errors.New("invalid Access")))
	}
	trust, err := owner.New(c.Owner.AnyUser, c.Owner.User)
	if err != nil {
		return nil, errs.Op("dial", kind, p.String(), err)
	}
	if err := ctx.Err(); err != nil {
		return nil, errs.Op("dial", kind, p.String(), errs.Timeout(ctx, nil))
	}
	if !p.Local() {
		sc, lk, err := dialRemote(ctx, p, &c)
		if err != nil {
			return nil, errs.Op("dial", kind, p.String(), errs.FromSys(err))
		}
		conn := newConn(sc, p)
		conn.link = lk
		return conn, nil
	}
	sc, err := dial(ctx, p, &c, trust)
	if err != nil {
		return nil, errs.Op("dial", kind, p.String(), errs.FromSys(err))
	}
	return newConn(sc, p), nil
}

// Conn is one end of a connected pipe instance. It implements net.Conn;
// its methods are safe for concurrent use (one reader and one writer at a
// time, as with net.Conn).
type Conn struct {
	c       *sysConn
	name    names.Pipe
	message bool // message read mode: Read keeps message boundaries
	closed  atomic.Bool
	link    remoteLink // a remote pipe's connection to its gateway, or nil
}

// remoteLink is what a remote pipe's Conn knows of its gateway connection.
type remoteLink interface {
	// fail turns the error of an operation into one that says the
	// gateway connection was lost, when it was; err otherwise.
	fail(err error) error
}

func newConn(c *sysConn, p names.Pipe) *Conn {
	return &Conn{c: c, name: p, message: c.messageRead()}
}

func (c *Conn) opErr(op string, err error) error {
	if c.link != nil && err != nil {
		err = c.link.fail(err)
	}
	if err == nil || err == io.EOF {
		return err
	}
	return errs.Op(op, kind, c.name.String(), errs.FromSys(err))
}

// Read reads data. On a byte-mode pipe (or a message pipe dialled with
// ByteReadMode) it is a plain stream read. In message read mode, Read never
// returns bytes of two messages at once; a message longer than p comes in
// several reads, each with a nil error (use ReadMsg to see ErrMoreData), and
// a zero-length message reads as io.EOF, the end-of-stream marker CloseWrite
// sends (go-winio's convention; ReadMsg returns such a message as (0, nil)).
// When the peer has gone Read returns io.EOF.
func (c *Conn) Read(p []byte) (int, error) {
	if !c.message {
		n, err := c.c.read(p)
		return n, c.opErr("read", err)
	}
	n, err := c.c.readMsg(p)
	switch {
	case err == errs.ErrMoreData:
		err = nil
	case err == nil && n == 0:
		err = io.EOF
	}
	return n, c.opErr("read", err)
}

// ReadMsg reads one message into p, like ReadFile in message read mode. If
// the message is longer than p, it fills p and returns an error matching
// ErrMoreData; the following ReadMsg calls return the rest of the message.
// A zero-length message gives (0, nil); a peer that has gone gives io.EOF.
// On a byte-mode pipe ReadMsg is Read.
func (c *Conn) ReadMsg(p []byte) (int, error) {
	if !c.message {
		return c.Read(p)
	}
	n, err := c.c.readMsg(p)
	return n, c.opErr("read", err)
}

// Write writes p. In message mode each Write is one message, written whole
// or not at all unless the peer goes away or a deadline passes mid-way.
// Write blocks while the peer's buffer is full.
func (c *Conn) Write(p []byte) (int, error) {
	n, err := c.c.write(p)
	return n, c.opErr("write", err)
}

// WriteMsg writes p as one message; it is Write, named for symmetry with
// ReadMsg.
func (c *Conn) WriteMsg(p []byte) (int, error) { return c.Write(p) }

// Transact writes out as one message and reads the reply into in, like
// TransactNamedPipe. A reply longer than in gives ErrMoreData; the rest can
// be read with ReadMsg. It needs a message pipe (ErrNotSupported otherwise).
func (c *Conn) Transact(out, in []byte) (int, error) {
	if !c.c.messageWrite() {
		return 0, c.opErr("transact", errs.New(errs.ErrNotSupported, errors.New("Transact needs a message pipe")))
	}
	if _, err := c.Write(out); err != nil {
		return 0, err
	}
	return c.ReadMsg(in)
}

// CloseWrite tells the peer that no more data will come: on a message pipe
// it sends a zero-length message, which the peer's Read reports as io.EOF
// (the peer can still write back). Win32 pipes have no half-close, so on a
// byte-mode pipe CloseWrite fails with ErrNotSupported on every OS.
func (c *Conn) CloseWrite() error {
	if !c.c.messageWrite() {
		return c.opErr("closewrite", errs.New(errs.ErrNotSupported, errors.New("a byte-mode pipe has no end-of-stream marker")))
	}
	_, err := c.c.write(nil)
	return c.opErr("closewrite", err)
}

// Close closes the connection; pending reads and writes on it return an
// error matching ErrClosed. The peer can still read what was written
// before, then gets io.EOF. On the server side the instance becomes free for
// the next client (CloseHandle; not DisconnectNamedPipe, which would throw
// away data the client has not read yet).
func (c *Conn) Close() error {
	if !c.closed.CompareAndSwap(false, true) {
		return c.opErr("close", errs.ErrClosed)
	}
	return c.opErr("close", c.c.close())
}

// PeerPID returns the process ID of the other end (GetNamedPipeClientProcessId
// on a server connection, GetNamedPipeServerProcessId on a client one). It
// is 0 when the other end is on another machine (see RemotePeer).
func (c *Conn) PeerPID() int {
	if c.link != nil {
		return 0
	}
	if _, ok := c.c.remotePeer(); ok {
		return 0
	}
	return c.c.peerPID()
}

// RemotePeer describes a client that reached the pipe from another machine.
type RemotePeer struct {
	// Subject is the subject of the client's TLS certificate, as
	// pkix.Name.String prints it (e.g. "CN=alice,O=xipc").
	Subject string
	// Addr is the client's network address as the gateway saw it.
	Addr string
}

// RemotePeer returns who the client is when it came from another machine
// through the gateway (Linux); ok is false for a local client, on a client
// connection, and on Windows. It is what PeerPID is for a local client.
func (c *Conn) RemotePeer() (peer RemotePeer, ok bool) { return c.c.remotePeer() }

// Message reports whether reads keep message boundaries.
func (c *Conn) Message() bool { return c.message }

// LocalAddr returns the pipe's name.
func (c *Conn) LocalAddr() net.Addr { return Addr(c.name.String()) }

// RemoteAddr returns the pipe's name.
func (c *Conn) RemoteAddr() net.Addr { return Addr(c.name.String()) }

// SetDeadline sets the read and write deadlines, as net.Conn does; a
// timed-out call returns an error matching ErrTimeout (os.ErrDeadlineExceeded).
func (c *Conn) SetDeadline(t time.Time) error {
	return c.opErr("set deadline", c.c.setDeadline(t, true, true))
}

// SetReadDeadline sets the read deadline.
func (c *Conn) SetReadDeadline(t time.Time) error {
	return c.opErr("set deadline", c.c.setDeadline(t, true, false))
}

// SetWriteDeadline sets the write deadline.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	return c.opErr("set deadline", c.c.setDeadline(t, false, true))
}

var _ net.Conn = (*Conn)(nil)
var _ net.Listener = (*Listener)(nil)
