package natsmsgq_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"go.uber.org/goleak"

	"github.com/xipc/xipc"
	"github.com/xipc/xipc/internal/conformance"
	"github.com/xipc/xipc/msgq"
	"github.com/xipc/xipc/nats/natsmsgq"
)

// maxPayload is the test servers' max payload: msgq's suite sends 16 MiB.
// Their clients' pending limit (MaxPending) is well above it, so that a
// message of the max payload does not make a slow consumer.
const maxPayload = 32 << 20

const envPoster = "XIPC_NATSMSGQ_POSTER" // URL, in a poster process

// TestMain makes this binary a poster process when a test starts one, and
// otherwise runs the tests and checks that none leaves a goroutine behind.
func TestMain(m *testing.M) {
	if url := os.Getenv(envPoster); url != "" {
		os.Exit(poster(url))
	}
	installForPeer()
	conformance.RunPeerIfAsked()
	goleak.VerifyTestMain(m)
}

// poster posts WM_USER+1..+5 to the queue "proc" and sends WM_USER+9.
func poster(url string) int {
	nc, err := nats.Connect(url)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer nc.Close()
	t, err := natsmsgq.Find(nc, "proc")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for i := range 5 {
		if err := t.Post(msgq.WM_USER+uint32(i)+1, uintptr(i), 0); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := t.Send(ctx, msgq.WM_USER+9, 0, 0)
	if err != nil || r != 99 {
		fmt.Fprintln(os.Stderr, r, err)
		return 1
	}
	return 0
}

// startServers starts n embedded NATS servers with JetStream, clustered
// when n > 1, and creates the stream; t.Cleanup shuts them down.
func startServers(t *testing.T, n int) []*server.Server {
	t.Helper()
	var out []*server.Server
	var routes string
	ports := make([]int, n)
	for i := range n {
		ports[i] = freePort(t)
	}
	for i := range n {
		routes += fmt.Sprintf("nats://127.0.0.1:%d,", ports[i])
	}
	for i := range n {
		o := &server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true,
			ServerName: fmt.Sprint("n", i), JetStream: true, StoreDir: t.TempDir(), MaxPayload: maxPayload, MaxPending: 8 * maxPayload}
		if n > 1 {
			o.Cluster = server.ClusterOpts{Name: "xipc", Host: "127.0.0.1", Port: ports[i]}
			o.Routes = server.RoutesFromStr(routes[:len(routes)-1])
		}
		s, err := server.NewServer(o)
		if err != nil {
			t.Fatal(err)
		}
		go s.Start()
		t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
		out = append(out, s)
	}
	for _, s := range out {
		if !s.ReadyForConnections(30 * time.Second) {
			t.Fatal("NATS server not ready")
		}
	}
	nc := connect(t, out[0])
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := natsmsgq.EnsureStream(nc, n)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("EnsureStream: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return out
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func connect(t *testing.T, s *server.Server) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(s.ClientURL(), nats.MaxReconnects(0))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func register(t *testing.T, nc *nats.Conn, name string) *natsmsgq.Queue {
	t.Helper()
	q, err := natsmsgq.Register(nc, name)
	if err != nil {
		t.Fatalf("Register(%s): %v", name, err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

func get(t *testing.T, q *natsmsgq.Queue, min, max uint32) *natsmsgq.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m, err := q.Get(ctx, min, max)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	return m
}

func TestQueue(t *testing.T) {
	srv := startServers(t, 1)[0]
	q := register(t, connect(t, srv), "Jobs")
	if _, err := natsmsgq.Register(connect(t, srv), "JOBS"); !errors.Is(err, xipc.ErrExists) {
		t.Errorf("second Register: %v; want ErrExists", err)
	}
	snc := connect(t, srv)
	if _, err := natsmsgq.Find(snc, "nope"); !errors.Is(err, xipc.ErrNotFound) {
		t.Errorf("Find of a missing queue: %v; want ErrNotFound", err)
	}
	tg, err := natsmsgq.Find(snc, "jobs")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if err := tg.Post(msgq.WM_USER+uint32(i), uintptr(i), 7); err != nil {
			t.Fatal(err)
		}
	}
	if err := tg.Post(msgq.WM_COPYDATA, 0, 0); !errors.Is(err, xipc.ErrInvalidParameter) {
		t.Errorf("Post of WM_COPYDATA: %v; want ErrInvalidParameter", err)
	}
	// A sent message comes before the posted ones.
	type res struct {
		r   uintptr
		err error
	}
	ch := make(chan res, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		r, err := tg.SendData(ctx, 5, []byte("payload"))
		ch <- res{r, err}
	}()
	deadline := time.Now().Add(time.Minute)
	var m *natsmsgq.Message
	for m == nil || !m.Sent {
		if m, err = q.Peek(0, 0, false); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("the sent message never came first")
		}
	}
	if m.Msg != msgq.WM_COPYDATA || m.LParam != 5 || string(m.Data) != "payload" {
		t.Fatalf("sent message = %+v", m)
	}
	m.Reply(42)
	if r := <-ch; r.err != nil || r.r != 42 {
		t.Fatalf("SendData = %d, %v; want 42", r.r, r.err)
	}
	// Filters keep the order of what they pass over.
	if m := get(t, q, msgq.WM_USER+1, msgq.WM_USER+2); m.Msg != msgq.WM_USER+1 {
		t.Errorf("filtered Get = %#x; want WM_USER+1", m.Msg)
	}
	for _, want := range []uint32{msgq.WM_USER, msgq.WM_USER + 2} {
		if m := get(t, q, 0, 0); m.Msg != want || m.Sent {
			t.Errorf("Get = %+v; want posted %#x", m, want)
		}
	}
	if m, err := q.Peek(0, 0, true); m != nil || err != nil {
		t.Errorf("Peek of an empty queue = %v, %v", m, err)
	}
	// Payloads up to the server's max payload, a clear error past it.
	big := bytes.Repeat([]byte("b"), int(snc.MaxPayload())-1024)
	go func() {
		m := get(t, q, 0, 0)
		m.Reply(uintptr(len(m.Data)))
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if r, err := tg.SendData(ctx, 0, big); err != nil || r != uintptr(len(big)) {
		t.Errorf("SendData of %d bytes = %d, %v", len(big), r, err)
	}
	if _, err := tg.SendData(ctx, 0, make([]byte, snc.MaxPayload())); !errors.Is(err, xipc.ErrMessageTooLarge) {
		t.Errorf("SendData past the max payload: %v; want ErrMessageTooLarge", err)
	}
	// A Send nobody takes ends with its context, and is not delivered later.
	short, cancel2 := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel2()
	if _, err := tg.Send(short, msgq.WM_USER+50, 0, 0); !errors.Is(err, xipc.ErrTimeout) {
		t.Errorf("Send that nobody takes: %v; want ErrTimeout", err)
	}
	if m, _ := q.Peek(0, 0, true); m != nil {
		t.Errorf("a timed-out Send was delivered: %+v", m)
	}
	// Close: sends and posts fail with ErrNotFound.
	q.Close()
	if err := tg.Post(msgq.WM_USER, 0, 0); !errors.Is(err, xipc.ErrNotFound) {
		t.Errorf("Post after Close: %v; want ErrNotFound", err)
	}
	if _, err := tg.Send(ctx, msgq.WM_USER, 0, 0); !errors.Is(err, xipc.ErrNotFound) {
		t.Errorf("Send after Close: %v; want ErrNotFound", err)
	}
}

// TestQuota: the 10,001st posted message is refused with ErrQuota; taking
// one makes room.
func TestQuota(t *testing.T) {
	if testing.Short() {
		t.Skip("posts 10,000 messages")
	}
	srv := startServers(t, 1)[0]
	q := register(t, connect(t, srv), "full")
	tg, err := natsmsgq.Find(connect(t, srv), "full")
	if err != nil {
		t.Fatal(err)
	}
	for i := range msgq.Quota {
		if err := tg.Post(msgq.WM_USER, uintptr(i), 0); err != nil {
			t.Fatalf("Post #%d: %v", i, err)
		}
	}
	if err := tg.Post(msgq.WM_USER, 0, 0); !errors.Is(err, xipc.ErrQuota) {
		t.Fatalf("Post #10001: %v; want ErrQuota", err)
	}
	if m := get(t, q, 0, 0); m.WParam != 0 {
		t.Fatalf("first message WParam %d", m.WParam)
	}
	if err := tg.Post(msgq.WM_USER, 0, 0); err != nil {
		t.Fatalf("Post after a Get: %v", err)
	}
}

// TestPosterProcess: another process posts and sends.
func TestPosterProcess(t *testing.T) {
	srv := startServers(t, 1)[0]
	q := register(t, connect(t, srv), "proc")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envPoster+"="+srv.ClientURL())
	out := make(chan error, 1)
	go func() {
		b, err := cmd.CombinedOutput()
		if err != nil {
			err = fmt.Errorf("%v: %s", err, b)
		}
		out <- err
	}()
	// The posted messages in order; the sent one may come before the last
	// of them (sent messages go first).
	posted, sent := 0, 0
	for range 6 {
		m := get(t, q, 0, 0)
		if m.Sent {
			if m.Msg != msgq.WM_USER+9 {
				t.Fatalf("sent message = %+v", m)
			}
			m.Reply(99)
			sent++
			continue
		}
		if m.Msg != msgq.WM_USER+uint32(posted)+1 || m.WParam != uintptr(posted) {
			t.Fatalf("posted message #%d = %+v", posted, m)
		}
		posted++
	}
	if posted != 5 || sent != 1 {
		t.Fatalf("%d posted and %d sent; want 5 and 1", posted, sent)
	}
	if err := <-out; err != nil {
		t.Fatal(err)
	}
}

// TestCluster: in a 3-node cluster with the stream on three replicas,
// posts acknowledged before the stream's leader dies are all delivered
// (clients reconnect to the other nodes); a Send waiting on a receiver
// whose server dies fails with ErrNotFound.
func TestCluster(t *testing.T) {
	srvs := startServers(t, 3)
	var urls []string
	byName := map[string]*server.Server{}
	for _, s := range srvs {
		urls = append(urls, s.ClientURL())
		byName[s.Name()] = s
	}
	all := func() *nats.Conn {
		nc, err := nats.Connect(strings.Join(urls, ","), nats.ReconnectWait(50*time.Millisecond), nats.MaxReconnects(-1))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		return nc
	}
	q := register(t, all(), "clustered")
	snc := all()
	tg, err := natsmsgq.Find(snc, "clustered")
	if err != nil {
		t.Fatal(err)
	}
	const n = 200
	for i := range n {
		if err := tg.Post(msgq.WM_USER, uintptr(i), 0); err != nil {
			t.Fatalf("Post #%d: %v", i, err)
		}
	}
	js, _ := snc.JetStream()
	si, err := js.StreamInfo(natsmsgq.Stream)
	if err != nil || si.Cluster == nil || byName[si.Cluster.Leader] == nil {
		t.Fatalf("stream info: %+v, %v", si, err)
	}
	leader := byName[si.Cluster.Leader]
	leader.Shutdown()
	leader.WaitForShutdown()
	for i := range n {
		if m := get(t, q, 0, 0); m.WParam != uintptr(i) {
			t.Fatalf("after the stream's leader died, Get #%d has WParam %d", i, m.WParam)
		}
	}

	// A receiver pinned to one surviving node; that node dies while a
	// Send from the other waits.
	var pin, other *server.Server
	for _, s := range srvs {
		if s != leader && pin == nil {
			pin = s
		} else if s != leader {
			other = s
		}
	}
	register(t, connect(t, pin), "lonely")
	sender := connect(t, other)
	lt, err := natsmsgq.Find(sender, "lonely")
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, err := lt.Send(ctx, msgq.WM_USER, 0, 0)
		ch <- err
	}()
	time.Sleep(300 * time.Millisecond)
	pin.Shutdown()
	pin.WaitForShutdown()
	select {
	case err := <-ch:
		if !errors.Is(err, xipc.ErrNotFound) {
			t.Errorf("pending Send when the receiver's server died: %v; want ErrNotFound", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("pending Send still waits 30s after the receiver's server died")
	}
}

// BenchmarkNATS measures Post (a JetStream publish acknowledged by one
// node, after asking the receiver) and a Send round trip, against an
// embedded server, with the receiver in this process.
func BenchmarkNATS(b *testing.B) {
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true, JetStream: true, StoreDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	go s.Start()
	defer func() { s.Shutdown(); s.WaitForShutdown() }()
	if !s.ReadyForConnections(30 * time.Second) {
		b.Fatal("not ready")
	}
	rnc, _ := nats.Connect(s.ClientURL())
	defer rnc.Close()
	snc, _ := nats.Connect(s.ClientURL())
	defer snc.Close()
	if err := natsmsgq.EnsureStream(rnc, 1); err != nil {
		b.Fatal(err)
	}
	q, err := natsmsgq.Register(rnc, "bench")
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go q.Serve(ctx, func(m *natsmsgq.Message) uintptr { return m.WParam + 1 })
	tg, err := natsmsgq.Find(snc, "bench")
	if err != nil {
		b.Fatal(err)
	}
	b.Run("Send", func(b *testing.B) {
		for b.Loop() {
			sctx, c := context.WithTimeout(context.Background(), 10*time.Second)
			if _, err := tg.Send(sctx, msgq.WM_USER, 1, 0); err != nil {
				b.Fatal(err)
			}
			c()
		}
	})
	b.Run("Post", func(b *testing.B) {
		for b.Loop() {
			if err := tg.Post(msgq.WM_USER, 1, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
}
