package optimize_test

import (
	"context"
	"math"
	"slices"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/olc-toolkit/olc/optimize"
)

func mixedSpace(t testing.TB) *optimize.Space {
	return mustSpace(t,
		optimize.Param{Name: "lr", Kind: optimize.Float, Low: 1e-5, High: 1e-1, Log: true},
		optimize.Param{Name: "x", Kind: optimize.Float, Low: -5, High: 10},
		optimize.Param{Name: "layers", Kind: optimize.Int, Low: 1, High: 8},
		optimize.Param{Name: "opt", Kind: optimize.Categorical, Values: []any{"adam", "sgd", "lion"}},
	)
}

// propose runs a sampler for n proposals, recording each as a running
// trial, and returns the proposals.
func propose(t testing.TB, s optimize.Sampler, n int) []optimize.Params {
	t.Helper()
	h := &optimize.History{Direction: optimize.Minimize}
	var out []optimize.Params
	for range n {
		p, err := s.Propose(context.Background(), h)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p.Params)
		h.Trials = append(h.Trials, optimize.Observation{Number: len(h.Trials), Params: p.Params, State: optimize.Running})
	}
	return out
}

func TestRandomIsDeterministic(t *testing.T) {
	for _, quasi := range []bool{false, true} {
		space := mixedSpace(t)
		a, _ := optimize.NewRandom(space, 7, quasi)
		b, _ := optimize.NewRandom(space, 7, quasi)
		c, _ := optimize.NewRandom(space, 8, quasi)
		pa, pb, pc := propose(t, a, 50), propose(t, b, 50), propose(t, c, 50)
		same := 0
		for i := range pa {
			if !pa[i].Equal(pb[i]) {
				t.Fatalf("qmc=%v: proposal %d differs for the same seed: %v vs %v", quasi, i, pa[i], pb[i])
			}
			if err := space.Contains(pa[i]); err != nil {
				t.Fatalf("proposal outside the space: %v", err)
			}
			if pa[i]["x"] == pc[i]["x"] {
				same++
			}
		}
		if same > 0 {
			t.Errorf("qmc=%v: seeds 7 and 8 share %d of 50 proposals", quasi, same)
		}
	}
}

// TestRandomIgnoresRetries checks that retries in the history do not shift
// the sequence: a resumed study continues where it stopped.
func TestRandomIgnoresRetries(t *testing.T) {
	space := mixedSpace(t)
	want := propose(t, must(optimize.NewRandom(space, 3, false)), 5)
	s := must(optimize.NewRandom(space, 3, false))
	h := &optimize.History{}
	var got []optimize.Params
	for len(got) < 5 {
		p, err := s.Propose(context.Background(), h)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, p.Params)
		h.Trials = append(h.Trials,
			optimize.Observation{Number: len(h.Trials), Params: p.Params, State: optimize.Failed},
			optimize.Observation{Number: len(h.Trials) + 1, Params: p.Params, State: optimize.Complete, Retry: true})
		// A fresh sampler on the same history, as after a restart.
		s = must(optimize.NewRandom(space, 3, false))
	}
	for i := range want {
		if !want[i].Equal(got[i]) {
			t.Errorf("proposal %d = %v, want %v", i, got[i], want[i])
		}
	}
	// And the j-th proposal is the j-th point of the sequence.
	r := must(optimize.NewRandom(space, 3, false))
	u := make([]float64, space.Len())
	for j := range want {
		r.Unit(uint64(j), u)
		if p := space.FromUnit(u); !p.Equal(want[j]) {
			t.Errorf("proposal %d = %v, want point %d of the sequence, %v", j, want[j], j, p)
		}
	}
}

// TestRandomDistribution checks each scale with a Kolmogorov-Smirnov
// statistic against its exact distribution, and categorical and integer
// frequencies.
func TestRandomDistribution(t *testing.T) {
	const n = 4000
	ps := propose(t, must(optimize.NewRandom(mixedSpace(t), 11, false)), n)
	logLR := make([]float64, n)
	xs := make([]float64, n)
	counts := map[any]int{}
	layers := map[int64]int{}
	for i, p := range ps {
		logLR[i] = math.Log10(p["lr"].(float64))
		xs[i] = p["x"].(float64)
		counts[p["opt"]]++
		layers[p["layers"].(int64)]++
	}
	// Critical value of the KS statistic at α = 0.001: 1.95/√n.
	crit := 1.95 / math.Sqrt(n)
	if d := ks(logLR, distuv.Uniform{Min: -5, Max: -1}); d > crit {
		t.Errorf("log10(lr) is not uniform on [-5, -1]: KS statistic %.4f > %.4f", d, crit)
	}
	if d := ks(xs, distuv.Uniform{Min: -5, Max: 10}); d > crit {
		t.Errorf("x is not uniform on [-5, 10]: KS statistic %.4f > %.4f", d, crit)
	}
	for _, v := range []string{"adam", "sgd", "lion"} {
		if c := counts[v]; math.Abs(float64(c)-n/3.0) > 4*math.Sqrt(n*(1.0/3)*(2.0/3)) {
			t.Errorf("categorical %q drawn %d times of %d", v, c, n)
		}
	}
	for k := int64(1); k <= 8; k++ {
		if c := layers[k]; math.Abs(float64(c)-n/8.0) > 4*math.Sqrt(n*(1.0/8)*(7.0/8)) {
			t.Errorf("layers = %d drawn %d times of %d", k, c, n)
		}
	}
}

func ks(xs []float64, d distuv.Uniform) float64 {
	xs = slices.Clone(xs)
	slices.Sort(xs)
	n := float64(len(xs))
	worst := 0.0
	for i, x := range xs {
		c := d.CDF(x)
		worst = max(worst, math.Abs(c-float64(i)/n), math.Abs(c-float64(i+1)/n))
	}
	return worst
}

// TestQMCIsMoreEven compares the L2-star discrepancy (Warnock's formula) of
// 256 quasi-random points with that of 256 pseudo-random ones: the Halton
// points must be more even in every seed tried.
func TestQMCIsMoreEven(t *testing.T) {
	space := mustSpace(t,
		optimize.Param{Name: "a", Kind: optimize.Float, Low: 0, High: 1},
		optimize.Param{Name: "b", Kind: optimize.Float, Low: 0, High: 1},
		optimize.Param{Name: "c", Kind: optimize.Float, Low: 0, High: 1},
	)
	for seed := uint64(0); seed < 5; seed++ {
		q := points(t, must(optimize.NewRandom(space, seed, true)), 256)
		r := points(t, must(optimize.NewRandom(space, seed, false)), 256)
		dq, dr := l2star(q), l2star(r)
		if dq >= dr/2 {
			t.Errorf("seed %d: Halton discrepancy %.5f is not well below random's %.5f", seed, dq, dr)
		}
	}
}

func points(t testing.TB, s optimize.Sampler, n int) [][]float64 {
	var out [][]float64
	for _, p := range propose(t, s, n) {
		out = append(out, []float64{p["a"].(float64), p["b"].(float64), p["c"].(float64)})
	}
	return out
}

// l2star is the L2-star discrepancy by Warnock's (1972) closed form.
func l2star(x [][]float64) float64 {
	n := float64(len(x))
	d := len(x[0])
	t1 := math.Pow(3, -float64(d))
	t2 := 0.0
	for _, p := range x {
		prod := 1.0
		for _, v := range p {
			prod *= (1 - v*v) / 2
		}
		t2 += prod
	}
	t3 := 0.0
	for _, p := range x {
		for _, q := range x {
			prod := 1.0
			for k := range d {
				prod *= 1 - math.Max(p[k], q[k])
			}
			t3 += prod
		}
	}
	return math.Sqrt(t1 - 2*t2/n + t3/(n*n))
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// Proposals take the lowest free index, holes left by other processes
// included, skip History.Skip free ones when asked, and never repeat a
// pending one.
func TestProposalKeys(t *testing.T) {
	space, err := optimize.NewSpace(optimize.Param{Name: "x", Kind: optimize.Float, Low: 0, High: 1})
	if err != nil {
		t.Fatal(err)
	}
	obs := func(keys ...string) []optimize.Observation {
		var o []optimize.Observation
		for i, k := range keys {
			o = append(o, optimize.Observation{Number: i, Params: optimize.Params{"x": 0.5}, State: optimize.Complete, Key: k})
		}
		return o
	}
	cases := []struct {
		name string
		hist []optimize.Observation
		skip int
		want []string
	}{
		{"fresh", nil, 0, []string{"random:0", "random:1"}},
		{"holes", obs("random:0", "random:2", "random:5"), 0, []string{"random:1", "random:3", "random:4", "random:6"}},
		{"skip", obs("random:0", "random:2"), 2, []string{"random:4", "random:5"}},
		{"keyless trials hold the lowest free indices", obs("", "random:1", ""), 0, []string{"random:3"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := optimize.NewRandom(space, 1, false)
			if err != nil {
				t.Fatal(err)
			}
			h := &optimize.History{Direction: optimize.Minimize, Trials: c.hist, Skip: c.skip}
			for i, want := range c.want {
				p, err := r.Propose(context.Background(), h)
				if err != nil || p.Key != want {
					t.Errorf("proposal %d: key %q, %v; want %q", i, p.Key, err, want)
				}
			}
		})
	}
	// The same index gives the same point, whoever proposes it.
	a, _ := optimize.NewRandom(space, 7, false)
	b, _ := optimize.NewRandom(space, 7, false)
	pa, _ := a.Propose(context.Background(), &optimize.History{Trials: obs("random:0", "random:1", "random:2")})
	pb, _ := b.Propose(context.Background(), &optimize.History{Skip: 3})
	if pa.Key != "random:3" || pb.Key != "random:3" || pa.Params["x"] != pb.Params["x"] {
		t.Errorf("index 3: %v %v, %v %v", pa.Key, pa.Params, pb.Key, pb.Params)
	}
}

// Bayesian optimization ignores History.Skip: its j-th key goes to a
// proposal made with the j before it in view.
func TestBayesIgnoresSkip(t *testing.T) {
	space, err := optimize.NewSpace(optimize.Param{Name: "x", Kind: optimize.Float, Low: 0, High: 1})
	if err != nil {
		t.Fatal(err)
	}
	b, err := optimize.NewBayes(space, 1, optimize.DefaultBayesOptions(1))
	if err != nil {
		t.Fatal(err)
	}
	h := &optimize.History{Direction: optimize.Minimize, Skip: 5,
		Trials: []optimize.Observation{{Number: 0, Params: optimize.Params{"x": 0.5}, State: optimize.Complete, Value: 1, Key: "bayes:0"}}}
	p, err := b.Propose(context.Background(), h)
	if err != nil || p.Key != "bayes:1" {
		t.Errorf("Propose with Skip 5 = %q, %v; want bayes:1", p.Key, err)
	}
}
