package model

import (
	"math/bits"
	"sync"
)

// bufPool recycles the large arrays of training passes (activations kept
// for the backward pass, gradients between layers, attention
// probabilities) from one pass to the next. Without it every training
// step allocates its few hundred MiB afresh: the runtime zeroes each
// array, and the pages the scavenger gave back to the system fault in
// again, about a tenth of a step's time at 4,096 tokens.
//
// Arrays go by size class: up to 12.5% above the length asked for, so
// that sequences of nearby lengths share them. trim, at the end of each
// pass (a backward pass, or an inference pass), keeps no more arrays of a
// class than the larger of that pass and the one before took, so the
// pool holds what the larger of two passes needs: a training step's
// arrays survive the evaluation between two steps.
type bufPool[T Float] struct {
	mu          sync.Mutex
	free        map[int][][]T
	taken, prev map[int]int // arrays taken per class since the last trim, and in the pass before
}

// poolMin is the smallest array the pool keeps: shorter ones cost little
// to allocate.
const poolMin = 1 << 12

// sizeClass rounds n up to a multiple of an eighth of its highest power of
// two.
func sizeClass(n int) int {
	step := 1 << max(0, bits.Len(uint(n))-4)
	return (n + step - 1) / step * step
}

// get returns an array of n elements whose contents are left over from
// an earlier use: the caller writes every element before reading any.
func (p *bufPool[T]) get(n int) []T {
	if n < poolMin {
		return make([]T, n)
	}
	c := sizeClass(n)
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.taken == nil {
		p.free, p.taken, p.prev = map[int][][]T{}, map[int]int{}, map[int]int{}
	}
	p.taken[c]++
	if f := p.free[c]; len(f) > 0 {
		b := f[len(f)-1]
		f[len(f)-1] = nil
		p.free[c] = f[:len(f)-1]
		return b[:n]
	}
	return make([]T, n, c)
}

// zeroed returns an array of n zeros.
func (p *bufPool[T]) zeroed(n int) []T {
	b := p.get(n)
	clear(b)
	return b
}

// put hands back arrays that nothing reads any more, skipping nil ones,
// those aliasing one of keep, those of another size class than get makes,
// and repeats.
func (p *bufPool[T]) put(keep [][]T, bufs ...[]T) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.taken == nil {
		p.free, p.taken, p.prev = map[int][][]T{}, map[int]int{}, map[int]int{}
	}
	seen := map[*T]bool{}
	for _, k := range keep {
		if cap(k) > 0 {
			seen[&k[:1][0]] = true
		}
	}
	for _, b := range bufs {
		c := cap(b)
		if c < poolMin || sizeClass(c) != c {
			continue
		}
		b = b[:c]
		if seen[&b[0]] {
			continue
		}
		seen[&b[0]] = true
		p.free[c] = append(p.free[c], b)
	}
}

// trim drops the arrays beyond what the pass since the last trim, or the
// pass before it, took.
func (p *bufPool[T]) trim() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c, f := range p.free {
		if k := max(p.taken[c], p.prev[c]); len(f) > k {
			clear(f[k:])
			p.free[c] = f[:k]
		}
		if len(p.free[c]) == 0 {
			delete(p.free, c)
		}
	}
	p.prev, p.taken = p.taken, p.prev
	clear(p.taken)
}

// drop empties the pool.
func (p *bufPool[T]) drop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.free, p.taken, p.prev = nil, nil, nil
}

// held returns the number of elements the pool holds.
func (p *bufPool[T]) held() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := 0
	for c, f := range p.free {
		s += c * len(f)
	}
	return s
}

// ReleaseBuffers drops the arrays the model keeps between training passes
// for reuse (as much as one pass's activations and gradients), for when
// it trains no more.
func (m *Model[T]) ReleaseBuffers() { m.bufs.drop() }
