package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/pipe"
)

// Time limits. The machines are slow and noisy and Wine is slower still:
// nothing here measures speed. wait bounds what must happen eventually;
// settle is how long a test lets another goroutine or process reach a
// blocking call before acting on it.
const (
	wait   = 2 * time.Minute
	settle = 300 * time.Millisecond
)

// uniqueName returns a name unique to this test and this run, for objects of
// any kind: xipc-, the end of the test's name, and a random number.
func uniqueName(t testing.TB) string {
	var b strings.Builder
	for _, r := range t.Name() {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9', r == '-':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	s := b.String()
	if len(s) > 48 {
		s = s[len(s)-48:]
	}
	return fmt.Sprintf("xipc-%s-%08x", s, rand.Uint32())
}

// pipeName returns a pipe name unique to this test and this run.
// In a remote run (TestPipeRemote) it is `\\HOST\pipe\NAME`.
func pipeName(t testing.TB) string { return pipePrefix() + uniqueName(t) }

// bareName returns the NAME part of `\\.\pipe\NAME` (or `\\HOST\pipe\NAME`).
func bareName(full string) string { return strings.TrimPrefix(full, pipePrefix()) }

// A subtest is one behaviour of a suite.
type subtest struct {
	name string
	f    func(t *testing.T)
}

// A group is a named list of subtests.
type group struct {
	name  string
	tests []subtest
}

// runGroups runs each group's subtests as subtests of the group.
func runGroups(t *testing.T, groups []group) {
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tt := range g.tests {
				t.Run(tt.name, tt.f)
			}
		})
	}
}

// peer is a peer process: the test binary re-executed, obeying the commands
// the test sends.
type peer struct {
	t      testing.TB
	cmd    *exec.Cmd
	pid    int
	stderr lockedBuffer

	wmu   sync.Mutex // serialises writes of commands
	stdin io.WriteCloser

	mu      sync.Mutex
	seq     int
	pending map[int]chan reply

	dead    chan struct{} // closed when the peer's output ends
	exited  chan struct{} // closed when the process has been waited for
	waitErr error         // set before exited is closed
	killed  atomic.Bool
}

// startPeer starts a peer process; t.Cleanup ends it.
func startPeer(t testing.TB) *peer {
	t.Helper()
	return startPeers(t, 1)[0]
}

// startPeers starts n peer processes at once, so that their start-ups
// (slow under the race detector and Wine) overlap; t.Cleanup ends them.
func startPeers(t testing.TB, n int) []*peer {
	t.Helper()
	ps := make([]*peer, n)
	hellos := make([]<-chan reply, n)
	for i := range ps {
		ps[i] = launchPeer(t)
		hellos[i] = ps[i].send(request{Op: "hello"})
	}
	for i, p := range ps {
		if r := p.await(hellos[i], "hello"); r.Pid != p.pid {
			t.Fatalf("peer says its pid is %d; the test started pid %d", r.Pid, p.pid)
		}
	}
	return ps
}

// launchPeer starts a peer process without waiting for it to be ready.
func launchPeer(t testing.TB) *peer {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	p := &peer{t: t, pending: map[int]chan reply{}, dead: make(chan struct{}), exited: make(chan struct{})}
	p.cmd = exec.Command(exe)
	p.cmd.Env = append(os.Environ(), peerEnv+"="+agentRole)
	p.cmd.Stderr = &p.stderr
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting a peer process: %v", err)
	}
	p.pid = p.cmd.Process.Pid
	go p.readReplies(stdout)
	t.Cleanup(p.stop)
	return p
}

func (p *peer) readReplies(stdout io.Reader) {
	dec := json.NewDecoder(stdout)
	for {
		var r reply
		if err := dec.Decode(&r); err != nil {
			break
		}
		p.mu.Lock()
		ch := p.pending[r.Seq]
		delete(p.pending, r.Seq)
		p.mu.Unlock()
		if ch != nil {
			ch <- r
		}
	}
	close(p.dead)
	p.waitErr = p.cmd.Wait()
	close(p.exited)
}

// stop ends the peer at the end of the test: closing its input makes it
// exit; a peer that does not is killed.
func (p *peer) stop() {
	p.stdin.Close()
	select {
	case <-p.exited:
	case <-time.After(wait):
		p.t.Errorf("peer %d did not exit when its input closed; killing it", p.pid)
		p.kill()
	}
	if !p.killed.Load() && p.waitErr != nil {
		p.t.Errorf("peer %d: %v\n%s", p.pid, p.waitErr, p.stderr.String())
	} else if p.t.Failed() && p.stderr.Len() > 0 {
		p.t.Logf("peer %d stderr:\n%s", p.pid, p.stderr.String())
	}
}

// kill kills the peer (SIGKILL, TerminateProcess) and waits until it is gone.
func (p *peer) kill() {
	p.killed.Store(true)
	if err := p.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		p.t.Errorf("killing peer %d: %v", p.pid, err)
	}
	select {
	case <-p.exited:
	case <-time.After(wait):
		p.t.Fatalf("peer %d still running %v after being killed", p.pid, wait)
	}
}

// exit makes the peer exit normally, without closing anything first, and
// waits until it is gone.
func (p *peer) exit() {
	p.stdin.Close()
	select {
	case <-p.exited:
	case <-time.After(wait):
		p.t.Fatalf("peer %d did not exit when its input closed", p.pid)
	}
	if p.waitErr != nil {
		p.t.Fatalf("peer %d: %v\n%s", p.pid, p.waitErr, p.stderr.String())
	}
}

// send sends a command; the reply comes on the channel.
func (p *peer) send(req request) <-chan reply {
	ch := make(chan reply, 1)
	p.mu.Lock()
	p.seq++
	req.Seq = p.seq
	p.pending[req.Seq] = ch
	p.mu.Unlock()
	p.wmu.Lock()
	err := json.NewEncoder(p.stdin).Encode(req)
	p.wmu.Unlock()
	if err != nil {
		ch <- reply{Seq: req.Seq, Err: fmt.Sprintf("sending %s to the peer: %v", req.Op, err)}
	}
	return ch
}

// await waits for the reply to a command sent with send.
func (p *peer) await(ch <-chan reply, what string) reply {
	p.t.Helper()
	select {
	case r := <-ch:
		return r
	case <-p.dead:
		select {
		case r := <-ch:
			return r
		default:
		}
		p.t.Fatalf("peer %d ended during %s:\n%s", p.pid, what, p.stderr.String())
	case <-time.After(wait):
		p.t.Fatalf("peer %d: no answer to %s after %v", p.pid, what, wait)
	}
	panic("unreachable")
}

// do runs a command and returns its reply, whatever the outcome.
func (p *peer) do(req request) reply {
	p.t.Helper()
	return p.await(p.send(req), req.Op)
}

// must runs a command that must succeed.
func (p *peer) must(req request) reply {
	p.t.Helper()
	r := p.do(req)
	if r.Err != "" {
		p.t.Fatalf("peer %s %s: %s", req.Op, req.Name, r.Err)
	}
	return r
}

func (p *peer) listen(name string, cfg *pipe.ListenConfig) int {
	p.t.Helper()
	return p.must(request{Op: "listen", Name: name, Listen: cfg}).ID
}

func (p *peer) dial(name string, cfg *pipe.DialConfig) int {
	p.t.Helper()
	return p.must(request{Op: "dial", Name: name, Dial: cfg, Timeout: wait}).ID
}

func (p *peer) write(id int, data []byte) {
	p.t.Helper()
	if r := p.must(request{Op: "write", ID: id, Data: data}); r.N != len(data) {
		p.t.Fatalf("peer wrote %d bytes of %d", r.N, len(data))
	}
}

func (p *peer) readMsg(id, size int) ([]byte, error) {
	p.t.Helper()
	r := p.do(request{Op: "readMsg", ID: id, Size: size})
	return r.Data, r.err()
}

func (p *peer) close(id int) {
	p.t.Helper()
	p.must(request{Op: "close", ID: id})
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func (b *lockedBuffer) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Len()
}

// In-process helpers.

// listen creates a pipe for the test; t.Cleanup closes it.
func listen(t testing.TB, name string, cfg *pipe.ListenConfig) *pipe.Listener {
	t.Helper()
	l, err := pipe.Listen(serverSide(name, cfg))
	if err != nil {
		t.Fatalf("Listen(%q, %+v): %v", name, cfg, err)
	}
	t.Cleanup(func() {
		// Closing twice is fine here: some tests close the listener themselves.
		_ = l.Close()
	})
	return l
}

// guard gives c a deadline far away, so that a bug makes a test fail
// instead of hanging, and closes c at the end of the test.
func guard(t testing.TB, c *pipe.Conn) *pipe.Conn {
	t.Helper()
	if err := c.SetDeadline(time.Now().Add(wait)); err != nil {
		t.Fatalf("SetDeadline: %v", err)
	}
	t.Cleanup(func() {
		// The test may have closed c already, or be testing Close.
		_ = c.Close()
	})
	return c
}

type result[T any] struct {
	v   T
	err error
}

// async runs f in a goroutine; the result comes on the channel.
func async[T any](f func() (T, error)) <-chan result[T] {
	ch := make(chan result[T], 1)
	go func() {
		v, err := f()
		ch <- result[T]{v, err}
	}()
	return ch
}

// get waits for an async result; a call that never returns fails the test.
func get[T any](t testing.TB, ch <-chan result[T], what string) (T, error) {
	t.Helper()
	select {
	case r := <-ch:
		return r.v, r.err
	case <-time.After(wait):
		t.Fatalf("%s did not return within %v", what, wait)
	}
	panic("unreachable")
}

// pending fails the test if the async call has already returned.
func pending[T any](t testing.TB, ch <-chan result[T], what string) {
	t.Helper()
	select {
	case r := <-ch:
		t.Fatalf("%s returned (%v, %v) early; want it still waiting", what, r.v, r.err)
	default:
	}
}

// accept waits for the next client of l.
func accept(t testing.TB, l *pipe.Listener) *pipe.Conn {
	t.Helper()
	c, err := get(t, async(l.AcceptPipe), "Accept")
	if err != nil {
		t.Fatalf("Accept: %v", err)
	}
	return guard(t, c)
}

// acceptAll accepts every client of l until l is closed; the connections
// come on the channel. t.Cleanup closes l and the connections.
func acceptAll(t testing.TB, l *pipe.Listener) <-chan *pipe.Conn {
	ch := make(chan *pipe.Conn, 1024)
	done := make(chan struct{})
	var mu sync.Mutex
	var conns []*pipe.Conn
	go func() {
		defer close(done)
		for {
			c, err := l.AcceptPipe()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			ch <- c
		}
	}()
	t.Cleanup(func() {
		_ = l.Close() // the test may have closed it
		select {
		case <-done:
		case <-time.After(wait):
			t.Errorf("Accept still blocked %v after the listener was closed", wait)
		}
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			_ = c.Close() // the test may have closed it
		}
	})
	return ch
}

// next returns the next connection from acceptAll.
func next(t testing.TB, ch <-chan *pipe.Conn) *pipe.Conn {
	t.Helper()
	select {
	case c := <-ch:
		if err := c.SetDeadline(time.Now().Add(wait)); err != nil {
			t.Fatalf("SetDeadline: %v", err)
		}
		return c
	case <-time.After(wait):
		t.Fatalf("no client accepted within %v", wait)
	}
	panic("unreachable")
}

// dial connects to name, waiting out busy instances.
func dial(t testing.TB, name string, cfg *pipe.DialConfig) *pipe.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, err := pipe.Dial(ctx, name, cfg)
	if err != nil {
		t.Fatalf("Dial(%q, %+v): %v", name, cfg, err)
	}
	return guard(t, c)
}

// pair returns the two ends of a fresh pipe, both in this process.
func pair(t testing.TB, lcfg *pipe.ListenConfig, dcfg *pipe.DialConfig) (srv, cli *pipe.Conn) {
	t.Helper()
	name := pipeName(t)
	l := listen(t, name, lcfg)
	ch := async(l.AcceptPipe)
	cli = dial(t, name, dcfg)
	srv, err := get(t, ch, "Accept")
	if err != nil {
		t.Fatalf("Accept: %v", err)
	}
	return guard(t, srv), cli
}

// peerClient makes this process the server of a fresh pipe and a peer
// process its client; it returns the server's end, the peer and the
// peer's connection.
func peerClient(t testing.TB, lcfg *pipe.ListenConfig, dcfg *pipe.DialConfig) (*pipe.Conn, *peer, int) {
	t.Helper()
	name := pipeName(t)
	l := listen(t, name, lcfg)
	ch := async(l.AcceptPipe)
	p := startPeer(t)
	id := p.dial(name, dcfg)
	srv, err := get(t, ch, "Accept")
	if err != nil {
		t.Fatalf("Accept: %v", err)
	}
	return guard(t, srv), p, id
}

// peerServer makes a peer process the server of a fresh pipe and this
// process its client; it returns the client's end, the peer and the peer's
// connection.
func peerServer(t testing.TB, lcfg *pipe.ListenConfig, dcfg *pipe.DialConfig) (*pipe.Conn, *peer, int) {
	t.Helper()
	name := pipeName(t)
	p := startPeer(t)
	lid := p.listen(name, lcfg)
	ch := p.send(request{Op: "accept", ID: lid})
	cli := dial(t, name, dcfg)
	r := p.await(ch, "accept")
	if r.Err != "" {
		t.Fatalf("peer Accept: %s", r.Err)
	}
	return cli, p, r.ID
}

// Assertions.

// wantErr fails unless err matches every target.
func wantErr(t testing.TB, what string, err error, targets ...error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: nil error; want one matching %s", what, errNames(targets))
		return
	}
	for _, target := range targets {
		if !errors.Is(err, target) {
			t.Errorf("%s: error %q (%T) does not match %s", what, err, err, errName(target))
		}
	}
}

// wantAnyErr fails unless err matches one of the targets.
func wantAnyErr(t testing.TB, what string, err error, targets ...error) {
	t.Helper()
	for _, target := range targets {
		if errors.Is(err, target) {
			return
		}
	}
	t.Errorf("%s: error %v (%T); want one matching one of %s", what, err, err, errNames(targets))
}

func errNames(targets []error) string {
	var s []string
	for _, e := range targets {
		s = append(s, errName(e))
	}
	return strings.Join(s, ", ")
}

// wantEOF fails unless err is io.EOF itself, as net.Conn reads report the end.
func wantEOF(t testing.TB, what string, n int, err error) {
	t.Helper()
	if n != 0 || err != io.EOF {
		t.Errorf("%s = (%d, %v); want (0, io.EOF) itself", what, n, err)
	}
}

// wantTimeout fails unless err is a deadline error as net.Conn gives one:
// it matches os.ErrDeadlineExceeded, and it is a net.Error and an
// *errs.OpError whose Timeout reports true.
func wantTimeout(t testing.TB, what string, err error) {
	t.Helper()
	wantErr(t, what, err, errs.ErrTimeout)
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("%s: error %v is not a net.Error with Timeout() true", what, err)
	}
	var oe *errs.OpError
	if !errors.As(err, &oe) || !oe.Timeout() {
		t.Errorf("%s: error %v is not an *OpError with Timeout() true", what, err)
	}
}

// readMsg reads one message and fails unless it is want, whole.
func readMsg(t testing.TB, c *pipe.Conn, want []byte) {
	t.Helper()
	buf := make([]byte, len(want)+64<<10)
	n, err := c.ReadMsg(buf)
	if err != nil || !bytes.Equal(buf[:n], want) {
		t.Fatalf("ReadMsg = (%d, %v) %s; want (%d, nil) %s", n, err, show(buf[:n]), len(want), show(want))
	}
}

// writeMsg writes one message.
func writeMsg(t testing.TB, c *pipe.Conn, m []byte) {
	t.Helper()
	if n, err := c.WriteMsg(m); err != nil || n != len(m) {
		t.Fatalf("WriteMsg(%d bytes) = (%d, %v)", len(m), n, err)
	}
}

// show prints a message briefly.
func show(b []byte) string {
	if len(b) <= 40 {
		return fmt.Sprintf("%q", b)
	}
	return fmt.Sprintf("%q…(%d bytes)", b[:40], len(b))
}

// writeUntilBroken writes to a connection whose peer is gone and fails
// unless a write soon reports ErrBrokenPipe: some systems accept a write or
// two before they notice.
func writeUntilBroken(t testing.TB, c *pipe.Conn) {
	t.Helper()
	const tries = 100
	for range tries {
		_, err := c.Write([]byte("anyone there?"))
		if err != nil {
			wantErr(t, "Write after the peer went away", err, errs.ErrBrokenPipe)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("Write after the peer went away succeeded %d times; want ErrBrokenPipe", tries)
}
