package functions

import (
	"math"
	"slices"
)

// Multi is a test problem with several objectives, all minimized.
type Multi struct {
	// Name is the problem's name as configs spell it.
	Name string
	// Dim is the problem's dimension, or 0 when it is defined in any
	// dimension of at least MinDim.
	Dim, MinDim int
	// Objectives is the number of objectives.
	Objectives int
	// Eval returns the objectives at x.
	Eval func(x []float64) []float64
	// Low and High return the search domain in dimension d.
	Low, High func(d int) []float64
	// Ref is the reference point of the hypervolume that benchmarks
	// report, and MaxHV, when known, the hypervolume of the true front
	// (0 when not).
	Ref   []float64
	MaxHV func(d int) float64
	// Source cites the problem.
	Source string
}

// AcceptsDim reports whether the problem is defined in dimension d.
func (f *Multi) AcceptsDim(d int) bool {
	if f.Dim > 0 {
		return d == f.Dim
	}
	return d >= max(f.MinDim, 1)
}

// DimString describes the dimensions the problem accepts: "2" or "any ≥ 2".
func (f *Multi) DimString() string { return dimString(f.Dim, f.MinDim) }

var multis = []Multi{
	{
		Name: "branin-currin", Dim: 2, Objectives: 2,
		Eval: BraninCurrin, Low: fill(0), High: fill(1),
		Ref:    []float64{18, 6},
		MaxHV:  func(int) float64 { return 59.36011874867746 },
		Source: "Belakaria, S., Deshwal, A. and Doppa, J. R. (2019), Max-value entropy search for multi-objective Bayesian optimization, NeurIPS; Currin, C. et al. (1988), A Bayesian approach to the design and analysis of computer experiments, ORNL-6498; reference point and front as in BoTorch's BraninCurrin",
	},
	{
		Name: "zdt1", MinDim: 2, Objectives: 2,
		Eval: ZDT1, Low: fill(0), High: fill(1),
		Ref:    []float64{11, 11},
		MaxHV:  func(int) float64 { return 120 + 2.0/3 },
		Source: "Zitzler, E., Deb, K. and Thiele, L. (2000), Comparison of multiobjective evolutionary algorithms: empirical results, Evolutionary Computation 8(2), 173-195; reference point as in BoTorch",
	},
}

// LookupMulti returns the multi-objective problem called name.
func LookupMulti(name string) (*Multi, bool) {
	for i := range multis {
		if multis[i].Name == name {
			f := multis[i]
			return &f, true
		}
	}
	return nil, false
}

// MultiNames returns the names of the multi-objective problems.
func MultiNames() []string {
	var out []string
	for _, f := range multis {
		out = append(out, f.Name)
	}
	slices.Sort(out)
	return out
}

// BraninCurrin is (Branin on [0, 1]² rescaled to [−5, 10] × [0, 15],
// Currin's exponential function) on [0, 1]².
func BraninCurrin(x []float64) []float64 {
	checkDim("branin-currin", x, 2)
	b := Branin([]float64{15*x[0] - 5, 15 * x[1]})
	x1, x2 := x[0], x[1]
	c := 1.0
	if x2 > 0 {
		c = 1 - math.Exp(-1/(2*x2))
	}
	c *= (2300*x1*x1*x1 + 1900*x1*x1 + 2092*x1 + 60) / (100*x1*x1*x1 + 500*x1*x1 + 4*x1 + 20)
	return []float64{b, c}
}

// ZDT1 is f₁ = x₁, f₂ = g·(1 − √(x₁/g)) with g = 1 + 9·Σᵢ₌₂ xᵢ/(d − 1),
// on [0, 1]^d; its front is f₂ = 1 − √f₁ (where g = 1).
func ZDT1(x []float64) []float64 {
	g := 0.0
	for _, v := range x[1:] {
		g += v
	}
	g = 1 + 9*g/float64(len(x)-1)
	return []float64{x[0], g * (1 - math.Sqrt(x[0]/g))}
}
