package bench

import (
	"fmt"
	"math"
	"os"
	"strings"
)

// Result is the outcome of one case; its JSON form is documented in
// docs/bench.md.
type Result struct {
	Case      string `json:"case"`      // e.g. pipe-rtt-64
	Mechanism string `json:"mechanism"` // pipe, shm, mailslot, msg
	Kind      string `json:"kind"`      // rtt or tput
	Size      int    `json:"size"`      // message size, bytes
	Clients   int    `json:"clients"`   // concurrent clients (rtt)
	// Xipc is the name of the xipc transport, the first of Transports.
	Xipc string `json:"xipc"`
	// XipcNS is the median over the repeats of xipc's time per operation:
	// the mean round trip (rtt) or the time per message delivered (tput).
	XipcNS float64 `json:"xipc_ns"`
	// Baseline is the transport the ratio is against (the second of
	// Transports), BaselineNS its median time per operation.
	Baseline   string  `json:"baseline"`
	BaselineNS float64 `json:"baseline_ns"`
	// Ratio is XipcNS / BaselineNS: below 1, xipc is faster.
	Ratio float64 `json:"ratio"`
	// xipc's round-trip percentiles (medians over the repeats; rtt only).
	P50NS  float64 `json:"p50_ns,omitempty"`
	P99NS  float64 `json:"p99_ns,omitempty"`
	P999NS float64 `json:"p999_ns,omitempty"`
	// xipc's throughput: payload megabytes (10^6 bytes) and messages
	// (round trips for rtt) per second, medians over the repeats.
	MBs   float64 `json:"mb_s"`
	MsgsS float64 `json:"msgs_s"`
	// Spread is (max-min)/median of xipc's repeats; BaselineSpread the
	// baseline's.
	Spread         float64 `json:"spread"`
	BaselineSpread float64 `json:"baseline_spread"`
	// Repeats is the number of repeats measured (fewer than asked when
	// the run was interrupted).
	Repeats int `json:"repeats"`
	// Transports holds every transport of the case, xipc's first.
	Transports []TransportResult `json:"transports"`
	// Warnings: high spreads, skipped baselines.
	Warnings []string `json:"warnings,omitempty"`
}

// TransportResult is one transport's figures in a case: medians over the
// repeats.
type TransportResult struct {
	Name   string  `json:"name"`
	NS     float64 `json:"ns"`     // time per operation
	Spread float64 `json:"spread"` // (max-min)/median of the repeats' NS
	// Ratio is the xipc transport's NS divided by this one's (1 for xipc).
	Ratio  float64   `json:"ratio"`
	P50NS  float64   `json:"p50_ns,omitempty"`
	P99NS  float64   `json:"p99_ns,omitempty"`
	P999NS float64   `json:"p999_ns,omitempty"`
	MBs    float64   `json:"mb_s"`
	MsgsS  float64   `json:"msgs_s"`
	RepNS  []float64 `json:"repeats_ns"` // each repeat's NS, in order
	// Skipped says why the transport did not run (e.g. no NATS peer).
	Skipped string `json:"skipped,omitempty"`

	stats  []Stat
	Sketch []float64 `json:"-"` // quantiles of the round trips, pooled over repeats, ns
}

func newResult(c *benchCase) *Result {
	r := &Result{Case: c.name, Mechanism: c.mechanism, Kind: string(c.kind), Size: c.size, Clients: c.clients}
	for _, t := range c.transports {
		r.Transports = append(r.Transports, TransportResult{Name: t.name})
	}
	r.Xipc = r.Transports[0].Name
	if len(r.Transports) > 1 {
		r.Baseline = r.Transports[1].Name
	}
	return r
}

// add records one repeat: a Stat per transport (zero for skipped ones).
func (r *Result) add(stats []Stat) {
	for i, s := range stats {
		if r.Transports[i].Skipped == "" {
			r.Transports[i].stats = append(r.Transports[i].stats, s)
		}
	}
	r.Repeats++
}

// finish computes the medians, spreads, ratios and warnings.
func (r *Result) finish() {
	for i := range r.Transports {
		t := &r.Transports[i]
		if len(t.stats) == 0 {
			continue
		}
		var ns, p50, p99, p999, mbs, msgs []float64
		for _, s := range t.stats {
			ns = append(ns, s.NS)
			p50, p99, p999 = append(p50, s.P50), append(p99, s.P99), append(p999, s.P999)
			mbs, msgs = append(mbs, s.MBs), append(msgs, s.MsgsS)
			t.Sketch = append(t.Sketch, s.sketch...)
		}
		t.RepNS = ns
		t.NS, t.Spread = Median(ns), finite(Spread(ns))
		t.P50NS, t.P99NS, t.P999NS = Median(p50), Median(p99), Median(p999)
		t.MBs, t.MsgsS = Median(mbs), Median(msgs)
		if t.Spread > SpreadWarning {
			r.Warnings = append(r.Warnings, fmt.Sprintf("%s: spread %.0f%% > %.0f%%: the machine was noisy; repeat the run", t.Name, 100*t.Spread, 100*SpreadWarning))
		}
	}
	x := &r.Transports[0]
	for i := range r.Transports {
		t := &r.Transports[i]
		if t.NS > 0 && x.NS > 0 {
			t.Ratio = x.NS / t.NS
		}
		if t.Skipped != "" {
			r.Warnings = append(r.Warnings, fmt.Sprintf("%s: skipped: %s", t.Name, t.Skipped))
		}
	}
	r.XipcNS, r.Spread = x.NS, x.Spread
	r.P50NS, r.P99NS, r.P999NS = x.P50NS, x.P99NS, x.P999NS
	r.MBs, r.MsgsS = x.MBs, x.MsgsS
	if len(r.Transports) > 1 {
		b := &r.Transports[1]
		r.BaselineNS, r.BaselineSpread, r.Ratio = b.NS, b.Spread, b.Ratio
	}
	r.sanitize()
}

// sanitize replaces NaNs (no repeats) with 0: JSON has no NaN.
func (r *Result) sanitize() {
	for _, p := range []*float64{&r.XipcNS, &r.BaselineNS, &r.Ratio, &r.P50NS, &r.P99NS, &r.P999NS, &r.MBs, &r.MsgsS, &r.Spread, &r.BaselineSpread} {
		*p = finite(*p)
	}
	for i := range r.Transports {
		t := &r.Transports[i]
		for _, p := range []*float64{&t.NS, &t.Spread, &t.Ratio, &t.P50NS, &t.P99NS, &t.P999NS, &t.MBs, &t.MsgsS} {
			*p = finite(*p)
		}
		if t.RepNS == nil {
			t.RepNS = []float64{}
		}
	}
}

func finite(x float64) float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return 0
	}
	return x
}

// kernelRelease is `uname -r`, read from /proc where there is one.
func kernelRelease() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
