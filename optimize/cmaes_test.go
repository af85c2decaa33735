package optimize_test

import (
	"context"
	"math"
	"testing"

	"github.com/olc-toolkit/olc/optimize"
	"github.com/olc-toolkit/olc/optimize/functions"
)

func cubeSpace(t *testing.T, n int, low, high float64) *optimize.Space {
	t.Helper()
	var ps []optimize.Param
	for i := range n {
		ps = append(ps, optimize.Param{Name: "x" + string(rune('a'+i)), Kind: optimize.Float, Low: low, High: high})
	}
	return mustSpace(t, ps...)
}

func vec(s *optimize.Space, p optimize.Params) []float64 {
	x := make([]float64, s.Len())
	for i, name := range s.Names() {
		switch v := p[name].(type) {
		case float64:
			x[i] = v
		case int64:
			x[i] = float64(v)
		}
	}
	return x
}

// TestCMAESConverges: on a shifted sphere and on a rotated, ill-conditioned
// ellipsoid in 8 dimensions, CMA-ES converges linearly, as the method
// promises, far below what random search reaches with the same budget.
func TestCMAESConverges(t *testing.T) {
	const n = 8
	space := cubeSpace(t, n, -5, 5)
	sphere := func(p optimize.Params) float64 {
		s := 0.0
		for _, x := range vec(space, p) {
			s += (x - 1.7) * (x - 1.7)
		}
		return s
	}
	ellipsoid := func(p optimize.Params) float64 {
		x := vec(space, p)
		s := 0.0
		for i := range x {
			// Rotate by mixing neighbours, then scale by up to 10³.
			y := (x[i] - 1) + 0.5*(x[(i+1)%n]-1)
			s += math.Pow(1e3, float64(i)/float64(n-1)) * y * y
		}
		return s
	}
	for _, c := range []struct {
		name  string
		f     func(optimize.Params) float64
		evals int
		want  float64
	}{
		{"sphere", sphere, 800, 1e-4},
		{"ellipsoid", ellipsoid, 3000, 1e-9},
	} {
		cma := must(optimize.NewCMAES(space, 1, 0))
		h := run(t, cma, c.f, c.evals, optimize.Minimize)
		rnd := run(t, must(optimize.NewRandom(space, 1, false)), c.f, c.evals, optimize.Minimize)
		if b := best(h); b > c.want {
			t.Errorf("%s: CMA-ES best after %d evaluations %.3g, want below %g (random search: %.3g)", c.name, c.evals, b, c.want, best(rnd))
		}
		if best(rnd) < 1000*c.want {
			t.Errorf("%s: random search reaches %.3g: the test tells nothing", c.name, best(rnd))
		}
	}
}

// TestCMAESReplay: the sampler keeps no state of its own: a fresh sampler
// given the history proposes what the one that made it would, parallel
// proposals of one generation are distinct, and maximizing −f is
// minimizing f.
func TestCMAESReplay(t *testing.T) {
	space := mustSpace(t,
		optimize.Param{Name: "x", Kind: optimize.Float, Low: -5, High: 5},
		optimize.Param{Name: "n", Kind: optimize.Int, Low: 1, High: 100, Log: true},
		optimize.Param{Name: "c", Kind: optimize.Categorical, Values: []any{"a", "b"}},
	)
	f := func(p optimize.Params) float64 {
		x, n := p["x"].(float64), float64(p["n"].(int64))
		v := x*x + math.Log(n)
		if p["c"] == "b" {
			v += 1
		}
		return v
	}
	a := must(optimize.NewCMAES(space, 3, 0))
	h := run(t, a, f, 40, optimize.Minimize)
	b := must(optimize.NewCMAES(space, 3, 0))
	pa, err := a.Propose(context.Background(), h)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := b.Propose(context.Background(), h)
	if err != nil {
		t.Fatal(err)
	}
	if !pa.Params.Equal(pb.Params) || pa.Key != pb.Key {
		t.Errorf("fresh sampler proposes %v (%s), the original %v (%s)", pb.Params, pb.Key, pa.Params, pa.Key)
	}
	neg := run(t, must(optimize.NewCMAES(space, 3, 0)), func(p optimize.Params) float64 { return -f(p) }, 40, optimize.Maximize)
	for i := range h.Trials {
		if !h.Trials[i].Params.Equal(neg.Trials[i].Params) {
			t.Fatalf("proposal %d differs when maximizing −f", i)
		}
	}
	if b := best(h); b > 0.1 {
		t.Errorf("best %.3g after 40 evaluations, want below 0.1 (minimum 0)", b)
	}
	// Running trials: the next proposals are the generation's next
	// indices, distinct points.
	pend := &optimize.History{Direction: optimize.Minimize}
	keys := map[string]bool{}
	for i := range 10 {
		p, err := b.Propose(context.Background(), pend)
		if err != nil {
			t.Fatal(err)
		}
		if keys[p.Key] {
			t.Fatalf("key %s proposed twice", p.Key)
		}
		keys[p.Key] = true
		pend.Trials = append(pend.Trials, optimize.Observation{Number: i, Params: p.Params, State: optimize.Running, Key: p.Key})
	}
	if !keys["cmaes:0:9"] {
		t.Errorf("keys %v: want generation 0 to go on while its trials run", keys)
	}
}

// TestCMAESOnBenchmarks: on 6-d Hartmann and 10-d Rosenbrock (scaled to
// its usual box) CMA-ES with 300 evaluations beats random search.
func TestCMAESOnBenchmarks(t *testing.T) {
	for _, c := range []struct {
		name string
		dim  int
	}{{"hartmann6", 6}, {"rosenbrock", 10}} {
		fn, ok := functions.Lookup(c.name)
		if !ok {
			t.Fatalf("no function %s", c.name)
		}
		lo, hi := fn.Low(c.dim), fn.High(c.dim)
		var ps []optimize.Param
		for i := range c.dim {
			ps = append(ps, optimize.Param{Name: "x" + string(rune('a'+i)), Kind: optimize.Float, Low: lo[i], High: hi[i]})
		}
		space := mustSpace(t, ps...)
		f := func(p optimize.Params) float64 { return fn.Eval(vec(space, p)) }
		wins := 0
		for seed := range uint64(5) {
			cma := best(run(t, must(optimize.NewCMAES(space, seed, 0)), f, 300, optimize.Minimize))
			rnd := best(run(t, must(optimize.NewRandom(space, seed, false)), f, 300, optimize.Minimize))
			if cma < rnd {
				wins++
			}
		}
		if wins < 5 {
			t.Errorf("%s: CMA-ES beat random search on %d of 5 seeds", c.name, wins)
		}
	}
}
