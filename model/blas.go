package model

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Backend names the BLAS behind the matrix products: gonum's pure-Go
// implementation by default, OpenBLAS when built with -tags openblas.
var Backend = "gonum (pure Go)"

// cBLAS is set when the products run in a C BLAS (the openblas build
// tag): single-threaded, so gemm splits large products over the pass's
// workers itself. The pure-Go build runs float32 products in its own
// SIMD kernels when it has them.
var cBLAS = false

// GemmGFLOPS measures the float32 GFLOP/s of the matrix product the model
// runs its projections with (C = A·Bᵀ for A m × k and B n × k, through the
// same backend and the same splitting over cores), for at least minTime.
func GemmGFLOPS(m, n, k int, minTime time.Duration) float64 {
	return gemmRate(exec{workers: runtime.GOMAXPROCS(0)}, m, n, k, minTime)
}

// BF16GemmGFLOPS measures the rate of the bfloat16 route (the AMX tile
// unit, float32 in and out, the rounding and packing included) as
// GemmGFLOPS does; 0 where the route is not available.
func BF16GemmGFLOPS(m, n, k int, minTime time.Duration) float64 {
	if _, err := ParsePrecision(string(BF16)); err != nil {
		return 0
	}
	return gemmRate(exec{workers: runtime.GOMAXPROCS(0), bf16: true}, m, n, k, minTime)
}

// gemmRate times C = A·Bᵀ (m × k by n × k) run as ex says, after a warm-up,
// for at least minTime and two runs.
func gemmRate(ex exec, m, n, k int, minTime time.Duration) float64 {
	a, b, c := make([]float32, m*k), make([]float32, n*k), make([]float32, m*n)
	for i := range a {
		a[i] = float32(i%7) / 7
	}
	for i := range b {
		b[i] = float32(i%5) / 5
	}
	gemm(ex, false, true, m, n, k, 1, a, k, b, k, 0, c, n) // warm up
	reps := 0
	t0 := time.Now()
	for time.Since(t0) < minTime || reps < 2 {
		gemm(ex, false, true, m, n, k, 1, a, k, b, k, 0, c, n)
		reps++
	}
	return 2 * float64(m) * float64(n) * float64(k) * float64(reps) / time.Since(t0).Seconds() / 1e9
}

// ScalarGFLOPS measures this machine's float32 multiply-add rate in plain
// Go on every core (eight independent chains per goroutine, no vectors):
// the ceiling of olc's element-wise kernels as they are written, against
// which the BLAS products' rate shows what vector units give.
func ScalarGFLOPS(minTime time.Duration) float64 {
	workers := runtime.GOMAXPROCS(0)
	const iters = 1 << 22
	var flops atomic.Int64
	var sink atomic.Uint32
	t0 := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := [8]float32{1, 2, 3, 4, 5, 6, 7, float32(w)}
			b, c := float32(0.999999), float32(1e-7)
			for time.Since(t0) < minTime {
				for range iters {
					a[0], a[1], a[2], a[3] = a[0]*b+c, a[1]*b+c, a[2]*b+c, a[3]*b+c
					a[4], a[5], a[6], a[7] = a[4]*b+c, a[5]*b+c, a[6]*b+c, a[7]*b+c
				}
				flops.Add(16 * iters)
			}
			sink.Add(math.Float32bits(a[0] + a[7]))
		}()
	}
	wg.Wait()
	return float64(flops.Load()) / time.Since(t0).Seconds() / 1e9
}
