// Package cli implements the xipc command: subcommands that serve, call and
// inspect xipc objects from a shell, and a demo of every mechanism. It is a
// package rather than code in cmd/xipc so that tests can run the command in
// process (Run) and as a real executable (testscript).
//
// Exit codes: 0 on success, 1 when the operation failed (one line on stderr
// names the object and the cause, e.g. `xipc: pipe \\.\pipe\nope: dial: file
// does not exist`), 2 for a usage error (one line naming the command, what
// is wrong, and where to read more).
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// Exit codes returned by Run.
const (
	ExitOK      = 0 // success
	ExitFailure = 1 // the operation failed
	ExitUsage   = 2 // bad command line
)

// version is the program version; release builds set it with
// -ldflags "-X github.com/xipc/xipc/internal/cli.version=v1.2.3".
var version = ""

// Run runs the xipc command with args (without the program name), writing
// to stdout and stderr and reading os.Stdin, and returns the exit status.
// Cancelling ctx (the main program does on SIGINT and SIGTERM) stops
// long-running commands: servers shut down cleanly and exit 0.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	return run(ctx, args, os.Stdin, stdout, stderr)
}

// env is what the commands read and write instead of the process globals,
// so tests can run them in process.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr}
	root := newRoot(e)
	if args == nil {
		args = []string{} // nil would make cobra read os.Args
	}
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	var rt *runtimeError
	if errors.As(err, &rt) {
		fmt.Fprintf(stderr, "xipc: %v\n", oneLine(rt.err.Error()))
		return ExitFailure
	}
	// Everything else comes from parsing the command line: cobra's flag and
	// argument errors and our own usageErrors.
	if cmd == nil {
		cmd = root
	}
	msg, path := oneLine(err.Error()), cmd.CommandPath()
	if !strings.HasPrefix(msg, path+":") {
		msg = path + ": " + msg
	}
	fmt.Fprintf(stderr, "%s; run '%s --help' for usage\n", msg, path)
	return ExitUsage
}

// runtimeError marks an error of the operation itself (exit 1), as opposed
// to a usage error (exit 2).
type runtimeError struct{ err error }

func (e *runtimeError) Error() string { return e.err.Error() }
func (e *runtimeError) Unwrap() error { return e.err }

// usageError is a bad command line found by our own checks.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Sprintf(format, args...)}
}

// runE adapts a command body so that the errors it returns count as
// runtime errors (exit 1) unless they are usageErrors.
func runE(f func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		err := f(cmd, args)
		var ue *usageError
		if err == nil || errors.As(err, &ue) {
			return err
		}
		return &runtimeError{err}
	}
}

// oneLine folds a multi-line message (cobra's "Did you mean this?") into one.
func oneLine(s string) string {
	if before, after, ok := strings.Cut(s, "\n\nDid you mean this?\n"); ok {
		s = before + " (did you mean " + strings.Join(strings.Fields(after), " or ") + "?)"
	}
	return strings.Join(strings.Fields(s), " ")
}

// exactArgs, rangeArgs and minArgs are cobra's argument checks with
// messages that say what is missing.
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < len(names) {
			return usagef("%s: missing %s", cmd.CommandPath(), strings.Join(names[len(args):], " and "))
		}
		if len(args) > len(names) {
			return usagef("%s: unexpected argument %q", cmd.CommandPath(), args[len(names)])
		}
		return nil
	}
}

func minArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < len(names) {
			return usagef("%s: missing %s", cmd.CommandPath(), strings.Join(names[len(args):], " and "))
		}
		return nil
	}
}

// group makes cmd a command that only holds subcommands: run without one,
// or with an unknown one, it is a usage error (cobra would print help and
// exit 0).
func group(cmd *cobra.Command) *cobra.Command {
	cmd.SuggestionsMinimumDistance = 2
	cmd.Args = func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return nil
		}
		msg := fmt.Sprintf("%s: unknown command %q", c.CommandPath(), args[0])
		if s := c.SuggestionsFor(args[0]); len(s) > 0 {
			msg += " (did you mean " + strings.Join(s, " or ") + "?)"
		}
		return usagef("%s", msg)
	}
	cmd.RunE = func(c *cobra.Command, args []string) error {
		var subs []string
		for _, s := range c.Commands() {
			if s.IsAvailableCommand() && s.Name() != "help" && s.Name() != "completion" {
				subs = append(subs, s.Name())
			}
		}
		return usagef("%s: missing command (%s)", c.CommandPath(), strings.Join(subs, ", "))
	}
	return cmd
}

func newRoot(e *env) *cobra.Command {
	root := group(&cobra.Command{
		Use:   "xipc",
		Short: "Win32 IPC mechanisms on every OS",
		Long: `xipc gives the Win32 interprocess-communication mechanisms with Win32
semantics on every OS: the real Win32 API on Windows, an emulation on
Linux. This command serves, calls and inspects them from a shell.

On Linux pipes and mailslots live under $XIPC_ROOT (default /tmp/.xipc),
shared memory in /dev/shm.`,
		Version:       programVersion(),
		SilenceUsage:  true,
		SilenceErrors: true,
	})
	root.SetVersionTemplate("xipc version {{.Version}}\n")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usagef("%s: %v", c.CommandPath(), err)
	})
	root.AddCommand(newPipeCmd(e), newMailslotCmd(e), newMsgCmd(e), newShmCmd(e), newSockCmd(e), newListCmd(e), newDemoCmd(e), newBenchCmd(e), newBenchPeerCmd(e), newGatewayCmd(e))
	return root
}

// programVersion is version, or else the module version the binary was
// built from ("(devel)" for a build from a work tree).
func programVersion() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok || bi.Main.Version == "" {
		return "(unknown)"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += " " + s.Value[:12]
		}
	}
	return v
}
