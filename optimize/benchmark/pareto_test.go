package benchmark_test

import (
	"context"
	"testing"

	"github.com/olc-toolkit/olc/optimize/benchmark"
)

// TestParEGOBeatsRandom: on Branin–Currin and the 4-d ZDT1, Bayesian
// optimization with ParEGO's scalarizations finds a front of larger
// hypervolume than random search with 30 evaluations on every seed, and
// no front's hypervolume exceeds the true front's.
func TestParEGOBeatsRandom(t *testing.T) {
	bc, err := benchmark.NewMultiProblem("branin-currin", 0)
	if err != nil {
		t.Fatal(err)
	}
	zdt, err := benchmark.NewMultiProblem("zdt1", 4)
	if err != nil {
		t.Fatal(err)
	}
	res, err := benchmark.RunPareto(context.Background(), []*benchmark.MultiProblem{bc, zdt},
		[]benchmark.Sampler{benchmark.Bayes("ucb"), benchmark.Random}, []int{30}, 4)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Q3 > r.MaxHV {
			t.Errorf("%s %s: hypervolume %v above the true front's %v", r.Problem, r.Sampler, r.Q3, r.MaxHV)
		}
		if r.Sampler == "bayes-ucb" && r.Wins != 4 {
			t.Errorf("%s: ParEGO beat random search on %d of 4 seeds (median %.4g)", r.Problem, r.Wins, r.Median)
		}
	}
}
