package ring_test

// Benchmarks between this process and a peer process (peer_test.go), next
// to the raw baseline of the same exchange over a unix socket, and the
// memcpy bandwidth of the machine, so that the ratios come from one run:
//
//	go test -run '^$' -bench . ./shm/ring/
//
// Latency: a 64-byte ping-pong, reported as one-way percentiles (half the
// round trip). Throughput: 64 KiB messages one way, copied into the ring
// by the producer and out of it by the consumer (as a socket copies in and
// out of the kernel), with memcpy-fraction = ring bandwidth / memcpy
// bandwidth.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xipc/xipc/shm/ring"
)

var benchSpins = []struct{ name, spin string }{
	{"spin", "0s"},     // DefaultSpin, then sleep
	{"nospin", "-1ns"}, // sleep at once: futex (Linux) or event (Windows) wake-ups only
}

func spinOpts(b *testing.B, s string) *ring.Options {
	d, err := time.ParseDuration(s)
	if err != nil {
		b.Fatal(err)
	}
	return &ring.Options{Spin: d}
}

// reportLatency reports the round trips' percentiles as one-way latencies.
func reportLatency(b *testing.B, rtts []time.Duration) {
	slices.Sort(rtts)
	at := func(q float64) float64 { return float64(rtts[int(q*float64(len(rtts)-1))].Nanoseconds()) }
	b.ReportMetric(at(0.5)/2, "ns/oneway-p50")
	b.ReportMetric(at(0.99)/2, "ns/oneway-p99")
	b.ReportMetric(at(0.5), "ns/rtt-p50")
}

const latencySize = 64

func BenchmarkLatency(b *testing.B) {
	for _, s := range benchSpins {
		b.Run("ring-"+s.name, func(b *testing.B) {
			opts := spinOpts(b, s.spin)
			ping := uniqueName(b)
			out, err := ring.Create(ping, ring.Producer, 64<<10, opts)
			if err != nil {
				b.Fatal(err)
			}
			defer out.Close()
			in, err := ring.Create(ping+"-pong", ring.Consumer, 64<<10, opts)
			if err != nil {
				b.Fatal(err)
			}
			defer in.Close()
			p := startPeer(b, "echo", ping, ping+"-pong", s.spin)
			p.expect("ready", time.Minute)
			ctx := context.Background()
			msg := make([]byte, latencySize)
			rtts := make([]time.Duration, 0, b.N)
			for i := 0; i < b.N+1000; i++ { // 1000 to warm up
				if i == 1000 {
					b.ResetTimer()
				}
				start := time.Now()
				buf, err := out.Reserve(ctx, len(msg))
				if err != nil {
					b.Fatal(err)
				}
				copy(buf, msg)
				out.Commit(len(msg))
				m, err := in.Read(ctx)
				if err != nil || len(m) != len(msg) {
					b.Fatal(len(m), err)
				}
				in.Release()
				if i >= 1000 {
					rtts = append(rtts, time.Since(start))
				}
			}
			b.StopTimer()
			reportLatency(b, rtts)
			out.Close()
			if err := p.wait(10 * time.Second); err != nil {
				b.Fatal(err)
			}
		})
	}
	b.Run("unix", func(b *testing.B) {
		c, p := unixPeer(b, "unix-echo")
		defer c.Close()
		msg := make([]byte, 4+latencySize)
		binary.LittleEndian.PutUint32(msg, latencySize)
		reply := make([]byte, len(msg))
		rtts := make([]time.Duration, 0, b.N)
		for i := 0; i < b.N+1000; i++ {
			if i == 1000 {
				b.ResetTimer()
			}
			start := time.Now()
			if _, err := c.Write(msg); err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadFull(c, reply); err != nil {
				b.Fatal(err)
			}
			if i >= 1000 {
				rtts = append(rtts, time.Since(start))
			}
		}
		b.StopTimer()
		reportLatency(b, rtts)
		c.CloseWrite()
		if err := p.wait(10 * time.Second); err != nil {
			b.Fatal(err)
		}
	})
}

// unixPeer starts a peer command that dials a unix socket, and returns the
// accepted connection.
func unixPeer(b *testing.B, cmd string) (*net.UnixConn, *peer) {
	addr := filepath.Join(b.TempDir(), "s")
	l, err := net.Listen("unix", addr)
	if err != nil {
		b.Skip("no unix sockets:", err)
	}
	defer l.Close()
	p := startPeer(b, cmd, addr)
	c, err := l.Accept()
	if err != nil {
		b.Fatal(err)
	}
	p.expect("ready", time.Minute)
	return c.(*net.UnixConn), p
}

const throughputSize = 64 << 10

// ringThroughputSize is the data area of the throughput benchmark: 64
// messages of 64 KiB (XIPC_RING_BENCH_SIZE overrides). Smaller rings make
// the two sides wait for each other more often: 1 MiB gave 10-20% less.
var ringThroughputSize = envInt("XIPC_RING_BENCH_SIZE", 4<<20)

func BenchmarkThroughput64K(b *testing.B) {
	src := make([]byte, throughputSize)
	rand.Read(src)
	marks := uint64(bytes.Count(src, benchMark))
	for _, mode := range []string{"copy", "inplace"} {
		for _, s := range benchSpins {
			name := "ring-" + s.name
			if mode == "inplace" {
				name += "-inplace"
			}
			b.Run(name, func(b *testing.B) {
				benchRingThroughput(b, src, s.spin, mode, marks)
			})
		}
	}
	b.Run("threads", func(b *testing.B) {
		// The hardware's own figure for this exchange: two threads of one
		// process pass 64 KiB messages through a buffer of the ring's size,
		// copied in by one and out by the other, with nothing of xipc (no
		// headers, no wake-ups, spinning on two atomic counters).
		benchThreads(b, src, false)
		reportFraction(b)
	})
	b.Run("threads-inplace", func(b *testing.B) {
		// The same, with the consumer reading the bytes where they lie.
		benchThreads(b, src, true)
		reportFraction(b)
	})
	b.Run("unix", func(b *testing.B) {
		c, p := unixPeer(b, "unix-sink")
		defer c.Close()
		frame := make([]byte, 4+throughputSize)
		binary.LittleEndian.PutUint32(frame, throughputSize)
		copy(frame[4:], src)
		b.SetBytes(throughputSize)
		b.ResetTimer()
		for range b.N {
			if _, err := c.Write(frame); err != nil {
				b.Fatal(err)
			}
		}
		c.CloseWrite()
		var total [8]byte
		_, err := io.ReadFull(c, total[:])
		b.StopTimer()
		if err != nil || binary.LittleEndian.Uint64(total[:]) != uint64(b.N)*throughputSize {
			b.Fatalf("the sink read %x, %v", total, err)
		}
		reportFraction(b)
		if err := p.wait(10 * time.Second); err != nil {
			b.Fatal(err)
		}
	})
}

// benchRingThroughput streams b.N messages of src to a sink process
// through a ring. The producer copies each message into the ring (standing
// for a producer that writes its data in place). The sink copies it out
// (mode "copy", what a socket's reader gets) or reads it where it lies
// (mode "inplace", the zero-copy use the ring is for), counting the bytes
// of one value; marks is their count in src.
func benchRingThroughput(b *testing.B, src []byte, spin, mode string, marks uint64) {
	opts := spinOpts(b, spin)
	name := uniqueName(b)
	out, err := ring.Create(name, ring.Producer, ringThroughputSize, opts)
	if err != nil {
		b.Fatal(err)
	}
	defer out.Close()
	ack, err := ring.Create(name+"-ack", ring.Consumer, ring.MinSize, opts)
	if err != nil {
		b.Fatal(err)
	}
	defer ack.Close()
	p := startPeer(b, "sink", name, name+"-ack", spin, mode)
	p.expect("ready", time.Minute)
	ctx := context.Background()
	b.SetBytes(int64(len(src)))
	b.ResetTimer()
	for range b.N {
		buf, err := out.Reserve(ctx, len(src))
		if err != nil {
			b.Fatal(err)
		}
		copy(buf, src)
		out.Commit(len(src))
	}
	out.Close()
	m, err := ack.Read(ctx)
	b.StopTimer()
	if err != nil || len(m) != 16 {
		b.Fatalf("the sink's count: %x, %v", m, err)
	}
	n, gotMarks := binary.LittleEndian.Uint64(m), binary.LittleEndian.Uint64(m[8:])
	wantMarks := uint64(0)
	if mode == "inplace" {
		wantMarks = uint64(b.N) * marks
	}
	if n != uint64(b.N)*uint64(len(src)) || gotMarks != wantMarks {
		b.Fatalf("the sink read %d bytes, %d marks; want %d, %d", n, gotMarks, uint64(b.N)*uint64(len(src)), wantMarks)
	}
	ack.Release()
	reportFraction(b)
	if err := p.wait(10 * time.Second); err != nil {
		b.Fatal(err)
	}
}

// reportFraction reports the benchmark's bandwidth as fractions of
// memcpy's, measured right after it (the machine's speed drifts with its
// load, and a ratio is only meaningful between figures taken together):
// memcpy-fraction against a copy between two 64 KiB buffers, which never
// leaves one core's cache (the strictest reference), and
// memcpy-mem-fraction against a copy between two 64 MiB buffers, memory
// bandwidth in its usual sense.
func reportFraction(b *testing.B) {
	if e := b.Elapsed(); e > 0 {
		bw := float64(b.N) * throughputSize / e.Seconds()
		b.ReportMetric(bw/memcpyBandwidth(), "memcpy-fraction")
		b.ReportMetric(bw/memoryBandwidth(), "memcpy-mem-fraction")
	}
}

// memoryBandwidth is copy's bandwidth between two 64 MiB buffers, in bytes
// per second: the best of 3 copies.
func memoryBandwidth() float64 {
	src, dst := make([]byte, 64<<20), make([]byte, 64<<20)
	copy(dst, src) // fault the pages in
	best := 0.0
	for range 3 {
		start := time.Now()
		copy(dst, src)
		best = max(best, float64(len(src))/time.Since(start).Seconds())
	}
	return best
}

// benchThreads passes b.N messages of src from this goroutine to another,
// each on a locked OS thread, through a buffer of ringThroughputSize bytes.
// The consumer copies each message out, or with inPlace reads it where it
// lies (counting the bytes of one value, as the in-place sink does).
func benchThreads(b *testing.B, src []byte, inPlace bool) {
	buf := make([]byte, ringThroughputSize)
	slots := int64(ringThroughputSize / len(src))
	var produced, consumed atomic.Int64
	n := int64(b.N)
	marks := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		dst := make([]byte, len(src))
		for i := range n {
			for produced.Load() <= i {
				runtime.Gosched()
			}
			m := buf[(i%slots)*int64(len(src)):][:len(src)]
			if inPlace {
				marks += bytes.Count(m, benchMark)
			} else {
				copy(dst, m)
			}
			consumed.Store(i + 1)
		}
	}()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.SetBytes(int64(len(src)))
	b.ResetTimer()
	for i := range n {
		for i-consumed.Load() >= slots {
			runtime.Gosched()
		}
		copy(buf[(i%slots)*int64(len(src)):][:len(src)], src)
		produced.Store(i + 1)
	}
	<-done
	b.StopTimer()
	if want := b.N * bytes.Count(src, benchMark); inPlace && marks != want {
		b.Fatalf("the consumer counted %d marks, want %d", marks, want)
	}
}

// memcpyBandwidth is copy's bandwidth between two 64 KiB buffers, in bytes
// per second: the best of 5 rounds of 256 copies.
func memcpyBandwidth() float64 {
	src, dst := make([]byte, throughputSize), make([]byte, throughputSize)
	best := 0.0
	for range 5 {
		start := time.Now()
		const n = 256
		for range n {
			copy(dst, src)
		}
		best = max(best, n*throughputSize/time.Since(start).Seconds())
	}
	return best
}

// BenchmarkMemcpy64K is the reference of memcpy-fraction: copies between
// two 64 KiB buffers, which stay in the core's cache.
func BenchmarkMemcpy64K(b *testing.B) {
	src, dst := make([]byte, throughputSize), make([]byte, throughputSize)
	b.SetBytes(throughputSize)
	for b.Loop() {
		copy(dst, src)
	}
}

func envInt(k string, def int) int {
	if s := os.Getenv(k); s != "" {
		n, err := strconv.Atoi(s)
		if err == nil {
			return n
		}
	}
	return def
}

// BenchmarkMemcpy64M copies between two 64 MiB buffers: memory bandwidth,
// out of the caches.
func BenchmarkMemcpy64M(b *testing.B) {
	src, dst := make([]byte, 64<<20), make([]byte, 64<<20)
	copy(dst, src) // fault the pages in
	b.SetBytes(64 << 20)
	for b.Loop() {
		copy(dst, src)
	}
}
