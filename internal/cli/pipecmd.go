package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"

	"github.com/xipc/xipc"
	"github.com/xipc/xipc/pipe"
)

func newPipeCmd(e *env) *cobra.Command {
	cmd := group(&cobra.Command{
		Use:   "pipe",
		Short: "Named pipes: serve, call, cat, wait",
		Long: `Named pipes (CreateNamedPipe / CreateFile). NAME is \\.\pipe\NAME or a bare
NAME, case-insensitive.`,
	})
	cmd.AddCommand(newServeCmd(e), newCallCmd(e), newCatCmd(e), newWaitCmd(e))
	return cmd
}

// serveOptions are the flags of `xipc pipe serve`.
type serveOptions struct {
	message   bool
	instances int
	echo      bool
	allUsers  bool
	remote    bool
	verbose   bool
	// stopOnStdinEOF shuts the server down when its standard input ends:
	// how the demo stops its server process on every OS (Windows has no
	// SIGINT to send to another process), and why a server started by a
	// demo that crashed does not outlive it.
	stopOnStdinEOF bool
}

func newServeCmd(e *env) *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve NAME",
		Short: "Create a pipe and serve its clients until interrupted",
		Long: `Serve creates the pipe NAME (CreateNamedPipe) and serves clients concurrently
until Ctrl-C or SIGTERM, then closes the pipe, which removes the name, and
exits 0. It prints "listening on \\.\pipe\NAME" on stderr when clients can
connect.

Without --echo it prints what clients send on stdout: in message mode one
line per message, in byte mode the bytes as they come. With --echo it writes
each message (or the bytes) back to the client unchanged. A zero-length
message, the end-of-stream marker that CloseWrite sends, is not printed; it
is answered with a zero-length message.`,
		Example: `  xipc pipe serve demo --message --echo
  xipc pipe serve \\.\pipe\logs --instances 4 > log.txt`,
		Args: exactArgs("NAME"),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			if o.instances < 1 || o.instances > pipe.Unlimited {
				return usagef("%s: --instances must be 1..%d, not %d", cmd.CommandPath(), pipe.Unlimited, o.instances)
			}
			return serve(cmd.Context(), e, args[0], &o)
		}),
	}
	f := cmd.Flags()
	f.BoolVar(&o.message, "message", false, "message mode: each write is one message (default byte mode)")
	f.IntVar(&o.instances, "instances", pipe.Unlimited, "maximum clients connected at once, 1.."+strconv.Itoa(pipe.Unlimited)+" ("+strconv.Itoa(pipe.Unlimited)+" = unlimited)")
	f.BoolVar(&o.echo, "echo", false, "write what each client sends back to it")
	f.BoolVar(&o.allUsers, "all-users", false, "let every user connect (default: only the creating user)")
	f.BoolVar(&o.remote, "remote", false, "let clients of other machines connect through xipc gateway (see docs/network.md)")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "log clients and messages on stderr")
	f.BoolVar(&o.stopOnStdinEOF, "stop-on-stdin-eof", false, "shut down when standard input ends")
	if err := f.MarkHidden("stop-on-stdin-eof"); err != nil {
		panic(err) // the flag is defined just above
	}
	return cmd
}

// server is one running `xipc pipe serve`.
type server struct {
	e    *env
	o    *serveOptions
	l    *pipe.Listener
	outM sync.Mutex // serialises writes to stdout and stderr
	next atomic.Int64

	stopOnce sync.Once
	mu       sync.Mutex
	conns    map[*pipe.Conn]struct{}
	stopping bool
	wg       sync.WaitGroup
}

func serve(ctx context.Context, e *env, name string, o *serveOptions) error {
	l, err := pipe.Listen(name, &pipe.ListenConfig{
		Message:       o.message,
		MaxInstances:  o.instances,
		Security:      pipe.Security{AllUsers: o.allUsers},
		RemoteClients: o.remote,
	})
	if err != nil {
		return err
	}
	s := &server{e: e, o: o, l: l, conns: map[*pipe.Conn]struct{}{}}
	s.logf("listening on %s", l.Addr())
	if o.verbose {
		mode, action := "byte", "print"
		if o.message {
			mode = "message"
		}
		if o.echo {
			action = "echo"
		}
		s.debugf("%s mode, %s, max instances %d", mode, action, o.instances)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if o.stopOnStdinEOF {
		go func() {
			// Read errors end the server too: either way stdin is gone.
			_, _ = io.Copy(io.Discard, e.stdin)
			s.debugf("standard input closed")
			cancel()
		}()
	}
	stopAfter := context.AfterFunc(ctx, s.shutdown)
	defer stopAfter()

	var acceptErr error
	for {
		c, err := l.AcceptPipe()
		if err != nil {
			if ctx.Err() == nil {
				acceptErr = err
				s.shutdown()
			}
			break
		}
		if !s.track(c) {
			_ = c.Close() // shutting down: nobody will serve it; the close error says nothing new
			continue
		}
		s.wg.Add(1)
		go s.handle(c)
	}
	s.shutdown() // waits for a shutdown that ctx started
	s.wg.Wait()
	if acceptErr != nil {
		return acceptErr
	}
	s.debugf("shut down, %s removed", l.Addr())
	return nil
}

// shutdown closes the listener, which removes the pipe name and ends
// Accept, and every connection, which ends the handlers. Callers after the
// first wait until it is done.
func (s *server) shutdown() { s.stopOnce.Do(s.stop) }

func (s *server) stop() {
	s.mu.Lock()
	s.stopping = true
	conns := s.conns
	s.conns = nil
	s.mu.Unlock()
	s.debugf("shutting down")
	if err := s.l.Close(); err != nil {
		s.logf("%v", err)
	}
	for c := range conns {
		_ = c.Close() // its handler sees ErrClosed and ends; nothing to report
	}
}

func (s *server) track(c *pipe.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopping {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *server) untrack(c *pipe.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	return s.stopping
}

func (s *server) handle(c *pipe.Conn) {
	defer s.wg.Done()
	id := s.next.Add(1)
	if peer, ok := c.RemotePeer(); ok {
		s.debugf("client %d connected (remote: %s from %s)", id, peer.Subject, peer.Addr)
	} else {
		s.debugf("client %d connected (pid %d)", id, c.PeerPID())
	}
	var err error
	if c.Message() {
		err = s.serveMessages(id, c)
	} else {
		err = s.serveBytes(id, c)
	}
	// Log before Close: once the instance is free the next client's
	// "connected" may come, and the demo reads the log in order.
	switch stopping := s.untrack(c); {
	case stopping:
		// Shutdown closed the connection under the handler: not an error.
	case err != nil:
		s.logf("client %d: %v", id, err)
	default:
		s.debugf("client %d disconnected", id)
	}
	if err := c.Close(); err != nil && !errors.Is(err, xipc.ErrClosed) {
		s.logf("client %d: %v", id, err)
	}
}

func (s *server) serveMessages(id int64, c *pipe.Conn) error {
	buf := make([]byte, 64<<10)
	for {
		msg, err := readMessage(c, buf)
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if len(msg) == 0 {
			s.debugf("client %d: end-of-stream marker (zero-length message), answered with one", id)
			if err := c.CloseWrite(); err != nil {
				return err
			}
			continue
		}
		if s.o.echo {
			s.debugf("client %d: message %d bytes %s, echoed", id, len(msg), quote(msg))
			if _, err := c.WriteMsg(msg); err != nil {
				return err
			}
			continue
		}
		s.debugf("client %d: message %d bytes", id, len(msg))
		s.outM.Lock()
		_, err = s.e.stdout.Write(append(msg, '\n'))
		s.outM.Unlock()
		if err != nil {
			return err
		}
	}
}

func (s *server) serveBytes(id int64, c *pipe.Conn) error {
	buf := make([]byte, 64<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			var werr error
			if s.o.echo {
				s.debugf("client %d: %d bytes, echoed", id, n)
				_, werr = c.Write(buf[:n])
			} else {
				s.debugf("client %d: %d bytes", id, n)
				s.outM.Lock()
				_, werr = s.e.stdout.Write(buf[:n])
				s.outM.Unlock()
			}
			if werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (s *server) logf(format string, args ...any) {
	s.outM.Lock()
	defer s.outM.Unlock()
	fmt.Fprintf(s.e.stderr, format+"\n", args...)
}

func (s *server) debugf(format string, args ...any) {
	if s.o.verbose {
		s.logf(format, args...)
	}
}

// readMessage reads one whole message into buf, growing past it when
// ReadMsg reports ErrMoreData (ERROR_MORE_DATA: the rest follows).
func readMessage(c *pipe.Conn, buf []byte) ([]byte, error) {
	var msg []byte
	for {
		n, err := c.ReadMsg(buf)
		if errors.Is(err, xipc.ErrMoreData) {
			msg = append(msg, buf[:n]...)
			continue
		}
		if msg == nil {
			return buf[:n:n], err
		}
		return append(msg, buf[:n]...), err
	}
}

// quote shows a message in a log line, shortened when long.
func quote(b []byte) string {
	const max = 60
	if len(b) > max {
		return strconv.Quote(string(b[:max])) + "..."
	}
	return strconv.Quote(string(b))
}

func newCallCmd(e *env) *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "call NAME MSG...",
		Short: "Send messages to a message pipe and print the replies",
		Long: `Call connects to the message-mode pipe NAME and, for each MSG, writes it as
one message and prints the one-message reply on its own line (like
TransactNamedPipe). When all instances are busy it waits for a free one, like
WaitNamedPipe.

--timeout bounds the whole call: waiting for an instance and for the replies;
0 waits without limit.`,
		Example: `  xipc pipe call demo hello world`,
		Args:    minArgs("NAME", "MSG"),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			if timeout < 0 {
				return usagef("%s: --timeout must not be negative", cmd.CommandPath())
			}
			return call(cmd.Context(), e, args[0], args[1:], timeout)
		}),
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Second, "give up after this long (0: no limit)")
	return cmd
}

func call(ctx context.Context, e *env, name string, msgs []string, timeout time.Duration) error {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	c, err := pipe.Dial(ctx, name, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	if !c.Message() {
		return fmt.Errorf("pipe %s: call: a byte-mode pipe has no messages to reply with (use xipc pipe cat)", c.RemoteAddr())
	}
	if d, ok := ctx.Deadline(); ok {
		if err := c.SetDeadline(d); err != nil {
			return err
		}
	}
	// Ctrl-C: unblock a pending read or write.
	stop := context.AfterFunc(ctx, func() { _ = c.SetDeadline(time.Now()) })
	defer stop()
	buf := make([]byte, 64<<10)
	for _, m := range msgs {
		if _, err := c.WriteMsg([]byte(m)); err != nil {
			return cause(ctx, err)
		}
		reply, err := readMessage(c, buf)
		if err == io.EOF {
			return fmt.Errorf("pipe %s: call: the server closed the pipe without replying", c.RemoteAddr())
		}
		if err != nil {
			return cause(ctx, err)
		}
		if _, err := fmt.Fprintf(e.stdout, "%s\n", reply); err != nil {
			return err
		}
	}
	return nil
}

// cause adds "interrupted" to an error that Ctrl-C provoked.
func cause(ctx context.Context, err error) error {
	if errors.Is(context.Cause(ctx), context.Canceled) {
		return fmt.Errorf("%w (interrupted)", err)
	}
	return err
}

func newCatCmd(e *env) *cobra.Command {
	var linger time.Duration
	cmd := &cobra.Command{
		Use:   "cat NAME",
		Short: "Connect standard input and output to a pipe",
		Long: `Cat connects to the pipe NAME, copies standard input to it and what it
receives to standard output, until both directions end.

On a message pipe each chunk read from stdin is one message; when stdin ends
cat sends the end-of-stream marker (CloseWrite, a zero-length message) and
keeps reading until the server answers with its own or closes the pipe.
Win32 byte-mode pipes have no end-of-stream marker, so on a byte pipe cat
keeps reading until the server closes the pipe, or, with --linger D, until no
data has come for D after stdin ended.`,
		Example: `  echo hello | xipc pipe cat demo`,
		Args:    exactArgs("NAME"),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			if linger < 0 {
				return usagef("%s: --linger must not be negative", cmd.CommandPath())
			}
			return cat(cmd.Context(), e, args[0], linger)
		}),
	}
	cmd.Flags().DurationVar(&linger, "linger", 0, "byte pipe: after stdin ends, exit when no data has come for this long (0: wait for the server to close)")
	return cmd
}

func cat(ctx context.Context, e *env, name string, linger time.Duration) error {
	c, err := pipe.Dial(ctx, name, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	// Ctrl-C ends cat normally, like the end of input: close the pipe.
	stop := context.AfterFunc(ctx, func() { _ = c.Close() })
	defer stop()

	var stdinDone atomic.Bool
	werr := make(chan error, 1)
	go func() {
		werr <- copyIn(c, e.stdin, linger, &stdinDone)
	}()

	buf := make([]byte, 64<<10)
	var rerr error
	for {
		n, err := c.Read(buf)
		if n > 0 {
			if _, err := e.stdout.Write(buf[:n]); err != nil {
				rerr = err
				break
			}
		}
		if err == nil {
			if linger > 0 && stdinDone.Load() {
				// A read timeout set when stdin ended, pushed back by data.
				if err := c.SetReadDeadline(time.Now().Add(linger)); err != nil {
					rerr = err
					break
				}
			}
			continue
		}
		if err != io.EOF && !(linger > 0 && stdinDone.Load() && errors.Is(err, xipc.ErrTimeout)) {
			rerr = err
		}
		break
	}
	if ctx.Err() != nil {
		return nil
	}
	if rerr != nil {
		return rerr
	}
	// The server has finished. A stdin copy that is past the end of stdin
	// finishes at once; one still reading stdin (a terminal, say) may never
	// return, and what it would copy has nowhere to go: leave it.
	if !stdinDone.Load() {
		return nil
	}
	if err := <-werr; err != nil && !errors.Is(err, xipc.ErrBrokenPipe) && !errors.Is(err, xipc.ErrClosed) {
		return err
	}
	return nil
}

// copyIn copies stdin to the pipe; at the end of stdin it sends the
// end-of-stream marker on a message pipe, or starts the linger timeout on a
// byte pipe.
func copyIn(c *pipe.Conn, stdin io.Reader, linger time.Duration, done *atomic.Bool) error {
	buf := make([]byte, 64<<10)
	for {
		n, err := stdin.Read(buf)
		if n > 0 {
			if _, werr := c.Write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return fmt.Errorf("reading standard input: %w", err)
		}
	}
	done.Store(true)
	if c.Message() {
		return c.CloseWrite()
	}
	if linger > 0 {
		return c.SetReadDeadline(time.Now().Add(linger))
	}
	return nil
}

func newWaitCmd(e *env) *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "wait NAME",
		Short: "Wait until a pipe exists and has a free instance",
		Long: `Wait waits until a server listens on NAME and an instance is free, then
exits 0; it fails after --timeout. Unlike WaitNamedPipe, which fails at once
when the pipe does not exist, it also waits for the pipe to be created, so a
script can start a server in the background and wait for it. To find out, it
connects and disconnects at once: the server sees a client that sends
nothing.`,
		Example: `  xipc pipe serve demo --message --echo & xipc pipe wait demo && xipc pipe call demo hi`,
		Args:    exactArgs("NAME"),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			if timeout <= 0 {
				return usagef("%s: --timeout must be positive", cmd.CommandPath())
			}
			return wait(cmd.Context(), args[0], timeout)
		}),
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Second, "give up after this long")
	return cmd
}

func wait(ctx context.Context, name string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var missing error // the last ErrNotFound
	for {
		c, err := pipe.Dial(ctx, name, nil)
		if err == nil {
			return c.Close()
		}
		// Dial reports its deadline when it passes, which can be a moment
		// before ctx notices; on Unix it may be net's "i/o timeout", which
		// is context.DeadlineExceeded but not ErrTimeout.
		timedOut := ctx.Err() != nil || errors.Is(err, xipc.ErrTimeout) || errors.Is(err, context.DeadlineExceeded)
		switch {
		case errors.Is(err, xipc.ErrNotFound):
			missing = err
		case !timedOut:
			return err
		case missing != nil && errors.Is(err, xipc.ErrBusy):
			// The deadline cut short a Dial, which then says busy whether
			// or not the pipe exists: look once more, without waiting.
			c, err := pipe.Dial(context.Background(), name, nil)
			if err == nil {
				return c.Close()
			}
			return fmt.Errorf("%w (waited %v)", err, timeout)
		case missing == nil:
			return fmt.Errorf("%w (waited %v)", err, timeout)
		}
		// The pipe does not exist (yet): try again until the timeout.
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (waited %v)", missing, timeout)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
