package conformance

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"time"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/pipe"
)

// The peer's named-pipe commands. A listener or a connection the peer
// opens gets an ID; "close" (common to all suites) closes either.

var pipeOps = map[string]agentOp{
	"listen": func(a *agent, req request, r *reply) error {
		l, err := pipe.Listen(serverSide(req.Name, req.Listen))
		if err == nil {
			r.ID = a.add(l)
		}
		return err
	},
	"accept": func(a *agent, req request, r *reply) error {
		l, err := object[*pipe.Listener](a, req.ID)
		if err != nil {
			return err
		}
		c, err := l.AcceptPipe()
		if err == nil {
			r.ID, r.Peer = a.add(c), c.PeerPID()
		}
		return err
	},
	"dial": func(a *agent, req request, r *reply) error {
		ctx, cancel := context.Background(), context.CancelFunc(func() {})
		if req.Timeout > 0 {
			ctx, cancel = context.WithTimeout(ctx, req.Timeout)
		}
		defer cancel()
		c, err := pipe.Dial(ctx, req.Name, req.Dial)
		if err == nil {
			r.ID, r.Peer = a.add(c), c.PeerPID()
		}
		return err
	},
	"serve": on(func(l *pipe.Listener, _ request, _ *reply) error {
		go serveEcho(l)
		return nil
	}),
	"write": on(func(c *pipe.Conn, req request, r *reply) error {
		n, err := c.WriteMsg(req.Data)
		r.N = n
		return err
	}),
	"writeGen": on(func(c *pipe.Conn, req request, r *reply) error {
		// Count generated messages (or writes, on a byte pipe).
		sum := newMsgSum()
		for i := range req.Count {
			m := payload(req.Seed, i, genSize(req.Size, i, req.Vary))
			sum.add(m)
			n, err := c.WriteMsg(m)
			r.N += n
			if err != nil {
				return err
			}
			r.Count++
		}
		r.Sum = sum.String()
		return nil
	}),
	"readMsg": on(func(c *pipe.Conn, req request, r *reply) error {
		buf := make([]byte, req.Size)
		n, err := c.ReadMsg(buf)
		r.N, r.Data = n, buf[:n]
		return err
	}),
	"read": on(func(c *pipe.Conn, req request, r *reply) error {
		buf := make([]byte, req.Size)
		n, err := c.Read(buf)
		r.N, r.Data = n, buf[:n]
		return err
	}),
	"readMsgs": on(func(c *pipe.Conn, req request, r *reply) error {
		// Whole messages until io.EOF or Count of them, pausing Delay
		// every 50 messages; the sum covers the boundaries.
		sum := newMsgSum()
		buf := make([]byte, 64<<10)
		defer func() { r.Sum = sum.String() }()
		for req.Count == 0 || r.Count < req.Count {
			m, err := readWhole(c, buf)
			if err == io.EOF && len(m) == 0 {
				return nil
			}
			if err != nil {
				return err
			}
			sum.add(m)
			r.Count++
			r.N += len(m)
			if r.Count%50 == 0 {
				time.Sleep(req.Delay)
			}
		}
		return nil
	}),
	"readAll": on(func(c *pipe.Conn, req request, r *reply) error {
		// A byte stream until io.EOF, Size bytes per Read, pausing Delay
		// every 50 reads.
		h := sha256.New()
		buf := make([]byte, max(req.Size, 1))
		defer func() { r.Sum = hex.EncodeToString(h.Sum(nil)) }()
		for reads := 0; ; {
			n, err := c.Read(buf)
			h.Write(buf[:n])
			r.N += n
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if reads++; reads%50 == 0 {
				time.Sleep(req.Delay)
			}
		}
	}),
	"closeWrite": on(func(c *pipe.Conn, _ request, _ *reply) error {
		return c.CloseWrite()
	}),
}

// readWhole reads one whole message, however long, with ReadMsg.
func readWhole(c *pipe.Conn, buf []byte) ([]byte, error) {
	var msg []byte
	for {
		n, err := c.ReadMsg(buf)
		msg = append(msg, buf[:n]...)
		if errors.Is(err, errs.ErrMoreData) {
			continue
		}
		if msg == nil {
			msg = []byte{}
		}
		return msg, err
	}
}

// echoPrefix starts every answer of a serving peer.
const echoPrefix = "echo:"

// serveEcho answers every message of every client with echoPrefix and the
// message, until the listener is closed.
func serveEcho(l *pipe.Listener) {
	for {
		c, err := l.AcceptPipe()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			buf := make([]byte, 64<<10)
			for {
				m, err := readWhole(c, buf)
				if err != nil {
					return
				}
				if _, err := c.WriteMsg(append([]byte(echoPrefix), m...)); err != nil {
					return
				}
			}
		}()
	}
}
