package optimize

import (
	"math"
	"math/rand/v2"
	"slices"
)

// Dominates reports whether a dominates b when every objective is
// minimized: no worse in any, better in at least one.
func Dominates(a, b []float64) bool {
	better := false
	for i := range a {
		if a[i] > b[i] {
			return false
		}
		if a[i] < b[i] {
			better = true
		}
	}
	return better
}

// ParetoFront returns the indices of the points no other point dominates
// (every objective minimized), in input order. Points with a NaN are left
// out; of identical points, the first is kept.
func ParetoFront(points [][]float64) []int {
	var front []int
outer:
	for i, p := range points {
		if slices.ContainsFunc(p, math.IsNaN) {
			continue
		}
		for j, q := range points {
			if j == i || slices.ContainsFunc(q, math.IsNaN) {
				continue
			}
			if Dominates(q, p) || (j < i && slices.Equal(q, p)) {
				continue outer
			}
		}
		front = append(front, i)
	}
	return front
}

// Hypervolume returns the volume of the region that the points dominate
// and that dominates ref (every objective minimized): exact for two
// objectives by a sweep; for more, by the inclusion–exclusion-free
// slicing of While et al. (HSO), exact and fine for the fronts of
// hyperparameter studies (tens of points).
func Hypervolume(points [][]float64, ref []float64) float64 {
	var in [][]float64
	for _, p := range points {
		ok := !slices.ContainsFunc(p, math.IsNaN)
		for i := range p {
			if ok && p[i] >= ref[i] {
				ok = false
			}
		}
		if ok {
			in = append(in, p)
		}
	}
	return hso(in, ref)
}

// hso slices along the last objective: sort by it, and sum the slabs'
// thickness times the hypervolume of the points below each slab in the
// remaining objectives.
func hso(points [][]float64, ref []float64) float64 {
	if len(points) == 0 {
		return 0
	}
	d := len(ref)
	if d == 1 {
		lo := ref[0]
		for _, p := range points {
			lo = min(lo, p[0])
		}
		return ref[0] - lo
	}
	sorted := slices.Clone(points)
	slices.SortFunc(sorted, func(a, b []float64) int {
		switch {
		case a[d-1] < b[d-1]:
			return -1
		case a[d-1] > b[d-1]:
			return 1
		}
		return 0
	})
	total := 0.0
	var below [][]float64
	for i, p := range sorted {
		below = append(below, p[:d-1])
		next := ref[d-1]
		if i+1 < len(sorted) {
			next = sorted[i+1][d-1]
		}
		if next > p[d-1] {
			total += (next - p[d-1]) * hso(nonDominated(below), ref[:d-1])
		}
	}
	return total
}

func nonDominated(points [][]float64) [][]float64 {
	idx := ParetoFront(points)
	out := make([][]float64, len(idx))
	for i, j := range idx {
		out[i] = points[j]
	}
	return out
}

// parEGOWeights returns the j-th proposal's weights, uniform on the
// simplex (Knowles 2006 draws from a fixed lattice of them; a uniform draw
// per proposal serves the same purpose without a lattice size).
func parEGOWeights(seed uint64, j, m int) []float64 {
	rnd := rand.New(rand.NewPCG(mix(seed^0x9a8e60), mix(uint64(j))))
	w := make([]float64, m)
	sum := 0.0
	for i := range w {
		w[i] = rnd.ExpFloat64()
		sum += w[i]
	}
	for i := range w {
		w[i] /= sum
	}
	return w
}

// scalarize is ParEGO's augmented Chebyshev scalarization (Knowles 2006,
// "ParEGO: a hybrid algorithm with on-line landscape approximation for
// expensive multiobjective optimization problems", IEEE TEVC 10(1)):
// max_i wᵢ·fᵢ + ρ·Σ wᵢ·fᵢ with ρ = 0.05, of the objectives normalized
// to [0, 1] by the range observed (lo, hi).
func scalarize(v, w, lo, hi []float64) float64 {
	const rho = 0.05
	mx, sum := math.Inf(-1), 0.0
	for i := range v {
		f := 0.0
		if hi[i] > lo[i] {
			f = (v[i] - lo[i]) / (hi[i] - lo[i])
		}
		mx = max(mx, w[i]*f)
		sum += w[i] * f
	}
	return mx + rho*sum
}
