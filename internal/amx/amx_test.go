package amx

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/olc-toolkit/olc/internal/gemmtest"
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
	gemmtest.Check(t, 9, [][4]int{
		{1, 1, 1, 1}, {32, 32, 32, 1}, {33, 31, 7, 2}, {64, 96, 256, 2}, {100, 70, 300, 2}, {5, 200, 45, 2},
	}, Gemm, func(x float32) float32 { return FromBF16(ToBF16(x)) }, 2e-6)
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

// TestMulPacked checks products over ranges of factors packed once
// (PackA, PackB) against a float64 sum over the same bfloat16-rounded
// values: both layouts of B, ranges that end inside a tile, and an A whose
// k reaches past B's end with zeros.
func TestMulPacked(t *testing.T) {
	if !available {
		t.Skip("AMX not available here: " + unavailable)
	}
	rng := rand.New(rand.NewPCG(12, 12))
	bf := func(x float32) float64 { return float64(FromBF16(ToBF16(x))) }
	for _, c := range []struct {
		M, K, KB, N      int // A is M × K, B is KB × N
		r0, m, k0, c0, n int
	}{
		{64, 64, 64, 64, 0, 64, 0, 0, 64},
		{200, 96, 400, 70, 32, 100, 64, 32, 38},
		{100, 64, 100, 64, 96, 4, 64, 0, 64},     // A's k runs 28 past B's end
		{130, 320, 1000, 64, 64, 66, 320, 0, 64}, // the attention's P·V
		{70, 64, 64, 300, 0, 70, 0, 256, 44},     // Q·Kᵀ at the end of a sequence
	} {
		a := make([]float32, c.M*c.K)
		for i := range a {
			a[i] = float32(rng.NormFloat64())
		}
		if pastB := c.KB - c.k0; pastB < c.K { // zeros where B ends
			for i := range c.M {
				clear(a[i*c.K+pastB : (i+1)*c.K])
			}
		}
		b := make([]float32, c.KB*c.N)
		for i := range b {
			b[i] = float32(rng.NormFloat64())
		}
		bt := make([]float32, c.N*c.KB) // Bᵀ, for PackB's transposed form
		for p := range c.KB {
			for j := range c.N {
				bt[j*c.KB+p] = b[p*c.N+j]
			}
		}
		pa := PackA(2, false, c.M, c.K, 1, a, c.K)
		for _, tB := range []bool{false, true} {
			pb := PackB(2, false, c.KB, c.N, b, c.N)
			if tB {
				pb.Release()
				pb = PackB(2, true, c.KB, c.N, bt, c.KB)
			}
			got := make([]float32, c.m*c.n)
			for i := range got {
				got[i] = float32(math.NaN())
			}
			MulPacked(pa, c.r0, c.m, pb, c.k0, c.c0, c.n, got, c.n)
			pb.Release()
			for i := range c.m {
				for j := range c.n {
					want, mag := 0.0, 0.0
					for p := range c.K {
						if c.k0+p >= c.KB {
							break
						}
						x := bf(a[(c.r0+i)*c.K+p]) * bf(b[(c.k0+p)*c.N+c.c0+j])
						want += x
						mag += math.Abs(x)
					}
					if g := float64(got[i*c.n+j]); !(math.Abs(g-want) <= 2e-6*math.Max(1, mag)) {
						t.Fatalf("%+v, B transposed %v: C[%d][%d] = %g, want %g", c, tB, i, j, g, want)
					}
				}
			}
		}
		pa.Release()
	}
}
