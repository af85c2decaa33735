// Package lbfgs minimizes smooth functions with gonum's L-BFGS, evaluating
// each point once: the project's one wrapper of [optimize.Minimize].
//
// Gonum's [optimize.Problem] asks for the value and the gradient through
// two functions, and its L-BFGS calls both at the same point; objectives
// that compute the two together (a log marginal likelihood, a fit's loss,
// an acquisition function) would run twice. [Minimize] takes one function
// that returns the value and fills the gradient, and remembers the last
// point.
package lbfgs

import (
	"slices"

	"gonum.org/v1/gonum/optimize"
)

// A Func returns the objective's value at x and writes its gradient into
// grad (len(grad) == len(x), zeroed before the call). It must not keep x
// or grad.
type Func func(x, grad []float64) float64

// Problem returns the gonum problem of f: Func and Grad share one
// evaluation per point.
func Problem(f Func) optimize.Problem {
	var lastX, lastG []float64
	var lastF float64
	eval := func(x []float64) {
		if lastX != nil && slices.Equal(x, lastX) {
			return
		}
		if lastG == nil {
			lastG = make([]float64, len(x))
		}
		clear(lastG)
		lastF = f(x, lastG)
		lastX = append(lastX[:0], x...)
	}
	return optimize.Problem{
		Func: func(x []float64) float64 { eval(x); return lastF },
		Grad: func(grad, x []float64) { eval(x); copy(grad, lastG) },
	}
}

// Minimize runs L-BFGS on f from x0 with the given settings (gonum's
// defaults when nil) and returns gonum's result and error.
func Minimize(f Func, x0 []float64, settings *optimize.Settings) (*optimize.Result, error) {
	return optimize.Minimize(Problem(f), x0, settings, &optimize.LBFGS{})
}
