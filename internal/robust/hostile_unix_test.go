//go:build unix

package robust

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/internal/kobj"
	"github.com/xipc/xipc/internal/names"
	"github.com/xipc/xipc/internal/ns"
	"github.com/xipc/xipc/mailslot"
	"github.com/xipc/xipc/shm/ring"
	"github.com/xipc/xipc/syncobj"
)

func init() {
	peerRoles["dgram"] = dgramPeer
}

// dgramPeer sends raw datagrams to a mailslot's socket, as a program that
// is not an xipc writer would: XIPC_DGRAM is "PATH SIZE COUNT". It stops
// at the first send that waits more than a second (the slot is full) and
// prints how many it sent.
func dgramPeer() int {
	f := strings.Fields(os.Getenv("XIPC_DGRAM"))
	size, _ := strconv.Atoi(f[1])
	count, _ := strconv.Atoi(f[2])
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: f[0], Net: "unixgram"})
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	defer c.Close()
	b := make([]byte, size)
	sent := 0
	for ; sent < count; sent++ {
		c.SetWriteDeadline(time.Now().Add(time.Second))
		if _, err := c.Write(b); err != nil {
			break
		}
	}
	fmt.Println(sent)
	return 0
}

func sameUserPeer(t *testing.T) *peer {
	return startPeer(t, os.Args[0], "objects", nil, nil)
}

func kobjPath(t *testing.T, name string) string {
	t.Helper()
	k, err := names.ParseKernel(name)
	if err != nil {
		t.Fatal(err)
	}
	path, err := kobj.Path(k)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func heapNow() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestRingCorrupted: a peer that writes nonsense over a ring's shared
// indices or message headers makes the other side's calls fail with
// ErrProtocol; nothing panics, reads past the data area or waits forever.
func TestRingCorrupted(t *testing.T) {
	t.Setenv("XIPC_ROOT", t.TempDir())
	p := sameUserPeer(t)
	const (
		offTail = 128  // the producer's index
		offHead = 256  // the consumer's index
		data    = 4096 // the first message's header
	)
	cases := []struct {
		what, off, hex string
		consumer       bool // the consumer's Read sees it, else the producer's Reserve
	}{
		{"tail far ahead", fmt.Sprint(offTail), "0000000000001000", true},
		{"tail behind the head", fmt.Sprint(offTail), "ffffffffffffffff", true},
		{"message length past the end", fmt.Sprint(data), "00ffffff00000000", true},
		{"unknown message flags", fmt.Sprint(data + 4), "ffffffff", true},
		{"head ahead of the tail", fmt.Sprint(offHead), "0000000000010000", false},
	}
	for i, tc := range cases {
		name := fmt.Sprintf(`Local\%s-%d`, uniq("ring"), i)
		prod, err := ring.Create(name, ring.Producer, ring.MinSize, &ring.Options{Spin: -1})
		if err != nil {
			t.Fatal(err)
		}
		cons, err := ring.Open(name, ring.Consumer, &ring.Options{Spin: -1})
		if err != nil {
			t.Fatal(err)
		}
		if tc.consumer {
			b, err := prod.Reserve(context.Background(), 16)
			if err != nil {
				t.Fatal(err)
			}
			copy(b, "a good message..")
			if err := prod.Commit(16); err != nil {
				t.Fatal(err)
			}
		}
		if got := p.do(fmt.Sprintf("poke %s %s %s", kobjPath(t, name), tc.off, tc.hex)); got != "ok" {
			t.Fatalf("%s: poke: %s", tc.what, got)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		if tc.consumer {
			_, err = cons.Read(ctx)
		} else {
			// Fill the ring so that the producer must look at the head.
			for err == nil {
				_, err = prod.Reserve(ctx, 1000)
				if err == nil {
					err = prod.Commit(1000)
				}
			}
		}
		cancel()
		if !errors.Is(err, errs.ErrProtocol) {
			t.Errorf("%s: %v; want ErrProtocol", tc.what, err)
		}
		prod.Close()
		cons.Close()
	}
}

// TestSyncCorrupted: a peer with write access to a sync object's shared
// page that holds its internal lock word, or fills the page with nonsense,
// cannot hang the other side's calls (they fail with ErrProtocol within a
// bounded time) or make them panic.
func TestSyncCorrupted(t *testing.T) {
	t.Setenv("XIPC_ROOT", t.TempDir())
	p := sameUserPeer(t)
	const offILock = 12
	name := `Local\` + uniq("mutex")
	m, err := syncobj.CreateMutex(name, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := p.do(fmt.Sprintf("poke %s %d PID", kobjPath(t, name), offILock)); got != "ok" {
		t.Fatalf("poke: %s", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	start := time.Now()
	err = m.Lock(ctx)
	cancel()
	if !errors.Is(err, errs.ErrProtocol) || time.Since(start) > 20*time.Second {
		t.Errorf("Lock with the internal lock held by a live stranger: %v after %v; want ErrProtocol", err, time.Since(start))
	}
	m.Close()

	for i, garbage := range []string{
		"63707869" + "02000000" + "ffffffff" + "00000000" + "ffffffff" + "05000000", // a semaphore over its maximum
		"63707869" + "01000000" + "00000000" + "00000000" + "01000000" + "00000000" + "07000000" + "00000000" + "ffffffffffffffff",
		"ffffffffffffffffffffffff00000000ffffffffffffffffffffffffffffffff",
	} {
		name := fmt.Sprintf(`Local\%s-%d`, uniq("sem"), i)
		s, err := syncobj.CreateSemaphore(name, 1, 5, nil)
		if err != nil {
			t.Fatal(err)
		}
		mu, err := syncobj.CreateMutex(name+"m", false, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []string{name, name + "m"} {
			if got := p.do(fmt.Sprintf("poke %s 0 %s", kobjPath(t, n), garbage)); got != "ok" {
				t.Fatalf("poke: %s", got)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		s.Wait(ctx)
		s.Release(1)
		mu.Lock(ctx)
		mu.Unlock()
		syncobj.WaitAll(ctx, s, mu)
		cancel()
		s.Close()
		mu.Close()
	}
}

// TestMailslotHostileSender: datagrams larger than the slot's limit, sent
// by a program that is not an xipc writer, are dropped without harm, and a
// flood of them is held to the slot's queue limit: the sender waits.
func TestMailslotHostileSender(t *testing.T) {
	t.Setenv("XIPC_ROOT", t.TempDir())
	name := uniq("slot")
	s, err := mailslot.Create(name, &mailslot.Config{MaxMessageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m, err := names.ParseMailslot(name)
	if err != nil {
		t.Fatal(err)
	}
	path, err := ns.Path("mailslot", m.Key())
	if err != nil {
		t.Fatal(err)
	}
	send := func(size, count int) int {
		p := startPeer(t, os.Args[0], "dgram", []string{fmt.Sprintf("XIPC_DGRAM=%s %d %d", path, size, count)}, nil)
		n, err := strconv.Atoi(p.next("sending"))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := send(5000, 5); n != 5 {
		t.Fatalf("sent %d oversized datagrams", n)
	}
	w, err := mailslot.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.Write([]byte("good")); err != nil {
		t.Fatal(err)
	}
	if err := s.SetReadTimeout(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 100)
	if n, err := s.Read(b); err != nil || string(b[:n]) != "good" {
		t.Fatalf("after oversized datagrams: %q, %v; want the good message", b[:n], err)
	}

	before := heapNow()
	sent := send(100, 1_000_000)
	// A sender that is not an xipc writer never kicks the slot's pump: what
	// it sent waits in the socket (Info counts it), and the sender waited.
	time.Sleep(50 * time.Millisecond)
	info, err := s.Info()
	if err != nil {
		t.Fatal(err)
	}
	if sent >= 1_000_000 || info.Count*100 > mailslot.QueueLimit+100 {
		t.Errorf("flood: %d sent, %d queued; want the sender held back at the queue limit (%d bytes)", sent, info.Count, mailslot.QueueLimit)
	}
	if grew := int64(heapNow()) - int64(before); grew > 4*mailslot.QueueLimit {
		t.Errorf("the heap grew by %d bytes under a flood", grew)
	}
	for range info.Count {
		if _, err := s.Read(b); err != nil {
			t.Fatalf("draining the flood: %v", err)
		}
	}
}

// TestMailslotPlantedLock: a FIFO or a symlink planted where a slot's lock
// file goes, or a plain file where its socket goes, makes Open fail at
// once with ErrAccessDenied (it neither blocks on the FIFO nor follows the
// link).
func TestMailslotPlantedLock(t *testing.T) {
	t.Setenv("XIPC_ROOT", t.TempDir())
	for _, plant := range []string{"fifo", "symlink", "file"} {
		name := uniq("planted")
		m, _ := names.ParseMailslot(name)
		path, err := ns.Path("mailslot", m.Key())
		if err != nil {
			t.Fatal(err)
		}
		var ln *net.UnixConn
		switch plant {
		case "file": // a plain file where the socket goes
			err = os.WriteFile(path, nil, 0o600)
		default:
			ln, err = net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
		}
		if err != nil {
			t.Fatal(err)
		}
		switch plant {
		case "fifo":
			err = syscall.Mkfifo(ns.LockPath(path), 0o600)
		case "symlink":
			err = os.Symlink("/etc/passwd", ns.LockPath(path))
		case "file":
			err = os.WriteFile(ns.LockPath(path), []byte("x\nmax 100\n"), 0o600)
		}
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			w, err := mailslot.Open(name)
			if err == nil {
				w.Close()
			}
			done <- err
		}()
		select {
		case err := <-done:
			if !errors.Is(err, errs.ErrAccessDenied) {
				t.Errorf("%s planted: Open: %v; want ErrAccessDenied", plant, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s planted: Open hangs", plant)
		}
		if ln != nil {
			ln.Close()
		}
	}
}
