package functions_test

import (
	"math"
	"testing"

	"github.com/olc-toolkit/olc/optimize/functions"
)

// TestKnownOptima checks every function's value at its published minimizers
// against its published minimum, and that no point of a small neighbourhood
// of a minimizer is lower (so the minimizer is at least a local minimum).
func TestKnownOptima(t *testing.T) {
	for _, name := range functions.Names() {
		f, _ := functions.Lookup(name)
		dims := []int{f.Dim}
		if f.Dim == 0 {
			dims = []int{max(f.MinDim, 1), 5}
		}
		for _, d := range dims {
			want := f.Min(d)
			// The published minimizers of the Hartmann functions carry six
			// to eight digits, which bounds how close their value comes.
			tol := 1e-12 * max(1, math.Abs(want))
			if name == "hartmann3" || name == "hartmann6" {
				tol = 1e-5
			}
			for _, x := range f.Argmin(d) {
				if got := f.Eval(x); math.Abs(got-want) > tol {
					t.Errorf("%s(%v) = %.15g, want %.15g", name, x, got, want)
				}
				for i := range x {
					for _, h := range []float64{-1e-3, 1e-3} {
						y := append([]float64(nil), x...)
						y[i] += h
						if f.Eval(y) < f.Eval(x)-1e-12 {
							t.Errorf("%s: moving coordinate %d of the minimizer by %g lowers the value", name, i, h)
						}
					}
				}
				lo, hi := f.Low(d), f.High(d)
				for i := range x {
					if x[i] < lo[i] || x[i] > hi[i] {
						t.Errorf("%s: minimizer %v outside the domain", name, x)
					}
				}
			}
		}
	}
}

// TestValues compares values away from the optimum with values worked out
// by hand from the definitions in the cited sources.
func TestValues(t *testing.T) {
	cases := []struct {
		name string
		x    []float64
		want float64
	}{
		{"sphere", []float64{1, 2, 3}, 14},
		// 36 + 10(1 − 1/(8π)) + 10.
		{"branin", []float64{0, 0}, 56 - 10/(8*math.Pi)},
		// The classic start of Rosenbrock (1960): 100·0.44² + 2.2².
		{"rosenbrock", []float64{-1.2, 1}, 24.2},
		// 20 − 20·e^−0.2 at (1, 1): the cosine terms cancel with e.
		{"ackley", []float64{1, 1}, 20 - 20*math.Exp(-0.2)},
		// 2·10 + 2·(1 − 10).
		{"rastrigin", []float64{1, 1}, 2},
		// Levy at (5): w = 2, sin²(2π) = 0, (w − 1)²(1 + sin²(4π)) = 1.
		{"levy", []float64{5}, 1},
		{"griewank", []float64{0, 0}, 0},
		// Goldstein-Price at the origin: (1 + 19)(30 + 0) = 600.
		{"goldstein-price", []float64{0, 0}, 600},
		// ½(16 − 64 + 10) per coordinate at x = 2.
		{"styblinski-tang", []float64{2, 2}, -38},
		// (4 − 2.1 + 1/3) + 1 + 0 at (1, 1)... + (−4 + 4)·1.
		{"six-hump-camel", []float64{1, 1}, 4 - 2.1 + 1.0/3 + 1},
	}
	for _, c := range cases {
		f, ok := functions.Lookup(c.name)
		if !ok {
			t.Fatalf("no function %q", c.name)
		}
		if got := f.Eval(c.x); math.Abs(got-c.want) > 1e-12*max(1, math.Abs(c.want)) {
			t.Errorf("%s(%v) = %.15g, want %.15g", c.name, c.x, got, c.want)
		}
	}
}

func TestLookup(t *testing.T) {
	for _, name := range []string{"sphere", "branin", "hartmann6", "ackley", "rosenbrock", "levy", "rastrigin"} {
		if _, ok := functions.Lookup(name); !ok {
			t.Errorf("Lookup(%q) failed", name)
		}
	}
	if _, ok := functions.Lookup("nope"); ok {
		t.Error("Lookup of an unknown name succeeded")
	}
	b, _ := functions.Lookup("branin")
	if b.AcceptsDim(3) || !b.AcceptsDim(2) {
		t.Error("branin must accept exactly 2 dimensions")
	}
	r, _ := functions.Lookup("rosenbrock")
	if r.AcceptsDim(1) || !r.AcceptsDim(7) {
		t.Error("rosenbrock must accept 2 or more dimensions")
	}
}
