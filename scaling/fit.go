package scaling

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"
	"sync/atomic"
	"time"

	"github.com/olc-toolkit/olc/internal/parallel"
)

// Options configure Fit. Start from DefaultOptions, which sets every field
// to the default its comment gives, and change what you need: each field is
// used as it is (a Bootstrap of 0 is no bootstrap).
type Options struct {
	// Loss is the loss on log residuals; default Huber.
	Loss LossKind
	// Delta is the Huber threshold; default 1e-3 (Hoffmann et al. 2022).
	Delta float64
	// Transform maps the metric to the fitted loss; default NoTransform.
	Transform Transform
	// Starts are the initial internal parameter vectors of the multi-start
	// fit; nil (the default) is the law's grid (Law.Starts).
	Starts [][]float64
	// Workers bounds the goroutines that run starts and resamples; 0 (the
	// default) is GOMAXPROCS.
	Workers int
	// MaxIterations bounds the L-BFGS iterations of one start; default
	// 5000. A winning start that hits it is reported (Result.Warnings).
	MaxIterations int
	// GradTol is the ∞-norm of the objective's gradient at which L-BFGS
	// stops; default 1e-10. A start whose line search stalls first (at the
	// limit of floating-point precision) counts as converged when its
	// gradient norm is below 1000·GradTol.
	GradTol float64
	// Bootstrap is the number of bootstrap resamples; default 1000, 0 for
	// no bootstrap.
	Bootstrap int
	// WarmStarts is the number of the grid's best distinct optima (besides
	// the estimate itself) each bootstrap resample starts from, each with
	// the grid point that led to it; default 3.
	WarmStarts int
	// ScreenRows bounds the cost of the start grid on large data: with
	// more points than this, every start is run on a random subsample of
	// ScreenRows points (drawn from Seed), and the subsample's optimum is
	// refitted on all the points, with those of its WarmStarts best other
	// optima whose excess objective is within the subsample's noise.
	// Default 500; 0: the whole grid on all the points whatever their
	// number.
	ScreenRows int
	// LittleBootstrapAbove is the number of points above which the
	// bootstrap is Kleiner et al.'s bag of little bootstraps (2014):
	// LittleSubsets subsets of ⌈n^0.7⌉ points (at least 5,000), each
	// resampled with multinomial weights summing to n, so that a resample
	// costs the subset's size instead of n; the standard errors and
	// interval ends are averaged over the subsets. Default 20,000; 0:
	// never.
	LittleBootstrapAbove int
	// LittleSubsets is the number of subsets of the little bootstrap;
	// default 10. LittleSubsetPoints is their size; 0 (the default) is
	// ⌈n^0.7⌉, at least 5,000 (at most n).
	LittleSubsets, LittleSubsetPoints int
	// Seed seeds the bootstrap's resampling.
	Seed uint64
	// Compute lists compute budgets (FLOPs, C ≈ 6·N·D) for which to report
	// the compute-optimal N and D, for laws of N and D.
	Compute []float64
	// Holdout is the number of largest-compute points to leave out of a
	// second fit, to measure the error of extrapolating to them.
	Holdout int
	// Columns maps law variables (and "loss", "compute") to the names the
	// user knows them by, for messages; optional.
	Columns map[string]string
	// Progress, when not nil, is called with the number of units of work
	// done (starts and resamples) and the total, from any goroutine.
	Progress func(done, total int)
}

// DefaultOptions returns the options of the method as published and
// measured: the Huber loss with δ = 1e-3 on untransformed losses, 1000
// bootstrap resamples from 3 warm starts, and the screening and little
// bootstrap that keep large data affordable.
func DefaultOptions() Options {
	return Options{
		Loss: Huber, Delta: 1e-3, Transform: NoTransform,
		MaxIterations: 5000, GradTol: 1e-10,
		Bootstrap: 1000, WarmStarts: 3,
		ScreenRows: 500, LittleBootstrapAbove: 20_000, LittleSubsets: 10,
	}
}

// resolve fills in what the options leave to the law and the machine: the
// law's start grid and all cores.
func (o Options) resolve(law Law) Options {
	if o.Starts == nil {
		o.Starts = law.Starts()
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	return o
}

func (o Options) validate() error {
	switch o.Loss {
	case Huber, LeastSquares:
	default:
		return fmt.Errorf("unknown loss %q; choose huber or ls", o.Loss)
	}
	if !(o.Delta > 0) || math.IsInf(o.Delta, 0) {
		return fmt.Errorf("the Huber delta must be a positive number, not %v", o.Delta)
	}
	switch o.Transform {
	case NoTransform, Complement:
	default:
		return fmt.Errorf("unknown transform %q; choose none or complement", o.Transform)
	}
	for _, c := range o.Compute {
		if !(c > 0) || math.IsInf(c, 0) {
			return fmt.Errorf("compute budget %v is not a positive number of FLOPs", c)
		}
	}
	if o.Holdout < 0 {
		return fmt.Errorf("holdout must not be negative, not %d", o.Holdout)
	}
	for _, c := range []struct {
		name     string
		v, least int
	}{{"MaxIterations", o.MaxIterations, 1}, {"Bootstrap", o.Bootstrap, 0}, {"WarmStarts", o.WarmStarts, 0},
		{"ScreenRows", o.ScreenRows, 0}, {"LittleBootstrapAbove", o.LittleBootstrapAbove, 0}, {"LittleSubsets", o.LittleSubsets, 1}, {"LittleSubsetPoints", o.LittleSubsetPoints, 0}} {
		if c.v < c.least {
			return fmt.Errorf("%s must be at least %d, not %d (start from DefaultOptions)", c.name, c.least, c.v)
		}
	}
	if !(o.GradTol > 0) {
		return fmt.Errorf("GradTol must be positive, not %v (start from DefaultOptions)", o.GradTol)
	}
	return nil
}

// ErrNoConvergence is returned (wrapped) when no start of a fit converged.
var ErrNoConvergence = errors.New("no start converged")

// multiStart is the outcome of minimizing from many starts.
type multiStart struct {
	best      local
	converged int
	starts    [][]float64 // the starts
	locals    []local     // every start's outcome, in start order
	lowerNC   *local      // a start that did not converge but reached a lower objective
	screen    *Screening  // set when the starts were screened on a subsample
}

// runStarts minimizes p from every start on workers goroutines. Every start
// writes only its own slot, so the outcome does not depend on scheduling;
// ties go to the lower start index.
func runStarts(ctx context.Context, p *problem, starts [][]float64, workers int, gradTol float64, maxIter int, tick func()) (multiStart, error) {
	locals := make([]local, len(starts))
	err := parallel.ForContext(ctx, workers, len(starts), func(i int) {
		locals[i] = p.minimize(starts[i], gradTol, maxIter)
		locals[i].start = i
		if tick != nil {
			tick()
		}
	})
	if err != nil {
		return multiStart{}, err
	}
	ms := pickBest(locals)
	ms.starts = starts
	return ms, nil
}

func pickBest(locals []local) multiStart {
	ms := multiStart{locals: locals, best: local{f: math.Inf(1), start: -1}}
	bestAny := -1
	for i := range locals {
		l := &locals[i]
		if math.IsInf(l.f, 1) {
			continue
		}
		if bestAny < 0 || l.f < locals[bestAny].f {
			bestAny = i
		}
		if !l.converged {
			continue
		}
		ms.converged++
		if ms.best.start < 0 || l.f < ms.best.f {
			ms.best = *l
		}
	}
	if bestAny >= 0 && !locals[bestAny].converged && (ms.best.start < 0 || locals[bestAny].f < ms.best.f-1e-12*math.Abs(ms.best.f)) {
		l := locals[bestAny]
		ms.lowerNC = &l
	}
	return ms
}

// warmStarts returns the starts of each bootstrap resample: the estimate,
// then the grid's best distinct optima with the grid points that led to
// them.
func (ms multiStart) warmStarts(opts Options) [][]float64 {
	return append([][]float64{ms.best.theta}, ms.distinctOptima(opts.WarmStarts, true)...)
}

// distinctOptima returns up to k converged optima other than the best,
// lowest objective first, that differ from the best and from each other,
// with (withStarts) the starts that led to them and to the best.
func (ms multiStart) distinctOptima(k int, withStarts bool) [][]float64 {
	starts := ms.starts
	order := make([]int, 0, len(ms.locals))
	for i, l := range ms.locals {
		if l.converged && !math.IsInf(l.f, 1) {
			order = append(order, i)
		}
	}
	sort.SliceStable(order, func(a, b int) bool { return ms.locals[order[a]].f < ms.locals[order[b]].f })
	kept := [][]float64{ms.best.theta}
	var out [][]float64
	for _, i := range order {
		if len(out) >= 2*k {
			break
		}
		th := ms.locals[i].theta
		if slices.ContainsFunc(kept, func(q []float64) bool { return near(q, th) }) {
			continue
		}
		kept = append(kept, th)
		out = append(out, th)
		if withStarts {
			out = append(out, starts[ms.locals[i].start])
		}
	}
	// Always include the grid start that led to the best.
	if withStarts && ms.best.start >= 0 && ms.best.start < len(starts) {
		out = append(out, starts[ms.best.start])
	}
	return out
}

func near(a, b []float64) bool {
	for i := range a {
		if math.Abs(a[i]-b[i]) > 1e-3*(1+math.Abs(a[i])) {
			return false
		}
	}
	return true
}

// Fit fits law to d: the multi-start minimization of the loss of the log
// residuals, then the bootstrap intervals, the compute-optimal allocation
// and the holdout check that opts ask for.
//
// It returns a *DataError for bad data, an *IdentifiabilityError when the
// data cannot determine the law's parameters, and an error wrapping
// ErrNoConvergence when no start converged.
func Fit(ctx context.Context, law Law, d *Data, opts Options) (*Result, error) {
	opts = opts.resolve(law)
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if err := d.check(law, opts.Transform, opts.Columns); err != nil {
		return nil, err
	}
	if err := Identifiable(law, d); err != nil {
		return nil, err
	}
	if opts.Holdout > 0 {
		if rest := d.Len() - opts.Holdout; rest < len(law.Params())+1 {
			return nil, &IdentifiabilityError{Law: law.Name(), Reason: fmt.Sprintf("holding out %d of %d points leaves %d, and the law's %d parameters need at least %d", opts.Holdout, d.Len(), rest, len(law.Params()), len(law.Params())+1), Alternatives: alternatives(d, law.Name())}
		}
	}
	plan := planFit(d, opts)
	total := plan.units()
	var done atomic.Int64
	tick := func() {
		if opts.Progress != nil {
			opts.Progress(int(done.Add(1)), total)
		}
	}
	// skip counts units that turned out not to be needed.
	skip := func(k int) {
		if opts.Progress != nil && k > 0 {
			opts.Progress(int(done.Add(int64(k))), total)
		}
	}

	t0 := time.Now()
	p := newProblem(law, d, opts.Transform, opts.Loss, opts.Delta)
	ms, err := fitStarts(ctx, law, d, p, opts, tick, skip)
	if err != nil {
		return nil, err
	}
	res := newResult(law, d, opts, p, ms)
	res.Seconds.Fit = time.Since(t0).Seconds()
	if opts.Bootstrap > 0 {
		t0 = time.Now()
		warm := ms.warmStarts(opts)
		if ms.screen != nil {
			// On many points a resample's optimum lies next to one of the
			// full data's: the grid points are not worth their cost, nor
			// are optima that no resample can prefer.
			warm = append([][]float64{ms.best.theta}, p.contenders(ms.best.theta, ms.distinctOptima(opts.WarmStarts, false))...)
		}
		if plan.Subsets > 0 {
			err = littleBootstrap(ctx, res, d, warm, opts, plan, tick)
		} else {
			err = bootstrap(ctx, res, d, p, warm, opts, tick)
		}
		if err != nil {
			return nil, err
		}
		res.Seconds.Bootstrap = time.Since(t0).Seconds()
	}
	if opts.Holdout > 0 {
		t0 = time.Now()
		h, err := holdout(ctx, law, d, opts, tick, skip)
		if err != nil {
			return nil, err
		}
		res.Holdout = h
		res.Seconds.Holdout = time.Since(t0).Seconds()
	}
	return res, nil
}

func noConvergence(law Law, ms multiStart, opts Options) error {
	best := math.Inf(1)
	for _, l := range ms.locals {
		best = math.Min(best, l.gradNorm)
	}
	return fmt.Errorf("fit %s: %w from any of %d starts (smallest gradient norm %.3g, tolerance %.3g, iteration limit %d)",
		law.Name(), ErrNoConvergence, len(ms.locals), best, opts.GradTol, opts.MaxIterations)
}

// newResult fills the point estimate's part of a Result.
func newResult(law Law, d *Data, opts Options, p *problem, ms multiStart) *Result {
	best := ms.best
	nat := law.Natural(best.theta)
	res := &Result{
		Law: law, LawName: law.Name(), Formula: law.Formula(),
		Loss: opts.Loss, Delta: opts.Delta, Transform: opts.Transform,
		Columns: opts.Columns, NPoints: d.Len(),
		ParamNames: law.Params(), Params: map[string]Estimate{},
		Objective: best.f, Converged: best.converged, GradNorm: best.gradNorm,
		Iterations: best.iters, Status: best.status.String(),
		Starts: len(opts.Starts), StartsConverged: ms.converged, Screen: ms.screen,
		Warnings: []string{}, Optimal: []Allocation{},
	}
	if opts.Loss == LeastSquares {
		res.Delta = 0
	}
	if ms.screen != nil {
		res.StartsConverged = ms.screen.Converged
	}
	for i, name := range res.ParamNames {
		res.Params[name] = pointEstimate(nat[i])
	}
	r := p.residuals(best.theta)
	var ss, mean float64
	for _, v := range p.ly {
		mean += v / float64(len(p.ly))
	}
	var tot float64
	for i, v := range r {
		ss += v * v
		tot += (p.ly[i] - mean) * (p.ly[i] - mean)
	}
	res.RMSELog = math.Sqrt(ss / float64(len(r)))
	if tot > 0 {
		res.R2Log = 1 - ss/tot
	} else {
		res.Warnings = append(res.Warnings, "every point has the same loss, so R² is undefined (reported as 0)")
	}
	if best.limit {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the winning start stopped at the iteration limit (%d) with gradient norm %.3g; raise the limit", opts.MaxIterations, best.gradNorm))
	}
	if ms.lowerNC != nil {
		res.Warnings = append(res.Warnings, fmt.Sprintf("a start that did not converge (%s after %d iterations, gradient norm %.3g) reached a lower objective (%.6g < %.6g)", ms.lowerNC.status, ms.lowerNC.iters, ms.lowerNC.gradNorm, ms.lowerNC.f, best.f))
	}
	if k := len(res.ParamNames); d.Len() < 5*(k+1) {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d points for %d parameters: with so few, the bootstrap intervals are rough and tend to be too narrow", d.Len(), k))
	}
	cond, weak := conditioning(p, best.theta)
	res.Condition = math.Min(cond, math.MaxFloat64) // JSON has no Inf
	if cond > 1e8 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the data barely determine some combination of the parameters %v (Jacobian condition number %.3g): expect wide intervals and treat extrapolation with care", weak, cond))
	}
	if dv, ok := derive(law, nat, opts.Compute, opts.Transform); ok {
		res.Exponents = &Exponents{A: pointEstimate(dv.a), B: pointEstimate(dv.b), G: pointEstimate(dv.g)}
		for i, c := range opts.Compute {
			res.Optimal = append(res.Optimal, Allocation{
				Compute: c, N: pointEstimate(dv.n[i]), D: pointEstimate(dv.d[i]),
				TokensPerParam: pointEstimate(dv.d[i] / dv.n[i]), Loss: pointEstimate(dv.loss[i]),
			})
		}
	} else if len(opts.Compute) > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("the law %s is not a law of N and D, so it has no compute-optimal allocation; --compute is ignored", law.Name()))
	}
	return res
}
