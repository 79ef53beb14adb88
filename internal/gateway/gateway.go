//go:build unix

package gateway

import (
	"bufio"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/internal/gateway/link"
	"github.com/xipc/xipc/internal/names"
	"github.com/xipc/xipc/internal/ns"
	"github.com/xipc/xipc/internal/wire"
	"github.com/xipc/xipc/mailslot"
)

// Config holds the options of Start.
type Config struct {
	// Creds are the gateway's certificate, key and CA (link.Load).
	Creds *link.Creds
	// Listen is the TCP address for pipes; "" means ":7440".
	Listen string
	// Datagram is the UDP address for mailslot datagrams; "" means the
	// port of Listen on all addresses. "-" turns mailslots off.
	Datagram string
	// Group, when set, is a multicast group (an IPv4 address) to join
	// for broadcast mailslot datagrams, on Interface (a name; "" lets the
	// kernel choose).
	Group, Interface string
	// Logf, when set, receives one line per event worth knowing
	// (refused clients, sessions, dropped datagrams).
	Logf func(format string, args ...any)
}

// Gateway is a running gateway.
type Gateway struct {
	cfg  Config
	ln   net.Listener
	pc   net.PacketConn
	tls  *tls.Config
	done chan struct{}
	wg   sync.WaitGroup

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

// MaxSessions bounds the connections a gateway serves at once (each holds
// a pipe instance or is in its handshake); more wait in the listen backlog.
const MaxSessions = 1024

// handshakeTimeout bounds a client's TLS handshake and request.
const handshakeTimeout = 20 * time.Second

// linger is how long a session whose pipe server has gone waits for the
// client to end its side.
const linger = 10 * time.Second

// Start listens and serves in the background until Close.
func Start(cfg Config) (*Gateway, error) {
	if cfg.Creds == nil {
		return nil, errs.New(errs.ErrInvalidParameter, errors.New("gateway: no TLS credentials"))
	}
	if cfg.Listen == "" {
		cfg.Listen = ":" + strconv.Itoa(link.DefaultPort)
	}
	g := &Gateway{cfg: cfg, tls: cfg.Creds.ServerConfig(), done: make(chan struct{}), conns: map[net.Conn]struct{}{}}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, errs.New(errs.ErrNetwork, errs.UnwrapNet(err))
	}
	g.ln = ln
	if cfg.Datagram != "-" {
		if err := g.listenDatagrams(); err != nil {
			ln.Close()
			return nil, err
		}
	}
	g.wg.Add(1)
	go g.acceptLoop()
	if g.pc != nil {
		g.wg.Add(1)
		go g.datagramLoop()
	}
	return g, nil
}

func (g *Gateway) listenDatagrams() error {
	addr := g.cfg.Datagram
	if addr == "" {
		_, port, _ := net.SplitHostPort(g.ln.Addr().String())
		addr = ":" + port
	}
	var err error
	if g.cfg.Group != "" {
		ip := net.ParseIP(g.cfg.Group)
		if ip == nil || !ip.IsMulticast() {
			return errs.New(errs.ErrInvalidParameter, fmt.Errorf("gateway: group %q is not a multicast address", g.cfg.Group))
		}
		ua, rerr := net.ResolveUDPAddr("udp", addr)
		if rerr != nil {
			return errs.New(errs.ErrInvalidParameter, rerr)
		}
		var ifi *net.Interface
		if g.cfg.Interface != "" {
			if ifi, err = net.InterfaceByName(g.cfg.Interface); err != nil {
				return errs.New(errs.ErrInvalidParameter, err)
			}
		}
		g.pc, err = net.ListenMulticastUDP("udp4", ifi, &net.UDPAddr{IP: ip, Port: ua.Port})
	} else {
		g.pc, err = net.ListenPacket("udp4", addr)
	}
	if err != nil {
		return errs.New(errs.ErrNetwork, errs.UnwrapNet(err))
	}
	return nil
}

// Addr returns the TCP address the gateway listens on.
func (g *Gateway) Addr() net.Addr { return g.ln.Addr() }

// DatagramAddr returns the UDP address for mailslots, or nil.
func (g *Gateway) DatagramAddr() net.Addr {
	if g.pc == nil {
		return nil
	}
	return g.pc.LocalAddr()
}

// Close stops the gateway: it stops listening, ends every session (their
// clients see the connection lost) and waits for its goroutines.
func (g *Gateway) Close() error {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return errs.ErrClosed
	}
	g.closed = true
	close(g.done)
	err := g.ln.Close()
	if g.pc != nil {
		g.pc.Close()
	}
	for c := range g.conns {
		c.Close()
	}
	g.mu.Unlock()
	g.wg.Wait()
	return errs.UnwrapNet(err)
}

func (g *Gateway) logf(format string, args ...any) {
	if g.cfg.Logf != nil {
		g.cfg.Logf(format, args...)
	}
}

// track registers c to be closed by Close; it reports false when the
// gateway is closing.
func (g *Gateway) track(c net.Conn) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.conns[c] = struct{}{}
	return true
}

func (g *Gateway) untrack(c net.Conn) {
	g.mu.Lock()
	delete(g.conns, c)
	g.mu.Unlock()
	c.Close()
}

func (g *Gateway) acceptLoop() {
	defer g.wg.Done()
	slots := make(chan struct{}, MaxSessions)
	for {
		select {
		case slots <- struct{}{}:
		case <-g.done:
			return
		}
		nc, err := g.ln.Accept()
		if err != nil {
			select {
			case <-g.done:
				return
			case <-time.After(10 * time.Millisecond): // EMFILE and the like
				<-slots
				continue
			}
		}
		if !g.track(nc) {
			nc.Close()
			return
		}
		g.wg.Add(1)
		go func() {
			defer g.wg.Done()
			defer func() { <-slots }()
			defer g.untrack(nc)
			g.session(nc)
		}()
	}
}

// session serves one client connection.
func (g *Gateway) session(nc net.Conn) {
	tc := tls.Server(nc, g.tls)
	defer tc.Close()
	nc.SetDeadline(time.Now().Add(handshakeTimeout))
	if err := tc.Handshake(); err != nil {
		g.logf("gateway: %s: TLS refused: %v", nc.RemoteAddr(), err)
		return
	}
	st := tc.ConnectionState()
	if len(st.PeerCertificates) == 0 {
		return // RequireAndVerifyClientCert makes this impossible
	}
	subject := link.Subject(st.PeerCertificates[0])
	q, err := link.ReadRequest(tc)
	if err != nil {
		if errors.Is(err, link.ErrVersion) {
			tc.Write(link.Response{Status: link.StatusVersion, Msg: err.Error()}.Marshal())
		}
		g.logf("gateway: %s (%s): bad request: %v", nc.RemoteAddr(), subject, err)
		return
	}
	nc.SetDeadline(time.Time{})
	g.servePipe(tc, q, wire.Remote{Subject: subject, Addr: nc.RemoteAddr().String()})
}

// lockInfo reads the lines of a live object's lock file; ok is false when
// there is none.
func lockInfo(kind, key string) (lines []string, ok bool) {
	path, err := ns.Path(kind, key)
	if err != nil {
		return nil, false
	}
	f, err := os.Open(ns.LockPath(path))
	if err != nil {
		return nil, false
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, 64<<10))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines, true
}

func hasLine(lines []string, want string) bool {
	for _, l := range lines[min(1, len(lines)):] { // the first line is the name
		if l == want {
			return true
		}
	}
	return false
}

func (g *Gateway) servePipe(tc *tls.Conn, q link.Request, remote wire.Remote) {
	respond := func(status uint8, msg string) {
		tc.SetWriteDeadline(time.Now().Add(handshakeTimeout))
		tc.Write(link.Response{Status: status, Msg: msg}.Marshal())
	}
	p, err := names.ParsePipe(q.Name)
	if err != nil || !p.Local() || p.Key() != q.Name {
		respond(link.StatusNotFound, "bad pipe name")
		return
	}
	lines, ok := lockInfo("pipe", q.Name)
	if !ok {
		respond(link.StatusNotFound, "no such pipe")
		return
	}
	if !hasLine(lines, "remote") {
		g.logf("gateway: %s (%s): pipe %s refuses remote clients", remote.Addr, remote.Subject, p)
		respond(link.StatusDenied, "the pipe does not accept remote clients")
		return
	}
	path, err := ns.Path("pipe", q.Name)
	if err != nil {
		respond(link.StatusError, err.Error())
		return
	}
	uc, err := net.DialUnix("unix", nil, &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		respond(link.StatusNotFound, "no such pipe")
		return
	}
	defer uc.Close()

	// The client's stream: held back until the server admits us. If the
	// client goes away while we wait for an instance, the wait ends.
	gate := &gateWriter{w: uc, open: make(chan struct{}), shut: make(chan struct{})}
	recvDone := make(chan error, 1)
	go func() {
		err := link.RecvStream(gate, tc)
		close(gate.shut)
		uc.Close() // the client ended (or was lost): so does the server's instance
		recvDone <- err
	}()

	h := wire.Hello{Flags: q.Flags | wire.HelloRemote}
	hb := h.Marshal()
	msg := append(hb[:], remote.Marshal()...)
	if q.Flags&wire.HelloWait == 0 {
		uc.SetDeadline(time.Now().Add(handshakeTimeout))
	}
	var rb [wire.ReplySize]byte
	_, err = uc.Write(msg)
	if err == nil {
		_, err = io.ReadFull(uc, rb[:])
	}
	var r wire.Reply
	if err == nil {
		r, err = wire.ParseReply(rb[:])
	}
	switch {
	case err != nil:
		respond(link.StatusNotFound, "the pipe's server went away")
	case r.Status == wire.StatusBusy:
		respond(link.StatusBusy, "all pipe instances are busy")
	case r.Status == wire.StatusDenied:
		respond(link.StatusDenied, "the pipe refused this client or access mode")
	}
	if err != nil || r.Status != wire.StatusOK {
		tc.Close()
		<-recvDone
		return
	}
	uc.SetDeadline(time.Time{})
	tc.SetWriteDeadline(time.Time{})
	if _, err := tc.Write(link.Response{Status: link.StatusOK, Flags: r.Flags}.Marshal()); err != nil {
		tc.Close()
		<-recvDone
		return
	}
	close(gate.open)
	link.SendStream(tc, uc) //nolint:errcheck // either side ending ends the session
	// The server closed: the client has the end chunk and closes its side.
	t := time.NewTimer(linger)
	defer t.Stop()
	select {
	case <-recvDone:
	case <-t.C:
		tc.Close()
		<-recvDone
	case <-g.done:
		tc.Close()
		<-recvDone
	}
}

// gateWriter holds writes back until open is closed; after shut, or once
// the destination failed, it discards them.
type gateWriter struct {
	w    io.Writer
	open chan struct{}
	shut chan struct{}
	dead bool
}

func (g *gateWriter) Write(p []byte) (int, error) {
	select {
	case <-g.open:
	case <-g.shut:
		return len(p), nil
	}
	if g.dead {
		return len(p), nil
	}
	if _, err := g.w.Write(p); err != nil {
		// The server is gone: keep reading the client until it ends, so
		// that it sees our end chunk rather than a reset.
		g.dead = true
	}
	return len(p), nil
}

// datagramLoop delivers mailslot datagrams.
func (g *Gateway) datagramLoop() {
	defer g.wg.Done()
	buf := make([]byte, link.MaxPacket+1)
	seen := newReplayCache(replayCacheSize)
	for {
		n, from, err := g.pc.ReadFrom(buf)
		if err != nil {
			select {
			case <-g.done:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		d, err := g.cfg.Creds.Open(buf[:n], time.Now())
		if err != nil {
			g.logf("gateway: datagram from %s dropped: %v", from, err)
			continue
		}
		if !seen.add(buf[:n]) {
			g.logf("gateway: datagram from %s (%s) dropped: a replay", from, d.Subject)
			continue
		}
		if err := deliver(d); err != nil {
			g.logf("gateway: datagram from %s (%s) for %s dropped: %v", from, d.Subject, d.Name, err)
		}
	}
}

// deliver writes a datagram to its local mailslot, if the slot accepts
// remote writers; it never waits for the slot's reader.
func deliver(d link.Datagram) error {
	m, err := names.ParseMailslot(d.Name)
	if err != nil || !m.Local() {
		return errs.New(errs.ErrInvalidName, fmt.Errorf("%q", d.Name))
	}
	lines, ok := lockInfo("mailslot", m.Key())
	if !ok {
		return errs.ErrNotFound
	}
	if !hasLine(lines, "remote") {
		return errs.New(errs.ErrAccessDenied, errors.New("the mailslot does not accept remote writers"))
	}
	w, err := mailslot.Open(`\\.\mailslot\`+m.Name, mailslot.Owner{AnyUser: true})
	if err != nil {
		return err
	}
	defer w.Close()
	w.SetWriteDeadline(time.Now().Add(fullSlotWait)) // a slot that stays full drops the datagram
	_, err = w.Write(d.Data)
	return err
}

// ListRemote returns the full names of this machine's pipes and mailslots
// that accept remote clients, for `xipc gateway serve` to report.
func ListRemote() []string {
	var out []string
	for _, kind := range []string{"pipe", "mailslot"} {
		dir, err := names.Dir(kind)
		if err != nil {
			continue
		}
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			if !strings.HasSuffix(e.Name(), ns.LockSuffix) {
				continue
			}
			b, err := os.ReadFile(dir + "/" + e.Name())
			if err != nil {
				continue
			}
			lines := strings.Split(strings.TrimSpace(string(b)), "\n")
			if hasLine(lines, "remote") && len(lines) > 0 {
				out = append(out, lines[0])
			}
		}
	}
	return out
}

// fullSlotWait is how long a datagram waits for room in a full mailslot
// before it is dropped (datagrams may be lost; the gateway must not stall).
const fullSlotWait = 200 * time.Millisecond

// replayCacheSize bounds the datagrams remembered against replays.
const replayCacheSize = 8192

// replayCache remembers the last replayCacheSize datagrams, by hash, so
// that a datagram captured and sent again within link.MaxSkew (older ones
// fail their time check) is dropped. Past that many datagrams in the
// window the oldest are forgotten and a replay can get through, which
// datagram semantics tolerate (UDP may deliver a message twice too).
type replayCache struct {
	seen map[[32]byte]struct{}
	ring [][32]byte
	next int
	full bool
}

func newReplayCache(n int) *replayCache {
	return &replayCache{seen: make(map[[32]byte]struct{}, n), ring: make([][32]byte, n)}
}

// add reports whether b is new, and remembers it.
func (c *replayCache) add(b []byte) bool {
	k := sha256.Sum256(b)
	if _, ok := c.seen[k]; ok {
		return false
	}
	if c.full {
		delete(c.seen, c.ring[c.next])
	}
	c.ring[c.next] = k
	c.seen[k] = struct{}{}
	if c.next = (c.next + 1) % len(c.ring); c.next == 0 {
		c.full = true
	}
	return true
}
