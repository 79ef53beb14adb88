package cli

import (
	"context"
	"fmt"

	"github.com/xipc/xipc/msgq"
)

// demoMsg shows a window message queue that this process registers and
// `xipc msg` processes post and send to: a posted WM_USER+1 read later, a
// sent message whose sender waits for the answer, WM_COPYDATA, a send that
// times out and is never delivered, and posting to a closed queue.
func demoMsg(ctx context.Context, d *demo) error {
	name := d.name("msg")
	d.step("this process registers a window; a sender process posts WM_USER+1 and exits")
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
	d.client("Register(%q): a window (message queue) titled %s", name, q.Name())
	if err := demoRunOK(ctx, d, 0, "msg", "post", name, "WM_USER+1", "20", "22"); err != nil {
		return err
	}
	d.note("PostMessage returned at once: the message waits in the queue after its sender has gone")
	get := func() (*msgq.Message, error) {
		wctx, cancel := context.WithTimeout(ctx, demoTimeout)
		defer cancel()
		return q.Get(wctx, 0, 0)
	}
	m, err := get()
	if err != nil {
		return err
	}
	if m.PID != 0 {
		d.client("Get → %s, posted by pid %d", m, m.PID)
	} else {
		d.client("Get → %s (Windows does not say which process posted it)", m)
	}

	d.step("a sender process sends WM_USER+2 and waits for the answer")
	s, err := d.startServer(ctx, "msg", "send", name, "WM_USER+2", "3", "4")
	if err != nil {
		return err
	}
	if m, err = get(); err != nil {
		s.kill()
		return err
	}
	d.client("Get → %s (sent: its sender is waiting)", m)
	if err := m.Reply(m.WParam + m.LParam); err != nil {
		s.kill()
		return err
	}
	d.client("Reply(%d): wParam+lParam; the sender prints it", m.WParam+m.LParam)
	if err := s.stop(); err != nil {
		s.kill()
		return fmt.Errorf("xipc msg send: %w", err)
	}

	d.step("WM_COPYDATA: a sent message that carries bytes")
	s, err = d.startServer(ctx, "msg", "senddata", name, "hello, window")
	if err != nil {
		return err
	}
	if m, err = get(); err != nil {
		s.kill()
		return err
	}
	d.client("Get → %s", m)
	if err := m.Reply(uintptr(len(m.Data))); err != nil {
		s.kill()
		return err
	}
	d.client("Reply(%d): the length of the data, copied into this process", len(m.Data))
	if err := s.stop(); err != nil {
		s.kill()
		return fmt.Errorf("xipc msg senddata: %w", err)
	}

	d.step("a send that this window does not take in time")
	if err := demoRunOK(ctx, d, 1, "msg", "send", name, "WM_USER+3", "0", "0", "--timeout", "300ms"); err != nil {
		return err
	}
	m, err = q.Peek(0, 0, true)
	if err != nil {
		return err
	}
	if m != nil {
		return fmt.Errorf("a send that timed out was delivered: %s", m)
	}
	d.client("Peek → nothing: a send that timed out is withdrawn, never delivered later (SendMessageTimeout)")

	d.step("the window closes")
	closed = true
	if err := q.Close(); err != nil {
		return err
	}
	d.client("Close (DestroyWindow)")
	if err := demoRunOK(ctx, d, 1, "msg", "post", name, "WM_USER+1", "0", "0"); err != nil {
		return err
	}
	d.note("posting to a window that is gone fails (ERROR_INVALID_WINDOW_HANDLE in Win32)")
	return nil
}
