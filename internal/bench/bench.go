// Package bench is the engine of `xipc bench`: it measures each xipc
// mechanism between two processes and, in the same run, the raw OS
// transport it stands in for, so that the ratios come from one machine in
// one state.
//
// Every case (e.g. pipe-rtt-64: a 64-byte round trip over a named pipe)
// has an xipc transport and one or more baselines (a unix stream socket
// with a 4-byte length prefix, TCP loopback, unixgram, memcpy, NATS). Each
// transport of a case gets its own peer process, started from the xipc
// executable (`xipc bench-peer ...`), and its connections stay open while
// the case runs; the repeats are interleaved (xipc, baseline, xipc,
// baseline, ...) so that the machine's noise falls on every transport
// alike. A case reports, for each transport, the median over the repeats
// of the time per operation, its spread ((max-min)/median), the latency
// percentiles of round trips and the throughput; its ratio is the xipc
// median divided by the baseline median.
//
// The package imports the mechanisms and a plotting library; the library
// packages of xipc never import it.
package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"
)

// Mechanisms are the names that Config.Mechanisms accepts, in the order
// `all` runs them.
var Mechanisms = []string{"pipe", "shm", "mailslot", "msg"}

// Defaults of Config.
const (
	DefaultRepeat   = 5
	DefaultDuration = 2 * time.Second
)

// DefaultSizes are the message sizes measured when Config.Sizes is empty.
var DefaultSizes = []int{64, 64 << 10}

// MaxSize is the largest message size Config.Sizes may hold.
const MaxSize = 64 << 20

// MaxClients is the largest number of clients Config.Clients may hold.
const MaxClients = 256

// SpreadWarning is the spread ((max-min)/median of the repeats) above
// which a result carries a warning: the machine was too noisy for the
// figure to be trusted to better than that.
const SpreadWarning = 0.20

// Config says what to measure. The zero value of a field means its
// default.
type Config struct {
	// Mechanisms to measure, from Mechanisms; empty means all.
	Mechanisms []string
	// Sizes are the message sizes in bytes; empty means DefaultSizes.
	Sizes []int
	// Clients are the numbers of concurrent clients of the pipe round-trip
	// scaling cases (each above 1 adds a case at the smallest size);
	// empty means 1 only.
	Clients []int
	// Cases, if not nil, keeps only the cases whose names it matches.
	Cases *regexp.Regexp
	// Duration is the time spent measuring each transport of each case,
	// split evenly over the repeats; 0 means DefaultDuration.
	Duration time.Duration
	// Repeat is the number of interleaved repeats; 0 means DefaultRepeat.
	Repeat int
	// Exe is the xipc executable started as the peer process
	// (`Exe bench-peer ...`); empty means os.Executable().
	Exe string
	// NATSPeer is the xipc-natspeer executable for the NATS baseline;
	// empty means looking it up in PATH. Without one the NATS rows are
	// skipped.
	NATSPeer string
	// NATSMsgq adds the transport "msgq-nats" to the msg cases: msgq
	// through its NATS backend, measured by NATSPeer (skipped without it).
	NATSMsgq bool
	// Progress, if not nil, is told about every measurement.
	Progress Progress
}

// Progress follows a run: Start once with the number of measurements,
// Step after each, Done at the end.
type Progress interface {
	Start(total int)
	Step(caseName, transport string, repeat, repeats int, s Stat)
	Done()
}

// ErrInterrupted is returned by Run when its context ended before every
// case was measured; the Report holds what was measured by then.
var ErrInterrupted = errors.New("bench interrupted")

// Report is the outcome of a run.
type Report struct {
	Results     []Result
	Env         Env
	Interrupted bool
}

// Env describes the machine and the run.
type Env struct {
	Date      time.Time
	GoVersion string
	OS, Arch  string
	CPUs      int
	Kernel    string // uname -r, where known
	Repeat    int
	Duration  time.Duration // per transport and case
}

// Run measures the cases cfg selects and returns their results. When ctx
// ends it stops at once (peers killed, objects closed) and returns the
// cases measured so far, the one under way with the repeats it completed,
// and ErrInterrupted.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "xipc-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	r := &runner{cfg: cfg, dir: dir, id: fmt.Sprintf("%d-%s", os.Getpid(), hex.EncodeToString(b[:]))}
	cases := r.cases()
	if cfg.Cases != nil {
		cases = slices.DeleteFunc(cases, func(c *benchCase) bool { return !cfg.Cases.MatchString(c.name) })
	}
	if len(cases) == 0 {
		return nil, fmt.Errorf("no case matches %v", cfg.Cases)
	}
	rep := &Report{Env: Env{
		Date: time.Now().UTC(), GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH,
		CPUs: runtime.NumCPU(), Kernel: kernelRelease(), Repeat: cfg.Repeat, Duration: cfg.Duration,
	}}
	total := 0
	for _, c := range cases {
		total += c.measurements(cfg.Repeat)
	}
	if p := cfg.Progress; p != nil {
		p.Start(total)
		defer p.Done()
	}
	for _, c := range cases {
		res, err := r.runCase(ctx, c)
		if res != nil {
			rep.Results = append(rep.Results, *res)
		}
		if ctx.Err() != nil {
			rep.Interrupted = true
			return rep, ErrInterrupted
		}
		if err != nil {
			return rep, fmt.Errorf("%s: %w", c.name, err)
		}
	}
	return rep, nil
}

func (c *Config) normalize() error {
	if len(c.Mechanisms) == 0 {
		c.Mechanisms = Mechanisms
	}
	for _, m := range c.Mechanisms {
		if !slices.Contains(Mechanisms, m) {
			return fmt.Errorf("unknown mechanism %q (want %s or all)", m, strings.Join(Mechanisms, ", "))
		}
	}
	var err error
	if c.Sizes, err = sortedIn(c.Sizes, DefaultSizes, MaxSize, "message size"); err != nil {
		return err
	}
	if c.Clients, err = sortedIn(c.Clients, []int{1}, MaxClients, "clients"); err != nil {
		return err
	}
	if c.Duration == 0 {
		c.Duration = DefaultDuration
	}
	if c.Repeat == 0 {
		c.Repeat = DefaultRepeat
	}
	if c.Duration < 0 || c.Repeat < 0 {
		return fmt.Errorf("negative duration or repeat")
	}
	if c.Exe == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("cannot find the xipc executable to start the peers: %w", err)
		}
		c.Exe = exe
	}
	return nil
}

// sortedIn returns xs (def if empty) sorted without duplicates, or an
// error naming what if one is outside 1..limit.
func sortedIn(xs, def []int, limit int, what string) ([]int, error) {
	if len(xs) == 0 {
		xs = def
	}
	xs = slices.Compact(slices.Sorted(slices.Values(xs)))
	for _, x := range xs {
		if x < 1 || x > limit {
			return nil, fmt.Errorf("%s %d is outside 1..%d", what, x, limit)
		}
	}
	return xs, nil
}

// runner is the state of one Run.
type runner struct {
	cfg Config
	dir string // unix socket paths
	id  string // in every object name: the bench's pid and a random part

	mu  sync.Mutex
	seq int
}

// name returns a new object name unique to the run.
func (r *runner) name(kind string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	return fmt.Sprintf("xipc-bench-%s-%s%d", r.id, kind, r.seq)
}

// path returns a new unix socket path in the run's directory.
func (r *runner) path(suffix string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seq++
	return filepath.Join(r.dir, fmt.Sprintf("%d.%s", r.seq, suffix))
}

// repeatDuration is how long one repeat of one transport measures.
func (r *runner) repeatDuration() time.Duration {
	return max(r.cfg.Duration/time.Duration(r.cfg.Repeat), time.Millisecond)
}

// runCase opens every transport of c, measures them in turn Repeat times,
// and closes them.
func (r *runner) runCase(ctx context.Context, c *benchCase) (*Result, error) {
	res := newResult(c)
	sessions := make([]session, len(c.transports))
	var aborts []func()
	var amu sync.Mutex
	stopAbort := context.AfterFunc(ctx, func() {
		amu.Lock()
		defer amu.Unlock()
		for _, a := range aborts {
			a()
		}
	})
	defer stopAbort()
	defer func() {
		for _, s := range sessions {
			if s != nil {
				_ = s.close() // after a measurement failed or was interrupted, closing may fail too
			}
		}
	}()
	d := r.repeatDuration()
	for i, t := range c.transports {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		s, err := t.open(ctx, r, c)
		var skip *skipError
		if errors.As(err, &skip) {
			res.Transports[i].Skipped = skip.why
			if p := r.cfg.Progress; p != nil {
				for rep := range r.cfg.Repeat {
					p.Step(c.name, t.name, rep+1, r.cfg.Repeat, Stat{Skipped: skip.why})
				}
			}
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.name, err)
		}
		sessions[i] = s
		amu.Lock()
		aborts = append(aborts, s.abort)
		amu.Unlock()
		if ctx.Err() != nil { // the AfterFunc may have run before we added s
			s.abort()
			return nil, ctx.Err()
		}
		if _, err := s.measure(ctx, warmup(d)); err != nil {
			return nil, fmt.Errorf("%s: warm-up: %w", t.name, err)
		}
	}
	for rep := range r.cfg.Repeat {
		stats := make([]Stat, len(sessions))
		for i, s := range sessions {
			if s == nil {
				continue
			}
			smp, err := s.measure(ctx, d)
			if ctx.Err() != nil {
				if rep > 0 {
					res.finish()
					return res, ctx.Err()
				}
				return nil, ctx.Err()
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", c.transports[i].name, err)
			}
			stats[i] = smp.stat(c.kind, c.size)
			if p := r.cfg.Progress; p != nil {
				p.Step(c.name, c.transports[i].name, rep+1, r.cfg.Repeat, stats[i])
			}
		}
		res.add(stats)
	}
	var errs []error
	for i, s := range sessions {
		if s != nil {
			if err := s.close(); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", c.transports[i].name, err))
			}
			sessions[i] = nil
		}
	}
	res.finish()
	return res, errors.Join(errs...)
}

// warmup is how long a session runs before its first repeat.
func warmup(d time.Duration) time.Duration {
	return min(max(d/4, 20*time.Millisecond), 200*time.Millisecond)
}

// skipError says a transport cannot run here, and why; the case goes on
// without it.
type skipError struct{ why string }

func (e *skipError) Error() string { return "skipped: " + e.why }
