package model

import (
	"math"

	"github.com/olc-toolkit/olc/internal/amx"
	"github.com/olc-toolkit/olc/internal/parallel"
	"github.com/olc-toolkit/olc/internal/sgemm"
	"github.com/olc-toolkit/olc/internal/vecmath"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"
	"gonum.org/v1/gonum/blas/blas64"
)

// gemm computes C = alpha·op(A)·op(B) + beta·C for row-major matrices,
// op(X) = Xᵀ when the flag says so, through gonum's BLAS (blas32 or
// blas64, whichever implementation is registered: pure Go by default,
// OpenBLAS with the openblas build tag).
func gemm[T Float](ex exec, tA, tB bool, m, n, k int, alpha T, a []T, lda int, b []T, ldb int, beta T, c []T, ldc int) {
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
	workers := ex.workers
	if a32, ok := any(a).([]float32); ok && ex.tiles(m, n, k) {
		amx.Gemm(workers, tA, tB, m, n, k, float32(alpha), a32, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
		return
	}
	if simd != simdNone && !cBLAS {
		if a32, ok := any(a).([]float32); ok {
			sgemm.Gemm(workers, tA, tB, m, n, k, float32(alpha), a32, lda, any(b).([]float32), ldb, float32(beta), any(c).([]float32), ldc)
			return
		}
	}
	if cBLAS && workers > 1 && m >= 128 && !tA {
		// Rows of C depend only on rows of op(A).
		chunk := (m + workers - 1) / workers
		parallel.ForN(workers, (m+chunk-1)/chunk, func(t int) {
			r0 := t * chunk
			gemmOne(ta, tb, min(chunk, m-r0), n, k, alpha, a[r0*lda:], lda, b, ldb, beta, c[r0*ldc:], ldc)
		})
		return
	}
	if cBLAS && workers > 1 && n >= 128 && tA {
		// Columns of C depend only on columns of op(B): the weight
		// gradients' products (dyᵀ·x), whose rows are few.
		chunk := (n + workers - 1) / workers
		parallel.ForN(workers, (n+chunk-1)/chunk, func(t int) {
			c0 := t * chunk
			b0 := c0 // columns of B
			if tB {
				b0 = c0 * ldb // rows of B
			}
			gemmOne(ta, tb, m, min(chunk, n-c0), k, alpha, a, lda, b[b0:], ldb, beta, c[c0:], ldc)
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
func linear[T Float](ex exec, x []T, n, in int, w, b []T, out int, y []T) {
	if x32, ok := any(x).([]float32); ok && ex.tiles(n, out, in) {
		// The tile unit starts from the bias: y is not written twice.
		amx.GemmBias(ex.workers, false, true, n, out, in, x32, in, any(w).([]float32), in, any(b).([]float32), any(y).([]float32), out)
		return
	}
	for i := range n {
		copy(y[i*out:(i+1)*out], b)
	}
	gemm(ex, false, true, n, out, in, 1, x, in, w, in, 1, y, out)
}

// linears computes ys[i] = x·ds[i].Wᵀ + ds[i].b for layers on the same
// input x (n × in): in bf16 the input is rounded and packed for the tile
// unit once for all of them.
func linears[T Float](ex exec, x []T, n, in int, ds []dense[T], ys [][]T) {
	if x32, ok := any(x).([]float32); ok && n > 0 && ex.tiles(n, ds[0].Out, in) {
		pa := amx.PackA(ex.workers, false, n, in, 1, x32, in)
		defer pa.Release()
		for i, d := range ds {
			amx.GemmBiasPacked(ex.workers, pa, true, d.Out, any(d.W.W).([]float32), in, any(d.B.W).([]float32), any(ys[i]).([]float32), d.Out)
		}
		return
	}
	for i, d := range ds {
		linear(ex, x, n, in, d.W.W, d.B.W, d.Out, ys[i])
	}
}

// linearBackward accumulates dW += dyᵀ·x and db += Σ dy, and returns
// dx = dy·W (or adds it into dx when dx is not nil).
func linearBackward[T Float](ex exec, x []T, n, in int, w []T, out int, dy, dw, db, dx []T) []T {
	if dx == nil {
		return linearBackwardTo(ex, x, n, in, w, out, dy, dw, db, make([]T, n*in), 0)
	}
	return linearBackwardTo(ex, x, n, in, w, out, dy, dw, db, dx, 1)
}

// linearBackwardTo is linearBackward writing dx = dy·W + beta·dx.
func linearBackwardTo[T Float](ex exec, x []T, n, in int, w []T, out int, dy, dw, db, dx []T, beta T) []T {
	gemm(ex, true, false, out, in, n, 1, dy, out, x, in, 1, dw, in)
	colSums(ex.workers, dy, n, out, db)
	gemm(ex, false, false, n, in, out, 1, dy, out, w, in, beta, dx, in)
	return dx
}

// ewChunk is the number of elements an element-wise task takes: fixed,
// so that the partial sums of a reduction, and so its result, do not
// depend on the number of cores.
const ewChunk = 1 << 14

// forRows runs fn over consecutive ranges [lo, hi) of n rows of width d,
// about ewChunk elements each, on workers goroutines.
func forRows(workers, n, d int, fn func(t, lo, hi int)) int {
	per := max(1, ewChunk/max(1, d))
	tasks := (n + per - 1) / per
	parallel.ForN(workers, tasks, func(t int) { fn(t, t*per, min(n, (t+1)*per)) })
	return tasks
}

// layerNorm normalizes each row of x (n × d) into y with gain g and bias b,
// and keeps each row's mean and inverse standard deviation for the
// backward pass; with y nil it computes the statistics only. y may be x.
// Rows are split over workers goroutines.
func layerNorm[T Float](workers int, x []T, n, d int, g, b []T, eps float64, y, mean, rstd []T) {
	forRows(workers, n, d, func(_, lo, hi int) {
		var yr []T
		if y != nil {
			yr = y[lo*d : hi*d]
		}
		layerNormRows(x[lo*d:hi*d], hi-lo, d, g, b, eps, yr, mean[lo:hi], rstd[lo:hi])
	})
}

func layerNormRows[T Float](x []T, n, d int, g, b []T, eps float64, y, mean, rstd []T) {
	if xf, ok := any(x).([]float32); ok && useVec && vecmath.Available() {
		var yf []float32
		if y != nil {
			yf = any(y).([]float32)
		}
		layerNormRows32(xf, n, d, any(g).([]float32), any(b).([]float32), eps, yf, any(mean).([]float32), any(rstd).([]float32))
		return
	}
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

// layerNormRows32 is layerNormRows on internal/vecmath's kernels: the
// sums in 16 float32 lanes (the tail past the last whole vector in
// float64), then the row normalized in one pass.
func layerNormRows32(x []float32, n, d int, g, b []float32, eps float64, y, mean, rstd []float32) {
	for i := range n {
		row := x[i*d : (i+1)*d]
		s, k := vecmath.Sum(row)
		sum := float64(s)
		for _, u := range row[k:] {
			sum += float64(u)
		}
		mu := float32(sum / float64(d))
		q, k := vecmath.SumSqDev(row, mu)
		v := float64(q)
		for _, u := range row[k:] {
			v += float64(u-mu) * float64(u-mu)
		}
		r := float32(1 / math.Sqrt(v/float64(d)+eps))
		mean[i], rstd[i] = mu, r
		if y == nil {
			continue
		}
		out := y[i*d : (i+1)*d]
		for j := vecmath.Norm(out, row, g, b, mu, r); j < d; j++ {
			out[j] = g[j]*(row[j]-mu)*r + b[j]
		}
	}
}

// residualNorm sets h = h ⊙ mask + residual (no mask: no dropout) and,
// with g not nil, normalizes its rows into y (which may be h) as
// layerNorm does: one pass over each range of rows, on workers goroutines.
func residualNorm[T Float](workers int, h, residual, mask []T, n, d int, g, b []T, eps float64, y, mean, rstd []T) {
	forRows(workers, n, d, func(_, lo, hi int) {
		hr, rr := h[lo*d:hi*d], residual[lo*d:hi*d]
		if mask != nil {
			mr, k := mask[lo*d:hi*d], 0
			if hf, ok := any(hr).([]float32); ok && useVec {
				k = vecmath.MulAdd(hf, any(mr).([]float32), any(rr).([]float32))
			}
			for i := k; i < len(hr); i++ {
				hr[i] = hr[i]*mr[i] + rr[i]
			}
		} else {
			axpy(1, rr, hr)
		}
		if g == nil {
			return
		}
		var yr []T
		if y != nil {
			yr = y[lo*d : hi*d]
		}
		layerNormRows(hr, hi-lo, d, g, b, eps, yr, mean[lo:hi], rstd[lo:hi])
	})
}

// layerNormBackward accumulates dg and db and returns dx. With mask not
// nil it also returns dx ⊙ mask as dmasked (the gradient of a sublayer's
// output through its dropout, fused into the same pass). Rows are split
// over workers goroutines; each task sums its own part of dg and db, and
// the parts are added in order. dx and dmasked, when not nil, are
// overwritten and returned; nil ones are allocated.
func layerNormBackward[T Float](workers int, x []T, n, d int, g, mean, rstd, dy, dg, db, mask, dx, dmasked []T) ([]T, []T) {
	if dx == nil {
		dx = make([]T, n*d)
	}
	if mask == nil {
		dmasked = nil
	} else if dmasked == nil {
		dmasked = make([]T, n*d)
	}
	per := max(1, ewChunk/max(1, d))
	parts := make([]T, (n+per-1)/per*2*d)
	forRows(workers, n, d, func(t, lo, hi int) {
		pg, pb := parts[2*t*d:(2*t+1)*d], parts[(2*t+1)*d:(2*t+2)*d]
		inv := 1 / T(d)
		_, vec := any(x).([]float32)
		vec = vec && useVec
		for i := lo; i < hi; i++ {
			row, dyr := x[i*d:(i+1)*d], dy[i*d:(i+1)*d]
			mu, r := mean[i], rstd[i]
			var s1, s2 T // Σ g·dy and Σ g·dy·x̂
			k := 0
			if vec {
				v1, v2, done := vecmath.NormGradSums(any(row).([]float32), any(dyr).([]float32), any(g).([]float32), any(pg).([]float32), any(pb).([]float32), float32(mu), float32(r))
				s1, s2, k = T(v1), T(v2), done
			}
			for j := k; j < d; j++ {
				xh := (row[j] - mu) * r
				gd := g[j] * dyr[j]
				s1 += gd
				s2 += gd * xh
				pg[j] += dyr[j] * xh
				pb[j] += dyr[j]
			}
			out := dx[i*d : (i+1)*d]
			k = 0
			if vec {
				k = vecmath.NormGradOut(any(out).([]float32), any(row).([]float32), any(dyr).([]float32), any(g).([]float32), float32(mu), float32(r), float32(inv*s1), float32(inv*s2))
			}
			for j := k; j < d; j++ {
				xh := (row[j] - mu) * r
				out[j] = r * (g[j]*dyr[j] - inv*s1 - xh*inv*s2)
			}
			if mask != nil {
				mr, dm := mask[i*d:(i+1)*d], dmasked[i*d:(i+1)*d]
				k = 0
				if vec {
					k = vecmath.Mul(any(dm).([]float32), any(out).([]float32), any(mr).([]float32))
				}
				for j := k; j < d; j++ {
					dm[j] = out[j] * mr[j]
				}
			}
		}
	})
	for t := range len(parts) / (2 * d) {
		axpy(1, parts[2*t*d:(2*t+1)*d], dg)
		axpy(1, parts[(2*t+1)*d:(2*t+2)*d], db)
	}
	return dx, dmasked
}

// colSums adds the column sums of x (n × d) into s, over column ranges
// on workers goroutines.
func colSums[T Float](workers int, x []T, n, d int, s []T) {
	w := d
	if n*d >= ewChunk && workers > 1 {
		w = (d + workers - 1) / workers
	}
	parallel.ForN(workers, (d+w-1)/w, func(t int) {
		c0, c1 := t*w, min(d, (t+1)*w)
		for i := range n {
			axpy(1, x[i*d+c0:i*d+c1], s[c0:c1])
		}
	})
}

// geluInto writes GELU(src) into dst (which may be src), on all cores.
// float32 values use gelu32, exact to float32's precision and several
// times faster than math.Erf; float64 values use math.Erf.
func geluInto[T Float](workers int, dst, src []T) {
	forRows(workers, len(src), 1, func(_, lo, hi int) {
		if f, ok := any(src[lo:hi]).([]float32); ok {
			gelu32(any(dst[lo:hi]).([]float32), f)
			return
		}
		for i, v := range src[lo:hi] {
			dst[lo+i] = gelu(v)
		}
	})
}

// geluBackward multiplies dy by GELU's derivative at u, on all cores
// (geluGrad32's rational erf and exp32 for float32).
func geluBackward[T Float](workers int, u, dy []T) {
	forRows(workers, len(u), 1, func(_, lo, hi int) {
		if f, ok := any(u[lo:hi]).([]float32); ok {
			geluGrad32(f, any(dy[lo:hi]).([]float32))
			return
		}
		for i, v := range u[lo:hi] {
			dy[lo+i] *= geluGrad(v)
		}
	})
}

// gelu32 writes the exact GELU of src into dst, with erf32's rational
// function inline and its polynomials in Estrin's form (shorter chains of
// dependent operations, so that consecutive elements overlap).
func gelu32(dst, src []float32) {
	if useVec {
		k := vecmath.Gelu(dst, src)
		dst, src = dst[k:], src[k:]
	}
	dst = dst[:len(src)]
	for i, v := range src {
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
		p := (erfP0 + erfP1*z2) + z4*(erfP2+erfP3*z2) + z4*z4*(erfP4+erfP5*z2+erfP6*z4)
		q := (erfQ0 + erfQ1*z2) + z4*(erfQ2+erfQ3*z2) + z4*z4*erfQ4
		// The rational function strays past ±1 near |z| = 4 by about
		// 5e-8; clamped, GELU's tail goes to 0 and x as it should.
		e := z * p / q
		if e > 1 {
			e = 1
		} else if e < -1 {
			e = -1
		}
		dst[i] = float32(0.5 * float64(v) * (1 + e))
	}
}

// The coefficients of erf32's rational function (erf(z) ≈ z·P(z²)/Q(z²)).
const (
	erfP0, erfP1, erfP2, erfP3 = -1.60960333262415e-02, -2.95459980854025e-03, -7.34990630326855e-04, -5.69250639462346e-05
	erfP4, erfP5, erfP6        = -2.10102402082508e-06, 2.77068142495902e-08, -2.72614225801306e-10
	erfQ0, erfQ1, erfQ2, erfQ3 = -1.42647390514189e-02, -7.37332916720468e-03, -1.68282697438203e-03, -2.13374055278905e-04
	erfQ4                      = -1.45660718464996e-05
)

// geluGrad32 multiplies dy by GELU's derivative Φ(u) + u·φ(u) at u: Φ by
// erf32's rational function as in gelu32, φ by exp32's algorithm inline
// (its argument −u²/2 is at most 0). The rational function is written out
// here and in gelu32 rather than called: too large to inline, a call per
// element doubled gelu32's time, and without AVX-512 these loops are the
// whole of the work.
func geluGrad32(u, dy []float32) {
	const (
		log2e = 1.44269504088896341
		ln2hi = 0.693359375
		ln2lo = -2.12194440e-4
		magic = 12582912 // 1.5·2²³: adding and subtracting it rounds
	)
	if useVec {
		k := vecmath.GeluGrad(u, dy)
		u, dy = u[k:], dy[k:]
	}
	dy = dy[:len(u)]
	for i, v := range u {
		z := float64(v) * (1 / math.Sqrt2)
		if z > 4 {
			z = 4
		} else if z < -4 {
			z = -4
		}
		z2 := z * z
		z4 := z2 * z2
		p := (erfP0 + erfP1*z2) + z4*(erfP2+erfP3*z2) + z4*z4*(erfP4+erfP5*z2+erfP6*z4)
		q := (erfQ0 + erfQ1*z2) + z4*(erfQ2+erfQ3*z2) + z4*z4*erfQ4
		e := z * p / q
		if e > 1 {
			e = 1
		} else if e < -1 {
			e = -1
		}
		// e^(−v²/2), 0 below −87 (φ is then far below float32's epsilon
		// against Φ).
		x := -0.5 * v * v
		var phi float32
		if x > -87 {
			t := x*log2e + magic
			k := t - magic
			r := x - k*ln2hi - k*ln2lo
			r2 := r * r
			pe := (5.0000001201e-1 + 1.6666665459e-1*r) + r2*(4.1665795894e-2+8.3334519073e-3*r) + r2*r2*(1.3981999507e-3+1.9875691500e-4*r)
			phi = (pe*r2 + r + 1) * math.Float32frombits(uint32(int32(k)+127)<<23)
		}
		dy[i] *= float32(0.5*(1+e) + float64(v)*float64(phi)*(1/math.Sqrt(2*math.Pi)))
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
