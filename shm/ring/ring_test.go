package ring_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/shm"
	"github.com/xipc/xipc/shm/ring"
)

var nameSeq atomic.Int64

// uniqueName returns a fresh ring name for the test.
func uniqueName(t testing.TB) string {
	n := strings.NewReplacer("/", ".", `\`, ".").Replace(t.Name())
	return fmt.Sprintf("xipc-ring-%s-%d-%d-%d", n, os.Getpid(), nameSeq.Add(1), rand.Uint32())
}

// pair creates a ring (its consumer) and opens its producer, in this
// process.
func pair(t testing.TB, size int, opts *ring.Options) (prod, cons *ring.Ring) {
	t.Helper()
	name := uniqueName(t)
	cons, err := ring.Create(name, ring.Consumer, size, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cons.Close() })
	prod, err = ring.Open(name, ring.Producer, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { prod.Close() })
	return prod, cons
}

var spins = []struct {
	name string
	opts *ring.Options
}{
	{"spin", nil},
	{"nospin", &ring.Options{Spin: -1}},
}

func expired() context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	return ctx
}

func mustSend(t testing.TB, r *ring.Ring, p []byte) {
	t.Helper()
	if err := send(context.Background(), r, p); err != nil {
		t.Fatal(err)
	}
}

func mustRead(t testing.TB, r *ring.Ring) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := r.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out := bytes.Clone(m)
	r.Release()
	return out
}

func pattern(id, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(id*31 + i*7)
	}
	return b
}

func TestRoundTrip(t *testing.T) {
	prod, cons := pair(t, ring.MinSize, nil)
	if prod.Role() != ring.Producer || cons.Role() != ring.Consumer || prod.Size() != ring.MinSize ||
		prod.MaxMessage() != ring.MinSize/2-8 || prod.Name() != cons.Name() || !strings.HasPrefix(prod.Name(), `Local\`) {
		t.Fatalf("producer %v %d %d %q, consumer %v %q", prod.Role(), prod.Size(), prod.MaxMessage(), prod.Name(), cons.Role(), cons.Name())
	}
	for _, m := range [][]byte{[]byte("hello"), {}, pattern(1, 1000), pattern(2, prod.MaxMessage())} {
		mustSend(t, prod, m)
		if got := mustRead(t, cons); !bytes.Equal(got, m) {
			t.Fatalf("read %d bytes, want %d", len(got), len(m))
		}
	}
}

// TestWrapAround sends messages of every size through a small ring, in
// bursts that fill it, so that messages meet the end of the data area at
// every offset and wrap.
func TestWrapAround(t *testing.T) {
	prod, cons := pair(t, ring.MinSize, nil)
	rng := rand.New(rand.NewPCG(1, 2))
	var sent, got, bytesSent int
	for round := 0; round < 3000; round++ {
		burst := 1 + rng.IntN(6)
		for range burst {
			n := rng.IntN(prod.MaxMessage() + 1)
			if rng.IntN(4) > 0 {
				n %= 200
			}
			b, err := prod.Reserve(expired(), n)
			if err != nil {
				if !errors.Is(err, context.Canceled) {
					t.Fatal(err)
				}
				break // full
			}
			copy(b, pattern(sent, n))
			if err := prod.Commit(n); err != nil {
				t.Fatal(err)
			}
			sent++
			bytesSent += n
		}
		for got < sent {
			m, err := cons.Read(expired())
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(m, pattern(got, len(m))) {
				t.Fatalf("message %d (%d bytes) corrupted", got, len(m))
			}
			cons.Release()
			got++
		}
	}
	if bytesSent < 100*ring.MinSize {
		t.Fatalf("only %d bytes through a %d-byte ring", bytesSent, ring.MinSize)
	}
}

// TestMaxMessages sends messages of MaxMessage bytes after messages of
// every small size: each fits whole wherever the previous one ended.
func TestMaxMessages(t *testing.T) {
	prod, cons := pair(t, ring.MinSize, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := 0; i < 600; i++ {
		small := pattern(i, i%300)
		big := pattern(i+1, prod.MaxMessage()-i%3)
		for _, m := range [][]byte{small, big} {
			if err := send(ctx, prod, m); err != nil {
				t.Fatalf("round %d: %v", i, err)
			}
			if got := mustRead(t, cons); !bytes.Equal(got, m) {
				t.Fatalf("round %d: message corrupted", i)
			}
		}
	}
}

func TestMessageTooLarge(t *testing.T) {
	prod, _ := pair(t, 64<<10, nil)
	_, err := prod.Reserve(context.Background(), prod.MaxMessage()+1)
	if !errors.Is(err, errs.ErrMessageTooLarge) {
		t.Fatalf("Reserve(MaxMessage+1) = %v, want ErrMessageTooLarge", err)
	}
	var oe *errs.OpError
	if !errors.As(err, &oe) || oe.Op != "reserve" || oe.Kind != "ring" {
		t.Fatalf("error %v is not a reserve *OpError", err)
	}
	if _, err := prod.Reserve(context.Background(), prod.MaxMessage()); err != nil {
		t.Fatal(err)
	}
	if _, err := prod.Reserve(context.Background(), -1); !errors.Is(err, errs.ErrInvalidParameter) {
		t.Fatalf("Reserve(-1) = %v, want ErrInvalidParameter", err)
	}
}

// TestFullRingBlocksProducer fills the ring; Reserve then waits until the
// consumer releases a message.
func TestFullRingBlocksProducer(t *testing.T) {
	for _, s := range spins {
		t.Run(s.name, func(t *testing.T) {
			prod, cons := pair(t, ring.MinSize, s.opts)
			max := prod.MaxMessage()
			mustSend(t, prod, pattern(0, max))
			mustSend(t, prod, pattern(1, max)) // two of them fill the ring exactly
			// start before the context: a thread preempted between the
			// two (a loaded machine) would otherwise see it end "early".
			start := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			_, err := prod.Reserve(ctx, 0)
			cancel()
			if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("Reserve on a full ring = %v, want a timeout", err)
			}
			if d := time.Since(start); d < 50*time.Millisecond {
				t.Fatalf("Reserve gave up after %v", d)
			}
			done := make(chan error, 1)
			go func() { done <- send(context.Background(), prod, pattern(2, 100)) }()
			select {
			case err := <-done:
				t.Fatalf("Reserve on a full ring returned %v", err)
			case <-time.After(100 * time.Millisecond):
			}
			if got := mustRead(t, cons); !bytes.Equal(got, pattern(0, max)) {
				t.Fatal("message 0 corrupted")
			}
			select {
			case err := <-done:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the producer did not wake when the consumer made room")
			}
			if got := mustRead(t, cons); !bytes.Equal(got, pattern(1, max)) {
				t.Fatal("message 1 corrupted")
			}
			if got := mustRead(t, cons); !bytes.Equal(got, pattern(2, 100)) {
				t.Fatal("message 2 corrupted")
			}
		})
	}
}

// TestEmptyRingBlocksConsumer: Read waits until the producer commits.
func TestEmptyRingBlocksConsumer(t *testing.T) {
	for _, s := range spins {
		t.Run(s.name, func(t *testing.T) {
			prod, cons := pair(t, ring.MinSize, s.opts)
			// start before the context: a thread preempted between the
			// two (a loaded machine) would otherwise see it end "early".
			start := time.Now()
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			_, err := cons.Read(ctx)
			cancel()
			if !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("Read of an empty ring = %v, want a timeout", err)
			}
			if d := time.Since(start); d < 50*time.Millisecond {
				t.Fatalf("Read gave up after %v", d)
			}
			got := make(chan []byte, 1)
			go func() {
				m, err := cons.Read(context.Background())
				if err != nil {
					t.Error(err)
					got <- nil
					return
				}
				got <- bytes.Clone(m)
				cons.Release()
			}()
			select {
			case <-got:
				t.Fatal("Read of an empty ring returned")
			case <-time.After(100 * time.Millisecond):
			}
			mustSend(t, prod, []byte("wake up"))
			select {
			case m := <-got:
				if string(m) != "wake up" {
					t.Fatalf("read %q", m)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the consumer did not wake when the producer committed")
			}
		})
	}
}

// TestPoll: a context that has ended already makes a call that need not
// wait succeed, and one that must wait fail at once.
func TestPoll(t *testing.T) {
	prod, cons := pair(t, ring.MinSize, nil)
	if _, err := cons.Read(expired()); !errors.Is(err, context.Canceled) {
		t.Fatalf("Read of an empty ring with an ended context = %v", err)
	}
	if err := send(expired(), prod, []byte("x")); err != nil {
		t.Fatal(err)
	}
	m, err := cons.Read(expired())
	if err != nil || string(m) != "x" {
		t.Fatalf("Read = %q, %v", m, err)
	}
	cons.Release()
}

func TestCancel(t *testing.T) {
	for _, s := range spins {
		t.Run(s.name, func(t *testing.T) {
			prod, cons := pair(t, ring.MinSize, s.opts)
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(20*time.Millisecond, cancel)
			start := time.Now()
			if _, err := cons.Read(ctx); !errors.Is(err, context.Canceled) || errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("Read = %v, want context.Canceled", err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("cancelled Read returned after %v", d)
			}
			mustSend(t, prod, pattern(0, prod.MaxMessage()))
			mustSend(t, prod, pattern(1, prod.MaxMessage()))
			ctx, cancel = context.WithCancel(context.Background())
			time.AfterFunc(20*time.Millisecond, cancel)
			if _, err := prod.Reserve(ctx, 1); !errors.Is(err, context.Canceled) {
				t.Fatalf("Reserve = %v, want context.Canceled", err)
			}
			// The ring works on after cancelled waits.
			mustRead(t, cons)
			mustSend(t, prod, []byte("after"))
			mustRead(t, cons)
			if got := mustRead(t, cons); string(got) != "after" {
				t.Fatalf("read %q", got)
			}
		})
	}
}

// TestCloseUnblocks: Close in another goroutine ends a pending wait.
func TestCloseUnblocks(t *testing.T) {
	for _, s := range spins {
		t.Run(s.name, func(t *testing.T) {
			prod, cons := pair(t, ring.MinSize, s.opts)
			done := make(chan error, 1)
			go func() {
				_, err := cons.Read(context.Background())
				done <- err
			}()
			time.Sleep(50 * time.Millisecond)
			if err := cons.Close(); err != nil {
				t.Fatal(err)
			}
			select {
			case err := <-done:
				if !errors.Is(err, errs.ErrClosed) {
					t.Fatalf("Read = %v, want ErrClosed", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Close did not end the pending Read")
			}
			// Producer side: its consumer has gone.
			if _, err := prod.Reserve(context.Background(), 1); !errors.Is(err, errs.ErrBrokenPipe) {
				t.Fatalf("Reserve after the consumer's Close = %v, want ErrBrokenPipe", err)
			}
		})
	}
}

// TestProducerCloseEOF: the consumer reads what the producer left, then
// io.EOF.
func TestProducerCloseEOF(t *testing.T) {
	for _, s := range spins {
		t.Run(s.name, func(t *testing.T) {
			prod, cons := pair(t, ring.MinSize, s.opts)
			for i := range 3 {
				mustSend(t, prod, pattern(i, 10*i))
			}
			if err := prod.Close(); err != nil {
				t.Fatal(err)
			}
			for i := range 3 {
				if got := mustRead(t, cons); !bytes.Equal(got, pattern(i, 10*i)) {
					t.Fatalf("message %d corrupted", i)
				}
			}
			for range 2 {
				if m, err := cons.Read(context.Background()); err != io.EOF {
					t.Fatalf("Read after the end = %q, %v; want io.EOF", m, err)
				}
			}
		})
	}
}

// TestProducerCloseWakes: a consumer asleep on an empty ring wakes with
// io.EOF when the producer closes.
func TestProducerCloseWakes(t *testing.T) {
	for _, s := range spins {
		t.Run(s.name, func(t *testing.T) {
			prod, cons := pair(t, ring.MinSize, s.opts)
			done := make(chan error, 1)
			go func() {
				_, err := cons.Read(context.Background())
				done <- err
			}()
			time.Sleep(50 * time.Millisecond)
			prod.Close()
			select {
			case err := <-done:
				if err != io.EOF {
					t.Fatalf("Read = %v, want io.EOF", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the producer's Close did not wake the consumer")
			}
		})
	}
}

// TestConsumerCloseWakes: a producer asleep on a full ring wakes with
// ErrBrokenPipe when the consumer closes.
func TestConsumerCloseWakes(t *testing.T) {
	for _, s := range spins {
		t.Run(s.name, func(t *testing.T) {
			prod, cons := pair(t, ring.MinSize, s.opts)
			mustSend(t, prod, pattern(0, prod.MaxMessage()))
			mustSend(t, prod, pattern(1, prod.MaxMessage()))
			done := make(chan error, 1)
			go func() { done <- send(context.Background(), prod, []byte("x")) }()
			time.Sleep(50 * time.Millisecond)
			cons.Close()
			select {
			case err := <-done:
				if !errors.Is(err, errs.ErrBrokenPipe) {
					t.Fatalf("Reserve = %v, want ErrBrokenPipe", err)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the consumer's Close did not wake the producer")
			}
		})
	}
}

// TestOneOfEachSide: a second producer or consumer is refused while the
// first is attached, and none can attach after the first has gone.
func TestOneOfEachSide(t *testing.T) {
	prod, cons := pair(t, ring.MinSize, nil)
	for _, role := range []ring.Role{ring.Producer, ring.Consumer} {
		r, err := ring.Open(prod.Name(), role, nil)
		if !errors.Is(err, errs.ErrBusy) {
			r.Close()
			t.Fatalf("a second %v: %v, want ErrBusy", role, err)
		}
		if !strings.Contains(err.Error(), "has a "+role.String()) {
			t.Errorf("error %q does not say why", err)
		}
	}
	prod.Close()
	if _, err := ring.Open(cons.Name(), ring.Producer, nil); !errors.Is(err, errs.ErrBrokenPipe) {
		t.Fatalf("a producer after the first closed: %v, want ErrBrokenPipe", err)
	}
}

func TestCreateAndOpenErrors(t *testing.T) {
	name := uniqueName(t)
	tooBig := ring.MaxSize
	tooBig <<= 1 // a variable: the constant overflows int on 32-bit systems
	for _, size := range []int{0, -1, 1000, ring.MinSize / 2, 3 * ring.MinSize, ring.MaxSize + 1, tooBig} {
		if r, err := ring.Create(name, ring.Producer, size, nil); !errors.Is(err, errs.ErrInvalidParameter) {
			r.Close()
			t.Errorf("Create of size %d: %v, want ErrInvalidParameter", size, err)
		}
	}
	if _, err := ring.Create(name, 0, ring.MinSize, nil); !errors.Is(err, errs.ErrInvalidParameter) {
		t.Errorf("Create with role 0: %v", err)
	}
	if _, err := ring.Create(`bad\name`, ring.Producer, ring.MinSize, nil); !errors.Is(err, errs.ErrInvalidName) {
		t.Errorf("Create of a bad name: %v", err)
	}
	if _, err := ring.Open(name, ring.Producer, nil); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("Open of a missing ring: %v, want ErrNotFound", err)
	}
	r, err := ring.Create(name, ring.Producer, ring.MinSize, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ring.Create(name, ring.Consumer, ring.MinSize, nil); !errors.Is(err, errs.ErrExists) {
		t.Errorf("second Create: %v, want ErrExists", err)
	}
	r.Close()
	// Win32 lifetime: with every handle closed the name is free, and a
	// new ring is new.
	if _, err := ring.Open(name, ring.Consumer, nil); !errors.Is(err, errs.ErrNotFound) {
		t.Errorf("Open after the last Close: %v, want ErrNotFound", err)
	}
	r, err = ring.Create(name, ring.Producer, ring.MinSize, nil)
	if err != nil {
		t.Fatalf("Create after the last Close: %v", err)
	}
	r.Close()

	// A mapping that is not a ring.
	m, err := shm.Create(name, 64<<10, nil)
	if err != nil {
		t.Fatal(err)
	}
	copy(m.Bytes(), "not a ring at all")
	if _, err := ring.Open(name, ring.Consumer, nil); !errors.Is(err, errs.ErrWrongType) {
		t.Errorf("Open of a plain mapping: %v, want ErrWrongType", err)
	}
	m.Close()
	m, err = shm.Create(name, 4096, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ring.Open(name, ring.Consumer, nil); !errors.Is(err, errs.ErrWrongType) {
		t.Errorf("Open of a small mapping: %v, want ErrWrongType", err)
	}
	m.Close()
}

func TestMisuse(t *testing.T) {
	prod, cons := pair(t, ring.MinSize, nil)
	ctx := context.Background()
	check := func(what string, err, want error) {
		t.Helper()
		if !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", what, err, want)
		}
	}
	check("Commit without Reserve", prod.Commit(0), errs.ErrInvalidParameter)
	if _, err := prod.Reserve(ctx, 10); err != nil {
		t.Fatal(err)
	}
	check("Commit past the reservation", prod.Commit(11), errs.ErrInvalidParameter)
	check("Commit of -1", prod.Commit(-1), errs.ErrInvalidParameter)
	_, err := cons.Reserve(ctx, 1)
	check("Reserve on the consumer", err, errs.ErrAccessDenied)
	check("Commit on the consumer", cons.Commit(0), errs.ErrAccessDenied)
	_, err = prod.Read(ctx)
	check("Read on the producer", err, errs.ErrAccessDenied)
	prod.Release() // nothing to release: no-op
	cons.Release()

	// A second Reserve replaces the first; Commit may publish less.
	if _, err := prod.Reserve(ctx, 100); err != nil {
		t.Fatal(err)
	}
	b, err := prod.Reserve(ctx, 2000)
	if err != nil || len(b) != 2000 || cap(b) != 2000 {
		t.Fatalf("Reserve = %d/%d bytes, %v", len(b), cap(b), err)
	}
	copy(b, "hello, world")
	if err := prod.Commit(5); err != nil {
		t.Fatal(err)
	}
	check("Commit twice", prod.Commit(0), errs.ErrInvalidParameter)
	m, err := cons.Read(ctx)
	if err != nil || string(m) != "hello" {
		t.Fatalf("Read = %q, %v", m, err)
	}
	_, err = cons.Read(ctx)
	check("Read before Release", err, errs.ErrInvalidParameter)
	cons.Release()

	if err := prod.Close(); err != nil {
		t.Fatal(err)
	}
	if err := prod.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	_, err = prod.Reserve(ctx, 1)
	check("Reserve after Close", err, errs.ErrClosed)
	check("Commit after Close", prod.Commit(0), errs.ErrClosed)
	cons.Close()
	_, err = cons.Read(ctx)
	check("Read after Close", err, errs.ErrClosed)
	cons.Release()
}

// TestLateConsumer: the producer may create the ring and write before the
// consumer attaches.
func TestLateConsumer(t *testing.T) {
	name := uniqueName(t)
	prod, err := ring.Create(name, ring.Producer, ring.MinSize, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	mustSend(t, prod, []byte("early"))
	cons, err := ring.Open(name, ring.Consumer, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	if got := mustRead(t, cons); string(got) != "early" {
		t.Fatalf("read %q", got)
	}
}

// TestConcurrentStream streams between two goroutines of this process,
// through separate handles (two views of the mapping), under the race
// detector too.
func TestConcurrentStream(t *testing.T) {
	for _, s := range spins {
		t.Run(s.name, func(t *testing.T) {
			prod, cons := pair(t, 16<<10, s.opts)
			n := 200_000
			if raceEnabled || testing.Short() {
				n = 20_000
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			want := make(chan uint64, 1)
			go func() {
				d, err := produceStream(ctx, prod, n, 7)
				if err != nil {
					t.Error(err)
				}
				prod.Close()
				want <- d
			}()
			count, d, err := consumeStream(ctx, cons, 7)
			if err != nil {
				t.Fatal(err)
			}
			if count != uint64(n) || d != <-want {
				t.Fatalf("%d messages, digest %x; want %d", count, d, n)
			}
		})
	}
}

func TestErrorText(t *testing.T) {
	prod, _ := pair(t, ring.MinSize, nil)
	_, err := prod.Reserve(context.Background(), 1<<20)
	want := fmt.Sprintf("ring %s: reserve: message too large (1048576 bytes; the most a ring of 4096 bytes carries is 2040)", prod.Name())
	if err.Error() != want {
		t.Fatalf("error %q, want %q", err, want)
	}
}
