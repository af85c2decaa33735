package model

import (
	"runtime"
	"time"
)

// Backend names the BLAS behind the matrix products: gonum's pure-Go
// implementation by default, OpenBLAS when built with -tags openblas.
var Backend = "gonum (pure Go)"

// splitRows makes gemm split large products by rows over the pass's workers
// goroutines (for single-threaded backends).
var splitRows = false

// GemmGFLOPS measures the float32 GFLOP/s of the matrix product the model
// runs its projections with (C = A·Bᵀ for A m × k and B n × k, through the
// same backend and the same splitting over cores), for at least minTime.
func GemmGFLOPS(m, n, k int, minTime time.Duration) float64 {
	a, b, c := make([]float32, m*k), make([]float32, n*k), make([]float32, m*n)
	for i := range a {
		a[i] = float32(i%7) / 7
	}
	for i := range b {
		b[i] = float32(i%5) / 5
	}
	gemm(runtime.GOMAXPROCS(0), false, true, m, n, k, 1, a, k, b, k, 0, c, n) // warm up
	reps := 0
	t0 := time.Now()
	for time.Since(t0) < minTime || reps < 2 {
		gemm(runtime.GOMAXPROCS(0), false, true, m, n, k, 1, a, k, b, k, 0, c, n)
		reps++
	}
	return 2 * float64(m) * float64(n) * float64(k) * float64(reps) / time.Since(t0).Seconds() / 1e9
}
