package gp

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/mat"
)

// MinNoise is the smallest noise variance a model has, on the standardized
// scale: the noise is MinNoise + e^LogNoise. It keeps the kernel matrix
// well conditioned when points repeat, and is the whole noise of a
// deterministic model.
const MinNoise = 1e-6

// Params are a model's hyperparameters, on the log scale.
type Params struct {
	// LogLengthscales holds log ℓᵢ, one per dimension.
	LogLengthscales []float64
	// LogSignal is log σ², the kernel's variance.
	LogSignal float64
	// LogNoise is log(σₙ² − MinNoise); ignored by deterministic models.
	LogNoise float64
}

// Clone returns a deep copy of p.
func (p Params) Clone() Params {
	p.LogLengthscales = slices.Clone(p.LogLengthscales)
	return p
}

// Noise returns the noise variance σₙ² that p gives.
func (p Params) Noise(deterministic bool) float64 {
	if deterministic {
		return MinNoise
	}
	return MinNoise + math.Exp(p.LogNoise)
}

// Model is a Gaussian process conditioned on observations.
type Model struct {
	dim           int
	cat           []bool
	deterministic bool
	params        Params
	signal, noise float64
	inv2          []float64 // 1/ℓᵢ²
	x             [][]float64
	y             []float64
	chol          mat.Cholesky
	alpha         []float64 // (K + σₙ²I)⁻¹ y
	jitter        float64
}

// ErrNotPD is returned when the kernel matrix cannot be factorized even with
// the largest jitter.
var ErrNotPD = errors.New("gp: the kernel matrix is not positive definite, even with jitter")

// New conditions a Gaussian process with hyperparameters p on the points x
// (each of length len(cat)) and the standardized values y. cat marks the
// categorical dimensions; deterministic fixes the noise at MinNoise.
func New(x [][]float64, y []float64, cat []bool, p Params, deterministic bool) (*Model, error) {
	d := len(cat)
	if len(p.LogLengthscales) != d {
		panic(fmt.Sprintf("gp: %d lengthscales for %d dimensions", len(p.LogLengthscales), d))
	}
	if len(x) != len(y) {
		panic(fmt.Sprintf("gp: %d points and %d values", len(x), len(y)))
	}
	m := &Model{dim: d, cat: slices.Clone(cat), deterministic: deterministic, params: p.Clone(),
		signal: math.Exp(p.LogSignal), noise: p.Noise(deterministic), inv2: make([]float64, d),
		x: make([][]float64, len(x)), y: slices.Clone(y)}
	for i, l := range p.LogLengthscales {
		m.inv2[i] = math.Exp(-2 * l)
	}
	for i, xi := range x {
		if len(xi) != d {
			panic(fmt.Sprintf("gp: point %d has %d coordinates, want %d", i, len(xi), d))
		}
		m.x[i] = slices.Clone(xi)
	}
	if err := m.factorize(); err != nil {
		return nil, err
	}
	return m, nil
}

// jitters are the relative amounts added to the kernel matrix's diagonal,
// in turn, until it factorizes: none, then 1e-10σ², ten times more each
// try, up to 1e-2σ².
var jitters = []float64{0, 1e-10, 1e-9, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2}

// factorize computes the Cholesky factor of K + σₙ²I, adding jitter to the
// diagonal when the matrix is numerically not positive definite, and α.
func (m *Model) factorize() error {
	n := len(m.x)
	k := mat.NewSymDense(n, nil)
	raw := k.RawSymmetric().Data
	for a := range n {
		raw[a*n+a] = m.signal + m.noise
		for b := a + 1; b < n; b++ {
			kab, _ := matern52(sqdist(m.x[a], m.x[b], m.inv2, m.cat))
			raw[a*n+b] = m.signal * kab
		}
	}
	ok := false
	for _, jitter := range jitters {
		for a := range n {
			raw[a*n+a] = m.signal + m.noise + jitter*m.signal
		}
		m.jitter = jitter * m.signal
		if ok = m.chol.Factorize(k); ok {
			break
		}
	}
	if !ok {
		return ErrNotPD
	}
	m.alpha = make([]float64, n)
	if n > 0 {
		var a mat.VecDense
		if err := m.chol.SolveVecTo(&a, mat.NewVecDense(n, slices.Clone(m.y))); err != nil && !isCondition(err) {
			return err
		}
		copy(m.alpha, a.RawVector().Data)
	}
	return nil
}

// isCondition reports whether err is only gonum's warning that a matrix is
// ill-conditioned; the solution is still usable.
func isCondition(err error) bool {
	var c mat.Condition
	return errors.As(err, &c)
}

// Len returns the number of observations.
func (m *Model) Len() int { return len(m.x) }

// Params returns the model's hyperparameters.
func (m *Model) Params() Params { return m.params.Clone() }

// Noise returns the noise variance σₙ² (jitter included).
func (m *Model) Noise() float64 { return m.noise + m.jitter }

// Signal returns the kernel variance σ².
func (m *Model) Signal() float64 { return m.signal }

// Kernel returns k(x, y) = σ² m₅/₂(r).
func (m *Model) Kernel(x, y []float64) float64 {
	k, _ := matern52(sqdist(x, y, m.inv2, m.cat))
	return m.signal * k
}

// kvec fills kx with k(x, xₐ) for every observation a, and returns it.
func (m *Model) kvec(x []float64, kx []float64) []float64 {
	for a, xa := range m.x {
		k, _ := matern52(sqdist(x, xa, m.inv2, m.cat))
		kx[a] = m.signal * k
	}
	return kx
}

// TrainingMeans returns the posterior means at the observed points in
// O(n): since (K_f + σₙ²I)α = y, K_f·α = y − σₙ²α.
func (m *Model) TrainingMeans() []float64 {
	out := make([]float64, len(m.y))
	for i := range out {
		out[i] = m.y[i] - (m.noise+m.jitter)*m.alpha[i]
	}
	return out
}

// Predict returns the posterior mean and variance of the latent function
// (without observation noise) at x.
func (m *Model) Predict(x []float64) (mean, variance float64) {
	n := len(m.x)
	if n == 0 {
		return 0, m.signal
	}
	kx := m.kvec(x, make([]float64, n))
	for a := range n {
		mean += kx[a] * m.alpha[a]
	}
	// v = U⁻ᵀ k; variance = σ² − vᵀv.
	blas64.Trsv(blas.Trans, m.rawU(), blas64.Vector{N: n, Inc: 1, Data: kx})
	variance = m.signal
	for _, v := range kx {
		variance -= v * v
	}
	return mean, max(variance, 1e-12*m.signal)
}

// rawU returns the Cholesky factor as a BLAS triangle without copying.
func (m *Model) rawU() blas64.Triangular {
	return m.chol.RawU().(*mat.TriDense).RawTriangular()
}

// PredictGrad returns the posterior mean and variance at x and writes their
// gradients with respect to x to dmean and dvar (zero for categorical
// dimensions, where the model is not differentiable).
func (m *Model) PredictGrad(x, dmean, dvar []float64) (mean, variance float64) {
	n := len(m.x)
	clear(dmean)
	clear(dvar)
	if n == 0 {
		return 0, m.signal
	}
	kx := make([]float64, n)
	gx := make([]float64, n) // σ²·g(r) for each observation
	for a, xa := range m.x {
		k, g := matern52(sqdist(x, xa, m.inv2, m.cat))
		kx[a], gx[a] = m.signal*k, m.signal*g
		mean += kx[a] * m.alpha[a]
	}
	// β = K⁻¹k through v = U⁻ᵀk, β = U⁻¹v.
	v := slices.Clone(kx)
	u := m.rawU()
	blas64.Trsv(blas.Trans, u, blas64.Vector{N: n, Inc: 1, Data: v})
	variance = m.signal
	for _, vi := range v {
		variance -= vi * vi
	}
	blas64.Trsv(blas.NoTrans, u, blas64.Vector{N: n, Inc: 1, Data: v})
	// ∂k(x, xₐ)/∂xᵢ = −σ² g (xᵢ − xₐᵢ)/ℓᵢ².
	for a, xa := range m.x {
		ca, cb := -gx[a]*m.alpha[a], 2*gx[a]*v[a]
		for i := range x {
			if m.cat[i] {
				continue
			}
			d := (x[i] - xa[i]) * m.inv2[i]
			dmean[i] += ca * d
			dvar[i] += cb * d // ∂var = −2βᵀ∂k
		}
	}
	if variance < 1e-12*m.signal {
		clear(dvar)
		variance = 1e-12 * m.signal
	}
	return mean, variance
}

// PredictBatch writes the posterior means and variances at the points xs,
// using a matrix triangular solve, which is much faster than len(xs) calls
// to Predict.
func (m *Model) PredictBatch(xs [][]float64, mean, variance []float64) {
	n, c := len(m.x), len(xs)
	if n == 0 {
		for j := range xs {
			mean[j], variance[j] = 0, m.signal
		}
		return
	}
	kx := make([]float64, n*c) // n×c, column j is k(xs[j])
	for a, xa := range m.x {
		row := kx[a*c : (a+1)*c]
		for j, x := range xs {
			k, _ := matern52(sqdist(x, xa, m.inv2, m.cat))
			row[j] = m.signal * k
		}
	}
	for j := range xs {
		mean[j] = 0
		variance[j] = m.signal
	}
	for a := range n {
		row := kx[a*c : (a+1)*c]
		for j := range c {
			mean[j] += row[j] * m.alpha[a]
		}
	}
	blas64.Trsm(blas.Left, blas.Trans, 1, m.rawU(), blas64.General{Rows: n, Cols: c, Stride: c, Data: kx})
	for a := range n {
		row := kx[a*c : (a+1)*c]
		for j := range c {
			variance[j] -= row[j] * row[j]
		}
	}
	for j := range c {
		variance[j] = max(variance[j], 1e-12*m.signal)
	}
}

// Condition returns the model conditioned on one more observation (x, y)
// with the same hyperparameters, extending the Cholesky factor in O(n²)
// instead of refactorizing in O(n³). Bayesian optimization uses it to add
// pending trials as fantasies.
func (m *Model) Condition(x []float64, y float64) (*Model, error) {
	n := len(m.x)
	c := &Model{dim: m.dim, cat: m.cat, deterministic: m.deterministic, params: m.params, signal: m.signal,
		noise: m.noise, inv2: m.inv2, jitter: m.jitter,
		x: append(slices.Clone(m.x), slices.Clone(x)), y: append(slices.Clone(m.y), y)}
	w := make([]float64, n+1)
	m.kvec(x, w[:n])
	w[n] = m.signal + m.noise + m.jitter
	if n == 0 || !c.chol.ExtendVecSym(&m.chol, mat.NewVecDense(n+1, w)) {
		// Extension failed (the point nearly repeats one): refactorize,
		// with jitter as needed.
		if err := c.factorize(); err != nil {
			return nil, err
		}
		return c, nil
	}
	var a mat.VecDense
	if err := c.chol.SolveVecTo(&a, mat.NewVecDense(n+1, slices.Clone(c.y))); err != nil && !isCondition(err) {
		return nil, err
	}
	c.alpha = a.RawVector().Data
	return c, nil
}
