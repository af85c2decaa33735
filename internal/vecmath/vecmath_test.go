package vecmath

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// The references: GELU x·Φ(x) and its derivative Φ(x) + x·φ(x) by
// math.Erf and math.Exp in float64.
func gelu(x float64) float64 { return 0.5 * x * (1 + math.Erf(x/math.Sqrt2)) }
func geluGrad(x float64) float64 {
	return 0.5*(1+math.Erf(x/math.Sqrt2)) + x*math.Exp(-0.5*x*x)/math.Sqrt(2*math.Pi)
}

func needKernels(t *testing.T) {
	t.Helper()
	if !available {
		t.Skip("no AVX-512 here (or -tags purego): the kernels do nothing, and the model's scalar code runs")
	}
}

// TestGelu checks GELU and its derivative on [−10, 10] in steps of 1e-3
// against float64, within a few float32 ulps, and that the tail shorter
// than a vector is left alone.
func TestGelu(t *testing.T) {
	needKernels(t)
	var xs []float32
	for x := -10.0; x <= 10; x += 1e-3 {
		xs = append(xs, float32(x))
	}
	xs = append(xs, 0, float32(math.Copysign(0, -1)), 30, -30, 1e-30, -1e-30)
	n := len(xs)
	g := make([]float32, n)
	done := Gelu(g, xs)
	if done != n&^15 {
		t.Fatalf("Gelu did %d of %d", done, n)
	}
	for i := done; i < n; i++ {
		if g[i] != 0 {
			t.Fatalf("Gelu wrote element %d past the vectors", i)
		}
	}
	dy := make([]float32, n)
	for i := range dy {
		dy[i] = 2
	}
	if GeluGrad(xs, dy) != done {
		t.Fatal("GeluGrad did another count")
	}
	for i, x := range xs[:done] {
		// float32's 1 + erf loses the tail's relative precision, as
		// PyTorch's float32 GELU does: the error is bounded by x's
		// resolution.
		tol := 4e-7 * math.Max(1, math.Abs(float64(x)))
		if want := gelu(float64(x)); math.Abs(float64(g[i])-want) > tol {
			t.Fatalf("Gelu(%g) = %.9g, want %.9g", x, g[i], want)
		}
		if want := 2 * geluGrad(float64(x)); math.Abs(float64(dy[i])-want) > 2*tol {
			t.Fatalf("GeluGrad(%g)·2 = %.9g, want %.9g", x, dy[i], want)
		}
	}
	// In place.
	c := append([]float32(nil), xs...)
	Gelu(c, c)
	for i := range done {
		if c[i] != g[i] {
			t.Fatalf("in place: element %d = %g, not %g", i, c[i], g[i])
		}
	}
}

// TestExpShift checks the shifted exponential and its sum against
// float64, with masked −Inf entries and arguments below float32's normal
// range flushed to 0.
func TestExpShift(t *testing.T) {
	needKernels(t)
	var x []float32
	for v := -100.0; v <= 0; v += 0.01 {
		x = append(x, float32(v+3))
	}
	x[5], x[77] = float32(math.Inf(-1)), float32(math.Inf(-1))
	orig := append([]float32(nil), x...)
	sum, done := ExpShift(x, 3)
	if done != len(x)&^15 {
		t.Fatalf("ExpShift did %d of %d", done, len(x))
	}
	want := 0.0
	for i, v := range orig[:done] {
		arg := float64(v - 3)
		w := math.Exp(arg)
		if arg < -87.33654 {
			w = 0
		}
		want += w
		if math.Abs(float64(x[i])-w) > 2.5e-7*w {
			t.Fatalf("e^(%g) = %g, want %g", arg, x[i], w)
		}
	}
	for i := done; i < len(x); i++ {
		if x[i] != orig[i] {
			t.Fatalf("ExpShift wrote element %d past the vectors", i)
		}
	}
	if math.Abs(float64(sum)-want) > 1e-6*want {
		t.Errorf("sum %g, want %g", sum, want)
	}
}

// TestReductions checks Max, Scale, Dot and MulSub against plain loops
// (Dot against float64) on lengths around the vector width.
func TestReductions(t *testing.T) {
	needKernels(t)
	rng := rand.New(rand.NewPCG(1, 1))
	for _, n := range []int{1, 15, 16, 17, 33, 100, 257} {
		a, b := make([]float32, n), make([]float32, n)
		for i := range a {
			a[i], b[i] = float32(rng.NormFloat64()), float32(rng.NormFloat64())
		}
		done := n &^ 15
		if mx, k := Max(a); k != done || (k > 0 && mx != slices.Max(a[:k])) {
			t.Errorf("n %d: Max %g over %d, want %g over %d", n, mx, k, slices.Max(a[:max(k, 1)]), done)
		}
		s, k := Dot(a, b)
		want := 0.0
		for i := range k {
			want += float64(a[i]) * float64(b[i])
		}
		if k != done || math.Abs(float64(s)-want) > 1e-5*math.Max(1, math.Abs(want)) {
			t.Errorf("n %d: Dot %g over %d, want %g over %d", n, s, k, want, done)
		}
		c := slices.Clone(a)
		if k := Scale(c, 0.5); k != done {
			t.Errorf("n %d: Scale did %d", n, k)
		}
		p := slices.Clone(a)
		if k := MulSub(p, b, 0.25); k != done {
			t.Errorf("n %d: MulSub did %d", n, k)
		}
		for i := range n {
			wc, wp := a[i]*0.5, a[i]*(b[i]-0.25)
			if i >= done {
				wc, wp = a[i], a[i]
			}
			if c[i] != wc || math.Abs(float64(p[i]-wp)) > 1e-6*math.Max(1, math.Abs(float64(wp))) {
				t.Fatalf("n %d, element %d: Scale %g want %g, MulSub %g want %g", n, i, c[i], wc, p[i], wp)
			}
		}
	}
}

// TestNormKernels checks Axpy, Mul, MulAdd, Sum, SumSqDev and the
// LayerNorm kernels (Norm, NormGradSums, NormGradOut) against the same
// formulas in float64, on lengths around the vector width, and that the
// tail past the last whole vector is left alone.
func TestNormKernels(t *testing.T) {
	needKernels(t)
	rng := rand.New(rand.NewPCG(2, 1))
	vec := func(n int, mean float64) []float32 {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(mean + rng.NormFloat64())
		}
		return v
	}
	near := func(got float32, want, scale float64) bool {
		return math.Abs(float64(got)-want) <= 2e-6*math.Max(1, scale)
	}
	for _, n := range []int{1, 15, 16, 17, 33, 100, 257, 1024} {
		done := n &^ 15
		x, y, g, b, m := vec(n, 3), vec(n, 0), vec(n, 1), vec(n, 0), vec(n, 0)
		const mu, r, c1, c2 = 2.5, 0.75, 0.125, -0.375

		ay := slices.Clone(y)
		prod, fused := make([]float32, n), slices.Clone(y)
		out, gout := make([]float32, n), make([]float32, n)
		dg, db := vec(n, 0), vec(n, 0)
		dg0, db0 := slices.Clone(dg), slices.Clone(db)
		counts := []int{Axpy(-1.5, x, ay), Mul(prod, x, g), MulAdd(fused, m, b), Norm(out, x, g, b, mu, r), NormGradOut(gout, x, y, g, mu, r, c1, c2)}
		s, k1 := Sum(x)
		q, k2 := SumSqDev(x, mu)
		s1, s2, k3 := NormGradSums(x, y, g, dg, db, mu, r)
		counts = append(counts, k1, k2, k3)
		for i, k := range counts {
			if k != done {
				t.Fatalf("n %d: kernel %d did %d elements, want %d", n, i, k, done)
			}
		}
		var ws, wq, w1, w2 float64
		for i := range done {
			xi, yi, gi, bi := float64(x[i]), float64(y[i]), float64(g[i]), float64(b[i])
			xh := (xi - mu) * r
			ws += xi
			wq += (xi - mu) * (xi - mu)
			w1 += gi * yi
			w2 += gi * yi * xh
			for _, c := range []struct {
				name string
				got  float32
				want float64
			}{
				{"Axpy", ay[i], yi - 1.5*xi},
				{"Mul", prod[i], xi * gi},
				{"MulAdd", fused[i], yi*float64(m[i]) + bi},
				{"Norm", out[i], gi*xh + bi},
				{"NormGradOut", gout[i], r * (gi*yi - c1 - xh*c2)},
				{"NormGradSums dg", dg[i], float64(dg0[i]) + yi*xh},
				{"NormGradSums db", db[i], float64(db0[i]) + yi},
			} {
				if !near(c.got, c.want, math.Abs(c.want)) {
					t.Fatalf("n %d, element %d: %s %g, want %g", n, i, c.name, c.got, c.want)
				}
			}
		}
		for i := done; i < n; i++ {
			if ay[i] != y[i] || prod[i] != 0 || out[i] != 0 || gout[i] != 0 || dg[i] != dg0[i] || db[i] != db0[i] {
				t.Fatalf("n %d: element %d past the vectors was written", n, i)
			}
		}
		for _, c := range []struct {
			name      string
			got       float32
			want, abs float64
		}{{"Sum", s, ws, 3 * float64(done)}, {"SumSqDev", q, wq, wq}, {"s1", s1, w1, float64(done)}, {"s2", s2, w2, float64(done)}} {
			if !near(c.got, c.want, c.abs) {
				t.Errorf("n %d: %s %g, want %g", n, c.name, c.got, c.want)
			}
		}
	}
}
