//go:build unix

package pipe_test

// Benchmarks of xipc pipes next to the raw OS transport they replace, in the
// same run, between two processes: the benchmark process is the client, a
// re-exec of the test binary is the server. The raw baseline is what a Go
// program would write by hand: a unix stream socket with a 4-byte length
// prefix and a 64 KiB bufio.Reader, as in the project's baselines.
//
//	go test -run '^$' -bench . -count 5 ./pipe/ | benchstat -

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xipc/xipc/pipe"
)

const (
	benchPeerEnv = "XIPC_BENCH_PEER" // "xipc NAME", "raw ADDR" or "idle NAME N"
	rawHeader    = 4
)

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

// benchPeer serves one benchmark client: it echoes each message whose first
// byte is 'e' and swallows the others, answering a one-byte ack for 'a'.
func benchPeer(args []string) error {
	switch args[0] {
	case "xipc":
		l, err := pipe.Listen(args[1], &pipe.ListenConfig{Message: true})
		if err != nil {
			return err
		}
		fmt.Println("ready")
		c, err := l.AcceptPipe()
		if err != nil {
			return err
		}
		buf := make([]byte, 1<<20)
		for {
			n, err := c.ReadMsg(buf)
			if err != nil {
				return nil
			}
			if err := answer(buf[:n], c.WriteMsg); err != nil {
				return nil
			}
		}
	case "raw":
		ln, err := listenRaw(args[1])
		if err != nil {
			return err
		}
		fmt.Println("ready")
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		r := bufio.NewReaderSize(c, 64<<10)
		buf := make([]byte, rawHeader+1<<20)
		for {
			if _, err := io.ReadFull(r, buf[:rawHeader]); err != nil {
				return nil
			}
			n := int(binary.LittleEndian.Uint32(buf))
			if _, err := io.ReadFull(r, buf[rawHeader:rawHeader+n]); err != nil {
				return nil
			}
			err := answer(buf[rawHeader:rawHeader+n], func(p []byte) (int, error) {
				return rawWrite(c, buf, p)
			})
			if err != nil {
				return nil
			}
		}
	case "idle":
		return idlePeer(args[1], args[2])
	}
	return fmt.Errorf("unknown peer %q", args)
}

func answer(msg []byte, write func([]byte) (int, error)) error {
	if len(msg) == 0 {
		return nil
	}
	var err error
	switch msg[0] {
	case 'e':
		_, err = write(msg)
	case 'a':
		_, err = write(msg[:1])
	}
	return err
}

// rawWrite frames p into buf (which p may alias at buf[rawHeader:]) and
// writes it with one write(2), as a hand-written transport would.
func rawWrite(c net.Conn, buf, p []byte) (int, error) {
	binary.LittleEndian.PutUint32(buf, uint32(len(p)))
	copy(buf[rawHeader:], p)
	return c.Write(buf[:rawHeader+len(p)])
}

// startPeer re-execs the test binary as a benchmark peer and waits until it
// is ready.
func startPeer(b *testing.B, spec string, extraEnv ...string) *bufio.Reader {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(append(os.Environ(), benchPeerEnv+"="+spec), extraEnv...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	r := bufio.NewReader(out)
	line, err := r.ReadString('\n')
	if err != nil || line != "ready\n" {
		b.Fatalf("peer did not start: %q %v", line, err)
	}
	return r
}

func benchName(b *testing.B) string {
	return fmt.Sprintf(`\\.\pipe\xipc-bench-%d-%d`, os.Getpid(), time.Now().UnixNano())
}

type msgConn struct {
	send func([]byte) error
	recv func([]byte) (int, error)
}

func dialXipc(b *testing.B) msgConn {
	name := benchName(b)
	startPeer(b, "xipc "+name)
	c, err := pipe.Dial(context.Background(), name, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return msgConn{
		send: func(p []byte) error { _, err := c.WriteMsg(p); return err },
		recv: c.ReadMsg,
	}
}

func dialRaw(b *testing.B) msgConn {
	addr := rawAddr(b)
	startPeer(b, "raw "+addr)
	c, err := dialRawAddr(addr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	r := bufio.NewReaderSize(c, 64<<10)
	wbuf := make([]byte, rawHeader+1<<20)
	var hdr [rawHeader]byte
	return msgConn{
		send: func(p []byte) error { _, err := rawWrite(c, wbuf, p); return err },
		recv: func(p []byte) (int, error) {
			if _, err := io.ReadFull(r, hdr[:]); err != nil {
				return 0, err
			}
			n := int(binary.LittleEndian.Uint32(hdr[:]))
			return io.ReadFull(r, p[:n])
		},
	}
}

var transports = []struct {
	name string
	dial func(*testing.B) msgConn
}{
	{"xipc", dialXipc},
	{"raw", dialRaw},
}

// BenchmarkRTT measures a 64-byte round trip: one message out, its echo back.
func BenchmarkRTT(b *testing.B) {
	for _, size := range []int{64, 64 << 10} {
		for _, tr := range transports {
			b.Run(fmt.Sprintf("%s/%d", tr.name, size), func(b *testing.B) {
				c := tr.dial(b)
				msg := make([]byte, size)
				msg[0] = 'e'
				in := make([]byte, size)
				b.SetBytes(int64(size))
				b.ResetTimer()
				start := time.Now()
				for i := 0; i < b.N; i++ {
					if err := c.send(msg); err != nil {
						b.Fatal(err)
					}
					if _, err := c.recv(in); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N), "ns/rtt")
			})
		}
	}
}

// BenchmarkThroughput streams one-way messages and waits for the peer's
// ack at the end, so the figure counts delivered bytes.
func BenchmarkThroughput(b *testing.B) {
	for _, size := range []int{64, 64 << 10} {
		for _, tr := range transports {
			b.Run(fmt.Sprintf("%s/%d", tr.name, size), func(b *testing.B) {
				c := tr.dial(b)
				msg := make([]byte, size)
				msg[0] = 'd'
				ack := []byte{'a'}
				in := make([]byte, 16)
				b.SetBytes(int64(size))
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if err := c.send(msg); err != nil {
						b.Fatal(err)
					}
				}
				if err := c.send(ack); err != nil {
					b.Fatal(err)
				}
				if _, err := c.recv(in); err != nil {
					b.Fatal(err)
				}
			})
		}
	}
}

// BenchmarkIdleClients opens 10,000 pipe clients that sit idle and reports
// what each costs: heap bytes and goroutines per connection on the client
// side (this process) and on the server side (the peer, which keeps a
// goroutine blocked in ReadMsg per client, as a typical server does).
func BenchmarkIdleClients(b *testing.B) {
	const n = 10000
	for i := 0; i < b.N; i++ {
		name := benchName(b)
		peer := startPeer(b, fmt.Sprintf("idle %s %d", name, n))
		before := heapAndGoroutines()
		conns := make([]*pipe.Conn, 0, n)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		for len(conns) < n {
			c, err := pipe.Dial(ctx, name, nil)
			if err != nil {
				b.Fatal(err)
			}
			conns = append(conns, c)
		}
		cancel()
		after := heapAndGoroutines()
		line, err := peer.ReadString('\n')
		if err != nil {
			b.Fatal(err)
		}
		var srvBytes, srvG float64
		if _, err := fmt.Sscanf(line, "server %g %g", &srvBytes, &srvG); err != nil {
			b.Fatalf("peer said %q: %v", line, err)
		}
		b.ReportMetric((after[0]-before[0])/n, "client-B/conn")
		b.ReportMetric((after[1]-before[1])/n, "client-goroutines/conn")
		b.ReportMetric(srvBytes, "server-B/conn")
		b.ReportMetric(srvG, "server-goroutines/conn")
		for _, c := range conns {
			c.Close()
		}
	}
}

func idlePeer(name, count string) error {
	n, err := strconv.Atoi(count)
	if err != nil {
		return err
	}
	l, err := pipe.Listen(name, nil)
	if err != nil {
		return err
	}
	before := heapAndGoroutines()
	fmt.Println("ready")
	for i := 0; i < n; i++ {
		c, err := l.AcceptPipe()
		if err != nil {
			return err
		}
		go func() {
			buf := make([]byte, 512)
			for {
				if _, err := c.Read(buf); err != nil {
					c.Close()
					return
				}
			}
		}()
	}
	after := heapAndGoroutines()
	fmt.Printf("server %g %g\n", (after[0]-before[0])/float64(n), (after[1]-before[1])/float64(n))
	time.Sleep(time.Hour) // until killed
	return nil
}

// heapAndGoroutines returns live heap bytes plus goroutine stack bytes,
// and the number of goroutines, after a GC.
func heapAndGoroutines() [2]float64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return [2]float64{float64(m.HeapAlloc + m.StackInuse), float64(runtime.NumGoroutine())}
}

func rawAddr(b *testing.B) string                 { return filepath.Join(b.TempDir(), "raw.sock") }
func listenRaw(addr string) (net.Listener, error) { return net.Listen("unix", addr) }
func dialRawAddr(addr string) (net.Conn, error)   { return net.Dial("unix", addr) }
