//go:build unix

package robust

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/mailslot"
	"github.com/xipc/xipc/pipe"
	"github.com/xipc/xipc/shm"
	"github.com/xipc/xipc/syncobj"
)

// crashIterations is how many times TestCrash kills a peer of each kind.
const crashIterations = 100

func init() { peerRoles["crash"] = crashPeer }

// The crash peer: XIPC_CRASH is "KIND SIDE NAME RECORD". It prints "ready"
// once its object is set up, then "ack N" each time it knows that item N
// was delivered (a client side), or appends "N" to the file RECORD before
// it acknowledges item N (a server side). It runs until killed.
func crashPeer() int {
	f := strings.Fields(os.Getenv("XIPC_CRASH"))
	kind, side, name, record := f[0], f[1], f[2], f[3]
	var rec *os.File
	if side == "server" {
		var err error
		if rec, err = os.OpenFile(record, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600); err != nil {
			fmt.Println("error:", err)
			return 1
		}
	}
	out := bufio.NewWriter(os.Stdout)
	say := func(format string, a ...any) { fmt.Fprintf(out, format+"\n", a...); out.Flush() }
	fail := func(err error) int { say("error: %v", err); return 1 }
	ctx := context.Background()
	switch kind + "/" + side {
	case "pipe/server":
		l, err := pipe.Listen(name, &pipe.ListenConfig{Message: true, FirstInstance: true})
		if err != nil {
			return fail(err)
		}
		say("ready")
		c, err := l.AcceptPipe()
		if err != nil {
			return fail(err)
		}
		b := make([]byte, 64)
		for {
			n, err := c.ReadMsg(b)
			if err != nil {
				return fail(err)
			}
			fmt.Fprintf(rec, "%s\n", b[:n])
			if _, err := c.Write(b[:n]); err != nil {
				return fail(err)
			}
		}
	case "pipe/client":
		c, err := pipe.Dial(ctx, name, nil)
		if err != nil {
			return fail(err)
		}
		say("ready")
		b := make([]byte, 64)
		for i := 1; ; i++ {
			if _, err := c.Write([]byte(strconv.Itoa(i))); err != nil {
				return fail(err)
			}
			if _, err := c.ReadMsg(b); err != nil {
				return fail(err)
			}
			say("ack %d", i)
		}
	case "mailslot/server":
		s, err := mailslot.Create(name, &mailslot.Config{ReadTimeout: mailslot.WaitForever})
		if err != nil {
			return fail(err)
		}
		w, err := mailslot.Open(name + "-ack")
		if err != nil {
			return fail(err)
		}
		say("ready")
		for {
			m, err := s.ReadMsg()
			if err != nil {
				return fail(err)
			}
			fmt.Fprintf(rec, "%s\n", m)
			if _, err := w.Write(m); err != nil {
				return fail(err)
			}
		}
	case "mailslot/client":
		acks, err := mailslot.Create(name+"-ack", &mailslot.Config{ReadTimeout: mailslot.WaitForever})
		if err != nil {
			return fail(err)
		}
		say("ready")
		var w *mailslot.Writer
		for w == nil {
			if w, err = mailslot.Open(name); err != nil {
				time.Sleep(time.Millisecond) // the test creates the slot once we are ready
			}
		}
		for i := 1; ; i++ {
			if _, err := w.Write([]byte(strconv.Itoa(i))); err != nil {
				return fail(err)
			}
			if _, err := acks.ReadMsg(); err != nil {
				return fail(err)
			}
			say("ack %d", i)
		}
	case "shm/server", "shm/client":
		// server: the peer creates the mapping and acknowledges (it is
		// the reader); client: the peer opens it and writes.
		var m *shm.Mapping
		var err error
		if side == "server" {
			m, err = shm.Create(name, 4096, nil)
		} else {
			m, err = shm.Open(name, shm.ReadWrite)
		}
		if err != nil {
			return fail(err)
		}
		say("ready")
		w := words(m.Bytes())
		if side == "server" {
			for seen := uint32(0); ; {
				if s := atomic.LoadUint32(&w[0]); s != seen {
					seen = s
					atomic.StoreUint32(&w[2+s%500], s) // the record, before the ack
					atomic.StoreUint32(&w[1], s)
				}
				time.Sleep(50 * time.Microsecond)
			}
		}
		for i := uint32(1); ; i++ {
			atomic.StoreUint32(&w[0], i)
			for atomic.LoadUint32(&w[1]) != i {
				time.Sleep(50 * time.Microsecond)
			}
			say("ack %d", i)
		}
	case "mutex/server", "mutex/client":
		mu, err := syncobj.CreateMutex(name, false, nil)
		if err != nil {
			return fail(err)
		}
		m, err := shm.Create(name+"-count", 4096, nil)
		if err != nil {
			return fail(err)
		}
		say("ready")
		w := words(m.Bytes())
		for {
			if err := mu.Lock(ctx); err != nil && !errors.Is(err, errs.ErrAbandoned) {
				return fail(err)
			}
			n := w[0] + 1
			w[0] = n
			if err := mu.Unlock(); err != nil {
				return fail(err)
			}
			say("ack %d", n)
		}
	}
	return fail(fmt.Errorf("unknown kind/side %s/%s", kind, side))
}

func words(b []byte) []uint32 { return unsafe.Slice((*uint32)(unsafe.Pointer(&b[0])), len(b)/4) }

// crashRun is one iteration: the peer and what the test side saw.
type crashRun struct {
	t      *testing.T
	p      *peer
	record string
	mu     sync.Mutex
	got    map[int]bool // items the test side received (server side)
	acked  int          // the last item the test side saw acknowledged
	peered int          // the last "ack N" the peer printed
}

func (r *crashRun) received(n int) {
	r.mu.Lock()
	r.got[n] = true
	r.mu.Unlock()
}

// TestCrash kills (SIGKILL) one side of a pipe, a mailslot, a mapping or a
// mutex at random points, crashIterations times each, alternating the side:
// after each kill a restart under the same name must succeed (no stale
// object blocks it), and every item acknowledged as delivered must have
// been delivered: recorded by a killed receiver before it acknowledged, or
// received by the test for each acknowledgement a killed sender printed.
func TestCrash(t *testing.T) {
	t.Setenv("XIPC_ROOT", t.TempDir())
	for _, kind := range []string{"pipe", "mailslot", "shm", "mutex"} {
		t.Run(kind, func(t *testing.T) {
			for i := range crashIterations {
				side := []string{"server", "client"}[i%2]
				crashOnce(t, kind, side, fmt.Sprintf("crash-%s-%d", kind, i))
				if t.Failed() {
					t.Fatalf("iteration %d (%s side killed)", i, side)
				}
			}
		})
	}
}

func crashOnce(t *testing.T, kind, side, name string) {
	ctx := context.Background()
	r := &crashRun{t: t, record: fmt.Sprintf("%s/%s.rec", t.TempDir(), name), got: map[int]bool{}}
	stop := make(chan struct{}) // closed once the peer is dead
	var wg sync.WaitGroup
	defer wg.Wait()
	start := func() {
		r.p = startPeer(t, os.Args[0], "crash", []string{fmt.Sprintf("XIPC_CRASH=%s %s %s %s", kind, side, name, r.record)}, nil)
	}
	// The test's side of the object, set up before or after the peer's.
	var closers []func()
	defer func() {
		for _, c := range closers {
			c()
		}
	}()
	wantReady := func() bool {
		l := r.p.next("ready")
		if l != "ready" {
			t.Errorf("peer: %s", l)
			return false
		}
		return true
	}
	switch kind + "/" + side {
	case "pipe/server":
		start()
		if !wantReady() {
			return
		}
		c, err := pipe.Dial(ctx, name, nil)
		if err != nil {
			t.Fatal(err)
		}
		closers = append(closers, func() { c.Close() })
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := make([]byte, 64)
			for i := 1; ; i++ {
				if _, err := c.Write([]byte(strconv.Itoa(i))); err != nil {
					return
				}
				if _, err := c.ReadMsg(b); err != nil {
					return
				}
				r.acked = i
			}
		}()
	case "pipe/client":
		l, err := pipe.Listen(name, &pipe.ListenConfig{Message: true})
		if err != nil {
			t.Fatal(err)
		}
		closers = append(closers, func() { l.Close() })
		start()
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := l.AcceptPipe()
			if err != nil {
				return
			}
			defer c.Close()
			b := make([]byte, 64)
			for {
				n, err := c.ReadMsg(b)
				if err != nil {
					return
				}
				v, _ := strconv.Atoi(string(b[:n]))
				r.received(v)
				if _, err := c.Write(b[:n]); err != nil {
					return
				}
			}
		}()
	case "mailslot/server":
		acks, err := mailslot.Create(name+"-ack", &mailslot.Config{ReadTimeout: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		closers = append(closers, func() { acks.Close() })
		start()
		if !wantReady() {
			return
		}
		w, err := mailslot.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		closers = append(closers, func() { w.Close() })
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 1; ; i++ {
				if _, err := w.Write([]byte(strconv.Itoa(i))); err != nil {
					return
				}
				for {
					if _, err := acks.ReadMsg(); err == nil {
						break
					}
					select {
					case <-stop:
						return
					default:
					}
				}
				r.acked = i
			}
		}()
	case "mailslot/client":
		s, err := mailslot.Create(name, &mailslot.Config{ReadTimeout: 20 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		closers = append(closers, func() { s.Close() })
		start()
		if !wantReady() {
			return
		}
		w, err := mailslot.Open(name + "-ack")
		if err != nil {
			t.Fatal(err)
		}
		closers = append(closers, func() { w.Close() })
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				m, err := s.ReadMsg()
				select {
				case <-stop:
					return
				default:
				}
				if err != nil {
					continue
				}
				v, _ := strconv.Atoi(string(m))
				r.received(v)
				if _, err := w.Write(m); err != nil {
					return
				}
			}
		}()
	case "shm/server", "shm/client":
		var m *shm.Mapping
		if side == "client" { // the test creates, the peer writes
			var err error
			if m, err = shm.Create(name, 4096, nil); err != nil {
				t.Fatal(err)
			}
			start()
		} else {
			start()
			if !wantReady() {
				return
			}
			var err error
			if m, err = shm.Open(name, shm.ReadWrite); err != nil {
				t.Fatal(err)
			}
		}
		closers = append(closers, func() { m.Close() })
		w := words(m.Bytes())
		wg.Add(1)
		go func() {
			defer wg.Done()
			if side == "client" { // the test reads and acknowledges
				for seen := uint32(0); ; {
					if s := atomic.LoadUint32(&w[0]); s != seen {
						seen = s
						r.received(int(s))
						atomic.StoreUint32(&w[1], s)
					}
					select {
					case <-stop:
						return
					default:
						time.Sleep(50 * time.Microsecond)
					}
				}
			}
			for i := uint32(1); ; i++ {
				atomic.StoreUint32(&w[0], i)
				for atomic.LoadUint32(&w[1]) != i {
					select {
					case <-stop:
						return
					default:
						time.Sleep(50 * time.Microsecond)
					}
				}
				r.acked = int(i)
			}
		}()
	case "mutex/server", "mutex/client":
		if side == "client" {
			start() // the peer creates them, the test opens
			if !wantReady() {
				return
			}
		}
		mu, err := syncobj.CreateMutex(name, false, nil)
		if err != nil {
			t.Fatal(err)
		}
		m, err := shm.Create(name+"-count", 4096, nil)
		if err != nil {
			mu.Close()
			t.Fatal(err)
		}
		closers = append(closers, func() { mu.Close(); m.Close() })
		if side == "server" {
			start()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-stop
			// The peer may have died holding the mutex: it must come free.
			ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if err := mu.Lock(ctx); err != nil && !errors.Is(err, errs.ErrAbandoned) {
				t.Errorf("Lock after the owner's death: %v", err)
				return
			}
			r.acked = int(words(m.Bytes())[0]) // what the mutex protected
			mu.Unlock()
		}()
	}
	// Let the peer run for a random while (sometimes none: a kill while it
	// sets up), reading what it prints, then kill it.
	lines := make(chan struct{})
	go func() {
		defer close(lines)
		for l := range r.p.lines {
			if v, ok := strings.CutPrefix(l, "ack "); ok {
				n, _ := strconv.Atoi(v)
				r.mu.Lock()
				r.peered = n
				r.mu.Unlock()
			}
		}
	}()
	time.Sleep(time.Duration(rand.IntN(20_000)) * time.Microsecond)
	r.p.kill()
	<-lines
	close(stop)
	if kind == "pipe" {
		// Closing ends the test side's calls (an Accept the dead peer
		// never reached); the other kinds' loops end on stop, and must
		// end before their mappings go.
		for _, c := range closers {
			c()
		}
		closers = nil
	}
	wg.Wait()
	for _, c := range closers {
		c()
	}
	closers = nil

	// What was acknowledged was delivered.
	switch {
	case kind == "mutex":
		if r.acked < r.peered {
			t.Errorf("the counter is %d after the peer printed %d", r.acked, r.peered)
		}
	case side == "server" && kind == "shm":
		// The peer's record is in the mapping, which closed with the test's
		// handle: the acknowledgement itself was the peer's store.
	case side == "server":
		b, _ := os.ReadFile(r.record)
		have := map[string]bool{}
		for _, l := range strings.Fields(string(b)) {
			have[l] = true
		}
		for i := 1; i <= r.acked; i++ {
			if !have[strconv.Itoa(i)] {
				t.Errorf("item %d was acknowledged but the killed receiver never recorded it", i)
				break
			}
		}
	default:
		for i := 1; i <= r.peered; i++ {
			if !r.got[i] {
				t.Errorf("the killed sender saw item %d acknowledged, but it never arrived", i)
				break
			}
		}
	}

	// A restart under the same names must succeed.
	restart(t, kind, name)
}

// restart creates the iteration's objects afresh: nothing the killed peer
// left may block it, and the kernel objects must be new (no live holder
// remains).
func restart(t *testing.T, kind, name string) {
	t.Helper()
	switch kind {
	case "pipe":
		l, err := pipe.Listen(name, &pipe.ListenConfig{FirstInstance: true})
		if err != nil {
			t.Errorf("restart: %v", err)
			return
		}
		l.Close()
	case "mailslot":
		for _, n := range []string{name, name + "-ack"} {
			s, err := mailslot.Create(n, nil)
			if err != nil {
				t.Errorf("restart: %v", err)
				return
			}
			s.Close()
		}
	case "shm":
		m, err := shm.Create(name, 4096, nil)
		if err != nil {
			t.Errorf("restart: %v", err)
			return
		}
		if m.Existed() {
			t.Errorf("restart: %s still exists after its holders died or closed", name)
		}
		m.Close()
	case "mutex":
		mu, err := syncobj.CreateMutex(name, true, nil)
		if err != nil {
			t.Errorf("restart: %v", err)
			return
		}
		if mu.Existed() {
			t.Errorf("restart: %s still exists after its holders died or closed", name)
		}
		mu.Close()
	}
}
