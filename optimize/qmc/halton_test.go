package qmc_test

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat/distmv"
	"gonum.org/v1/gonum/stat/samplemv"

	"github.com/olc-toolkit/olc/optimize/qmc"
)

// TestHaltonMatchesGonum checks every point against gonum's batch Halton
// sampler with Owen's randomized van der Corput scrambling, an independent
// implementation of the same sequence, given the same random source.
func TestHaltonMatchesGonum(t *testing.T) {
	for _, d := range []int{1, 2, 6, 20} {
		const n = 300
		batch := mat.NewDense(n, d, nil)
		samplemv.Halton{Kind: samplemv.Owen, Q: distmv.NewUnitUniform(d, nil), Src: rand.NewPCG(5, 6)}.Sample(batch)
		h := qmc.NewHalton(d, rand.NewPCG(5, 6))
		x := make([]float64, d)
		// Out of order, to show points need no predecessors.
		for _, i := range rand.New(rand.NewPCG(1, 1)).Perm(n) {
			h.Point(uint64(i), x)
			for j := range d {
				if x[j] != batch.At(i, j) {
					t.Fatalf("d=%d: point %d coordinate %d = %v, gonum %v", d, i, j, x[j], batch.At(i, j))
				}
			}
		}
	}
}

// TestHaltonStratifies checks the defining property of a (scrambled)
// van der Corput sequence in base b: any b^k consecutive points from 0 put
// exactly one point in each interval [m/b^k, (m+1)/b^k).
func TestHaltonStratifies(t *testing.T) {
	h := qmc.NewHalton(3, rand.NewPCG(9, 9))
	bases := []int{2, 3, 5}
	x := make([]float64, 3)
	for j, b := range bases {
		n := b * b * b
		seen := make([]int, n)
		for i := range n {
			h.Point(uint64(i), x)
			if x[j] < 0 || x[j] >= 1 {
				t.Fatalf("coordinate %v outside [0, 1)", x[j])
			}
			seen[int(x[j]*float64(n))]++
		}
		for m, c := range seen {
			if c != 1 {
				t.Errorf("base %d: interval %d of %d holds %d points", b, m, n, c)
			}
		}
	}
}

func TestHaltonLargeIndex(t *testing.T) {
	h := qmc.NewHalton(qmc.MaxDim, rand.NewPCG(1, 2))
	x := make([]float64, qmc.MaxDim)
	h.Point(1<<62, x)
	for j, v := range x {
		if v < 0 || v >= 1 {
			t.Fatalf("coordinate %d = %v outside [0, 1)", j, v)
		}
	}
}
