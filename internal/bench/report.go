package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteJSON writes one JSON object per case, one per line (JSON Lines);
// docs/bench.md documents the fields.
func WriteJSON(w io.Writer, rep *Report) error {
	enc := json.NewEncoder(w)
	for i := range rep.Results {
		if err := enc.Encode(&rep.Results[i]); err != nil {
			return err
		}
	}
	return nil
}

// WriteText writes the results as a table, one row per transport of each
// case, followed by the warnings and the check of the performance goals.
func WriteText(w io.Writer, rep *Report) error {
	e := rep.Env
	kernel := ""
	if e.Kernel != "" {
		kernel = ", kernel " + e.Kernel
	}
	fmt.Fprintf(w, "xipc bench: %s/%s, %d CPUs%s, %s, %s\n", e.OS, e.Arch, e.CPUs, kernel, e.GoVersion, e.Date.Format("2006-01-02 15:04 UTC"))
	fmt.Fprintf(w, "%d repeats of %v per transport and case, interleaved; medians over the repeats.\n",
		e.Repeat, (e.Duration / time.Duration(max(e.Repeat, 1))).Round(time.Millisecond))
	fmt.Fprintf(w, "time/op: mean round trip (rtt) or time per message delivered (tput); ratio: xipc time / that transport's.\n\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "case\ttransport\ttime/op\tspread\tratio\tp50\tp99\tp999\tmsgs/s\tMB/s\t")
	for _, r := range rep.Results {
		for i, t := range r.Transports {
			name := r.Case
			if i > 0 {
				name = ""
			}
			if t.Skipped != "" {
				// No tab at the end: the text is no cell and widens no column.
				fmt.Fprintf(tw, "%s\t%s\tskipped: %s\n", name, t.Name, t.Skipped)
				continue
			}
			ratio := ""
			if i > 0 && t.Ratio > 0 {
				ratio = fmt.Sprintf("%.2f", t.Ratio)
			}
			spread := fmt.Sprintf("%.0f%%", 100*t.Spread)
			if t.Spread > SpreadWarning {
				spread += "!"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", name, t.Name, FormatNS(t.NS), spread, ratio,
				dash(t.P50NS), dash(t.P99NS), dash(t.P999NS), formatCount(t.MsgsS), formatMB(t.MBs))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var warned bool
	for _, r := range rep.Results {
		for _, msg := range r.Warnings {
			if !warned {
				fmt.Fprintln(w, "\nwarnings:")
				warned = true
			}
			fmt.Fprintf(w, "  %s: %s\n", r.Case, msg)
		}
	}
	measured := map[string]bool{}
	for _, r := range rep.Results {
		measured[r.Mechanism] = true
	}
	var gs []GoalCheck
	for _, g := range CheckGoals(rep.Results) {
		if measured[g.Mechanism] {
			gs = append(gs, g)
		}
	}
	if len(gs) > 0 {
		fmt.Fprintln(w, "\ngoals (ratios from this run):")
		for _, g := range gs {
			fmt.Fprintf(w, "  %-8s %s: %s\n", g.Verdict, g.Goal, g.Measured)
		}
	}
	if rep.Interrupted {
		fmt.Fprintln(w, "\ninterrupted: the results above are partial")
	}
	return nil
}

func dash(ns float64) string {
	if ns <= 0 {
		return "-"
	}
	return FormatNS(ns)
}

// formatCount writes n with thousands separators.
func formatCount(n float64) string {
	if n <= 0 {
		return "-"
	}
	s := fmt.Sprintf("%.0f", n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func formatMB(mb float64) string {
	switch {
	case mb <= 0:
		return "-"
	case mb < 10:
		return fmt.Sprintf("%.2f", mb)
	case mb < 100:
		return fmt.Sprintf("%.1f", mb)
	}
	return formatCount(mb)
}

// A GoalCheck is one performance goal of the bench issue, checked against
// a run's results.
type GoalCheck struct {
	Mechanism string // whose goal it is
	Goal      string // e.g. "pipe RTT 64 B ≤ 1.15× unix socket"
	Measured  string // the figure, or why there is none
	Verdict   string // "met", "NOT MET" or "n/a"
}

// CheckGoals checks the performance goals (Linux, ratios from one run)
// against results; a goal whose cases did not run is "n/a".
func CheckGoals(results []Result) []GoalCheck {
	find := func(caseName, transport string) *TransportResult {
		for i := range results {
			if results[i].Case != caseName {
				continue
			}
			for j := range results[i].Transports {
				t := &results[i].Transports[j]
				if t.Name == transport && t.Skipped == "" && t.NS > 0 {
					return t
				}
			}
		}
		return nil
	}
	var out []GoalCheck
	check := func(goal, caseName, a, b string, f func(a, b *TransportResult) (float64, string, bool)) {
		mech, _, _ := strings.Cut(caseName, "-")
		ta, tb := find(caseName, a), find(caseName, b)
		if ta == nil || (b != "" && tb == nil) {
			out = append(out, GoalCheck{mech, goal, "not measured (" + caseName + ")", "n/a"})
			return
		}
		_, s, ok := f(ta, tb)
		v := "NOT MET"
		if ok {
			v = "met"
		}
		out = append(out, GoalCheck{mech, goal, s, v})
	}
	ratioAtMost := func(limit float64) func(a, b *TransportResult) (float64, string, bool) {
		return func(a, b *TransportResult) (float64, string, bool) {
			r := a.NS / b.NS
			return r, fmt.Sprintf("%.2f× (%s / %s)", r, FormatNS(a.NS), FormatNS(b.NS)), r <= limit
		}
	}
	check("pipe RTT 64 B ≤ 1.15× unix socket", "pipe-rtt-64", "pipe", "unix", ratioAtMost(1.15))
	check("pipe 64 KiB throughput ≥ 0.9× unix socket", "pipe-tput-64k", "pipe", "unix", func(a, b *TransportResult) (float64, string, bool) {
		f := a.MBs / b.MBs
		return f, fmt.Sprintf("%.2f× (%s / %s MB/s)", f, formatMB(a.MBs), formatMB(b.MBs)), f >= 0.9
	})
	check("shm ring one-way p50 < 1 µs (half the 64 B round trip p50, spinning)", "shm-rtt-64", "ring", "", func(a, _ *TransportResult) (float64, string, bool) {
		ow := a.P50NS / 2
		return ow, FormatNS(ow), ow < 1000
	})
	check("shm ring 64 KiB throughput ≥ 50% of memcpy", "shm-tput-64k", "ring", "memcpy", func(a, b *TransportResult) (float64, string, bool) {
		f := a.MBs / b.MBs
		return f, fmt.Sprintf("%.0f%% (%s / %s MB/s)", 100*f, formatMB(a.MBs), formatMB(b.MBs)), f >= 0.5
	})
	check("mailslot RTT 64 B ≤ 1.2× unixgram", "mailslot-rtt-64", "mailslot", "unixgram", ratioAtMost(1.2))
	check("msgq Send ≤ 1.5× pipe RTT", "msg-send-64", "msgq", "pipe", ratioAtMost(1.5))
	check("msgq Send ≥ 3× faster than NATS request-reply", "msg-send-64", "msgq", "nats", func(a, b *TransportResult) (float64, string, bool) {
		f := b.NS / a.NS
		return f, fmt.Sprintf("%.1f× faster (%s / %s)", f, FormatNS(a.NS), FormatNS(b.NS)), f >= 3
	})
	return out
}
