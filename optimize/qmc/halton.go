// Package qmc generates quasi-random (low-discrepancy) points in the unit
// cube for samplers that need evenly spread points: random search with
// qmc = true, and the candidate sets of Bayesian optimization.
package qmc

import (
	"fmt"
	"math/rand/v2"
)

// MaxDim is the largest dimension Halton supports.
const MaxDim = 1000

// Halton is the Halton sequence with random digit permutations, the
// "randomized van der Corput" scrambling of
//
//	A. B. Owen, "A randomized Halton algorithm in R", arXiv:1706.02808 (2017),
//
// and the same points, for the same random source, as gonum's
// samplemv.Halton with Kind Owen. Unlike that type, any point of the
// sequence can be computed on its own: Point(i) costs O(d·log i) after an
// O(d·Σ b_j·log_b_j(2^53)) set-up, where b_j is the j-th prime.
//
// Scrambling removes the correlations between dimensions that make the
// plain Halton sequence poor beyond a few dimensions, and makes the points
// a random sample (each point is uniform on the cube) while keeping the
// low discrepancy of the sequence as a whole.
type Halton struct {
	bases []int
	perms [][][]int // perms[j][k]: permutation of the k-th digit in dimension j
}

// NewHalton returns the scrambled Halton sequence in d dimensions, its
// permutations drawn from src.
func NewHalton(d int, src rand.Source) *Halton {
	if d < 1 || d > MaxDim {
		panic(fmt.Sprintf("qmc: Halton dimension %d outside [1, %d]", d, MaxDim))
	}
	rnd := rand.New(src)
	h := &Halton{bases: primes(d), perms: make([][][]int, d)}
	for j, b := range h.bases {
		// One permutation per digit, down to the precision of a float64,
		// drawn in the order samplemv.Halton draws them.
		b2r := 1 / float64(b)
		for 1-b2r < 1 {
			h.perms[j] = append(h.perms[j], rnd.Perm(b))
			b2r /= float64(b)
		}
	}
	return h
}

// Dim returns the dimension of the sequence.
func (h *Halton) Dim() int { return len(h.bases) }

// Point writes the i-th point of the sequence (i = 0, 1, …) to dst, which
// must have length Dim. Every coordinate lies in [0, 1).
func (h *Halton) Point(i uint64, dst []float64) {
	if len(dst) != len(h.bases) {
		panic(fmt.Sprintf("qmc: Point into a slice of length %d, want %d", len(dst), len(h.bases)))
	}
	for j, b := range h.bases {
		ub := uint64(b)
		b2r := 1 / float64(b)
		rest := i // i / b^k, without the overflow of computing b^k
		v := 0.0
		for _, p := range h.perms[j] {
			v += float64(p[rest%ub]) * b2r
			rest /= ub
			b2r /= float64(b)
		}
		if v >= 1 {
			v = 0.9999999999999999
		}
		dst[j] = v
	}
}

// primes returns the first n primes.
func primes(n int) []int {
	ps := make([]int, 0, n)
	for c := 2; len(ps) < n; c++ {
		prime := true
		for _, p := range ps {
			if p*p > c {
				break
			}
			if c%p == 0 {
				prime = false
				break
			}
		}
		if prime {
			ps = append(ps, c)
		}
	}
	return ps
}
