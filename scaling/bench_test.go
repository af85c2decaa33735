package scaling

import (
	"context"
	"testing"
)

// BenchmarkObjective times one evaluation of the Huber objective and its
// gradient on 250 points (the unit of work of every L-BFGS step).
func BenchmarkObjective(b *testing.B) {
	d := hoffmannData(b, 0.02, 1)
	p := newProblem(Chinchilla{}, d, NoTransform, Huber, 1e-3)
	th := Chinchilla{}.Internal([]float64{1.6, 380, 450, 0.33, 0.29})
	g := make([]float64, 5)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		p.eval(th, g)
	}
}

func benchmarkGrid(b *testing.B, workers int) {
	d := hoffmannData(b, 0.02, 1)
	starts := sparseStarts(Chinchilla{}, 10)
	b.ResetTimer()
	for range b.N {
		if _, err := Fit(context.Background(), Chinchilla{}, d, optsWith(func(o *Options) { o.Bootstrap = 0; o.Starts = starts; o.Workers = workers })); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGrid450Serial and BenchmarkGrid450Parallel time a tenth of
// Hoffmann's grid (450 starts) on 250 points with one worker and with all
// cores; their ratio is the parallel speed-up.
func BenchmarkGrid450Serial(b *testing.B)   { benchmarkGrid(b, 1) }
func BenchmarkGrid450Parallel(b *testing.B) { benchmarkGrid(b, 0) }

// BenchmarkBootstrap100 times 100 warm-started bootstrap resamples on 250
// points (the full grid fit excluded).
func BenchmarkBootstrap100(b *testing.B) {
	d := hoffmannData(b, 0.02, 1)
	starts := sparseStarts(Chinchilla{}, 45)
	for range b.N {
		res, err := Fit(context.Background(), Chinchilla{}, d, optsWith(func(o *Options) { o.Bootstrap = 100; o.Starts = starts }))
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(res.Seconds.Bootstrap, "bootstrap-s/op")
	}
}
