//go:build unix

package mailslot_test

// Benchmarks of mailslots next to a raw unixgram socket, in the same run,
// between processes (re-execs of the test binary).
//
//	go test -run '^$' -bench . -count 5 ./mailslot/ | benchstat -

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xipc/xipc/mailslot"
)

const benchPeerEnv = "XIPC_MAILSLOT_BENCH_PEER"

func init() {
	if v := os.Getenv(benchPeerEnv); v != "" {
		if err := benchPeer(strings.Fields(v)); err != nil {
			fmt.Fprintln(os.Stderr, "bench peer:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
}

// A transport is one direction of datagrams: a reader here, a writer there.
type reader interface{ Read([]byte) (int, error) }
type writer interface{ Write([]byte) (int, error) }

type transport struct {
	name   string
	listen func(addr string) (reader, func(), error)
	dial   func(addr string) (writer, error)
	addr   func(dir, tag string) string
}

var transports = []transport{
	{
		name: "xipc",
		listen: func(addr string) (reader, func(), error) {
			s, err := mailslot.Create(addr, &mailslot.Config{ReadTimeout: mailslot.WaitForever})
			if err != nil {
				return nil, nil, err
			}
			return s, func() { s.Close() }, nil
		},
		dial: func(addr string) (writer, error) { return mailslot.Open(addr) },
		addr: func(_, tag string) string { return fmt.Sprintf("bench-%d-%s", os.Getpid(), tag) },
	},
	{
		name: "unixgram",
		listen: func(addr string) (reader, func(), error) {
			c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: addr, Net: "unixgram"})
			if err != nil {
				return nil, nil, err
			}
			return c, func() { c.Close() }, nil
		},
		dial: func(addr string) (writer, error) {
			return net.DialUnix("unixgram", nil, &net.UnixAddr{Name: addr, Net: "unixgram"})
		},
		addr: func(dir, tag string) string { return filepath.Join(dir, tag) },
	},
}

func byName(name string) transport {
	for _, t := range transports {
		if t.name == name {
			return t
		}
	}
	panic(name)
}

// benchPeer: "echo T IN OUT" reads from slot IN and writes each message to
// OUT; "send T OUT N SIZE" writes N messages of SIZE bytes to OUT.
func benchPeer(a []string) error {
	tr := byName(a[1])
	switch a[0] {
	case "echo":
		r, closeR, err := tr.listen(a[2])
		if err != nil {
			return err
		}
		defer closeR()
		fmt.Println("ready")
		var w writer
		buf := make([]byte, mailslot.MaxMessage)
		for {
			n, err := r.Read(buf)
			if err != nil {
				return err
			}
			if w == nil {
				if w, err = tr.dial(a[3]); err != nil {
					return err
				}
			}
			if _, err := w.Write(buf[:n]); err != nil {
				return err
			}
		}
	case "send":
		w, err := tr.dial(a[2])
		if err != nil {
			return err
		}
		n, _ := strconv.Atoi(a[3])
		size, _ := strconv.Atoi(a[4])
		msg := make([]byte, size)
		for i := 0; i < n; i++ {
			if _, err := w.Write(msg); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("unknown peer %q", a)
}

func peer(b *testing.B, spec string, wait bool) *exec.Cmd {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), benchPeerEnv+"="+spec)
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
	if wait {
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil || line != "ready\n" {
			b.Fatalf("peer did not start: %q %v", line, err)
		}
	}
	return cmd
}

// BenchmarkRTT: a 64-byte message to the peer's slot and its echo back to
// ours; half of it is the write→read latency.
func BenchmarkRTT(b *testing.B) {
	for _, tr := range transports {
		b.Run(tr.name, func(b *testing.B) {
			b.Setenv("XIPC_ROOT", b.TempDir())
			dir := b.TempDir()
			in, out := tr.addr(dir, "in"), tr.addr(dir, "out")
			r, closeR, err := tr.listen(in)
			if err != nil {
				b.Fatal(err)
			}
			defer closeR()
			peer(b, fmt.Sprintf("echo %s %s %s", tr.name, out, in), true)
			w, err := tr.dial(out)
			if err != nil {
				b.Fatal(err)
			}
			msg, buf := make([]byte, 64), make([]byte, mailslot.MaxMessage)
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				if _, err := w.Write(msg); err != nil {
					b.Fatal(err)
				}
				if _, err := r.Read(buf); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N), "ns/rtt")
		})
	}
}

// BenchmarkWriters: 1 and 4 writer processes send 64-byte messages; the
// figure is the reader's time per message received.
func BenchmarkWriters(b *testing.B) {
	for _, writers := range []int{1, 4} {
		for _, tr := range transports {
			b.Run(fmt.Sprintf("%s/%d", tr.name, writers), func(b *testing.B) {
				b.Setenv("XIPC_ROOT", b.TempDir())
				addr := tr.addr(b.TempDir(), "slot")
				r, closeR, err := tr.listen(addr)
				if err != nil {
					b.Fatal(err)
				}
				defer closeR()
				per := b.N/writers + 1
				buf := make([]byte, mailslot.MaxMessage)
				b.SetBytes(64)
				b.ResetTimer()
				for i := 0; i < writers; i++ {
					peer(b, fmt.Sprintf("send %s %s %d 64", tr.name, addr, per), false)
				}
				for i := 0; i < per*writers; i++ {
					if _, err := r.Read(buf); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				b.ReportMetric(float64(per*writers)/b.Elapsed().Seconds(), "msgs/s")
			})
		}
	}
}
