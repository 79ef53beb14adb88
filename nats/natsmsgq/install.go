package natsmsgq

import (
	"context"
	"os"
	"strconv"

	"github.com/nats-io/nats.go"

	"github.com/xipc/xipc/internal/msgqseam"
)

// Install makes package msgq itself use NATS through nc: from then on
// msgq.Register and msgq.Find (and so every msgq call, and the xipc
// command's code built on them) reach queues anywhere in the NATS system,
// with msgq's own types. Every process of the program must Install before
// it registers or finds a queue; EnsureStream must have created the stream.
// Uninstall restores the local backend.
func Install(nc *nats.Conn) { msgqseam.Set(seamBackend{nc}) }

// Uninstall makes msgq use its local backend again.
func Uninstall() { msgqseam.Set(nil) }

type seamBackend struct{ nc *nats.Conn }

func (b seamBackend) Register(name string) (msgqseam.Receiver, error) {
	q, err := Register(b.nc, name)
	if err != nil {
		return nil, err
	}
	return seamQueue{q}, nil
}

func (b seamBackend) Find(name string) (msgqseam.Sender, error) {
	t, err := Find(b.nc, name)
	if err != nil {
		return nil, err
	}
	return seamTarget{t}, nil
}

type seamQueue struct{ q *Queue }

func (s seamQueue) Get(ctx context.Context, min, max uint32, remove, wait bool) (*msgqseam.Message, error) {
	m, err := s.q.get(ctx, min, max, remove, wait)
	if m == nil || err != nil {
		return nil, err
	}
	out := &msgqseam.Message{Msg: m.Msg, WParam: m.WParam, LParam: m.LParam, Data: m.Data, PID: m.pid, Sent: m.Sent}
	if m.Sent {
		out.Reply = m.Reply
	}
	return out, nil
}

func (s seamQueue) Close() error { return s.q.Close() }

type seamTarget struct{ t *Target }

func (s seamTarget) Post(msg uint32, w, l uintptr) error { return s.t.Post(msg, w, l) }

func (s seamTarget) Send(ctx context.Context, msg uint32, w, l uintptr, data []byte, notify bool) (uintptr, error) {
	return s.t.send(ctx, "send", msg, w, l, data, notify)
}

func (s seamTarget) Close() error { return s.t.Close() }

var pidString = strconv.Itoa(os.Getpid())
