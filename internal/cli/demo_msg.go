package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/xipc/xipc"
	"github.com/xipc/xipc/msgq"
)

// demoMsg shows a window message queue that this process registers and
// `xipc msg` processes post and send to: posted messages that wait after
// their sender has gone, taken in order and by filter; a sent message that
// comes before posted ones and whose sender waits for the result; a
// WM_COPYDATA payload; a send that times out and is never delivered; and
// the queue going away when it is closed.
func demoMsg(ctx context.Context, d *demo) error {
	name := d.name("msg")
	d.step("this process registers a queue (a window); a sender process posts two messages and exits")
	q, err := msgq.Register(name, nil)
	if err != nil {
		return err
	}
	closed := false
	defer func() {
		if !closed {
			_ = q.Close() // an error path: the error that got us here says more
		}
	}()
	d.client("Register(%q) (a message-only window on Windows)", name)
	if err := demoRunOK(ctx, d, 0, "msg", "post", name, "WM_USER+1", "1", "2"); err != nil {
		return err
	}
	if err := demoRunOK(ctx, d, 0, "msg", "post", name, "WM_USER+2", "3", "4"); err != nil {
		return err
	}
	d.note("PostMessage returns at once: the messages wait in the queue")
	gctx, cancel := context.WithTimeout(ctx, demoTimeout)
	defer cancel()
	m, err := q.Get(gctx, msgq.WM_USER+2, msgq.WM_USER+2)
	if err != nil {
		return err
	}
	d.client("Get(filter WM_USER+2..WM_USER+2) → %s", m)
	if m, err = q.Get(gctx, 0, 0); err != nil {
		return err
	}
	d.client("Get(no filter) → %s", m)
	d.note("posted messages come in the order they were posted, within the filter")

	d.step("a posted message waits; a sender process sends one and waits for the answer")
	if err := demoRunOK(ctx, d, 0, "msg", "post", name, "WM_USER+3", "5", "6"); err != nil {
		return err
	}
	s, err := d.startServer(ctx, "msg", "send", name, "WM_USER+5", "20", "22")
	if err != nil {
		return err
	}
	defer s.kill()
	// Peek with a filter that no posted message passes: a sent message
	// passes any filter, so the first Peek that returns one shows it.
	for m = nil; m == nil; {
		if m, err = q.Peek(msgq.WM_APP, msgq.WM_APP, true); err != nil {
			return err
		}
		if m == nil {
			select {
			case <-gctx.Done():
				return fmt.Errorf("the sent message did not arrive within %v", demoTimeout)
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	d.client("Peek(filter WM_APP, PM_REMOVE) → %s, sent: %v", m, m.Sent)
	d.note("a sent message comes before posted ones, whatever the filter; its sender is blocked until Reply")
	if err := m.Reply(m.WParam + m.LParam); err != nil {
		return err
	}
	d.client("Reply(%d)", m.WParam+m.LParam)
	if err := s.stop(); err != nil {
		return fmt.Errorf("xipc msg send: %w", err)
	}
	if m, err = q.Get(gctx, 0, 0); err != nil {
		return err
	}
	d.client("Get → %s: the posted one, after", m)

	d.step("WM_COPYDATA carries bytes")
	s, err = d.startServer(ctx, "msg", "senddata", name, "hello, window")
	if err != nil {
		return err
	}
	defer s.kill()
	if m, err = q.Get(gctx, 0, 0); err != nil {
		return err
	}
	d.client("Get → %s", m)
	if err := m.Reply(uintptr(len(m.Data))); err != nil {
		return err
	}
	d.client("Reply(%d)", len(m.Data))
	if err := s.stop(); err != nil {
		return fmt.Errorf("xipc msg senddata: %w", err)
	}

	d.step("a send that the window does not take in time")
	if err := demoRunOK(ctx, d, 1, "msg", "send", name, "WM_USER+6", "7", "8", "--timeout", "500ms"); err != nil {
		return err
	}
	if m, err = q.Peek(0, 0, true); err != nil {
		return err
	}
	d.client("Peek → %v: the timed-out message was withdrawn, it is never delivered later", m)

	d.step("the window closes")
	closed = true
	if err := q.Close(); err != nil {
		return err
	}
	d.client("Close (DestroyWindow)")
	if err := demoRunOK(ctx, d, 1, "msg", "post", name, "WM_USER+1", "0", "0"); err != nil {
		return err
	}
	d.note("a sender gets an error, never a silent success")
	if _, err := q.Get(ctx, 0, 0); !errors.Is(err, xipc.ErrClosed) {
		return fmt.Errorf("Get after Close got %v, want ErrClosed", err)
	}
	return nil
}
