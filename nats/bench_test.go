//go:build unix

package nats_test

// msgq's Send round trip next to NATS request-reply, in the same run and
// between two processes: the benchmark process runs an embedded
// nats-server and sends; a re-exec of the test binary serves both a msgq
// queue (answering wParam+lParam, or the payload's length) and a NATS
// responder (answering 8 bytes), each on its own goroutine. One round trip
// is one message out and its answer back on both. The two are timed in
// turns of 64, so that the noise of a shared machine hits both alike;
// x-nats is msgq's time over NATS's (below 1: msgq is faster).
//
//	cd nats && go test -run '^$' -bench . -count 5 . | benchstat -

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"github.com/xipc/xipc/msgq"
)

const benchPeerEnv = "XIPC_NATS_BENCH_PEER" // "QUEUE NATS-URL SUBJECT"

// The peer runs before the tests, so it needs nothing from the harness.
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
	q, err := msgq.Register(args[0], nil)
	if err != nil {
		return err
	}
	defer q.Close()
	nc, err := nats.Connect(args[1])
	if err != nil {
		return err
	}
	defer nc.Close()
	_, err = nc.Subscribe(args[2], func(m *nats.Msg) {
		var ans [8]byte
		binary.LittleEndian.PutUint64(ans[:], uint64(len(m.Data)))
		m.Respond(ans[:]) //nolint:errcheck // the requester times out if it is lost
	})
	if err != nil {
		return err
	}
	if err := nc.Flush(); err != nil {
		return err
	}
	go q.Serve(context.Background(), func(m *msgq.Message) uintptr {
		if m.Msg == msgq.WM_COPYDATA {
			return uintptr(len(m.Data))
		}
		return m.WParam + m.LParam
	})
	fmt.Println("ready")
	// Until the benchmark closes our input (or kills us).
	io.Copy(io.Discard, os.Stdin)
	return nil
}

// startNATS runs an embedded nats-server on a free loopback port.
func startNATS(b *testing.B) *server.Server {
	b.Helper()
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoLog: true, NoSigs: true})
	if err != nil {
		b.Fatal(err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		b.Fatal("nats-server did not start")
	}
	b.Cleanup(s.Shutdown)
	return s
}

func startPeer(b *testing.B, spec string) {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), benchPeerEnv+"="+spec)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		in.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil || line != "ready\n" {
		b.Fatalf("peer did not start: %q %v", line, err)
	}
}

// timeTurns runs n round trips of each function, in turns of 64, and
// returns the nanoseconds per round trip of each.
func timeTurns(b *testing.B, n int, fs ...func() error) []float64 {
	const turn = 64
	total := make([]time.Duration, len(fs))
	for done := 0; done < n; done += turn {
		k := min(turn, n-done)
		for j, f := range fs {
			start := time.Now()
			for range k {
				if err := f(); err != nil {
					b.Fatal(err)
				}
			}
			total[j] += time.Since(start)
		}
	}
	ns := make([]float64, len(fs))
	for j := range total {
		ns[j] = float64(total[j].Nanoseconds()) / float64(n)
	}
	return ns
}

// BenchmarkRequestReply: msgq Send (SendData with a payload) against a NATS
// request of the same payload. ns/rtt is msgq's, nats-ns/rtt NATS's.
func BenchmarkRequestReply(b *testing.B) {
	for _, size := range []int{0, 64, 64 << 10} {
		b.Run(fmt.Sprintf("%d", size), func(b *testing.B) {
			s := startNATS(b)
			name := fmt.Sprintf("xipc-nats-bench-%d-%d", os.Getpid(), time.Now().UnixNano())
			subject := "xipc.bench." + name
			startPeer(b, name+" "+s.ClientURL()+" "+subject)
			t, err := msgq.Find(name)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { t.Close() })
			nc, err := nats.Connect(s.ClientURL())
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(nc.Close)
			ctx := context.Background()
			data := make([]byte, size)
			send := func() error {
				r, err := t.Send(ctx, msgq.WM_USER+1, 20, 22)
				if err == nil && r != 42 {
					err = fmt.Errorf("result %d", r)
				}
				return err
			}
			if size > 0 {
				send = func() error {
					r, err := t.SendData(ctx, 0, data)
					if err == nil && r != uintptr(size) {
						err = fmt.Errorf("result %d", r)
					}
					return err
				}
			}
			request := func() error {
				m, err := nc.Request(subject, data, 10*time.Second)
				if err == nil && len(m.Data) != 8 {
					err = fmt.Errorf("answer of %d bytes", len(m.Data))
				}
				return err
			}
			timeTurns(b, 256, send, request) // warm up
			b.SetBytes(int64(size))
			b.ResetTimer()
			ns := timeTurns(b, b.N, send, request)
			b.ReportMetric(ns[0], "ns/rtt")
			b.ReportMetric(ns[1], "nats-ns/rtt")
			b.ReportMetric(ns[0]/ns[1], "x-nats")
		})
	}
}
