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
		// Dixon–Price at (1, 1): 0 + 2·(2 − 1)².
		{"dixon-price", []float64{1, 1}, 2},
		// Shekel at (4, 4, 4, 4) is −10.5364 to four digits (Surjanovic
		// and Bingham): −1/0.01 − Σ of the far terms.
		{"shekel", []float64{4, 4, 4, 4}, shekelAt4()},
		// Schwefel at the origin: 418.9829·d.
		{"schwefel", []float64{0, 0, 0}, 3 * 418.9829},
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

// shekelAt4 is Shekel's sum at (4, 4, 4, 4) written out term by term.
func shekelAt4() float64 {
	// Σⱼ (4 − Cⱼᵢ)² for the ten columns, and βᵢ/10.
	sq := []float64{0, 36, 64, 16, 20, 58, 4, 50, 16, 18.32}
	beta := []float64{0.1, 0.2, 0.2, 0.4, 0.4, 0.6, 0.3, 0.7, 0.5, 0.5}
	s := 0.0
	for i := range sq {
		s -= 1 / (sq[i] + beta[i])
	}
	return s
}

// TestPublishedMinima: the minima found agree with the published values
// to the digits published.
func TestPublishedMinima(t *testing.T) {
	for _, c := range []struct {
		name string
		d    int
		want float64
		tol  float64
	}{
		{"shekel", 4, -10.5364, 1e-4},
		{"schwefel", 2, 0, 1e-4},
		{"dixon-price", 4, 0, 0},
	} {
		f, _ := functions.Lookup(c.name)
		if got := f.Min(c.d); math.Abs(got-c.want) > c.tol {
			t.Errorf("%s: minimum %.10g, published %g", c.name, got, c.want)
		}
		if at4 := shekelAt4(); c.name == "shekel" && !(f.Min(4) < at4) {
			t.Errorf("shekel: minimum %.10g is not below the value at (4, 4, 4, 4), %.10g", f.Min(4), at4)
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

// TestMulti: ZDT1's front is f₂ = 1 − √f₁ where x₂… are 0; Branin–Currin
// matches values computed from the definitions.
func TestMulti(t *testing.T) {
	z, _ := functions.LookupMulti("zdt1")
	for _, f1 := range []float64{0, 0.25, 1} {
		v := z.Eval([]float64{f1, 0, 0})
		if math.Abs(v[0]-f1) > 1e-15 || math.Abs(v[1]-(1-math.Sqrt(f1))) > 1e-15 {
			t.Errorf("zdt1(%v, 0, 0) = %v", f1, v)
		}
	}
	// Off the front: g = 1 + 9·(0.5 + 0.5)/2 = 5.5.
	if v := z.Eval([]float64{0.5, 0.5, 0.5}); math.Abs(v[1]-5.5*(1-math.Sqrt(0.5/5.5))) > 1e-12 {
		t.Errorf("zdt1 off the front = %v", v)
	}
	bc, _ := functions.LookupMulti("branin-currin")
	// At (0, 0): Branin(−5, 0) = 308.129…; Currin's factor at x₂ = 0 is
	// 1 and the rational part 60/20 = 3.
	v := bc.Eval([]float64{0, 0})
	b, _ := functions.Lookup("branin")
	if math.Abs(v[0]-b.Eval([]float64{-5, 0})) > 1e-12 || math.Abs(v[1]-3) > 1e-12 {
		t.Errorf("branin-currin(0, 0) = %v", v)
	}
	// At (1, 1): Currin = (1 − e^−½)·(6352/624).
	v = bc.Eval([]float64{1, 1})
	if want := (1 - math.Exp(-0.5)) * 6352 / 624; math.Abs(v[1]-want) > 1e-12 {
		t.Errorf("currin(1, 1) = %v, want %v", v[1], want)
	}
}
