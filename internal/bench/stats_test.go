package bench

import (
	"math"
	"slices"
	"testing"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{[]float64{5}, 5},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{10, 10, 1000, 10, 10}, 10}, // an outlier does not move it
		{[]float64{-1, 1}, 0},
	} {
		in := slices.Clone(tc.in)
		if got := Median(in); got != tc.want {
			t.Errorf("Median(%v) = %v, want %v", tc.in, got, tc.want)
		}
		if !slices.Equal(in, tc.in) {
			t.Errorf("Median changed its input to %v", in)
		}
	}
	if got := Median(nil); !math.IsNaN(got) {
		t.Errorf("Median(nil) = %v, want NaN", got)
	}
}

func TestSpread(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{7}, 0},
		{[]float64{100, 100, 100}, 0},
		{[]float64{90, 100, 110}, 0.2},
		{[]float64{100, 150, 100, 100}, 0.5},
	} {
		if got := Spread(tc.in); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("Spread(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
	if got := Spread([]float64{-1, 0, 1}); !math.IsNaN(got) {
		t.Errorf("Spread with a zero median = %v, want NaN", got)
	}
}

func TestSpreadWarning(t *testing.T) {
	r := newResult(&benchCase{name: "x-rtt-64", transports: []transport{{name: "a"}, {name: "b"}}})
	for _, ns := range [][2]float64{{100, 100}, {130, 101}, {100, 99}} {
		r.add([]Stat{{NS: ns[0]}, {NS: ns[1]}})
	}
	r.finish()
	if r.XipcNS != 100 || r.BaselineNS != 100 || r.Ratio != 1 || r.Repeats != 3 {
		t.Errorf("medians %v / %v, ratio %v, repeats %d; want 100 / 100, 1, 3", r.XipcNS, r.BaselineNS, r.Ratio, r.Repeats)
	}
	if math.Abs(r.Spread-0.3) > 1e-9 || math.Abs(r.BaselineSpread-0.02) > 1e-9 {
		t.Errorf("spreads %v, %v; want 0.3, 0.02", r.Spread, r.BaselineSpread)
	}
	if len(r.Warnings) != 1 {
		t.Errorf("warnings %q, want one, for a's 30%% spread", r.Warnings)
	}
}

func TestPercentile(t *testing.T) {
	var xs []float64
	for i := 1; i <= 1000; i++ {
		xs = append(xs, float64(i))
	}
	for _, tc := range []struct{ q, want float64 }{
		{0, 1}, {0.001, 1}, {0.5, 500}, {0.99, 990}, {0.999, 999}, {1, 1000},
	} {
		if got := Percentile(xs, tc.q); got != tc.want {
			t.Errorf("Percentile(1..1000, %v) = %v, want %v", tc.q, got, tc.want)
		}
	}
	if got := Percentile([]float64{42}, 0.999); got != 42 {
		t.Errorf("Percentile of one value = %v", got)
	}
	if got := Percentile(nil, 0.5); !math.IsNaN(got) {
		t.Errorf("Percentile(nil) = %v, want NaN", got)
	}
	// p999 of 10 values is the largest: a rank is never rounded down.
	if got := Percentile([]float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.999); got != 10 {
		t.Errorf("p999 of 10 values = %v, want 10", got)
	}
}

func TestQuantiles(t *testing.T) {
	var xs []float64
	for i := range 10000 {
		xs = append(xs, float64(i))
	}
	q := quantiles(xs, 100)
	if len(q) != 100 || !slices.IsSorted(q) || q[0] > 100 || q[99] < 9900 {
		t.Errorf("quantiles: %d values from %v to %v", len(q), q[0], q[len(q)-1])
	}
	if got := quantiles(xs[:5], 100); len(got) != 5 {
		t.Errorf("quantiles of 5 values: %d values, want the 5", len(got))
	}
}

func TestReservoir(t *testing.T) {
	r := newReservoir(100)
	for i := range 100000 {
		r.add(float64(i))
	}
	if len(r.vals) != 100 {
		t.Fatalf("kept %d values, want 100", len(r.vals))
	}
	// A uniform sample of 0..99999 has its median near 50000; one that
	// kept only the first or the last values would not.
	if m := Median(r.vals); m < 25000 || m > 75000 {
		t.Errorf("median of the sample %v: not uniform", m)
	}
}

func TestSampleStat(t *testing.T) {
	s := sample{ops: 4, elapsed: 1000, latSum: 400, lat: []float64{50, 100, 150, 100}}
	st := s.stat(kindRTT, 1000)
	if st.NS != 100 || st.P50 != 100 || st.P99 != 150 || st.MsgsS != 4e6 || st.MBs != 4e3 {
		t.Errorf("rtt stat %+v", st)
	}
	st = sample{ops: 10, elapsed: 1000}.stat(kindTput, 100)
	if st.NS != 100 || st.P50 != 0 || st.MsgsS != 1e7 || st.MBs != 1e3 {
		t.Errorf("tput stat %+v", st)
	}
	if st := (sample{}).stat(kindRTT, 1); st.NS != 0 {
		t.Errorf("empty sample: %+v", st)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int{
		"64": 64, "1k": 1024, "64K": 64 << 10, "64kib": 64 << 10, "4m": 4 << 20, "4MiB": 4 << 20, "1mb": 1 << 20,
	} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "k", "12q", "1.5k", "65m", "99999999999"} {
		if n, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", in, n)
		}
	}
	for n, want := range map[int]string{64: "64", 1000: "1000", 1024: "1k", 65536: "64k", 1536: "1536", 4 << 20: "4m"} {
		if got := SizeName(n); got != want {
			t.Errorf("SizeName(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestFormatNS(t *testing.T) {
	for ns, want := range map[float64]string{0: "-", 512: "512ns", 1234: "1.23µs", 31234: "31.2µs", 1.25e6: "1.25ms", 2.5e9: "2.50s"} {
		if got := FormatNS(ns); got != want {
			t.Errorf("FormatNS(%v) = %q, want %q", ns, got, want)
		}
	}
}
