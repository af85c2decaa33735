package experiments

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/olc-toolkit/olc/optimize"
)

// Func is a function for Optimize to optimize.
type Func func(ctx context.Context, p optimize.Params) (float64, error)

// OptimizeOptions configure Optimize. The zero value of every field but Trials is
// valid.
type OptimizeOptions struct {
	// Trials is the number of complete evaluations wanted.
	Trials int
	// Direction defaults to optimize.Minimize.
	Direction optimize.Direction
	// Sampler defaults to random search with Seed.
	Sampler optimize.Sampler
	Seed    uint64
	// Parallel is the number of concurrent evaluations (default 1).
	Parallel int
	// MaxRetries is how many times a failed evaluation is retried.
	MaxRetries int
	// Store keeps the trials; the default keeps them in memory. With a
	// store that already holds Study, Optimize resumes it.
	Store Store
	// Study names the study (default "study").
	Study string
}

// Result is the outcome of Optimize.
type Result struct {
	// BestParams and BestValue are those of the best complete trial,
	// BestTrial its number.
	BestParams optimize.Params
	BestValue  float64
	BestTrial  int
	// Trials are all the study's trials in number order.
	Trials []Trial
	// Summary counts them.
	Summary *Summary
}

// Optimize optimizes f over space in-process: it is the Runner with f as the
// objective, reporting the metric "value". It returns the result together
// with the runner's error when the run stopped early (ErrInterrupted, a
// *FailuresError) after some trials completed.
func Optimize(ctx context.Context, space *optimize.Space, f Func, s OptimizeOptions) (*Result, error) {
	if s.Trials <= 0 {
		return nil, fmt.Errorf("optimize: Trials must be positive, not %d", s.Trials)
	}
	if s.Direction == "" {
		s.Direction = optimize.Minimize
	}
	if _, ok := optimize.ParseDirection(string(s.Direction)); !ok {
		return nil, fmt.Errorf("optimize: unknown direction %q", s.Direction)
	}
	if s.Sampler == nil {
		r, err := optimize.NewRandom(space, s.Seed, false)
		if err != nil {
			return nil, err
		}
		s.Sampler = r
	}
	if s.Store == nil {
		s.Store = NewMemoryStore()
	}
	if s.Study == "" {
		s.Study = "study"
	}
	id := Identity{Direction: s.Direction, Metric: "value", Sampler: s.Sampler.Name(), Seed: s.Seed, Space: space, Objective: map[string]any{"kind": "func"}}
	study, _, _, err := OpenStudy(ctx, s.Store, &Study{
		Name: s.Study, Direction: s.Direction, Metric: "value", Sampler: s.Sampler.Name(), Seed: s.Seed,
		Identity: id.String(), Created: time.Now().UTC(),
	}, false)
	if err != nil {
		return nil, err
	}
	r := &Runner{
		Store: s.Store, Study: study, Space: space, Sampler: s.Sampler,
		Objective: ObjectiveFunc(func(ctx context.Context, run TrialRun) (Outcome, error) {
			v, err := f(ctx, run.Params)
			if err != nil {
				return Outcome{}, err
			}
			return Outcome{Metrics: map[string]float64{"value": v}}, nil
		}),
		Trials: s.Trials, Parallel: s.Parallel, MaxRetries: s.MaxRetries,
	}
	sum, runErr := r.Run(ctx)
	if sum == nil {
		return nil, runErr
	}
	trials, err := s.Store.Trials(context.WithoutCancel(ctx), study.ID, 0)
	if err != nil {
		return nil, errors.Join(runErr, err)
	}
	res := &Result{Trials: trials, Summary: sum, BestTrial: -1}
	if b := Best(trials, s.Direction); b != nil {
		res.BestParams, res.BestValue, res.BestTrial = b.Params, b.Value, b.Number
	}
	return res, runErr
}
