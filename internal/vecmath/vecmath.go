// Package vecmath holds AVX-512 kernels for the model's element-wise
// float32 work: GELU, its derivative, and the softmax's shifted
// exponential. Each takes the longest prefix whose length is a multiple
// of 16 (one vector) and returns how many elements it did; the caller
// does the rest with its scalar code. Without AVX-512 (or on other
// architectures, or with -tags purego) they do nothing and return 0.
//
// The arithmetic is float32 with fused multiply-adds: GELU's erf is the
// rational function of Eigen's generic_fast_erf_float on [−4, 4], the
// exponential Cephes' expf (argument reduction by ln 2 in two parts, a
// degree-5 polynomial, the exponent put in by VSCALEFPS).
package vecmath

// Available reports whether the kernels run here.
func Available() bool { return available }

// Gelu writes GELU(src[i]) into dst[i] for the first n − n%16 elements of
// src (dst may be src) and returns that count.
func Gelu(dst, src []float32) int {
	n := len(src) &^ 15
	if !available || n == 0 {
		return 0
	}
	_ = dst[n-1]
	geluKernel(&dst[0], &src[0], n)
	return n
}

// GeluGrad multiplies dy[i] by GELU's derivative at u[i] for the first
// n − n%16 elements and returns that count.
func GeluGrad(u, dy []float32) int {
	n := len(u) &^ 15
	if !available || n == 0 {
		return 0
	}
	_ = dy[n-1]
	geluGradKernel(&u[0], &dy[0], n)
	return n
}

// ExpShift replaces x[i] by e^(x[i]−mx) for the first n − n%16 elements
// (0 where x[i]−mx < −87.33654, which takes in −Inf) and returns their sum
// and that count.
func ExpShift(x []float32, mx float32) (sum float32, done int) {
	n := len(x) &^ 15
	if !available || n == 0 {
		return 0, 0
	}
	var sums [16]float32
	expShiftKernel(&x[0], n, mx, &sums)
	for _, s := range sums {
		sum += s
	}
	return sum, n
}

// Max returns the largest of x's first n − n%16 elements (NaNs aside) and
// that count; 0, 0 when it does nothing.
func Max(x []float32) (mx float32, done int) {
	n := len(x) &^ 15
	if !available || n == 0 {
		return 0, 0
	}
	return maxAVX512(&x[0], n), n
}

// Scale multiplies x's first n − n%16 elements by a and returns that
// count.
func Scale(x []float32, a float32) int {
	n := len(x) &^ 15
	if !available || n == 0 {
		return 0
	}
	scaleAVX512(&x[0], n, a)
	return n
}

// Dot returns Σ a[i]·b[i] over the first n − n%16 elements (16 partial
// sums, added pairwise at the end) and that count.
func Dot(a, b []float32) (s float32, done int) {
	n := len(a) &^ 15
	if !available || n == 0 {
		return 0, 0
	}
	_ = b[n-1]
	return dotAVX512(&a[0], &b[0], n), n
}

// MulSub sets p[i] = p[i]·(dp[i] − s) for the first n − n%16 elements (the
// softmax's backward) and returns that count.
func MulSub(p, dp []float32, s float32) int {
	n := len(p) &^ 15
	if !available || n == 0 {
		return 0
	}
	_ = dp[n-1]
	mulSubAVX512(&p[0], &dp[0], n, s)
	return n
}

// Axpy adds a·x[i] to y[i] for the first n − n%16 elements and returns
// that count.
func Axpy(a float32, x, y []float32) int {
	n := len(x) &^ 15
	if !available || n == 0 {
		return 0
	}
	_ = y[n-1]
	axpyAVX512(&x[0], &y[0], n, a)
	return n
}

// Mul sets dst[i] = a[i]·b[i] for the first n − n%16 elements of a (dst
// may be a or b) and returns that count.
func Mul(dst, a, b []float32) int {
	n := len(a) &^ 15
	if !available || n == 0 {
		return 0
	}
	_, _ = dst[n-1], b[n-1]
	mulAVX512(&dst[0], &a[0], &b[0], n)
	return n
}

// MulAdd sets h[i] = h[i]·m[i] + r[i] (a dropout mask and a residual) for
// the first n − n%16 elements and returns that count.
func MulAdd(h, m, r []float32) int {
	n := len(h) &^ 15
	if !available || n == 0 {
		return 0
	}
	_, _ = m[n-1], r[n-1]
	mulAddAVX512(&h[0], &m[0], &r[0], n)
	return n
}

// Sum returns Σ x[i] over the first n − n%16 elements (16 partial sums,
// added pairwise at the end) and that count.
func Sum(x []float32) (s float32, done int) {
	n := len(x) &^ 15
	if !available || n == 0 {
		return 0, 0
	}
	return sumAVX512(&x[0], n), n
}

// SumSqDev returns Σ (x[i] − mu)² over the first n − n%16 elements and
// that count.
func SumSqDev(x []float32, mu float32) (s float32, done int) {
	n := len(x) &^ 15
	if !available || n == 0 {
		return 0, 0
	}
	return sumSqDevAVX512(&x[0], n, mu), n
}

// Norm sets out[i] = g[i]·(x[i] − mu)·r + b[i] (a LayerNorm row, r the
// reciprocal standard deviation) for the first n − n%16 elements of x and
// returns that count. out may be x.
func Norm(out, x, g, b []float32, mu, r float32) int {
	n := len(x) &^ 15
	if !available || n == 0 {
		return 0
	}
	_, _, _ = out[n-1], g[n-1], b[n-1]
	normAVX512(&out[0], &x[0], &g[0], &b[0], n, mu, r)
	return n
}

// NormGradSums is the first half of a LayerNorm row's backward, over the
// first n − n%16 elements: with x̂ = (x − mu)·r, it adds dy·x̂ into dg and
// dy into db, and returns s1 = Σ g·dy, s2 = Σ g·dy·x̂ and the count.
func NormGradSums(x, dy, g, dg, db []float32, mu, r float32) (s1, s2 float32, done int) {
	n := len(x) &^ 15
	if !available || n == 0 {
		return 0, 0, 0
	}
	_, _, _, _ = dy[n-1], g[n-1], dg[n-1], db[n-1]
	s1, s2 = normGradSumsAVX512(&x[0], &dy[0], &g[0], &dg[0], &db[0], n, mu, r)
	return s1, s2, n
}

// NormGradOut is the second half: out = r·(g·dy − c1 − x̂·c2), where c1
// and c2 are s1 and s2 over the row's length, for the first n − n%16
// elements; it returns that count. out may be dy.
func NormGradOut(out, x, dy, g []float32, mu, r, c1, c2 float32) int {
	n := len(x) &^ 15
	if !available || n == 0 {
		return 0
	}
	_, _, _ = out[n-1], dy[n-1], g[n-1]
	normGradOutAVX512(&out[0], &x[0], &dy[0], &g[0], n, mu, r, c1, c2)
	return n
}
