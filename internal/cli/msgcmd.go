package cli

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/xipc/xipc/msgq"
)

func newMsgCmd(e *env) *cobra.Command {
	cmd := group(&cobra.Command{
		Use:   "msg",
		Short: "Window message queues: listen, post, send, senddata",
		Long: `Window message queues (FindWindow + PostMessage / SendMessage): a receiver
registers a queue NAME (on Windows a message-only window titled NAME);
senders find it by name and post messages to it (queued, no answer) or send
them (the sender waits for the receiver's result). NAME is compared without
regard to case.

MSG is a message number, decimal or hex (1025, 0x401), or a name with an
optional offset: WM_USER+1, WM_APP+3, WM_COPYDATA, WM_QUIT, WM_NULL.
WPARAM and LPARAM are numbers, decimal or hex; a negative one (two's
complement, as in C) goes after "--" so that it is not taken for a flag:
  xipc msg send myapp WM_USER 1 -- -1`,
	})
	cmd.AddCommand(newMsgListenCmd(e), newMsgPostCmd(e), newMsgSendCmd(e), newMsgSendDataCmd(e))
	return cmd
}

// msgNames are the message names MSG accepts.
var msgNames = map[string]uint32{
	"WM_NULL":     msgq.WM_NULL,
	"WM_QUIT":     msgq.WM_QUIT,
	"WM_COPYDATA": msgq.WM_COPYDATA,
	"WM_USER":     msgq.WM_USER,
	"WM_APP":      msgq.WM_APP,
}

// parseMsg parses MSG: a number or NAME[+N].
func parseMsg(s string) (uint32, error) {
	bad := func() (uint32, error) {
		return 0, fmt.Errorf("message %q: want a number (0x401) or a name such as WM_USER+1 (%s), at most 0xFFFF", s, "WM_NULL, WM_QUIT, WM_COPYDATA, WM_USER, WM_APP")
	}
	name, off, hasOff := strings.Cut(s, "+")
	var v uint64
	if base, ok := msgNames[strings.ToUpper(strings.TrimSpace(name))]; ok {
		v = uint64(base)
		if hasOff {
			n, err := strconv.ParseUint(strings.TrimSpace(off), 0, 32)
			if err != nil {
				return bad()
			}
			v += n
		}
	} else {
		n, err := strconv.ParseUint(s, 0, 32)
		if err != nil {
			return bad()
		}
		v = n
	}
	if v > 0xFFFF {
		return bad()
	}
	return uint32(v), nil
}

// parseParam parses WPARAM or LPARAM: a number, decimal or hex; negative
// values are two's complement, as an LPARAM -1 is in C.
func parseParam(what, s string) (uintptr, error) {
	if n, err := strconv.ParseUint(s, 0, strconv.IntSize); err == nil {
		return uintptr(n), nil
	}
	if n, err := strconv.ParseInt(s, 0, strconv.IntSize); err == nil {
		return uintptr(n), nil
	}
	return 0, fmt.Errorf("%s %q: want a number, decimal or hex", what, s)
}

// msgArgs parses MSG WPARAM LPARAM.
func msgArgs(cmd *cobra.Command, args []string) (uint32, uintptr, uintptr, error) {
	msg, err := parseMsg(args[0])
	if err != nil {
		return 0, 0, 0, usagef("%s: %v", cmd.CommandPath(), err)
	}
	w, err := parseParam("WPARAM", args[1])
	if err != nil {
		return 0, 0, 0, usagef("%s: %v", cmd.CommandPath(), err)
	}
	l, err := parseParam("LPARAM", args[2])
	if err != nil {
		return 0, 0, 0, usagef("%s: %v", cmd.CommandPath(), err)
	}
	return msg, w, l, nil
}

func newMsgListenCmd(e *env) *cobra.Command {
	var allUsers, stopOnStdinEOF bool
	cmd := &cobra.Command{
		Use:   "listen NAME",
		Short: "Register a queue and print the messages sent and posted to it",
		Long: `Listen registers the queue NAME and prints each message it gets on its own
line on stdout, in the order Get returns them (sent messages before posted
ones):

  msg=0x0401 wparam=20 lparam=22
  msg=0x004a wparam=0 lparam=7 data="text sent with senddata"

It answers every sent message with wParam+lParam, and WM_COPYDATA with the
number of bytes it carried, so "xipc msg send NAME WM_USER 20 22" prints 42.
It prints "listening on NAME" on stderr once senders can find the queue, and
runs until Ctrl-C or SIGTERM, or until it gets WM_QUIT; then it closes the
queue and exits 0.`,
		Example: `  xipc msg listen myapp
  xipc msg listen myapp --all-users`,
		Args: exactArgs("NAME"),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			return listenMsg(cmd.Context(), e, args[0], allUsers, stopOnStdinEOF)
		}),
	}
	f := cmd.Flags()
	f.BoolVar(&allUsers, "all-users", false, "let every user send (Unix; default: only this user)")
	f.BoolVar(&stopOnStdinEOF, "stop-on-stdin-eof", false, "shut down when standard input ends")
	if err := f.MarkHidden("stop-on-stdin-eof"); err != nil {
		panic(err) // the flag is defined just above
	}
	return cmd
}

// listenResult is what `xipc msg listen` answers a sent message with.
func listenResult(m *msgq.Message) uintptr {
	if m.Msg == msgq.WM_COPYDATA {
		return uintptr(len(m.Data))
	}
	return m.WParam + m.LParam
}

func listenMsg(ctx context.Context, e *env, name string, allUsers, stopOnStdinEOF bool) error {
	q, err := msgq.Register(name, &msgq.Options{Security: msgq.Security{AllUsers: allUsers}})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "listening on %s\n", q.Name())
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if stopOnStdinEOF {
		go func() {
			_, _ = io.Copy(io.Discard, e.stdin) // a read error ends the listener too: stdin is gone
			cancel()
		}()
	}
	var writeErr error
	err = q.Serve(ctx, func(m *msgq.Message) uintptr {
		if _, err := fmt.Fprintln(e.stdout, m); err != nil && writeErr == nil {
			writeErr = err
			cancel()
		}
		return listenResult(m)
	})
	if ctx.Err() != nil {
		err = nil // Ctrl-C, SIGTERM or the end of stdin: a clean stop
	}
	if cerr := q.Close(); err == nil {
		err = cerr
	}
	if writeErr != nil {
		return writeErr
	}
	return err
}

func newMsgPostCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "post NAME MSG WPARAM LPARAM",
		Short: "Post a message to a queue (PostMessage)",
		Long: `Post finds the queue NAME and posts the message MSG with WPARAM and LPARAM
(PostMessage): it returns at once, without an answer. A queue holding 10,000
posted messages refuses more (not enough quota); a queue that does not exist
is an error naming it.`,
		Example: `  xipc msg post myapp WM_USER+1 20 22
  xipc msg post myapp WM_QUIT 0 0`,
		Args: exactArgs("NAME", "MSG", "WPARAM", "LPARAM"),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			msg, w, l, err := msgArgs(cmd, args[1:])
			if err != nil {
				return err
			}
			t, err := msgq.Find(args[0])
			if err != nil {
				return err
			}
			defer t.Close()
			return t.Post(msg, w, l)
		}),
	}
}

func newMsgSendCmd(e *env) *cobra.Command {
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "send NAME MSG WPARAM LPARAM",
		Short: "Send a message to a queue and print the result (SendMessageTimeout)",
		Long: `Send finds the queue NAME, sends it the message MSG with WPARAM and LPARAM
and waits for the receiver's answer (SendMessageTimeout), which it prints in
decimal. When the receiver has not taken the message within --timeout, the
message is withdrawn (never delivered) and send fails.`,
		Example: `  xipc msg send myapp WM_USER+1 20 22
  xipc msg send myapp 0x8003 1 0x10 --timeout 2s
  xipc msg send myapp WM_APP+3 1 -- -1`,
		Args: exactArgs("NAME", "MSG", "WPARAM", "LPARAM"),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			msg, w, l, err := msgArgs(cmd, args[1:])
			if err != nil {
				return err
			}
			if timeout <= 0 {
				return usagef("%s: --timeout must be positive", cmd.CommandPath())
			}
			if msg == msgq.WM_COPYDATA {
				return usagef("%s: WM_COPYDATA carries data: use xipc msg senddata", cmd.CommandPath())
			}
			t, err := msgq.Find(args[0])
			if err != nil {
				return err
			}
			defer t.Close()
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			r, err := t.Send(ctx, msg, w, l)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(e.stdout, r)
			return err
		}),
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Second, "give up when the receiver has not answered within this time")
	return cmd
}

func newMsgSendDataCmd(e *env) *cobra.Command {
	var timeout time.Duration
	var tag string
	cmd := &cobra.Command{
		Use:   "senddata NAME TEXT",
		Short: "Send text as WM_COPYDATA and print the result",
		Long: `Senddata finds the queue NAME and sends it WM_COPYDATA carrying TEXT (the
bytes as given, no terminating NUL), tagged with --tag (dwData), and prints
the receiver's answer in decimal; "xipc msg listen" answers with the number
of bytes.`,
		Example: `  xipc msg senddata myapp "hello, window"`,
		Args:    exactArgs("NAME", "TEXT"),
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			if timeout <= 0 {
				return usagef("%s: --timeout must be positive", cmd.CommandPath())
			}
			dw, err := parseParam("--tag", tag)
			if err != nil {
				return usagef("%s: %v", cmd.CommandPath(), err)
			}
			t, err := msgq.Find(args[0])
			if err != nil {
				return err
			}
			defer t.Close()
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			r, err := t.SendData(ctx, dw, []byte(args[1]))
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(e.stdout, r)
			return err
		}),
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Second, "give up when the receiver has not answered within this time")
	cmd.Flags().StringVar(&tag, "tag", "0", "the payload's tag (COPYDATASTRUCT.dwData), a number")
	return cmd
}
