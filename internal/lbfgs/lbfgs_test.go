package lbfgs_test

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/optimize"

	"github.com/olc-toolkit/olc/internal/lbfgs"
)

// rosenbrock is the 2-d Rosenbrock function, minimum 0 at (1, 1).
func rosenbrock(x, g []float64) float64 {
	a, b := 1-x[0], x[1]-x[0]*x[0]
	g[0] = -2*a - 400*x[0]*b
	g[1] = 200 * b
	return a*a + 100*b*b
}

func TestMinimizeRosenbrock(t *testing.T) {
	calls := 0
	f := func(x, g []float64) float64 { calls++; return rosenbrock(x, g) }
	res, err := lbfgs.Minimize(f, []float64{-1.2, 1}, &optimize.Settings{GradientThreshold: 1e-10})
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(res.X[0]-1) > 1e-6 || math.Abs(res.X[1]-1) > 1e-6 {
		t.Errorf("minimum at %v, want (1, 1)", res.X)
	}
	// Gonum asks for the value and the gradient separately; each point
	// must be evaluated once.
	if calls > max(res.Stats.FuncEvaluations, res.Stats.GradEvaluations) {
		t.Errorf("%d evaluations for %d function and %d gradient requests", calls, res.Stats.FuncEvaluations, res.Stats.GradEvaluations)
	}
}

func TestProblemSharesOneEvaluation(t *testing.T) {
	calls := 0
	p := lbfgs.Problem(func(x, g []float64) float64 {
		calls++
		for i := range g {
			if g[i] != 0 {
				t.Errorf("gradient not zeroed before the call: %v", g)
			}
			g[i] = 2 * x[i]
		}
		return x[0]*x[0] + x[1]*x[1]
	})
	x := []float64{3, 4}
	g := make([]float64, 2)
	if f := p.Func(x); f != 25 {
		t.Errorf("f = %v, want 25", f)
	}
	p.Grad(g, x)
	if g[0] != 6 || g[1] != 8 {
		t.Errorf("grad = %v, want [6 8]", g)
	}
	if calls != 1 {
		t.Errorf("%d evaluations at one point, want 1", calls)
	}
	x[0] = 1 // a new point, in the same slice
	p.Grad(g, x)
	if calls != 2 || g[0] != 2 {
		t.Errorf("after moving: %d evaluations, grad %v", calls, g)
	}
}
