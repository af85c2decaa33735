package scaling

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// A Law is a parametric scaling law, fitted in log space.
//
// The internal parameter vector θ is what the optimizer moves: positive
// parameters appear as their logarithms. Natural maps θ to the parameters
// as reported (in the order of Params) and Internal maps them back.
type Law interface {
	// Name is the law's name on the command line ("chinchilla").
	Name() string
	// Formula is the law written out, for reports.
	Formula() string
	// Vars names the law's input variables, in the order LogPredict takes
	// them ("N", "D", "x", "c").
	Vars() []string
	// Params names the reported parameters.
	Params() []string
	// LogPredict returns log L(x; θ) given logx, the logarithms of the
	// variables (every law is a function of log x, and the fit evaluates
	// it many times per point). When grad is not nil it receives
	// ∂ log L/∂θ, and must have len(θ) elements.
	LogPredict(theta, logx, grad []float64) float64
	// Natural returns the reported parameters for θ.
	Natural(theta []float64) []float64
	// Internal returns θ for reported parameters.
	Internal(params []float64) []float64
	// Starts returns the default grid of initial θ for the multi-start fit.
	Starts() [][]float64
}

// Allocator is implemented by laws of N and D that have a closed-form
// compute-optimal allocation under the budget C = 6·N·D.
type Allocator interface {
	// Allocation returns the exponents a and b and the coefficient G with
	// N_opt(C) = G·(C/6)^a and D_opt(C) = G⁻¹·(C/6)^b, for reported
	// parameters p.
	Allocation(p []float64) (a, b, g float64)
}

// laws lists every law by name.
var laws = map[string]func() Law{
	"chinchilla": func() Law { return Chinchilla{} },
	"kaplan":     func() Law { return Kaplan{} },
	"kaplan-n":   func() Law { return KaplanN{} },
	"kaplan-d":   func() Law { return KaplanD{} },
	"power":      func() Law { return Power{} },
	"power2":     func() Law { return Power2{} },
	"context":    func() Law { return Context{} },
}

// LawNames returns the names LawByName accepts, sorted.
func LawNames() []string {
	names := make([]string, 0, len(laws))
	for n := range laws {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// LawByName returns the law called name.
func LawByName(name string) (Law, error) {
	f, ok := laws[strings.ToLower(name)]
	if !ok {
		return nil, fmt.Errorf("unknown law %q; choose one of %s", name, strings.Join(LawNames(), ", "))
	}
	return f(), nil
}

// logSumExp2 returns log(exp(u)+exp(v)) and the weights exp(u)/…, exp(v)/….
func logSumExp2(u, v float64) (s, wu, wv float64) {
	m := math.Max(u, v)
	if math.IsInf(m, 0) {
		if math.IsInf(m, -1) {
			return m, 0.5, 0.5
		}
		if u > v {
			return m, 1, 0
		}
		return m, 0, 1
	}
	eu, ev := math.Exp(u-m), math.Exp(v-m)
	t := eu + ev
	return m + math.Log(t), eu / t, ev / t
}

// logSumExp3 returns log(Σ exp(t_i)) of three terms and their softmax
// weights.
func logSumExp3(t0, t1, t2 float64) (s float64, w [3]float64) {
	m := math.Max(t0, math.Max(t1, t2))
	if math.IsInf(m, 0) {
		return m, [3]float64{1.0 / 3, 1.0 / 3, 1.0 / 3}
	}
	e0, e1, e2 := math.Exp(t0-m), math.Exp(t1-m), math.Exp(t2-m)
	t := e0 + e1 + e2
	return m + math.Log(t), [3]float64{e0 / t, e1 / t, e2 / t}
}

// grid returns the Cartesian product of the given axes.
func grid(axes ...[]float64) [][]float64 {
	out := [][]float64{{}}
	for _, axis := range axes {
		next := make([][]float64, 0, len(out)*len(axis))
		for _, p := range out {
			for _, v := range axis {
				q := append(append(make([]float64, 0, len(p)+1), p...), v)
				next = append(next, q)
			}
		}
		out = next
	}
	return out
}

// steps returns lo, lo+step, … up to hi.
func steps(lo, hi, step float64) []float64 {
	var out []float64
	for i := 0; ; i++ {
		v := lo + float64(i)*step
		if v > hi+1e-9*step {
			return out
		}
		out = append(out, v)
	}
}

// Predict returns the law's loss at x (the variables in the order of
// law.Vars()) for reported parameters params.
func Predict(law Law, params, x []float64) float64 {
	lx := make([]float64, len(x))
	for i, v := range x {
		lx[i] = math.Log(v)
	}
	return math.Exp(law.LogPredict(law.Internal(params), lx, nil))
}
