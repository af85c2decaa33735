package parallel_test

import (
	"sync/atomic"
	"testing"

	"github.com/olc-toolkit/olc/internal/parallel"
)

func TestFor(t *testing.T) {
	for _, n := range []int{0, 1, 7, 1000} {
		hits := make([]int32, n)
		var calls atomic.Int64
		parallel.For(n, func(i int) {
			atomic.AddInt32(&hits[i], 1)
			calls.Add(1)
		})
		if calls.Load() != int64(n) {
			t.Errorf("n=%d: %d calls", n, calls.Load())
		}
		for i, h := range hits {
			if h != 1 {
				t.Fatalf("n=%d: index %d called %d times", n, i, h)
			}
		}
	}
}
