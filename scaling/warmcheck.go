package scaling

import (
	"context"
	"math"
	"math/rand/v2"
)

// WarmCheck compares, on one bootstrap resample, the optimum the warm
// starts reach with the optimum of the whole grid of starts.
type WarmCheck struct {
	Resample int `json:"resample"`
	// Warm and Grid are the objectives reached.
	Warm float64 `json:"warm"`
	Grid float64 `json:"grid"`
	// ParamRelDiff is the largest relative difference between the two
	// optima's reported parameters.
	ParamRelDiff float64 `json:"param_rel_diff"`
	// WarmStarts and GridStarts count the starts each used.
	WarmStarts int `json:"warm_starts"`
	GridStarts int `json:"grid_starts"`
}

// CheckWarmStarts verifies Fit's shortcut for the bootstrap: for each of
// the given resamples (drawn exactly as Fit draws them for opts.Seed), it
// refits from the warm starts and from every start of the grid, and
// reports both optima. It is what 'olc bench scaling' runs to show that the
// warm starts find the grid's optimum.
func CheckWarmStarts(ctx context.Context, law Law, d *Data, opts Options, resamples []int) ([]WarmCheck, error) {
	opts = opts.resolve(law)
	if err := d.check(law, opts.Transform, opts.Columns); err != nil {
		return nil, err
	}
	p := newProblem(law, d, opts.Transform, opts.Loss, opts.Delta)
	ms, err := runStarts(ctx, p, opts.Starts, opts.Workers, opts.GradTol, opts.MaxIterations, nil)
	if err != nil {
		return nil, err
	}
	if ms.converged == 0 {
		return nil, noConvergence(law, ms, opts)
	}
	warm := ms.warmStarts(opts)
	n := d.Len()
	var out []WarmCheck
	for _, b := range resamples {
		w := resampleWeights(opts.Seed, b, n)
		q := p.withWeights(w)
		wb := q.bestOf(warm, opts)
		grid, err := runStarts(ctx, q, opts.Starts, opts.Workers, opts.GradTol, opts.MaxIterations, nil)
		if err != nil {
			return nil, err
		}
		c := WarmCheck{Resample: b, Warm: wb.f, Grid: grid.best.f, WarmStarts: len(warm), GridStarts: len(opts.Starts)}
		if wb.converged && grid.converged > 0 {
			a, g := law.Natural(wb.theta), law.Natural(grid.best.theta)
			for i := range a {
				c.ParamRelDiff = math.Max(c.ParamRelDiff, math.Abs(a[i]-g[i])/math.Abs(g[i]))
			}
		} else {
			c.ParamRelDiff = math.Inf(1)
		}
		out = append(out, c)
	}
	return out, nil
}

// resampleWeights returns the multiplicities of bootstrap resample b of n
// points: n draws with replacement from a PCG seeded with (seed, b).
func resampleWeights(seed uint64, b, n int) []float64 {
	rng := rand.New(rand.NewPCG(seed, uint64(b)))
	w := make([]float64, n)
	for range n {
		w[rng.IntN(n)]++
	}
	return w
}

// bestOf minimizes from each start in turn and returns the best converged
// outcome (converged is false when none converged).
func (p *problem) bestOf(starts [][]float64, opts Options) local {
	best := local{f: math.Inf(1)}
	for _, th := range starts {
		if l := p.minimize(th, opts.GradTol, opts.MaxIterations); l.converged && l.f < best.f {
			best = l
		}
	}
	return best
}
