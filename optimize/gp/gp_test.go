package gp_test

import (
	"context"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/olc-toolkit/olc/optimize/gp"
)

// data draws n points in d dimensions (the last one categorical with 3
// choices when withCat) and values from a smooth function plus noise.
func data(n, d int, withCat bool, seed uint64) ([][]float64, []float64, []bool) {
	rnd := rand.New(rand.NewPCG(seed, 1))
	cat := make([]bool, d)
	if withCat {
		cat[d-1] = true
	}
	x := make([][]float64, n)
	y := make([]float64, n)
	for i := range n {
		x[i] = make([]float64, d)
		for j := range d {
			if cat[j] {
				x[i][j] = float64(rnd.IntN(3))
			} else {
				x[i][j] = rnd.Float64()
			}
		}
		y[i] = math.Sin(6*x[i][0]) + x[i][1]*x[i][1] + 0.3*x[i][d-1] + 0.05*rnd.NormFloat64()
	}
	return x, y, cat
}

func params(d int) gp.Params {
	p := gp.Params{LogSignal: math.Log(1.3), LogNoise: math.Log(0.01)}
	for i := range d {
		p.LogLengthscales = append(p.LogLengthscales, math.Log(0.3+0.2*float64(i)))
	}
	return p
}

// kernel is the Matérn 5/2 ARD kernel with a Hamming term, written out
// plainly from Rasmussen and Williams eq. 4.17.
func kernel(a, b []float64, p gp.Params, cat []bool) float64 {
	r2 := 0.0
	for i := range a {
		l := math.Exp(p.LogLengthscales[i])
		if cat[i] {
			if a[i] != b[i] {
				r2 += 1 / (l * l)
			}
			continue
		}
		r2 += (a[i] - b[i]) * (a[i] - b[i]) / (l * l)
	}
	r := math.Sqrt(r2)
	return math.Exp(p.LogSignal) * (1 + math.Sqrt(5)*r + 5*r*r/3) * math.Exp(-math.Sqrt(5)*r)
}

// dense returns the posterior mean and variance at x by inverting the
// kernel matrix densely.
func dense(x [][]float64, y []float64, cat []bool, p gp.Params, at []float64) (float64, float64) {
	n := len(x)
	k := mat.NewDense(n, n, nil)
	for i := range n {
		for j := range n {
			k.Set(i, j, kernel(x[i], x[j], p, cat))
		}
		k.Set(i, i, k.At(i, i)+p.Noise(false))
	}
	var inv mat.Dense
	if err := inv.Inverse(k); err != nil {
		panic(err)
	}
	ks := mat.NewVecDense(n, nil)
	for i := range n {
		ks.SetVec(i, kernel(at, x[i], p, cat))
	}
	var w mat.VecDense
	w.MulVec(&inv, ks)
	return mat.Dot(&w, mat.NewVecDense(n, y)), kernel(at, at, p, cat) - mat.Dot(&w, ks)
}

func TestPosteriorAgainstDenseInverse(t *testing.T) {
	x, y, cat := data(25, 3, true, 1)
	p := params(3)
	m, err := gp.New(x, y, cat, p, false)
	if err != nil {
		t.Fatal(err)
	}
	test, _, _ := data(10, 3, true, 2)
	means, vars := make([]float64, len(test)), make([]float64, len(test))
	m.PredictBatch(test, means, vars)
	dm, dv := make([]float64, 3), make([]float64, 3)
	for j, at := range test {
		wantM, wantV := dense(x, y, cat, p, at)
		mu, v := m.Predict(at)
		mu2, v2 := m.PredictGrad(at, dm, dv)
		for _, got := range [][2]float64{{mu, v}, {means[j], vars[j]}, {mu2, v2}} {
			if math.Abs(got[0]-wantM) > 1e-9 || math.Abs(got[1]-wantV) > 1e-9 {
				t.Errorf("point %d: mean, var = %.12g, %.12g; dense %.12g, %.12g", j, got[0], got[1], wantM, wantV)
			}
		}
	}
}

func TestPredictGradFiniteDifferences(t *testing.T) {
	x, y, cat := data(30, 3, true, 3)
	m, err := gp.New(x, y, cat, params(3), false)
	if err != nil {
		t.Fatal(err)
	}
	at := []float64{0.37, 0.61, 1}
	dm, dv := make([]float64, 3), make([]float64, 3)
	m.PredictGrad(at, dm, dv)
	const h = 1e-6
	for i := range 2 { // continuous dimensions
		xp, xm := append([]float64(nil), at...), append([]float64(nil), at...)
		xp[i] += h
		xm[i] -= h
		mp, vp := m.Predict(xp)
		mm, vm := m.Predict(xm)
		if fd := (mp - mm) / (2 * h); math.Abs(fd-dm[i]) > 1e-6*max(1, math.Abs(fd)) {
			t.Errorf("∂mean/∂x%d = %.10g, finite difference %.10g", i, dm[i], fd)
		}
		if fd := (vp - vm) / (2 * h); math.Abs(fd-dv[i]) > 1e-6*max(1, math.Abs(fd)) {
			t.Errorf("∂var/∂x%d = %.10g, finite difference %.10g", i, dv[i], fd)
		}
	}
	if dm[2] != 0 || dv[2] != 0 {
		t.Errorf("gradient in the categorical dimension = %v, %v; want 0", dm[2], dv[2])
	}
}

// TestLogMarginalLikelihood checks the value against a dense computation
// and the gradient against central finite differences.
func TestLogMarginalLikelihood(t *testing.T) {
	for _, deterministic := range []bool{false, true} {
		x, y, cat := data(20, 3, true, 4)
		p := params(3)
		prior := gp.DefaultPrior(3)
		f, g := gp.LogMarginalLikelihood(x, y, cat, p, prior, deterministic)

		n := len(x)
		k := mat.NewSymDense(n, nil)
		for i := range n {
			for j := range n {
				k.SetSym(i, j, kernel(x[i], x[j], p, cat))
			}
			k.SetSym(i, i, k.At(i, i)+p.Noise(deterministic))
		}
		var chol mat.Cholesky
		chol.Factorize(k)
		var a mat.VecDense
		chol.SolveVecTo(&a, mat.NewVecDense(n, y))
		want := -0.5*mat.Dot(&a, mat.NewVecDense(n, y)) - 0.5*chol.LogDet() - float64(n)/2*math.Log(2*math.Pi)
		logp := func(v, m, s float64) float64 { return -(v - m) * (v - m) / (2 * s * s) }
		for _, l := range p.LogLengthscales {
			want += logp(l, prior.LengthscaleMean, prior.LengthscaleSD)
		}
		want += logp(p.LogSignal, prior.SignalMean, prior.SignalSD)
		if !deterministic {
			want += logp(p.LogNoise, prior.NoiseMean, prior.NoiseSD)
		}
		if math.Abs(f-want) > 1e-9*math.Abs(want) {
			t.Errorf("deterministic=%v: objective %.12g, dense %.12g", deterministic, f, want)
		}

		vec := func(p gp.Params) []float64 {
			v := append(append([]float64(nil), p.LogLengthscales...), p.LogSignal)
			if !deterministic {
				v = append(v, p.LogNoise)
			}
			return v
		}
		unvec := func(v []float64) gp.Params {
			q := gp.Params{LogLengthscales: v[:3], LogSignal: v[3]}
			if !deterministic {
				q.LogNoise = v[4]
			}
			return q
		}
		v := vec(p)
		if len(g) != len(v) {
			t.Fatalf("gradient has %d entries, want %d", len(g), len(v))
		}
		const h = 1e-5
		for i := range v {
			vp, vm := append([]float64(nil), v...), append([]float64(nil), v...)
			vp[i] += h
			vm[i] -= h
			fp, _ := gp.LogMarginalLikelihood(x, y, cat, unvec(vp), prior, deterministic)
			fm, _ := gp.LogMarginalLikelihood(x, y, cat, unvec(vm), prior, deterministic)
			fd := (fp - fm) / (2 * h)
			if math.Abs(fd-g[i]) > 1e-6*max(1, math.Abs(fd)) {
				t.Errorf("deterministic=%v: ∂/∂θ%d = %.10g, finite difference %.10g", deterministic, i, g[i], fd)
			}
		}
	}
}

func TestConditionMatchesRefit(t *testing.T) {
	x, y, cat := data(15, 2, false, 5)
	p := params(2)
	m, _ := gp.New(x[:12], y[:12], cat, p, false)
	for i := 12; i < 15; i++ {
		var err error
		if m, err = m.Condition(x[i], y[i]); err != nil {
			t.Fatal(err)
		}
	}
	full, _ := gp.New(x, y, cat, p, false)
	at := []float64{0.2, 0.9}
	m1, v1 := m.Predict(at)
	m2, v2 := full.Predict(at)
	if math.Abs(m1-m2) > 1e-10 || math.Abs(v1-v2) > 1e-10 {
		t.Errorf("conditioned: %v %v; refit: %v %v", m1, v1, m2, v2)
	}
}

func TestFit(t *testing.T) {
	x, y, cat := data(40, 2, false, 6)
	prior := gp.DefaultPrior(2)
	m, err := gp.Fit(context.Background(), x, y, cat, gp.FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := gp.LogMarginalLikelihood(x, y, cat, m.Params(), prior, false)
	start, _ := gp.LogMarginalLikelihood(x, y, cat, prior.Mode(2), prior, false)
	if got < start+1 {
		t.Errorf("fit objective %.4g is not above the prior mode's %.4g", got, start)
	}
	// A local maximum: the gradient vanishes.
	_, g := gp.LogMarginalLikelihood(x, y, cat, m.Params(), prior, false)
	for i, gi := range g {
		if math.Abs(gi) > 1e-2 {
			t.Errorf("gradient %d at the fit = %g", i, gi)
		}
	}
	// The same inputs give the same model.
	m2, _ := gp.Fit(context.Background(), x, y, cat, gp.FitOptions{})
	if a, b := m.Params(), m2.Params(); a.LogSignal != b.LogSignal || a.LogNoise != b.LogNoise {
		t.Errorf("two fits differ: %+v, %+v", a, b)
	}
	// Deterministic models keep the noise at its floor.
	d, err := gp.Fit(context.Background(), x, y, cat, gp.FitOptions{Deterministic: true})
	if err != nil || d.Noise() > 2*gp.MinNoise {
		t.Errorf("deterministic fit: noise %g, %v", d.Noise(), err)
	}
}

// TestFitLearnsNoise repeats every point with a different value: the
// learned noise must account for the spread, about 0.3² between repeats.
func TestFitLearnsNoise(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 7))
	var x [][]float64
	var y []float64
	for range 30 {
		p := []float64{rnd.Float64()}
		for range 2 {
			x = append(x, p)
			y = append(y, math.Sin(5*p[0])+0.3*rnd.NormFloat64())
		}
	}
	m, err := gp.Fit(context.Background(), x, y, []bool{false}, gp.FitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if n := m.Noise(); n < 0.03 || n > 0.3 {
		t.Errorf("learned noise variance %g, want near 0.09", n)
	}
}

// millsBig returns R(x) = (1 − Φ(x))/φ(x) for x ≥ 3 by its continued
// fraction 1/(x + 1/(x + 2/(x + 3/(x + …)))), evaluated backwards in
// 256-bit arithmetic: an independent reference for the tails (it converges
// slowly for small x, where the direct formulas serve).
func millsBig(x float64) *big.Float {
	prec := uint(256)
	bx := new(big.Float).SetPrec(prec).SetFloat64(x)
	t := new(big.Float).SetPrec(prec).Set(bx)
	for k := 400; k >= 1; k-- {
		q := new(big.Float).SetPrec(prec).Quo(new(big.Float).SetPrec(prec).SetInt64(int64(k)), t)
		t = new(big.Float).SetPrec(prec).Add(bx, q)
	}
	return new(big.Float).SetPrec(prec).Quo(new(big.Float).SetPrec(prec).SetInt64(1), t)
}

// refLogEI is log EI from the reference: h(z)/φ(z) = 1 + z·R(−z) for z < 0.
func refLogEI(mu, sigma, best float64) float64 {
	z := (best - mu) / sigma
	if z >= -3 {
		// Direct: no underflow, and at most one digit lost to cancellation.
		phi := math.Exp(-z*z/2) / math.Sqrt(2*math.Pi)
		cdf := 0.5 * math.Erfc(-z/math.Sqrt2)
		return math.Log(sigma * (z*cdf + phi))
	}
	r := millsBig(-z)
	q := new(big.Float).SetPrec(256).Mul(new(big.Float).SetPrec(256).SetFloat64(z), r)
	q.Add(q, new(big.Float).SetPrec(256).SetInt64(1))
	qf, _ := q.Float64()
	return math.Log(sigma) - z*z/2 - 0.5*math.Log(2*math.Pi) + math.Log(qf)
}

func TestLogEI(t *testing.T) {
	for _, z := range []float64{3, 1, 0.2, 0, -0.5, -1, -2, -5, -10, -30, -39, -41, -100, -1e3, -1e5} {
		sigma := 0.7
		mu := 1.0
		best := mu + z*sigma
		got, dmu, dsig := gp.LogEI(mu, sigma, best, 0)
		want := refLogEI(mu, sigma, best)
		if math.IsInf(got, 0) || math.IsNaN(got) || math.Abs(got-want) > 1e-10*max(1, math.Abs(want)) {
			t.Errorf("z = %g: log EI = %.15g, reference %.15g", z, got, want)
		}
		// Naive EI underflows to 0 here; log-EI must not.
		if z <= -40 {
			phi := math.Exp(-z*z/2) / math.Sqrt(2*math.Pi)
			if naive := sigma * (z*0.5*math.Erfc(-z/math.Sqrt2) + phi); naive != 0 && z < -40 {
				t.Logf("z = %g: naive EI %g", z, naive)
			}
		}
		// Derivatives by central differences in μ and σ.
		h := 1e-6 * sigma
		fp, _, _ := gp.LogEI(mu+h, sigma, best, 0)
		fm, _, _ := gp.LogEI(mu-h, sigma, best, 0)
		if fd := (fp - fm) / (2 * h); math.Abs(fd-dmu) > 1e-5*max(1, math.Abs(fd)) {
			t.Errorf("z = %g: ∂/∂μ = %.10g, finite difference %.10g", z, dmu, fd)
		}
		fp, _, _ = gp.LogEI(mu, sigma+h, best, 0)
		fm, _, _ = gp.LogEI(mu, sigma-h, best, 0)
		if fd := (fp - fm) / (2 * h); math.Abs(fd-dsig) > 1e-5*max(1, math.Abs(fd)) {
			t.Errorf("z = %g: ∂/∂σ = %.10g, finite difference %.10g", z, dsig, fd)
		}
	}
	// ξ offsets the incumbent.
	a, _, _ := gp.LogEI(0, 1, 0.5, 0.2)
	b, _, _ := gp.LogEI(0, 1, 0.3, 0)
	if a != b {
		t.Errorf("ξ does not offset: %v vs %v", a, b)
	}
}

func TestLogPI(t *testing.T) {
	for _, z := range []float64{2, 0, -2, -3.5, -6, -20, -50} {
		mu, sigma := 0.5, 2.0
		best := mu + z*sigma
		got, dmu, dsig := gp.LogPI(mu, sigma, best, 0)
		// Reference: log Φ(z) = log(φ(z)·R(−z)) for z < 0.
		var want float64
		if z >= -3 {
			want = math.Log(0.5 * math.Erfc(-z/math.Sqrt2))
		} else {
			r, _ := millsBig(-z).Float64()
			want = -z*z/2 - 0.5*math.Log(2*math.Pi) + math.Log(r)
		}
		if math.Abs(got-want) > 1e-10*max(1, math.Abs(want)) {
			t.Errorf("z = %g: log PI = %.15g, reference %.15g", z, got, want)
		}
		h := 1e-6
		fp, _, _ := gp.LogPI(mu+h, sigma, best, 0)
		fm, _, _ := gp.LogPI(mu-h, sigma, best, 0)
		if fd := (fp - fm) / (2 * h); math.Abs(fd-dmu) > 1e-5*max(1, math.Abs(fd)) {
			t.Errorf("z = %g: ∂/∂μ = %g, finite difference %g", z, dmu, fd)
		}
		fp, _, _ = gp.LogPI(mu, sigma+h, best, 0)
		fm, _, _ = gp.LogPI(mu, sigma-h, best, 0)
		if fd := (fp - fm) / (2 * h); math.Abs(fd-dsig) > 1e-5*max(1, math.Abs(fd)) {
			t.Errorf("z = %g: ∂/∂σ = %g, finite difference %g", z, dsig, fd)
		}
	}
}

func TestUCB(t *testing.T) {
	v, dmu, dsig := gp.UCB(1.5, 0.5, 2)
	if v != -0.5 || dmu != -1 || dsig != 2 {
		t.Errorf("UCB = %v, %v, %v", v, dmu, dsig)
	}
}

func TestTrainingMeans(t *testing.T) {
	x, y, cat := data(30, 3, true, 9)
	m, err := gp.New(x, y, cat, params(3), false)
	if err != nil {
		t.Fatal(err)
	}
	for i, got := range m.TrainingMeans() {
		want, _ := m.Predict(x[i])
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("point %d: training mean %.12g, Predict %.12g", i, got, want)
		}
	}
}
