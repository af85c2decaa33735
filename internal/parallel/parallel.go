// Package parallel runs independent pieces of work on all cores.
package parallel

import (
	"runtime"
	"sync"
)

// For calls fn(i) for i = 0 … n−1, at most GOMAXPROCS calls at a time, and
// returns when all have returned. Each call must write only its own
// results, so that the outcome does not depend on scheduling.
func For(n int, fn func(i int)) { ForN(runtime.GOMAXPROCS(0), n, fn) }

// ForN is For with at most workers calls at a time.
func ForN(workers, n int, fn func(i int)) {
	workers = min(workers, n)
	if workers <= 1 {
		for i := range n {
			fn(i)
		}
		return
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
}
