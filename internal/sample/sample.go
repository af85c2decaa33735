// Package sample describes samples of numbers: the project's one quantile
// function.
//
// Gonum's [gonum.org/v1/gonum/stat.Quantile] offers the empirical
// (Hyndman and Fan's type 1) and the piecewise-linear type 4 estimates;
// the bootstrap intervals and the benchmark quartiles here are reported as
// R's and numpy's defaults compute them, type 7, which it lacks.
package sample

import "math"

// Quantile returns the q-quantile (0 ≤ q ≤ 1) of sorted, by linear
// interpolation between order statistics: Hyndman and Fan's type 7, the
// default of R's quantile and numpy's percentile. It returns NaN when
// sorted is empty. sorted must be in increasing order.
func Quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	h := q * float64(len(sorted)-1)
	lo := int(math.Floor(h))
	if lo >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	return sorted[lo] + (h-float64(lo))*(sorted[lo+1]-sorted[lo])
}
