package win32_test

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// peer is another process running Win32 calls through the facade.
type peer struct {
	t   *testing.T
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

func startPeer(t *testing.T) *peer {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "XIPC_WIN32_PEER=1")
	// Its stderr is a pipe of its own, not this process's: a peer that
	// outlived the test would otherwise keep go test waiting for output.
	var stderr lockedBuffer
	cmd.Stderr = &stderr
	cmd.WaitDelay = 10 * time.Second
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &peer{t: t, cmd: cmd, in: in, out: bufio.NewReader(out)}
	t.Cleanup(func() {
		defer func() {
			if t.Failed() && stderr.String() != "" {
				t.Logf("peer's stderr:\n%s", stderr.String())
			}
		}()
		in.Close()
		if cmd.ProcessState != nil {
			return // killed and reaped
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	return p
}

// do sends one command and returns the fields of the answer.
func (p *peer) do(format string, args ...any) []string {
	p.t.Helper()
	if _, err := fmt.Fprintf(p.in, format+"\n", args...); err != nil {
		p.t.Fatalf("peer: %v", err)
	}
	return p.answer()
}

// send sends a command without waiting for its answer (a call that
// blocks); answer reads it later.
func (p *peer) send(format string, args ...any) {
	p.t.Helper()
	if _, err := fmt.Fprintf(p.in, format+"\n", args...); err != nil {
		p.t.Fatalf("peer: %v", err)
	}
}

func (p *peer) answer() []string {
	p.t.Helper()
	line, err := p.out.ReadString('\n')
	if err != nil {
		p.t.Fatalf("peer said %q, then %v", line, err)
	}
	var f []string
	for _, w := range splitQuoted(strings.TrimSpace(line)) {
		f = append(f, w)
	}
	return f
}

// splitQuoted splits on spaces, keeping a Go-quoted string whole and
// unquoting it.
func splitQuoted(s string) []string {
	var out []string
	for s != "" {
		s = strings.TrimLeft(s, " ")
		if strings.HasPrefix(s, `"`) {
			q, err := strconv.QuotedPrefix(s)
			if err == nil {
				u, _ := strconv.Unquote(q)
				out = append(out, u)
				s = s[len(q):]
				continue
			}
		}
		w, rest, _ := strings.Cut(s, " ")
		out = append(out, w)
		s = rest
	}
	return out
}

// kill ends the peer with SIGKILL (TerminateProcess on Windows) and reaps
// it: until then a killed process is a zombie, which still counts as alive.
func (p *peer) kill() {
	p.cmd.Process.Kill()
	p.cmd.Wait() // the error says it was killed
}

func (p *peer) pid() int {
	n, _ := strconv.Atoi(p.do("pid")[0])
	return n
}

// uniq returns a name unique to the test and the run.
func uniq(t *testing.T) string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // never fails
	return "xipc-w32-" + strings.NewReplacer("/", "-", "_", "-").Replace(t.Name()) + "-" + hex.EncodeToString(b[:])
}

func quote(s string) string { return strconv.Quote(s) }

// lockedBuffer collects a peer's stderr.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
