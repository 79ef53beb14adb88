package msgq

import (
	"context"

	"github.com/xipc/xipc/internal/msgqseam"
	"github.com/xipc/xipc/internal/owner"
)

// currentBackend is the transport of Register and Find: the one set
// through internal/msgqseam (the NATS backend), else the local one.
func currentBackend() backend {
	if b := msgqseam.Get(); b != nil {
		return seamBackend{b}
	}
	return localBackend
}

type seamBackend struct{ b msgqseam.Backend }

func (s seamBackend) register(name string, _ *Options) (receiver, error) {
	r, err := s.b.Register(name)
	if err != nil {
		return nil, err
	}
	return seamReceiver{r}, nil
}

// find leaves the owner check to the backend: a remote queue has no local
// owner (the NATS backend's security is the server's accounts).
func (s seamBackend) find(name string, _ owner.Trust) (sender, error) {
	t, err := s.b.Find(name)
	if err != nil {
		return nil, err
	}
	return seamSender{t}, nil
}

type seamReceiver struct{ r msgqseam.Receiver }

func (r seamReceiver) get(ctx context.Context, min, max uint32, remove, wait bool) (*Message, error) {
	m, err := r.r.Get(ctx, min, max, remove, wait)
	if m == nil || err != nil {
		return nil, err
	}
	return &Message{Msg: m.Msg, WParam: m.WParam, LParam: m.LParam, Data: m.Data, PID: m.PID, Sent: m.Sent, reply: m.Reply}, nil
}

func (r seamReceiver) close() error { return r.r.Close() }

type seamSender struct{ s msgqseam.Sender }

func (s seamSender) post(msg uint32, w, l uintptr) error { return s.s.Post(msg, w, l) }

func (s seamSender) send(ctx context.Context, msg uint32, w, l uintptr, data []byte, notify bool) (uintptr, error) {
	return s.s.Send(ctx, msg, w, l, data, notify)
}

func (s seamSender) close() error { return s.s.Close() }
