package syncobj_test

// Benchmarks of the sync objects next to what a Go program would use
// without them, in the same run: sync.Mutex for an uncontended lock, and a
// one-byte round trip over a pair of OS pipes for a wake-up between two
// processes. The second process is a re-exec of the test binary.
//
//	go test -run '^$' -bench . -count 5 ./syncobj/ | benchstat -

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/xipc/xipc/syncobj"
)

// benchPeerEnv makes the test binary a benchmark peer: "events PING PONG
// QUIT" answers each Set of the auto-reset event PING with a Set of PONG
// until QUIT is set; "pipe" answers each byte on its standard input with a
// byte on its standard output until the input ends.
const benchPeerEnv = "XIPC_SYNCOBJ_BENCH_PEER"

// The peer runs before TestMain, so it needs nothing from the test harness.
func init() {
	if v := os.Getenv(benchPeerEnv); v != "" {
		if err := benchPeer(strings.Fields(v)); err != nil {
			fmt.Fprintln(os.Stderr, "bench peer:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
}

func benchPeer(args []string) error {
	switch {
	case len(args) == 4 && args[0] == "events":
		var evs [3]*syncobj.Event
		for i, name := range args[1:] {
			e, err := syncobj.OpenEvent(name)
			if err != nil {
				return err
			}
			defer e.Close()
			evs[i] = e
		}
		ping, pong, quit := evs[0], evs[1], evs[2]
		fmt.Println("ready")
		for {
			i, err := syncobj.Wait(context.Background(), ping, quit)
			if err != nil {
				return err
			}
			if i == 1 {
				return nil
			}
			if err := pong.Set(); err != nil {
				return err
			}
		}
	case len(args) == 1 && args[0] == "pipe":
		var b [1]byte
		for {
			if _, err := io.ReadFull(os.Stdin, b[:]); err != nil {
				return nil
			}
			if _, err := os.Stdout.Write(b[:]); err != nil {
				return err
			}
		}
	}
	return fmt.Errorf("unknown peer %q", args)
}

// startBenchPeer starts the peer with args; its standard input and output
// are pipes to this process. It waits for the peer's "ready" unless the
// peer is the pipe echo, which says nothing.
func startBenchPeer(b *testing.B, args string) (in io.WriteCloser, out *bufio.Reader, wait func()) {
	b.Helper()
	exe, err := os.Executable()
	if err != nil {
		exe = os.Args[0]
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), benchPeerEnv+"="+args)
	cmd.Stderr = os.Stderr
	if in, err = cmd.StdinPipe(); err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	out = bufio.NewReader(stdout)
	wait = sync.OnceFunc(func() {
		in.Close()
		if err := cmd.Wait(); err != nil {
			b.Errorf("bench peer: %v", err)
		}
	})
	b.Cleanup(wait)
	if args != "pipe" {
		if line, err := out.ReadString('\n'); err != nil || line != "ready\n" {
			b.Fatalf("bench peer said %q, %v; want ready", line, err)
		}
	}
	return in, out, wait
}

// benchName returns a name of its own for a benchmark object: nothing else
// can meet it, and the benchmark closes it, which frees it.
func benchName() string { return fmt.Sprintf("xipc-bench-%d-%016x", os.Getpid(), rand.Uint64()) }

// BenchmarkMutexUncontended: Lock and Unlock of a named mutex by one
// handle that nobody else uses, next to sync.Mutex.
func BenchmarkMutexUncontended(b *testing.B) {
	b.Run("xipc", func(b *testing.B) {
		m, err := syncobj.CreateMutex(benchName(), false, nil)
		if err != nil {
			b.Fatal(err)
		}
		defer m.Close()
		ctx := context.Background()
		for b.Loop() {
			if err := m.Lock(ctx); err != nil {
				b.Fatal(err)
			}
			if err := m.Unlock(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sync.Mutex", func(b *testing.B) {
		var mu sync.Mutex
		for b.Loop() {
			mu.Lock()
			mu.Unlock() //nolint:staticcheck // an empty critical section is the point
		}
	})
}

// BenchmarkEventPingPong: one round trip between two processes: this one
// sets an auto-reset event that the other waits for, and waits for the
// other to set a second one back; next to a one-byte round trip over pipes.
func BenchmarkEventPingPong(b *testing.B) {
	b.Run("xipc", func(b *testing.B) {
		var evs [3]*syncobj.Event
		names := make([]string, len(evs))
		for i := range evs {
			names[i] = benchName()
			e, err := syncobj.CreateEvent(names[i], false, false, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer e.Close()
			evs[i] = e
		}
		ping, pong, quit := evs[0], evs[1], evs[2]
		_, _, wait := startBenchPeer(b, "events "+strings.Join(names, " "))
		ctx := context.Background()
		for b.Loop() {
			if err := ping.Set(); err != nil {
				b.Fatal(err)
			}
			if err := pong.Wait(ctx); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/rtt")
		if err := quit.Set(); err != nil {
			b.Fatal(err)
		}
		wait()
	})
	b.Run("pipe", func(b *testing.B) {
		in, out, _ := startBenchPeer(b, "pipe")
		buf := []byte{'p'}
		for b.Loop() {
			if _, err := in.Write(buf); err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadFull(out, buf); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/rtt")
	})
}
