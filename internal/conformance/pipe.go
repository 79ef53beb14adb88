package conformance

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/pipe"
)

// TestPipe is the behavioural suite for named pipes: what the package
// documentation of pipe promises, checked between real processes. The
// package's TestMain must call RunPeerIfAsked.
func TestPipe(t *testing.T) {
	privateNamespace(t)

	runGroups(t, []group{
		{"Message", messageTests},
		{"Transact", transactTests},
		{"Instances", instanceTests},
		{"PeerGone", peerGoneTests},
		{"Unblock", unblockTests},
		{"Listener", listenerTests},
		{"Names", nameTests},
		{"Direction", directionTests},
		{"Misc", miscTests},
	})
}

var msgPipe = &pipe.ListenConfig{Message: true}

// Message mode and byte mode.

var messageTests = []subtest{
	{"Boundaries", testBoundaries},
	{"MoreData", testMoreData},
	{"ReadKeepsBoundaries", testReadKeepsBoundaries},
	{"ByteModeStream", testByteModeStream},
	{"ByteReadMode", testByteReadMode},
	{"Big", testBigMessages},
}

// testBoundaries: each WriteMsg of a peer process is one ReadMsg here, even
// when all of them wait in the pipe together; empty messages included.
func testBoundaries(t *testing.T) {
	srv, p, id := peerClient(t, msgPipe, nil)
	msgs := [][]byte{[]byte("one"), []byte("two-two"), {}, []byte("three!!!"), payload(1, 0, 1000), {}, []byte("z")}
	for _, m := range msgs {
		p.write(id, m)
	}
	buf := make([]byte, 64<<10)
	for i, want := range msgs {
		n, err := srv.ReadMsg(buf)
		if err != nil || !bytes.Equal(buf[:n], want) {
			t.Fatalf("ReadMsg #%d = (%d, %v) %s; want (%d, nil) %s", i, n, err, show(buf[:n]), len(want), show(want))
		}
	}
}

// testMoreData: a short buffer gets the first part of a message and
// ErrMoreData, the next reads the rest, the last part with a nil error; a
// buffer of exactly the message's size gets it whole.
func testMoreData(t *testing.T) {
	srv, p, id := peerClient(t, msgPipe, nil)
	long := payload(2, 0, 100)
	p.write(id, long)
	p.write(id, []byte("next"))
	p.write(id, long[:30])
	buf := make([]byte, 30)
	var got []byte
	for i := 0; ; i++ {
		n, err := srv.ReadMsg(buf)
		got = append(got, buf[:n]...)
		if i < 3 {
			if n != 30 || !errors.Is(err, errs.ErrMoreData) {
				t.Fatalf("ReadMsg #%d of a 100-byte message into 30 bytes = (%d, %v); want (30, ErrMoreData)", i, n, err)
			}
			continue
		}
		if n != 10 || err != nil {
			t.Fatalf("ReadMsg #%d, the last part = (%d, %v); want (10, nil)", i, n, err)
		}
		break
	}
	if !bytes.Equal(got, long) {
		t.Fatalf("message read in parts = %s; want %s", show(got), show(long))
	}
	readMsg(t, srv, []byte("next"))
	if n, err := srv.ReadMsg(buf); n != 30 || err != nil || !bytes.Equal(buf, long[:30]) {
		t.Fatalf("ReadMsg of a 30-byte message into 30 bytes = (%d, %v); want (30, nil)", n, err)
	}

	// The other way round, with the peer reading.
	writeMsg(t, srv, long)
	for i, want := range [][]byte{long[:60], long[60:]} {
		got, err := p.readMsg(id, 60)
		if i == 0 {
			wantErr(t, "peer ReadMsg of 100 bytes into 60", err, errs.ErrMoreData)
		} else if err != nil {
			t.Errorf("peer ReadMsg of the last 40 bytes: %v", err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("peer ReadMsg #%d = %s; want %s", i, show(got), show(want))
		}
	}
}

// testReadKeepsBoundaries: in message read mode Read never returns bytes
// of two messages; a long message comes in several Reads with nil errors.
func testReadKeepsBoundaries(t *testing.T) {
	srv, p, id := peerClient(t, msgPipe, nil)
	if !srv.Message() {
		t.Fatalf("server Conn of a message pipe: Message() = false")
	}
	for _, m := range []string{"aaaa", "bbbb", "cccccccccc", "d"} {
		p.write(id, []byte(m))
	}
	steps := []struct {
		size int
		want string
	}{{100, "aaaa"}, {100, "bbbb"}, {4, "cccc"}, {4, "cccc"}, {100, "cc"}, {100, "d"}}
	for i, s := range steps {
		buf := make([]byte, s.size)
		n, err := srv.Read(buf)
		if err != nil || string(buf[:n]) != s.want {
			t.Fatalf("Read #%d into %d bytes = (%d, %v) %q; want (%d, nil) %q", i, s.size, n, err, buf[:n], len(s.want), s.want)
		}
	}
}

// testByteModeStream: a byte pipe carries a stream; every byte arrives, in
// order, whatever the writes were.
func testByteModeStream(t *testing.T) {
	srv, p, id := peerClient(t, nil, nil)
	if srv.Message() {
		t.Fatalf("server Conn of a byte pipe: Message() = true")
	}
	var want []byte
	for i := range 50 {
		m := payload(3, i, 1+i*13)
		p.write(id, m)
		want = append(want, m...)
	}
	got := make([]byte, len(want))
	if _, err := io.ReadFull(srv, got); err != nil {
		t.Fatalf("reading %d bytes: %v", len(want), err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("byte stream differs from what the peer wrote")
	}
	// ReadMsg on a byte pipe is Read: no ErrMoreData, boundaries ignored.
	p.write(id, []byte("abc"))
	p.write(id, []byte("defgh"))
	var all []byte
	for len(all) < 8 {
		buf := make([]byte, 2)
		n, err := srv.ReadMsg(buf)
		if err != nil {
			t.Fatalf("ReadMsg on a byte pipe = (%d, %v); want no error", n, err)
		}
		all = append(all, buf[:n]...)
	}
	if string(all) != "abcdefgh" {
		t.Fatalf("byte stream = %q; want %q", all, "abcdefgh")
	}
}

// testByteReadMode: a client that reads a message pipe in byte read mode
// gets a stream that runs across message boundaries.
func testByteReadMode(t *testing.T) {
	cli, p, id := peerServer(t, msgPipe, &pipe.DialConfig{ByteReadMode: true})
	if cli.Message() {
		t.Fatalf("client Conn with ByteReadMode: Message() = true")
	}
	for _, m := range []string{"abc", "def", "ghi"} {
		p.write(id, []byte(m))
	}
	// All three messages are in the pipe: one read may take all of them.
	// (Through a gateway, once the relay has carried them.)
	if pipePrefix() != `\\.\pipe\` {
		time.Sleep(settle)
	}
	buf := make([]byte, 4)
	if n, err := cli.ReadMsg(buf); n != 4 || err != nil || string(buf) != "abcd" {
		t.Fatalf("ReadMsg(4 bytes) in byte read mode = (%d, %v) %q; want (4, nil) \"abcd\"", n, err, buf[:n])
	}
	buf = make([]byte, 100)
	n, err := cli.Read(buf)
	if err != nil || string(buf[:n]) != "efghi" {
		t.Fatalf("Read(100 bytes) in byte read mode = (%d, %v) %q; want (5, nil) \"efghi\"", n, err, buf[:n])
	}
	// Writes of a byte-read-mode client still make messages.
	writeMsg(t, cli, []byte("one"))
	writeMsg(t, cli, []byte("two"))
	for _, want := range []string{"one", "two"} {
		got, err := p.readMsg(id, 100)
		if err != nil || string(got) != want {
			t.Fatalf("peer ReadMsg = (%q, %v); want %q", got, err, want)
		}
	}
}

// testBigMessages: 1 MiB and 16 MiB messages arrive whole, both ways.
func testBigMessages(t *testing.T) {
	srv, p, id := peerClient(t, msgPipe, nil)
	buf := make([]byte, 16<<20+1)
	for i, size := range []int{1 << 20, 16 << 20} {
		seed := uint64(10 + i)
		ch := p.send(request{Op: "writeGen", ID: id, Count: 1, Size: size, Seed: seed})
		n, err := srv.ReadMsg(buf)
		if err != nil || n != size {
			t.Fatalf("ReadMsg of a %d-byte message = (%d, %v); want (%d, nil)", size, n, err, size)
		}
		if !bytes.Equal(buf[:n], payload(seed, 0, size)) {
			t.Fatalf("the %d-byte message arrived changed", size)
		}
		if r := p.await(ch, "writeGen"); r.Err != "" || r.N != size {
			t.Fatalf("peer WriteMsg(%d bytes) = (%d, %s)", size, r.N, r.Err)
		}
	}
	big := payload(12, 0, 16<<20)
	ch := p.send(request{Op: "readMsgs", ID: id, Count: 1})
	writeMsg(t, srv, big)
	r := p.await(ch, "readMsgs")
	sum := newMsgSum()
	sum.add(big)
	if r.Err != "" || r.Count != 1 || r.N != len(big) || r.Sum != sum.String() {
		t.Fatalf("peer read %d messages, %d bytes, error %q, sum match %v; want 1 message of %d bytes intact",
			r.Count, r.N, r.Err, r.Sum == sum.String(), len(big))
	}
}

// Transact.

var transactTests = []subtest{
	{"Reply", testTransact},
	{"BytePipe", testTransactBytePipe},
}

func testTransact(t *testing.T) {
	name := pipeName(t)
	p := startPeer(t)
	p.must(request{Op: "serve", ID: p.listen(name, msgPipe)})
	c := dial(t, name, nil)

	buf := make([]byte, 64)
	n, err := c.Transact([]byte("hello"), buf)
	if err != nil || string(buf[:n]) != echoPrefix+"hello" {
		t.Fatalf("Transact(hello) = (%d, %v) %q; want %q", n, err, buf[:n], echoPrefix+"hello")
	}

	// A reply longer than the buffer: ErrMoreData, the rest with ReadMsg.
	small := make([]byte, 4)
	n, err = c.Transact([]byte("0123456789"), small)
	wantErr(t, "Transact with a 4-byte reply buffer", err, errs.ErrMoreData)
	if n != 4 || string(small) != echoPrefix[:4] {
		t.Fatalf("Transact with a 4-byte reply buffer = %d bytes %q; want %q", n, small[:n], echoPrefix[:4])
	}
	readMsg(t, c, []byte(echoPrefix[4:]+"0123456789"))

	// The conversation goes on in step.
	n, err = c.Transact(nil, buf)
	if err != nil || string(buf[:n]) != echoPrefix {
		t.Fatalf("Transact(empty message) = (%d, %v) %q; want %q", n, err, buf[:n], echoPrefix)
	}
}

// testTransactBytePipe: Transact needs a message pipe, and writes nothing
// when it refuses.
func testTransactBytePipe(t *testing.T) {
	srv, cli := pair(t, nil, nil)
	n, err := cli.Transact([]byte("hello"), make([]byte, 64))
	if n != 0 {
		t.Errorf("Transact on a byte pipe read %d bytes", n)
	}
	wantErr(t, "Transact on a byte pipe", err, errs.ErrNotSupported)
	if err := srv.SetReadDeadline(time.Now().Add(settle)); err != nil {
		t.Fatal(err)
	}
	if n, err := srv.Read(make([]byte, 64)); n != 0 || !errors.Is(err, errs.ErrTimeout) {
		t.Errorf("server Read after a refused Transact = (%d, %v); want nothing written (a timeout)", n, err)
	}
}

// Instances and busy pipes.

var instanceTests = []subtest{
	{"Busy", testBusy},
	{"NotFound", testNotFound},
	{"Unlimited", testUnlimitedInstances},
	{"ManyClients", testManyClients},
}

// testBusy: with every instance connected, Dial fails with ErrBusy at once
// when it cannot wait, fails with ErrBusy and a timeout when its context
// ends, and succeeds when an instance comes free while it waits.
func testBusy(t *testing.T) {
	const max = 2
	name := pipeName(t)
	l := listen(t, name, &pipe.ListenConfig{Message: true, MaxInstances: max})
	conns := acceptAll(t, l)
	p := startPeer(t)
	var ids []int
	var srvs []*pipe.Conn
	for range max {
		ids = append(ids, p.dial(name, nil))
		srvs = append(srvs, next(t, conns))
	}

	// context.Background can never end: no waiting.
	_, err := get(t, async(func() (*pipe.Conn, error) { return pipe.Dial(context.Background(), name, nil) }),
		"Dial(context.Background()) with all instances busy")
	wantErr(t, "Dial(context.Background()) with all instances busy", err, errs.ErrBusy)

	// A context with a deadline: wait, then fail.
	const d = time.Second
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	start := time.Now()
	_, err = pipe.Dial(ctx, name, nil)
	if el := time.Since(start); el < d*9/10 {
		t.Errorf("Dial with a %v deadline gave up after %v; want it to wait", d, el)
	}
	wantErr(t, "Dial with a deadline, all instances busy", err, errs.ErrBusy, errs.ErrTimeout, context.DeadlineExceeded)
	var oe *errs.OpError
	if !errors.As(err, &oe) || !oe.Timeout() {
		t.Errorf("Dial with a deadline: %v is not an *OpError with Timeout() true", err)
	}

	// A waiting Dial gets the instance a client frees. As in Win32, the
	// instance is free once the server has seen the client go and closed
	// its end (DisconnectNamedPipe).
	ch := async(func() (*pipe.Conn, error) {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		defer cancel()
		return pipe.Dial(ctx, name, nil)
	})
	time.Sleep(settle)
	pending(t, ch, "Dial waiting for a free instance")
	p.close(ids[0])
	n, err := srvs[0].Read(make([]byte, 10))
	wantEOF(t, "server Read after its client closed", n, err)
	if err := srvs[0].Close(); err != nil {
		t.Fatalf("server Close: %v", err)
	}
	c, err := get(t, ch, "Dial waiting for a free instance")
	if err != nil {
		t.Fatalf("Dial waiting while a client closed: %v; want a connection", err)
	}
	guard(t, c)
	srv := next(t, conns)
	writeMsg(t, c, []byte("got in"))
	readMsg(t, srv, []byte("got in"))
}

// testNotFound: Dial of a pipe nobody created fails at once, even with a
// context that lets it wait.
func testNotFound(t *testing.T) {
	name := pipeName(t)
	_, err := pipe.Dial(context.Background(), name, nil)
	wantErr(t, "Dial(context.Background()) of a missing pipe", err, errs.ErrNotFound)

	ctx, cancel := context.WithTimeout(context.Background(), 10*wait)
	defer cancel()
	_, err = get(t, async(func() (*pipe.Conn, error) { return pipe.Dial(ctx, name, nil) }),
		"Dial with a long deadline of a missing pipe")
	wantErr(t, "Dial with a long deadline of a missing pipe", err, errs.ErrNotFound)
	if errors.Is(err, errs.ErrTimeout) {
		t.Errorf("Dial of a missing pipe waited for its context: %v", err)
	}
}

// testUnlimitedInstances: MaxInstances 0 is Unlimited.
func testUnlimitedInstances(t *testing.T) {
	name := pipeName(t)
	l := listen(t, name, &pipe.ListenConfig{Message: true})
	conns := acceptAll(t, l)
	const n = 20
	for i := range n {
		c := dial(t, name, nil)
		srv := next(t, conns)
		m := []byte{byte(i)}
		writeMsg(t, c, m)
		readMsg(t, srv, m)
	}
}

// testManyClients: 200 clients at once, each with its own answers from a
// server in another process.
func testManyClients(t *testing.T) {
	const clients, msgs = 200, 5
	name := pipeName(t)
	p := startPeer(t)
	p.must(request{Op: "serve", ID: p.listen(name, msgPipe)})

	var dialed, done sync.WaitGroup
	dialed.Add(clients)
	errc := make(chan error, clients)
	for i := range clients {
		done.Add(1)
		go func() {
			defer done.Done()
			errc <- client(name, i, msgs, &dialed)
		}()
	}
	done.Wait()
	close(errc)
	failed := 0
	for err := range errc {
		if err != nil {
			if failed < 5 {
				t.Error(err)
			}
			failed++
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d clients failed", failed, clients)
	}
}

// client dials, waits until every client has dialled so that all are
// connected at once, then checks msgs round trips.
func client(name string, i, msgs int, dialed *sync.WaitGroup) error {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, err := pipe.Dial(ctx, name, nil)
	dialed.Done()
	if err != nil {
		return err
	}
	defer c.Close()
	dialed.Wait()
	if err := c.SetDeadline(time.Now().Add(wait)); err != nil {
		return err
	}
	buf := make([]byte, 1024)
	for j := range msgs {
		m := append([]byte(strings.Repeat("x", j)+" "), payload(uint64(i), j, 16+i)...)
		n, err := c.Transact(m, buf)
		if err != nil {
			return err
		}
		if want := append([]byte(echoPrefix), m...); !bytes.Equal(buf[:n], want) {
			return errors.New("client got another client's answer or a garbled one: " + show(buf[:n]) + ", want " + show(want))
		}
	}
	return nil
}

// The peer going away.

var peerGoneTests = []subtest{
	{"ClientClosesMessage", peerGone(true, false, "close")},
	{"ClientExitsByte", peerGone(false, false, "exit")},
	{"ClientKilledMessage", peerGone(true, false, "kill")},
	{"ServerClosesMessage", peerGone(true, true, "close")},
	{"ServerClosesByte", peerGone(false, true, "close")},
	{"ServerExitsMessage", peerGone(true, true, "exit")},
	{"ServerKilledByte", peerGone(false, true, "kill")},
	{"KilledMidMessage", testKilledMidMessage},
}

// peerGone: when the peer process closes its end, exits or is killed, Read
// and ReadMsg give io.EOF itself and Write soon gives ErrBrokenPipe. What a
// client wrote before closing is still read first (a server's disconnect
// discards unread data in Win32, so that is not checked that way round).
func peerGone(message, peerIsServer bool, how string) func(t *testing.T) {
	return func(t *testing.T) {
		cfg := &pipe.ListenConfig{Message: message}
		var c *pipe.Conn
		var p *peer
		var id int
		if peerIsServer {
			c, p, id = peerServer(t, cfg, nil)
		} else {
			c, p, id = peerClient(t, cfg, nil)
		}
		lastWords := !peerIsServer && how != "kill"
		if lastWords {
			p.write(id, []byte("bye"))
		}
		switch how {
		case "close":
			p.close(id)
		case "exit":
			p.exit()
		case "kill":
			p.kill()
		}
		if lastWords {
			got := make([]byte, 3)
			if _, err := io.ReadFull(c, got); err != nil || string(got) != "bye" {
				t.Fatalf("reading what the peer wrote before leaving = (%q, %v); want \"bye\"", got, err)
			}
		}
		buf := make([]byte, 100)
		n, err := c.Read(buf)
		wantEOF(t, "Read after the peer left", n, err)
		n, err = c.Read(buf)
		wantEOF(t, "Read again after the peer left", n, err)
		n, err = c.ReadMsg(buf)
		wantEOF(t, "ReadMsg after the peer left", n, err)
		writeUntilBroken(t, c)
	}
}

// testKilledMidMessage: a writer killed in the middle of a message leaves
// its reader with an error, never a short message that looks whole, and
// never a hang.
func testKilledMidMessage(t *testing.T) {
	const size = 16 << 20
	srv, p, id := peerClient(t, msgPipe, nil)
	ch := p.send(request{Op: "writeGen", ID: id, Count: 1, Size: size, Seed: 20})
	// The first part proves the write has started; the rest cannot all fit
	// in the pipe, so the writer is blocked inside the message.
	buf := make([]byte, 1024)
	n, err := srv.ReadMsg(buf)
	if n != len(buf) || !errors.Is(err, errs.ErrMoreData) {
		t.Fatalf("ReadMsg(1 KiB) of a 16 MiB message = (%d, %v); want (1024, ErrMoreData)", n, err)
	}
	time.Sleep(settle)
	select {
	case r := <-ch:
		t.Fatalf("the peer finished writing 16 MiB into a pipe nobody reads (%+v)", r)
	default:
	}
	p.kill()

	total := n
	buf = make([]byte, 1<<20)
	for {
		n, err = srv.ReadMsg(buf)
		total += n
		if !errors.Is(err, errs.ErrMoreData) {
			break
		}
	}
	if err == nil {
		t.Fatalf("ReadMsg after the writer was killed ended the message without error after %d of %d bytes", total, size)
	}
	if errors.Is(err, errs.ErrTimeout) {
		t.Fatalf("ReadMsg after the writer was killed hung until its deadline: %v", err)
	}
	if err != io.EOF {
		wantAnyErr(t, "ReadMsg after the writer was killed mid-message", err, errs.ErrBrokenPipe, io.ErrUnexpectedEOF)
	}
	if total >= size {
		t.Errorf("read %d bytes of a message the writer was killed writing; want fewer than %d", total, size)
	}
	// The pipe stays broken.
	n, err = srv.ReadMsg(buf)
	if n != 0 || (err != io.EOF && !errors.Is(err, errs.ErrBrokenPipe)) {
		t.Errorf("ReadMsg after the broken message = (%d, %v); want (0, io.EOF or ErrBrokenPipe)", n, err)
	}
}

// Close and deadlines unblock.

var unblockTests = []subtest{
	{"CloseUnblocksRead", testCloseUnblocksRead},
	{"ReadDeadline", testReadDeadline},
	{"DeadlineWhileBlocked", testDeadlineWhileBlocked},
	{"WriteDeadline", testWriteDeadline},
	{"CloseUnblocksWrite", testCloseUnblocksWrite},
	{"BackPressureBytes", testBackPressureBytes},
	{"BackPressureMessages", testBackPressureMessages},
}

// testCloseUnblocksRead: Close unblocks a Read (ReadMsg on a message
// pipe) waiting for data, on either end.
func testCloseUnblocksRead(t *testing.T) {
	for _, message := range []bool{false, true} {
		for _, server := range []bool{false, true} {
			srv, cli := pair(t, &pipe.ListenConfig{Message: message}, nil)
			c := cli
			if server {
				c = srv
			}
			read := c.Read
			if message {
				read = c.ReadMsg
			}
			what := fmt.Sprintf("Read (message %v, server end %v) blocked when Close was called", message, server)
			ch := async(func() (int, error) { return read(make([]byte, 10)) })
			time.Sleep(settle)
			pending(t, ch, what)
			if err := c.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
			_, err := get(t, ch, what)
			wantErr(t, what, err, errs.ErrClosed)
		}
	}
}

func testReadDeadline(t *testing.T) {
	srv, cli := pair(t, msgPipe, nil)
	buf := make([]byte, 10)

	if err := srv.SetReadDeadline(time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	_, err := srv.Read(buf)
	wantTimeout(t, "Read past its deadline", err)
	_, err = srv.ReadMsg(buf)
	wantTimeout(t, "ReadMsg past its deadline", err)

	const d = 200 * time.Millisecond
	if err := srv.SetReadDeadline(time.Now().Add(d)); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = srv.ReadMsg(buf)
	wantTimeout(t, "ReadMsg with a deadline in the near future", err)
	if el := time.Since(start); el < d*3/4 {
		t.Errorf("ReadMsg with a %v deadline returned after %v", d, el)
	}

	// A timeout breaks nothing: with the deadline lifted, reads work.
	if err := srv.SetReadDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	writeMsg(t, cli, []byte("still here"))
	readMsg(t, srv, []byte("still here"))
}

// testDeadlineWhileBlocked: moving the deadline closer unblocks a Read
// that is already waiting.
func testDeadlineWhileBlocked(t *testing.T) {
	srv, _ := pair(t, nil, nil)
	if err := srv.SetReadDeadline(time.Time{}); err != nil {
		t.Fatal(err)
	}
	ch := async(func() (int, error) { return srv.Read(make([]byte, 10)) })
	time.Sleep(settle)
	pending(t, ch, "Read with no data")
	if err := srv.SetReadDeadline(time.Now().Add(100 * time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	_, err := get(t, ch, "Read whose deadline was set while it waited")
	wantTimeout(t, "Read whose deadline was set while it waited", err)
}

// errNoBackPressure is fill's error for a pipe that never pushes back.
var errNoBackPressure = errors.New("256 MiB written to a peer that reads nothing: no back-pressure")

// fill writes 1 MiB at a time to a connection nobody reads until a write
// fails, and returns that error.
func fill(c *pipe.Conn) (int, error) {
	chunk := make([]byte, 1<<20)
	total := 0
	for range 256 {
		n, err := c.Write(chunk)
		total += n
		if err != nil {
			return total, err
		}
	}
	return total, errNoBackPressure
}

func testWriteDeadline(t *testing.T) {
	for _, message := range []bool{false, true} {
		srv, _ := pair(t, &pipe.ListenConfig{Message: message}, nil)
		if err := srv.SetWriteDeadline(time.Now().Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		_, err := fill(srv)
		wantTimeout(t, fmt.Sprintf("Write (message %v) blocked on a full pipe past its deadline", message), err)
	}
}

func testCloseUnblocksWrite(t *testing.T) {
	for _, message := range []bool{false, true} {
		srv, _ := pair(t, &pipe.ListenConfig{Message: message}, nil)
		if err := srv.SetWriteDeadline(time.Time{}); err != nil {
			t.Fatal(err)
		}
		what := fmt.Sprintf("Write (message %v) blocked on a full pipe when Close was called", message)
		ch := async(func() (int, error) { return fill(srv) })
		time.Sleep(2 * settle)
		pending(t, ch, what)
		if err := srv.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		_, err := get(t, ch, what)
		wantErr(t, what, err, errs.ErrClosed)
	}
}

// testBackPressureBytes: a fast writer and a slow reader in another
// process: every byte arrives, in order.
func testBackPressureBytes(t *testing.T) {
	srv, p, id := peerClient(t, nil, nil)
	const writes, size = 64, 256 << 10 // 16 MiB
	ch := p.send(request{Op: "writeGen", ID: id, Count: writes, Size: size, Seed: 30})
	var want []byte
	for i := range writes {
		want = append(want, payload(30, i, size)...)
	}
	got := make([]byte, 0, len(want))
	buf := make([]byte, 16<<10)
	for reads := 0; len(got) < len(want); reads++ {
		n, err := srv.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			t.Fatalf("Read after %d of %d bytes: %v", len(got), len(want), err)
		}
		if reads%64 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	if r := p.await(ch, "writeGen"); r.Err != "" || r.N != len(want) {
		t.Fatalf("peer wrote %d bytes, error %q; want %d bytes", r.N, r.Err, len(want))
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("the %d bytes arrived changed", len(want))
	}
	p.close(id)
	n, err := srv.Read(buf)
	wantEOF(t, "Read at the end of the stream", n, err)
}

// testBackPressureMessages: many messages of all sizes, written faster than
// a peer process reads them: none lost, none changed, none merged.
func testBackPressureMessages(t *testing.T) {
	srv, p, id := peerClient(t, msgPipe, nil)
	const count, size = 2000, 8 << 10
	ch := p.send(request{Op: "readMsgs", ID: id, Count: count, Delay: 5 * time.Millisecond})
	sum := newMsgSum()
	for i := range count {
		m := payload(31, i, genSize(size, i, true))
		sum.add(m)
		writeMsg(t, srv, m)
	}
	r := p.await(ch, "readMsgs")
	if r.Err != "" || r.Count != count || r.Sum != sum.String() {
		t.Fatalf("peer read %d messages (error %q, sum match %v); want %d messages intact", r.Count, r.Err, r.Sum == sum.String(), count)
	}

	// And the other way, this process reading slowly.
	wch := p.send(request{Op: "writeGen", ID: id, Count: count, Size: size, Seed: 32, Vary: true})
	buf := make([]byte, size)
	for i := range count {
		n, err := srv.ReadMsg(buf)
		want := payload(32, i, genSize(size, i, true))
		if err != nil || !bytes.Equal(buf[:n], want) {
			t.Fatalf("message %d = (%d, %v) %s; want (%d, nil) %s", i, n, err, show(buf[:n]), len(want), show(want))
		}
		if i%100 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	if r := p.await(wch, "writeGen"); r.Err != "" || r.Count != count {
		t.Fatalf("peer wrote %d messages, error %q", r.Count, r.Err)
	}
}

// Listeners.

var listenerTests = []subtest{
	{"CloseUnblocksAccept", testCloseUnblocksAccept},
	{"CloseRemovesName", testCloseRemovesName},
	{"FirstInstance", testFirstInstance},
	{"StaleAfterKill", testStaleAfterKill},
}

func testCloseUnblocksAccept(t *testing.T) {
	l := listen(t, pipeName(t), nil)
	ch := async(l.AcceptPipe)
	time.Sleep(settle)
	pending(t, ch, "Accept with no client")
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	_, err := get(t, ch, "Accept blocked when the listener was closed")
	wantErr(t, "Accept blocked when the listener was closed", err, errs.ErrClosed)
	_, err = get(t, async(l.AcceptPipe), "Accept on a closed listener")
	wantErr(t, "Accept on a closed listener", err, errs.ErrClosed)
}

// testCloseRemovesName: a closed listener's name is gone, and the
// connections it accepted live on.
func testCloseRemovesName(t *testing.T) {
	name := pipeName(t)
	l := listen(t, name, msgPipe)
	ch := async(l.AcceptPipe)
	cli := dial(t, name, nil)
	srv, err := get(t, ch, "Accept")
	if err != nil {
		t.Fatal(err)
	}
	guard(t, srv)
	if err := l.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	_, err = pipe.Dial(context.Background(), name, nil)
	wantErr(t, "Dial after the listener closed", err, errs.ErrNotFound)
	writeMsg(t, cli, []byte("ping"))
	readMsg(t, srv, []byte("ping"))
	writeMsg(t, srv, []byte("pong"))
	readMsg(t, cli, []byte("pong"))
}

// testFirstInstance: FirstInstance refuses a name a live server holds, in
// this process or another, and takes it once the owner has gone.
func testFirstInstance(t *testing.T) {
	name := pipeName(t)
	first := &pipe.ListenConfig{Message: true, FirstInstance: true}
	p := startPeer(t)
	p.listen(name, first)
	_, err := pipe.Listen(name, first)
	wantErr(t, "Listen(FirstInstance) of a pipe another process serves", err, errs.ErrExists)
	_, err = pipe.Listen(strings.ToUpper(bareName(name)), first)
	wantErr(t, "Listen(FirstInstance) of the same pipe in other case", err, errs.ErrExists)

	// The owner exits without closing its listener.
	p.exit()
	l := listen(t, name, first)
	_, err = pipe.Listen(name, first)
	wantErr(t, "Listen(FirstInstance) of a pipe this process serves", err, errs.ErrExists)
	ch := async(l.AcceptPipe)
	cli := dial(t, name, nil)
	srv, err := get(t, ch, "Accept")
	if err != nil {
		t.Fatalf("Accept: %v", err)
	}
	guard(t, srv)
	writeMsg(t, cli, []byte("hello"))
	readMsg(t, srv, []byte("hello"))
}

// testStaleAfterKill: a server killed without closing leaves nothing that
// stops a new server (on Linux, its socket file is stale and is replaced).
func testStaleAfterKill(t *testing.T) {
	name := pipeName(t)
	first := &pipe.ListenConfig{Message: true, FirstInstance: true}
	p := startPeer(t)
	p.must(request{Op: "serve", ID: p.listen(name, first)})
	c := dial(t, name, nil)
	buf := make([]byte, 64)
	if n, err := c.Transact([]byte("hi"), buf); err != nil || string(buf[:n]) != echoPrefix+"hi" {
		t.Fatalf("Transact with the first server = (%q, %v)", buf[:n], err)
	}
	p.kill()

	_, err := pipe.Dial(context.Background(), name, nil)
	wantErr(t, "Dial of a killed server's pipe", err, errs.ErrNotFound)

	l := listen(t, name, first)
	ch := async(l.AcceptPipe)
	q := startPeer(t)
	id := q.dial(name, nil)
	srv, err := get(t, ch, "Accept")
	if err != nil {
		t.Fatalf("Accept on the new server: %v", err)
	}
	guard(t, srv)
	q.write(id, []byte("new server?"))
	readMsg(t, srv, []byte("new server?"))
	writeMsg(t, srv, []byte("yes"))
	if got, err := q.readMsg(id, 64); err != nil || string(got) != "yes" {
		t.Fatalf("peer ReadMsg from the new server = (%q, %v); want \"yes\"", got, err)
	}
}

// Names and parameters.

var nameTests = []subtest{
	{"Spellings", testSpellings},
	{"Lookalikes", testLookalikes},
	{"Invalid", testInvalidNames},
	{"Longest", testLongestName},
	{"Remote", testRemote},
	{"Parameters", testParameters},
}

// testSpellings: `\\.\pipe\X`, bare X and X in other case are one pipe.
func testSpellings(t *testing.T) {
	name := pipeName(t)
	bare := bareName(name)
	l := listen(t, name, msgPipe)
	if got := l.Addr().String(); got != name || l.Addr().Network() != "pipe" {
		t.Errorf("Listener.Addr() = %s %q; want pipe %q", l.Addr().Network(), got, name)
	}
	conns := acceptAll(t, l)
	for _, spelling := range []string{name, bare, strings.ToUpper(bare), `\\.\PIPE\` + strings.ToUpper(bare), `\\.\Pipe\` + strings.ToLower(bare)} {
		c := dial(t, spelling, nil)
		srv := next(t, conns)
		writeMsg(t, c, []byte(spelling))
		readMsg(t, srv, []byte(spelling))
	}
}

// testLookalikes: names that differ from a live pipe's only by a suffix are
// other pipes (on Unix, none may land on the live pipe's lock file): all
// listen at once, and a client of each reaches its own.
func testLookalikes(t *testing.T) {
	name := pipeName(t)
	for _, n := range []string{name, name + ".lock", name + "%lock", name + "%25lock"} {
		l := listen(t, n, msgPipe)
		conns := acceptAll(t, l)
		c := dial(t, n, nil)
		writeMsg(t, c, []byte(n))
		readMsg(t, next(t, conns), []byte(n))
	}
}

func testInvalidNames(t *testing.T) {
	for _, name := range []string{"", `\\.\pipe\`, `a\b`, `\\.\pipe\a\b`, "nul\x00", strings.Repeat("n", 257), `\\.\pipe\` + strings.Repeat("n", 248)} {
		_, err := pipe.Listen(name, nil)
		wantErr(t, "Listen("+show([]byte(name))+")", err, errs.ErrInvalidName)
		_, err = pipe.Dial(context.Background(), name, nil)
		wantErr(t, "Dial("+show([]byte(name))+")", err, errs.ErrInvalidName)
	}
}

// testLongestName: a name of 256 characters, the most Win32 takes, works
// (on Linux it is too long for a socket path as it is).
func testLongestName(t *testing.T) {
	prefix := pipeName(t)
	name := prefix + strings.Repeat("x", 256-len(prefix))
	l := listen(t, name, msgPipe)
	ch := async(l.AcceptPipe)
	p := startPeer(t)
	id := p.dial(strings.ToUpper(bareName(name)), nil)
	srv, err := get(t, ch, "Accept")
	if err != nil {
		t.Fatalf("Accept: %v", err)
	}
	guard(t, srv)
	p.write(id, []byte("long"))
	readMsg(t, srv, []byte("long"))
}

// testRemote: a remote name goes to the network (on Linux through the
// host's gateway, which needs the TLS directory, here empty; see
// docs/network.md) and fails with ErrNetwork when it cannot get there; a
// pipe can only be created on this machine.
func testRemote(t *testing.T) {
	t.Setenv("XIPC_TLS_DIR", noTLSDir(t))
	_, err := pipe.Dial(context.Background(), `\\host.invalid\pipe\x`, nil)
	wantAnyErr(t, `Dial(\\host.invalid\pipe\x)`, err, errs.ErrNetwork, errs.ErrNotFound)
	_, err = pipe.Listen(`\\host\pipe\x`, nil)
	wantErr(t, `Listen(\\host\pipe\x)`, err, errs.ErrInvalidParameter)
}

func testParameters(t *testing.T) {
	bad := []pipe.ListenConfig{
		{MaxInstances: 256},
		{MaxInstances: -1},
		{Direction: pipe.Direction(3)},
		{Direction: pipe.Direction(-1)},
		{InBufferSize: -1},
		{OutBufferSize: -1},
	}
	for _, cfg := range bad {
		_, err := pipe.Listen(pipeName(t), &cfg)
		wantErr(t, fmt.Sprintf("Listen with %+v", cfg), err, errs.ErrInvalidParameter)
	}
	for _, n := range []int{1, 254, pipe.Unlimited} {
		listen(t, pipeName(t), &pipe.ListenConfig{MaxInstances: n})
	}
	name := pipeName(t)
	listen(t, name, nil)
	_, err := pipe.Dial(context.Background(), name, &pipe.DialConfig{Access: pipe.Access(3)})
	wantErr(t, "Dial with Access 3", err, errs.ErrInvalidParameter)
}

// Direction.

var directionTests = []subtest{
	{"Inbound", direction(pipe.Inbound, pipe.WriteOnly)},
	{"Outbound", direction(pipe.Outbound, pipe.ReadOnly)},
	{"Duplex", direction(pipe.Duplex, pipe.ReadWrite)},
}

// direction: a one-way pipe admits the client access that matches it and
// refuses the others with ErrAccessDenied; data flows the permitted way.
func direction(dir pipe.Direction, ok pipe.Access) func(t *testing.T) {
	return func(t *testing.T) {
		name := pipeName(t)
		l := listen(t, name, &pipe.ListenConfig{Message: true, Direction: dir, MaxInstances: 1})
		conns := acceptAll(t, l)
		if dir != pipe.Duplex {
			for _, a := range []pipe.Access{pipe.ReadWrite, pipe.ReadOnly, pipe.WriteOnly} {
				if a == ok {
					continue
				}
				_, err := pipe.Dial(context.Background(), name, &pipe.DialConfig{Access: a})
				wantErr(t, fmt.Sprintf("Dial of a %v pipe with Access %d", dir, a), err, errs.ErrAccessDenied)
			}
		}
		// The refused clients took no instance.
		cli := dial(t, name, &pipe.DialConfig{Access: ok})
		srv := next(t, conns)
		if dir != pipe.Outbound {
			writeMsg(t, cli, []byte("to server"))
			readMsg(t, srv, []byte("to server"))
		}
		if dir != pipe.Inbound {
			writeMsg(t, srv, []byte("to client"))
			readMsg(t, cli, []byte("to client"))
		}
	}
}

// Everything else.

var miscTests = []subtest{
	{"PeerPID", testPeerPID},
	{"CloseWrite", testCloseWrite},
	{"CloseWriteBytePipe", testCloseWriteBytePipe},
	{"UseAfterClose", testUseAfterClose},
}

// testPeerPID: each end's PeerPID is the other process.
func testPeerPID(t *testing.T) {
	p := startPeer(t)

	// The peer is the client.
	name := pipeName(t)
	l := listen(t, name, nil)
	ch := async(l.AcceptPipe)
	r := p.must(request{Op: "dial", Name: name, Timeout: wait})
	srv, err := get(t, ch, "Accept")
	if err != nil {
		t.Fatalf("Accept: %v", err)
	}
	guard(t, srv)
	if got := srv.PeerPID(); got != p.pid {
		t.Errorf("server Conn PeerPID() = %d; want the client process %d", got, p.pid)
	}
	if r.Peer != os.Getpid() {
		t.Errorf("peer's client Conn PeerPID() = %d; want the server process %d", r.Peer, os.Getpid())
	}

	// The peer is the server.
	name = pipeName(t)
	ach := p.send(request{Op: "accept", ID: p.listen(name, nil)})
	cli := dial(t, name, nil)
	if r := p.await(ach, "accept"); r.Err != "" || r.Peer != os.Getpid() {
		t.Errorf("peer's server Conn: PeerPID() = %d, error %q; want the client process %d", r.Peer, r.Err, os.Getpid())
	}
	if got := cli.PeerPID(); got != p.pid {
		t.Errorf("client Conn PeerPID() = %d; want the server process %d", got, p.pid)
	}
}

// testCloseWrite: on a message pipe CloseWrite makes the peer's Read
// return io.EOF, and the conversation can go on the other way.
func testCloseWrite(t *testing.T) {
	srv, p, id := peerClient(t, msgPipe, nil)
	p.write(id, []byte("request"))
	p.must(request{Op: "closeWrite", ID: id})
	buf := make([]byte, 100)
	n, err := srv.Read(buf)
	if err != nil || string(buf[:n]) != "request" {
		t.Fatalf("Read = (%d, %v) %q; want \"request\"", n, err, buf[:n])
	}
	n, err = srv.Read(buf)
	wantEOF(t, "Read after the peer's CloseWrite", n, err)
	writeMsg(t, srv, []byte("reply"))
	if got, err := p.readMsg(id, 100); err != nil || string(got) != "reply" {
		t.Fatalf("peer ReadMsg after its CloseWrite = (%q, %v); want \"reply\"", got, err)
	}

	// The server can do it too; ReadMsg sees the marker as an empty message.
	if err := srv.CloseWrite(); err != nil {
		t.Fatalf("server CloseWrite: %v", err)
	}
	if got, err := p.readMsg(id, 100); err != nil || len(got) != 0 {
		t.Fatalf("peer ReadMsg after the server's CloseWrite = (%q, %v); want an empty message", got, err)
	}
	p.write(id, []byte("still talking"))
	readMsg(t, srv, []byte("still talking"))
}

func testCloseWriteBytePipe(t *testing.T) {
	srv, cli := pair(t, nil, nil)
	wantErr(t, "CloseWrite on a byte pipe", cli.CloseWrite(), errs.ErrNotSupported)
	wantErr(t, "server CloseWrite on a byte pipe", srv.CloseWrite(), errs.ErrNotSupported)
	// Nothing was sent and the pipe still works.
	writeMsg(t, cli, []byte("abc"))
	got := make([]byte, 3)
	if _, err := io.ReadFull(srv, got); err != nil || string(got) != "abc" {
		t.Fatalf("reading after a refused CloseWrite = (%q, %v); want \"abc\"", got, err)
	}
}

func testUseAfterClose(t *testing.T) {
	srv, cli := pair(t, msgPipe, nil)
	if err := cli.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	wantErr(t, "second Close", cli.Close(), errs.ErrClosed)
	_, err := cli.Read(make([]byte, 1))
	wantErr(t, "Read after Close", err, errs.ErrClosed)
	_, err = cli.ReadMsg(make([]byte, 1))
	wantErr(t, "ReadMsg after Close", err, errs.ErrClosed)
	_, err = cli.Write([]byte("x"))
	wantErr(t, "Write after Close", err, errs.ErrClosed)
	n, err := srv.Read(make([]byte, 1))
	wantEOF(t, "Read on the other end after Close", n, err)
}
