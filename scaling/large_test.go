package scaling

import (
	"context"
	"math"
	"sync"
	"testing"
)

// manyPoints returns n points of Hoffmann's law with 2% noise: 40 model
// sizes, each trained to n/40 token counts.
func manyPoints(t testing.TB, n int, seed uint64) *Data {
	t.Helper()
	var ns, ds []float64
	per := n / 40
	for _, N := range LogSpace(1e7, 1e10, 40) {
		for _, D := range LogSpace(2*N, 200*N, per) {
			ns, ds = append(ns, N), append(ds, D)
		}
	}
	d, err := Generate(Chinchilla{}, Hoffmann, map[string][]float64{"N": ns, "D": ds}, 0.02, seed)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestScreenedFitFindsTheGridsOptimum: screening the starts on a subsample
// and refitting its optimum on all the points reaches the optimum that the
// whole grid reaches on all of them.
func TestScreenedFitFindsTheGridsOptimum(t *testing.T) {
	d := manyPoints(t, 1200, 7)
	starts := sparseStarts(Chinchilla{}, 90)
	full, err := Fit(context.Background(), Chinchilla{}, d, optsWith(func(o *Options) { o.Starts = starts; o.Bootstrap = 0; o.ScreenRows = 0 }))
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var units, total int
	screened, err := Fit(context.Background(), Chinchilla{}, d, optsWith(func(o *Options) {
		o.Starts = starts
		o.Bootstrap = 0
		o.ScreenRows = 200
		o.Progress = func(done, tot int) {
			mu.Lock()
			units, total = max(units, done), tot
			mu.Unlock()
		}
	}))
	if err != nil {
		t.Fatal(err)
	}
	if screened.Screen == nil || screened.Screen.Points != 200 || screened.Screen.Refitted < 1 {
		t.Fatalf("screening: %+v", screened.Screen)
	}
	if full.Screen != nil {
		t.Errorf("ScreenRows -1 screened: %+v", full.Screen)
	}
	if rel := math.Abs(screened.Objective-full.Objective) / full.Objective; rel > 1e-9 {
		t.Errorf("objective %.12g screened, %.12g on the whole grid (relative difference %.2g)", screened.Objective, full.Objective, rel)
	}
	for _, name := range screened.ParamNames {
		a, b := screened.Params[name].Value, full.Params[name].Value
		if math.Abs(a-b) > 1e-5*math.Abs(b) {
			t.Errorf("%s = %.8g screened, %.8g on the whole grid", name, a, b)
		}
	}
	if units != total {
		t.Errorf("progress ended at %d of %d units", units, total)
	}
}

// TestLittleBootstrap: the bag of little bootstraps gives intervals that
// cover the truth and agree with the standard bootstrap's on the same
// points.
func TestLittleBootstrap(t *testing.T) {
	if testing.Short() {
		t.Skip("fits 300 resamples")
	}
	d := manyPoints(t, 2400, 3)
	base := optsWith(func(o *Options) {
		o.Starts = sparseStarts(Chinchilla{}, 180)
		o.Bootstrap = 100
		o.ScreenRows = 300
		o.Seed = 5
	})
	little := base
	little.LittleBootstrapAbove, little.LittleSubsets, little.LittleSubsetPoints = 1000, 5, 600
	std := base
	std.LittleBootstrapAbove = 0
	rl, err := Fit(context.Background(), Chinchilla{}, d, little)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := Fit(context.Background(), Chinchilla{}, d, std)
	if err != nil {
		t.Fatal(err)
	}
	if b := rl.Bootstrap; b.Subsets != 5 || b.SubsetPoints != 600 || len(b.Samples) < 95 {
		t.Fatalf("little bootstrap: %d subsets of %d points, %d samples", b.Subsets, b.SubsetPoints, len(b.Samples))
	}
	if rs.Bootstrap.Subsets != 0 {
		t.Errorf("the standard bootstrap reports %d subsets", rs.Bootstrap.Subsets)
	}
	nat := Hoffmann
	for i, name := range rl.ParamNames {
		l, s := rl.Params[name], rs.Params[name]
		if ratio := l.SE / s.SE; !(ratio > 0.6 && ratio < 1.6) {
			t.Errorf("%s: standard error %.3g (little) against %.3g (standard)", name, l.SE, s.SE)
		}
		if nat[i] < l.CI[0]-2*l.SE || nat[i] > l.CI[1]+2*l.SE {
			t.Errorf("%s: the truth %.4g lies far outside the little bootstrap's interval [%.4g, %.4g]", name, nat[i], l.CI[0], l.CI[1])
		}
	}
}

// TestMultinomialWeights: the weights sum to n, with the multinomial's
// mean n/b and variance n(1/b)(1−1/b).
func TestMultinomialWeights(t *testing.T) {
	const n, b = 1_000_000, 5000
	var sum, sq float64
	const reps = 20
	for k := range reps {
		w := multinomialWeights(1, uint64(k), n, b)
		total := 0.0
		for _, x := range w {
			if x < 0 || x != math.Trunc(x) {
				t.Fatalf("weight %v", x)
			}
			total += x
			sum += x
			sq += x * x
		}
		if total != n {
			t.Fatalf("weights sum to %v, not %d", total, n)
		}
	}
	m := sum / (reps * b)
	v := sq/(reps*b) - m*m
	want := float64(n) / b * (1 - 1.0/b)
	if math.Abs(m-n/b) > 1e-9 || math.Abs(v-want) > 0.05*want {
		t.Errorf("mean %.4g (want %d), variance %.4g (want %.4g)", m, n/b, v, want)
	}
}

func TestPlanFit(t *testing.T) {
	small := hoffmannData(t, 0.02, 1)
	pl := PlanFit(Chinchilla{}, small, DefaultOptions())
	if pl.ScreenPoints != 0 || pl.Subsets != 0 || pl.Bootstrap != 1000 || pl.Starts != 4500 || !(pl.Seconds > 0) {
		t.Errorf("250 points: %+v", pl)
	}
	big := manyPoints(t, 24000, 1)
	pl = PlanFit(Chinchilla{}, big, optsWith(func(o *Options) { o.Holdout = 5 }))
	if pl.ScreenPoints != 500 || pl.Subsets != 10 || pl.SubsetPoints != 5000 || pl.holdoutRefits != 4 {
		t.Errorf("24,000 points: %+v", pl)
	}
	if got := pl.String(); got != "24000 points, 4500 starts screened on 500 of them, the best optima refitted on all; 1000 resamples as a bag of little bootstraps (10 subsets of 5000 points); a holdout fit without the 5 largest" {
		t.Errorf("plan: %s", got)
	}
}

func TestContenders(t *testing.T) {
	d := hoffmannData(t, 0.02, 2)
	p := newProblem(Chinchilla{}, d, NoTransform, Huber, 1e-3)
	best := p.minimize(Chinchilla{}.Internal(Hoffmann), 1e-10, 5000).theta
	near := append([]float64(nil), best...)
	near[3] += 1e-4 // a hair off: a resample may prefer it
	far := Chinchilla{}.Internal([]float64{1e-5, 10, 1400, 0.07, 0.34})
	got := p.contenders(best, [][]float64{near, far})
	if len(got) != 1 || got[0][3] != near[3] {
		t.Errorf("contenders = %v, want only the one a hair off", got)
	}
}
