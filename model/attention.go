package model

import (
	"context"
	"math"
	"runtime"

	"github.com/olc-toolkit/olc/internal/parallel"
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
	// Dropout is the probability of dropping each attention probability
	// (attention_probs_dropout_prob; 0 outside training). The masks are a
	// hash of (Seed, Stream, head, query, key), so the backward pass and a
	// recomputation under checkpointing regenerate them rather than store
	// them.
	Dropout      float64
	Seed, Stream uint64
	// Threads is how many goroutines the kernel runs on; GOMAXPROCS when
	// 0.
	Threads int
}

func (in *AttnInput[T]) workers() int {
	if in.Threads > 0 {
		return in.Threads
	}
	return runtime.GOMAXPROCS(0)
}

// dropper draws attention-dropout decisions as a counter-based hash: no
// state, the same answer every time it is asked.
type dropper struct {
	key       uint64
	threshold uint64 // drop when the hash's top 53 bits fall below it
	n         uint64
}

func (in *AttnInput[T]) dropper() dropper {
	if in.Dropout <= 0 {
		return dropper{}
	}
	return dropper{key: mix64(in.Seed ^ mix64(in.Stream+0x632be59bd9b4e019)), threshold: uint64(in.Dropout * (1 << 53)), n: uint64(in.N)}
}

// mix64 is SplitMix64's finalizer.
func mix64(z uint64) uint64 {
	z ^= z >> 30
	z *= 0xbf58476d1ce4e5b9
	z ^= z >> 27
	z *= 0x94d049bb133111eb
	return z ^ z>>31
}

// keep reports whether head h's probability of query i for key j stays.
func (d dropper) keep(h, i, j int) bool {
	idx := (uint64(h)*d.n+uint64(i))*d.n + uint64(j)
	return mix64(d.key+idx*0x9e3779b97f4a7c15)>>11 >= d.threshold
}

// scale returns the factor of head h's probability of query i for key j:
// 0 when dropped, else 1/(1−p) (1 without dropout).
func scaleOf[T Float](d dropper, inv T, h, i, j int) T {
	if d.threshold == 0 {
		return 1
	}
	if d.keep(h, i, j) {
		return inv
	}
	return 0
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
	drop, dinv := in.dropper(), T(1/(1-in.Dropout))
	const block = 64
	nb := (n + block - 1) / block
	// Local queries: tasks of (head, block of queries). A block's scores
	// against the keys its band can reach, and its output from their
	// probabilities, are two matrix products (BLAS), which waste
	// (block+w)/(w+1) of the band's work on keys outside it; with the
	// block at 64 and w/2 = 128 that is 1.25×.
	forTasks(in.workers(), H*nb, func(task int, scratch *[]T) {
		h, b := task/nb, task%nb
		i0, i1 := b*block, min(n, (b+1)*block)
		k0, k1 := max(0, i0-w2), min(n, i1+w2)
		B, K := i1-i0, k1-k0
		if cap(*scratch) < B*K+g {
			*scratch = make([]T, block*(block+2*w2)+g)
		}
		S := (*scratch)[:B*K]
		sg := (*scratch)[B*K : B*K+g]
		gemm(in.workers(), false, true, B, K, dh, scale, in.Q[i0*D+h*dh:], D, in.K[k0*D+h*dh:], D, 0, S, K)
		for i := i0; i < i1; i++ {
			srow := S[(i-i0)*K : (i-i0+1)*K]
			if in.Mask[i] != MaskLocal {
				clear(srow)
				clear(out[i*D+h*dh : i*D+(h+1)*dh])
				continue
			}
			q := in.Q[i*D+h*dh : i*D+(h+1)*dh]
			mx := T(math.Inf(-1))
			lo, hi := max(0, i-w2), min(n-1, i+w2) // the band, in positions
			clear(srow[:lo-k0])
			clear(srow[hi-k0+1:])
			band := srow[lo-k0 : hi-k0+1]
			for t := range band {
				if in.Mask[lo+t] != MaskLocal {
					band[t] = T(math.Inf(-1))
					continue
				}
				mx = max(mx, band[t])
			}
			for k, j := range c.globals {
				sg[k] = scale * dot(q, in.K[j*D+h*dh:j*D+(h+1)*dh])
				mx = max(mx, sg[k])
			}
			sum := expShift(band, mx) + expShift(sg, mx)
			inv := 1 / sum
			for t := range srow {
				srow[t] *= inv
			}
			for k := range sg {
				sg[k] *= inv
			}
			if train {
				// The cache keeps the probabilities before dropout.
				band := c.band[(h*n+i)*bw : (h*n+i+1)*bw]
				clear(band)
				for j := lo; j <= hi; j++ {
					band[j-i+w2] = srow[j-k0]
				}
				copy(c.gl[(h*n+i)*g:(h*n+i+1)*g], sg)
			}
			if drop.threshold != 0 {
				for j := lo; j <= hi; j++ {
					if srow[j-k0] != 0 && !drop.keep(h, i, j) {
						srow[j-k0] = 0
					} else {
						srow[j-k0] *= dinv
					}
				}
				for k, j := range c.globals {
					sg[k] *= scaleOf(drop, dinv, h, i, j)
				}
			}
			o := out[i*D+h*dh : i*D+(h+1)*dh]
			clear(o)
			for k, j := range c.globals {
				axpy(sg[k], in.V[j*D+h*dh:j*D+(h+1)*dh], o)
			}
		}
		// Padding queries' rows of S are zero, so their output stays zero;
		// global queries' rows are zero too and are overwritten below.
		gemm(in.workers(), false, false, B, dh, K, 1, S, K, in.V[k0*D+h*dh:], D, 1, out[i0*D+h*dh:], D)
	})
	// Global queries: tasks of (head, global token).
	forTasks(in.workers(), H*g, func(task int, scratch *[]T) {
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
		for j := range n {
			if in.Mask[j] == MaskPad {
				s[j] = T(math.Inf(-1))
			}
		}
		sum := expShift(s, mx)
		o := out[i*D+h*dh : i*D+(h+1)*dh]
		clear(o)
		for j := range n {
			if s[j] == 0 {
				continue
			}
			s[j] /= sum
			if train {
				c.gq[(h*g+k)*n+j] = s[j]
			}
			axpy(s[j]*scaleOf(drop, dinv, h, i, j), in.VG[j*D+h*dh:j*D+(h+1)*dh], o)
		}
	})
	return c
}

// AttnGrad holds the gradients of the attention's inputs.
type AttnGrad[T Float] struct {
	Q, K, V, QG, KG, VG []T // QG, KG, VG are nil without global tokens
}

// AttentionBackward returns the gradients of Attention's inputs given the
// gradient dout of its output and the cache of a training forward pass,
// which it consumes (the probabilities are overwritten by their
// gradients, so that the backward pass needs no second array of them).
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
	drop, dinv := in.dropper(), T(1/(1-in.Dropout))
	gr := &AttnGrad[T]{Q: make([]T, n*D), K: make([]T, n*D), V: make([]T, n*D)}
	if g > 0 {
		gr.QG, gr.KG, gr.VG = make([]T, n*D), make([]T, n*D), make([]T, n*D)
	}
	const block = 64
	nb := (n + block - 1) / block
	isGlobal := make([]int, n)
	for i := range isGlobal {
		isGlobal[i] = -1
	}
	for k, j := range c.globals {
		isGlobal[j] = k
	}
	// byKey runs fn(h, j) for every head and non-padding key j, in
	// parallel over heads and blocks of keys: each task writes the rows of
	// its own keys.
	byKey := func(fn func(h, j int)) {
		forTasks(in.workers(), H*nb, func(task int, _ *[]T) {
			h, b := task/nb, task%nb
			for j := b * block; j < min(n, (b+1)*block); j++ {
				if in.Mask[j] != MaskPad {
					fn(h, j)
				}
			}
		})
	}
	// forEachQuery calls local(w, i) with the weight w (a probability or,
	// after phase B, its ds) that each local query i gives key j, and
	// global(w, i) for each global query i.
	row := func(x []T, h, i int) []T { return x[i*D+h*dh : i*D+(h+1)*dh] }
	forEachQuery := func(h, j int, local func(w T, i int), global func(w T, i int)) {
		if k := isGlobal[j]; k >= 0 {
			for i := range n {
				if in.Mask[i] == MaskLocal {
					local(c.gl[(h*n+i)*g+k], i)
				}
			}
		} else {
			// Queries i with j = i − w/2 + t, so t = j − i + w/2.
			for i := max(0, j-w2); i <= min(n-1, j+w2); i++ {
				if in.Mask[i] == MaskLocal {
					if w := c.band[(h*n+i)*bw+j-i+w2]; w != 0 {
						local(w, i)
					}
				}
			}
		}
		for k, i := range c.globals {
			if w := c.gq[(h*g+k)*n+j]; w != 0 {
				global(w, i)
			}
		}
	}
	// Phase A, by key, from the probabilities after dropout: dV and dVG.
	byKey(func(h, j int) {
		dv := row(gr.V, h, j)
		var dvg []T
		if g > 0 {
			dvg = row(gr.VG, h, j)
		}
		forEachQuery(h, j,
			func(p T, i int) { axpy(p*scaleOf(drop, dinv, h, i, j), row(dout, h, i), dv) },
			func(p T, i int) { axpy(p*scaleOf(drop, dinv, h, i, j), row(dout, h, i), dvg) })
	})
	// Phase B, by query: ds = p·(dp − Σ p·dp), written over the
	// probabilities (the cache is consumed), and dQ, dQG (their own rows).
	// With dropout, dp is the gradient of the probability before dropout:
	// the output's gradient through the dropped, rescaled one.
	forTasks(in.workers(), H*nb, func(task int, scratch *[]T) {
		h, b := task/nb, task%nb
		if cap(*scratch) < bw+g {
			*scratch = make([]T, bw+g)
		}
		dp := (*scratch)[:bw+g]
		for i := b * block; i < min(n, (b+1)*block); i++ {
			if in.Mask[i] != MaskLocal {
				continue
			}
			do := row(dout, h, i)
			p := c.band[(h*n+i)*bw : (h*n+i+1)*bw]
			pg := c.gl[(h*n+i)*g : (h*n+i+1)*g]
			var sum T
			for t, pt := range p {
				if pt != 0 {
					dp[t] = dot(do, row(in.V, h, i-w2+t)) * scaleOf(drop, dinv, h, i, i-w2+t)
					sum += pt * dp[t]
				}
			}
			for k, j := range c.globals {
				dp[bw+k] = dot(do, row(in.V, h, j)) * scaleOf(drop, dinv, h, i, j)
				sum += pg[k] * dp[bw+k]
			}
			dq := row(gr.Q, h, i)
			for t, pt := range p {
				if pt != 0 {
					p[t] = pt * (dp[t] - sum)
					axpy(scale*p[t], row(in.K, h, i-w2+t), dq)
				}
			}
			for k, j := range c.globals {
				pg[k] *= dp[bw+k] - sum
				axpy(scale*pg[k], row(in.K, h, j), dq)
			}
		}
	})
	forTasks(in.workers(), H*g, func(task int, scratch *[]T) {
		h, k := task/g, task%g
		i := c.globals[k]
		do := row(dout, h, i)
		p := c.gq[(h*g+k)*n : (h*g+k+1)*n]
		if cap(*scratch) < n {
			*scratch = make([]T, n)
		}
		dp := (*scratch)[:n]
		var sum T
		for j, pj := range p {
			if pj != 0 {
				dp[j] = dot(do, row(in.VG, h, j)) * scaleOf(drop, dinv, h, i, j)
				sum += pj * dp[j]
			}
		}
		dq := row(gr.QG, h, i)
		for j, pj := range p {
			if pj != 0 {
				p[j] = pj * (dp[j] - sum)
				axpy(scale*p[j], row(in.KG, h, j), dq)
			}
		}
	})
	// Phase C, by key, from ds: dK and dKG.
	byKey(func(h, j int) {
		dk := row(gr.K, h, j)
		var dkg []T
		if g > 0 {
			dkg = row(gr.KG, h, j)
		}
		forEachQuery(h, j,
			func(ds T, i int) { axpy(scale*ds, row(in.Q, h, i), dk) },
			func(ds T, i int) { axpy(scale*ds, row(in.QG, h, i), dkg) })
	})
	return gr
}

// forTasks runs fn(task) for every task on at most workers goroutines, each
// with a scratch slice of its own.
func forTasks[T Float](workers, tasks int, fn func(task int, scratch *[]T)) {
	parallel.ForScratch(context.Background(), workers, tasks, fn)
}
