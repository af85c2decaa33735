package model

import (
	"math"
	"runtime"
	"sync"
	"sync/atomic"
)

// Mask values of a sequence's tokens, as in transformers' Longformer.
const (
	MaskPad    int8 = 0
	MaskLocal  int8 = 1
	MaskGlobal int8 = 2
)

// AttnInput is one layer's self-attention input for one sequence of n
// tokens: the local projections Q, K, V and the global ones QG, KG, VG
// (which may be the same slices when global projections are shared), each
// n × heads·headDim, row-major, head h in columns [h·headDim, (h+1)·headDim).
type AttnInput[T Float] struct {
	Q, K, V, QG, KG, VG []T
	Mask                []int8
	N, Heads, HeadDim   int
	// HalfWindow is w/2: a local query sees the keys within this many
	// positions on each side.
	HalfWindow int
}

// attnCache keeps what the backward pass needs: the attention
// probabilities, O(n·(w+g)) per head for g global tokens.
type attnCache[T Float] struct {
	globals []int // positions of the global tokens
	band    []T   // heads × n × (2·HalfWindow+1): local query i, key i−w/2+t
	gl      []T   // heads × n × g: local query i, global key globals[k]
	gq      []T   // heads × g × n: global query globals[k], key j
}

// Attention computes Longformer self-attention into out (n × heads·headDim)
// and, when train is true, returns what Backward needs. A local query i
// attends, with Q, K, V and scores q·k/√headDim, to the non-padding,
// non-global keys j with |i − j| ≤ w/2 and to every global key; a global
// query attends to every non-padding key with QG, KG, VG; padding queries
// get zeros. It never forms an n × n matrix: O(n·(w+g)·d) time, and memory
// O(n·(w+g)) per head for the probabilities when training. Work is split
// over heads and blocks of queries on all cores.
func Attention[T Float](in *AttnInput[T], out []T, train bool) *attnCache[T] {
	n, H, dh, w2 := in.N, in.Heads, in.HeadDim, in.HalfWindow
	D := H * dh
	if len(in.Q) < n*D || len(out) < n*D || len(in.Mask) != n {
		panic("model: Attention: inputs shorter than n × heads·headDim")
	}
	c := &attnCache[T]{}
	for i, m := range in.Mask {
		if m == MaskGlobal {
			c.globals = append(c.globals, i)
		}
	}
	g := len(c.globals)
	bw := 2*w2 + 1
	if train {
		c.band = make([]T, H*n*bw)
		c.gl = make([]T, H*n*g)
		c.gq = make([]T, H*g*n)
	}
	scale := 1 / sqrt(T(dh))
	const block = 64
	nb := (n + block - 1) / block
	// Local queries: tasks of (head, block).
	parallel(H*nb, func(task int, scratch *[]T) {
		h, b := task/nb, task%nb
		if cap(*scratch) < bw+g {
			*scratch = make([]T, bw+g)
		}
		s := (*scratch)[:bw+g]
		for i := b * block; i < min(n, (b+1)*block); i++ {
			o := out[i*D+h*dh : i*D+(h+1)*dh]
			if in.Mask[i] != MaskLocal {
				if in.Mask[i] == MaskPad {
					clear(o)
				}
				continue
			}
			q := in.Q[i*D+h*dh : i*D+(h+1)*dh]
			mx := T(math.Inf(-1))
			for t := range bw {
				j := i - w2 + t
				if j < 0 || j >= n || in.Mask[j] != MaskLocal {
					s[t] = T(math.Inf(-1))
					continue
				}
				s[t] = scale * dot(q, in.K[j*D+h*dh:j*D+(h+1)*dh])
				mx = max(mx, s[t])
			}
			for k, j := range c.globals {
				s[bw+k] = scale * dot(q, in.K[j*D+h*dh:j*D+(h+1)*dh])
				mx = max(mx, s[bw+k])
			}
			var sum T
			for t := range s {
				if math.IsInf(float64(s[t]), -1) {
					s[t] = 0
					continue
				}
				s[t] = exp(s[t] - mx)
				sum += s[t]
			}
			clear(o)
			for t := range bw {
				if s[t] == 0 {
					continue
				}
				s[t] /= sum
				j := i - w2 + t
				axpy(s[t], in.V[j*D+h*dh:j*D+(h+1)*dh], o)
			}
			for k, j := range c.globals {
				s[bw+k] /= sum
				axpy(s[bw+k], in.V[j*D+h*dh:j*D+(h+1)*dh], o)
			}
			if train {
				copy(c.band[(h*n+i)*bw:(h*n+i+1)*bw], s[:bw])
				copy(c.gl[(h*n+i)*g:(h*n+i+1)*g], s[bw:])
			}
		}
	})
	// Global queries: tasks of (head, global token).
	parallel(H*g, func(task int, scratch *[]T) {
		h, k := task/g, task%g
		i := c.globals[k]
		if cap(*scratch) < n {
			*scratch = make([]T, n)
		}
		s := (*scratch)[:n]
		q := in.QG[i*D+h*dh : i*D+(h+1)*dh]
		mx := T(math.Inf(-1))
		for j := range n {
			if in.Mask[j] == MaskPad {
				continue
			}
			s[j] = scale * dot(q, in.KG[j*D+h*dh:j*D+(h+1)*dh])
			mx = max(mx, s[j])
		}
		var sum T
		for j := range n {
			if in.Mask[j] == MaskPad {
				s[j] = 0
				continue
			}
			s[j] = exp(s[j] - mx)
			sum += s[j]
		}
		o := out[i*D+h*dh : i*D+(h+1)*dh]
		clear(o)
		for j := range n {
			if s[j] == 0 {
				continue
			}
			s[j] /= sum
			axpy(s[j], in.VG[j*D+h*dh:j*D+(h+1)*dh], o)
		}
		if train {
			copy(c.gq[(h*g+k)*n:(h*g+k+1)*n], s)
		}
	})
	return c
}

// AttnGrad holds the gradients of the attention's inputs.
type AttnGrad[T Float] struct {
	Q, K, V, QG, KG, VG []T // QG, KG, VG are nil without global tokens
}

// AttentionBackward returns the gradients of Attention's inputs given the
// gradient dout of its output and the cache of a training forward pass.
// The global gradients are separate even when the forward pass shared the
// projections; the caller adds them up. It gathers rather than scatters:
// every task writes rows of its own, so the result does not depend on
// scheduling.
func AttentionBackward[T Float](in *AttnInput[T], c *attnCache[T], dout []T) *AttnGrad[T] {
	n, H, dh, w2 := in.N, in.Heads, in.HeadDim, in.HalfWindow
	D := H * dh
	bw := 2*w2 + 1
	g := len(c.globals)
	scale := 1 / sqrt(T(dh))
	gr := &AttnGrad[T]{Q: make([]T, n*D), K: make([]T, n*D), V: make([]T, n*D)}
	if g > 0 {
		gr.QG, gr.KG, gr.VG = make([]T, n*D), make([]T, n*D), make([]T, n*D)
	}
	// ds holds p·(dp − Σ p·dp) for each probability, laid out like the
	// cache.
	dsBand := make([]T, len(c.band))
	dsGl := make([]T, len(c.gl))
	dsGq := make([]T, len(c.gq))
	const block = 64
	nb := (n + block - 1) / block
	// Phase 1, by query: ds, and dQ (its own row).
	parallel(H*nb, func(task int, _ *[]T) {
		h, b := task/nb, task%nb
		for i := b * block; i < min(n, (b+1)*block); i++ {
			if in.Mask[i] != MaskLocal {
				continue
			}
			do := dout[i*D+h*dh : i*D+(h+1)*dh]
			p := c.band[(h*n+i)*bw : (h*n+i+1)*bw]
			pg := c.gl[(h*n+i)*g : (h*n+i+1)*g]
			ds := dsBand[(h*n+i)*bw : (h*n+i+1)*bw]
			dsg := dsGl[(h*n+i)*g : (h*n+i+1)*g]
			var sum T
			for t, pt := range p {
				if pt == 0 {
					continue
				}
				j := i - w2 + t
				ds[t] = dot(do, in.V[j*D+h*dh:j*D+(h+1)*dh])
				sum += pt * ds[t]
			}
			for k, j := range c.globals {
				dsg[k] = dot(do, in.V[j*D+h*dh:j*D+(h+1)*dh])
				sum += pg[k] * dsg[k]
			}
			dq := gr.Q[i*D+h*dh : i*D+(h+1)*dh]
			for t, pt := range p {
				if pt == 0 {
					continue
				}
				ds[t] = pt * (ds[t] - sum)
				j := i - w2 + t
				axpy(scale*ds[t], in.K[j*D+h*dh:j*D+(h+1)*dh], dq)
			}
			for k, j := range c.globals {
				dsg[k] = pg[k] * (dsg[k] - sum)
				axpy(scale*dsg[k], in.K[j*D+h*dh:j*D+(h+1)*dh], dq)
			}
		}
	})
	parallel(H*g, func(task int, _ *[]T) {
		h, k := task/g, task%g
		i := c.globals[k]
		do := dout[i*D+h*dh : i*D+(h+1)*dh]
		p := c.gq[(h*g+k)*n : (h*g+k+1)*n]
		ds := dsGq[(h*g+k)*n : (h*g+k+1)*n]
		var sum T
		for j, pj := range p {
			if pj == 0 {
				continue
			}
			ds[j] = dot(do, in.VG[j*D+h*dh:j*D+(h+1)*dh])
			sum += pj * ds[j]
		}
		dq := gr.QG[i*D+h*dh : i*D+(h+1)*dh]
		for j, pj := range p {
			if pj == 0 {
				continue
			}
			ds[j] = pj * (ds[j] - sum)
			axpy(scale*ds[j], in.KG[j*D+h*dh:j*D+(h+1)*dh], dq)
		}
	})
	// Phase 2, by key: dK, dV (local, from the band of the queries around
	// each key and, for global keys, from every local query) and dKG, dVG
	// (from every global query).
	isGlobal := make([]int, n)
	for i := range isGlobal {
		isGlobal[i] = -1
	}
	for k, j := range c.globals {
		isGlobal[j] = k
	}
	parallel(H*nb, func(task int, _ *[]T) {
		h, b := task/nb, task%nb
		for j := b * block; j < min(n, (b+1)*block); j++ {
			if in.Mask[j] == MaskPad {
				continue
			}
			dk := gr.K[j*D+h*dh : j*D+(h+1)*dh]
			dv := gr.V[j*D+h*dh : j*D+(h+1)*dh]
			if k := isGlobal[j]; k >= 0 {
				for i := range n {
					if in.Mask[i] != MaskLocal {
						continue
					}
					idx := (h*n+i)*g + k
					axpy(scale*dsGl[idx], in.Q[i*D+h*dh:i*D+(h+1)*dh], dk)
					axpy(c.gl[idx], dout[i*D+h*dh:i*D+(h+1)*dh], dv)
				}
			} else {
				// Queries i with j = i − w/2 + t, so t = j − i + w/2.
				for i := max(0, j-w2); i <= min(n-1, j+w2); i++ {
					if in.Mask[i] != MaskLocal {
						continue
					}
					idx := (h*n+i)*bw + j - i + w2
					if c.band[idx] == 0 {
						continue
					}
					axpy(scale*dsBand[idx], in.Q[i*D+h*dh:i*D+(h+1)*dh], dk)
					axpy(c.band[idx], dout[i*D+h*dh:i*D+(h+1)*dh], dv)
				}
			}
			if g == 0 {
				continue
			}
			dkg := gr.KG[j*D+h*dh : j*D+(h+1)*dh]
			dvg := gr.VG[j*D+h*dh : j*D+(h+1)*dh]
			for k, i := range c.globals {
				idx := (h*g+k)*n + j
				axpy(scale*dsGq[idx], in.QG[i*D+h*dh:i*D+(h+1)*dh], dkg)
				axpy(c.gq[idx], dout[i*D+h*dh:i*D+(h+1)*dh], dvg)
			}
		}
	})
	return gr
}

// parallel runs fn(task) for every task on GOMAXPROCS goroutines, each
// with a scratch slice of its own.
func parallel[T Float](tasks int, fn func(task int, scratch *[]T)) {
	workers := min(runtime.GOMAXPROCS(0), tasks)
	if workers <= 1 {
		var s []T
		for t := range tasks {
			fn(t, &s)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var s []T
			for {
				t := int(next.Add(1)) - 1
				if t >= tasks {
					return
				}
				fn(t, &s)
			}
		}()
	}
	wg.Wait()
}
