package model

import (
	"math"

	"github.com/olc-toolkit/olc/internal/parallel"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
)

// gemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices,
// op(X) = Xᵀ when the flag says so, through gonum's BLAS (blas32 or
// blas64, whichever implementation is registered: pure Go by default,
// OpenBLAS with the openblas build tag).
func gemm[T Float](workers int, tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	ta, tb := blas.NoTrans, blas.NoTrans
	if tA {
		ta = blas.Trans
	}
	if tB {
		tb = blas.Trans
	}
	if m == 0 || n == 0 {
		return
	}
	if splitRows && workers > 1 && m >= 128 && !tA {
		// Rows of C depend only on rows of op(A).
		chunk := (m + workers - 1) / workers
		parallel.ForN(workers, (m+chunk-1)/chunk, func(t int) {
			r0 := t * chunk
			gemmOne(ta, tb, min(chunk, m-r0), n, k, alpha, a[r0*lda:], lda, b, ldb, beta, c[r0*ldc:], ldc)
		})
		return
	}
	gemmOne(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// gemmOne is one call of the registered BLAS.
func gemmOne[T Float](ta, tb blas.Transpose, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
	switch a := any(a).(type) {
	case []float32:
		blas32.Implementation().Sgemm(ta, tb, m, n, k, float32(alpha), a, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
	case []float64:
		blas64.Implementation().Dgemm(ta, tb, m, n, k, float64(alpha), a, lda, any(b).([]float64), ldb, float64(beta), any(c).([]float64), ldc)
	default:
		panic("model: gemm: element type is neither float32 nor float64")
	}
}

// linear computes y = x·Wᵀ + b for x (n × in), W (out × in, the layout of
// PyTorch's Linear) and b (out).
func linear[T Float](workers int, x []T, n, in int, w, b []T, out int, y []T) {
	for i := range n {
		copy(y[i*out:(i+1)*out], b)
	}
	gemm(workers, false, true, n, out, in, 1, x, in, w, in, 1, y, out)
}

// linearBackward accumulates dW += dyᵀ·x and db += Σ dy, and returns
// dx = dy·W (or adds it into dx when dx is not nil).
func linearBackward[T Float](workers int, x []T, n, in int, w []T, out int, dy, dw, db, dx []T) []T {
	gemm(workers, true, false, out, in, n, 1, dy, out, x, in, 1, dw, in)
	for i := range n {
		row := dy[i*out : (i+1)*out]
		for j, v := range row {
			db[j] += v
		}
	}
	beta := T(1)
	if dx == nil {
		dx = make([]T, n*in)
		beta = 0
	}
	gemm(workers, false, false, n, in, out, 1, dy, out, w, in, beta, dx, in)
	return dx
}

// layerNorm normalizes each row of x (n × d) into y with gain g and bias b,
// and keeps each row's mean and inverse standard deviation for the
// backward pass; with y nil it computes the statistics only.
func layerNorm[T Float](x []T, n, d int, g, b []T, eps float64, y, mean, rstd []T) {
	for i := range n {
		row := x[i*d : (i+1)*d]
		var mu, v float64
		for _, u := range row {
			mu += float64(u)
		}
		mu /= float64(d)
		for _, u := range row {
			v += (float64(u) - mu) * (float64(u) - mu)
		}
		v /= float64(d)
		r := 1 / math.Sqrt(v+eps)
		mean[i], rstd[i] = T(mu), T(r)
		if y == nil { // the statistics only
			continue
		}
		out := y[i*d : (i+1)*d]
		for j, u := range row {
			out[j] = g[j]*(u-T(mu))*T(r) + b[j]
		}
	}
}

// layerNormBackward accumulates dg and db and returns dx.
func layerNormBackward[T Float](x []T, n, d int, g, mean, rstd, dy, dg, db []T) []T {
	dx := make([]T, n*d)
	for i := range n {
		row, dyr := x[i*d:(i+1)*d], dy[i*d:(i+1)*d]
		mu, r := mean[i], rstd[i]
		var s1, s2 T // Σ g·dy and Σ g·dy·x̂
		for j, u := range row {
			xh := (u - mu) * r
			gd := g[j] * dyr[j]
			s1 += gd
			s2 += gd * xh
			dg[j] += dyr[j] * xh
			db[j] += dyr[j]
		}
		out := dx[i*d : (i+1)*d]
		inv := 1 / T(d)
		for j, u := range row {
			xh := (u - mu) * r
			out[j] = r * (g[j]*dyr[j] - inv*s1 - xh*inv*s2)
		}
	}
	return dx
}

// geluInPlace replaces every x by GELU(x), on all cores. float32 values
// use erf32, exact to float32's precision and several times faster than
// math.Erf; float64 values use math.Erf.
func geluInPlace[T Float](workers int, x []T) {
	const chunk = 1 << 14
	forTasks(workers, (len(x)+chunk-1)/chunk, func(t int, _ *[]T) {
		part := x[t*chunk : min(len(x), (t+1)*chunk)]
		if f, ok := any(part).([]float32); ok {
			gelu32(f)
			return
		}
		for i, v := range part {
			part[i] = gelu(v)
		}
	})
}

// gelu32 applies the exact GELU to x in place, with erf32's rational
// function inline and its polynomials in Estrin's form (shorter chains of
// dependent operations, so that consecutive elements overlap).
func gelu32(x []float32) {
	for i, v := range x {
		// Comparisons, not min and max, which handle NaN and signed zeros
		// and cost half the loop.
		z := float64(v) * (1 / math.Sqrt2)
		if z > 4 {
			z = 4
		} else if z < -4 {
			z = -4
		}
		z2 := z * z
		z4 := z2 * z2
		p := (-1.60960333262415e-02 - 2.95459980854025e-03*z2) + z4*(-7.34990630326855e-04-5.69250639462346e-05*z2) +
			z4*z4*(-2.10102402082508e-06+2.77068142495902e-08*z2-2.72614225801306e-10*z4)
		q := (-1.42647390514189e-02 - 7.37332916720468e-03*z2) + z4*(-1.68282697438203e-03-2.13374055278905e-04*z2) - z4*z4*1.45660718464996e-05
		// The rational function strays past ±1 near |z| = 4 by about
		// 5e-8; clamped, GELU's tail goes to 0 and x as it should.
		e := z * p / q
		if e > 1 {
			e = 1
		} else if e < -1 {
			e = -1
		}
		x[i] = float32(0.5 * float64(v) * (1 + e))
	}
}

// erf32 is erf for float32 as a rational function of x on [−4, 4] (erf
// is ±1 to float32 precision beyond), the form and coefficients of
// Eigen's generic_fast_erf_float, evaluated in float64: no exp, so it
// costs a dozen multiplications and one division.
func erf32(xf float32) float32 {
	x := max(-4, min(4, float64(xf)))
	x2 := x * x
	p := (((((-2.72614225801306e-10*x2+2.77068142495902e-08)*x2-2.10102402082508e-06)*x2-5.69250639462346e-05)*x2-7.34990630326855e-04)*x2-2.95459980854025e-03)*x2 - 1.60960333262415e-02
	q := (((-1.45660718464996e-05*x2-2.13374055278905e-04)*x2-1.68282697438203e-03)*x2-7.37332916720468e-03)*x2 - 1.42647390514189e-02
	return float32(x * p / q)
}

// gelu is the exact GELU, x·Φ(x) = ½x(1 + erf(x/√2)).
func gelu[T Float](x T) T {
	return T(0.5 * float64(x) * (1 + math.Erf(float64(x)/math.Sqrt2)))
}

// geluGrad is GELU's derivative, Φ(x) + x·φ(x).
func geluGrad[T Float](x T) T {
	xf := float64(x)
	return T(0.5*(1+math.Erf(xf/math.Sqrt2)) + xf*math.Exp(-0.5*xf*xf)/math.Sqrt(2*math.Pi))
}

// softmaxCE returns the cross-entropy −log softmax(logits)[label] and
// writes its gradient softmax − onehot, scaled by scale, into grad.
func softmaxCE[T Float](logits []T, label int, scale T, grad []T) T {
	mx := logits[0]
	for _, v := range logits {
		mx = max(mx, v)
	}
	var sum float64
	for _, v := range logits {
		sum += math.Exp(float64(v - mx))
	}
	lse := float64(mx) + math.Log(sum)
	if grad != nil {
		for i, v := range logits {
			grad[i] = scale * T(math.Exp(float64(v)-lse))
		}
		grad[label] -= scale
	}
	return T(lse - float64(logits[label]))
}
