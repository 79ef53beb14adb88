package ring_test

// Tests between two processes: the test and a peer (peer_test.go).

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/xipc/xipc/internal/errs"
	"github.com/xipc/xipc/shm/ring"
)

// streamCount is the number of messages of TestStream: fullStream (ten
// million on Linux), fewer under the race detector or -short;
// XIPC_RING_MESSAGES overrides.
func streamCount(t *testing.T) int {
	if s := os.Getenv("XIPC_RING_MESSAGES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			t.Fatalf("XIPC_RING_MESSAGES=%q: %v", s, err)
		}
		return n
	}
	switch {
	case testing.Short():
		return 200_000
	case raceEnabled:
		return min(fullStream, 1_000_000)
	}
	return fullStream
}

// TestStream sends messages of random sizes with checksums from a producer
// process to this one, the consumer: all arrive, in order, intact, and
// the producer's Close ends the stream with io.EOF.
func TestStream(t *testing.T) {
	n := streamCount(t)
	const seed = 42
	name := uniqueName(t)
	cons, err := ring.Create(name, ring.Consumer, 64<<10, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	p := startPeer(t, "produce", name, strconv.Itoa(n), strconv.Itoa(seed))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	start := time.Now()
	count, d, err := consumeStream(ctx, cons, seed)
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	want := p.expect("done ", 10*time.Second)
	if err := p.wait(10 * time.Second); err != nil {
		t.Fatalf("producer: %v", err)
	}
	if count != uint64(n) || strconv.FormatUint(d, 10) != want[0] {
		t.Fatalf("read %d messages, digest %d; the producer sent %d, digest %s", count, d, n, want[0])
	}
	t.Logf("%d messages in %v: %.0f messages/s", n, elapsed, float64(n)/elapsed.Seconds())
}

// TestStreamToPeer is TestStream the other way: this process creates the
// ring as its producer, the peer attaches as the consumer and checks.
func TestStreamToPeer(t *testing.T) {
	n := streamCount(t) / 10
	const seed = 7
	name := uniqueName(t)
	prod, err := ring.Create(name, ring.Producer, 16<<10, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	p := startPeer(t, "consume", name, strconv.Itoa(n), strconv.Itoa(seed))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	d, err := produceStream(ctx, prod, n, seed)
	if err != nil {
		t.Fatal(err)
	}
	prod.Close()
	got := p.expect("ok ", time.Minute)
	if err := p.wait(10 * time.Second); err != nil {
		t.Fatalf("consumer: %v", err)
	}
	if want := fmt.Sprint(n, d); got[0]+" "+got[1] != want {
		t.Fatalf("the consumer read %v (messages, digest), want %s", got, want)
	}
}

// TestDeadProducer kills the producer process: the consumer reads what it
// committed, then gets ErrBrokenPipe within seconds. Meanwhile a second
// producer is refused.
func TestDeadProducer(t *testing.T) {
	name := uniqueName(t)
	cons, err := ring.Create(name, ring.Consumer, ring.MinSize, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	p := startPeer(t, "hold", name, "producer", "3")
	p.expect("ready", time.Minute)
	if r, err := ring.Open(name, ring.Producer, nil); !errors.Is(err, errs.ErrBusy) {
		r.Close()
		t.Fatalf("a second producer: %v, want ErrBusy", err)
	}
	p.kill() // not reaped: on Unix a zombie, which is dead too
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i := range 3 {
		m, err := cons.Read(ctx)
		if err != nil || string(m) != "message "+strconv.Itoa(i) {
			t.Fatalf("message %d: %q, %v", i, m, err)
		}
		cons.Release()
	}
	start := time.Now()
	_, err = cons.Read(ctx)
	if !errors.Is(err, errs.ErrBrokenPipe) {
		t.Fatalf("Read after the producer died: %v, want ErrBrokenPipe", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("the dead producer was found after %v", d)
	}
	t.Logf("%v after %v", err, time.Since(start))
	if r, err := ring.Open(name, ring.Producer, nil); !errors.Is(err, errs.ErrBrokenPipe) {
		r.Close()
		t.Fatalf("a producer after the first died: %v, want ErrBrokenPipe", err)
	}
}

// TestDeadConsumer kills the consumer process while the producer waits on
// a full ring: the producer gets ErrBrokenPipe within seconds.
func TestDeadConsumer(t *testing.T) {
	name := uniqueName(t)
	prod, err := ring.Create(name, ring.Producer, ring.MinSize, &ring.Options{Spin: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	p := startPeer(t, "hold", name, "consumer", "0")
	p.expect("ready", time.Minute)
	for i := 0; ; i++ {
		if err := send(expired(), prod, pattern(i, 100)); err != nil {
			if !errors.Is(err, context.Canceled) {
				t.Fatal(err)
			}
			break // full
		}
	}
	done := make(chan error, 1)
	go func() { done <- send(context.Background(), prod, pattern(-1, 100)) }()
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	p.kill()
	select {
	case err := <-done:
		if !errors.Is(err, errs.ErrBrokenPipe) {
			t.Fatalf("Reserve after the consumer died: %v, want ErrBrokenPipe", err)
		}
		t.Logf("%v after %v", err, time.Since(start))
	case <-time.After(5 * time.Second):
		t.Fatal("the dead consumer was not found in 5s")
	}
}
