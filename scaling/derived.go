package scaling

import "math"

// derived holds the quantities computed from one parameter vector.
type derived struct {
	a, b, g float64
	n, d    []float64 // optimal N and D per budget
	loss    []float64 // loss at the optimum per budget, on the metric's scale
}

// derive returns the compute-optimal quantities of reported parameters p,
// or false when the law has no allocation.
func derive(law Law, p []float64, budgets []float64, t Transform) (derived, bool) {
	al, ok := law.(Allocator)
	if !ok {
		return derived{}, false
	}
	var out derived
	out.a, out.b, out.g = al.Allocation(p)
	th := law.Internal(p)
	for _, c := range budgets {
		n := out.g * math.Pow(c/FLOPsPerParamToken, out.a)
		d := math.Pow(c/FLOPsPerParamToken, out.b) / out.g
		out.n = append(out.n, n)
		out.d = append(out.d, d)
		out.loss = append(out.loss, t.Back(math.Exp(law.LogPredict(th, []float64{math.Log(n), math.Log(d)}, nil))))
	}
	return out, true
}

// OptimalN returns the N that minimizes the law with reported parameters p
// under the budget C = 6·N·D, by a one-dimensional search in log N
// (golden-section, to relative precision 1e-12). It is the independent
// reference for the closed forms of Allocator, and works for any law of N
// and D.
func OptimalN(law Law, p []float64, c float64) float64 {
	th := law.Internal(p)
	lc6 := math.Log(c / FLOPsPerParamToken)
	f := func(ln float64) float64 {
		return law.LogPredict(th, []float64{ln, lc6 - ln}, nil)
	}
	lo, hi := 0.0, lc6
	const phi = 0.6180339887498949
	x1, x2 := hi-phi*(hi-lo), lo+phi*(hi-lo)
	f1, f2 := f(x1), f(x2)
	for hi-lo > 1e-12*math.Max(1, math.Abs(hi)) {
		if f1 < f2 {
			hi, x2, f2 = x2, x1, f1
			x1 = hi - phi*(hi-lo)
			f1 = f(x1)
		} else {
			lo, x1, f1 = x1, x2, f2
			x2 = lo + phi*(hi-lo)
			f2 = f(x2)
		}
	}
	return math.Exp((lo + hi) / 2)
}
