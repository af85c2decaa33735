package amx

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestToBF16 checks the rounding: to nearest, ties to even, on values
// that sit exactly between two bfloat16s and on either side.
func TestToBF16(t *testing.T) {
	for _, c := range []struct {
		bits uint32
		want uint16
	}{
		{0x3f800000, 0x3f80}, // 1
		{0x3f808000, 0x3f80}, // halfway, even below
		{0x3f818000, 0x3f82}, // halfway, even above
		{0x3f808001, 0x3f81}, // just above halfway
		{0x3f807fff, 0x3f80}, // just below
		{0x7f7fffff, 0x7f80}, // rounds up to +Inf
		{0xff800000, 0xff80}, // −Inf
	} {
		if got := ToBF16(math.Float32frombits(c.bits)); got != c.want {
			t.Errorf("ToBF16(%#08x) = %#04x, want %#04x", c.bits, got, c.want)
		}
	}
	if h := ToBF16(float32(math.NaN())); FromBF16(h) == FromBF16(h) {
		t.Errorf("NaN became %#04x", h)
	}
}

// TestGemm checks the tile product against a float64 triple loop over the
// same bfloat16-rounded factors (so that only the float32 summation
// differs), for every transposition and shapes that are not multiples of
// the tiles, with alpha and beta.
func TestGemm(t *testing.T) {
	if !available {
		t.Skip("AMX not available here: " + unavailable)
	}
	rng := rand.New(rand.NewPCG(9, 9))
	for _, c := range []struct{ m, n, k, workers int }{
		{1, 1, 1, 1}, {32, 32, 32, 1}, {33, 31, 7, 2}, {64, 96, 256, 2}, {100, 70, 300, 2}, {5, 200, 45, 2},
	} {
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				for _, ab := range [][2]float32{{1, 0}, {0.5, 1}, {-2, 0.25}} {
					m, n, k := c.m, c.n, c.k
					lda, ldb, ldc := k+3, n+1, n+5
					ar, br := m, k
					if tA {
						lda, ar = m+2, k
					}
					if tB {
						ldb, br = k, n
					}
					rnd := func(size int) []float32 {
						x := make([]float32, size)
						for i := range x {
							x[i] = float32(rng.NormFloat64())
						}
						return x
					}
					a, b, cc := rnd(ar*lda), rnd(br*ldb), rnd(m*ldc)
					want := make([]float64, len(cc))
					for i := range cc {
						want[i] = float64(cc[i])
					}
					for i := range m {
						for j := range n {
							s := 0.0
							for p := range k {
								var av, bv float32
								if tA {
									av = a[p*lda+i]
								} else {
									av = a[i*lda+p]
								}
								if tB {
									bv = b[j*ldb+p]
								} else {
									bv = b[p*ldb+j]
								}
								s += float64(FromBF16(ToBF16(ab[0]*av))) * float64(FromBF16(ToBF16(bv)))
							}
							want[i*ldc+j] = s + float64(ab[1])*float64(cc[i*ldc+j])
						}
					}
					Gemm(c.workers, tA, tB, m, n, k, ab[0], a, lda, b, ldb, ab[1], cc, ldc)
					for i := range cc {
						if d := math.Abs(float64(cc[i]) - want[i]); d > 2e-6*math.Sqrt(float64(k))*math.Max(1, math.Abs(want[i])) {
							t.Fatalf("%+v tA %v tB %v alpha, beta %v: C[%d] = %g, want %g", c, tA, tB, ab, i, cc[i], want[i])
						}
					}
				}
			}
		}
	}
}

// TestGemmBias checks the product that starts from a bias row against
// Gemm's over a C holding the bias, whole blocks and edges alike.
func TestGemmBias(t *testing.T) {
	if !available {
		t.Skip("AMX not available here: " + unavailable)
	}
	rng := rand.New(rand.NewPCG(10, 10))
	for _, c := range []struct{ m, n, k int }{{32, 32, 32}, {64, 96, 256}, {70, 100, 45}, {5, 33, 64}} {
		a, b, bias := make([]float32, c.m*c.k), make([]float32, c.n*c.k), make([]float32, c.n)
		for _, x := range [][]float32{a, b, bias} {
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
		}
		want, got := make([]float32, c.m*c.n), make([]float32, c.m*c.n)
		for i := range c.m {
			copy(want[i*c.n:(i+1)*c.n], bias)
		}
		for i := range got {
			got[i] = float32(math.NaN()) // never read
		}
		Gemm(2, false, true, c.m, c.n, c.k, 1, a, c.k, b, c.k, 1, want, c.n)
		GemmBias(2, false, true, c.m, c.n, c.k, a, c.k, b, c.k, bias, got, c.n)
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("%+v: C[%d] = %g, want %g", c, i, got[i], want[i])
			}
		}
	}
}
