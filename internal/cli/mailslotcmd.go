package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/xipc/xipc"
	"github.com/xipc/xipc/internal/names"
	"github.com/xipc/xipc/mailslot"
)

func newMailslotCmd(e *env) *cobra.Command {
	cmd := group(&cobra.Command{
		Use:   "mailslot",
		Short: "Mailslots: serve, send, info",
		Long: `Mailslots (CreateMailslot / CreateFile + WriteFile): one-way datagram slots
with one reader, the process that created the slot, and any number of
writers. NAME is \\.\mailslot\[PATH\]NAME or a bare [PATH\]NAME,
case-insensitive.`,
	})
	cmd.AddCommand(newMailslotServeCmd(e), newMailslotSendCmd(e), newMailslotInfoCmd(e))
	return cmd
}

// mailslotServeOptions are the flags of `xipc mailslot serve`.
type mailslotServeOptions struct {
	maxSize  int
	timeout  time.Duration
	allUsers bool
	remote   bool
	verbose  bool
	// stopOnStdinEOF: see serveOptions.
	stopOnStdinEOF bool
}

func newMailslotServeCmd(e *env) *cobra.Command {
	var o mailslotServeOptions
	cmd := &cobra.Command{
		Use:   "serve NAME",
		Short: "Create a mailslot and print the messages written to it",
		Long: `Serve creates the mailslot NAME (CreateMailslot) and prints each message
written to it on its own line on stdout, as it arrives, until Ctrl-C or
SIGTERM; then it closes the slot, which deletes it and any message still
waiting, and exits 0. It prints "listening on \\.\mailslot\NAME" on stderr
when writers can open the slot.

--max-size is the largest message writers may send (nMaxMessageSize); a
longer one fails at the writer. --timeout is the slot's read timeout
(lReadTimeout): when no message has come for that long, serve closes the slot
and exits 0, so a script can collect what arrives until the writers fall
quiet. Without it serve waits for messages without limit.

Only the reader sees what waits in a slot (GetMailslotInfo): with --verbose,
serve prints after each message how many more are waiting and the size of
the next.`,
		Example: `  xipc mailslot serve logs > log.txt
  xipc mailslot serve \\.\mailslot\app\events --max-size 400 --timeout 10s -v`,
		Args: exactArgs("NAME"),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			if o.maxSize < 1 || o.maxSize > mailslot.MaxMessage {
				return usagef("%s: --max-size must be 1..%d, not %d", cmd.CommandPath(), mailslot.MaxMessage, o.maxSize)
			}
			if o.timeout < 0 {
				return usagef("%s: --timeout must not be negative", cmd.CommandPath())
			}
			return serveMailslot(cmd.Context(), e, args[0], &o)
		}),
	}
	f := cmd.Flags()
	f.IntVar(&o.maxSize, "max-size", mailslot.MaxMessage, "largest message in bytes, 1.."+strconv.Itoa(mailslot.MaxMessage))
	f.DurationVar(&o.timeout, "timeout", 0, "exit when no message has come for this long (0: wait without limit)")
	f.BoolVar(&o.allUsers, "all-users", false, "let every user write (default: only the creating user)")
	f.BoolVar(&o.remote, "remote", false, "accept messages from other machines through xipc gateway (see docs/network.md)")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "after each message, print on stderr its size and what is waiting")
	f.BoolVar(&o.stopOnStdinEOF, "stop-on-stdin-eof", false, "shut down when standard input ends")
	if err := f.MarkHidden("stop-on-stdin-eof"); err != nil {
		panic(err) // the flag is defined just above
	}
	return cmd
}

func serveMailslot(ctx context.Context, e *env, name string, o *mailslotServeOptions) error {
	timeout := mailslot.WaitForever
	if o.timeout > 0 {
		timeout = o.timeout
	}
	s, err := mailslot.Create(name, &mailslot.Config{
		MaxMessageSize: o.maxSize,
		ReadTimeout:    timeout,
		Security:       mailslot.Security{AllUsers: o.allUsers},
		RemoteWriters:  o.remote,
	})
	if err != nil {
		return err
	}
	var outM sync.Mutex // serialises the lines on stderr
	logf := func(format string, args ...any) {
		outM.Lock()
		defer outM.Unlock()
		fmt.Fprintf(e.stderr, format+"\n", args...)
	}
	logf("listening on %s", s.Name())
	if o.verbose {
		t := "none"
		if o.timeout > 0 {
			t = o.timeout.String()
		}
		logf("max message size %d bytes, read timeout %s", o.maxSize, t)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if o.stopOnStdinEOF {
		go func() {
			_, _ = io.Copy(io.Discard, e.stdin) // read errors end the server too: stdin is gone
			if o.verbose {
				logf("standard input closed")
			}
			cancel()
		}()
	}
	// Closing the slot ends a pending Read with ErrClosed. Once: Ctrl-C and
	// the end of the loop may both close it; the second waits for the first.
	var closeOnce sync.Once
	var closeErr error
	closeSlot := func() { closeOnce.Do(func() { closeErr = s.Close() }) }
	stop := context.AfterFunc(ctx, closeSlot)
	defer stop()

	buf := make([]byte, o.maxSize)
	var readErr error
	for {
		n, err := s.Read(buf)
		if err != nil {
			switch {
			case ctx.Err() != nil:
				// Ctrl-C or the end of stdin closed the slot under Read.
			case errors.Is(err, xipc.ErrTimeout):
				logf("no message for %v, closing %s", o.timeout, s.Name())
			default:
				readErr = err
			}
			break
		}
		if _, err := e.stdout.Write(append(buf[:n:n], '\n')); err != nil {
			readErr = err
			break
		}
		if o.verbose {
			logf("message %d bytes; %s", n, waiting(s))
		}
	}
	closeSlot()
	if readErr != nil {
		return readErr
	}
	if closeErr != nil {
		return closeErr
	}
	if o.verbose {
		logf("closed, %s removed", s.Name())
	}
	return nil
}

// waiting says what waits in the slot after a read, from Info.
func waiting(s *mailslot.Slot) string {
	info, err := s.Info()
	switch {
	case err != nil:
		return err.Error()
	case info.Count == 0:
		return "nothing waiting"
	default:
		return fmt.Sprintf("waiting: %d, next %d bytes", info.Count, info.NextSize)
	}
}

func newMailslotSendCmd(e *env) *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "send NAME MSG...",
		Short: "Write messages to a mailslot",
		Long: `Send opens the mailslot NAME for writing (CreateFile) and writes each MSG as
one message (WriteFile). It does not wait for the reader to read them: the
messages wait in the slot. A message longer than the slot's maximum size
fails and nothing of it is delivered.

On Linux a writer waits only when the reader has more than 4 MiB of
messages waiting; --timeout bounds that wait, 0 waits without limit.`,
		Example: `  xipc mailslot send logs "disk full" "disk ok"`,
		Args:    minArgs("NAME", "MSG"),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			if timeout < 0 {
				return usagef("%s: --timeout must not be negative", cmd.CommandPath())
			}
			return sendMailslot(cmd.Context(), args[0], args[1:], timeout)
		}),
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Second, "give up when the slot stays full this long (0: no limit)")
	return cmd
}

func sendMailslot(ctx context.Context, name string, msgs []string, timeout time.Duration) error {
	w, err := mailslot.Open(name)
	if err != nil {
		return err
	}
	defer w.Close()
	if timeout > 0 {
		if err := w.SetWriteDeadline(time.Now().Add(timeout)); err != nil {
			return err
		}
	}
	// Ctrl-C: unblock a write waiting for room.
	stop := context.AfterFunc(ctx, func() { _ = w.SetWriteDeadline(time.Now()) })
	defer stop()
	for _, m := range msgs {
		if _, err := w.Write([]byte(m)); err != nil {
			return cause(ctx, err)
		}
	}
	return w.Close()
}

func newMailslotInfoCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "info NAME",
		Short: "Tell whether a mailslot exists",
		Long: `Info opens the mailslot NAME as a writer does (CreateFile) and says whether
it exists. That is all a writer can learn: the messages waiting, their
count and sizes, and the read timeout are visible only to the reader, the
process that created the slot (GetMailslotInfo takes the reader's handle).
"xipc mailslot serve --verbose" prints them after each message.

It exits 1 when the slot does not exist.`,
		Example: `  xipc mailslot info logs`,
		Args:    exactArgs("NAME"),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			w, err := mailslot.Open(args[0])
			if err != nil {
				return err
			}
			if err := w.Close(); err != nil {
				return err
			}
			m, err := names.ParseMailslot(args[0]) // Open has parsed it
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(e.stdout, "%s: exists; only its reader sees the messages waiting\n", m)
			return err
		}),
	}
}
