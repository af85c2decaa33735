package experiments_test

import (
	"context"
	"fmt"

	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/optimize"
)

// ExampleOptimize minimizes a Go function over a grid, four evaluations at
// a time, and prints the best point.
func ExampleOptimize() {
	space, err := optimize.NewSpace(
		optimize.Param{Name: "x", Kind: optimize.Float, Low: -5, High: 5, Step: 0.5},
		optimize.Param{Name: "layers", Kind: optimize.Int, Low: 1, High: 4},
		optimize.Param{Name: "act", Kind: optimize.Categorical, Values: []any{"relu", "gelu"}},
	)
	if err != nil {
		panic(err)
	}
	f := func(ctx context.Context, p optimize.Params) (float64, error) {
		x, layers := p["x"].(float64), p["layers"].(int64)
		loss := (x-1.5)*(x-1.5) + 0.1*float64(layers-3)*float64(layers-3)
		if p["act"] == "relu" {
			loss += 0.05
		}
		return loss, nil
	}
	grid, err := optimize.NewGrid(space)
	if err != nil {
		panic(err)
	}
	res, err := experiments.Optimize(context.Background(), space, f, experiments.OptimizeOptions{
		Trials:   grid.Size(),
		Sampler:  grid,
		Parallel: 4,
	})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d trials, best value %.2f at x = %v, layers = %v, act = %v\n",
		len(res.Trials), res.BestValue, res.BestParams["x"], res.BestParams["layers"], res.BestParams["act"])
	// Output:
	// 168 trials, best value 0.00 at x = 1.5, layers = 3, act = gelu
}

// ExampleOptimize_random runs seeded random search: the same seed gives the
// same trials.
func ExampleOptimize_random() {
	space, _ := optimize.NewSpace(
		optimize.Param{Name: "lr", Kind: optimize.Float, Low: 1e-5, High: 1e-1, Log: true},
	)
	f := func(ctx context.Context, p optimize.Params) (float64, error) {
		lr := p["lr"].(float64)
		return (lr - 3e-3) * (lr - 3e-3), nil
	}
	a, _ := experiments.Optimize(context.Background(), space, f, experiments.OptimizeOptions{Trials: 50, Seed: 42})
	b, _ := experiments.Optimize(context.Background(), space, f, experiments.OptimizeOptions{Trials: 50, Seed: 42})
	fmt.Println(a.BestTrial == b.BestTrial, a.BestParams.Equal(b.BestParams))
	fmt.Printf("best lr within 20%% of 3e-3: %v\n", a.BestParams["lr"].(float64) > 2.4e-3 && a.BestParams["lr"].(float64) < 3.6e-3)
	// Output:
	// true true
	// best lr within 20% of 3e-3: true
}
