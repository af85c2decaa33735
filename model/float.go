package model

import (
	"math"
	"unsafe"

	"github.com/olc-toolkit/olc/internal/vecmath"
)

// Float is the element type of a model: float32 (the default) or float64
// (for gradient checks against finite differences).
type Float interface{ ~float32 | ~float64 }

// dot is Σ a[i]·b[i]; float32 vectors in AVX-512 where there is.
func dot[T Float](a, b []T) T {
	var s T
	if f, ok := any(a).([]float32); ok && useVec {
		v, k := vecmath.Dot(f, any(b).([]float32))
		s, a, b = T(v), a[k:], b[k:]
	}
	b = b[:len(a)]
	for i, x := range a {
		s += x * b[i]
	}
	return s
}

// maxOf is the largest element of x (not empty), −Inf-safe.
func maxOf[T Float](x []T) T {
	mx := x[0]
	if f, ok := any(x).([]float32); ok && useVec {
		if v, k := vecmath.Max(f); k > 0 {
			mx, x = T(v), x[k:]
		}
	}
	for _, v := range x {
		mx = max(mx, v)
	}
	return mx
}

// mulSub sets p[i] = p[i]·(dp[i] − s), the softmax's backward.
func mulSub[T Float](p, dp []T, s T) {
	if f, ok := any(p).([]float32); ok && useVec {
		k := vecmath.MulSub(f, any(dp).([]float32), float32(s))
		p, dp = p[k:], dp[k:]
	}
	dp = dp[:len(p)]
	for i := range p {
		p[i] *= dp[i] - s
	}
}

// axpy adds alpha·x to y.
func axpy[T Float](alpha T, x, y []T) {
	if f, ok := any(x).([]float32); ok && useVec {
		k := vecmath.Axpy(float32(alpha), f, any(y).([]float32))
		x, y = x[k:], y[k:]
	}
	y = y[:len(x)]
	for i, v := range x {
		y[i] += alpha * v
	}
}

// scal multiplies x by alpha.
func scal[T Float](alpha T, x []T) {
	if f, ok := any(x).([]float32); ok && useVec {
		x = x[vecmath.Scale(f, float32(alpha)):]
	}
	for i := range x {
		x[i] *= alpha
	}
}

// exp is e^x: exp32 for float32 models, math.Exp for float64 ones.
func exp[T Float](x T) T {
	if unsafe.Sizeof(x) == 4 {
		return T(exp32(*(*float32)(unsafe.Pointer(&x))))
	}
	return T(math.Exp(float64(x)))
}

// exp32 is e^x in float32 arithmetic, within 2 ulp: x = k·ln2 + r with
// |r| ≤ ln2/2, e^r by Cephes' degree-5 minimax polynomial (expf.c), and
// 2^k put into the exponent bits. Below −87.3 it returns 0 (the
// result would be subnormal), above 88.7 +Inf.
func exp32(x float32) float32 {
	const (
		log2e = 1.44269504088896341
		ln2hi = 0.693359375 // ln2hi + ln2lo = ln 2; ln2hi has few bits, so k·ln2hi is exact
		ln2lo = -2.12194440e-4
	)
	switch {
	case x > 88.72283:
		return float32(math.Inf(1))
	case x < -87.33654:
		return 0
	case x != x:
		return x
	}
	k := float32(math.Floor(float64(x*log2e + 0.5)))
	r := x - k*ln2hi - k*ln2lo
	p := ((((1.9875691500e-4*r+1.3981999507e-3)*r+8.3334519073e-3)*r+4.1665795894e-2)*r+1.6666665459e-1)*r + 5.0000001201e-1
	y := p*r*r + r + 1
	if k > 127 { // 2^128 overflows: scale in two steps
		return y * 2 * math.Float32frombits(uint32(int32(k)+126)<<23)
	}
	return y * math.Float32frombits(uint32(int32(k)+127)<<23)
}

func sqrt[T Float](x T) T { return T(math.Sqrt(float64(x))) }

// expShift replaces each x[i] by e^(x[i]−mx) and returns their sum; −Inf
// entries (masked scores) become 0. For float32 it runs exp32's algorithm
// inline, without calls or branches on the common path.
func expShift[T Float](x []T, mx T) T {
	if len(x) == 0 {
		return 0
	}
	if unsafe.Sizeof(x[0]) == 4 {
		f := unsafe.Slice((*float32)(unsafe.Pointer(unsafe.SliceData(x))), len(x))
		s := expShift32(f, *(*float32)(unsafe.Pointer(&mx)))
		return *(*T)(unsafe.Pointer(&s))
	}
	var sum T
	for i, v := range x {
		x[i] = T(math.Exp(float64(v - mx)))
		sum += x[i]
	}
	return sum
}

// expShift32 is expShift for float32: exp32 with the rounding of x·log₂e
// done by adding and subtracting 1.5·2²³, and the arguments below −87.3
// (which take in −Inf) flushed to 0. The arguments are ≤ 0 in a softmax.
func expShift32(x []float32, mx float32) float32 {
	const (
		log2e = 1.44269504088896341
		ln2hi = 0.693359375
		ln2lo = -2.12194440e-4
		magic = 12582912 // 1.5·2²³
	)
	var sum float32
	if useVec {
		var k int
		sum, k = vecmath.ExpShift(x, mx)
		x = x[k:]
	}
	for i, v := range x {
		v -= mx
		if v < -87.33654 {
			x[i] = 0
			continue
		}
		if v > 88.72283 {
			v = 88.72283
		}
		t := v*log2e + magic
		k := t - magic
		r := v - k*ln2hi - k*ln2lo
		r2 := r * r
		// Estrin's scheme for Cephes' polynomial, for a shorter chain.
		p := (5.0000001201e-1 + 1.6666665459e-1*r) + r2*(4.1665795894e-2+8.3334519073e-3*r) + r2*r2*(1.3981999507e-3+1.9875691500e-4*r)
		y := p*r2 + r + 1
		e := int32(k) + 127
		if e > 254 { // 2^128 overflows: scale in two steps
			y *= 2
			e--
		}
		y *= math.Float32frombits(uint32(e) << 23)
		x[i] = y
		sum += y
	}
	return sum
}
