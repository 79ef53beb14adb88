// Package natsmsgq is a NATS backend for xipc's window message queues
// (package msgq): a queue registered on one machine is found and reached
// from any machine of the same NATS system. It lives in the module
// github.com/xipc/xipc/nats so that xipc itself does not depend on NATS.
//
// Install(nc) makes package msgq itself go through NATS (msgq.Register,
// msgq.Find and everything after them); msgq's behaviour suite passes that
// way (TestConformance). The package's own API mirrors msgq's (Register,
// Find, Get, Peek, Serve, Post, Send, SendData, SendNotify) with a NATS
// connection as first argument, for programs that use both backends; the
// errors match the same sentinels.
//
// How each call maps onto NATS:
//
//   - Post publishes to JetStream (stream XIPC_MSGQ, subject
//     xipc.msgq.<hex(name)>.post) and returns once the stream has stored
//     it: an acknowledged Post survives the loss of a cluster node (with
//     Replicas 3). The quota of 10,000 posted messages is the stream's
//     MaxMsgsPerSubject with DiscardNewPerSubject: the server refuses the
//     10,001st (ErrQuota) atomically, whatever the number of senders and
//     machines — flow control on the sender's side could not see other
//     senders. A message leaves the stream (a work queue) when Get takes
//     it, so the quota counts exactly the messages not taken yet; those a
//     filtered Get passes over are held by the receiver (up to another
//     Quota) and no longer count.
//   - Send, SendData and SendNotify are NATS requests to
//     xipc.msgq.<hex(name)>.send with the context's deadline: no receiver
//     gives NATS's no-responders, reported as ErrNotFound; a context that
//     ends gives ErrTimeout. A sent message carries its deadline, and a
//     receiver does not deliver one whose deadline has passed, and a
//     sender whose context ends withdraws its message, so a Send that
//     ended before the receiver took it is not delivered later.
//   - Each Get starts with a round trip to the server, so that what
//     senders had sent before it (a sent message, a withdrawal) has
//     arrived: sent messages come before posted ones, as locally. Across
//     a cluster this holds up to the routes' latency.
//   - SendData payloads go in one NATS message: up to the server's max
//     payload (1 MiB by default) less a small header; past it SendData
//     fails with ErrMessageTooLarge and says the limit.
//   - Find, and every Post, ask the queue's owner (a responder on
//     xipc.msgq.<hex(name)>.find), so a queue that is gone gives
//     ErrNotFound, and Register of a live name gives ErrExists.
package natsmsgq

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/nats-io/nats.go"

	"github.com/xipc/xipc"
	"github.com/xipc/xipc/msgq"
)

// Stream is the JetStream stream that holds posted messages.
const Stream = "XIPC_MSGQ"

// findTimeout bounds the question to a queue's owner.
const findTimeout = 2 * time.Second

// Headers of a message.
const (
	hMsg      = "Xipc-Msg"
	hW        = "Xipc-W"
	hL        = "Xipc-L"
	hDeadline = "Xipc-Deadline" // unix ns; sent messages only
	hNotify   = "Xipc-Notify"
	hData     = "Xipc-Data" // "1": WM_COPYDATA with the body as payload
	hPid      = "Xipc-Pid"  // the sending process (on its machine)
	hID       = "Xipc-Id"   // a sent message's identity, for withdrawal
)

// aliveEvery is how often a waiting Send checks its receiver.
const aliveEvery = 500 * time.Millisecond

var errGone = errors.Join(xipc.ErrNotFound, errors.New("the receiver has gone"))

// headerRoom is what SendData keeps of the max payload for the headers.
const headerRoom = 512

// EnsureStream creates the stream of posted messages if it is missing,
// with replicas copies (1 on a single server, 3 in a 3-node cluster).
func EnsureStream(nc *nats.Conn, replicas int) error {
	js, err := nc.JetStream()
	if err != nil {
		return natsErr(err)
	}
	cfg := &nats.StreamConfig{
		Name:                 Stream,
		Subjects:             []string{"xipc.msgq.*.post"},
		Retention:            nats.WorkQueuePolicy,
		MaxMsgsPerSubject:    msgq.Quota,
		Discard:              nats.DiscardNew,
		DiscardNewPerSubject: true,
		Storage:              nats.FileStorage,
		Replicas:             replicas,
	}
	if _, err := js.StreamInfo(Stream); err == nil {
		return nil
	}
	if _, err := js.AddStream(cfg); err != nil && !errors.Is(err, nats.ErrStreamNameAlreadyInUse) {
		return natsErr(err)
	}
	return nil
}

func token(name string) string { return hex.EncodeToString([]byte(strings.ToLower(name))) }

func checkName(name string) error {
	switch {
	case name == "", !utf8.ValidString(name), strings.ContainsRune(name, 0),
		utf8.RuneCountInString(name) > msgq.MaxName:
		return fmt.Errorf("%w: %q", xipc.ErrInvalidName, name)
	}
	return nil
}

func opErr(op, name string, err error) error {
	if err == nil {
		return nil
	}
	var oe *xipc.OpError
	if errors.As(err, &oe) {
		return err
	}
	return &xipc.OpError{Op: op, Kind: "msgq", Name: name, Err: err}
}

// natsErr maps NATS errors onto xipc's sentinels.
func natsErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, xipc.ErrNotFound):
		return err
	case errors.Is(err, nats.ErrNoResponders):
		return errors.Join(xipc.ErrNotFound, err)
	case errors.Is(err, nats.ErrConnectionClosed), errors.Is(err, nats.ErrBadSubscription):
		return errors.Join(xipc.ErrClosed, err)
	case errors.Is(err, nats.ErrMaxPayload):
		return errors.Join(xipc.ErrMessageTooLarge, err)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		return errors.Join(xipc.ErrTimeout, context.DeadlineExceeded, err)
	case errors.Is(err, context.Canceled):
		return err
	case strings.Contains(err.Error(), "maximum messages per subject exceeded"):
		return errors.Join(xipc.ErrQuota, err)
	}
	return errors.Join(xipc.ErrNetwork, err)
}

// Message is one message taken from a queue; see msgq.Message.
type Message struct {
	Msg    uint32
	WParam uintptr
	LParam uintptr
	Data   []byte
	Sent   bool

	pid  int       // the sender's process ID, on its machine
	m    *nats.Msg // a sent message's request, for Reply
	once sync.Once
}

// Reply answers a sent message: the sender's Send returns result. Reply of
// a posted message, or a second Reply, does nothing.
func (m *Message) Reply(result uintptr) error {
	var err error
	m.once.Do(func() {
		if m.Sent && m.m != nil && m.m.Reply != "" {
			err = natsErr(m.m.Respond([]byte(strconv.FormatUint(uint64(result), 10))))
		}
	})
	return err
}

func decode(m *nats.Msg, sent bool) (*Message, bool) {
	u := func(k string) uint64 { v, _ := strconv.ParseUint(m.Header.Get(k), 10, 64); return v }
	msg := &Message{Msg: uint32(u(hMsg)), WParam: uintptr(u(hW)), LParam: uintptr(u(hL)), Sent: sent, pid: int(u(hPid))}
	if m.Header.Get(hData) == "1" {
		msg.Data = m.Data
		if msg.Data == nil {
			msg.Data = []byte{}
		}
	}
	if sent {
		msg.m = m
		if m.Header.Get(hNotify) == "1" {
			msg.m = nil
		}
		if d := u(hDeadline); d != 0 && time.Now().UnixNano() > int64(d) {
			return nil, false // its sender has given up: never delivered
		}
	}
	return msg, true
}

// Queue is a registered receiver. Its methods are safe for concurrent use.
type Queue struct {
	name   string
	nc     *nats.Conn
	js     nats.JetStreamContext
	sent   chan *nats.Msg
	subs   []*nats.Subscription
	posted *nats.Subscription // pull consumer of the queue's posted messages
	done   chan struct{}

	postedCh chan *nats.Msg // the fetcher's next posted message
	fetched  chan struct{}  // closed when the fetcher has stopped

	withdrawCh chan *nats.Msg // ids of sends whose senders gave up
	withdrawn  map[string]struct{}
	wring      []string // withdrawn ids, oldest first, to bound the map

	mu     sync.Mutex // one Get at a time; guards held
	held   []*Message // posted messages taken but passed over by a filter
	closed bool
}

// sentLimit bounds the sent messages waiting for Get; more are dropped
// (their senders time out), as NATS does for slow consumers.
const sentLimit = 4096

// Register creates the queue name in the NATS system. A live queue of that
// name gives ErrExists. The stream of posted messages must exist
// (EnsureStream).
func Register(nc *nats.Conn, name string) (*Queue, error) {
	if err := checkName(name); err != nil {
		return nil, opErr("register", name, err)
	}
	tok := token(name)
	if _, err := nc.Request("xipc.msgq."+tok+".find", nil, findTimeout); err == nil {
		return nil, opErr("register", name, fmt.Errorf("%w: a queue of that name is registered", xipc.ErrExists))
	} else if !errors.Is(err, nats.ErrNoResponders) && !errors.Is(err, nats.ErrTimeout) {
		return nil, opErr("register", name, natsErr(err))
	}
	js, err := nc.JetStream()
	if err != nil {
		return nil, opErr("register", name, natsErr(err))
	}
	q := &Queue{name: name, nc: nc, js: js, sent: make(chan *nats.Msg, sentLimit), done: make(chan struct{}),
		postedCh: make(chan *nats.Msg), fetched: make(chan struct{}),
		withdrawCh: make(chan *nats.Msg, sentLimit), withdrawn: map[string]struct{}{}}
	fail := func(err error) (*Queue, error) {
		q.unsubscribe()
		return nil, opErr("register", name, natsErr(err))
	}
	// A fresh queue: what a crashed predecessor left is not ours.
	if err := js.PurgeStream(Stream, &nats.StreamPurgeRequest{Subject: "xipc.msgq." + tok + ".post"}); err != nil {
		return fail(err)
	}
	durable := "q" + tok
	if len(durable) > 200 {
		durable = durable[:200]
	}
	_ = js.DeleteConsumer(Stream, durable)
	q.posted, err = js.PullSubscribe("xipc.msgq."+tok+".post", durable, nats.BindStream(Stream), nats.AckExplicit(), nats.AckWait(24*time.Hour))
	if err != nil {
		return fail(err)
	}
	s, err := nc.ChanSubscribe("xipc.msgq."+tok+".send", q.sent)
	if err != nil {
		return fail(err)
	}
	q.subs = append(q.subs, s)
	wd, err := nc.ChanSubscribe("xipc.msgq."+tok+".withdraw", q.withdrawCh)
	if err != nil {
		return fail(err)
	}
	q.subs = append(q.subs, wd)
	f, err := nc.Subscribe("xipc.msgq."+tok+".find", func(m *nats.Msg) { m.Respond(nil) })
	if err != nil {
		return fail(err)
	}
	q.subs = append(q.subs, f)
	if err := nc.Flush(); err != nil {
		return fail(err)
	}
	go q.fetcher()
	return q, nil
}

func (q *Queue) unsubscribe() {
	for _, s := range q.subs {
		s.Unsubscribe()
	}
	if q.posted != nil {
		q.posted.Unsubscribe()
	}
}

// Name returns the queue's name.
func (q *Queue) Name() string { return q.name }

func inRange(m *Message, min, max uint32) bool {
	return min == 0 && max == 0 || m.Msg >= min && m.Msg <= max
}

// Get waits for the next message: a sent one first, else the first posted
// one in [filterMin, filterMax] (0, 0: any). A sent message must get Reply.
func (q *Queue) Get(ctx context.Context, filterMin, filterMax uint32) (*Message, error) {
	m, err := q.get(ctx, filterMin, filterMax, true, true)
	return m, opErr("get", q.name, err)
}

// Peek is Get without waiting: nil, nil when there is none; without remove
// a posted message stays for the next Get.
func (q *Queue) Peek(filterMin, filterMax uint32, remove bool) (*Message, error) {
	m, err := q.get(context.Background(), filterMin, filterMax, remove, false)
	return m, opErr("peek", q.name, err)
}

// fetchWait is how long one fetch of posted messages waits; a message
// that arrives ends it at once.
const fetchWait = time.Second

// fetchBatch is how many posted messages one fetch may bring. They stay
// unacknowledged, and so counted by the stream's quota, until Get takes
// them (the consumer's ack wait is a day, so none is redelivered).
const fetchBatch = 64

// fetcher takes posted messages from the stream and hands them to Get one
// at a time through q.postedCh; Get acknowledges them, which removes them
// from the stream (a work queue).
func (q *Queue) fetcher() {
	defer close(q.fetched)
	for {
		select {
		case <-q.done:
			return
		default:
		}
		msgs, err := q.posted.Fetch(fetchBatch, nats.MaxWait(fetchWait))
		for _, m := range msgs {
			// Not acknowledged yet: until Get takes it, it still counts
			// in the stream, so the quota stays exact.
			select {
			case q.postedCh <- m:
			case <-q.done:
				return
			}
		}
		if err != nil && !errors.Is(err, nats.ErrTimeout) && !errors.Is(err, context.DeadlineExceeded) {
			select {
			case <-q.done:
				return
			case <-time.After(100 * time.Millisecond): // disconnected: try again
			}
		}
	}
}

func (q *Queue) get(ctx context.Context, min, max uint32, remove, wait bool) (*Message, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	// A round trip to the server first: what senders had sent before this
	// call (a sent message, a withdrawal) is then in our channels, so sent
	// messages come before posted ones and a withdrawn one is not
	// delivered, as with a local queue.
	if err := q.nc.Flush(); err != nil && q.nc.IsClosed() {
		return nil, natsErr(err)
	} // while the client reconnects, the order is best effort

	for {
		select {
		case <-q.done:
			return nil, xipc.ErrClosed
		default:
		}
		if err := ctx.Err(); err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				return nil, errors.Join(xipc.ErrTimeout, err)
			}
			return nil, err
		}
		// Sent messages first, whatever the filter.
		select {
		case m := <-q.sent:
			if msg, ok := q.decodeSent(m); ok {
				return msg, nil
			}
			continue
		default:
		}
		for i, m := range q.held {
			if inRange(m, min, max) {
				if remove {
					q.held = append(q.held[:i], q.held[i+1:]...)
				}
				return m, nil
			}
		}
		// The held messages do not match: the next posted one, while
		// there is room to hold it.
		var posted chan *nats.Msg
		if len(q.held) < msgq.Quota {
			posted = q.postedCh
		}
		select {
		case m := <-posted:
			q.ack(m)
			msg, _ := decode(m, false)
			q.held = append(q.held, msg)
			continue
		default:
		}
		if !wait {
			return nil, nil
		}
		select {
		case m := <-q.sent:
			if msg, ok := q.decodeSent(m); ok {
				return msg, nil
			}
		case m := <-posted:
			q.ack(m)
			msg, _ := decode(m, false)
			q.held = append(q.held, msg)
		case <-q.done:
		case <-ctx.Done():
		}
	}
}

// decodeSent decodes a sent message, unless its sender has withdrawn it.
func (q *Queue) decodeSent(m *nats.Msg) (*Message, bool) {
	for {
		select {
		case w := <-q.withdrawCh:
			id := string(w.Data)
			if _, ok := q.withdrawn[id]; !ok {
				q.withdrawn[id] = struct{}{}
				q.wring = append(q.wring, id)
				if len(q.wring) > sentLimit {
					delete(q.withdrawn, q.wring[0])
					q.wring = q.wring[1:]
				}
			}
			continue
		default:
		}
		break
	}
	if id := m.Header.Get(hID); id != "" {
		if _, ok := q.withdrawn[id]; ok {
			delete(q.withdrawn, id)
			return nil, false
		}
	}
	return decode(m, true)
}

// Serve runs a message loop like msgq.Queue.Serve.
func (q *Queue) Serve(ctx context.Context, handler func(*Message) uintptr) error {
	for {
		m, err := q.Get(ctx, 0, 0)
		if err != nil {
			return err
		}
		res := handler(m)
		if m.Sent {
			_ = m.Reply(res)
		}
		if m.Msg == msgq.WM_QUIT {
			return nil
		}
	}
}

// Close destroys the queue: later posts and sends fail with ErrNotFound,
// and the posted messages it held are deleted.
func (q *Queue) Close() error {
	select {
	case <-q.done:
		return opErr("close", q.name, xipc.ErrClosed)
	default:
	}
	close(q.done)
	q.unsubscribe()
	<-q.fetched
	q.mu.Lock()
	q.closed = true
	q.held = nil
	q.mu.Unlock()
	err := q.js.PurgeStream(Stream, &nats.StreamPurgeRequest{Subject: "xipc.msgq." + token(q.name) + ".post"})
	return opErr("close", q.name, natsErr(err))
}

// Target is a sender's handle on a queue found by name.
type Target struct {
	name   string
	tok    string
	nc     *nats.Conn
	js     nats.JetStreamContext
	closed atomic.Bool
}

// Find finds the queue name anywhere in the NATS system; none gives
// ErrNotFound.
func Find(nc *nats.Conn, name string) (*Target, error) {
	if err := checkName(name); err != nil {
		return nil, opErr("find", name, err)
	}
	t := &Target{name: name, tok: token(name), nc: nc}
	if err := t.alive(); err != nil {
		return nil, opErr("find", name, err)
	}
	js, err := nc.JetStream()
	if err != nil {
		return nil, opErr("find", name, natsErr(err))
	}
	t.js = js
	return t, nil
}

func (t *Target) alive() error {
	_, err := t.nc.Request("xipc.msgq."+t.tok+".find", nil, findTimeout)
	return natsErr(err)
}

// Name returns the queue's name.
func (t *Target) Name() string { return t.name }

func header(msg uint32, w, l uintptr) nats.Header {
	h := nats.Header{}
	h.Set(hMsg, strconv.FormatUint(uint64(msg), 10))
	h.Set(hW, strconv.FormatUint(uint64(w), 10))
	h.Set(hL, strconv.FormatUint(uint64(l), 10))
	h.Set(hPid, pidString)
	return h
}

// Post stores a message in the queue's stream and returns once the stream
// has acknowledged it. A full queue gives ErrQuota, a queue that is gone
// ErrNotFound; WM_COPYDATA cannot be posted.
func (t *Target) Post(msg uint32, wParam, lParam uintptr) error {
	if t.closed.Load() {
		return opErr("post", t.name, xipc.ErrClosed)
	}
	if msg == msgq.WM_COPYDATA {
		return opErr("post", t.name, fmt.Errorf("%w: WM_COPYDATA can only be sent", xipc.ErrInvalidParameter))
	}
	if err := t.alive(); err != nil {
		return opErr("post", t.name, err)
	}
	_, err := t.js.PublishMsg(&nats.Msg{Subject: "xipc.msgq." + t.tok + ".post", Header: header(msg, wParam, lParam)})
	return opErr("post", t.name, natsErr(err))
}

func (t *Target) send(ctx context.Context, op string, msg uint32, w, l uintptr, data []byte, notify bool) (uintptr, error) {
	if t.closed.Load() {
		return 0, opErr(op, t.name, xipc.ErrClosed)
	}
	h := header(msg, w, l)
	if data != nil {
		h.Set(hData, "1")
		if max := t.nc.MaxPayload() - headerRoom; int64(len(data)) > max {
			return 0, opErr(op, t.name, fmt.Errorf("%w: %d bytes; the NATS server's max payload allows %d", xipc.ErrMessageTooLarge, len(data), max))
		}
	}
	if dl, ok := ctx.Deadline(); ok {
		h.Set(hDeadline, strconv.FormatInt(dl.UnixNano(), 10))
	}
	m := &nats.Msg{Subject: "xipc.msgq." + t.tok + ".send", Header: h, Data: data}
	if notify {
		h.Set(hNotify, "1")
		if err := t.alive(); err != nil {
			return 0, opErr(op, t.name, err)
		}
		if err := t.nc.PublishMsg(m); err != nil {
			return 0, opErr(op, t.name, natsErr(err))
		}
		return 0, opErr(op, t.name, natsErr(t.nc.Flush()))
	}
	id := strconv.FormatUint(rand.Uint64(), 36)
	h.Set(hID, id)
	if err := ctx.Err(); err != nil {
		return 0, opErr(op, t.name, natsErr(err))
	}
	if _, ok := ctx.Deadline(); !ok && ctx.Done() == nil {
		// NATS requests need an end: a Send that may not end waits a day.
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 24*time.Hour)
		defer cancel()
	}
	// While it waits, the sender checks that the receiver is still there,
	// so that a receiver (or its server) that goes away fails the Send
	// promptly with ErrNotFound rather than at the deadline.
	rctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		tick := time.NewTicker(aliveEvery)
		defer tick.Stop()
		for {
			select {
			case <-rctx.Done():
				return
			case <-tick.C:
				if err := t.alive(); errors.Is(err, xipc.ErrNotFound) {
					cancel(errGone)
					return
				}
			}
		}
	}()
	r, err := t.nc.RequestMsgWithContext(rctx, m)
	if err != nil {
		if errors.Is(context.Cause(rctx), errGone) {
			err = errGone
		} else {
			// Withdraw it: a receiver that has not taken it yet drops it.
			t.nc.Publish("xipc.msgq."+t.tok+".withdraw", []byte(id))
			t.nc.Flush()
		}
		return 0, opErr(op, t.name, natsErr(err))
	}
	v, err := strconv.ParseUint(string(r.Data), 10, 64)
	if err != nil {
		return 0, opErr(op, t.name, fmt.Errorf("%w: reply %q", xipc.ErrProtocol, r.Data))
	}
	return uintptr(v), nil
}

// Send delivers a message and waits for the receiver's Reply, until ctx
// ends (ErrTimeout for a deadline). No receiver gives ErrNotFound.
func (t *Target) Send(ctx context.Context, msg uint32, wParam, lParam uintptr) (uintptr, error) {
	if msg == msgq.WM_COPYDATA {
		return 0, opErr("send", t.name, fmt.Errorf("%w: WM_COPYDATA carries data: use SendData", xipc.ErrInvalidParameter))
	}
	return t.send(ctx, "send", msg, wParam, lParam, nil, false)
}

// SendData sends WM_COPYDATA carrying data, tagged with dwData, and waits
// like Send. Data past the server's max payload (less 512 bytes of
// headers) fails with ErrMessageTooLarge.
func (t *Target) SendData(ctx context.Context, dwData uintptr, data []byte) (uintptr, error) {
	if data == nil {
		data = []byte{}
	}
	return t.send(ctx, "senddata", msgq.WM_COPYDATA, 0, dwData, data, false)
}

// SendNotify delivers a message as a sent one without waiting for its
// result.
func (t *Target) SendNotify(msg uint32, wParam, lParam uintptr) error {
	_, err := t.send(context.Background(), "sendnotify", msg, wParam, lParam, nil, true)
	return err
}

// Close releases the target; a second Close, and later calls, give
// ErrClosed.
func (t *Target) Close() error {
	if !t.closed.CompareAndSwap(false, true) {
		return opErr("close", t.name, xipc.ErrClosed)
	}
	return nil
}

// ack acknowledges a posted message and waits for the server to confirm
// it: the work queue then has removed it, so that its room in the quota is
// free when Get returns (with a bare Ack, a Post right after a Get of a
// full queue could still fail with ErrQuota). A failed confirmation leaves
// the message to the server's redelivery, as a lost Ack would.
func (q *Queue) ack(m *nats.Msg) {
	m.AckSync() //nolint:errcheck
}
