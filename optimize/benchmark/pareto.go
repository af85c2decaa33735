package benchmark

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/olc-toolkit/olc/internal/parallel"
	"github.com/olc-toolkit/olc/internal/sample"
	"github.com/olc-toolkit/olc/optimize"
	"github.com/olc-toolkit/olc/optimize/functions"
)

// MultiProblem is a multi-objective test problem in a dimension, with its
// search space.
type MultiProblem struct {
	Function *functions.Multi
	Dim      int
	Space    *optimize.Space
}

// NewMultiProblem returns the problem called name in dimension dim (0:
// the problem's own).
func NewMultiProblem(name string, dim int) (*MultiProblem, error) {
	f, ok := functions.LookupMulti(name)
	if !ok {
		return nil, fmt.Errorf("unknown problem %q; allowed: %v", name, functions.MultiNames())
	}
	if dim == 0 {
		dim = max(f.Dim, f.MinDim)
	}
	if !f.AcceptsDim(dim) {
		return nil, fmt.Errorf("%s is not defined in %d dimensions", name, dim)
	}
	space, err := boxSpace(f.Low(dim), f.High(dim))
	if err != nil {
		return nil, err
	}
	return &MultiProblem{Function: f, Dim: dim, Space: space}, nil
}

// Name returns the problem's name with its dimension when it has several.
func (p *MultiProblem) Name() string {
	if p.Function.Dim > 0 {
		return p.Function.Name
	}
	return fmt.Sprintf("%s-%dd", p.Function.Name, p.Dim)
}

// HypervolumeTrace runs one optimization of budget evaluations and returns
// the hypervolume of the points found so far after each evaluation, from
// the problem's reference point.
func HypervolumeTrace(ctx context.Context, p *MultiProblem, s optimize.Sampler, budget int) ([]float64, error) {
	m := p.Function.Objectives
	h := &optimize.History{Direction: optimize.Minimize, Objectives: slices.Repeat([]optimize.Direction{optimize.Minimize}, m)}
	names := p.Space.Names()
	var pts [][]float64
	trace := make([]float64, 0, budget)
	for n := range budget {
		prop, err := s.Propose(ctx, h)
		if err == optimize.ErrExhausted {
			break
		}
		if err != nil {
			return trace, err
		}
		x := make([]float64, p.Dim)
		for i, name := range names {
			x[i] = prop.Params[name].(float64)
		}
		v := p.Function.Eval(x)
		pts = append(pts, v)
		trace = append(trace, optimize.Hypervolume(pts, p.Function.Ref))
		h.Trials = append(h.Trials, optimize.Observation{Number: n, Params: prop.Params, State: optimize.Complete, Value: v[0], Values: v, Key: prop.Key})
	}
	return trace, nil
}

// HVResult is the hypervolume one sampler reached on one problem at one
// budget over the seeds.
type HVResult struct {
	Problem string  `json:"problem"`
	Sampler string  `json:"sampler"`
	Budget  int     `json:"budget"`
	Seeds   int     `json:"seeds"`
	Median  float64 `json:"median_hv"`
	Q1      float64 `json:"q1_hv"`
	Q3      float64 `json:"q3_hv"`
	// MaxHV is the true front's hypervolume (0 when unknown), and Share
	// the median's share of it.
	MaxHV float64 `json:"max_hv"`
	Share float64 `json:"share"`
	// Wins counts the seeds on which this sampler beat random search's
	// run of the same seed (for random search itself, 0).
	Wins int `json:"wins_over_random"`
}

// RunPareto runs every sampler on every problem for each seed and
// reports the hypervolume at each budget.
func RunPareto(ctx context.Context, probs []*MultiProblem, samplers []Sampler, budgets []int, seeds int) ([]HVResult, error) {
	maxB := slices.Max(budgets)
	type job struct{ p, s, seed int }
	var jobs []job
	for p := range probs {
		for s := range samplers {
			for seed := range seeds {
				jobs = append(jobs, job{p, s, seed})
			}
		}
	}
	traces := make([][]float64, len(jobs))
	errs := make([]error, len(jobs))
	parallel.For(len(jobs), func(i int) {
		j := jobs[i]
		smp, err := samplers[j.s].New(probs[j.p].Space, uint64(j.seed), maxB)
		if err != nil || smp == nil {
			errs[i] = err
			return
		}
		traces[i], errs[i] = HypervolumeTrace(ctx, probs[j.p], smp, maxB)
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	at := func(p, s, seed, b int) float64 {
		t := traces[(p*len(samplers)+s)*seeds+seed]
		if len(t) == 0 {
			return math.NaN()
		}
		return t[min(b, len(t))-1]
	}
	randomIdx := slices.IndexFunc(samplers, func(s Sampler) bool { return s.Name == "random" })
	var out []HVResult
	for p, prob := range probs {
		for s, smp := range samplers {
			for _, b := range budgets {
				vals := make([]float64, seeds)
				wins := 0
				for seed := range seeds {
					vals[seed] = at(p, s, seed, b)
					if randomIdx >= 0 && s != randomIdx && vals[seed] > at(p, randomIdx, seed, b) {
						wins++
					}
				}
				sort.Float64s(vals)
				r := HVResult{Problem: prob.Name(), Sampler: smp.Name, Budget: b, Seeds: seeds,
					Median: sample.Quantile(vals, 0.5), Q1: sample.Quantile(vals, 0.25), Q3: sample.Quantile(vals, 0.75), Wins: wins}
				if prob.Function.MaxHV != nil {
					r.MaxHV = prob.Function.MaxHV(prob.Dim)
					r.Share = r.Median / r.MaxHV
				}
				out = append(out, r)
			}
		}
	}
	return out, nil
}
