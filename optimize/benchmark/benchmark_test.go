package benchmark_test

import (
	"context"
	"math"
	"testing"

	"github.com/olc-toolkit/olc/optimize"
	"github.com/olc-toolkit/olc/optimize/benchmark"
)

// The short versions of the regret checks of 'olc bench optimize', which
// runs the full table (20 seeds, every function and acquisition).

// TestBraninShort: median simple regret ≤ 1e-3 within 30 evaluations,
// over 5 seeds (the full benchmark: 20).
func TestBraninShort(t *testing.T) {
	p, _ := benchmark.NewProblem("branin", 0)
	res, err := benchmark.Run(context.Background(), benchmark.Options{
		Problems: []*benchmark.Problem{p}, Samplers: []benchmark.Sampler{benchmark.Bayes(optimize.AcquisitionUCB), benchmark.Random},
		Budgets: []int{30}, Seeds: 5,
	})
	if err != nil {
		t.Fatal(err)
	}
	bayes, random := find(t, res, "bayes-ucb", 30), find(t, res, "random", 30)
	if bayes.Median > 1e-3 {
		t.Errorf("bayes on Branin: median regret %.3g after 30 evaluations, want ≤ 1e-3", bayes.Median)
	}
	if bayes.RandomRatio < 10 {
		t.Errorf("bayes on Branin: random's median regret is only %.3g× bayes's", bayes.RandomRatio)
	}
	if !math.IsNaN(random.RandomRatio) {
		t.Errorf("random's ratio to itself = %v, want NaN", random.RandomRatio)
	}
}

// TestBeatsRandomShort: on a 5-d function, bayes beats random search by at
// least 10× in median regret at 60 evaluations, over 3 seeds (the full
// benchmark: every function, 100 evaluations, 20 seeds).
func TestBeatsRandomShort(t *testing.T) {
	if testing.Short() {
		t.Skip("runs in the full test suite; -short leaves out the 5-d regret check")
	}
	p, _ := benchmark.NewProblem("rosenbrock", 5)
	res, err := benchmark.Run(context.Background(), benchmark.Options{
		Problems: []*benchmark.Problem{p}, Samplers: []benchmark.Sampler{benchmark.Bayes(optimize.AcquisitionUCB), benchmark.Random},
		Budgets: []int{60}, Seeds: 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	if r := find(t, res, "bayes-ucb", 60).RandomRatio; r < 10 {
		t.Errorf("bayes on 5-d Rosenbrock: random's median regret is %.3g× bayes's at 60 evaluations, want ≥ 10", r)
	}
}

func find(t *testing.T, res []benchmark.Result, sampler string, budget int) benchmark.Result {
	t.Helper()
	for _, r := range res {
		if r.Sampler == sampler && r.Budget == budget {
			return r
		}
	}
	t.Fatalf("no result for %s at %d", sampler, budget)
	return benchmark.Result{}
}

// TestRunStatistics checks the summary statistics on a sampler whose
// results are known: grid search is deterministic, and with a budget of
// 4 points per dimension on the sphere over [-5.12, 5.12]² its best point
// is (±1.7067, ±1.7067), regret 2·1.7067².
func TestRunStatistics(t *testing.T) {
	p, _ := benchmark.NewProblem("sphere", 2)
	res, err := benchmark.Run(context.Background(), benchmark.Options{
		Problems: []*benchmark.Problem{p}, Samplers: []benchmark.Sampler{benchmark.Grid}, Budgets: []int{16, 10}, Seeds: 3,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 {
		t.Fatalf("%d results, want 1 (a 10-point budget is too coarse a grid in 2-d)", len(res))
	}
	r := res[0]
	x := 5.12 - 2*5.12/3
	if want := 2 * x * x; math.Abs(r.Median-want) > 1e-9 || r.Q1 != r.Median || r.Q3 != r.Median || r.Seeds != 1 {
		t.Errorf("grid result %+v, want regret %.6g from one run", r, want)
	}
}

func TestNewProblem(t *testing.T) {
	for _, c := range []struct {
		name string
		dim  int
		ok   bool
	}{{"branin", 0, true}, {"branin", 3, false}, {"levy", 0, false}, {"levy", 5, true}, {"nope", 2, false}} {
		if _, err := benchmark.NewProblem(c.name, c.dim); (err == nil) != c.ok {
			t.Errorf("NewProblem(%q, %d) = %v", c.name, c.dim, err)
		}
	}
}

// benchPropose measures one Bayes proposal on Hartmann6 after n complete
// trials, refitting the hyperparameters from the previous fit.
func benchPropose(b *testing.B, n int) {
	b.ReportAllocs()
	for range b.N {
		ts, err := benchmark.ProposeTimes(context.Background(), []int{n}, 1)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(ts[0].Total.Seconds(), "s/propose")
		b.ReportMetric(ts[0].Fit.Seconds(), "s/fit")
	}
}

func BenchmarkBayesPropose100(b *testing.B) { benchPropose(b, 100) }
func BenchmarkBayesPropose250(b *testing.B) { benchPropose(b, 250) }
func BenchmarkBayesPropose500(b *testing.B) { benchPropose(b, 500) }
