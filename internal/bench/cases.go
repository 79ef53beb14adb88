package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/xipc/xipc/mailslot"
	"github.com/xipc/xipc/shm/ring"
)

// A benchCase is one line of the results: a mechanism, what is measured,
// at which size, with how many clients, over which transports (xipc's
// first, then its baselines, the first of which the ratio is against).
type benchCase struct {
	name       string
	mechanism  string
	kind       caseKind
	size       int
	clients    int
	transports []transport
	// op is what a round trip asks the peer: opEcho (the default) or
	// opReply.
	op byte
}

func (c *benchCase) measurements(repeat int) int { return repeat * len(c.transports) }

// A transport is a way to run a case: it sets up a session.
type transport struct {
	name string
	open func(ctx context.Context, r *runner, c *benchCase) (session, error)
}

var (
	tPipe     = transport{"pipe", openPipe}
	tUnix     = transport{"unix", openStream("unix")}
	tTCP      = transport{"tcp", openStream("tcp")}
	tMailslot = transport{"mailslot", openDgram("mailslot")}
	tUnixgram = transport{"unixgram", openDgram("unixgram")}
	tRing     = transport{"ring", openRing}
	tMemcpy   = transport{"memcpy", openMemcpy}
)

// cases lists what the configuration selects, mechanism by mechanism.
func (r *runner) cases() []*benchCase {
	var cs []*benchCase
	add := func(mech string, kind caseKind, size, clients int, ts ...transport) {
		name := fmt.Sprintf("%s-%s-%s", mech, kind, SizeName(size))
		if clients > 1 {
			name += "-c" + strconv.Itoa(clients)
		}
		cs = append(cs, &benchCase{name: name, mechanism: mech, kind: kind, size: size, clients: clients, transports: ts})
	}
	for _, m := range r.cfg.Mechanisms {
		switch m {
		case "pipe":
			for _, s := range r.cfg.Sizes {
				add(m, kindRTT, s, 1, tPipe, tUnix, tTCP)
			}
			for _, s := range r.cfg.Sizes {
				add(m, kindTput, s, 1, tPipe, tUnix, tTCP)
			}
			for _, n := range r.cfg.Clients {
				if n > 1 {
					add(m, kindRTT, r.cfg.Sizes[0], n, tPipe, tUnix, tTCP)
				}
			}
		case "shm":
			for _, s := range r.cfg.Sizes {
				add(m, kindRTT, s, 1, tRing, tUnix)
			}
			for _, s := range r.cfg.Sizes {
				add(m, kindTput, s, 1, tRing, tMemcpy, tUnix)
			}
		case "mailslot":
			for _, kind := range []caseKind{kindRTT, kindTput} {
				for _, s := range r.cfg.Sizes {
					if s <= mailslot.MaxMessage {
						add(m, kind, s, 1, tMailslot, tUnixgram)
					}
				}
			}
		case "msg":
			cs = append(cs, r.msgCases()...)
		}
	}
	return cs
}

// SizeName is a message size as case names show it: 64, 1k, 64k, 4m
// (k = 1024 bytes), or the plain number of bytes when it is not a whole
// number of those units.
func SizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.Itoa(n>>20) + "m"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.Itoa(n>>10) + "k"
	}
	return strconv.Itoa(n)
}

// ParseSize parses a message size: a number of bytes with an optional
// unit k, kb, kib, m, mb or mib (any case), all powers of 1024.
func ParseSize(s string) (int, error) {
	num, mult := s, 1
	for _, u := range []struct {
		suffix string
		mult   int
	}{{"kib", 1 << 10}, {"kb", 1 << 10}, {"k", 1 << 10}, {"mib", 1 << 20}, {"mb", 1 << 20}, {"m", 1 << 20}} {
		if len(s) > len(u.suffix) && equalFold(s[len(s)-len(u.suffix):], u.suffix) {
			num, mult = s[:len(s)-len(u.suffix)], u.mult
			break
		}
	}
	n, err := strconv.Atoi(num)
	if err != nil || n < 1 || n > MaxSize/mult {
		return 0, fmt.Errorf("bad size %q: want 1 to %d bytes, e.g. 64, 64k, 4m", s, MaxSize)
	}
	return n * mult, nil
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		c := a[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != b[i] {
			return false
		}
	}
	return true
}

// peerArgs are the arguments that start a peer for case c.
func (r *runner) startPeer(ctx context.Context, c *benchCase, kind string, addrs ...string) (*peerProc, string, error) {
	args := append([]string{PeerCommand, kind, strconv.Itoa(max(c.size, 8))}, addrs...)
	return startPeer(ctx, r.cfg.Exe, args...)
}

// dialAll makes c.clients connections with dial, closing them all if one
// fails.
func dialAll(c *benchCase, dial func() (msgConn, error)) ([]msgConn, error) {
	var conns []msgConn
	for range c.clients {
		mc, err := dial()
		if err != nil {
			for _, x := range conns {
				_ = x.close() // undoing; the dial error is what matters
			}
			return nil, err
		}
		conns = append(conns, mc)
	}
	return conns, nil
}

// newPeerSession makes the session of a peer and the conns dial makes,
// killing the peer if dialing fails.
func newPeerSession(c *benchCase, p *peerProc, dial func() (msgConn, error)) (session, error) {
	conns, err := dialAll(c, dial)
	if err != nil {
		p.kill()
		return nil, err
	}
	return newMsgSession(c, conns, p), nil
}

func openPipe(ctx context.Context, r *runner, c *benchCase) (session, error) {
	name := r.name("pipe")
	p, _, err := r.startPeer(ctx, c, "pipe", name)
	if err != nil {
		return nil, err
	}
	return newPeerSession(c, p, func() (msgConn, error) { return dialPipe(ctx, name) })
}

func openStream(network string) func(context.Context, *runner, *benchCase) (session, error) {
	return func(ctx context.Context, r *runner, c *benchCase) (session, error) {
		addr := "127.0.0.1:0"
		if network == "unix" {
			addr = r.path("sock")
		}
		p, addr, err := r.startPeer(ctx, c, network, addr)
		if err != nil {
			return nil, err
		}
		var d net.Dialer
		return newPeerSession(c, p, func() (msgConn, error) {
			conn, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			return newStreamConn(conn, c.size), nil
		})
	}
}

// openDgram sets up a pair of datagram endpoints: ours, which the peer
// writes its answers to, and the peer's, which we write to.
func openDgram(kind string) func(context.Context, *runner, *benchCase) (session, error) {
	return func(ctx context.Context, r *runner, c *benchCase) (session, error) {
		create, open := createMailslot, openMailslot
		ours, theirs := r.name("slot"), r.name("slot")
		if kind == "unixgram" {
			create, open = listenUnixgram, dialUnixgram
			ours, theirs = r.path("in"), r.path("out")
		}
		in, err := create(ours)
		if err != nil {
			return nil, err
		}
		p, _, err := r.startPeer(ctx, c, kind, theirs, ours)
		if err != nil {
			in.Close()
			return nil, err
		}
		out, err := open(theirs)
		if err != nil {
			in.Close()
			p.kill()
			return nil, err
		}
		return newMsgSession(c, []msgConn{dgramConn{in: in, out: out}}, p), nil
	}
}

func openRing(ctx context.Context, r *runner, c *benchCase) (session, error) {
	to, from := r.name("ring"), r.name("ring")
	size := ringSize(c.size)
	out, err := ring.Create(to, ring.Producer, size, nil)
	if err != nil {
		return nil, err
	}
	in, err := ring.Create(from, ring.Consumer, size, nil)
	if err != nil {
		out.Close()
		return nil, err
	}
	p, _, err := r.startPeer(ctx, c, "ring", to, from)
	if err != nil {
		return nil, errors.Join(err, out.Close(), in.Close())
	}
	return newMsgSession(c, []msgConn{ringConn{ctx: ctx, out: out, in: in}}, p), nil
}

func openMemcpy(_ context.Context, _ *runner, c *benchCase) (session, error) {
	m := &memcpySession{src: make([]byte, c.size), dst: make([]byte, c.size)}
	copy(m.dst, m.src) // fault the pages in
	return m, nil
}
