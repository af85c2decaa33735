package amx

import "testing"

// BenchmarkGemm is the feed-forward block's first product at 4,096
// tokens of a hidden-256 model (4096 × 1024 × 256), on 2 goroutines.
func BenchmarkGemm(b *testing.B) {
	if !available {
		b.Skip("AMX not available here: " + unavailable)
	}
	const m, n, k = 4096, 1024, 256
	x, w, y := make([]float32, m*k), make([]float32, n*k), make([]float32, m*n)
	for i := range x {
		x[i] = float32(i%7) / 7
	}
	for i := range w {
		w[i] = float32(i%5) / 5
	}
	b.SetBytes(2 * m * n * k) // "MB/s" reads as MFLOP/s
	for b.Loop() {
		Gemm(2, false, true, m, n, k, 1, x, k, w, k, 0, y, n)
	}
}
