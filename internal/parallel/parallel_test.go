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

func TestForN(t *testing.T) {
	var running, peak atomic.Int64
	hits := make([]int32, 50)
	parallel.ForN(3, 50, func(i int) {
		r := running.Add(1)
		for {
			p := peak.Load()
			if r <= p || peak.CompareAndSwap(p, r) {
				break
			}
		}
		atomic.AddInt32(&hits[i], 1)
		running.Add(-1)
	})
	if peak.Load() > 3 {
		t.Errorf("%d calls at once, want at most 3", peak.Load())
	}
	for i, h := range hits {
		if h != 1 {
			t.Fatalf("index %d called %d times", i, h)
		}
	}
}
