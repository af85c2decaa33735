package optimize_test

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/olc-toolkit/olc/optimize"
	"github.com/olc-toolkit/olc/optimize/functions"
)

// run proposes n points for f, each completed at once, and returns the
// history.
func run(t *testing.T, s optimize.Sampler, f func(optimize.Params) float64, n int, dir optimize.Direction) *optimize.History {
	t.Helper()
	h := &optimize.History{Direction: dir}
	for i := range n {
		p, err := s.Propose(context.Background(), h)
		if err != nil {
			t.Fatalf("proposal %d: %v", i, err)
		}
		h.Trials = append(h.Trials, optimize.Observation{Number: i, Params: p.Params, State: optimize.Complete, Value: f(p.Params), Key: p.Key})
	}
	return h
}

func best(h *optimize.History) float64 {
	b := h.Trials[0].Value
	for _, o := range h.Trials {
		if h.Direction.Better(o.Value, b) {
			b = o.Value
		}
	}
	return b
}

// forrester is the 1-d test function of Forrester, Sóbester and Keane
// (2008), Engineering Design via Surrogate Modelling, p. 83:
// (6x − 2)² sin(12x − 4) on [0, 1], minimum −6.020740 at x = 0.757249.
func forrester(p optimize.Params) float64 {
	x := p["x"].(float64)
	return (6*x - 2) * (6*x - 2) * math.Sin(12*x-4)
}

func TestBayesFindsOptimum1D(t *testing.T) {
	space := mustSpace(t, optimize.Param{Name: "x", Kind: optimize.Float, Low: 0, High: 1})
	for _, acq := range []string{"ucb", "ei", "pi"} {
		s := must(optimize.NewBayes(space, 1, bayesOpts(space, func(o *optimize.BayesOptions) { o.Acquisition = acq })))
		h := run(t, s, forrester, 20, optimize.Minimize)
		if b := best(h); b > -6.0207+1e-3 {
			t.Errorf("%s: best after 20 evaluations %.6f, want within 1e-3 of -6.020740", acq, b)
		}
	}
	// Maximizing −f finds the same point.
	s := must(optimize.NewBayes(space, 1, optimize.DefaultBayesOptions(space.Len())))
	h := run(t, s, func(p optimize.Params) float64 { return -forrester(p) }, 20, optimize.Maximize)
	if b := best(h); b < 6.0207-1e-3 {
		t.Errorf("maximize: best %.6f, want within 1e-3 of 6.020740", b)
	}
}

func TestBayesDeterministic(t *testing.T) {
	space := mustSpace(t,
		optimize.Param{Name: "x1", Kind: optimize.Float, Low: -5, High: 10},
		optimize.Param{Name: "x2", Kind: optimize.Float, Low: 0, High: 15},
	)
	f := func(p optimize.Params) float64 {
		return functions.Branin([]float64{p["x1"].(float64), p["x2"].(float64)})
	}
	a := run(t, must(optimize.NewBayes(space, 7, optimize.DefaultBayesOptions(space.Len()))), f, 18, optimize.Minimize)
	b := run(t, must(optimize.NewBayes(space, 7, optimize.DefaultBayesOptions(space.Len()))), f, 18, optimize.Minimize)
	c := run(t, must(optimize.NewBayes(space, 8, optimize.DefaultBayesOptions(space.Len()))), f, 18, optimize.Minimize)
	differ := false
	for i := range a.Trials {
		if !a.Trials[i].Params.Equal(b.Trials[i].Params) {
			t.Fatalf("proposal %d differs for the same seed: %v vs %v", i, a.Trials[i].Params, b.Trials[i].Params)
		}
		differ = differ || !a.Trials[i].Params.Equal(c.Trials[i].Params)
	}
	if !differ {
		t.Error("seeds 7 and 8 gave the same proposals")
	}
	// A fresh sampler on the same history proposes the same next point.
	p1, _ := must(optimize.NewBayes(space, 7, optimize.DefaultBayesOptions(space.Len()))).Propose(context.Background(), a)
	s := must(optimize.NewBayes(space, 7, optimize.DefaultBayesOptions(space.Len())))
	p2, _ := s.Propose(context.Background(), a)
	if !p1.Params.Equal(p2.Params) {
		t.Errorf("resumed proposals differ: %v vs %v", p1.Params, p2.Params)
	}
}

// TestBayesDiscreteSpaces checks that integer, stepped and categorical
// spaces get only in-space, never repeated points, until the space is
// exhausted.
func TestBayesDiscreteSpaces(t *testing.T) {
	space := mustSpace(t,
		optimize.Param{Name: "n", Kind: optimize.Int, Low: 1, High: 4},
		optimize.Param{Name: "lr", Kind: optimize.Float, Low: 0.1, High: 0.3, Step: 0.1},
		optimize.Param{Name: "opt", Kind: optimize.Categorical, Values: []any{"adam", "sgd", true}},
	)
	f := func(p optimize.Params) float64 {
		v := float64(p["n"].(int64)) + 10*p["lr"].(float64)
		if p["opt"] == "sgd" {
			v -= 2
		}
		return v
	}
	s := must(optimize.NewBayes(space, 3, bayesOpts(space, func(o *optimize.BayesOptions) { o.NInitial = 4 })))
	h := &optimize.History{Direction: optimize.Minimize}
	seen := map[string]bool{}
	for i := range 36 {
		p, err := s.Propose(context.Background(), h)
		if err != nil {
			t.Fatalf("proposal %d: %v", i, err)
		}
		if err := space.Contains(p.Params); err != nil {
			t.Fatalf("proposal %d out of the space: %v", i, err)
		}
		key := string(rune('0'+p.Params["n"].(int64))) + string(rune('0'+int64(math.Round(p.Params["lr"].(float64)*10)))) + optimize.FormatValue(p.Params["opt"])
		if seen[key] {
			t.Fatalf("proposal %d repeats %v", i, p.Params)
		}
		seen[key] = true
		h.Trials = append(h.Trials, optimize.Observation{Number: i, Params: p.Params, State: optimize.Complete, Value: f(p.Params)})
	}
	if _, err := s.Propose(context.Background(), h); !errors.Is(err, optimize.ErrExhausted) {
		t.Errorf("proposal after all 36 points = %v, want ErrExhausted", err)
	}
	// Log-scaled integers stay in range too.
	logSpace := mustSpace(t, optimize.Param{Name: "batch", Kind: optimize.Int, Low: 1, High: 1024, Log: true})
	h2 := run(t, must(optimize.NewBayes(logSpace, 1, bayesOpts(logSpace, func(o *optimize.BayesOptions) { o.NInitial = 3 }))), func(p optimize.Params) float64 {
		return math.Abs(math.Log2(float64(p["batch"].(int64))) - 6)
	}, 15, optimize.Minimize)
	if b := best(h2); b != 0 {
		t.Errorf("log-int search: best %v, want 0 (batch = 64)", b)
	}
}

// TestBayesParallelProposals records each proposal as running, without
// results: the pending trials enter the model as fantasies, so the
// proposals must be distinct and spread out.
func TestBayesParallelProposals(t *testing.T) {
	space := mustSpace(t,
		optimize.Param{Name: "x1", Kind: optimize.Float, Low: -5, High: 10},
		optimize.Param{Name: "x2", Kind: optimize.Float, Low: 0, High: 15},
	)
	f := func(p optimize.Params) float64 {
		return functions.Branin([]float64{p["x1"].(float64), p["x2"].(float64)})
	}
	s := must(optimize.NewBayes(space, 2, optimize.DefaultBayesOptions(space.Len())))
	h := run(t, s, f, 15, optimize.Minimize)
	var batch []optimize.Params
	for i := range 4 {
		p, err := s.Propose(context.Background(), h)
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, p.Params)
		h.Trials = append(h.Trials, optimize.Observation{Number: 15 + i, Params: p.Params, State: optimize.Running})
	}
	for i := range batch {
		for j := range i {
			dx := (batch[i]["x1"].(float64) - batch[j]["x1"].(float64)) / 15
			dy := (batch[i]["x2"].(float64) - batch[j]["x2"].(float64)) / 15
			if d := math.Hypot(dx, dy); d < 1e-3 {
				t.Errorf("pending proposals %d and %d are %.2g apart: %v, %v", i, j, d, batch[i], batch[j])
			}
		}
	}
}

func TestBayesRecommend(t *testing.T) {
	space := mustSpace(t, optimize.Param{Name: "x", Kind: optimize.Float, Low: 0, High: 1})
	// A noisy bowl, (x − 0.5)², each point measured three times: the
	// repeats scatter by about ±0.05, and one lucky draw at x = 0.9 (true
	// value 0.16) is the lowest value observed.
	h := &optimize.History{Direction: optimize.Minimize}
	noise := [][3]float64{{0.04, -0.03, 0.05}, {-0.05, 0.02, 0.03}, {0.01, -0.04, 0.04}, {0.03, 0.05, -0.02},
		{-0.01, 0.02, 0.04}, {0.05, -0.02, 0.01}, {-0.03, 0.04, 0.02}, {0.02, -0.05, 0.03}, {0.04, 0.01, -0.03}}
	lucky := -1
	for i, e := range noise {
		x := float64(i+1) / 10
		for k, n := range e {
			v := (x-0.5)*(x-0.5) + n
			if i == 8 && k == 0 {
				v = -0.08
				lucky = len(h.Trials)
			}
			h.Trials = append(h.Trials, optimize.Observation{Number: len(h.Trials), Params: optimize.Params{"x": x}, State: optimize.Complete, Value: v})
		}
	}
	if best(h) != -0.08 {
		t.Fatalf("the lucky draw %d is not the best observed", lucky)
	}
	s := must(optimize.NewBayes(space, 1, optimize.DefaultBayesOptions(space.Len())))
	rec, ok, err := s.Recommend(context.Background(), h)
	if err != nil || !ok {
		t.Fatalf("Recommend: %v, %v", ok, err)
	}
	if x := h.Trials[rec.Number].Params["x"].(float64); math.Abs(x-0.5) > 0.11 {
		t.Errorf("recommended trial %d at x = %.2f (mean %.3f), want near 0.5", rec.Number, x, rec.Mean)
	}
	if math.Abs(rec.Mean) > 0.05 {
		t.Errorf("posterior mean at the recommended trial %.3f, want near 0", rec.Mean)
	}
	// The 95% interval holds the mean and the true value there, and is
	// narrower than the noise's spread would make one draw's.
	x := h.Trials[rec.Number].Params["x"].(float64)
	if truth := (x - 0.5) * (x - 0.5); !(rec.Low <= rec.Mean && rec.Mean <= rec.High && rec.Low <= truth && truth <= rec.High) || rec.High-rec.Low > 0.2 {
		t.Errorf("interval [%.3f, %.3f] around the mean %.3f, true value %.3f", rec.Low, rec.High, rec.Mean, truth)
	}
	det := must(optimize.NewBayes(space, 1, bayesOpts(space, func(o *optimize.BayesOptions) { o.Deterministic = true })))
	if _, ok, _ := det.Recommend(context.Background(), h); ok {
		t.Error("a deterministic model recommended by posterior mean")
	}
	// A noiseless function: the values are trusted.
	clean := &optimize.History{Direction: optimize.Minimize}
	for i := range 12 {
		x := float64(i) / 11
		clean.Trials = append(clean.Trials, optimize.Observation{Number: i, Params: optimize.Params{"x": x}, State: optimize.Complete, Value: forrester(optimize.Params{"x": x})})
	}
	if _, ok, _ := s.Recommend(context.Background(), clean); ok {
		t.Error("a noiseless history got a posterior-mean recommendation")
	}
}

func TestBayesOptionsValidate(t *testing.T) {
	with := func(set func(*optimize.BayesOptions)) optimize.BayesOptions {
		o := optimize.DefaultBayesOptions(2)
		set(&o)
		return o
	}
	cases := []struct {
		o   optimize.BayesOptions
		key string
	}{
		{with(func(o *optimize.BayesOptions) { o.Acquisition = "ts" }), "acquisition"},
		{optimize.BayesOptions{}, "acquisition"}, // the zero value is no set of options
		{with(func(o *optimize.BayesOptions) { o.Kappa = -1 }), "kappa"},
		{with(func(o *optimize.BayesOptions) { o.Xi = -0.1 }), "xi"},
		{with(func(o *optimize.BayesOptions) { o.NInitial = 0 }), "n_initial"},
		{with(func(o *optimize.BayesOptions) { o.Candidates = -5 }), "candidates"},
		{with(func(o *optimize.BayesOptions) { o.LocalStarts = -1 }), "local_starts"},
	}
	for _, c := range cases {
		var pe *optimize.ParamError
		if err := c.o.Validate(); !errors.As(err, &pe) || pe.Key != c.key {
			t.Errorf("Validate(%+v) = %v, want an error on %s", c.o, err, c.key)
		}
	}
	if o := optimize.DefaultBayesOptions(1); o.Acquisition != "ucb" || o.NInitial != 10 || o.Xi != 0.01 || o.Kappa != 2 || o.Candidates != 2048 || o.LocalStarts != 5 {
		t.Errorf("defaults = %+v", o)
	}
	if o := optimize.DefaultBayesOptions(8); o.NInitial != 16 {
		t.Errorf("n_initial default in 8-d = %d, want 2·d = 16", o.NInitial)
	}
	// Zero is a value, not a request for the default.
	space := mustSpace(t, optimize.Param{Name: "x", Kind: optimize.Float, Low: 0, High: 1})
	zero := with(func(o *optimize.BayesOptions) { o.Kappa, o.Xi = 0, 0 })
	if o := must(optimize.NewBayes(space, 0, zero)).Options(); o.Kappa != 0 || o.Xi != 0 {
		t.Errorf("kappa and xi 0 became %v and %v", o.Kappa, o.Xi)
	}
}

// bayesOpts returns the default options for space with set applied.
func bayesOpts(space *optimize.Space, set func(*optimize.BayesOptions)) optimize.BayesOptions {
	o := optimize.DefaultBayesOptions(space.Len())
	set(&o)
	return o
}

// TestBayesWarmStart: a warm start's trials stand for the start-up
// points: a study warm-started from one that ran on the same function
// proposes from the model at once, and gets within reach of the minimum
// in a few trials, where a cold study is still sampling its start-up
// points.
func TestBayesWarmStart(t *testing.T) {
	space := mustSpace(t, optimize.Param{Name: "x", Kind: optimize.Float, Low: 0, High: 1})
	opts := optimize.DefaultBayesOptions(space.Len())
	prior := run(t, must(optimize.NewBayes(space, 7, opts)), forrester, 12, optimize.Minimize)
	warm := must(optimize.NewBayes(space, 1, opts))
	h := &optimize.History{Direction: optimize.Minimize, Prior: prior.Trials}
	for i := range 3 {
		p, err := warm.Propose(context.Background(), h)
		if err != nil {
			t.Fatal(err)
		}
		h.Trials = append(h.Trials, optimize.Observation{Number: i, Params: p.Params, State: optimize.Complete, Value: forrester(p.Params), Key: p.Key})
	}
	cold := run(t, must(optimize.NewBayes(space, 1, opts)), forrester, 3, optimize.Minimize)
	if b := best(h); b > -6.0 {
		t.Errorf("warm start: best of 3 trials %.4f, want below -6.0 (minimum -6.0207)", b)
	}
	if b := best(cold); b < -6.0 {
		t.Errorf("cold start: best of 3 start-up points %.4f: the test tells nothing", b)
	}
	// The model's recommendation is one of this study's trials.
	rec, ok, err := warm.Recommend(context.Background(), h)
	if err != nil {
		t.Fatal(err)
	}
	if ok && (rec.Number < 0 || rec.Number >= len(h.Trials)) {
		t.Errorf("recommended trial %d is not of this study", rec.Number)
	}
}
