package cli

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// A demoSection shows one mechanism with two processes: this one and xipc
// processes that it starts, such as the server in the pipe section. Each
// mechanism adds its section to demoSections.
type demoSection struct {
	name  string // what `xipc demo NAME` selects
	title string
	// self and peer label the lines of this process and of the processes
	// it starts: the roles they play, six characters at most.
	self, peer string
	run        func(ctx context.Context, d *demo) error
}

// demoSections run in this order.
var demoSections = []demoSection{
	{"pipe", "Named pipes", "client", "server", demoPipe},
	{"mailslot", "Mailslots", "reader", "writer", demoMailslot},
	{"shm", "Shared memory", "this", "other", demoShm},
	{"msg", "Window messages", "window", "sender", demoMsg},
	{"sock", "Sockets and unified addressing", "server", "client", demoSock},
}

func newDemoCmd(e *env) *cobra.Command {
	var names []string
	for _, s := range demoSections {
		names = append(names, s.name)
	}
	return &cobra.Command{
		Use:   "demo [" + strings.Join(names, "|") + "]...",
		Short: "Show each mechanism at work between two processes",
		Long: `Demo shows each mechanism at work between two processes: this one, and
xipc processes started from the same executable as the other side (the
server of a pipe, the writers of a mailslot). It prints what each side
does. Names are unique to the run, so several demos can run at once.
Without arguments it shows every mechanism.

Mechanisms: ` + strings.Join(names, ", ") + `.`,
		Args: func(cmd *cobra.Command, args []string) error {
			for _, a := range args {
				if findSection(a) == nil {
					return usagef("%s: unknown mechanism %q (want %s)", cmd.CommandPath(), a, strings.Join(names, ", "))
				}
			}
			return nil
		},
		RunE: runE(func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				args = names
			}
			exe, err := os.Executable()
			if err != nil {
				return fmt.Errorf("demo: cannot find this program to start the other side: %w", err)
			}
			d := &demo{out: e.stdout, exe: exe, id: demoID()}
			fmt.Fprintf(d.out, "xipc demo: two processes per mechanism: this one (pid %d) and xipc processes it starts.\n", os.Getpid())
			for _, a := range args {
				s := findSection(a)
				d.self, d.peer = s.self, s.peer
				fmt.Fprintf(d.out, "\n== %s (%s) ==\n", s.title, s.name)
				if err := s.run(cmd.Context(), d); err != nil {
					return fmt.Errorf("demo %s: %w", s.name, err)
				}
			}
			fmt.Fprintf(d.out, "\ndemo done\n")
			return nil
		}),
	}
}

func findSection(name string) *demoSection {
	for i := range demoSections {
		if demoSections[i].name == name {
			return &demoSections[i]
		}
	}
	return nil
}

// demoID is unique to one run of the demo: object names include it.
func demoID() string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return fmt.Sprintf("%d-%s", os.Getpid(), hex.EncodeToString(b[:]))
}

// demo is the state of one `xipc demo` run.
type demo struct {
	out        io.Writer
	exe        string
	id         string
	self, peer string // the current section's labels
}

// name returns a name for an object of this run.
func (d *demo) name(kind string) string { return "xipc-demo-" + kind + "-" + d.id }

// client prints a line said by this process (the client in the pipe
// section).
func (d *demo) client(format string, args ...any) {
	fmt.Fprintf(d.out, "  %-6s | "+format+"\n", append([]any{d.self}, args...)...)
}

// said prints a line that the other side said.
func (d *demo) said(line string) {
	fmt.Fprintf(d.out, "  %-6s | %s\n", d.peer, line)
}

// note prints an explanation that neither side says.
func (d *demo) note(format string, args ...any) {
	fmt.Fprintf(d.out, "         | "+format+"\n", args...)
}

// step starts a new part of a section.
func (d *demo) step(title string) {
	fmt.Fprintf(d.out, "\n-- %s\n", title)
}

// demoTimeout bounds each wait for the other side, generous for slow machines
// (Wine starts a process in about a second).
const demoTimeout = 20 * time.Second

// demoServer is an xipc process started by the demo: the server in the
// pipe section. Its standard output and error are read line by line, as
// one stream; expect prints those lines in order, so the output shows both
// sides in the order things happened.
type demoServer struct {
	d     *demo
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string
	done  chan struct{} // closed when the process has exited
	err   error         // its exit status, once done
}

// startServer runs `xipc ARGS...` as the other side. Closing its standard
// input (stop) asks it to shut down; cancelling ctx kills it.
func (d *demo) startServer(ctx context.Context, args ...string) (*demoServer, error) {
	cmd := exec.CommandContext(ctx, d.exe, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	cmd.Stderr = cmd.Stdout // one stream, in the order the process wrote
	shown := []string{"xipc"}
	for _, a := range args {
		shown = append(shown, shellQuote(a))
	}
	fmt.Fprintf(d.out, "  %-6s $ %s\n", d.peer, strings.Join(shown, " "))
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &demoServer{d: d, cmd: cmd, stdin: stdin, lines: make(chan string, 100), done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
		close(s.lines)
		s.err = cmd.Wait()
		close(s.done)
	}()
	return s, nil
}

// pid returns the server's process ID.
func (s *demoServer) pid() int { return s.cmd.Process.Pid }

// expect prints the server's lines up to and including the first that
// contains want; it fails if the server exits or stays silent for
// demoTimeout first.
func (s *demoServer) expect(want string) error { return s.expectAll(want) }

// expectAll is expect for several lines that may come in any order: it
// prints lines until each of wants has been seen.
func (s *demoServer) expectAll(wants ...string) error {
	timer := time.NewTimer(demoTimeout)
	defer timer.Stop()
	left := append([]string(nil), wants...)
	for len(left) > 0 {
		select {
		case line, ok := <-s.lines:
			if !ok {
				<-s.done
				return fmt.Errorf("%s exited (%v) before saying %q", s.d.peer, s.err, left[0])
			}
			s.d.said(line)
			for i, w := range left {
				if strings.Contains(line, w) {
					left = append(left[:i], left[i+1:]...)
					break
				}
			}
		case <-timer.C:
			return fmt.Errorf("%s did not say %q within %v", s.d.peer, left[0], demoTimeout)
		}
	}
	return nil
}

// stop closes the server's standard input, which it takes as the signal to
// shut down, prints the rest of what it says, and returns its exit status.
func (s *demoServer) stop() error {
	// Wait closes the pipe once the process has exited, as a process that
	// does not wait for the signal (mailslot send) may have.
	if err := s.stdin.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
		return err
	}
	timer := time.NewTimer(demoTimeout)
	defer timer.Stop()
	for {
		select {
		case line, ok := <-s.lines:
			if !ok {
				<-s.done
				return s.err
			}
			s.d.said(line)
		case <-timer.C:
			return fmt.Errorf("%s did not exit after its standard input was closed", s.d.peer)
		}
	}
}

// kill ends the server at once, for the error paths; its output is dropped.
func (s *demoServer) kill() {
	select {
	case <-s.done:
		return
	default:
	}
	_ = s.cmd.Process.Kill() // fails only if it has exited, which is what we want
	go func() {
		for range s.lines {
		}
	}()
	<-s.done
}

// run runs `xipc ARGS...` to its end, printing what it says, and returns
// its exit status; an error means it could not run or did not end.
func (d *demo) run(ctx context.Context, args ...string) (int, error) {
	s, err := d.startServer(ctx, args...)
	if err != nil {
		return 0, err
	}
	err = s.stop()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), nil
	case err != nil:
		s.kill()
		return 0, err
	}
	return 0, nil
}

// shellQuote quotes an argument for a POSIX shell when it needs it, so that
// the command lines the demo shows can be pasted.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.,:/=+@%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
