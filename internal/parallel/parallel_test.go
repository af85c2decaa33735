package parallel_test

import (
	"context"
	"errors"
	"sync"
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

func TestForContextStops(t *testing.T) {
	for _, workers := range []int{1, 3} {
		ctx, cancel := context.WithCancel(context.Background())
		var calls, late atomic.Int64
		var cancelled atomic.Bool
		err := parallel.ForContext(ctx, workers, 1000, func(i int) {
			if cancelled.Load() {
				late.Add(1)
			}
			if calls.Add(1) == 10 {
				cancel()
				cancelled.Store(true)
			}
		})
		if !errors.Is(err, context.Canceled) {
			t.Errorf("workers=%d: err = %v, want context.Canceled", workers, err)
		}
		// Once cancel has returned, each other worker may still run the
		// one index it had taken, and no more. (Before it returns, the
		// others run on: calls.Add(1) == 10 and cancel() are not one step.)
		if c, l := calls.Load(), late.Load(); c < 10 || c == 1000 || l > int64(workers-1) {
			t.Errorf("workers=%d: %d calls, %d begun after the cancel at the 10th returned", workers, c, l)
		}
	}
	if err := parallel.ForContext(context.Background(), 2, 5, func(int) {}); err != nil {
		t.Errorf("uncancelled: %v", err)
	}
	done, cancel := context.WithCancel(context.Background())
	cancel()
	if err := parallel.ForContext(done, 2, 0, func(int) {}); err != nil {
		t.Errorf("no work and a done context: %v, want nil (nothing was left out)", err)
	}
}

func TestForScratchIsPerWorker(t *testing.T) {
	const workers, n = 4, 400
	var owners sync.Map // scratch pointer → goroutine-exclusive use
	hits := make([]int32, n)
	var inUse sync.Map
	err := parallel.ForScratch(context.Background(), workers, n, func(i int, s *[]float64) {
		if _, busy := inUse.LoadOrStore(s, true); busy {
			t.Errorf("scratch %p used by two calls at once", s)
		}
		owners.Store(s, true)
		*s = append((*s)[:0], float64(i)) // reuse the buffer
		if (*s)[0] != float64(i) {
			t.Errorf("scratch changed under call %d", i)
		}
		atomic.AddInt32(&hits[i], 1)
		inUse.Delete(s)
	})
	if err != nil {
		t.Fatal(err)
	}
	count := 0
	owners.Range(func(any, any) bool { count++; return true })
	if count < 1 || count > workers {
		t.Errorf("%d scratch values for %d workers", count, workers)
	}
	for i, h := range hits {
		if h != 1 {
			t.Fatalf("index %d called %d times", i, h)
		}
	}
}
