//go:build unix

package msgq_test

// Benchmarks of message queues next to the transports a program would use
// instead, in the same run and between two processes: the benchmark process
// sends, a re-exec of the test binary receives. The peer serves three
// things at once: a msgq queue answering wParam+lParam (or the payload's
// length), an xipc message-mode pipe and a raw unix stream socket (4-byte
// length prefix, 64 KiB bufio.Reader, as in the project's baselines) that
// both answer each message with 8 bytes. A round trip is one message out
// and its 8-byte answer back on all three. Each benchmark times the three in
// turns of 64 round trips and reports the ratios, so that the noise of a
// shared machine hits all three alike.
//
//	go test -run '^$' -bench . -count 5 ./msgq/ | benchstat -

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/xipc/xipc"
	"github.com/xipc/xipc/msgq"
	"github.com/xipc/xipc/pipe"
)

const benchPeerEnv = "XIPC_MSGQ_BENCH_PEER" // "QUEUE PIPE SOCKET" or "drain QUEUE"

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
	if args[0] == "drain" {
		q, err := msgq.Register(args[1], nil)
		if err != nil {
			return err
		}
		fmt.Println("ready")
		for {
			if _, err := q.Get(context.Background(), 0, 0); err != nil {
				return err
			}
		}
	}
	q, err := msgq.Register(args[0], nil)
	if err != nil {
		return err
	}
	l, err := pipe.Listen(args[1], &pipe.ListenConfig{Message: true})
	if err != nil {
		return err
	}
	ln, err := net.Listen("unix", args[2])
	if err != nil {
		return err
	}
	go q.Serve(context.Background(), func(m *msgq.Message) uintptr {
		if m.Msg == msgq.WM_COPYDATA {
			return uintptr(len(m.Data))
		}
		return m.WParam + m.LParam
	})
	go func() {
		c, err := l.AcceptPipe()
		if err != nil {
			return
		}
		buf := make([]byte, 1<<20)
		var ans [8]byte
		for {
			n, err := c.ReadMsg(buf)
			if err != nil {
				return
			}
			binary.LittleEndian.PutUint64(ans[:], uint64(n))
			if _, err := c.WriteMsg(ans[:]); err != nil {
				return
			}
		}
	}()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		r := bufio.NewReaderSize(c, 64<<10)
		buf := make([]byte, 1<<20)
		out := make([]byte, 12)
		for {
			if _, err := io.ReadFull(r, buf[:4]); err != nil {
				return
			}
			n := int(binary.LittleEndian.Uint32(buf))
			if _, err := io.ReadFull(r, buf[:n]); err != nil {
				return
			}
			binary.LittleEndian.PutUint32(out, 8)
			binary.LittleEndian.PutUint64(out[4:], uint64(n))
			if _, err := c.Write(out); err != nil {
				return
			}
		}
	}()
	fmt.Println("ready")
	// Until the benchmark closes our input (or kills us).
	io.Copy(io.Discard, os.Stdin)
	return nil
}

// startBenchPeer starts the peer with spec and waits until it is ready.
func startBenchPeer(b *testing.B, spec string) {
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

func benchQueueName() string {
	return fmt.Sprintf("xipc-bench-%d-%d", os.Getpid(), time.Now().UnixNano())
}

// roundTrips are the three transports' round trips with a payload of size
// bytes (0: a plain Send).
type roundTrips struct {
	msgq, pipe, raw func() error
}

func dialAll(b *testing.B, size int) roundTrips {
	name := benchQueueName()
	sock := filepath.Join(b.TempDir(), "raw.sock")
	startBenchPeer(b, name+" "+`\\.\pipe\`+name+" "+sock)
	ctx := context.Background()
	t, err := msgq.Find(name)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { t.Close() })
	pc, err := pipe.Dial(ctx, `\\.\pipe\`+name, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { pc.Close() })
	rc, err := net.Dial("unix", sock)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { rc.Close() })
	data := make([]byte, size)
	wbuf := make([]byte, 4+size)
	binary.LittleEndian.PutUint32(wbuf, uint32(size))
	rr := bufio.NewReaderSize(rc, 64<<10)
	in := make([]byte, 64)
	var rt roundTrips
	rt.msgq = func() error {
		r, err := t.Send(ctx, msgq.WM_USER+1, 20, 22)
		if err == nil && r != 42 {
			err = fmt.Errorf("result %d", r)
		}
		return err
	}
	if size > 0 {
		rt.msgq = func() error {
			r, err := t.SendData(ctx, 0, data)
			if err == nil && r != uintptr(size) {
				err = fmt.Errorf("result %d", r)
			}
			return err
		}
	}
	rt.pipe = func() error {
		if _, err := pc.WriteMsg(data); err != nil {
			return err
		}
		_, err := pc.ReadMsg(in)
		return err
	}
	rt.raw = func() error {
		// One write(2) of header and payload, as a hand-written transport.
		copy(wbuf[4:], data)
		if _, err := rc.Write(wbuf); err != nil {
			return err
		}
		_, err := io.ReadFull(rr, in[:12])
		return err
	}
	return rt
}

// timeTurns runs n round trips of each transport, in turns of 64, and
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

// BenchmarkSendRTT measures a Send's round trip (a plain message, and
// SendData of 64 B and 64 KiB) next to the same exchange over an xipc pipe
// and a raw unix socket. ns/op and ns/rtt are msgq's; pipe-ns/rtt and
// raw-ns/rtt the others'; x-pipe and x-raw the ratios msgq/other.
func BenchmarkSendRTT(b *testing.B) {
	for _, size := range []int{0, 64, 64 << 10} {
		name := "Send"
		if size > 0 {
			name = fmt.Sprintf("SendData/%d", size)
		}
		b.Run(name, func(b *testing.B) {
			rt := dialAll(b, size)
			timeTurns(b, 256, rt.msgq, rt.pipe, rt.raw) // warm up
			b.SetBytes(int64(size))
			b.ResetTimer()
			ns := timeTurns(b, b.N, rt.msgq, rt.pipe, rt.raw)
			b.ReportMetric(ns[0], "ns/rtt")
			b.ReportMetric(ns[1], "pipe-ns/rtt")
			b.ReportMetric(ns[2], "raw-ns/rtt")
			b.ReportMetric(ns[0]/ns[1], "x-pipe")
			b.ReportMetric(ns[0]/ns[2], "x-raw")
		})
	}
}

// BenchmarkPost measures Post while a peer process drains the queue with
// Get: the posting rate (ns/op per message). A Post that finds the queue
// full (ErrQuota) yields and tries again; those are counted as quota-waits/op.
func BenchmarkPost(b *testing.B) {
	name := benchQueueName()
	startBenchPeer(b, "drain "+name)
	t, err := msgq.Find(name)
	if err != nil {
		b.Fatal(err)
	}
	defer t.Close()
	full := 0
	b.ResetTimer()
	for i := 0; i < b.N; {
		err := t.Post(msgq.WM_USER+1, uintptr(i), 0)
		switch {
		case err == nil:
			i++
		case errors.Is(err, xipc.ErrQuota):
			full++
			runtime.Gosched()
		default:
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(full)/float64(b.N), "quota-waits/op")
}

// BenchmarkPostBurst measures Post alone: bursts of Quota posts into a
// queue that nobody drains while they run (this process empties it between
// bursts, untimed).
func BenchmarkPostBurst(b *testing.B) {
	name := benchQueueName()
	q, err := msgq.Register(name, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer q.Close()
	t, err := msgq.Find(name)
	if err != nil {
		b.Fatal(err)
	}
	defer t.Close()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%msgq.Quota == 0 && i > 0 {
			b.StopTimer()
			for {
				m, err := q.Peek(0, 0, true)
				if err != nil {
					b.Fatal(err)
				}
				if m == nil {
					break
				}
			}
			b.StartTimer()
		}
		if err := t.Post(msgq.WM_USER+1, uintptr(i), 0); err != nil {
			b.Fatal(err)
		}
	}
}
