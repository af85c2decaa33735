// Package benchmark measures samplers on test functions with known optima:
// the simple regret (best value found minus the optimum) after a budget of
// evaluations, over many seeds, and the time a sampler takes to propose a
// point as the history grows. 'olc bench optimize' prints its tables.
package benchmark

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/olc-toolkit/olc/internal/sample"

	"github.com/olc-toolkit/olc/internal/parallel"
	"github.com/olc-toolkit/olc/optimize"
	"github.com/olc-toolkit/olc/optimize/functions"
)

// Problem is a test function in a given dimension, over its usual domain.
type Problem struct {
	Name     string
	Function *functions.Function
	Dim      int
	Space    *optimize.Space
}

// Optimum returns the function's global minimum.
func (p *Problem) Optimum() float64 { return p.Function.Min(p.Dim) }

// boxSpace returns the space of float parameters x1, x2, … over the box
// [lo, hi].
func boxSpace(lo, hi []float64) (*optimize.Space, error) {
	params := make([]optimize.Param, len(lo))
	for i := range params {
		params[i] = optimize.Param{Name: fmt.Sprintf("x%d", i+1), Kind: optimize.Float, Low: lo[i], High: hi[i]}
	}
	return optimize.NewSpace(params...)
}

// NewProblem returns the function name in dimension dim (0: its own
// dimension) over its usual domain, one float parameter per dimension.
func NewProblem(name string, dim int) (*Problem, error) {
	f, ok := functions.Lookup(name)
	if !ok {
		return nil, fmt.Errorf("unknown function %q; allowed: %v", name, functions.Names())
	}
	if dim == 0 {
		dim = f.Dim
	}
	if dim == 0 || !f.AcceptsDim(dim) {
		return nil, fmt.Errorf("%s takes %s dimensions, not %d", name, f.DimString(), dim)
	}
	space, err := boxSpace(f.Low(dim), f.High(dim))
	if err != nil {
		return nil, err
	}
	label := name
	if f.Dim == 0 {
		label = fmt.Sprintf("%s-%dd", name, dim)
	}
	return &Problem{Name: label, Function: f, Dim: dim, Space: space}, nil
}

// DefaultProblems are the benchmark: Branin, Hartmann6, and Ackley,
// Rosenbrock and Levy in five dimensions.
func DefaultProblems() []*Problem {
	var out []*Problem
	for _, s := range []struct {
		name string
		dim  int
	}{{"branin", 0}, {"hartmann6", 0}, {"ackley", 5}, {"rosenbrock", 5}, {"levy", 5}} {
		p, err := NewProblem(s.name, s.dim)
		if err != nil {
			panic(err)
		}
		out = append(out, p)
	}
	return out
}

// Sampler names a sampler and builds it for a problem, a seed and a budget.
type Sampler struct {
	Name string
	// New returns the sampler, or nil when it does not apply (a grid too
	// coarse to be sensible in the problem's dimension).
	New func(space *optimize.Space, seed uint64, budget int) (optimize.Sampler, error)
}

// Bayes returns the Bayesian sampler with an acquisition.
func Bayes(acquisition string) Sampler {
	return Sampler{Name: "bayes-" + acquisition, New: func(space *optimize.Space, seed uint64, budget int) (optimize.Sampler, error) {
		o := optimize.DefaultBayesOptions(space.Len())
		o.Acquisition = acquisition
		return optimize.NewBayes(space, seed, o)
	}}
}

// Random is random search.
var Random = Sampler{Name: "random", New: func(space *optimize.Space, seed uint64, budget int) (optimize.Sampler, error) {
	return optimize.NewRandom(space, seed, false)
}}

// CMAES is CMA-ES with its default population.
var CMAES = Sampler{Name: "cmaes", New: func(space *optimize.Space, seed uint64, budget int) (optimize.Sampler, error) {
	return optimize.NewCMAES(space, seed, 0)
}}

// Grid is grid search with as many points per dimension as the budget
// allows; it applies only where that is at least 4 points per dimension.
// Its seed is ignored (a grid has no randomness).
var Grid = Sampler{Name: "grid", New: func(space *optimize.Space, seed uint64, budget int) (optimize.Sampler, error) {
	d := space.Len()
	k := int(math.Floor(math.Pow(float64(budget), 1/float64(d)) + 1e-9))
	if k < 4 {
		return nil, nil
	}
	params := slices.Clone(space.Params())
	for i := range params {
		params[i].Points = k
	}
	s, err := optimize.NewSpace(params...)
	if err != nil {
		return nil, err
	}
	return optimize.NewGrid(s)
}}

// DefaultSamplers are bayes with each acquisition, random and grid.
func DefaultSamplers() []Sampler {
	return []Sampler{Bayes(optimize.AcquisitionEI), Bayes(optimize.AcquisitionUCB), Bayes(optimize.AcquisitionPI), Random, Grid}
}

// Trace runs one optimization of budget evaluations and returns the best
// value after each evaluation (NaN-free; the sampler's failure ends it).
func Trace(ctx context.Context, p *Problem, s optimize.Sampler, budget int) ([]float64, error) {
	h := &optimize.History{Direction: optimize.Minimize}
	x := make([]float64, p.Dim)
	names := p.Space.Names()
	best := math.Inf(1)
	trace := make([]float64, 0, budget)
	for n := range budget {
		prop, err := s.Propose(ctx, h)
		if err == optimize.ErrExhausted {
			break
		}
		if err != nil {
			return trace, err
		}
		for i, name := range names {
			x[i] = prop.Params[name].(float64)
		}
		v := p.Function.Eval(x)
		best = min(best, v)
		trace = append(trace, best)
		h.Trials = append(h.Trials, optimize.Observation{Number: n, Params: prop.Params, State: optimize.Complete, Value: v, Key: prop.Key})
	}
	return trace, nil
}

// Result summarizes the simple regret of one sampler on one problem at one
// budget over the seeds.
type Result struct {
	Problem string  `json:"function"`
	Sampler string  `json:"sampler"`
	Budget  int     `json:"budget"`
	Seeds   int     `json:"seeds"`
	Median  float64 `json:"median_regret"`
	Q1      float64 `json:"q1_regret"`
	Q3      float64 `json:"q3_regret"`
	// MeanBest is the mean of the best values found.
	MeanBest float64 `json:"mean_best"`
	// RandomRatio is random search's median regret over this sampler's
	// (NaN for random itself).
	RandomRatio float64 `json:"random_over_this"`
}

// Options select what Run measures.
type Options struct {
	Problems []*Problem
	Samplers []Sampler
	Budgets  []int
	Seeds    int
	// Progress, when set, is called after each run with the number done and
	// the total.
	Progress func(done, total int)
}

type job struct {
	p    *Problem
	s    Sampler
	seed uint64
}

// Run measures every problem × sampler over Seeds seeds, each run to the
// largest budget, runs spread over the cores.
func Run(ctx context.Context, cfg Options) ([]Result, error) {
	budgets := slices.Clone(cfg.Budgets)
	slices.Sort(budgets)
	var jobs []job
	for _, p := range cfg.Problems {
		for _, s := range cfg.Samplers {
			for seed := range cfg.Seeds {
				jobs = append(jobs, job{p, s, uint64(seed)})
			}
		}
	}
	// bests[problem, sampler, budget] holds one best value per seed.
	type key struct {
		p, s   string
		budget int
	}
	var mu sync.Mutex
	bests := map[key][]float64{}
	done := 0
	var firstErr error
	parallel.For(len(jobs), func(k int) {
		jb := jobs[k]
		if ctx.Err() != nil {
			return
		}
		record := func(b int, v float64) {
			mu.Lock()
			key := key{jb.p.Name, jb.s.Name, b}
			bests[key] = append(bests[key], v)
			mu.Unlock()
		}
		err := runJob(ctx, jb, budgets, record)
		mu.Lock()
		if err != nil && firstErr == nil {
			firstErr = fmt.Errorf("%s on %s, seed %d: %w", jb.s.Name, jb.p.Name, jb.seed, err)
		}
		done++
		if cfg.Progress != nil {
			cfg.Progress(done, len(jobs))
		}
		mu.Unlock()
	})
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var out []Result
	for _, p := range cfg.Problems {
		for _, b := range budgets {
			randomMedian := math.NaN()
			if vals := bests[key{p.Name, Random.Name, b}]; len(vals) > 0 {
				randomMedian = sample.Quantile(regrets(vals, p.Optimum()), 0.5)
			}
			for _, s := range cfg.Samplers {
				vals := bests[key{p.Name, s.Name, b}]
				if len(vals) == 0 {
					continue
				}
				r := regrets(vals, p.Optimum())
				res := Result{Problem: p.Name, Sampler: s.Name, Budget: b, Seeds: len(vals),
					Median: sample.Quantile(r, 0.5), Q1: sample.Quantile(r, 0.25), Q3: sample.Quantile(r, 0.75), MeanBest: mean(vals), RandomRatio: math.NaN()}
				if s.Name != Random.Name {
					res.RandomRatio = randomMedian / res.Median
				}
				out = append(out, res)
			}
		}
	}
	return out, nil
}

// runJob runs one sampler on one problem with one seed to the largest
// budget, recording the best value at each budget. Grid search, which has
// no seed, runs once per budget (its resolution depends on it).
func runJob(ctx context.Context, jb job, budgets []int, record func(budget int, best float64)) error {
	if jb.s.Name == Grid.Name {
		if jb.seed > 0 {
			return nil
		}
		for _, b := range budgets {
			s, err := jb.s.New(jb.p.Space, jb.seed, b)
			if err != nil {
				return err
			}
			if s == nil {
				continue // too coarse a grid at this budget
			}
			tr, err := Trace(ctx, jb.p, s, b)
			if err != nil {
				return err
			}
			record(b, tr[len(tr)-1])
		}
		return nil
	}
	maxBudget := budgets[len(budgets)-1]
	s, err := jb.s.New(jb.p.Space, jb.seed, maxBudget)
	if err != nil {
		return err
	}
	tr, err := Trace(ctx, jb.p, s, maxBudget)
	if err != nil {
		return err
	}
	for _, b := range budgets {
		record(b, tr[min(b, len(tr))-1])
	}
	return nil
}

func regrets(vals []float64, opt float64) []float64 {
	r := make([]float64, len(vals))
	for i, v := range vals {
		r[i] = max(v-opt, 0)
	}
	sort.Float64s(r)
	return r
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

// Timing is the time Bayes takes to propose one point after a history of
// Observations complete trials.
type Timing struct {
	Dim          int `json:"dim"`
	Observations int `json:"observations"`
	// Refit says whether the proposal refitted the model's
	// hyperparameters (beyond 250 observations Bayes refits them every
	// n/50 observations and reuses them in between).
	Refit       bool          `json:"refit"`
	Fit         time.Duration `json:"fit_ns"`
	Acquisition time.Duration `json:"acquisition_ns"`
	Total       time.Duration `json:"total_ns"`
}

// ProposeTimes measures one global-model Bayes proposal on Hartmann6 after n
// quasi-random complete trials, for each n and both kinds of proposal where
// they differ: one that refits the hyperparameters (from the previous
// proposal's fit, as in a study) and one that reuses them. It returns the
// median of repeats measurements of each.
func ProposeTimes(ctx context.Context, ns []int, repeats int) ([]Timing, error) {
	p, err := NewProblem("hartmann6", 0)
	if err != nil {
		return nil, err
	}
	var out []Timing
	for _, n := range ns {
		kinds := []int{n} // a refit happens at n when n ≤ 250 or n % (n/50) == 0
		if n > 250 {
			kinds = []int{n - n%(n/50), n - n%(n/50) + 1}
		}
		for _, m := range kinds {
			var runs []Timing
			for rep := range max(repeats, 1) {
				t, err := proposeTime(ctx, p, m, uint64(rep))
				if err != nil {
					return nil, err
				}
				runs = append(runs, t)
			}
			sort.Slice(runs, func(a, b int) bool { return runs[a].Total < runs[b].Total })
			out = append(out, runs[len(runs)/2])
		}
	}
	return out, nil
}

func proposeTime(ctx context.Context, p *Problem, n int, seed uint64) (Timing, error) {
	o := optimize.DefaultBayesOptions(p.Space.Len())
	o.NInitial = 1
	// The global model's proposal is the one whose cost grows with the
	// history; a local one fits a neighbourhood of max(20, 4d) trials.
	o.LocalEvery = 0
	s, err := optimize.NewBayes(p.Space, seed, o)
	if err != nil {
		return Timing{}, err
	}
	r, _ := optimize.NewRandom(p.Space, seed, true)
	h := &optimize.History{Direction: optimize.Minimize}
	x := make([]float64, p.Dim)
	for i := range n {
		prop, _ := r.Propose(ctx, h)
		for k, name := range p.Space.Names() {
			x[k] = prop.Params[name].(float64)
		}
		h.Trials = append(h.Trials, optimize.Observation{Number: i, Params: prop.Params, State: optimize.Complete, Value: p.Function.Eval(x)})
	}
	// The previous proposal of a study fitted the first n−1 trials.
	if _, err := s.Propose(ctx, &optimize.History{Direction: h.Direction, Trials: h.Trials[:n-1]}); err != nil {
		return Timing{}, err
	}
	start := time.Now()
	if _, err := s.Propose(ctx, h); err != nil {
		return Timing{}, err
	}
	total := time.Since(start)
	t := s.Timings()
	refit := n <= 250 || n%(n/50) == 0
	return Timing{Dim: p.Dim, Observations: n, Refit: refit, Fit: t.Fit, Acquisition: t.Acquisition, Total: total}, nil
}
