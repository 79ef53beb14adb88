package pipe

// Tests of what only the Windows backend has: its security descriptors,
// FILE_FLAG_FIRST_PIPE_INSTANCE, the instance accounting of the listener,
// the completion port, and the Win32 codes behind the sentinels. The
// behaviour both backends share is the conformance suite's.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/windows"

	"github.com/xipc/xipc/internal/errs"
)

// testName returns a pipe name unique to the test.
func testName(t testing.TB) string {
	t.Helper()
	n := strings.NewReplacer("/", "-", " ", "_").Replace(t.Name())
	return fmt.Sprintf(`\\.\pipe\xipc-test-%s-%d-%08x`, n, os.Getpid(), rand.Uint32())
}

func mustListen(t testing.TB, name string, cfg *ListenConfig) *Listener {
	t.Helper()
	l, err := Listen(name, cfg)
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func mustDial(t testing.TB, name string, cfg *DialConfig) *Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := Dial(ctx, name, cfg)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func mustAccept(t testing.TB, l *Listener) *Conn {
	t.Helper()
	type res struct {
		c   *Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := l.AcceptPipe()
		ch <- res{c, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("Accept: %v", r.err)
		}
		t.Cleanup(func() { r.c.Close() })
		return r.c
	case <-time.After(10 * time.Second):
		t.Fatal("Accept: no client after 10s")
	}
	return nil
}

// pair returns the server and client ends of one connection.
func pair(t testing.TB, lc *ListenConfig, dc *DialConfig) (srv, cli *Conn) {
	t.Helper()
	name := testName(t)
	l := mustListen(t, name, lc)
	cli = mustDial(t, name, dc)
	srv = mustAccept(t, l)
	return srv, cli
}

func TestWinByteEcho(t *testing.T) {
	srv, cli := pair(t, nil, nil)
	if srv.Message() || cli.Message() {
		t.Fatal("byte pipe reports message mode")
	}
	if _, err := cli.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, err := io.ReadAtLeast(srv, buf, 5)
	if err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("server read %q, %v", buf[:n], err)
	}
	if _, err := srv.Write([]byte("world")); err != nil {
		t.Fatal(err)
	}
	n, err = io.ReadAtLeast(cli, buf, 5)
	if err != nil || string(buf[:n]) != "world" {
		t.Fatalf("client read %q, %v", buf[:n], err)
	}
	if got := srv.PeerPID(); got != os.Getpid() {
		t.Errorf("server PeerPID = %d, want %d", got, os.Getpid())
	}
	if got := cli.PeerPID(); got != os.Getpid() {
		t.Errorf("client PeerPID = %d, want %d", got, os.Getpid())
	}
	if err := cli.CloseWrite(); !errors.Is(err, errs.ErrNotSupported) {
		t.Errorf("CloseWrite on a byte pipe = %v, want ErrNotSupported", err)
	}
}

func TestWinLargeByteTransfer(t *testing.T) {
	srv, cli := pair(t, &ListenConfig{InBufferSize: 4096, OutBufferSize: 4096}, nil)
	data := make([]byte, 4<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := cli.Write(data)
		errc <- err
	}()
	got := make([]byte, len(data))
	if _, err := io.ReadFull(srv, got); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if string(got) != string(data) {
		t.Fatal("data differs")
	}
}

func TestWinMessages(t *testing.T) {
	srv, cli := pair(t, &ListenConfig{Message: true}, nil)
	if !srv.Message() || !cli.Message() {
		t.Fatal("message pipe does not report message mode")
	}
	// Written before the read: ReadFile completes synchronously with
	// ERROR_MORE_DATA.
	if _, err := cli.WriteMsg([]byte("0123456789")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	var got []byte
	for {
		n, err := srv.ReadMsg(buf)
		got = append(got, buf[:n]...)
		if err == nil {
			break
		}
		if !errors.Is(err, errs.ErrMoreData) {
			t.Fatalf("ReadMsg: %v", err)
		}
		if n != len(buf) {
			t.Fatalf("ReadMsg returned %d bytes with ErrMoreData, want %d", n, len(buf))
		}
	}
	if string(got) != "0123456789" {
		t.Fatalf("message = %q", got)
	}
	// Read pending before the write: ERROR_MORE_DATA comes as a packet.
	type res struct {
		n   int
		err error
	}
	ch := make(chan res, 1)
	go func() {
		n, err := cli.ReadMsg(buf)
		ch <- res{n, err}
	}()
	time.Sleep(50 * time.Millisecond)
	if _, err := srv.WriteMsg([]byte("abcdef")); err != nil {
		t.Fatal(err)
	}
	r := <-ch
	if r.n != 4 || !errors.Is(r.err, errs.ErrMoreData) || string(buf[:4]) != "abcd" {
		t.Fatalf("pending ReadMsg = %d %q, %v", r.n, buf[:r.n], r.err)
	}
	n, err := cli.ReadMsg(buf)
	if err != nil || string(buf[:n]) != "ef" {
		t.Fatalf("rest = %q, %v", buf[:n], err)
	}
	// Boundaries are kept by Read too.
	for _, m := range []string{"one", "two"} {
		if _, err := cli.Write([]byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	big := make([]byte, 64)
	for _, want := range []string{"one", "two"} {
		n, err := srv.Read(big)
		if err != nil || string(big[:n]) != want {
			t.Fatalf("Read = %q, %v; want %q", big[:n], err, want)
		}
	}
	// A zero-length message: ReadMsg gives (0, nil), Read io.EOF.
	if _, err := cli.WriteMsg(nil); err != nil {
		t.Fatal(err)
	}
	if n, err := srv.ReadMsg(big); n != 0 || err != nil {
		t.Fatalf("zero-length ReadMsg = %d, %v", n, err)
	}
	if err := srv.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if n, err := cli.Read(big); n != 0 || err != io.EOF {
		t.Fatalf("Read after CloseWrite = %d, %v; want io.EOF", n, err)
	}
	// The peer can still write back after CloseWrite.
	if _, err := cli.Write([]byte("late")); err != nil {
		t.Fatal(err)
	}
	if n, err := srv.ReadMsg(big); err != nil || string(big[:n]) != "late" {
		t.Fatalf("ReadMsg = %q, %v", big[:n], err)
	}
}

func TestWinByteReadMode(t *testing.T) {
	srv, cli := pair(t, &ListenConfig{Message: true}, &DialConfig{ByteReadMode: true})
	if cli.Message() {
		t.Fatal("ByteReadMode client reports message reads")
	}
	for _, m := range []string{"ab", "", "cd"} {
		if _, err := srv.WriteMsg([]byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	got := make([]byte, 0, 4)
	buf := make([]byte, 16)
	for len(got) < 4 {
		n, err := cli.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, buf[:n]...)
	}
	if string(got) != "abcd" {
		t.Fatalf("byte-mode reads = %q", got)
	}
}

func TestWinTransact(t *testing.T) {
	srv, cli := pair(t, &ListenConfig{Message: true}, nil)
	go func() {
		buf := make([]byte, 64)
		n, err := srv.ReadMsg(buf)
		if err == nil {
			srv.WriteMsg(append([]byte("re: "), buf[:n]...))
		}
	}()
	in := make([]byte, 64)
	n, err := cli.Transact([]byte("ping"), in)
	if err != nil || string(in[:n]) != "re: ping" {
		t.Fatalf("Transact = %q, %v", in[:n], err)
	}
}

func TestWinPeerClose(t *testing.T) {
	srv, cli := pair(t, &ListenConfig{Message: true}, nil)
	// What the server wrote before closing is still read, then the end.
	if _, err := srv.WriteMsg([]byte("last words")); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	n, err := cli.ReadMsg(buf)
	if err != nil || string(buf[:n]) != "last words" {
		t.Fatalf("ReadMsg after peer close = %q, %v", buf[:n], err)
	}
	if n, err := cli.ReadMsg(buf); n != 0 || err != io.EOF {
		t.Fatalf("ReadMsg at end = %d, %v; want io.EOF", n, err)
	}
	if n, err := cli.Read(buf); n != 0 || err != io.EOF {
		t.Fatalf("Read at end = %d, %v; want io.EOF", n, err)
	}
	_, err = cli.Write([]byte("x"))
	if !errors.Is(err, errs.ErrBrokenPipe) {
		t.Fatalf("Write to a closed peer = %v, want ErrBrokenPipe", err)
	}
	if c := errs.Win32Code(err); c != errs.ERROR_NO_DATA && c != errs.ERROR_BROKEN_PIPE {
		t.Errorf("Win32Code = %d, want ERROR_NO_DATA or ERROR_BROKEN_PIPE", c)
	}
}

func TestWinClientClose(t *testing.T) {
	srv, cli := pair(t, nil, nil)
	readErr := make(chan error, 1)
	go func() {
		_, err := srv.Read(make([]byte, 8))
		readErr <- err
	}()
	time.Sleep(20 * time.Millisecond)
	cli.Close()
	select {
	case err := <-readErr:
		if err != io.EOF {
			t.Fatalf("pending Read after the client closed = %v, want io.EOF", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("pending Read not ended by the client closing")
	}
	if _, err := srv.Write([]byte("x")); !errors.Is(err, errs.ErrBrokenPipe) {
		t.Fatalf("Write = %v, want ErrBrokenPipe", err)
	}
}

func TestWinCloseUnblocks(t *testing.T) {
	_, cli := pair(t, &ListenConfig{InBufferSize: 1024, OutBufferSize: 1024}, nil)
	readErr := make(chan error, 1)
	go func() {
		_, err := cli.Read(make([]byte, 8)) // the server sends nothing
		readErr <- err
	}()
	writeErr := make(chan error, 1)
	go func() {
		// The server reads nothing: the write blocks once the buffers are full.
		_, err := cli.Write(make([]byte, 1<<20))
		writeErr <- err
	}()
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	if err := cli.Close(); err != nil {
		t.Fatal(err)
	}
	for what, ch := range map[string]chan error{"Read": readErr, "Write": writeErr} {
		select {
		case err := <-ch:
			if !errors.Is(err, net.ErrClosed) {
				t.Errorf("%s pending at Close = %v, want net.ErrClosed", what, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("Close did not unblock %s", what)
		}
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("unblocking took %v", d)
	}
	if _, err := cli.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Read after Close = %v, want net.ErrClosed", err)
	}
	if _, err := cli.Write(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Write after Close = %v, want net.ErrClosed", err)
	}
	if err := cli.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second Close = %v, want net.ErrClosed", err)
	}
	if err := cli.SetDeadline(time.Now()); !errors.Is(err, net.ErrClosed) {
		t.Errorf("SetDeadline after Close = %v, want net.ErrClosed", err)
	}
}

func TestWinDeadlines(t *testing.T) {
	srv, cli := pair(t, &ListenConfig{Message: true, InBufferSize: 1024, OutBufferSize: 1024}, nil)
	buf := make([]byte, 16)

	// A deadline ends a pending read.
	cli.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	start := time.Now()
	_, err := cli.Read(buf)
	if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.Is(err, errs.ErrTimeout) {
		t.Fatalf("Read past deadline = %v", err)
	}
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("%v is not a net.Error timeout", err)
	}
	if d := time.Since(start); d < 40*time.Millisecond || d > 2*time.Second {
		t.Errorf("read deadline fired after %v", d)
	}
	// A deadline in the past fails at once even with data waiting.
	srv.WriteMsg([]byte("data"))
	time.Sleep(10 * time.Millisecond)
	if _, err := cli.ReadMsg(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("ReadMsg with expired deadline = %v", err)
	}
	// Clearing it lets reads go on, and the data is still there.
	cli.SetReadDeadline(time.Time{})
	if n, err := cli.ReadMsg(buf); err != nil || string(buf[:n]) != "data" {
		t.Fatalf("ReadMsg = %q, %v", buf[:n], err)
	}

	// A deadline moved while the read waits applies to it.
	done := make(chan error, 1)
	go func() {
		_, err := cli.ReadMsg(buf)
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	cli.SetReadDeadline(time.Now().Add(30 * time.Millisecond))
	select {
	case err := <-done:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("ReadMsg = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a deadline set during a read did not end it")
	}
	cli.SetReadDeadline(time.Time{})

	// A write blocked by a full pipe ends at its deadline.
	srv.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	_, err = srv.WriteMsg(make([]byte, 1<<20))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("blocked Write past deadline = %v", err)
	}
}

func TestWinNotFound(t *testing.T) {
	_, err := Dial(context.Background(), testName(t), nil)
	if !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("Dial of a missing pipe = %v, want ErrNotFound", err)
	}
	if c := errs.Win32Code(err); c != errs.ERROR_FILE_NOT_FOUND {
		t.Errorf("Win32Code = %d", c)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	start := time.Now()
	if _, err := Dial(ctx, testName(t), nil); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("Dial with a context = %v, want ErrNotFound", err)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Errorf("ErrNotFound took %v, want at once", d)
	}
}

func TestWinMaxInstances(t *testing.T) {
	name := testName(t)
	l := mustListen(t, name, &ListenConfig{MaxInstances: 2})
	c1 := mustDial(t, name, nil)
	c2 := mustDial(t, name, nil)
	s1 := mustAccept(t, l)
	mustAccept(t, l)

	start := time.Now()
	_, err := Dial(context.Background(), name, nil)
	if !errors.Is(err, errs.ErrBusy) {
		t.Fatalf("Dial with every instance taken = %v, want ErrBusy", err)
	}
	if c := errs.Win32Code(err); c != errs.ERROR_PIPE_BUSY {
		t.Errorf("Win32Code = %d, want ERROR_PIPE_BUSY", c)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("ErrBusy took %v", d)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	_, err = Dial(ctx, name, nil)
	if !errors.Is(err, errs.ErrBusy) || !errors.Is(err, errs.ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Dial timing out on a busy pipe = %v", err)
	}

	// A client closing does not free its instance; the server closing does.
	c1.Close()
	waiter := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c, err := Dial(ctx, name, nil)
		if err == nil {
			c.Close()
		}
		waiter <- err
	}()
	select {
	case err := <-waiter:
		t.Fatalf("Dial got through while the server still held the instance: %v", err)
	case <-time.After(200 * time.Millisecond):
	}
	s1.Close()
	select {
	case err := <-waiter:
		if err != nil {
			t.Fatalf("waiting Dial = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("waiting Dial did not get the freed instance")
	}
	_ = c2
}

func TestWinBacklog(t *testing.T) {
	// Clients connect without the server in Accept, many at once.
	name := testName(t)
	l := mustListen(t, name, nil)
	const n = 20
	var wg sync.WaitGroup
	errc := make(chan error, n)
	conns := make(chan *Conn, n)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := Dial(context.Background(), name, nil)
			if err != nil {
				errc <- err
				return
			}
			conns <- c
		}()
	}
	wg.Wait()
	close(errc)
	close(conns)
	for err := range errc {
		t.Errorf("Dial: %v", err)
	}
	got := 0
	for c := range conns {
		got++
		defer c.Close()
	}
	for range got {
		mustAccept(t, l)
	}
}

func TestWinAcceptOrder(t *testing.T) {
	name := testName(t)
	l := mustListen(t, name, &ListenConfig{Message: true})
	for i := range 10 {
		c := mustDial(t, name, nil)
		if _, err := c.Write([]byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 10 {
		s := mustAccept(t, l)
		b := make([]byte, 1)
		if _, err := s.ReadMsg(b); err != nil {
			t.Fatal(err)
		}
		if int(b[0]) != i {
			t.Fatalf("accept %d got client %d", i, b[0])
		}
	}
}

func TestWinListenerClose(t *testing.T) {
	name := testName(t)
	l, err := Listen(name, nil)
	if err != nil {
		t.Fatal(err)
	}
	accepted := mustDial(t, name, nil)
	srv := mustAccept(t, l)
	pending := mustDial(t, name, nil) // connected, never accepted
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Accept(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept after Close = %v, want net.ErrClosed", err)
	}
	if err := l.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second Close = %v", err)
	}
	// Close unblocks a pending Accept.
	l2 := mustListen(t, testName(t), nil)
	acceptErr := make(chan error, 1)
	go func() {
		_, err := l2.Accept()
		acceptErr <- err
	}()
	time.Sleep(50 * time.Millisecond)
	l2.Close()
	select {
	case err := <-acceptErr:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("pending Accept at Close = %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not unblock Accept")
	}
	// The accepted connection lives on.
	if _, err := accepted.Write([]byte("still here")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 32)
	if n, err := srv.Read(buf); err != nil || string(buf[:n]) != "still here" {
		t.Fatalf("Read = %q, %v", buf[:n], err)
	}
	// The unaccepted one was closed: its client sees the end.
	pending.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := pending.Read(buf); err != io.EOF {
		t.Errorf("Read on a client never accepted = %v, want io.EOF", err)
	}
	// On Windows a pipe name lives while any instance does, even one
	// whose server end has closed: until the clients close too, Dial
	// finds the pipe busy rather than missing.
	srv.Close()
	_, err = Dial(context.Background(), name, nil)
	t.Logf("Dial with the listener closed and clients open: %v", err)
	if !errors.Is(err, errs.ErrBusy) && !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("Dial with the listener closed = %v, want ErrBusy or ErrNotFound", err)
	}
	pending.Close()
	accepted.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := Dial(context.Background(), name, nil)
		if errors.Is(err, errs.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Dial after the listener and its connections closed = %v, want ErrNotFound", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestWinFirstInstance(t *testing.T) {
	name := testName(t)
	l := mustListen(t, name, &ListenConfig{FirstInstance: true})
	l2, err := Listen(name, &ListenConfig{FirstInstance: true})
	if err == nil {
		l2.Close()
	}
	if !errors.Is(err, errs.ErrExists) {
		t.Fatalf("second Listen with FirstInstance = %v, want ErrExists", err)
	}
	if errors.Is(err, errs.ErrAccessDenied) {
		t.Errorf("%v also matches ErrAccessDenied", err)
	}
	// Case does not matter: the same pipe.
	l2, err = Listen(strings.ToUpper(name), &ListenConfig{FirstInstance: true})
	if err == nil {
		l2.Close()
	}
	if !errors.Is(err, errs.ErrExists) {
		t.Fatalf("Listen of the upper-case name = %v, want ErrExists", err)
	}
	// A fresh name is fine.
	mustListen(t, testName(t), &ListenConfig{FirstInstance: true})
	// Without FirstInstance, a second server shares the name, as in Win32:
	// each client goes to one of them.
	l3, err := Listen(name, nil)
	if err != nil {
		t.Fatalf("second Listen without FirstInstance: %v", err)
	}
	l3.Close()
	// Once the first server is gone the name is free again.
	l.Close()
	l4, err := Listen(name, &ListenConfig{FirstInstance: true})
	if err != nil {
		t.Fatalf("Listen with FirstInstance after the first server closed: %v", err)
	}
	l4.Close()
}

func TestWinDirection(t *testing.T) {
	name := testName(t)
	l := mustListen(t, name, &ListenConfig{Direction: Inbound, Message: true})
	if _, err := Dial(context.Background(), name, nil); !errors.Is(err, errs.ErrAccessDenied) {
		t.Fatalf("ReadWrite Dial of an inbound pipe = %v, want ErrAccessDenied", err)
	}
	cli := mustDial(t, name, &DialConfig{Access: WriteOnly})
	srv := mustAccept(t, l)
	if _, err := cli.Write([]byte("in")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	if n, err := srv.ReadMsg(buf); err != nil || string(buf[:n]) != "in" {
		t.Fatalf("ReadMsg = %q, %v", buf[:n], err)
	}
	if _, err := cli.Read(buf); !errors.Is(err, errs.ErrAccessDenied) {
		t.Errorf("Read on a write-only client = %v, want ErrAccessDenied", err)
	}

	name = testName(t)
	l = mustListen(t, name, &ListenConfig{Direction: Outbound})
	if _, err := Dial(context.Background(), name, &DialConfig{Access: WriteOnly}); !errors.Is(err, errs.ErrAccessDenied) {
		t.Fatalf("WriteOnly Dial of an outbound pipe = %v, want ErrAccessDenied", err)
	}
	cli = mustDial(t, name, &DialConfig{Access: ReadOnly})
	srv = mustAccept(t, l)
	if _, err := srv.Write([]byte("out")); err != nil {
		t.Fatal(err)
	}
	if n, err := io.ReadAtLeast(cli, buf, 3); err != nil || string(buf[:n]) != "out" {
		t.Fatalf("Read = %q, %v", buf[:n], err)
	}
}

func TestWinSecurityDescriptor(t *testing.T) {
	tok, err := windows.OpenCurrentProcessToken()
	if err != nil {
		t.Fatal(err)
	}
	defer tok.Close()
	u, err := tok.GetTokenUser()
	if err != nil {
		t.Fatal(err)
	}
	me := u.User.Sid.String()
	owner := "D:P(A;;GA;;;" + me + ")(A;;GA;;;SY)(A;;GA;;;BA)"
	for _, tc := range []struct {
		s    Security
		want string
	}{
		{Security{}, owner},
		{Security{AllUsers: true}, owner + "(A;;GRGW;;;WD)"},
		{Security{Group: "S-1-5-32-545"}, owner + "(A;;GRGW;;;S-1-5-32-545)"},
		{Security{Group: "s-1-5-32-545"}, owner + "(A;;GRGW;;;S-1-5-32-545)"},
		{Security{Group: "Administrators"}, owner + "(A;;GRGW;;;S-1-5-32-544)"},
	} {
		got, err := sddlFor(tc.s)
		if err != nil {
			t.Errorf("sddlFor(%+v): %v", tc.s, err)
			continue
		}
		if got != tc.want {
			t.Errorf("sddlFor(%+v) = %s, want %s", tc.s, got, tc.want)
		}
		if _, err := securityDescriptor(tc.s); err != nil {
			t.Errorf("securityDescriptor(%+v): %v", tc.s, err)
		}
	}
	for _, g := range []string{"no such group xipc", "S-1-x"} {
		_, err := Listen(testName(t), &ListenConfig{Security: Security{Group: g}})
		if !errors.Is(err, errs.ErrInvalidParameter) {
			t.Errorf("Listen with group %q = %v, want ErrInvalidParameter", g, err)
		}
	}
}

// TestWinPipeDACL reads the DACL back from a live pipe.
func TestWinPipeDACL(t *testing.T) {
	for _, tc := range []struct {
		s    Security
		want []string // SIDs that must be granted access
		not  []string
	}{
		{Security{}, []string{"SY", "BA"}, []string{"WD"}},
		{Security{AllUsers: true}, []string{"SY", "BA", "WD"}, nil},
		{Security{Group: "S-1-5-32-545"}, []string{"SY", "BA", "S-1-5-32-545"}, []string{"WD"}},
	} {
		name := testName(t)
		mustListen(t, name, &ListenConfig{Security: tc.s})
		cli := mustDial(t, name, nil)
		sd, err := windows.GetSecurityInfo(cli.c.h, windows.SE_KERNEL_OBJECT, windows.DACL_SECURITY_INFORMATION)
		if err != nil {
			t.Fatalf("GetSecurityInfo: %v", err)
		}
		sddl := sd.String()
		grants := func(sid string) bool {
			// GetSecurityInfo may give a well-known SID as its alias.
			alias := map[string]string{"S-1-5-32-545": "BU"}[sid]
			return strings.Contains(sddl, ";;;"+sid+")") || alias != "" && strings.Contains(sddl, ";;;"+alias+")")
		}
		for _, sid := range tc.want {
			if !grants(sid) {
				t.Errorf("%+v: DACL %s does not grant %s", tc.s, sddl, sid)
			}
		}
		for _, sid := range tc.not {
			if grants(sid) {
				t.Errorf("%+v: DACL %s grants %s", tc.s, sddl, sid)
			}
		}
	}
}

// TestWinWithoutSkipMode runs the I/O paths taken when a handle does not
// take FILE_SKIP_COMPLETION_PORT_ON_SUCCESS: then every call that does not
// fail at once, ERROR_MORE_DATA included, queues a packet.
func TestWinWithoutSkipMode(t *testing.T) {
	noSkip.Store(true)
	defer noSkip.Store(false)
	name := testName(t)
	l, err := Listen(name, &ListenConfig{Message: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cli, err := Dial(context.Background(), name, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	srv, err := l.AcceptPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if srv.c.skip || cli.c.skip {
		t.Fatal("skip mode on")
	}
	buf := make([]byte, 4)
	for range 20 {
		if _, err := cli.WriteMsg([]byte("0123456789")); err != nil {
			t.Fatal(err)
		}
		var got []byte
		for {
			n, err := srv.ReadMsg(buf)
			got = append(got, buf[:n]...)
			if err == nil {
				break
			}
			if !errors.Is(err, errs.ErrMoreData) {
				t.Fatal(err)
			}
		}
		if string(got) != "0123456789" {
			t.Fatalf("got %q", got)
		}
	}
	srv.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := srv.ReadMsg(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("ReadMsg past deadline = %v", err)
	}
	srv.SetReadDeadline(time.Time{})
	cli.Close()
	if _, err := srv.ReadMsg(buf); err != io.EOF {
		t.Fatalf("ReadMsg after the client left = %v", err)
	}
	srv.Close()
	l.Close()
	waitPortIdle(t)
}

// waitPortIdle waits until the completion goroutine has no packet to wait
// for and has exited. The tests do not run in parallel: when one has closed
// its handles, none is left.
func waitPortIdle(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		iocp.mu.Lock()
		running, inflight, orphans := iocp.running, iocp.inflight, len(iocp.orphans)
		iocp.mu.Unlock()
		if !running && inflight == 0 && orphans == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("completion goroutine running=%v with %d packets in flight and %d orphans", running, inflight, orphans)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestWinPollerExits checks that the completion goroutine goes away once no
// I/O is in flight, so that no goroutine outlives the package's handles.
func TestWinPollerExits(t *testing.T) {
	name := testName(t)
	l, err := Listen(name, &ListenConfig{Message: true})
	if err != nil {
		t.Fatal(err)
	}
	cli, err := Dial(context.Background(), name, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := l.AcceptPipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		buf := make([]byte, 8)
		for {
			n, err := srv.ReadMsg(buf)
			if err != nil {
				return
			}
			srv.WriteMsg(buf[:n])
		}
	}()
	buf := make([]byte, 8)
	for range 100 {
		if _, err := cli.WriteMsg([]byte("x")); err != nil {
			t.Fatal(err)
		}
		if _, err := cli.ReadMsg(buf); err != nil {
			t.Fatal(err)
		}
	}
	cli.Close()
	srv.Close()
	l.Close()
	waitPortIdle(t)
}
