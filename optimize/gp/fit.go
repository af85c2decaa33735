package gp

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize"

	"github.com/olc-toolkit/olc/internal/lbfgs"
	"github.com/olc-toolkit/olc/internal/parallel"
)

// Prior is the weak prior on the hyperparameters: independent normal
// densities on their logs.
//
// The defaults (DefaultPrior) follow the dimension scaling of Hvarfner,
// Hellsten and Nardi (2024): log ℓᵢ ~ N(−1.2 + ½·log d, 1), so the median
// lengthscale is 0.3·√d in the unit cube and the prior complexity of the
// function stays the same as d grows. Their centre, √2 + ½·log d, was set
// for problems of hundreds of dimensions; in the few dimensions of
// hyperparameter search it makes lengthscales so long that the model takes
// real variation for noise and stops varying dimensions it calls
// irrelevant, and the lower centre measured best on olc's benchmark (Branin,
// Hartmann6, Ackley, Rosenbrock and Levy; 'olc bench optimize'). The signal
// variance of standardized outputs is near 1: log σ² ~ N(0, 1). The noise
// prior, log σₙ² ~ N(−10, 3), favours a nearly noiseless model, which
// deterministic objectives need to converge to many digits, but is wide
// enough for the data of a noisy objective to raise it by orders of
// magnitude.
type Prior struct {
	LengthscaleMean, LengthscaleSD float64
	SignalMean, SignalSD           float64
	NoiseMean, NoiseSD             float64
}

// DefaultPrior returns the default prior for d dimensions.
func DefaultPrior(d int) Prior {
	return Prior{
		LengthscaleMean: -1.2 + 0.5*math.Log(float64(max(d, 1))), LengthscaleSD: 1,
		SignalMean: 0, SignalSD: 1,
		NoiseMean: -10, NoiseSD: 3,
	}
}

// Mode returns the hyperparameters at the prior's mode.
func (pr Prior) Mode(d int) Params {
	p := Params{LogLengthscales: make([]float64, d), LogSignal: pr.SignalMean, LogNoise: pr.NoiseMean}
	for i := range p.LogLengthscales {
		p.LogLengthscales[i] = pr.LengthscaleMean
	}
	return p
}

// Sample draws hyperparameters from the prior, the lengthscales clipped to
// within two standard deviations.
func (pr Prior) Sample(d int, rnd *rand.Rand) Params {
	p := pr.Mode(d)
	for i := range p.LogLengthscales {
		p.LogLengthscales[i] += pr.LengthscaleSD * max(-2, min(2, rnd.NormFloat64()))
	}
	p.LogSignal += pr.SignalSD * max(-2, min(2, rnd.NormFloat64()))
	p.LogNoise += pr.NoiseSD * max(-2, min(2, rnd.NormFloat64()))
	return p
}

// logDensity returns the log prior density (up to a constant) and adds its
// gradient to grad (same layout as the parameter vector).
func (pr Prior) logDensity(v []float64, d int, deterministic bool, grad []float64) float64 {
	lp := 0.0
	term := func(x, mean, sd float64, i int) {
		z := (x - mean) / sd
		lp -= z * z / 2
		grad[i] -= z / sd
	}
	for i := range d {
		term(v[i], pr.LengthscaleMean, pr.LengthscaleSD, i)
	}
	term(v[d], pr.SignalMean, pr.SignalSD, d)
	if !deterministic {
		term(v[d+1], pr.NoiseMean, pr.NoiseSD, d+1)
	}
	return lp
}

// maxLogParam bounds the log hyperparameters the fit considers: beyond
// e^±25 the priors make a point worthless, and the kernel degenerates.
const maxLogParam = 25

// problem holds what every marginal-likelihood evaluation of one data set
// shares: the per-dimension squared differences of every pair of points.
type problem struct {
	n, d          int
	cat           []bool
	deterministic bool
	prior         Prior
	y             []float64
	pairs         []float64 // n(n−1)/2 × d, pair (a<b) major
}

func newProblem(x [][]float64, y []float64, cat []bool, prior Prior, deterministic bool) *problem {
	n, d := len(x), len(cat)
	pr := &problem{n: n, d: d, cat: cat, deterministic: deterministic, prior: prior, y: y, pairs: make([]float64, n*(n-1)/2*d)}
	k := 0
	for a := range n {
		for b := a + 1; b < n; b++ {
			for i := range d {
				pr.pairs[k] = diff2(x[a][i], x[b][i], cat[i])
				k++
			}
		}
	}
	return pr
}

func (pr *problem) vector(p Params) []float64 {
	v := append(slices.Clone(p.LogLengthscales), p.LogSignal)
	if !pr.deterministic {
		v = append(v, p.LogNoise)
	}
	return v
}

func (pr *problem) params(v []float64) Params {
	p := Params{LogLengthscales: slices.Clone(v[:pr.d]), LogSignal: v[pr.d]}
	if !pr.deterministic {
		p.LogNoise = v[pr.d+1]
	}
	return p
}

// objective returns the log marginal likelihood plus the log prior at the
// parameter vector v, and writes its gradient to grad. It returns −Inf
// when the kernel matrix cannot be factorized.
//
// The gradient is ½ tr((ααᵀ − K⁻¹) ∂K/∂θⱼ) (Rasmussen and Williams, eq.
// 5.9) plus the prior's.
func (pr *problem) objective(v, grad []float64) float64 {
	n, d := pr.n, pr.d
	clear(grad)
	for _, x := range v {
		// Far outside what the prior allows: the line search went too far.
		if !(math.Abs(x) <= maxLogParam) {
			return math.Inf(-1)
		}
	}
	signal := math.Exp(v[d])
	noise := MinNoise
	if !pr.deterministic {
		noise += math.Exp(v[d+1])
	}
	inv2 := make([]float64, d)
	for i := range d {
		inv2[i] = math.Exp(-2 * v[i])
	}
	k := mat.NewSymDense(n, nil)
	kd := k.RawSymmetric().Data
	npairs := n * (n - 1) / 2
	kf := make([]float64, npairs) // σ²·m(r) per pair
	gf := make([]float64, npairs) // σ²·g(r) per pair
	p := 0
	for a := range n {
		for b := a + 1; b < n; b++ {
			r2 := 0.0
			row := pr.pairs[p*d : (p+1)*d]
			for i, dd := range row {
				r2 += dd * inv2[i]
			}
			m, g := matern52(r2)
			kf[p], gf[p] = signal*m, signal*g
			kd[a*n+b] = kf[p]
			p++
		}
	}
	var chol mat.Cholesky
	ok := false
	for _, jitter := range jitters {
		for a := range n {
			kd[a*n+a] = signal + noise + jitter*signal
		}
		if ok = chol.Factorize(k); ok {
			break
		}
	}
	if !ok {
		return math.Inf(-1)
	}
	var alpha mat.VecDense
	if err := chol.SolveVecTo(&alpha, mat.NewVecDense(n, slices.Clone(pr.y))); err != nil && !isCondition(err) {
		return math.Inf(-1)
	}
	al := alpha.RawVector().Data
	lml := -0.5*mat.Dot(&alpha, mat.NewVecDense(n, pr.y)) - 0.5*chol.LogDet() - 0.5*float64(n)*math.Log(2*math.Pi)

	var inv mat.SymDense
	if err := chol.InverseTo(&inv); err != nil && !isCondition(err) {
		return math.Inf(-1)
	}
	id := inv.RawSymmetric().Data
	// W = ααᵀ − K⁻¹; off-diagonal pairs count twice, which cancels the ½.
	p = 0
	gs := 0.0
	for a := range n {
		for b := a + 1; b < n; b++ {
			w := al[a]*al[b] - id[a*n+b]
			gs += w * kf[p]
			c := w * gf[p]
			row := pr.pairs[p*d : (p+1)*d]
			for i, dd := range row {
				grad[i] += c * dd * inv2[i]
			}
			p++
		}
	}
	trW := 0.0
	for a := range n {
		trW += al[a]*al[a] - id[a*n+a]
	}
	grad[d] = gs + 0.5*trW*signal
	if !pr.deterministic {
		grad[d+1] = 0.5 * trW * math.Exp(v[d+1])
	}
	lp := pr.prior.logDensity(v, d, pr.deterministic, grad)
	return lml + lp
}

// FitOptions configure Fit. The zero value is valid.
type FitOptions struct {
	// Deterministic fixes the noise at MinNoise.
	Deterministic bool
	// Prior defaults to DefaultPrior(d).
	Prior *Prior
	// Warm, when set, is the previous fit's hyperparameters: the first
	// start, and often the only one needed.
	Warm *Params
	// Restarts is the number of starts drawn from the prior besides the
	// warm start and the prior's mode (default 2; negative: none).
	Restarts int
	// WarmOnly, with Warm set, makes the warm start the only one.
	WarmOnly bool
	// Rand draws the restarts; nil means a source seeded with 0.
	Rand *rand.Rand
	// MaxEvaluations bounds each start's likelihood evaluations (default
	// 200).
	MaxEvaluations int
}

// Fit returns the model of x and y whose hyperparameters maximize the log
// marginal likelihood plus the log prior, by L-BFGS (gonum/optimize) from
// each start, the starts run in parallel. Given the same inputs and options
// it returns the same model.
func Fit(ctx context.Context, x [][]float64, y []float64, cat []bool, opts FitOptions) (*Model, error) {
	d := len(cat)
	prior := DefaultPrior(d)
	if opts.Prior != nil {
		prior = *opts.Prior
	}
	rnd := opts.Rand
	if rnd == nil {
		rnd = rand.New(rand.NewPCG(0, 0))
	}
	restarts := opts.Restarts
	if restarts == 0 {
		restarts = 2
	}
	if len(x) < 2 {
		// Nothing to learn from: the prior's mode.
		return New(x, y, cat, prior.Mode(d), opts.Deterministic)
	}
	pr := newProblem(x, y, cat, prior, opts.Deterministic)
	var starts [][]float64
	warm := opts.Warm != nil && len(opts.Warm.LogLengthscales) == d
	if warm {
		starts = append(starts, pr.vector(*opts.Warm))
	}
	if !warm || !opts.WarmOnly {
		starts = append(starts, pr.vector(prior.Mode(d)))
		for range max(restarts, 0) {
			starts = append(starts, pr.vector(prior.Sample(d, rnd)))
		}
	}
	maxEval := opts.MaxEvaluations
	if maxEval <= 0 {
		maxEval = 200
	}
	type result struct {
		v []float64
		f float64
	}
	results := make([]result, len(starts))
	parallel.For(len(starts), func(s int) {
		if ctx.Err() != nil {
			results[s] = result{starts[s], math.Inf(-1)}
			return
		}
		v, f := maximize(pr, starts[s], maxEval)
		results[s] = result{v, f}
	})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	best := -1
	for s, r := range results {
		if !math.IsInf(r.f, -1) && !math.IsNaN(r.f) && (best < 0 || r.f > results[best].f) {
			best = s
		}
	}
	if best < 0 {
		return nil, ErrNotPD
	}
	return New(x, y, cat, pr.params(results[best].v), opts.Deterministic)
}

// maximize runs L-BFGS on the negated objective from x0, and returns the
// best point it evaluated (which is x0 when nothing better is found).
func maximize(pr *problem, x0 []float64, maxEval int) ([]float64, float64) {
	bestV, bestF := slices.Clone(x0), math.Inf(-1)
	f := func(x, grad []float64) float64 {
		v := pr.objective(x, grad)
		if v > bestF {
			bestV, bestF = slices.Clone(x), v
		}
		for i := range grad {
			grad[i] = -grad[i]
		}
		if math.IsInf(v, -1) || math.IsNaN(v) {
			return math.Inf(1)
		}
		return -v
	}
	settings := &optimize.Settings{
		GradientThreshold: 1e-5,
		FuncEvaluations:   maxEval,
		Converger:         &optimize.FunctionConverge{Absolute: 1e-8, Relative: 1e-10, Iterations: 10},
	}
	lbfgs.Minimize(f, x0, settings)
	return bestV, bestF
}

// LogMarginalLikelihood returns the log marginal likelihood of the data
// under p plus the log prior, and its gradient with respect to the
// parameter vector (log lengthscales, log signal variance, and the log
// noise unless deterministic). It is what Fit maximizes.
func LogMarginalLikelihood(x [][]float64, y []float64, cat []bool, p Params, prior Prior, deterministic bool) (float64, []float64) {
	pr := newProblem(x, y, cat, prior, deterministic)
	v := pr.vector(p)
	g := make([]float64, len(v))
	return pr.objective(v, g), g
}
