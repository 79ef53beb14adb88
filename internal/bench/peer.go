package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/xipc/xipc/pipe"
	"github.com/xipc/xipc/shm/ring"
)

// PeerCommand is the hidden xipc subcommand that runs the peer side of a
// benchmark: `xipc bench-peer KIND SIZE ADDR [ADDR2]`.
const PeerCommand = "bench-peer"

// Peer runs the other side of one benchmark transport, in a process that
// the bench started as `xipc bench-peer KIND SIZE ADDR [ADDR2]`: it creates
// or opens the transport's objects, prints "ready" (and, for tcp, the
// address) on stdout, and answers messages until stdin closes or ctx ends;
// then it closes its objects and returns nil. SIZE is the largest message.
func Peer(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) error {
	if len(args) < 3 {
		return fmt.Errorf("want KIND SIZE ADDR [ADDR2], got %q", args)
	}
	kind, addr := args[0], args[2]
	size, err := strconv.Atoi(args[1])
	if err != nil || size < 1 {
		return fmt.Errorf("bad size %q", args[1])
	}
	addr2 := ""
	if len(args) > 3 {
		addr2 = args[3]
	}
	if prefix := os.Getenv(PeerProfileEnv); prefix != "" {
		stop, err := StartCPUProfile(fmt.Sprintf("%s-%s-%d.pprof", prefix, kind, os.Getpid()))
		if err != nil {
			return err
		}
		defer stop()
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		// The bench closes our stdin to stop us; if it dies, the pipe
		// closes too, so no peer outlives its bench.
		_, _ = io.Copy(io.Discard, stdin) // any end of stdin means stop
		cancel()
	}()

	var closers []func() error
	var wg sync.WaitGroup
	defer wg.Wait()
	serve := func(c msgConn) {
		closers = append(closers, c.close)
		wg.Go(func() { _ = serveConn(c, size) }) // ends when the bench closes its side, or we close ours
	}
	ready := "ready\n"
	switch kind {
	case "pipe", "unix", "tcp":
		l, err := listenStream(kind, addr)
		if err != nil {
			return err
		}
		ready = "ready " + l.Addr().String() + "\n"
		var mu sync.Mutex
		conns := map[msgConn]bool{}
		closers = append(closers, func() error {
			err := l.Close()
			mu.Lock()
			defer mu.Unlock()
			for c := range conns {
				_ = c.close() // the bench may have closed its side already
			}
			return err
		})
		wg.Go(func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				var mc msgConn
				if pc, ok := c.(*pipe.Conn); ok {
					mc = pipeConn{pc}
				} else {
					mc = newStreamConn(c, size)
				}
				mu.Lock()
				conns[mc] = true
				mu.Unlock()
				wg.Go(func() { _ = serveConn(mc, size) })
			}
		})
	case "mailslot", "unixgram":
		create, open := createMailslot, openMailslot
		if kind == "unixgram" {
			create, open = listenUnixgram, dialUnixgram
		}
		in, err := create(addr)
		if err != nil {
			return err
		}
		out, err := open(addr2)
		if err != nil {
			in.Close()
			return err
		}
		serve(dgramConn{in: in, out: out})
	case "ring":
		in, err := ring.Open(addr, ring.Consumer, nil)
		if err != nil {
			return err
		}
		out, err := ring.Open(addr2, ring.Producer, nil)
		if err != nil {
			in.Close()
			return err
		}
		serve(ringConn{ctx: ctx, out: out, in: in})
	default:
		if p := peerServers[kind]; p != nil {
			stop, err := p(ctx, addr, size)
			if err != nil {
				return err
			}
			closers = append(closers, stop)
			break
		}
		return fmt.Errorf("unknown transport %q", kind)
	}
	if _, err := io.WriteString(stdout, ready); err != nil {
		return err
	}
	<-ctx.Done()
	var errs []error
	for _, c := range closers {
		if err := c(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, err)
		}
	}
	wg.Wait()
	return errors.Join(errs...)
}

// PeerProfileEnv names the environment variable that makes every peer
// write a CPU profile to PREFIX-KIND-PID.pprof.
const PeerProfileEnv = "XIPC_BENCH_PEER_CPUPROFILE"

// StartCPUProfile starts a CPU profile written to file; the function it
// returns stops it and closes the file.
func StartCPUProfile(file string) (stop func(), err error) {
	f, err := os.Create(file)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close() // the profile is flushed; a close error of a written file is not the bench's concern
	}, nil
}

// peerServers are peer transports that a mechanism adds in a file of its
// own: a function that sets up the peer's side, answers in goroutines of
// its own until ctx ends, and returns how to stop it.
var peerServers = map[string]func(ctx context.Context, addr string, size int) (stop func() error, err error){}

// listenStream is the peer's listener for the stream transports.
func listenStream(kind, addr string) (net.Listener, error) {
	switch kind {
	case "pipe":
		return pipe.Listen(addr, &pipe.ListenConfig{Message: true})
	case "unix":
		return net.Listen("unix", addr)
	}
	return net.Listen("tcp", addr)
}

// peerProc is a peer process, as the bench sees it.
type peerProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
	errb  *limitedBuffer
	done  chan struct{}
	err   error
}

// peerStartTimeout bounds the wait for a peer to say it is ready.
const peerStartTimeout = 30 * time.Second

// startPeer runs exe with args, waits until it prints a line starting
// with "ready", and returns it with the rest of that line.
func startPeer(ctx context.Context, exe string, args ...string) (*peerProc, string, error) {
	cmd := exec.Command(exe, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, "", err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err
	}
	p := &peerProc{cmd: cmd, stdin: stdin, out: bufio.NewReader(out), errb: &limitedBuffer{max: 4 << 10}, done: make(chan struct{})}
	cmd.Stderr = p.errb
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	type line struct {
		s   string
		err error
	}
	lc := make(chan line, 1)
	go func() {
		s, err := p.out.ReadString('\n')
		lc <- line{s, err}
	}()
	timer := time.NewTimer(peerStartTimeout)
	defer timer.Stop()
	select {
	case l := <-lc:
		if rest, ok := strings.CutPrefix(l.s, "ready"); ok && l.err == nil {
			return p, strings.TrimSpace(rest), nil
		}
		p.kill()
		return nil, "", fmt.Errorf("peer %s did not start: %v %s", strings.Join(args, " "), l.err, p.stderr())
	case <-timer.C:
		p.kill()
		return nil, "", fmt.Errorf("peer %s did not say ready within %v", strings.Join(args, " "), peerStartTimeout)
	case <-ctx.Done():
		p.kill()
		return nil, "", ctx.Err()
	}
}

// stop asks the peer to exit (closes its stdin) and kills it if it has
// not within a few seconds; it returns an error if the peer failed.
func (p *peerProc) stop() error {
	_ = p.stdin.Close() // an error means it is closed already
	select {
	case <-p.done:
		if p.err != nil {
			return fmt.Errorf("peer %s: %v %s", strings.Join(p.cmd.Args[1:], " "), p.err, p.stderr())
		}
		return nil
	case <-time.After(5 * time.Second):
		p.kill()
		return fmt.Errorf("peer %s did not exit when asked; killed", strings.Join(p.cmd.Args[1:], " "))
	}
}

// kill ends the peer at once and waits for it.
func (p *peerProc) kill() {
	_ = p.cmd.Process.Kill() // fails only if it has exited
	<-p.done
}

func (p *peerProc) stderr() string { return strings.TrimSpace(p.errb.String()) }

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	mu  sync.Mutex
	b   []byte
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if room := l.max - len(l.b); room > 0 {
		l.b = append(l.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

func (l *limitedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.b)
}
