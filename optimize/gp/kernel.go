package gp

import "math"

const sqrt5 = 2.23606797749979

// matern52 returns k/σ² = (1 + √5 r + 5r²/3) e^{−√5 r} and the factor
// g = (5/3)(1 + √5 r) e^{−√5 r}, for which ∂(k/σ²)/∂(r²) = −g/2, given
// r² = Σ dᵢ²/ℓᵢ².
func matern52(r2 float64) (k, g float64) {
	r := math.Sqrt(r2)
	e := math.Exp(-sqrt5 * r)
	return (1 + sqrt5*r + 5*r2/3) * e, 5.0 / 3 * (1 + sqrt5*r) * e
}

// sqdist returns the squared scaled distance between x and y: Σ over
// continuous dimensions of ((xᵢ−yᵢ)/ℓᵢ)², plus 1/ℓᵢ² for each categorical
// dimension where they differ. inv2 holds 1/ℓᵢ².
func sqdist(x, y, inv2 []float64, cat []bool) float64 {
	s := 0.0
	for i := range x {
		if cat != nil && cat[i] {
			if x[i] != y[i] {
				s += inv2[i]
			}
			continue
		}
		d := x[i] - y[i]
		s += d * d * inv2[i]
	}
	return s
}

// diff2 is the per-dimension squared difference that sqdist scales:
// (x−y)² for continuous dimensions, 0 or 1 for categorical ones.
func diff2(x, y float64, cat bool) float64 {
	if cat {
		if x != y {
			return 1
		}
		return 0
	}
	d := x - y
	return d * d
}
