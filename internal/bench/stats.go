package bench

import (
	"math"
	"slices"
)

// Median returns the median of xs (the mean of the two middle values for
// an even count), or NaN for none. xs is not modified.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Spread returns (max-min)/median of xs: how far apart the repeats of one
// measurement are, relative to their middle. It is 0 for fewer than two
// values, and NaN when the median is 0 or NaN.
func Spread(xs []float64) float64 {
	if len(xs) < 2 {
		return 0
	}
	m := Median(xs)
	if m == 0 || math.IsNaN(m) {
		return math.NaN()
	}
	return (slices.Max(xs) - slices.Min(xs)) / m
}

// Percentile returns the q-quantile (0 ≤ q ≤ 1) of sorted, a slice in
// ascending order, by the nearest-rank method: the smallest value that at
// least q of the values are less than or equal to. NaN for none.
func Percentile(sorted []float64, q float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	rank := int(math.Ceil(q * float64(n)))
	return sorted[min(max(rank, 1), n)-1]
}

// quantiles returns k values that sketch the distribution of sorted: the
// (i+0.5)/k quantiles, for plotting. All of sorted when it has at most k.
func quantiles(sorted []float64, k int) []float64 {
	if len(sorted) <= k {
		return slices.Clone(sorted)
	}
	out := make([]float64, k)
	for i := range out {
		out[i] = Percentile(sorted, (float64(i)+0.5)/float64(k))
	}
	return out
}
