package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/xipc/xipc"
	"github.com/xipc/xipc/mailslot"
)

// demoMailslot shows a mailslot that this process reads and `xipc mailslot
// send` processes write: messages that wait after their writer has gone,
// Info's count and next size, a message over the slot's maximum refused at
// the writer, a read buffer too small for the next message, the read
// timeout, and the slot going away when its reader closes it.
func demoMailslot(ctx context.Context, d *demo) error {
	name := d.name("mailslot")
	const max = 32
	d.step("the reader creates the slot; a writer process sends three messages and exits")
	s, err := mailslot.Create(name, &mailslot.Config{MaxMessageSize: max})
	if err != nil {
		return err
	}
	closed := false
	defer func() {
		if !closed {
			_ = s.Close() // an error path: the error that got us here says more
		}
	}()
	d.client("Create(%q, MaxMessageSize %d, ReadTimeout 0: poll) → %s", name, max, s.Name())
	if err := demoRunOK(ctx, d, 0, "mailslot", "send", name, "hello", "from a writer", "!"); err != nil {
		return err
	}
	d.note("the writer has exited: it never waits for the reader, the messages wait in the slot")
	info, err := s.Info()
	if err != nil {
		return err
	}
	d.client("Info → Count %d, NextSize %s, MaxMessageSize %d (GetMailslotInfo: only the reader can ask)", info.Count, nextSize(info), info.MaxMessageSize)
	buf := make([]byte, max)
	for range 3 {
		n, err := s.Read(buf)
		if err != nil {
			return err
		}
		if info, err = s.Info(); err != nil {
			return err
		}
		d.client("Read → %-16q then Info → Count %d, NextSize %s", buf[:n], info.Count, nextSize(info))
	}
	d.note("one message per Read, whole, in the order the writer wrote them")

	d.step("a message longer than the slot's MaxMessageSize")
	if err := demoRunOK(ctx, d, 1, "mailslot", "send", name, "this message is longer than 32 bytes"); err != nil {
		return err
	}
	if info, err = s.Info(); err != nil {
		return err
	}
	d.client("Info → Count %d: nothing of it arrived", info.Count)
	d.note("the writer refuses it itself: a message arrives whole or not at all")

	d.step("a read buffer smaller than the next message")
	if err := demoRunOK(ctx, d, 0, "mailslot", "send", name, "twenty-one bytes long"); err != nil {
		return err
	}
	small := make([]byte, 8)
	_, err = s.Read(small)
	if !errors.Is(err, xipc.ErrInsufficientBuffer) {
		return fmt.Errorf("a read with an 8-byte buffer got %v, want ErrInsufficientBuffer", err)
	}
	d.client("Read with an 8-byte buffer → error %s", errString(err))
	if info, err = s.Info(); err != nil {
		return err
	}
	d.client("Info → Count %d, NextSize %s: the message is still there", info.Count, nextSize(info))
	n, err := s.Read(buf)
	if err != nil {
		return err
	}
	d.client("Read with a %d-byte buffer → %q", len(buf), buf[:n])

	d.step("the read timeout")
	start := time.Now()
	_, err = s.Read(buf)
	if !errors.Is(err, xipc.ErrTimeout) {
		return fmt.Errorf("a read of the empty slot got %v, want ErrTimeout", err)
	}
	d.client("Read of the empty slot, ReadTimeout 0 → error %s after %v", errString(err), time.Since(start).Round(10*time.Millisecond))
	const wait = 500 * time.Millisecond
	if err := s.SetReadTimeout(wait); err != nil {
		return err
	}
	start = time.Now()
	_, err = s.Read(buf)
	if !errors.Is(err, xipc.ErrTimeout) {
		return fmt.Errorf("a read with a %v timeout got %v, want ErrTimeout", wait, err)
	}
	d.client("SetReadTimeout(%v) (SetMailslotInfo); Read → error %s after %v", wait, errString(err), time.Since(start).Round(10*time.Millisecond))
	if err := s.SetReadTimeout(mailslot.WaitForever); err != nil {
		return err
	}
	d.client("SetReadTimeout(WaitForever); Read waits while a writer process starts")
	start = time.Now()
	w, err := d.startServer(ctx, "mailslot", "send", name, "worth the wait")
	if err != nil {
		return err
	}
	n, err = s.Read(buf)
	if err != nil {
		w.kill()
		return err
	}
	d.client("Read → %q after %v", buf[:n], time.Since(start).Round(10*time.Millisecond))
	if err := w.stop(); err != nil {
		w.kill()
		return fmt.Errorf("xipc mailslot send: %w", err)
	}

	d.step("the reader closes the slot")
	closed = true
	if err := s.Close(); err != nil {
		return err
	}
	d.client("Close: the slot and any message still in it are gone")
	if err := demoRunOK(ctx, d, 1, "mailslot", "send", name, "anyone there?"); err != nil {
		return err
	}
	d.note("a writer gets an error, never a silent success")
	return nil
}

// demoRunOK runs `xipc ARGS...` with demo.run and checks its exit status.
func demoRunOK(ctx context.Context, d *demo, want int, args ...string) error {
	code, err := d.run(ctx, args...)
	if err != nil {
		return err
	}
	if code != want {
		return fmt.Errorf("xipc %s %s exited with status %d, want %d", args[0], args[1], code, want)
	}
	if code != 0 {
		d.note("exit status %d", code)
	}
	return nil
}

// nextSize shows Info.NextSize, naming NoMessage.
func nextSize(info mailslot.Info) string {
	if info.NextSize == mailslot.NoMessage {
		return "NoMessage (MAILSLOT_NO_MESSAGE)"
	}
	return fmt.Sprint(info.NextSize)
}
