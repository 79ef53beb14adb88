package bench

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// A session is one transport of a case, set up: its peer process runs and
// its connections are open between the repeats.
type session interface {
	// measure runs the case for d and returns what it measured.
	measure(ctx context.Context, d time.Duration) (sample, error)
	// close ends the session cleanly: connections and objects closed,
	// peer asked to exit. It reports a peer that failed.
	close() error
	// abort ends the session at once, from another goroutine: a pending
	// measure fails, the peer is killed. close still follows.
	abort()
}

// caseKind is what a case measures.
type caseKind string

const (
	kindRTT  caseKind = "rtt"  // round trips: a message out, its echo back
	kindTput caseKind = "tput" // one-way messages as fast as they go
)

// sample is what one repeat of one transport measured.
type sample struct {
	ops     int64         // round trips or messages
	elapsed time.Duration // wall time of the repeat
	latSum  time.Duration // round trips: the sum of their times
	lat     []float64     // round trips: a uniform sample of their times, ns
}

// maxLatSamples bounds the round-trip times kept per repeat.
const maxLatSamples = 1 << 18

// sketchPoints is how many quantiles of each repeat's round-trip times
// are kept for the plot.
const sketchPoints = 400

// Stat is the summary of one repeat of one transport.
type Stat struct {
	NS             float64 // time per round trip (mean) or per message, ns
	P50, P99, P999 float64 // round trips, ns
	MBs, MsgsS     float64 // megabytes (10^6) and messages per second
	Skipped        string  // why the transport did not run
	sketch         []float64
}

func (s sample) stat(kind caseKind, size int) Stat {
	if s.ops == 0 {
		return Stat{}
	}
	sec := s.elapsed.Seconds()
	st := Stat{
		NS:    float64(s.elapsed.Nanoseconds()) / float64(s.ops),
		MsgsS: float64(s.ops) / sec,
		MBs:   float64(s.ops) * float64(size) / sec / 1e6,
	}
	if kind == kindRTT && len(s.lat) > 0 {
		st.NS = float64(s.latSum.Nanoseconds()) / float64(s.ops)
		lat := slices.Clone(s.lat)
		slices.Sort(lat)
		st.P50, st.P99, st.P999 = Percentile(lat, 0.5), Percentile(lat, 0.99), Percentile(lat, 0.999)
		st.sketch = quantiles(lat, sketchPoints)
	}
	return st
}

// reservoir keeps a uniform random sample of at most cap values.
type reservoir struct {
	vals []float64
	seen uint64
	cap  int
	rng  uint64
}

func newReservoir(n int) *reservoir {
	return &reservoir{vals: make([]float64, 0, min(n, 1<<14)), cap: n, rng: 0x9e3779b97f4a7c15}
}

func (r *reservoir) add(v float64) {
	r.seen++
	if len(r.vals) < r.cap {
		r.vals = append(r.vals, v)
		return
	}
	r.rng ^= r.rng << 13
	r.rng ^= r.rng >> 7
	r.rng ^= r.rng << 17
	if j := r.rng % r.seen; j < uint64(r.cap) {
		r.vals[j] = v
	}
}

// msgSession is a transport of msgConns: one per client, served by one
// peer process (or none, when the other side lives in this process).
type msgSession struct {
	kind    caseKind
	size    int
	op      byte // of a round trip
	conns   []msgConn
	peer    *peerProc
	cleanup []func() error // objects of ours to close after the conns

	stopped atomic.Bool
	once    sync.Once
}

func newMsgSession(c *benchCase, conns []msgConn, p *peerProc) *msgSession {
	op := c.op
	if op == 0 {
		op = opEcho
	}
	return &msgSession{kind: c.kind, size: c.size, op: op, conns: conns, peer: p}
}

func (s *msgSession) measure(_ context.Context, d time.Duration) (sample, error) {
	if s.kind == kindTput {
		return s.measureTput(d)
	}
	return s.measureRTT(d)
}

// measureRTT runs round trips on every connection at once until d has
// passed.
func (s *msgSession) measureRTT(d time.Duration) (sample, error) {
	type result struct {
		ops int64
		sum time.Duration
		lat []float64
		err error
	}
	results := make([]result, len(s.conns))
	per := maxLatSamples / len(s.conns)
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for i, c := range s.conns {
		wg.Go(func() {
			res := &results[i]
			msg, in := make([]byte, s.size), make([]byte, max(s.size, replySize))
			msg[0] = s.op
			want := s.size
			if s.op == opReply {
				want = replySize
			}
			rs := newReservoir(per)
			for !s.stopped.Load() {
				t0 := time.Now()
				if !t0.Before(deadline) {
					break
				}
				if err := c.send(msg); err != nil {
					res.err = err
					break
				}
				n, err := c.recv(in)
				if err == nil && n != want {
					err = fmt.Errorf("answer of %d bytes, want %d", n, want)
				}
				if err != nil {
					res.err = err
					break
				}
				lat := time.Since(t0)
				res.ops++
				res.sum += lat
				rs.add(float64(lat.Nanoseconds()))
			}
			res.lat = rs.vals
		})
	}
	wg.Wait()
	smp := sample{elapsed: time.Since(start)}
	var errs []error
	for _, r := range results {
		smp.ops += r.ops
		smp.latSum += r.sum
		smp.lat = append(smp.lat, r.lat...)
		errs = append(errs, r.err)
	}
	if s.stopped.Load() {
		return smp, errAborted
	}
	return smp, errors.Join(errs...)
}

var errAborted = errors.New("aborted")

// measureTput sends one-way messages on the first connection until d has
// passed, then asks the peer how many it received: the figure counts
// messages delivered, not merely written.
func (s *msgSession) measureTput(d time.Duration) (sample, error) {
	c := s.conns[0]
	msg := make([]byte, s.size)
	msg[0] = opData
	// Look at the clock every batch messages: for small messages into a
	// ring, time.Now would otherwise cost as much as the send.
	batch := min(max(1, 4096/s.size), 64)
	start := time.Now()
	deadline := start.Add(d)
	var n uint64
	for !s.stopped.Load() && time.Now().Before(deadline) {
		for range batch {
			if err := c.send(msg); err != nil {
				return sample{}, s.failed(err)
			}
		}
		n += uint64(batch)
	}
	if err := c.send([]byte{opAck}); err != nil {
		return sample{}, s.failed(err)
	}
	var ack [8]byte
	k, err := c.recv(ack[:])
	if err != nil {
		return sample{}, s.failed(err)
	}
	elapsed := time.Since(start)
	if got := binary.LittleEndian.Uint64(ack[:]); k != 8 || got != n {
		return sample{}, fmt.Errorf("the peer received %d of %d messages (ack of %d bytes)", got, n, k)
	}
	return sample{ops: int64(n), elapsed: elapsed}, nil
}

func (s *msgSession) failed(err error) error {
	if s.stopped.Load() {
		return errAborted
	}
	return err
}

func (s *msgSession) closeAll() error {
	var errs []error
	for _, c := range s.conns {
		errs = append(errs, c.close())
	}
	for _, f := range s.cleanup {
		errs = append(errs, f())
	}
	return errors.Join(errs...)
}

func (s *msgSession) close() error {
	var err error
	s.once.Do(func() {
		err = s.closeAll()
		if s.peer != nil {
			err = errors.Join(err, s.peer.stop())
		}
	})
	return err
}

func (s *msgSession) abort() {
	s.stopped.Store(true)
	s.once.Do(func() {
		_ = s.closeAll() // what we close may be failing already
		if s.peer != nil {
			s.peer.kill()
		}
	})
}

// memcpySession copies between two buffers of the message size in this
// process: the bandwidth that a shared-memory transport, which copies a
// message in and out, is measured against.
type memcpySession struct {
	src, dst []byte
	stopped  atomic.Bool
}

func (m *memcpySession) measure(_ context.Context, d time.Duration) (sample, error) {
	batch := max(1, (1<<20)/len(m.src))
	start := time.Now()
	deadline := start.Add(d)
	var n int64
	for !m.stopped.Load() && time.Now().Before(deadline) {
		for range batch {
			copy(m.dst, m.src)
		}
		n += int64(batch)
	}
	if m.stopped.Load() {
		return sample{}, errAborted
	}
	return sample{ops: n, elapsed: time.Since(start)}, nil
}

func (m *memcpySession) close() error { return nil }
func (m *memcpySession) abort()       { m.stopped.Store(true) }
