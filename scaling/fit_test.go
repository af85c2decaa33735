package scaling

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// sparseStarts returns every k-th start of law's grid: a cheaper grid for
// tests, which check the estimator; the full grid's breadth is measured by
// 'olc bench scaling'.
func sparseStarts(law Law, k int) [][]float64 {
	var out [][]float64
	for i, s := range law.Starts() {
		if i%k == 0 {
			out = append(out, s)
		}
	}
	return out
}

func hoffmannData(t testing.TB, noise float64, seed uint64) *Data {
	t.Helper()
	d, err := Generate(Chinchilla{}, Hoffmann, Cross(LogSpace(1e7, 1e10, 25), LogSpace(1e8, 1e12, 10)), noise, seed)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestObjectiveGradient(t *testing.T) {
	d := hoffmannData(t, 0.02, 3)
	rng := rand.New(rand.NewPCG(4, 5))
	w := make([]float64, d.Len())
	for i := range w {
		w[i] = float64(rng.IntN(3))
	}
	for _, loss := range []LossKind{Huber, LeastSquares} {
		for _, weights := range [][]float64{nil, w} {
			p := newProblem(Chinchilla{}, d, NoTransform, loss, 1e-3).withWeights(weights)
			th := Chinchilla{}.Internal([]float64{1.6, 380, 450, 0.33, 0.29})
			g := make([]float64, 5)
			p.eval(th, g)
			for i := range th {
				h := 1e-6
				tp, tm := append([]float64(nil), th...), append([]float64(nil), th...)
				tp[i] += h
				tm[i] -= h
				fd := (p.eval(tp, nil) - p.eval(tm, nil)) / (2 * h)
				if math.Abs(fd-g[i]) > 1e-6*math.Max(1e-3, math.Abs(fd)) {
					t.Errorf("%s weights=%v: ∂f/∂θ%d = %.10g, finite differences %.10g", loss, weights != nil, i, g[i], fd)
				}
			}
		}
	}
}

func relErr(a, b float64) float64 { return math.Abs(a-b) / math.Abs(b) }

// TestChinchillaExact fits noise-free data generated from Hoffmann et al.'s
// parameters: the fit must recover them to 1e-6 relative.
func TestChinchillaExact(t *testing.T) {
	d := hoffmannData(t, 0, 1)
	for _, loss := range []LossKind{Huber, LeastSquares} {
		res, err := Fit(context.Background(), Chinchilla{}, d, optsWith(func(o *Options) { o.Loss = loss; o.Bootstrap = 0; o.Starts = sparseStarts(Chinchilla{}, 45) }))
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range res.Values() {
			if relErr(v, Hoffmann[i]) > 1e-6 {
				t.Errorf("%s: %s = %.10g, want %g", loss, res.ParamNames[i], v, Hoffmann[i])
			}
		}
		if !res.Converged || res.GradNorm > 1e-8 || res.Iterations == 0 {
			t.Errorf("%s: converged %v, gradient norm %g after %d iterations", loss, res.Converged, res.GradNorm, res.Iterations)
		}
		if res.RMSELog > 1e-9 || res.R2Log < 1-1e-12 {
			t.Errorf("%s: RMSE %g, R² %g on exact data", loss, res.RMSELog, res.R2Log)
		}
	}
}

// TestChinchillaNoisy fits data with 2% multiplicative noise: each
// parameter must lie within 4 bootstrap standard errors of the truth (a
// tolerance that scales with what the data can say), and the standard
// errors must be small enough to mean something.
func TestChinchillaNoisy(t *testing.T) {
	d := hoffmannData(t, 0.02, 7)
	res, err := Fit(context.Background(), Chinchilla{}, d, optsWith(func(o *Options) { o.Bootstrap = 50; o.Seed = 1; o.Starts = sparseStarts(Chinchilla{}, 90) }))
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range res.ParamNames {
		e := res.Params[name]
		if !e.HasInterval() {
			t.Fatalf("%s has no interval", name)
		}
		if math.Abs(e.Value-Hoffmann[i]) > 4*e.SE {
			t.Errorf("%s = %g ± %g, truth %g is more than 4 SE away", name, e.Value, e.SE, Hoffmann[i])
		}
		if e.SE > 0.5*Hoffmann[i] {
			t.Errorf("%s: standard error %g is uselessly wide", name, e.SE)
		}
		if !(e.CI[0] <= e.Value && e.Value <= e.CI[1]) {
			t.Errorf("%s: estimate %g outside its interval %v", name, e.Value, e.CI)
		}
	}
	if res.Bootstrap.Failed > 0 || len(res.Bootstrap.Samples) != 50 {
		t.Errorf("bootstrap: %d failed, %d samples", res.Bootstrap.Failed, len(res.Bootstrap.Samples))
	}
}

// TestRecovery fits the other laws to data generated from known
// parameters, without noise (to 1e-6) and with 1% noise (to tolerances
// proportional to it).
func TestRecovery(t *testing.T) {
	ctxs := LogSpace(128, 32768, 30)
	sizes := LogSpace(1e6, 1e10, 30)
	cases := []struct {
		law    Law
		params []float64
		design map[string][]float64
		tol    float64 // relative tolerance at 1% noise
	}{
		{Kaplan{}, []float64{8.8e13, 0.076, 5.4e13, 0.095}, Cross(LogSpace(1e6, 1e10, 12), LogSpace(1e8, 1e11, 12)), 0.5},
		{KaplanN{}, []float64{8.8e13, 0.076}, map[string][]float64{"N": sizes}, 0.5},
		{KaplanD{}, []float64{5.4e13, 0.095}, map[string][]float64{"D": sizes}, 0.5},
		{Power{}, []float64{1.8, 400, 0.3}, map[string][]float64{"x": sizes}, 0.1},
		{Power2{}, []float64{20, 0.1}, map[string][]float64{"x": sizes}, 0.1},
		{Context{}, Xiong7B, map[string][]float64{"c": ctxs}, 0.2},
	}
	for _, c := range cases {
		for _, noise := range []float64{0, 0.01} {
			d, err := Generate(c.law, c.params, c.design, noise, 11)
			if err != nil {
				t.Fatal(err)
			}
			// Every law's own grid, thinned to at most about 200 starts.
			starts := sparseStarts(c.law, max(1, len(c.law.Starts())/200))
			res, err := Fit(context.Background(), c.law, d, optsWith(func(o *Options) { o.Bootstrap = 0; o.Starts = starts }))
			if err != nil {
				t.Fatalf("%s: %v", c.law.Name(), err)
			}
			tol := 1e-6
			if noise > 0 {
				tol = c.tol
			}
			for i, v := range res.Values() {
				if relErr(v, c.params[i]) > tol {
					t.Errorf("%s noise %g: %s = %.8g, want %g (tolerance %g)", c.law.Name(), noise, res.ParamNames[i], v, c.params[i], tol)
				}
			}
		}
	}
}

// TestAllocation checks the closed-form compute-optimal allocation of the
// chinchilla and kaplan laws against a numerical minimization of the law
// along 6·N·D = C, and Hoffmann's exponents a = β/(α+β), b = α/(α+β).
func TestAllocation(t *testing.T) {
	for _, c := range []struct {
		law    Law
		params []float64
	}{
		{Chinchilla{}, Hoffmann},
		{Chinchilla{}, []float64{1.8, 482, 2085, 0.35, 0.37}},
		{Kaplan{}, []float64{8.8e13, 0.076, 5.4e13, 0.095}},
	} {
		al := c.law.(Allocator)
		a, b, g := al.Allocation(c.params)
		if math.Abs(a+b-1) > 1e-12 {
			t.Errorf("%s: a + b = %g", c.law.Name(), a+b)
		}
		for _, budget := range []float64{1e18, 1e21, 5.76e23, 1e25} {
			n := g * math.Pow(budget/6, a)
			d := math.Pow(budget/6, b) / g
			if relErr(6*n*d, budget) > 1e-12 {
				t.Errorf("%s: 6ND = %g, budget %g", c.law.Name(), 6*n*d, budget)
			}
			if num := OptimalN(c.law, c.params, budget); relErr(n, num) > 1e-6 {
				t.Errorf("%s at C=%g: closed-form N %g, numerical %g", c.law.Name(), budget, n, num)
			}
		}
	}
	a, b, _ := Chinchilla{}.Allocation(Hoffmann)
	if relErr(a, 0.28/0.62) > 1e-12 || relErr(b, 0.34/0.62) > 1e-12 {
		t.Errorf("Hoffmann's exponents: a %g, b %g", a, b)
	}
}

// TestDocExample is the project documentation's three-point example: with
// three points olc refuses Chinchilla's five parameters, says which laws it
// can fit, and fits the two-parameter power law on the metric's scale.
func TestDocExample(t *testing.T) {
	d := &Data{
		Vars: map[string][]float64{"N": {1e6, 1e7, 1e8}, "D": {1e9, 1e10, 1e11}},
		Loss: []float64{0.80, 0.85, 0.90},
	}
	_, err := Fit(context.Background(), Chinchilla{}, d, optsWith(func(o *Options) { o.Transform = Complement; o.Bootstrap = 0 }))
	var ie *IdentifiabilityError
	if !errors.As(err, &ie) {
		t.Fatalf("chinchilla on 3 points: %v, want an IdentifiabilityError", err)
	}
	for _, want := range []string{"5 parameters", "at least 6 points", "kaplan-n", "kaplan-d"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	res, err := Fit(context.Background(), KaplanN{}, d, optsWith(func(o *Options) { o.Transform = Complement; o.Bootstrap = 50 }))
	if err != nil {
		t.Fatal(err)
	}
	// The least-squares line through log(1 − acc) against log N, computed
	// in closed form.
	var sx, sy, sxx, sxy float64
	for i, n := range d.Vars["N"] {
		x, y := math.Log(n), math.Log(1-d.Loss[i])
		sx, sy, sxx, sxy = sx+x, sy+y, sxx+x*x, sxy+x*y
	}
	slope := (3*sxy - sx*sy) / (3*sxx - sx*sx)
	// Huber with δ = 1e-3 is not least squares, but with three points the
	// fit's slope lies between the pairwise slopes.
	alpha := res.Params["alpha_N"].Value
	if !(alpha > 0.12 && alpha < 0.18) || math.Abs(alpha+slope) > 0.03 {
		t.Errorf("alpha_N = %g, least-squares slope %g", alpha, -slope)
	}
	pred := Complement.Back(Predict(res.Law, res.Values(), []float64{1e9}))
	if !(pred > 0.90 && pred < 0.95) {
		t.Errorf("predicted accuracy at N=1e9: %g", pred)
	}
}

func TestBadData(t *testing.T) {
	good := func() *Data { return hoffmannData(t, 0.01, 1) }
	cases := []struct {
		name string
		law  Law
		edit func(d *Data)
		opts Options
		want string
	}{
		{"negative loss", Chinchilla{}, func(d *Data) { d.Loss[3] = -1 }, DefaultOptions(), "point 4, column \"loss\": -1 is not positive"},
		{"NaN size", Chinchilla{}, func(d *Data) { d.Vars["N"][7] = math.NaN() }, DefaultOptions(), "point 8, column \"N\": NaN is not a finite number"},
		{"zero size", Chinchilla{}, func(d *Data) { d.Vars["D"][0] = 0 }, DefaultOptions(), "point 1, column \"D\": 0 is not positive"},
		{"missing variable", Context{}, func(d *Data) {}, DefaultOptions(), "needs the variable c"},
		{"collinear", Chinchilla{}, func(d *Data) {
			for i := range d.Loss {
				d.Vars["D"][i] = 20 * d.Vars["N"][i]
			}
		}, DefaultOptions(), "vary together"},
		{"complement above 1", Power2{}, func(d *Data) {
			d.Vars["x"] = d.Vars["N"]
			d.Loss[2] = 1.5
		}, optsWith(func(o *Options) { o.Transform = Complement }), "is not below 1"},
		{"holdout too large", Chinchilla{}, func(d *Data) {}, optsWith(func(o *Options) { o.Holdout = 246 }), "leaves 4"},
		{"labels", Chinchilla{}, func(d *Data) {
			d.Labels = make([]string, d.Len())
			d.Labels[5] = "row 7"
			d.Loss[5] = math.Inf(1)
		}, DefaultOptions(), "row 7, column \"loss\": +Inf is not a finite number"},
	}
	for _, c := range cases {
		d := good()
		c.edit(d)
		c.opts.Bootstrap = 0
		c.opts.Starts = [][]float64{c.law.Internal(Hoffmann[:len(c.law.Params())])}
		_, err := Fit(context.Background(), c.law, d, c.opts)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

func TestNoConvergence(t *testing.T) {
	d := hoffmannData(t, 0.01, 1)
	_, err := Fit(context.Background(), Chinchilla{}, d, optsWith(func(o *Options) { o.Bootstrap = 0; o.MaxIterations = 2; o.Starts = sparseStarts(Chinchilla{}, 500) }))
	if !errors.Is(err, ErrNoConvergence) {
		t.Fatalf("err = %v, want ErrNoConvergence", err)
	}
}

// TestHoldout: on noise-free data the law fitted without the largest
// points predicts them exactly.
func TestHoldout(t *testing.T) {
	d := hoffmannData(t, 0, 1)
	res, err := Fit(context.Background(), Chinchilla{}, d, optsWith(func(o *Options) { o.Bootstrap = 0; o.Holdout = 10; o.Starts = sparseStarts(Chinchilla{}, 90) }))
	if err != nil {
		t.Fatal(err)
	}
	h := res.Holdout
	if h == nil || h.K != 10 || len(h.Points) != 10 {
		t.Fatalf("holdout %+v", h)
	}
	for _, p := range h.Points {
		if p.X["N"] < 1e9 || p.X["D"] < 1e11 {
			t.Errorf("held out a small-compute point %v", p.X)
		}
	}
	if h.RMSELog > 1e-6 || h.MaxAPE > 1e-6 {
		t.Errorf("holdout error on exact data: RMSE %g, max APE %g", h.RMSELog, h.MaxAPE)
	}
}

// TestBootstrapDeterministic: the same seed gives the same intervals with
// one worker or several.
func TestBootstrapDeterministic(t *testing.T) {
	d := hoffmannData(t, 0.02, 2)
	opts := optsWith(func(o *Options) {
		o.Bootstrap = 20
		o.Seed = 9
		o.Compute = []float64{1e21}
		o.Starts = sparseStarts(Chinchilla{}, 150)
	})
	var prev *Result
	for _, w := range []int{1, 3} {
		opts.Workers = w
		res, err := Fit(context.Background(), Chinchilla{}, d, opts)
		if err != nil {
			t.Fatal(err)
		}
		if prev != nil {
			for _, n := range res.ParamNames {
				if res.Params[n] != prev.Params[n] {
					t.Errorf("%s: %+v with %d workers, %+v before", n, res.Params[n], w, prev.Params[n])
				}
			}
			if res.Optimal[0] != prev.Optimal[0] {
				t.Errorf("allocation differs: %+v vs %+v", res.Optimal[0], prev.Optimal[0])
			}
		}
		prev = res
	}
	o := prev.Optimal[0]
	if !o.N.HasInterval() || !(o.N.CI[0] < o.N.Value && o.N.Value < o.N.CI[1]) {
		t.Errorf("N_opt interval %+v", o.N)
	}
}

// TestWarmStartsFindGridOptimum: on a sample of bootstrap resamples, the
// warm starts reach the same optimum as the whole grid.
func TestWarmStartsFindGridOptimum(t *testing.T) {
	d := hoffmannData(t, 0.02, 5)
	checks, err := CheckWarmStarts(context.Background(), Chinchilla{}, d, optsWith(func(o *Options) { o.Starts = sparseStarts(Chinchilla{}, 45) }), []int{0, 1, 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(checks) != 3 {
		t.Fatalf("%d checks", len(checks))
	}
	for _, c := range checks {
		if c.Warm > c.Grid*(1+1e-9) || c.ParamRelDiff > 1e-4 {
			t.Errorf("resample %d: warm starts reach %.12g, the grid %.12g (parameters differ by %.2g)", c.Resample, c.Warm, c.Grid, c.ParamRelDiff)
		}
		if c.WarmStarts >= c.GridStarts {
			t.Errorf("warm starts (%d) are no fewer than the grid's (%d)", c.WarmStarts, c.GridStarts)
		}
	}
}

// TestCoveragePower2: over 60 synthetic data sets of 20 runs from a
// two-parameter power law, the 95% bootstrap intervals hold the true
// parameters close to 95% of the time (binomial sd ≈ 2.8%, so 85% is
// 3.5 sd below what a correct bootstrap gives). Chinchilla's coverage check, which
// costs minutes, is 'olc bench scaling --coverage 200'.
func TestCoveragePower2(t *testing.T) {
	law := Power2{}
	truth := []float64{20, 0.1}
	design := map[string][]float64{"x": LogSpace(1e6, 1e10, 20)}
	const experiments = 60
	hits := make([]int, 2)
	for r := range experiments {
		d, err := Generate(law, truth, design, 0.05, uint64(r))
		if err != nil {
			t.Fatal(err)
		}
		res, err := Fit(context.Background(), law, d, optsWith(func(o *Options) { o.Bootstrap = 100; o.Seed = uint64(r) }))
		if err != nil {
			t.Fatal(err)
		}
		for i, n := range res.ParamNames {
			if e := res.Params[n]; e.CI[0] <= truth[i] && truth[i] <= e.CI[1] {
				hits[i]++
			}
		}
	}
	for i, n := range law.Params() {
		rate := float64(hits[i]) / experiments
		t.Logf("%s: coverage %.0f%%", n, 100*rate)
		if rate < 0.85 || rate > 0.995 {
			t.Errorf("%s: 95%% intervals held the truth in %.0f%% of %d experiments", n, 100*rate, experiments)
		}
	}
}

// optsWith returns DefaultOptions with set applied.
func optsWith(set func(*Options)) Options {
	o := DefaultOptions()
	set(&o)
	return o
}

func TestOptionsAreUsedAsGiven(t *testing.T) {
	d := &Data{Vars: map[string][]float64{"x": {1, 2, 4, 8, 16}}, Loss: []float64{1, 0.8, 0.65, 0.55, 0.5}}
	// A zero is a value: no bootstrap at all, not the default 1000.
	res, err := Fit(context.Background(), Power{}, d, optsWith(func(o *Options) { o.Bootstrap = 0 }))
	if err != nil {
		t.Fatal(err)
	}
	if res.Bootstrap != nil {
		t.Errorf("Bootstrap 0 ran %d resamples", res.Bootstrap.Resamples)
	}
	for _, c := range []struct {
		set  func(*Options)
		want string
	}{
		{func(o *Options) { *o = Options{} }, `unknown loss ""`},
		{func(o *Options) { o.Bootstrap = -1 }, "Bootstrap must be at least 0, not -1"},
		{func(o *Options) { o.MaxIterations = 0 }, "MaxIterations must be at least 1"},
		{func(o *Options) { o.GradTol = 0 }, "GradTol must be positive"},
		{func(o *Options) { o.LittleSubsets = 0 }, "LittleSubsets must be at least 1"},
	} {
		if _, err := Fit(context.Background(), Power{}, d, optsWith(c.set)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("error %v, want %q", err, c.want)
		}
	}
}
