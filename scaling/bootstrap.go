package scaling

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/olc-toolkit/olc/internal/sample"

	"github.com/olc-toolkit/olc/internal/parallel"
)

// bootstrap refits res's law on opts.Bootstrap resamples of the points
// (rows drawn with replacement, as multiplicities), each from the warm
// starts, and fills in the standard errors and 95% percentile intervals of
// the parameters and the derived quantities. Resample b draws from a PCG
// seeded with (opts.Seed, b), so the outcome does not depend on
// scheduling.
func bootstrap(ctx context.Context, res *Result, d *Data, p *problem, warm [][]float64, opts Options, tick func()) error {
	B := opts.Bootstrap
	n := len(p.lx)
	samples := make([][]float64, B)
	// A resample can hold too few distinct points to identify the law (a
	// line through one distinct size); its fit would be arbitrary, so it
	// is left out and counted.
	degenerate := make([]bool, B)
	err := parallel.ForContext(ctx, opts.Workers, B, func(b int) {
		w := resampleWeights(opts.Seed, b, n)
		var idx []int
		for i, wi := range w {
			if wi > 0 {
				idx = append(idx, i)
			}
		}
		if len(idx) < n && identifiableWith(p.law, d.subset(idx), 0) != "" {
			degenerate[b] = true
		} else if best := p.withWeights(w).bestOf(warm, opts); best.converged {
			samples[b] = p.law.Natural(best.theta)
			if !allFinite(samples[b]) {
				samples[b] = nil
			}
		}
		if tick != nil {
			tick()
		}
	})
	if err != nil {
		return err
	}
	info := &BootstrapInfo{Resamples: B, Seed: opts.Seed}
	for b, s := range samples {
		if degenerate[b] {
			info.Degenerate++
			continue
		}
		if s == nil {
			info.Failed++
			continue
		}
		info.Samples = append(info.Samples, s)
	}
	res.Bootstrap = info
	if len(info.Samples) < 2 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("only %d of %d bootstrap resamples converged; no intervals", len(info.Samples), B))
		return nil
	}
	if info.Degenerate > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d of %d bootstrap resamples held too few distinct points to identify the law and are left out of the intervals", info.Degenerate, B))
	}
	if info.Failed > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d of %d bootstrap resamples did not converge and are left out of the intervals", info.Failed, B))
	}
	values := res.quantities(res.Values(), opts)
	cols := make([][]float64, len(values))
	for _, smp := range info.Samples {
		for q, v := range res.quantities(smp, opts) {
			cols[q] = append(cols[q], v)
		}
	}
	ests := make([]Estimate, len(values))
	for q := range values {
		ests[q] = withInterval(values[q], cols[q])
	}
	res.setQuantities(ests)
	return nil
}

// quantities returns every quantity a bootstrap gives an interval for, at
// the reported parameters nat: the parameters, then for a law of N and D
// the exponents a, b and G and, for each compute budget, the optimal N, D,
// tokens per parameter and loss.
func (res *Result) quantities(nat []float64, opts Options) []float64 {
	out := slices.Clone(nat)
	if res.Exponents == nil {
		return out
	}
	dv, _ := derive(res.Law, nat, opts.Compute, opts.Transform)
	out = append(out, dv.a, dv.b, dv.g)
	for j := range opts.Compute {
		out = append(out, dv.n[j], dv.d[j], dv.d[j]/dv.n[j], dv.loss[j])
	}
	return out
}

// setQuantities stores estimates in the order of quantities.
func (res *Result) setQuantities(e []Estimate) {
	for i, name := range res.ParamNames {
		res.Params[name] = e[i]
	}
	if res.Exponents == nil {
		return
	}
	q := len(res.ParamNames)
	res.Exponents.A, res.Exponents.B, res.Exponents.G = e[q], e[q+1], e[q+2]
	q += 3
	for j := range res.Optimal {
		o := &res.Optimal[j]
		o.N, o.D, o.TokensPerParam, o.Loss = e[q], e[q+1], e[q+2], e[q+3]
		q += 4
	}
}

// withInterval returns v with the standard deviation and the 2.5% and
// 97.5% percentiles of its bootstrap replicates xs (non-finite replicates
// are dropped).
func withInterval(v float64, xs []float64) Estimate {
	fin := make([]float64, 0, len(xs))
	for _, x := range xs {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			fin = append(fin, x)
		}
	}
	if len(fin) < 2 {
		return pointEstimate(v)
	}
	sort.Float64s(fin)
	var mean float64
	for _, x := range fin {
		mean += x
	}
	mean /= float64(len(fin))
	var ss float64
	for _, x := range fin {
		ss += (x - mean) * (x - mean)
	}
	return Estimate{Value: v, SE: math.Sqrt(ss / float64(len(fin)-1)), CI: [2]float64{sample.Quantile(fin, 0.025), sample.Quantile(fin, 0.975)}}
}
