package scaling

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/olc-toolkit/olc/internal/parallel"
)

// Large data. The start grid costs starts × points × iterations: Hoffmann's
// 4,500 starts take about 12 s on 250 points (2 cores) and would take hours
// on a million. Fit therefore screens the grid on a subsample and refits
// its best optima on all the points (Options.ScreenRows), and bootstraps
// many points with the bag of little bootstraps (Options.LittleBootstrapAbove).

// Stream numbers of the PCG sources drawn from Options.Seed, kept apart
// from the bootstrap's resample numbers (0 … Bootstrap−1).
const (
	streamScreen = 1<<62 + iota
	streamSubset
)

// sampleRows returns k of the indices 0 … n−1, drawn without replacement
// from a PCG seeded with (seed, stream), in increasing order.
func sampleRows(n, k int, seed, stream uint64) []int {
	rng := rand.New(rand.NewPCG(seed, stream))
	idx := make([]int, n)
	for i := range idx {
		idx[i] = i
	}
	for i := range k { // a partial Fisher–Yates shuffle
		j := i + rng.IntN(n-i)
		idx[i], idx[j] = idx[j], idx[i]
	}
	out := idx[:k:k]
	slices.Sort(out)
	return out
}

// fitStarts runs the start grid on p (the points of d): on all of them, or,
// with more than ScreenRows points, screened on a subsample and the best
// distinct optima refitted on all of them. tick counts a start done; skip
// counts refits that were planned (as an upper bound) but not needed.
func fitStarts(ctx context.Context, law Law, d *Data, p *problem, opts Options, tick func(), skip func(int)) (multiStart, error) {
	n := d.Len()
	if opts.ScreenRows <= 0 || n <= opts.ScreenRows {
		ms, err := runStarts(ctx, p, opts.Starts, opts.Workers, opts.GradTol, opts.MaxIterations, tick)
		if err == nil && ms.converged == 0 {
			err = noConvergence(law, ms, opts)
		}
		return ms, err
	}
	// A subsample that cannot identify the law (all of it from two model
	// sizes, say) is enlarged until it can.
	k := opts.ScreenRows
	rows := sampleRows(n, k, opts.Seed, streamScreen)
	for identifiable(law, d.subset(rows)) != "" && k < n {
		k = min(2*k, n)
		rows = sampleRows(n, k, opts.Seed, streamScreen)
	}
	sub := newProblem(law, d.subset(rows), opts.Transform, opts.Loss, opts.Delta)
	screened, err := runStarts(ctx, sub, opts.Starts, opts.Workers, opts.GradTol, opts.MaxIterations, tick)
	if err != nil {
		return multiStart{}, err
	}
	if screened.converged == 0 {
		return multiStart{}, noConvergence(law, screened, opts)
	}
	// The subsample's optimum, and those of its other distinct optima that
	// the full data might prefer (their excess on the subsample is within
	// its sampling noise), converge on all the points in a few dozen
	// evaluations each; grid points would cost a hundred and fifty.
	refits := append([][]float64{screened.best.theta}, sub.contenders(screened.best.theta, screened.distinctOptima(opts.WarmStarts, false))...)
	skip(maxRefits(opts) - len(refits))
	ms, err := runStarts(ctx, p, refits, opts.Workers, opts.GradTol, opts.MaxIterations, tick)
	if err != nil {
		return multiStart{}, err
	}
	if ms.converged == 0 {
		return multiStart{}, noConvergence(law, ms, opts)
	}
	ms.screen = &Screening{Points: len(rows), Refitted: len(refits), Converged: screened.converged}
	return ms, nil
}

// contenders returns the optima of others that a bootstrap resample might
// prefer to best: those whose objective exceeds best's by less than four
// standard deviations of that excess over resamples. The excess is a sum
// over the points of d_i = ρ_i(θ) − ρ_i(best), so on a resample of n points
// its standard deviation is about √n·sd(d).
func (p *problem) contenders(best []float64, others [][]float64) [][]float64 {
	base := p.pointLosses(best)
	var out [][]float64
	for _, th := range others {
		d := p.pointLosses(th)
		floats.Sub(d, base)
		excess := floats.Sum(d)
		mean := excess / float64(len(d))
		var ss float64
		for _, v := range d {
			ss += (v - mean) * (v - mean)
		}
		if excess < 4*math.Sqrt(ss) {
			out = append(out, th)
		}
	}
	return out
}

// pointLosses returns ρ(log L̂(x_i; θ) − log y_i) for every point.
func (p *problem) pointLosses(th []float64) []float64 {
	r := p.residuals(th)
	for i, v := range r {
		r[i], _ = p.rho(v)
	}
	return r
}

// maxRefits bounds the number of the screened optima refitted on all the
// points: the best and WarmStarts others.
func maxRefits(opts Options) int { return 1 + opts.WarmStarts }

// FitPlan says what Fit will do with a data set and about how long it will
// take, so that a long fit can say so before it starts.
type FitPlan struct {
	// Points is the number of points; Starts the size of the start grid.
	Points, Starts int
	// ScreenPoints is the size of the subsample the grid is screened on
	// (0: the grid runs on all the points), and Refits bounds the number
	// of its optima refitted on all of them.
	ScreenPoints, Refits int
	// Bootstrap is the number of resamples; Subsets and SubsetPoints
	// describe a bag of little bootstraps (Subsets is 0 for the standard
	// bootstrap).
	Bootstrap, Subsets, SubsetPoints int
	// Holdout is the number of largest-compute points of the holdout fit.
	Holdout       int
	holdoutRefits int
	// Seconds is a rough forecast of the wall time on Options.Workers
	// workers, from the measured cost of the objective on these points.
	Seconds float64
}

// Typical numbers of objective evaluations of an L-BFGS run, measured on
// Chinchilla fits of 250 to 1.6 million points (2% noise): from a point of
// Hoffmann's grid, from a subsample's optimum to the full data's, and of a
// bootstrap resample from its warm starts.
const (
	evalsFromGrid = 150
	evalsRefit    = 300
	evalsResample = 110
)

// PlanFit returns what Fit(ctx, law, d, opts) will do, with a forecast of
// its time from the measured cost of the objective on d.
func PlanFit(law Law, d *Data, opts Options) FitPlan {
	opts = opts.resolve(law)
	pl := planFit(d, opts)
	n := d.Len()
	rows := n
	if pl.ScreenPoints > 0 {
		rows = pl.ScreenPoints
	}
	// The cost of one evaluation per point, measured on up to 2,000 of them.
	m := min(n, 2000)
	p := newProblem(law, d.subset(sampleRows(n, m, 0, streamScreen)), opts.Transform, opts.Loss, opts.Delta)
	th := opts.Starts[len(opts.Starts)/2]
	grad := make([]float64, len(th))
	t0 := time.Now()
	reps := 0
	for time.Since(t0) < 5*time.Millisecond || reps < 3 {
		p.eval(th, grad)
		reps++
	}
	perPoint := time.Since(t0).Seconds() / float64(reps*m)
	work := float64(pl.Starts) * evalsFromGrid * float64(rows)
	// A screened fit refits the subsample's optimum (now and then another).
	refit := 0.0
	if pl.ScreenPoints > 0 {
		refit = evalsRefit * float64(n)
	}
	work += refit
	// The standard bootstrap starts each resample from the estimate, the
	// grid's best other optima and the grid points that led to them; on
	// screened data, from the estimate (and the rare optimum that might
	// compete).
	warm := float64(2*opts.WarmStarts + 2)
	if pl.ScreenPoints > 0 {
		warm = 1
	}
	rowsPerResample := n
	if pl.Subsets > 0 {
		rowsPerResample = pl.SubsetPoints
	}
	work += float64(pl.Bootstrap) * warm * evalsResample * float64(rowsPerResample)
	if pl.Holdout > 0 {
		work += float64(pl.Starts)*evalsFromGrid*float64(min(rows, n-pl.Holdout)) + float64(min(pl.holdoutRefits, 1))*evalsRefit*float64(n)
	}
	pl.Seconds = work * perPoint / float64(opts.Workers)
	return pl
}

// planFit is PlanFit without the forecast; opts has its defaults.
func planFit(d *Data, opts Options) FitPlan {
	n := d.Len()
	pl := FitPlan{Points: n, Starts: len(opts.Starts), Holdout: opts.Holdout}
	if opts.Bootstrap > 0 {
		pl.Bootstrap = opts.Bootstrap
	}
	if opts.ScreenRows > 0 && n > opts.ScreenRows {
		pl.ScreenPoints, pl.Refits = opts.ScreenRows, maxRefits(opts)
	}
	if pl.Holdout > 0 && opts.ScreenRows > 0 && n-pl.Holdout > opts.ScreenRows {
		pl.holdoutRefits = maxRefits(opts)
	}
	if pl.Bootstrap > 0 && opts.LittleBootstrapAbove > 0 && n > opts.LittleBootstrapAbove {
		pl.Subsets = min(opts.LittleSubsets, pl.Bootstrap)
		pl.SubsetPoints = littleSubsetSize(n)
		if opts.LittleSubsetPoints > 0 {
			pl.SubsetPoints = min(n, opts.LittleSubsetPoints)
		}
	}
	return pl
}

// units is the number of progress units of the plan: starts, refits,
// resamples, and the holdout's starts and refits.
func (pl FitPlan) units() int {
	u := pl.Starts + pl.Refits + pl.Bootstrap
	if pl.Holdout > 0 {
		u += pl.Starts + pl.holdoutRefits
	}
	return u
}

// String says the plan in a sentence.
func (pl FitPlan) String() string {
	s := fmt.Sprintf("%d points, %d starts", pl.Points, pl.Starts)
	if pl.ScreenPoints > 0 {
		s += fmt.Sprintf(" screened on %d of them, the best optima refitted on all", pl.ScreenPoints)
	}
	switch {
	case pl.Subsets > 0:
		s += fmt.Sprintf("; %d resamples as a bag of little bootstraps (%d subsets of %d points)", pl.Bootstrap, pl.Subsets, pl.SubsetPoints)
	case pl.Bootstrap > 0:
		s += fmt.Sprintf("; %d bootstrap resamples", pl.Bootstrap)
	}
	if pl.Holdout > 0 {
		s += fmt.Sprintf("; a holdout fit without the %d largest", pl.Holdout)
	}
	return s
}

// littleSubsetSize is the little bootstrap's subset size for n points:
// ⌈n^0.7⌉, at least 5,000 and at most n.
func littleSubsetSize(n int) int {
	return min(n, max(5000, int(math.Ceil(math.Pow(float64(n), 0.7)))))
}

// littleBootstrap is the bag of little bootstraps (Kleiner, Talwalkar,
// Sarkar and Jordan 2014, "A scalable bootstrap for massive data"): the
// points are split into plan.Subsets random subsets of plan.SubsetPoints
// points; each subset is resampled Bootstrap/Subsets times with weights
// drawn from Multinomial(n; 1/b, …, 1/b), which mimic resamples of all n
// points at the cost of b; each subset gives standard errors and
// percentile intervals, which are averaged over the subsets. Subset j and
// its resamples draw from PCGs seeded with (opts.Seed, ·), so the outcome
// does not depend on scheduling.
func littleBootstrap(ctx context.Context, res *Result, d *Data, warm [][]float64, opts Options, plan FitPlan, tick func()) error {
	n, s, b := d.Len(), plan.Subsets, plan.SubsetPoints
	law := res.Law
	per := (plan.Bootstrap + s - 1) / s
	probs := make([]*problem, s)
	for j := range probs {
		rows := sampleRows(n, b, opts.Seed, streamSubset+uint64(j))
		probs[j] = newProblem(law, d.subset(rows), opts.Transform, opts.Loss, opts.Delta)
	}
	samples := make([][][]float64, s)
	for j := range samples {
		samples[j] = make([][]float64, per)
	}
	err := parallel.ForContext(ctx, opts.Workers, plan.Bootstrap, func(job int) {
		j, k := job/per, job%per
		w := multinomialWeights(opts.Seed, uint64(job), n, b)
		if best := probs[j].withWeights(w).bestOf(warm, opts); best.converged {
			if nat := law.Natural(best.theta); allFinite(nat) {
				samples[j][k] = nat
			}
		}
		tick()
	})
	if err != nil {
		return err
	}
	info := &BootstrapInfo{Resamples: plan.Bootstrap, Seed: opts.Seed, Subsets: s, SubsetPoints: b}
	var groups [][][]float64
	for j := range samples {
		var ok [][]float64
		for k, smp := range samples[j] {
			if j*per+k >= plan.Bootstrap {
				continue
			}
			if smp == nil {
				info.Failed++
				continue
			}
			ok = append(ok, smp)
		}
		info.Samples = append(info.Samples, ok...)
		if len(ok) >= 2 {
			groups = append(groups, ok)
		}
	}
	res.Bootstrap = info
	if len(groups) == 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("too few of %d little-bootstrap resamples converged; no intervals", plan.Bootstrap))
		return nil
	}
	if info.Failed > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%d of %d bootstrap resamples did not converge and are left out of the intervals", info.Failed, plan.Bootstrap))
	}
	// Each subset's estimates of every quantity, then their mean.
	values := res.quantities(res.Values(), opts)
	sums := make([]Estimate, len(values))
	for _, g := range groups {
		cols := make([][]float64, len(values))
		for _, smp := range g {
			for q, v := range res.quantities(smp, opts) {
				cols[q] = append(cols[q], v)
			}
		}
		for q := range values {
			e := withInterval(values[q], cols[q])
			sums[q].SE += e.SE / float64(len(groups))
			sums[q].CI[0] += e.CI[0] / float64(len(groups))
			sums[q].CI[1] += e.CI[1] / float64(len(groups))
		}
	}
	for q := range sums {
		sums[q].Value = values[q]
	}
	res.setQuantities(sums)
	return nil
}

// multinomialWeights draws the counts of n draws with replacement from b
// points (Multinomial(n; 1/b, …, 1/b)) as a chain of binomials, from a PCG
// seeded with (seed, stream).
func multinomialWeights(seed, stream uint64, n, b int) []float64 {
	src := rand.NewPCG(seed, streamSubset+1<<20+stream)
	w := make([]float64, b)
	left := float64(n)
	for i := 0; i < b-1 && left > 0; i++ {
		x := distuv.Binomial{N: left, P: 1 / float64(b-i), Src: src}.Rand()
		w[i] = x
		left -= x
	}
	w[b-1] += left
	return w
}
