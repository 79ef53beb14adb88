package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/xipc/xipc"
)

// maxSockLine bounds one line that sock listen and sock dial read.
const maxSockLine = 64 << 10

// maxSockConns bounds the connections sock listen serves at once; more wait
// in the listener's backlog.
const maxSockConns = 64

func newSockCmd(e *env) *cobra.Command {
	cmd := group(&cobra.Command{
		Use:   "sock",
		Short: "Stream sockets and pipes by address: listen, dial",
		Long: `Stream connections by address, the same code for every transport
(xipc.Listen and xipc.Dial). ADDR is one of

  pipe:NAME        a named pipe (\\.\pipe\NAME); a bare \\.\pipe\NAME works too
  unix:PATH        a unix-domain stream socket
  tcp:HOST:PORT    a TCP socket; tcp::0 or tcp:127.0.0.1:0 listens on a free port

The protocol is lines of text: dial sends each MSG as a line, and listen
prints each line it receives or, with --echo, sends it back.`,
	})
	cmd.AddCommand(newSockListenCmd(e), newSockDialCmd(e))
	return cmd
}

type sockListenOptions struct {
	echo, verbose bool
}

func newSockListenCmd(e *env) *cobra.Command {
	var o sockListenOptions
	cmd := &cobra.Command{
		Use:   "listen ADDR",
		Short: "Listen at ADDR and print (or echo) the lines clients send",
		Long: `Listen listens at ADDR and serves clients until Ctrl-C or SIGTERM, then
exits 0. It prints "listening on ADDR" on stderr once clients can connect
(with the port chosen for a tcp port 0).

Without --echo it prints each line a client sends on stdout; with --echo it
sends each line back to its client instead. When a client closes its
sending side (or goes away) listen closes the connection.`,
		Example: `  xipc sock listen tcp:127.0.0.1:7000 --echo &
  xipc sock dial tcp:127.0.0.1:7000 hello world   # prints hello and world`,
		Args: exactArgs("ADDR"),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			if _, err := xipc.ParseAddr(args[0]); err != nil {
				return usagef("%s: %v", cmd.CommandPath(), err)
			}
			return sockListen(cmd.Context(), e, args[0], &o)
		}),
	}
	f := cmd.Flags()
	f.BoolVar(&o.echo, "echo", false, "send each line back to its client")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "print connections and lines on stderr")
	return cmd
}

// closeWriter is a connection that can end its sending side alone: TCP and
// unix sockets, and message-mode pipes.
type closeWriter interface {
	CloseWrite() error
}

func sockListen(ctx context.Context, e *env, addr string, o *sockListenOptions) error {
	l, err := xipc.Listen(ctx, addr)
	if err != nil {
		return err
	}
	var outM sync.Mutex // one line at a time on stdout and stderr
	logf := func(format string, args ...any) {
		outM.Lock()
		defer outM.Unlock()
		fmt.Fprintf(e.stderr, format+"\n", args...)
	}
	shown := addr
	if a, ok := l.Addr().(*net.TCPAddr); ok {
		shown = "tcp:" + a.String()
	} else if a, err := xipc.ParseAddr(addr); err == nil {
		shown = a.String()
	}
	logf("listening on %s", shown)

	stop := context.AfterFunc(ctx, func() { l.Close() })
	defer stop()

	var (
		wg    sync.WaitGroup
		connM sync.Mutex
		conns = map[net.Conn]bool{}
		slots = make(chan struct{}, maxSockConns)
		id    int
	)
	defer func() {
		connM.Lock()
		for c := range conns {
			c.Close()
		}
		connM.Unlock()
		wg.Wait()
	}()
	for {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		c, err := l.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		id++
		connM.Lock()
		conns[c] = true
		connM.Unlock()
		wg.Add(1)
		go func(id int) {
			defer wg.Done()
			defer func() { <-slots }()
			defer func() {
				connM.Lock()
				delete(conns, c)
				connM.Unlock()
				c.Close()
			}()
			if o.verbose {
				logf("client %d connected", id)
			}
			err := sockServe(c, o.echo, func(line string) {
				if o.verbose {
					logf("client %d: %q", id, line)
				}
				if !o.echo {
					outM.Lock()
					fmt.Fprintln(e.stdout, line)
					outM.Unlock()
				}
			})
			switch {
			case ctx.Err() != nil:
			case err != nil:
				logf("client %d: %v", id, err)
			case o.verbose:
				logf("client %d done", id)
			}
		}(id)
	}
}

// sockServe reads lines from c until it ends, passing each to saw, and
// echoes them when echo is set; then it closes its sending side.
func sockServe(c net.Conn, echo bool, saw func(string)) error {
	sc := bufio.NewScanner(c)
	sc.Buffer(make([]byte, 4096), maxSockLine)
	for sc.Scan() {
		saw(sc.Text())
		if echo {
			if _, err := fmt.Fprintf(c, "%s\n", sc.Bytes()); err != nil {
				return err
			}
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if cw, ok := c.(closeWriter); ok {
		if err := cw.CloseWrite(); err != nil && !errors.Is(err, xipc.ErrBrokenPipe) && !errors.Is(err, syscall.EPIPE) {
			return err // a client that has gone without half-closing is no error
		}
	}
	return nil
}

func newSockDialCmd(e *env) *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "dial ADDR MSG...",
		Short: "Connect to ADDR, send each MSG as a line, print the replies",
		Long: `Dial connects to ADDR (xipc.Dial), sends each MSG as a line, closes its
sending side, and prints every line that comes back until the listener
closes the connection. --timeout bounds all of it; a pipe with no free
instance is waited for until then.`,
		Example: `  xipc sock dial pipe:demo hello world
  xipc sock dial unix:/tmp/app.sock status`,
		Args: minArgs("ADDR", "MSG"),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			if timeout <= 0 {
				return usagef("%s: --timeout must be positive", cmd.CommandPath())
			}
			if _, err := xipc.ParseAddr(args[0]); err != nil {
				return usagef("%s: %v", cmd.CommandPath(), err)
			}
			return sockDial(cmd.Context(), e, args[0], args[1:], timeout)
		}),
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 10*time.Second, "give up after this long")
	return cmd
}

func sockDial(ctx context.Context, e *env, addr string, msgs []string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, err := xipc.Dial(ctx, addr)
	if err != nil {
		return err
	}
	defer c.Close()
	deadline, _ := ctx.Deadline()
	if err := c.SetDeadline(deadline); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { c.Close() }) // Ctrl-C
	defer stop()
	werr := make(chan error, 1)
	go func() {
		for _, m := range msgs {
			if _, err := fmt.Fprintf(c, "%s\n", m); err != nil {
				werr <- err
				return
			}
		}
		var err error
		if cw, ok := c.(closeWriter); ok {
			err = cw.CloseWrite()
			if errors.Is(err, xipc.ErrNotSupported) {
				err = nil // a byte-mode pipe: the listener closes when it likes
			}
		}
		werr <- err
	}()
	sc := bufio.NewScanner(c)
	sc.Buffer(make([]byte, 4096), maxSockLine)
	for sc.Scan() {
		fmt.Fprintln(e.stdout, sc.Text())
	}
	rerr := sc.Err()
	if err := <-werr; err != nil {
		return fmt.Errorf("%s: send: %w", addr, err)
	}
	if rerr != nil {
		if ctx.Err() != nil && !errors.Is(rerr, xipc.ErrTimeout) {
			rerr = xipc.ErrTimeout
		}
		return fmt.Errorf("%s: receive: %w", addr, rerr)
	}
	return nil
}
