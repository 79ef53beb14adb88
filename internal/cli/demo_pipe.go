package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/xipc/xipc"
	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/pipe"
)

// demoPipe shows a message-mode named pipe between this process and an
// `xipc pipe serve --echo` process: messages and replies, message
// boundaries, ERROR_MORE_DATA, ERROR_PIPE_BUSY and waiting for an instance,
// the end-of-stream marker, and a clean shutdown that removes the name.
func demoPipe(ctx context.Context, d *demo) error {
	name := d.name("pipe")
	srv, err := d.startServer(ctx, "pipe", "serve", name, "--message", "--echo", "--instances", "1", "--verbose", "--stop-on-stdin-eof")
	if err != nil {
		return err
	}
	stopped := false
	defer func() {
		if !stopped {
			srv.kill()
		}
	}()
	if err := srv.expect("listening on"); err != nil {
		return err
	}
	if err := srv.expect("max instances"); err != nil {
		return err
	}

	// One client, one message, one reply.
	d.step("a client connects, sends a message, reads the reply")
	a, err := pipe.Dial(ctx, name, nil)
	if err != nil {
		return err
	}
	defer a.Close()
	d.client("Dial(%q) → connected to %s (message mode: %v); server pid %d (PeerPID)", name, a.RemoteAddr(), a.Message(), a.PeerPID())
	if err := srv.expect("connected"); err != nil {
		return err
	}
	d.note("the server saw this process's pid, %d", os.Getpid())
	buf := make([]byte, 64<<10)
	if err := demoRoundTrip(d, srv, a, buf, "hello"); err != nil {
		return err
	}

	// Message boundaries.
	d.step("message boundaries")
	d.client(`WriteMsg "one", "two", "three": three writes back to back, no read in between`)
	for _, m := range []string{"one", "two", "three"} {
		if _, err := a.WriteMsg([]byte(m)); err != nil {
			return err
		}
	}
	if err := srv.expect(`"three"`); err != nil {
		return err
	}
	for range 3 {
		n, err := a.ReadMsg(buf)
		if err != nil {
			return err
		}
		d.client("ReadMsg → %q", buf[:n])
	}
	d.note("each read returns one whole message: boundaries are kept (a byte stream could give \"onetwothree\")")

	// A message longer than the buffer: ERROR_MORE_DATA.
	d.step("a message longer than the read buffer")
	long := "The quick brown fox jumps over the lazy dog"
	d.client("WriteMsg %q (%d bytes), then ReadMsg with a 16-byte buffer until the message ends", long, len(long))
	if _, err := a.WriteMsg([]byte(long)); err != nil {
		return err
	}
	if err := srv.expect("echoed"); err != nil {
		return err
	}
	small := make([]byte, 16)
	for {
		n, err := a.ReadMsg(small)
		if err != nil && !errors.Is(err, xipc.ErrMoreData) {
			return err
		}
		d.client("ReadMsg → %2d bytes %-18q err = %s", n, small[:n], errString(err))
		if err == nil {
			break
		}
	}
	d.note("ErrMoreData is ReadFile's ERROR_MORE_DATA: the first part came, the rest follows")

	// All instances busy: ERROR_PIPE_BUSY, and waiting like WaitNamedPipe.
	d.step("all instances busy")
	d.note("the server allows one instance (--instances 1) and this client holds it")
	_, err = pipe.Dial(context.Background(), name, nil)
	if !errors.Is(err, xipc.ErrBusy) {
		return fmt.Errorf("a second client got %v, want ErrBusy", err)
	}
	d.client("second Dial(context.Background()) → error %s", errString(err))
	d.client("  %v", err)
	d.client("second Dial with a %v timeout waits for a free instance, like WaitNamedPipe", demoTimeout)
	type dialed struct {
		c   *pipe.Conn
		err error
		at  time.Time
	}
	ch := make(chan dialed, 1)
	wctx, cancel := context.WithTimeout(ctx, demoTimeout)
	defer cancel()
	start := time.Now()
	go func() {
		c, err := pipe.Dial(wctx, name, nil)
		ch <- dialed{c, err, time.Now()}
	}()
	time.Sleep(300 * time.Millisecond)
	d.client("first client: Close after %v, freeing the instance", time.Since(start).Round(100*time.Millisecond))
	if err := a.Close(); err != nil {
		return err
	}
	r := <-ch
	if r.err != nil {
		return r.err
	}
	b := r.c
	defer b.Close()
	if err := srv.expectAll("disconnected", "connected (pid"); err != nil {
		return err
	}
	d.client("second Dial → connected after %v", r.at.Sub(start).Round(100*time.Millisecond))
	d.client(`Transact("ping") (TransactNamedPipe: write one message, read the reply)`)
	n, err := b.Transact([]byte("ping"), buf)
	if err != nil {
		return err
	}
	if err := srv.expect("echoed"); err != nil {
		return err
	}
	d.client("  reply %q", buf[:n])

	// End of stream, then a clean shutdown.
	d.step("end of stream and shutdown")
	d.client("CloseWrite: sends the end-of-stream marker, a zero-length message")
	if err := b.CloseWrite(); err != nil {
		return err
	}
	if err := srv.expect("end-of-stream"); err != nil {
		return err
	}
	n, err = b.Read(buf)
	if err != io.EOF {
		return fmt.Errorf("read after the end-of-stream marker: %d bytes, %v; want io.EOF", n, err)
	}
	d.client("Read → io.EOF: the server ended its side too")
	if err := b.Close(); err != nil {
		return err
	}
	d.client("Close")
	if err := srv.expect("disconnected"); err != nil {
		return err
	}
	d.client("closing the server's standard input: it shuts down as on Ctrl-C")
	stopped = true
	if err := srv.stop(); err != nil {
		return fmt.Errorf("server: %w", err)
	}
	d.client("server exited with status 0")
	_, err = pipe.Dial(ctx, name, nil)
	if !errors.Is(err, xipc.ErrNotFound) {
		return fmt.Errorf("dial after the server exited: %v, want ErrNotFound", err)
	}
	d.client("Dial → error %s", errString(err))
	d.client("  %v", err)
	d.note("the name went away with the server")
	return nil
}

// demoRoundTrip sends msg and prints the server's log and the reply.
func demoRoundTrip(d *demo, srv *demoServer, c *pipe.Conn, buf []byte, msg string) error {
	d.client("WriteMsg %q", msg)
	if _, err := c.WriteMsg([]byte(msg)); err != nil {
		return err
	}
	if err := srv.expect("echoed"); err != nil {
		return err
	}
	n, err := c.ReadMsg(buf)
	if err != nil {
		return err
	}
	d.client("ReadMsg → %q", buf[:n])
	return nil
}

// errString names an error the Win32 way: the sentinel it matches and its
// Win32 code, e.g. "ErrMoreData (ERROR_MORE_DATA 234)".
func errString(err error) string {
	if err == nil {
		return "nil"
	}
	sentinels := []struct {
		err  error
		name string
	}{
		{xipc.ErrMoreData, "ErrMoreData"},
		{xipc.ErrBusy, "ErrBusy"},
		{xipc.ErrNotFound, "ErrNotFound"},
		{xipc.ErrBrokenPipe, "ErrBrokenPipe"},
		{xipc.ErrTimeout, "ErrTimeout"},
		{xipc.ErrClosed, "ErrClosed"},
		{xipc.ErrInsufficientBuffer, "ErrInsufficientBuffer"},
		{xipc.ErrMessageTooLarge, "ErrMessageTooLarge"},
		{xipc.ErrMappedAlignment, "ErrMappedAlignment"},
		{xipc.ErrExists, "ErrExists"},
		{xipc.ErrInvalidParameter, "ErrInvalidParameter"},
	}
	name := "error"
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			name = s.name
			break
		}
	}
	code := xipc.Win32Code(err)
	for _, row := range errs.Table {
		if row.Code == code {
			return fmt.Sprintf("%s (%s %d)", name, row.Name, code)
		}
	}
	return fmt.Sprintf("%s (Win32 code %d)", name, code)
}
