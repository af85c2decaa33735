// Package gemmtest checks a float32 matrix product (BLAS's sgemm
// contract, row-major) against a float64 triple loop: the test shared by
// olc's kernels.
package gemmtest

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Gemm is the contract: C = alpha·op(A)·op(B) + beta·C, op(X) = Xᵀ when
// the flag says so, on workers goroutines.
type Gemm func(workers int, tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)

// Check runs gemm on random matrices (leading dimensions wider than the
// matrices) for every shape {m, n, k, workers}, transposition and (alpha, beta) in {(1, 0),
// (0.5, 1), (−2, 0.25)}, and compares C with Σ round(alpha·a)·round(b) +
// beta·C in float64 (round nil: the factors as they are) within
// tol·√k·max(1, |want|); C's columns past n must stay untouched.
func Check(t *testing.T, seed uint64, shapes [][4]int, gemm Gemm, round func(float32) float32, tol float64) {
	t.Helper()
	if round == nil {
		round = func(x float32) float32 { return x }
	}
	rng := rand.New(rand.NewPCG(seed, seed))
	rnd := func(size int) []float32 {
		x := make([]float32, size)
		for i := range x {
			x[i] = float32(rng.NormFloat64())
		}
		return x
	}
	for _, c := range shapes {
		for _, tA := range []bool{false, true} {
			for _, tB := range []bool{false, true} {
				for _, ab := range [][2]float32{{1, 0}, {0.5, 1}, {-2, 0.25}} {
					m, n, k := c[0], c[1], c[2]
					lda, ldb, ldc := k+3, n+1, n+5
					ar, br := m, k
					if tA {
						lda, ar = m+2, k
					}
					if tB {
						ldb, br = k, n
					}
					a, b, cc := rnd(ar*lda), rnd(br*ldb), rnd(m*ldc)
					want := make([]float64, len(cc))
					for i := range cc {
						want[i] = float64(cc[i]) // untouched past n
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
								s += float64(round(ab[0]*av)) * float64(round(bv))
							}
							want[i*ldc+j] = s + float64(ab[1])*float64(cc[i*ldc+j])
						}
					}
					gemm(c[3], tA, tB, m, n, k, ab[0], a, lda, b, ldb, ab[1], cc, ldc)
					for i := range cc {
						if d := math.Abs(float64(cc[i]) - want[i]); d > tol*math.Sqrt(float64(k))*math.Max(1, math.Abs(want[i])) {
							t.Fatalf("m, n, k, workers %v, tA %v tB %v alpha, beta %v: C[%d] = %g, want %g", c, tA, tB, ab, i, cc[i], want[i])
						}
					}
				}
			}
		}
	}
}
