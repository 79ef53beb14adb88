//go:build unix

package pipe

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/internal/names"
	"github.com/xipc/xipc/internal/ns"
	"github.com/xipc/xipc/internal/wire"
)

// rawPeerEnv makes the test binary a raw peer: "MODE PATH". A raw peer
// speaks the socket protocol by hand, as a buggy or hostile program would.
const rawPeerEnv = "XIPC_RAW_PIPE_PEER"

func init() {
	if v := os.Getenv(rawPeerEnv); v != "" {
		mode, path, _ := strings.Cut(v, " ")
		os.Exit(rawPeer(mode, path))
	}
}

func header(n uint32) []byte { return binary.LittleEndian.AppendUint32(nil, n) }

// rawPeer plays a hostile client (connecting to path) or server (listening
// there). It exits 0 when the other side closes on it.
func rawPeer(mode, path string) int {
	if strings.HasPrefix(mode, "server-") {
		ln, err := net.Listen("unix", path)
		if err != nil {
			return 3
		}
		os.Stdout.WriteString("listening\n")
		c, err := ln.Accept()
		if err != nil {
			return 3
		}
		var hello [wire.HelloSize]byte
		if _, err := io.ReadFull(c, hello[:]); err != nil {
			return 3
		}
		switch mode {
		case "server-garbage":
			c.Write([]byte("HTTP/1.1"))
		case "server-huge":
			r := wire.Reply{Status: wire.StatusOK, Flags: wire.ReplyMessage | wire.ReplyServerRead | wire.ReplyServerWrite}.Marshal()
			c.Write(r[:])
			c.Write(append(header(1<<32-1), make([]byte, 1000)...))
		}
		io.Copy(io.Discard, c) // then silence, until the client goes
		return 0
	}
	c, err := net.Dial("unix", path)
	if err != nil {
		return 3
	}
	hello := wire.Hello{Flags: wire.HelloRead | wire.HelloWrite}.Marshal()
	switch mode {
	case "garbage":
		c.Write([]byte("GET / HTTP/1.1\r\n\r\n"))
	case "partial-hello":
		c.Write(hello[:3])
	default:
		c.Write(hello[:])
		var reply [wire.ReplySize]byte
		if _, err := io.ReadFull(c, reply[:]); err != nil {
			return 4
		}
		switch mode {
		case "huge":
			c.Write(append(header(1<<32-1), make([]byte, 1000)...))
		case "partial-header":
			c.Write([]byte{0xff, 0xff})
		case "flood":
			frame := append(header(60), make([]byte, 60)...)
			var b []byte
			for range 256 {
				b = append(b, frame...)
			}
			for {
				if _, err := c.Write(b); err != nil {
					return 0 // the server closed: expected
				}
			}
		}
	}
	io.Copy(io.Discard, c) // silence until the other side closes
	return 0
}

// startRaw starts a raw peer in mode against path.
func startRaw(t *testing.T, mode, path string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), rawPeerEnv+"="+mode+" "+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if strings.HasPrefix(mode, "server-") {
		// A server is ready once it listens, not once its socket exists.
		line := make(chan string, 1)
		go func() {
			l, _ := bufio.NewReader(out).ReadString('\n')
			line <- l
		}()
		select {
		case l := <-line:
			if l != "listening\n" {
				t.Fatalf("raw server: %q", l)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("raw server: not listening after 30 s")
		}
	}
	return cmd
}

// waitExit waits for a raw peer to exit by itself (the other side closed on
// it) and fails the test if it does not within d.
func waitExit(t *testing.T, cmd *exec.Cmd, d time.Duration, what string) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("%s: the raw peer: %v", what, err)
		}
	case <-time.After(d):
		t.Errorf("%s: the connection was not closed within %v", what, d)
		cmd.Process.Kill()
		<-done
	}
}

func shortHandshake(t *testing.T) {
	old := handshakeTimeout
	handshakeTimeout = 300 * time.Millisecond
	t.Cleanup(func() { handshakeTimeout = old })
}

func hostileName(t *testing.T) (string, string) {
	t.Setenv("XIPC_ROOT", t.TempDir())
	name := "hostile"
	p, err := names.ParsePipe(name)
	if err != nil {
		t.Fatal(err)
	}
	path, err := ns.Path("pipe", p.Key())
	if err != nil {
		t.Fatal(err)
	}
	return name, path
}

// served checks that the listener still serves a well-behaved client.
func served(t *testing.T, l *Listener, name, what string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := Dial(ctx, name, nil)
	if err != nil {
		t.Fatalf("%s: a good client: %v", what, err)
	}
	defer c.Close()
	s, err := l.AcceptPipe()
	if err != nil {
		t.Fatalf("%s: accept: %v", what, err)
	}
	defer s.Close()
	if _, err := c.Write([]byte("ok")); err != nil {
		t.Fatalf("%s: write: %v", what, err)
	}
	b := make([]byte, 8)
	if n, err := s.ReadMsg(b); err != nil || string(b[:n]) != "ok" {
		t.Fatalf("%s: read: %q %v", what, b[:n], err)
	}
}

func heap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestHostileHandshake: clients that send garbage instead of a hello, or
// part of one and then nothing, are dropped (the latter after the handshake
// timeout) and never reach Accept, while good clients are served meanwhile.
func TestHostileHandshake(t *testing.T) {
	shortHandshake(t)
	name, path := hostileName(t)
	l, err := Listen(name, &ListenConfig{Message: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, mode := range []string{"garbage", "partial-hello"} {
		cmd := startRaw(t, mode, path)
		served(t, l, name, mode)
		waitExit(t, cmd, 5*time.Second, mode)
	}
}

// TestHostileFrames: a peer announcing a 4 GiB message, or sending part of
// a header, then nothing, costs the reader no memory beyond its own
// buffer, and its reads end at their deadline; a flood of messages is held
// back by the socket, not queued in the reader's memory.
func TestHostileFrames(t *testing.T) {
	name, path := hostileName(t)
	l, err := Listen(name, &ListenConfig{Message: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	accept := func(mode string) (*Conn, *exec.Cmd) {
		cmd := startRaw(t, mode, path)
		c, err := l.AcceptPipe()
		if err != nil {
			t.Fatal(err)
		}
		return c, cmd
	}
	buf := make([]byte, 64<<10)

	before := heap()
	c, cmd := accept("huge")
	// ReadMsg waits for a buffer's worth of the announced message (as it
	// would for a real one in flight), until the deadline.
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, err := c.ReadMsg(buf); n != 1000 || !errors.Is(err, errs.ErrTimeout) {
		t.Errorf("4 GiB message, then silence: read %d, %v; want the 1000 bytes sent and ErrTimeout", n, err)
	}
	c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if n, err := c.ReadMsg(buf); n != 0 || !errors.Is(err, errs.ErrTimeout) {
		t.Errorf("4 GiB message, read again: %d, %v; want ErrTimeout", n, err)
	}
	if grew := int64(heap()) - int64(before); grew > 8<<20 {
		t.Errorf("the heap grew by %d bytes on a 4 GiB length prefix", grew)
	}
	c.Close()
	waitExit(t, cmd, 5*time.Second, "huge")

	c, cmd = accept("partial-header")
	c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if _, err := c.ReadMsg(buf); !errors.Is(err, errs.ErrTimeout) {
		t.Errorf("half a header, then silence: %v; want ErrTimeout", err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.ReadMsg(buf); !errors.Is(err, errs.ErrBrokenPipe) || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("half a header, then the peer died: %v; want ErrBrokenPipe and io.ErrUnexpectedEOF", err)
	}
	c.Close()

	before = heap()
	c, cmd = accept("flood")
	for i := range 2000 {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if n, err := c.ReadMsg(buf); n != 60 || err != nil {
			t.Fatalf("flood message %d: %d, %v", i, n, err)
		}
		if i%500 == 0 {
			time.Sleep(50 * time.Millisecond) // a slow reader: the flood backs up
		}
	}
	if grew := int64(heap()) - int64(before); grew > 8<<20 {
		t.Errorf("the heap grew by %d bytes under a flood", grew)
	}
	c.Close()
	waitExit(t, cmd, 5*time.Second, "flood")
}

// TestHostileServer: a server that never answers the hello, or answers
// garbage, cannot hang Dial, even with a context that never ends; one that
// announces a 4 GiB message costs the client nothing.
func TestHostileServer(t *testing.T) {
	shortHandshake(t)
	name, path := hostileName(t)

	startRaw(t, "server-silent", path)
	start := time.Now()
	if _, err := Dial(context.Background(), name, nil); !errors.Is(err, errs.ErrProtocol) {
		t.Errorf("a silent server: %v; want ErrProtocol", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Dial of a silent server took %v", d)
	}
	os.Remove(path)

	startRaw(t, "server-garbage", path)
	if _, err := Dial(context.Background(), name, nil); !errors.Is(err, errs.ErrProtocol) {
		t.Errorf("a server answering garbage: %v; want ErrProtocol", err)
	}
	os.Remove(path)

	startRaw(t, "server-huge", path)
	before := heap()
	c, err := Dial(context.Background(), name, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 512)
	if n, err := c.ReadMsg(buf); n != 512 || !errors.Is(err, errs.ErrMoreData) {
		t.Errorf("4 GiB message: read %d, %v; want 512 bytes and ErrMoreData", n, err)
	}
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, err := c.ReadMsg(make([]byte, 4096)); n != 488 || !errors.Is(err, errs.ErrTimeout) {
		t.Errorf("then silence: %d, %v; want the other 488 bytes and ErrTimeout", n, err)
	}
	if grew := int64(heap()) - int64(before); grew > 8<<20 {
		t.Errorf("the heap grew by %d bytes", grew)
	}
}
