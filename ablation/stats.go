package ablation

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"

	"gonum.org/v1/gonum/stat"
	"gonum.org/v1/gonum/stat/distuv"
)

// Paired is the paired analysis of differences d_i = x_i − y_i, one per
// seed: the mean difference with its 95% t interval, the paired t-test,
// the Wilcoxon signed-rank test and the standardized effect d_z.
type Paired struct {
	N    int     // pairs
	Mean float64 // mean difference
	SD   float64 // standard deviation of the differences (n − 1)
	// CI is the 95% confidence interval of the mean difference,
	// mean ± t(0.975, n−1)·SD/√n.
	CI [2]float64
	// T and PT are the paired t statistic and its two-sided p-value, with
	// n − 1 degrees of freedom.
	T, PT float64
	// V is the Wilcoxon signed-rank statistic (the sum of the ranks of
	// the positive differences, zeros dropped), PW its two-sided p-value
	// and WExact whether that p-value is exact (see WilcoxonSignedRank).
	V, PW  float64
	WExact bool
	// DZ is Cohen's d_z, Mean/SD.
	DZ float64
}

// ErrTooFewPairs is returned when a test needs more pairs than it got.
var ErrTooFewPairs = errors.New("fewer than 2 pairs")

// PairedTest analyses differences d (one per seed). It needs at least 2
// of them; with identical differences (SD 0) the t-test is undefined and
// PT is NaN (or 0 for a nonzero mean with SD 0, which no noise explains).
func PairedTest(d []float64) (Paired, error) {
	n := len(d)
	if n < 2 {
		return Paired{N: n}, ErrTooFewPairs
	}
	mean, sd := stat.MeanStdDev(d, nil)
	p := Paired{N: n, Mean: mean, SD: sd, DZ: mean / sd}
	se := sd / math.Sqrt(float64(n))
	tdist := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}
	h := tdist.Quantile(0.975) * se
	p.CI = [2]float64{mean - h, mean + h}
	p.T = mean / se
	switch {
	case se > 0:
		p.PT = 2 * tdist.Survival(math.Abs(p.T))
	case mean != 0:
		p.PT = 0
	default:
		p.PT = math.NaN()
	}
	p.V, p.PW, p.WExact = WilcoxonSignedRank(d)
	return p, nil
}

// WilcoxonSignedRank is the two-sided Wilcoxon signed-rank test of
// differences d against zero, as R's wilcox.test(paired = TRUE) computes
// it: zeros are dropped, tied absolute values get their mean rank, and V
// is the sum of the ranks of the positive differences. With at most 25
// nonzero differences the p-value is exact: the distribution of V over the
// 2^n equally likely sign patterns (the tables' method), given the ranks
// as they are, tied mean ranks included (the exact conditional test of
// exactRankTests' wilcox.exact and coin's wilcoxsign_test, where R's
// wilcox.test falls back to the normal approximation). Above 25 it is the
// normal approximation with the variance corrected for ties and a
// continuity correction of 1/2. With no nonzero difference the p-value is
// 1.
func WilcoxonSignedRank(d []float64) (v, p float64, exact bool) {
	var nz []float64
	for _, x := range d {
		if x != 0 && !math.IsNaN(x) {
			nz = append(nz, x)
		}
	}
	n := len(nz)
	if n == 0 {
		return 0, 1, true
	}
	ranks, _ := absRanks(nz)
	for i, x := range nz {
		if x > 0 {
			v += ranks[i]
		}
	}
	if n <= 25 {
		return v, wilcoxonExact(ranks, v), true
	}
	return v, wilcoxonNormal(n, v, ranks), false
}

// absRanks ranks |x| from 1, ties getting their mean rank, and reports
// whether there were ties.
func absRanks(x []float64) ([]float64, bool) {
	idx := make([]int, len(x))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return math.Abs(x[idx[a]]) < math.Abs(x[idx[b]]) })
	ranks := make([]float64, len(x))
	ties := false
	for i := 0; i < len(idx); {
		j := i + 1
		for j < len(idx) && math.Abs(x[idx[j]]) == math.Abs(x[idx[i]]) {
			j++
		}
		if j-i > 1 {
			ties = true
		}
		r := float64(i+j+1) / 2 // mean of ranks i+1 … j
		for k := i; k < j; k++ {
			ranks[idx[k]] = r
		}
		i = j
	}
	return ranks, ties
}

// wilcoxonExact is the exact two-sided p-value of V given the ranks of
// the nonzero differences: 2·min(P(V ≤ v), P(V ≥ v)), capped at 1, from
// the count of sign patterns with each sum. Ranks are whole or halves
// (mean ranks of ties), so twice each is an integer and the counts are a
// subset-sum table over the doubled ranks.
func wilcoxonExact(ranks []float64, v float64) float64 {
	twice := make([]int, len(ranks))
	top := 0
	for i, r := range ranks {
		twice[i] = int(math.Round(2 * r))
		top += twice[i]
	}
	count := make([]float64, top+1)
	count[0] = 1
	sum := 0
	for _, r := range twice {
		sum += r
		for s := sum; s >= r; s-- {
			count[s] += count[s-r]
		}
	}
	total := math.Ldexp(1, len(ranks))
	vi := int(math.Round(2 * v))
	var le, ge float64
	for s, c := range count {
		if s <= vi {
			le += c
		}
		if s >= vi {
			ge += c
		}
	}
	return math.Min(1, 2*math.Min(le, ge)/total)
}

// wilcoxonNormal is the normal approximation's two-sided p-value of V:
// mean n(n+1)/4, variance n(n+1)(2n+1)/24 − Σ(t³ − t)/48 over the groups of
// t tied ranks, and a continuity correction of 1/2 towards the mean.
func wilcoxonNormal(n int, v float64, ranks []float64) float64 {
	nf := float64(n)
	mean := nf * (nf + 1) / 4
	variance := nf * (nf + 1) * (2*nf + 1) / 24
	sorted := slices.Sorted(slices.Values(ranks))
	for i := 0; i < len(sorted); {
		j := i + 1
		for j < len(sorted) && sorted[j] == sorted[i] {
			j++
		}
		t := float64(j - i)
		variance -= (t*t*t - t) / 48
		i = j
	}
	if variance <= 0 {
		return 1
	}
	z := v - mean
	z -= math.Copysign(math.Min(0.5, math.Abs(z)), z)
	z /= math.Sqrt(variance)
	return math.Min(1, 2*distuv.UnitNormal.Survival(math.Abs(z)))
}

// Holm adjusts p-values for multiple comparisons by Holm's step-down
// method (Holm 1979): with the m p-values in increasing order,
// p̃_(i) = max over j ≤ i of min(1, (m − j + 1)·p_(j)). It controls the
// family-wise error rate like Bonferroni and rejects at least as much.
// NaN p-values are left NaN and do not count in m.
func Holm(p []float64) []float64 {
	out := make([]float64, len(p))
	var idx []int
	for i, x := range p {
		out[i] = math.NaN()
		if !math.IsNaN(x) {
			idx = append(idx, i)
		}
	}
	sort.SliceStable(idx, func(a, b int) bool { return p[idx[a]] < p[idx[b]] })
	m := len(idx)
	running := 0.0
	for j, i := range idx {
		running = math.Max(running, math.Min(1, float64(m-j)*p[i]))
		out[i] = running
	}
	return out
}

// SeedsNeeded returns the number of pairs a paired t-test at two-sided
// level alpha needs to detect a mean difference of effect with the given
// standard deviation of the differences, with the given power: the least
// n ≥ 2 with (t(1−α/2, n−1) + t(power, n−1))·sd/√n ≤ |effect| (the usual
// t approximation of the noncentral t power). It returns an error for a
// zero effect or a nonpositive or non-finite sd.
func SeedsNeeded(effect, sd, alpha, power float64) (int, error) {
	if effect == 0 || math.IsNaN(effect) || math.IsInf(effect, 0) {
		return 0, fmt.Errorf("the effect to detect must be a nonzero number, not %v", effect)
	}
	if !(sd > 0) || math.IsInf(sd, 0) {
		return 0, fmt.Errorf("the standard deviation of the differences must be positive, not %v", sd)
	}
	for n := 2; n <= 1_000_000; n++ {
		t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}
		if (t.Quantile(1-alpha/2)+t.Quantile(power))*sd/math.Sqrt(float64(n)) <= math.Abs(effect) {
			return n, nil
		}
	}
	return 0, fmt.Errorf("more than a million pairs for an effect of %v with sd %v", effect, sd)
}
