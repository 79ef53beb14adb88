// Package natsslot is a NATS backend for mailslots: a slot created on one
// machine is reached by writers on any machine of the same NATS system,
// and a broadcast (`\\*\mailslot\NAME`) reaches the slot NAME of every
// machine, by subject fan-out. It lives in the module
// github.com/xipc/xipc/nats so that xipc itself does not depend on NATS.
//
// Names are those of package mailslot: `\\.\mailslot\NAME` or a bare NAME
// (this machine, Options.Host), `\\HOST\mailslot\NAME` (the slot of the
// machine HOST), `\\*\mailslot\NAME` (every machine's). The subjects are
//
//	xipc.mailslot.<hex(name)>.h.<hex(host)>   a slot's messages
//	xipc.mailslot.<hex(name)>.all             broadcasts
//	xipc.mailslot.<hex(name)>.owner.<hex(host)>   the slot's owner, for Open
//
// hex of the case-folded name and host, so any character is safe.
//
// Semantics, next to a local mailslot: a message is delivered whole or not
// at all, in each writer's order; Write does not wait for the reader. As
// on a network mailslot, a message may be lost: NATS delivers at most
// once, and a reader whose queue (QueueLimit messages) is full drops what
// comes (NATS's slow-consumer rule) instead of making writers wait.
// Open of a slot on a given host asks its owner, so a missing slot gives
// mailslot's ErrNotFound and a message over the slot's MaxMessageSize
// fails at the writer with ErrMessageTooLarge; broadcasts are not checked
// and hold at most 424 bytes, as on Windows.
package natsslot

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/xipc/xipc"
	"github.com/xipc/xipc/mailslot"
)

// MaxBroadcast is the largest broadcast message: 424 bytes, as on Windows.
const MaxBroadcast = 424

// QueueLimit bounds the messages a slot holds for its reader; more are
// dropped until it reads.
const QueueLimit = 4096

// ownerTimeout bounds Open's and Create's question to a slot's owner.
const ownerTimeout = 2 * time.Second

// Options are the options of Create and Open.
type Options struct {
	// Host is this machine's name in the NATS system; "" means the
	// hostname (os.Hostname), case-folded.
	Host string
	// MaxMessageSize and ReadTimeout are those of mailslot.Config (for
	// Create).
	MaxMessageSize int
	ReadTimeout    time.Duration
}

func (o *Options) host() (string, error) {
	if o != nil && o.Host != "" {
		return strings.ToLower(o.Host), nil
	}
	h, err := os.Hostname()
	if err != nil {
		return "", err
	}
	return strings.ToLower(h), nil
}

type parsed struct {
	host string // "" for a broadcast
	key  string
	full string
}

// parse splits a mailslot name (package mailslot's forms) for NATS.
func parse(name string, o *Options) (parsed, error) {
	host, rest := "", name
	if strings.HasPrefix(name, `\\`) {
		h, tail, ok := strings.Cut(name[2:], `\`)
		k, n, ok2 := strings.Cut(tail, `\`)
		if !ok || !ok2 || h == "" || !strings.EqualFold(k, "mailslot") || n == "" {
			return parsed{}, opErr("open", name, fmt.Errorf("%w: want \\\\HOST\\mailslot\\NAME", xipc.ErrInvalidName))
		}
		host, rest = strings.ToLower(h), n
	} else {
		host = "."
	}
	if rest == "" || strings.ContainsRune(rest, 0) || strings.HasPrefix(rest, `\`) || strings.HasSuffix(rest, `\`) || strings.Contains(rest, `\\`) {
		return parsed{}, opErr("open", name, fmt.Errorf("%w: bad mailslot name", xipc.ErrInvalidName))
	}
	if len(rest) > 259 {
		return parsed{}, opErr("open", name, fmt.Errorf("%w: more than 259 characters", xipc.ErrInvalidName))
	}
	if host == "." {
		h, err := o.host()
		if err != nil {
			return parsed{}, err
		}
		host = h
	}
	if host == "*" {
		host = ""
	}
	return parsed{host: host, key: strings.ToLower(rest), full: name}, nil
}

func (p parsed) base() string  { return "xipc.mailslot." + hex.EncodeToString([]byte(p.key)) }
func (p parsed) slot() string  { return p.base() + ".h." + hex.EncodeToString([]byte(p.host)) }
func (p parsed) all() string   { return p.base() + ".all" }
func (p parsed) owner() string { return p.base() + ".owner." + hex.EncodeToString([]byte(p.host)) }

func opErr(op, name string, err error) error {
	if err == nil {
		return nil
	}
	var oe *xipc.OpError
	if errors.As(err, &oe) {
		return err
	}
	return &xipc.OpError{Op: op, Kind: "mailslot", Name: name, Err: err}
}

// natsErr maps a NATS client error onto xipc's sentinels.
func natsErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, nats.ErrConnectionClosed), errors.Is(err, nats.ErrBadSubscription):
		return errors.Join(xipc.ErrClosed, err)
	case errors.Is(err, nats.ErrNoResponders):
		return errors.Join(xipc.ErrNotFound, err)
	case errors.Is(err, nats.ErrMaxPayload):
		return errors.Join(xipc.ErrMessageTooLarge, err)
	case errors.Is(err, nats.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return errors.Join(xipc.ErrTimeout, err)
	}
	return errors.Join(xipc.ErrNetwork, err)
}

// Slot is the reading end of a NATS mailslot. Its methods are safe for
// concurrent use.
type Slot struct {
	name  parsed
	max   int
	ch    chan *nats.Msg
	subs  []*nats.Subscription
	owner *nats.Subscription

	rmu  sync.Mutex // one reader at a time; guards head
	head []byte     // a message taken from ch that did not fit

	mu      sync.Mutex
	timeout time.Duration
	closed  bool
	done    chan struct{}
}

// Create creates the slot name on this machine (Options.Host) in the NATS
// system nc is connected to. A slot of that name and host that already
// answers gives ErrExists.
func Create(nc *nats.Conn, name string, o *Options) (*Slot, error) {
	p, err := parse(name, o)
	if err != nil {
		return nil, err
	}
	if p.host == "" {
		return nil, opErr("create", name, fmt.Errorf("%w: a slot is created on one machine, not *", xipc.ErrInvalidParameter))
	}
	var c Options
	if o != nil {
		c = *o
	}
	if c.MaxMessageSize == 0 {
		c.MaxMessageSize = mailslot.MaxMessage
	}
	if c.MaxMessageSize < 0 || c.MaxMessageSize > mailslot.MaxMessage {
		return nil, opErr("create", name, fmt.Errorf("%w: MaxMessageSize %d is outside 0..%d", xipc.ErrInvalidParameter, c.MaxMessageSize, mailslot.MaxMessage))
	}
	if c.ReadTimeout < 0 && c.ReadTimeout != mailslot.WaitForever {
		return nil, opErr("create", name, fmt.Errorf("%w: read timeout %v", xipc.ErrInvalidParameter, c.ReadTimeout))
	}
	if _, err := nc.Request(p.owner(), nil, ownerTimeout); err == nil {
		return nil, opErr("create", name, fmt.Errorf("%w: a slot of that name runs on %s", xipc.ErrExists, p.host))
	} else if !errors.Is(err, nats.ErrNoResponders) && !errors.Is(err, nats.ErrTimeout) {
		return nil, opErr("create", name, natsErr(err))
	}
	s := &Slot{name: p, max: c.MaxMessageSize, ch: make(chan *nats.Msg, QueueLimit), timeout: c.ReadTimeout, done: make(chan struct{})}
	for _, subj := range []string{p.slot(), p.all()} {
		sub, err := nc.ChanSubscribe(subj, s.ch)
		if err != nil {
			s.unsubscribe()
			return nil, opErr("create", name, natsErr(err))
		}
		s.subs = append(s.subs, sub)
	}
	maxReply := []byte(strconv.Itoa(c.MaxMessageSize))
	s.owner, err = nc.Subscribe(p.owner(), func(m *nats.Msg) { m.Respond(maxReply) })
	if err == nil {
		err = nc.Flush() // the subscriptions are in place when Create returns
	}
	if err != nil {
		s.unsubscribe()
		return nil, opErr("create", name, natsErr(err))
	}
	return s, nil
}

func (s *Slot) unsubscribe() {
	for _, sub := range append(s.subs, s.owner) {
		if sub != nil {
			sub.Unsubscribe()
		}
	}
}

// Name returns the slot's name as given to Create.
func (s *Slot) Name() string { return s.name.full }

// Read reads the next message into p, waiting up to the read timeout (0
// polls, mailslot.WaitForever waits without limit). A p shorter than the
// message gives ErrInsufficientBuffer and the message stays queued; no
// message in time gives ErrTimeout.
func (s *Slot) Read(p []byte) (int, error) {
	s.mu.Lock()
	d := s.timeout
	s.mu.Unlock()
	ctx := context.Background()
	if d >= 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	return s.ReadContext(ctx, p)
}

// ReadContext is Read that waits until ctx ends instead of the timeout.
func (s *Slot) ReadContext(ctx context.Context, p []byte) (int, error) {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	if s.head == nil {
		m, err := s.next(ctx)
		if err != nil {
			return 0, opErr("read", s.name.full, err)
		}
		s.head = m
	}
	if len(p) < len(s.head) {
		return 0, opErr("read", s.name.full, fmt.Errorf("%w: the next message has %d bytes, the buffer %d", xipc.ErrInsufficientBuffer, len(s.head), len(p)))
	}
	n := copy(p, s.head)
	s.head = nil
	return n, nil
}

// next takes the next message that fits the slot's limit.
func (s *Slot) next(ctx context.Context) ([]byte, error) {
	for {
		select {
		case m := <-s.ch:
			if len(m.Data) > s.max {
				continue // over the limit: a broadcast too big for this slot
			}
			return m.Data, nil
		default:
		}
		select {
		case m := <-s.ch:
			if len(m.Data) > s.max {
				continue
			}
			return m.Data, nil
		case <-s.done:
			return nil, xipc.ErrClosed
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, errors.Join(xipc.ErrTimeout, ctx.Err())
			}
			return nil, ctx.Err()
		}
	}
}

// ReadMsg reads the next message into a new slice of its exact size.
func (s *Slot) ReadMsg() ([]byte, error) {
	p := make([]byte, s.max)
	n, err := s.Read(p)
	if err != nil {
		return nil, err
	}
	return p[:n:n], nil
}

// Info returns the slot's limits and what waits in it: Count is exact,
// NextSize the size of the next message or mailslot.NoMessage.
func (s *Slot) Info() (mailslot.Info, error) {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	s.mu.Lock()
	info := mailslot.Info{MaxMessageSize: s.max, NextSize: mailslot.NoMessage, ReadTimeout: s.timeout}
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return mailslot.Info{}, opErr("info", s.name.full, xipc.ErrClosed)
	}
	if s.head == nil {
		if m, err := s.next(canceled); err == nil {
			s.head = m
		}
	}
	if s.head != nil {
		info.NextSize = len(s.head)
		info.Count = 1
	}
	info.Count += len(s.ch) // messages over the limit count until read past
	return info, nil
}

var canceled = func() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}()

// SetReadTimeout changes the read timeout for later reads.
func (s *Slot) SetReadTimeout(d time.Duration) error {
	if d < 0 && d != mailslot.WaitForever {
		return opErr("set read timeout", s.name.full, fmt.Errorf("%w: read timeout %v", xipc.ErrInvalidParameter, d))
	}
	s.mu.Lock()
	s.timeout = d
	s.mu.Unlock()
	return nil
}

// Close deletes the slot: it stops receiving, and a pending Read returns
// ErrClosed.
func (s *Slot) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return opErr("close", s.name.full, xipc.ErrClosed)
	}
	s.closed = true
	close(s.done)
	s.mu.Unlock()
	s.unsubscribe()
	return nil
}

// Writer is the writing end of a NATS mailslot.
type Writer struct {
	nc   *nats.Conn
	name parsed
	subj string
	max  int
}

// Open opens the mailslot name for writing. For a slot on one host
// (`\\HOST\mailslot\NAME`, or this machine's), it asks the slot's owner:
// no slot gives ErrNotFound. `\\*\mailslot\NAME` always opens.
func Open(nc *nats.Conn, name string, o *Options) (*Writer, error) {
	p, err := parse(name, o)
	if err != nil {
		return nil, err
	}
	w := &Writer{nc: nc, name: p}
	if p.host == "" {
		w.subj, w.max = p.all(), MaxBroadcast
		return w, nil
	}
	m, err := nc.Request(p.owner(), nil, ownerTimeout)
	if err != nil {
		return nil, opErr("open", name, natsErr(err))
	}
	max, err := strconv.Atoi(string(m.Data))
	if err != nil || max <= 0 || max > mailslot.MaxMessage {
		return nil, opErr("open", name, fmt.Errorf("%w: the slot's owner answered %q", xipc.ErrProtocol, m.Data))
	}
	w.subj, w.max = p.slot(), max
	return w, nil
}

// Write sends p as one message; it does not wait for the reader. A message
// over the slot's limit (424 bytes for a broadcast) fails with
// ErrMessageTooLarge and nothing is sent.
func (w *Writer) Write(p []byte) (int, error) {
	if len(p) > w.max {
		return 0, opErr("write", w.name.full, fmt.Errorf("%w: %d bytes, the slot takes at most %d", xipc.ErrMessageTooLarge, len(p), w.max))
	}
	if err := w.nc.Publish(w.subj, p); err != nil {
		return 0, opErr("write", w.name.full, natsErr(err))
	}
	return len(p), nil
}

// Flush waits until the server has every message written so far.
func (w *Writer) Flush() error { return opErr("flush", w.name.full, natsErr(w.nc.Flush())) }

// Close closes the writer; the NATS connection stays open.
func (w *Writer) Close() error { return nil }
