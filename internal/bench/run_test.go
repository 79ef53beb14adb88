//go:build unix

package bench

// The runs need the unix-socket baselines (unixgram has no Windows
// counterpart): they run on Unix only, as docs/bench.md says.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// testConfig runs every case briefly, with this test binary as the peer.
func testConfig(t *testing.T, mechs ...string) Config {
	t.Setenv("XIPC_ROOT", t.TempDir())
	t.Setenv("PATH", t.TempDir()) // no xipc-natspeer
	// A race-enabled peer would sleep 1s at exit.
	t.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=10"))
	return Config{Mechanisms: mechs, Duration: 60 * time.Millisecond, Repeat: 2, Exe: os.Args[0], Sizes: []int{64}}
}

// TestRun measures every mechanism briefly and checks the shape of the
// results (never their speed): every case with its transports, figures
// present, xipc first, ratios consistent, JSON as documented.
func TestRun(t *testing.T) {
	cfg := testConfig(t)
	cfg.Clients = []int{1, 3}
	var prog countProgress
	cfg.Progress = &prog
	rep, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]string{
		"pipe-rtt-64": {"pipe", "unix", "tcp"}, "pipe-tput-64": {"pipe", "unix", "tcp"},
		"pipe-rtt-64-c3": {"pipe", "unix", "tcp"},
		"shm-rtt-64":     {"ring", "unix"}, "shm-tput-64": {"ring", "memcpy", "unix"},
		"mailslot-rtt-64": {"mailslot", "unixgram"}, "mailslot-tput-64": {"mailslot", "unixgram"},
		"msg-send-64": {"msgq", "pipe", "unix", "tcp", "nats"}, "msg-senddata-64": {"msgq", "pipe", "unix", "tcp", "nats"},
		"msg-post-64": {"msgq", "pipe", "unix", "tcp"},
	}
	got := map[string]Result{}
	for _, r := range rep.Results {
		got[r.Case] = r
	}
	for name, ts := range want {
		r, ok := got[name]
		if !ok {
			t.Errorf("no case %s", name)
			continue
		}
		var names []string
		for _, tr := range r.Transports {
			names = append(names, tr.Name)
		}
		if strings.Join(names, ",") != strings.Join(ts, ",") {
			t.Errorf("%s: transports %v, want %v", name, names, ts)
		}
	}
	if len(rep.Results) != len(want) {
		t.Errorf("%d cases, want %d", len(rep.Results), len(want))
	}
	steps := 0
	for _, r := range rep.Results {
		steps += 2 * len(r.Transports)
		if r.Repeats != 2 || r.XipcNS <= 0 || r.BaselineNS <= 0 || r.Ratio <= 0 || r.MsgsS <= 0 || r.MBs <= 0 {
			t.Errorf("%s: %+v", r.Case, r)
		}
		if r.Xipc != r.Transports[0].Name || r.Baseline != r.Transports[1].Name {
			t.Errorf("%s: xipc %q baseline %q, transports %v", r.Case, r.Xipc, r.Baseline, r.Transports)
		}
		if d := r.Ratio - r.XipcNS/r.BaselineNS; d > 1e-9 || d < -1e-9 {
			t.Errorf("%s: ratio %v, want %v", r.Case, r.Ratio, r.XipcNS/r.BaselineNS)
		}
		if (r.Kind == "rtt") != (r.P50NS > 0 && r.P99NS >= r.P50NS && r.P999NS >= r.P99NS) {
			t.Errorf("%s: percentiles %v %v %v", r.Case, r.P50NS, r.P99NS, r.P999NS)
		}
		for _, tr := range r.Transports {
			if tr.Name == "nats" {
				if tr.Skipped != natsSkip {
					t.Errorf("%s: nats skipped %q, want %q", r.Case, tr.Skipped, natsSkip)
				}
				continue
			}
			if len(tr.RepNS) != 2 || tr.NS <= 0 {
				t.Errorf("%s %s: %+v", r.Case, tr.Name, tr)
			}
		}
	}
	if prog.started != steps || prog.steps != steps || prog.done != 1 {
		t.Errorf("progress: started with %d, %d steps, done %d times; want %d, %d, 1", prog.started, prog.steps, prog.done, steps, steps)
	}

	var out bytes.Buffer
	if err := WriteJSON(&out, rep); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != len(rep.Results) {
		t.Fatalf("%d JSON lines for %d cases", len(lines), len(rep.Results))
	}
	for _, l := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		for _, k := range []string{"case", "xipc_ns", "baseline", "baseline_ns", "ratio", "mb_s", "msgs_s", "spread", "repeats", "transports"} {
			if _, ok := m[k]; !ok {
				t.Errorf("JSON %s has no %q", m["case"], k)
			}
		}
	}
	out.Reset()
	if err := WriteText(&out, rep); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"pipe-rtt-64 ", "skipped: build nats/cmd/xipc-natspeer", "goals", "msgq Send ≤ 1.5× pipe RTT"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("text output lacks %q:\n%s", s, out.String())
		}
	}

	file := filepath.Join(t.TempDir(), "b.png")
	if err := WritePlot(file, rep); err != nil {
		t.Fatal(err)
	}
	checkPNG(t, file)
}

type countProgress struct {
	mu                   sync.Mutex
	started, steps, done int
}

func (p *countProgress) Start(n int) { p.mu.Lock(); p.started = n; p.mu.Unlock() }
func (p *countProgress) Step(string, string, int, int, Stat) {
	p.mu.Lock()
	p.steps++
	p.mu.Unlock()
}
func (p *countProgress) Done() { p.mu.Lock(); p.done++; p.mu.Unlock() }

// TestInterrupt cancels a run in the middle of a case: Run returns at
// once with ErrInterrupted and the repeats measured so far, and leaves no
// peer process behind.
func TestInterrupt(t *testing.T) {
	cfg := testConfig(t, "pipe")
	cfg.Duration, cfg.Repeat = 3*time.Second, 10
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	p := &cancelAfter{n: 4, cancel: cancel} // the first repeat of every transport and one more
	cfg.Progress = p
	start := time.Now()
	rep, err := Run(ctx, cfg)
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("Run: %v, want ErrInterrupted", err)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("Run took %v to stop", d)
	}
	if !rep.Interrupted || len(rep.Results) != 1 || rep.Results[0].Repeats != 1 || rep.Results[0].XipcNS <= 0 {
		t.Errorf("report %+v, want the first case with one repeat", rep)
	}
	if kids := children(t); len(kids) > 0 {
		t.Errorf("processes left behind: %v", kids)
	}
	var out bytes.Buffer
	if err := WriteText(&out, rep); err != nil || !strings.Contains(out.String(), "interrupted") {
		t.Errorf("text: %v\n%s", err, out.String())
	}
}

// cancelAfter cancels the run after n measurements.
type cancelAfter struct {
	mu     sync.Mutex
	n      int
	cancel func()
}

func (c *cancelAfter) Start(int) {}
func (c *cancelAfter) Step(string, string, int, int, Stat) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n--; c.n == 0 {
		c.cancel()
	}
}
func (c *cancelAfter) Done() {}

// children lists the child processes of this one, those of each of its
// threads (Linux; none known elsewhere).
func children(t *testing.T) []string {
	files, err := filepath.Glob("/proc/" + strconv.Itoa(os.Getpid()) + "/task/*/children")
	if err != nil || len(files) == 0 {
		t.Logf("cannot list child processes: %v", err)
		return nil
	}
	var pids []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err == nil { // else the thread has exited
			pids = append(pids, strings.Fields(string(b))...)
		}
	}
	return pids
}

// TestNATSMsgqAbsent: with NATSMsgq and no xipc-natspeer, every msg case
// has a last transport msgq-nats that says it was skipped and why, and the
// other transports are measured; without NATSMsgq there is no such row.
func TestNATSMsgqAbsent(t *testing.T) {
	cfg := testConfig(t, "msg")
	cfg.Repeat = 1
	cfg.Cases = regexp.MustCompile(`send-64$|senddata-64$|post`)
	cfg.NATSMsgq = true
	rep, err := Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Results) != 3 {
		t.Fatalf("%d cases, want 3", len(rep.Results))
	}
	for _, r := range rep.Results {
		last := r.Transports[len(r.Transports)-1]
		if last.Name != "msgq-nats" || last.Skipped != natsSkip {
			t.Errorf("%s: last transport %+v, want msgq-nats skipped %q", r.Case, last, natsSkip)
		}
		if !slices.Contains(r.Warnings, "msgq-nats: skipped: "+natsSkip) {
			t.Errorf("%s: warnings %q", r.Case, r.Warnings)
		}
		if r.XipcNS <= 0 || r.Transports[0].Name != "msgq" {
			t.Errorf("%s: %+v", r.Case, r)
		}
	}

	cfg.NATSMsgq = false
	rep, err = Run(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rep.Results {
		for _, tr := range r.Transports {
			if tr.Name == "msgq-nats" {
				t.Errorf("%s: msgq-nats without NATSMsgq", r.Case)
			}
		}
	}
}

// TestNATSMsgqTooBig: a SendData past the NATS server's max payload is
// skipped with its reason before any peer starts.
func TestNATSMsgqTooBig(t *testing.T) {
	_, err := openNATSMsgq(t.Context(), nil, &benchCase{kind: kindRTT, op: opReply, size: natsMaxData + 1})
	var skip *skipError
	if !errors.As(err, &skip) || !strings.Contains(skip.why, "max payload") {
		t.Fatalf("got %v, want a skip for the max payload", err)
	}
}
