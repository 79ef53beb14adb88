package natsslot_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"go.uber.org/goleak"

	"github.com/xipc/xipc"
	"github.com/xipc/xipc/mailslot"
	"github.com/xipc/xipc/nats/natsslot"
)

const envWriter = "XIPC_NATSSLOT_WRITER" // URL, in a writer process

// TestMain makes this binary a writer process when a test starts one, and
// otherwise runs the tests and checks that none leaves a goroutine behind.
func TestMain(m *testing.M) {
	if url := os.Getenv(envWriter); url != "" {
		os.Exit(writer(url, os.Getenv("XIPC_NATSSLOT_NAME"), os.Getenv("XIPC_NATSSLOT_MSG")))
	}
	goleak.VerifyTestMain(m)
}

// writer opens name and writes msg three times, then flushes.
func writer(url, name, msg string) int {
	nc, err := nats.Connect(url)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer nc.Close()
	w, err := natsslot.Open(nc, name, &natsslot.Options{Host: "writer"})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	for range 3 {
		if _, err := w.Write([]byte(msg)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	if err := w.Flush(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// startServers starts n embedded NATS servers, clustered when n > 1;
// t.Cleanup shuts them down.
func startServers(t *testing.T, n int) []*server.Server {
	t.Helper()
	var out []*server.Server
	for i := range n {
		o := &server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true, ServerName: fmt.Sprint("n", i)}
		if n > 1 {
			o.Cluster = server.ClusterOpts{Name: "xipc", Host: "127.0.0.1", Port: -1}
			if i > 0 {
				o.Routes = server.RoutesFromStr(fmt.Sprintf("nats://127.0.0.1:%d", out[0].ClusterAddr().Port))
			}
		}
		s, err := server.NewServer(o)
		if err != nil {
			t.Fatal(err)
		}
		go s.Start()
		if !s.ReadyForConnections(30 * time.Second) {
			t.Fatal("NATS server not ready")
		}
		t.Cleanup(func() { s.Shutdown(); s.WaitForShutdown() })
		out = append(out, s)
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, s := range out {
		for n > 1 && s.NumRoutes() < n-1 {
			if time.Now().After(deadline) {
				t.Fatalf("cluster did not form: %s has %d routes", s.Name(), s.NumRoutes())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return out
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

func create(t *testing.T, nc *nats.Conn, name, host string) *natsslot.Slot {
	t.Helper()
	s, err := natsslot.Create(nc, name, &natsslot.Options{Host: host, ReadTimeout: 30 * time.Second})
	if err != nil {
		t.Fatalf("Create(%s on %s): %v", name, host, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func read(t *testing.T, s *natsslot.Slot, want string) {
	t.Helper()
	m, err := s.ReadMsg()
	if err != nil || string(m) != want {
		t.Fatalf("ReadMsg = %q, %v; want %q", m, err, want)
	}
}

func TestSlot(t *testing.T) {
	srv := startServers(t, 1)[0]
	nc := connect(t, srv)
	s, err := natsslot.Create(nc, `\\.\mailslot\jobs\Q`, &natsslot.Options{Host: "alpha", MaxMessageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := natsslot.Create(nc, `JOBS\q`, &natsslot.Options{Host: "alpha"}); !errors.Is(err, xipc.ErrExists) {
		t.Errorf("second Create: %v; want ErrExists", err)
	}
	if _, err := natsslot.Open(nc, `\\alpha\mailslot\nope`, nil); !errors.Is(err, xipc.ErrNotFound) {
		t.Errorf("Open of a missing slot: %v; want ErrNotFound", err)
	}
	if _, err := natsslot.Open(nc, `\\alpha\pipe\x`, nil); !errors.Is(err, xipc.ErrInvalidName) {
		t.Errorf("Open of a pipe name: %v; want ErrInvalidName", err)
	}
	other := connect(t, srv)
	w, err := natsslot.Open(other, `\\ALPHA\mailslot\jobs\q`, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if _, err := w.Write(make([]byte, 101)); !errors.Is(err, xipc.ErrMessageTooLarge) {
		t.Errorf("Write over MaxMessageSize: %v; want ErrMessageTooLarge", err)
	}
	for _, m := range []string{"one", "two", "a longer third"} {
		if _, err := w.Write([]byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	// Poll until all three are there, then look at them.
	deadline := time.Now().Add(30 * time.Second)
	for {
		info, err := s.Info()
		if err != nil {
			t.Fatal(err)
		}
		if info.Count == 3 {
			if info.NextSize != 3 || info.MaxMessageSize != 100 {
				t.Errorf("Info = %+v; want NextSize 3, MaxMessageSize 100", info)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Info.Count stays %d; want 3", info.Count)
		}
		time.Sleep(10 * time.Millisecond)
	}
	buf := make([]byte, 2)
	if _, err := s.Read(buf); !errors.Is(err, xipc.ErrInsufficientBuffer) {
		t.Errorf("Read into 2 bytes: %v; want ErrInsufficientBuffer", err)
	}
	if err := s.SetReadTimeout(time.Minute); err != nil {
		t.Fatal(err)
	}
	read(t, s, "one")
	read(t, s, "two")
	read(t, s, "a longer third")
	s.SetReadTimeout(0)
	if _, err := s.ReadMsg(); !errors.Is(err, xipc.ErrTimeout) {
		t.Errorf("Read of an empty slot: %v; want ErrTimeout", err)
	}
	s.SetReadTimeout(mailslot.WaitForever)
	done := make(chan error, 1)
	go func() { _, err := s.ReadMsg(); done <- err }()
	time.Sleep(50 * time.Millisecond)
	s.Close()
	if err := <-done; !errors.Is(err, xipc.ErrClosed) {
		t.Errorf("Read during Close: %v; want ErrClosed", err)
	}
	// The name is free again.
	again, err := natsslot.Create(nc, `jobs\q`, &natsslot.Options{Host: "alpha"})
	if err != nil {
		t.Fatalf("Create after Close: %v", err)
	}
	again.Close()
}

// TestBroadcast: `\\*\mailslot\NAME` reaches the slot NAME of every host.
func TestBroadcast(t *testing.T) {
	srv := startServers(t, 1)[0]
	a := create(t, connect(t, srv), "news", "a")
	b := create(t, connect(t, srv), "news", "b")
	w, err := natsslot.Open(connect(t, srv), `\\*\mailslot\NEWS`, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(make([]byte, 425)); !errors.Is(err, xipc.ErrMessageTooLarge) {
		t.Errorf("broadcast of 425 bytes: %v; want ErrMessageTooLarge", err)
	}
	if _, err := w.Write(bytes.Repeat([]byte("x"), 424)); err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("to all"))
	for _, s := range []*natsslot.Slot{a, b} {
		read(t, s, string(bytes.Repeat([]byte("x"), 424)))
		read(t, s, "to all")
	}
}

// TestCluster: a writer on one node of a 3-node cluster reaches slots on
// the others, by name and by broadcast, and still reaches them after a
// node that neither uses has been shut down.
func TestCluster(t *testing.T) {
	srvs := startServers(t, 3)
	a := create(t, connect(t, srvs[0]), "logs", "a")
	b := create(t, connect(t, srvs[1]), "logs", "b")
	wnc := connect(t, srvs[2])
	wa, err := natsslot.Open(wnc, `\\a\mailslot\logs`, nil)
	if err != nil {
		t.Fatalf("Open across the cluster: %v", err)
	}
	// A broadcast reaches the slots the cluster knows of: asking b's
	// owner makes sure b's subscriptions have reached this node.
	if _, err := natsslot.Open(wnc, `\\b\mailslot\logs`, nil); err != nil {
		t.Fatal(err)
	}
	wall, err := natsslot.Open(wnc, `\\*\mailslot\logs`, nil)
	if err != nil {
		t.Fatal(err)
	}
	wa.Write([]byte("for a"))
	wall.Write([]byte("for all"))
	read(t, a, "for a")
	read(t, a, "for all")
	read(t, b, "for all")

	srvs[1].Shutdown()
	srvs[1].WaitForShutdown()
	if _, err := wa.Write([]byte("after")); err != nil {
		t.Fatal(err)
	}
	read(t, a, "after")
}

// TestWriterProcess: messages from another process arrive whole, in order.
func TestWriterProcess(t *testing.T) {
	srv := startServers(t, 1)[0]
	s := create(t, connect(t, srv), "proc", "here")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envWriter+"="+srv.ClientURL(), `XIPC_NATSSLOT_NAME=\\here\mailslot\proc`, "XIPC_NATSSLOT_MSG=from a process")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("writer process: %v: %s", err, out)
	}
	for range 3 {
		read(t, s, "from a process")
	}
}
