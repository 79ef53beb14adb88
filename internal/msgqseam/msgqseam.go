// Package msgqseam lets a message-queue transport outside package msgq
// (the NATS backend in the module github.com/xipc/xipc/nats) take the
// place of msgq's local backend: once Set, msgq.Register and msgq.Find
// go through it, with msgq's API, checks and error wrapping unchanged.
// The interfaces are msgq's internal backend interfaces, exported.
package msgqseam

import (
	"context"
	"sync/atomic"
)

// Message is what a Receiver's Get returns; msgq turns it into a
// *msgq.Message.
type Message struct {
	Msg    uint32
	WParam uintptr
	LParam uintptr
	Data   []byte
	PID    int
	Sent   bool
	// Reply answers a sent message; nil for posted ones.
	Reply func(result uintptr) error
}

// Backend creates and finds queues.
type Backend interface {
	Register(name string) (Receiver, error)
	Find(name string) (Sender, error)
}

// Receiver is the registering side of one queue.
type Receiver interface {
	// Get returns the next message in [min, max] (sent ones whatever the
	// filter); without wait it returns nil, nil when there is none;
	// without remove a posted message stays queued.
	Get(ctx context.Context, min, max uint32, remove, wait bool) (*Message, error)
	Close() error
}

// Sender is a handle on a queue.
type Sender interface {
	Post(msg uint32, w, l uintptr) error
	// Send delivers a sent message and, unless notify, waits for its
	// result; data != nil makes it a WM_COPYDATA payload.
	Send(ctx context.Context, msg uint32, w, l uintptr, data []byte, notify bool) (uintptr, error)
	Close() error
}

var current atomic.Pointer[Backend]

// Set makes b the backend of msgq.Register and msgq.Find; nil restores
// the local one.
func Set(b Backend) {
	if b == nil {
		current.Store(nil)
		return
	}
	current.Store(&b)
}

// Get returns the backend Set, or nil.
func Get() Backend {
	if p := current.Load(); p != nil {
		return *p
	}
	return nil
}
