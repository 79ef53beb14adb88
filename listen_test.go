package xipc_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xipc/xipc"
)

// addrs returns one fresh address of each network.
func addrs(t *testing.T) map[string]string {
	t.Helper()
	var b [4]byte
	_, _ = rand.Read(b[:]) // never fails
	id := hex.EncodeToString(b[:])
	m := map[string]string{
		"pipe": `pipe:xipc-test-` + id,
		"tcp":  "tcp:127.0.0.1:0",
	}
	if runtime.GOOS != "windows" { // Wine has no AF_UNIX sockets
		dir, err := os.MkdirTemp("", "xipc")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		m["unix"] = "unix:" + filepath.Join(dir, "s")
	}
	return m
}

// listenAddr returns the address peers dial to reach l, given the address
// it listened at (a TCP port 0 becomes the port chosen).
func listenAddr(addr string, l net.Listener) string {
	if strings.HasPrefix(addr, "tcp:") {
		return "tcp:" + l.Addr().String()
	}
	return addr
}

// startPeer starts the test binary as a peer process in role at addr and
// returns it with its stdout.
func startPeer(t *testing.T, role, addr string) (*exec.Cmd, *bufio.Reader) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "XIPC_TEST_PEER="+role, "XIPC_TEST_ADDR="+addr)
	// Its stderr is a pipe of its own, not this process's: a peer that
	// outlived the test (a slow kill under Wine) would otherwise keep go
	// test waiting for output.
	var stderr strings.Builder
	cmd.Stderr = &stderr
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // it may have exited: nothing to do then
		_ = cmd.Wait()         // its status is checked by the tests that care
		if t.Failed() && stderr.Len() > 0 {
			t.Logf("peer's stderr:\n%s", stderr.String())
		}
	})
	return cmd, bufio.NewReader(out)
}

func readLine(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("peer said %q, then %v", line, err)
	}
	return strings.TrimSuffix(line, "\n")
}

// TestListenDial: a client process dials each kind of address, talks, and
// half-closes; the server sees the same byte stream on every network.
func TestListenDial(t *testing.T) {
	for network, addr := range addrs(t) {
		t.Run(network, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			l, err := xipc.Listen(ctx, addr)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			if l.Addr().Network() != network {
				t.Errorf("Addr().Network() = %q, want %q", l.Addr().Network(), network)
			}
			cmd, out := startPeer(t, "dial", listenAddr(addr, l))
			c, err := l.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(20 * time.Second))
			r := bufio.NewReader(c)
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			if want := "hello from " + itoa(cmd.Process.Pid) + "\n"; line != want {
				t.Errorf("server read %q, want %q", line, want)
			}
			if _, err := io.WriteString(c, "hi "+line); err != nil {
				t.Fatal(err)
			}
			if got := readLine(t, out); got != "reply: hi "+strings.TrimSuffix(line, "\n") {
				t.Errorf("client printed %q", got)
			}
			if _, err := r.ReadByte(); err != io.EOF {
				t.Errorf("read after the client's CloseWrite: %v, want io.EOF", err)
			}
			if err := c.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
				t.Fatal(err)
			}
			if got := readLine(t, out); got != "eof" {
				t.Errorf("client printed %q, want eof", got)
			}
			if err := cmd.Wait(); err != nil {
				t.Errorf("client: %v", err)
			}
		})
	}
}

// TestPeerKilled: a client killed with SIGKILL ends the server's read with
// an error or io.EOF, never a hang.
func TestPeerKilled(t *testing.T) {
	for network, addr := range addrs(t) {
		t.Run(network, func(t *testing.T) {
			l, err := xipc.Listen(context.Background(), addr)
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			cmd, out := startPeer(t, "hang", listenAddr(addr, l))
			c, err := l.Accept()
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if got := readLine(t, out); got != "connected" {
				t.Fatalf("peer said %q", got)
			}
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			c.SetReadDeadline(time.Now().Add(20 * time.Second))
			_, err = c.Read(make([]byte, 10))
			if err == nil || errors.Is(err, xipc.ErrTimeout) {
				t.Fatalf("read from a killed peer: %v, want EOF or a broken connection", err)
			}
		})
	}
}

func TestDialNobody(t *testing.T) {
	for network, addr := range addrs(t) {
		t.Run(network, func(t *testing.T) {
			if network == "tcp" {
				// A port that was just free: listen, note it, close.
				l, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				addr = "tcp:" + l.Addr().String()
				l.Close()
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := xipc.Dial(ctx, addr)
			if !errors.Is(err, xipc.ErrNotFound) {
				t.Fatalf("Dial(%q) = %v, want ErrNotFound", addr, err)
			}
			var op *xipc.OpError
			if !errors.As(err, &op) || op.Op != "dial" || op.Kind != network {
				t.Errorf("Dial(%q) = %#v, want an *OpError dial %s", addr, err, network)
			}
		})
	}
}

func TestBadAddr(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		addr string
		want error
	}{
		{"nonsense", xipc.ErrInvalidName},
		{"udp:localhost:1", xipc.ErrNotSupported},
		{"tcp:localhost:99999", xipc.ErrInvalidName},
	} {
		if _, err := xipc.Listen(ctx, c.addr); !errors.Is(err, c.want) {
			t.Errorf("Listen(%q) = %v, want %v", c.addr, err, c.want)
		}
		if _, err := xipc.Dial(ctx, c.addr); !errors.Is(err, c.want) {
			t.Errorf("Dial(%q) = %v, want %v", c.addr, err, c.want)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := xipc.Listen(cancelled, "tcp:127.0.0.1:0"); !errors.Is(err, context.Canceled) {
		t.Errorf("Listen with a cancelled context = %v", err)
	}
}

// TestListenTaken: a second listener on a live address fails with
// ErrExists; a unix socket left by a killed listener is replaced.
func TestListenTaken(t *testing.T) {
	for network, addr := range addrs(t) {
		if network == "pipe" {
			continue // package pipe's rule, which differs between the OSes (docs/sockets.md)
		}
		t.Run(network, func(t *testing.T) {
			ctx := context.Background()
			l, err := xipc.Listen(ctx, addr)
			if err != nil {
				t.Fatal(err)
			}
			addr = listenAddr(addr, l)
			if l2, err := xipc.Listen(ctx, addr); !errors.Is(err, xipc.ErrExists) {
				if err == nil {
					l2.Close()
				}
				t.Fatalf("second Listen(%q) = %v, want ErrExists", addr, err)
			}
			l.Close()
			if network != "unix" {
				return
			}
			cmd, out := startPeer(t, "listen", addr)
			if got := readLine(t, out); got != "listening" {
				t.Fatalf("peer said %q", got)
			}
			if _, err := xipc.Listen(ctx, addr); !errors.Is(err, xipc.ErrExists) {
				t.Fatalf("Listen on a live peer's socket = %v, want ErrExists", err)
			}
			if err := cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait() // killed: the error says so
			l, err = xipc.Listen(ctx, addr)
			if err != nil {
				t.Fatalf("Listen on a killed peer's socket: %v", err)
			}
			l.Close()
			if _, err := os.Lstat(strings.TrimPrefix(addr, "unix:")); !os.IsNotExist(err) {
				t.Errorf("after Close the socket file: %v, want gone", err)
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
