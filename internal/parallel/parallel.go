// Package parallel runs independent pieces of work on a bounded number of
// goroutines: the one worker pool of the project.
//
// Every form hands out the indices 0 … n−1 in order, each exactly once, to
// at most the given number of workers, and returns when every call has
// returned. Each call must write only its own results, so that the outcome
// does not depend on scheduling. [ForContext] stops handing out indices
// once its context is done; [ForScratch] gives each worker a scratch value
// of its own that calls may reuse (buffers that would otherwise be
// allocated per call).
package parallel

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
)

// For calls fn(i) for i = 0 … n−1, at most GOMAXPROCS calls at a time.
func For(n int, fn func(i int)) { ForN(runtime.GOMAXPROCS(0), n, fn) }

// ForN is [For] with at most workers calls at a time (one when workers is
// below 1).
func ForN(workers, n int, fn func(i int)) {
	forEach(nil, workers, n, func(i int, _ *struct{}) { fn(i) })
}

// ForContext is [ForN] that hands out no further index once ctx is done.
// It returns ctx.Err() when some index was never handed out, nil when
// every call ran.
func ForContext(ctx context.Context, workers, n int, fn func(i int)) error {
	return ForScratch(ctx, workers, n, func(i int, _ *struct{}) { fn(i) })
}

// ForScratch is [ForContext] in which each worker has a scratch value S of
// its own, zero at first, that fn may keep between the calls it runs (for
// example a buffer grown to the largest call's need).
func ForScratch[S any](ctx context.Context, workers, n int, fn func(i int, scratch *S)) error {
	if handed := forEach(ctx.Done(), workers, n, fn); handed < n {
		return ctx.Err()
	}
	return nil
}

// forEach runs fn over 0 … n−1 on min(workers, n) goroutines (the calling
// one alone when that is 1), handing out no index once done is closed, and
// returns how many indices it handed out.
func forEach[S any](done <-chan struct{}, workers, n int, fn func(i int, scratch *S)) int {
	stopped := func() bool {
		if done == nil {
			return false
		}
		select {
		case <-done:
			return true
		default:
			return false
		}
	}
	workers = min(workers, n)
	if workers <= 1 {
		var s S
		for i := range n {
			if stopped() {
				return i
			}
			fn(i, &s)
		}
		return n
	}
	var next, handed atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var s S
			mine := 0
			defer func() { handed.Add(int64(mine)) }()
			for !stopped() {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				mine++
				fn(i, &s)
			}
		}()
	}
	wg.Wait()
	return int(handed.Load())
}
