package sgemm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSgemmSIMD checks the packed matrix product against a float64 triple
// loop for every transposition, alpha and beta, and shapes that are not
// multiples of the micro-kernel's tile or of the packing blocks: with the
// plain-Go micro-kernel everywhere, and with the assembly one where the
// processor has AVX-512 (a visible skip elsewhere).
func TestSgemmSIMD(t *testing.T) {
	asm, asmC := sgemmKernel, sgemmKernelC
	defer func() { sgemmKernel, sgemmKernelC = asm, asmC }()
	t.Run("go", func(t *testing.T) {
		sgemmKernel, sgemmKernelC = sgemmKernelGo, nil
		testSgemm(t)
	})
	t.Run("asm", func(t *testing.T) {
		if !available {
			t.Skip("no AVX-512 here (or -tags purego): the assembly kernel is not run")
		}
		sgemmKernel, sgemmKernelC = asm, asmC
		testSgemm(t)
	})
}

func testSgemm(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for _, c := range []struct{ m, n, k, workers int }{
		{1, 1, 1, 1}, {5, 31, 3, 1}, {7, 33, 17, 2}, {64, 320, 64, 1}, {97, 2100, 20, 2}, {200, 70, 513, 2}, {13, 64, 1, 2}, {130, 200, 40, 2},
	} {
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				for _, ab := range [][2]float32{{1, 0}, {0.5, 1}, {-2, 0.25}} {
					m, n, k := c.m, c.n, c.k
					lda, ldb, ldc := k+3, n+1, n+5
					if tA {
						lda = m + 2
					}
					if tB {
						ldb = k
					}
					rnd := func(size int) []float32 {
						x := make([]float32, size)
						for i := range x {
							x[i] = float32(rng.NormFloat64())
						}
						return x
					}
					ar, br := m, k
					if tA {
						ar = k
					}
					if tB {
						br = n
					}
					a, b, cc := rnd(ar*lda), rnd(br*ldb), rnd(m*ldc)
					want := make([]float64, len(cc))
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
								s += float64(av) * float64(bv)
							}
							want[i*ldc+j] = float64(ab[0])*s + float64(ab[1])*float64(cc[i*ldc+j])
						}
					}
					for i := range m {
						for j := n; j < ldc; j++ {
							want[i*ldc+j] = float64(cc[i*ldc+j]) // untouched
						}
					}
					Gemm(c.workers, tA, tB, m, n, k, ab[0], a, lda, b, ldb, ab[1], cc, ldc)
					for i := range cc {
						if d := math.Abs(float64(cc[i]) - want[i]); d > 1e-5*math.Sqrt(float64(k))*math.Max(1, math.Abs(want[i])) {
							t.Fatalf("%+v tA %v tB %v alpha, beta %v: C[%d] = %g, want %g", c, tA, tB, ab, i, cc[i], want[i])
						}
					}
				}
			}
		}
	}
}
