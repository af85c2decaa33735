package sample_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/olc-toolkit/olc/internal/sample"
)

func TestQuantile(t *testing.T) {
	// Reference values from R: quantile(x, q, type = 7).
	x := []float64{1, 2, 4, 7, 11}
	for _, c := range []struct{ q, want float64 }{
		{0, 1}, {0.25, 2}, {0.5, 4}, {0.75, 7}, {1, 11},
		{0.1, 1.4}, {0.9, 9.4}, {0.025, 1.1}, {0.975, 10.6},
	} {
		if got := sample.Quantile(x, c.q); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("Quantile(%v, %v) = %v, want %v", x, c.q, got, c.want)
		}
	}
	if got := sample.Quantile([]float64{3}, 0.3); got != 3 {
		t.Errorf("one value: %v, want 3", got)
	}
	if got := sample.Quantile(nil, 0.5); !math.IsNaN(got) {
		t.Errorf("empty: %v, want NaN", got)
	}
}

func ExampleQuantile() {
	regrets := []float64{0.1, 0.2, 0.4, 0.8}
	fmt.Println(sample.Quantile(regrets, 0.5), sample.Quantile(regrets, 0.75))
	// Output: 0.30000000000000004 0.5
}
