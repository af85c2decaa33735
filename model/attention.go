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
	// BF16 runs the products (scores, outputs and their gradients) in
	// bfloat16 on the tile unit, the softmax in float32 (float32 models;
	// see Model.Precision).
	BF16 bool
	// block overrides attnBlock (tests use small blocks to cover several
	// of them on short sequences).
	block int
	// bufs, when set, gives the cache's and the gradients' arrays.
	bufs *bufPool[T]
}

// get returns n elements to overwrite, from the pool when there is one.
func (in *AttnInput[T]) get(n int) []T {
	if in.bufs == nil {
		return make([]T, n)
	}
	return in.bufs.get(n)
}

// zeroed returns n zeros, from the pool when there is one.
func (in *AttnInput[T]) zeroed(n int) []T {
	if in.bufs == nil {
		return make([]T, n)
	}
	return in.bufs.zeroed(n)
}

func (in *AttnInput[T]) workers() int {
	if in.Threads > 0 {
		return in.Threads
	}
	return runtime.GOMAXPROCS(0)
}

func (in *AttnInput[T]) exec() exec { return exec{workers: in.workers(), bf16: in.BF16} }

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

// dropScaled writes x ⊙ the dropout scale of head h's query i for keys
// j0, j0+1, … into dst (which may be x), where the probabilities p are not
// zero, and 0 where they are (no draw for them).
func dropScaled[T Float](d dropper, inv T, h, i, j0 int, p, x, dst []T) {
	x, dst = x[:len(p)], dst[:len(p)]
	for t, pt := range p {
		if pt == 0 {
			dst[t] = 0
			continue
		}
		dst[t] = x[t] * scaleOf(d, inv, h, i, j0+t)
	}
}

// dropRows applies dropScaled to the rows of src (queries[k]'s
// probabilities for every key, in row k) into dst.
func dropRows[T Float](d dropper, inv T, h int, queries []int, src, dst []T) {
	n := len(src) / len(queries)
	for k, i := range queries {
		row := src[k*n : (k+1)*n]
		dropScaled(d, inv, h, i, 0, row, row, dst[k*n:(k+1)*n])
	}
}

// attnBlock is the number of local queries a task of the attention
// kernels takes at a time.
const attnBlock = 64

func (in *AttnInput[T]) blockSize() int {
	if in.block > 0 {
		return in.block
	}
	return attnBlock
}

// attnCache keeps what the backward pass needs: the attention
// probabilities, O(n·(w+g)) per head for g global tokens.
type attnCache[T Float] struct {
	globals []int // positions of the global tokens
	block   int   // queries per block of local queries
	// probs holds, for each head and block b of local queries
	// [i0, i1), the probabilities of its queries for the keys [k0, k1)
	// its band reaches (blockSpan), a row-major (i1−i0) × (k1−k0) matrix
	// at offset (h·blocks + b)·block·(block + w), zero outside each
	// query's band and on rows of queries that are not local.
	probs []T
	gl    []T // heads × n × g: local query i, global key globals[k]
	gq    []T // heads × g × n: global query globals[k], key j
}

// blockSpan returns block b's queries [i0, i1) and the keys [k0, k1) their
// bands reach.
func blockSpan(b, block, n, w2 int) (i0, i1, k0, k1 int) {
	i0, i1 = b*block, min(n, (b+1)*block)
	return i0, i1, max(0, i0-w2), min(n, i1+w2)
}

// gatherRows returns the rows idx of x (rows of width D) as a len(idx) × D
// array.
func gatherRows[T Float](x []T, D int, idx []int) []T {
	y := make([]T, len(idx)*D)
	for k, i := range idx {
		copy(y[k*D:(k+1)*D], x[i*D:(i+1)*D])
	}
	return y
}

// grow returns a slice of n elements from *s, reallocated when short.
func grow[T Float](s *[]T, n int) []T {
	if cap(*s) < n {
		*s = make([]T, n)
	}
	return (*s)[:n]
}

// Attention computes Longformer self-attention into out (n × heads·headDim)
// and, when train is true, returns what Backward needs. A local query i
// attends, with Q, K, V and scores q·k/√headDim, to the non-padding,
// non-global keys j with |i − j| ≤ w/2 and to every global key; a global
// query attends to every non-padding key with QG, KG, VG; padding queries
// get zeros. It never forms an n × n matrix: O(n·(w+g)·d) time, and memory
// O(n·(w+g)) per head for the probabilities when training.
//
// Every product is a matrix product (BLAS): a block of 64 local queries
// against the keys its band reaches, which wastes (block+w)/(w+1) of the
// band's work on keys outside it (1.25× with w/2 = 128), against the
// global keys, and blocks of global queries against all keys. Work is
// split over heads and blocks of queries on all cores.
func Attention[T Float](in *AttnInput[T], out []T, train bool) *attnCache[T] {
	n, H, dh, w2 := in.N, in.Heads, in.HeadDim, in.HalfWindow
	D := H * dh
	if len(in.Q) < n*D || len(out) < n*D || len(in.Mask) != n {
		panic("model: Attention: inputs shorter than n × heads·headDim")
	}
	c := &attnCache[T]{block: in.blockSize()}
	for i, m := range in.Mask {
		if m == MaskGlobal {
			c.globals = append(c.globals, i)
		}
	}
	g, B := len(c.globals), c.block
	nb, kmax := (n+B-1)/B, B+2*w2
	if train {
		// Each block's products write every element the backward pass
		// reads.
		c.probs = in.get(H * nb * B * kmax)
		c.gl = in.get(H * n * g)
		c.gq = in.get(H * g * n)
	}
	scale := 1 / sqrt(T(dh))
	drop, dinv := in.dropper(), T(1/(1-in.Dropout))
	workers := in.workers()
	ex := in.exec()
	var kg, vg []T // the global keys' local keys and values, g × D
	if g > 0 {
		kg, vg = gatherRows(in.K, D, c.globals), gatherRows(in.V, D, c.globals)
	}
	// nonLocal[i] counts the keys before i that are not local (padding or
	// global), so that a band without any skips the masking.
	nonLocal := make([]int32, n+1)
	for i, m := range in.Mask {
		nonLocal[i+1] = nonLocal[i]
		if m != MaskLocal {
			nonLocal[i+1]++
		}
	}
	tiles := newBandTiles(in, B, scale)
	if tiles != nil {
		defer tiles.release()
	}
	// Local queries: tasks of (head, block of queries).
	forTasks(workers, H*nb, func(task int, scratch *[]T) {
		h, b := task/nb, task%nb
		i0, i1, k0, k1 := blockSpan(b, B, n, w2)
		rows, K := i1-i0, k1-k0
		buf := grow(scratch, 2*rows*(K+g))
		S, Sg := buf[:rows*K], buf[rows*K:rows*(K+g)]
		if train {
			S = c.probs[(h*nb+b)*B*kmax:][:rows*K]
			Sg = c.gl[(h*n+i0)*g : (h*n+i1)*g]
		}
		if tiles != nil {
			scores(tiles, h, i0, rows, k0, K, S)
		} else {
			gemm(ex, false, true, rows, K, dh, scale, in.Q[i0*D+h*dh:], D, in.K[k0*D+h*dh:], D, 0, S, K)
		}
		if g > 0 {
			gemm(ex, false, true, rows, g, dh, scale, in.Q[i0*D+h*dh:], D, kg[h*dh:], D, 0, Sg, g)
		}
		for i := i0; i < i1; i++ {
			srow, sg := S[(i-i0)*K:(i-i0+1)*K], Sg[(i-i0)*g:(i-i0+1)*g]
			if in.Mask[i] != MaskLocal {
				clear(srow)
				clear(sg)
				continue
			}
			lo, hi := max(0, i-w2), min(n-1, i+w2) // the band, in positions
			clear(srow[:lo-k0])
			clear(srow[hi-k0+1:])
			band := srow[lo-k0 : hi-k0+1]
			var mx T
			if nonLocal[hi+1] == nonLocal[lo] { // every key in the band is local
				mx = maxOf(band)
			} else {
				mx = T(math.Inf(-1))
				for t := range band {
					if in.Mask[lo+t] != MaskLocal {
						band[t] = T(math.Inf(-1))
						continue
					}
					mx = max(mx, band[t])
				}
			}
			for _, v := range sg {
				mx = max(mx, v)
			}
			inv := 1 / (expShift(band, mx) + expShift(sg, mx))
			scal(inv, band)
			scal(inv, sg)
		}
		// The cache keeps the probabilities before dropout.
		P, Pg := S, Sg
		if drop.threshold != 0 {
			P, Pg = buf[rows*(K+g):rows*(2*K+g)], buf[rows*(2*K+g):]
			for r := range rows {
				i := i0 + r
				row := S[r*K : (r+1)*K]
				dropScaled(drop, dinv, h, i, k0, row, row, P[r*K:(r+1)*K])
				for k, j := range c.globals {
					Pg[r*g+k] = Sg[r*g+k] * scaleOf(drop, dinv, h, i, j)
				}
			}
		}
		// Rows of queries that are not local are zero, so their output is
		// zero; global queries' rows are overwritten below.
		if tiles != nil {
			output(tiles, h, rows, k0, K, P, out[i0*D+h*dh:], D)
		} else {
			gemm(ex, false, false, rows, dh, K, 1, P, K, in.V[k0*D+h*dh:], D, 0, out[i0*D+h*dh:], D)
		}
		if g > 0 {
			gemm(ex, false, false, rows, dh, g, 1, Pg, g, vg[h*dh:], D, 1, out[i0*D+h*dh:], D)
		}
	})
	if g == 0 {
		return c
	}
	// Global queries: tasks of (head, block of global queries).
	qg := gatherRows(in.QG, D, c.globals)
	gb := (g + B - 1) / B
	forTasks(workers, H*gb, func(task int, scratch *[]T) {
		h, c0 := task/gb, task%gb*B
		m := min(g, c0+B) - c0
		buf := grow(scratch, 2*m*n+m*dh)
		S, tmp := buf[:m*n], buf[2*m*n:]
		if train {
			S = c.gq[(h*g+c0)*n:][:m*n]
		}
		gemm(ex, false, true, m, n, dh, scale, qg[c0*D+h*dh:], D, in.KG[h*dh:], D, 0, S, n)
		for k := range m {
			s := S[k*n : (k+1)*n]
			mx := T(math.Inf(-1))
			for j, v := range s {
				if in.Mask[j] == MaskPad {
					s[j] = T(math.Inf(-1))
					continue
				}
				mx = max(mx, v)
			}
			scal(1/expShift(s, mx), s)
		}
		P := S
		if drop.threshold != 0 {
			P = buf[m*n : 2*m*n]
			dropRows(drop, dinv, h, c.globals[c0:c0+m], S, P)
		}
		gemm(ex, false, false, m, dh, n, 1, P, n, in.VG[h*dh:], D, 0, tmp, dh)
		for k := range m {
			i := c.globals[c0+k]
			copy(out[i*D+h*dh:i*D+(h+1)*dh], tmp[k*dh:(k+1)*dh])
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
// projections; the caller adds them up.
//
// Like the forward pass it is matrix products over the blocks of the
// cache, in three phases: dV by blocks of keys, from the probabilities
// (after dropout) of the query blocks whose bands reach them; by blocks
// of queries, dP = dO·Vᵀ, the softmax's backward dS = P ⊙ (dP − rowsum(P ⊙
// dP)) over P, and dQ = dS·K/√d; then dK by blocks of keys from dS. Every
// task writes rows (or, for the global tokens, columns of a head) of its
// own, so the result does not depend on scheduling.
func AttentionBackward[T Float](in *AttnInput[T], c *attnCache[T], dout []T) *AttnGrad[T] {
	n, H, dh, w2 := in.N, in.Heads, in.HeadDim, in.HalfWindow
	D := H * dh
	g, B := len(c.globals), c.block
	nb, kmax := (n+B-1)/B, B+2*w2
	scale := 1 / sqrt(T(dh))
	drop, dinv := in.dropper(), T(1/(1-in.Dropout))
	workers := in.workers()
	ex := in.exec()
	// Phase B writes every row of dQ; the others are sums.
	gr := &AttnGrad[T]{Q: in.get(n * D), K: in.zeroed(n * D), V: in.zeroed(n * D)}
	var kg, vg []T
	if g > 0 {
		gr.QG, gr.KG, gr.VG = in.zeroed(n*D), in.zeroed(n*D), in.zeroed(n*D)
		kg, vg = gatherRows(in.K, D, c.globals), gatherRows(in.V, D, c.globals)
	}
	// Query blocks whose keys reach a key block: at most reach on each
	// side.
	reach := (w2 + B - 1) / B
	// byKeys adds alpha·Σ_b Xbᵀ·src[i0_b:i1_b] into dst's rows of every
	// block of keys, head by head, where Xb is block b's cached matrix
	// restricted to those keys (after dropout when dropped is set). The
	// query blocks whose bands reach a block of keys are consecutive, and
	// so are their rows of src: their parts of the cache are gathered
	// into one matrix (zero outside each block's keys), for one product
	// over all of them.
	byKeys := func(dst, src []T, alpha T, dropped bool) {
		forTasks(workers, H*nb, func(task int, scratch *[]T) {
			h, kb := task/nb, task%nb
			j0, j1 := kb*B, min(n, (kb+1)*B)
			w := j1 - j0
			first, last := -1, -1
			for b := max(0, kb-reach); b <= min(nb-1, kb+reach); b++ {
				if _, _, k0, k1 := blockSpan(b, B, n, w2); max(j0, k0) < min(j1, k1) {
					if first < 0 {
						first = b
					}
					last = b
				}
			}
			if first < 0 {
				return
			}
			r0, _, _, _ := blockSpan(first, B, n, w2)
			_, r1, _, _ := blockSpan(last, B, n, w2)
			X := grow(scratch, (r1-r0)*w)
			for b := first; b <= last; b++ {
				i0, i1, k0, k1 := blockSpan(b, B, n, w2)
				lo, hi := max(j0, k0), min(j1, k1)
				K := k1 - k0
				P := c.probs[(h*nb+b)*B*kmax:]
				for r := range i1 - i0 {
					row := X[(i0-r0+r)*w : (i0-r0+r+1)*w]
					clear(row[:max(0, lo-j0)])
					clear(row[max(0, hi-j0):])
					if lo >= hi {
						continue
					}
					seg, x := row[lo-j0:hi-j0], P[r*K+lo-k0:r*K+hi-k0]
					if dropped && drop.threshold != 0 {
						dropScaled(drop, dinv, h, i0+r, lo, x, x, seg)
					} else {
						copy(seg, x)
					}
				}
			}
			gemm(ex, true, false, w, dh, r1-r0, alpha, X, w, src[r0*D+h*dh:], D, 1, dst[j0*D+h*dh:], D)
		})
	}
	// toGlobalKeys adds alpha·Xᵀ·src into the global keys' rows of dst, per
	// head, for X the local queries' n × g weights of the global keys.
	toGlobalKeys := func(dst, src []T, alpha T, dropped bool) {
		forTasks(workers, H, func(h int, scratch *[]T) {
			buf := grow(scratch, n*g+g*dh)
			X, tmp := c.gl[h*n*g:(h+1)*n*g], buf[n*g:]
			if dropped && drop.threshold != 0 {
				Xd := buf[:n*g]
				for i := range n {
					for k, j := range c.globals {
						Xd[i*g+k] = X[i*g+k] * scaleOf(drop, dinv, h, i, j)
					}
				}
				X = Xd
			}
			gemm(ex, true, false, g, dh, n, alpha, X, g, src[h*dh:], D, 0, tmp, dh)
			for k, j := range c.globals {
				axpy(1, tmp[k*dh:(k+1)*dh], dst[j*D+h*dh:j*D+(h+1)*dh])
			}
		})
	}
	// Phase A, from the probabilities after dropout: dV.
	byKeys(gr.V, dout, 1, true)
	if g > 0 {
		toGlobalKeys(gr.V, dout, 1, true)
	}
	// Phase B, by blocks of queries: dS over the probabilities, and dQ.
	// With dropout, dP is the gradient of the probability before dropout:
	// the output's gradient through the dropped, rescaled one.
	forTasks(workers, H*nb, func(task int, scratch *[]T) {
		h, b := task/nb, task%nb
		i0, i1, k0, k1 := blockSpan(b, B, n, w2)
		rows, K := i1-i0, k1-k0
		buf := grow(scratch, rows*(K+g))
		dP, dPg := buf[:rows*K], buf[rows*K:]
		P := c.probs[(h*nb+b)*B*kmax:][:rows*K]
		Pg := c.gl[(h*n+i0)*g : (h*n+i1)*g]
		gemm(ex, false, true, rows, K, dh, 1, dout[i0*D+h*dh:], D, in.V[k0*D+h*dh:], D, 0, dP, K)
		if g > 0 {
			gemm(ex, false, true, rows, g, dh, 1, dout[i0*D+h*dh:], D, vg[h*dh:], D, 0, dPg, g)
		}
		for r := range rows {
			i := i0 + r
			if in.Mask[i] != MaskLocal {
				continue // a zero row of P: dS is zero
			}
			lo, hi := max(0, i-w2)-k0, min(n-1, i+w2)-k0+1
			p, dp := P[r*K+lo:r*K+hi], dP[r*K+lo:r*K+hi]
			pg, dpg := Pg[r*g:(r+1)*g], dPg[r*g:(r+1)*g]
			if drop.threshold != 0 {
				dropScaled(drop, dinv, h, i, k0+lo, p, dp, dp)
				for k, j := range c.globals {
					dpg[k] *= scaleOf(drop, dinv, h, i, j)
				}
			}
			sum := dot(p, dp) + dot(pg, dpg)
			mulSub(p, dp, sum)
			mulSub(pg, dpg, sum)
		}
		gemm(ex, false, false, rows, dh, K, scale, P, K, in.K[k0*D+h*dh:], D, 0, gr.Q[i0*D+h*dh:], D)
		if g > 0 {
			gemm(ex, false, false, rows, dh, g, scale, Pg, g, kg[h*dh:], D, 1, gr.Q[i0*D+h*dh:], D)
		}
	})
	// Phase C, from dS: dK.
	byKeys(gr.K, in.Q, scale, false)
	if g > 0 {
		toGlobalKeys(gr.K, in.Q, scale, false)
	}
	if g == 0 {
		return gr
	}
	// Global queries, per head (their blocks add into the same columns of
	// dVG and dKG, so one task takes them in order).
	qg, dog := gatherRows(in.QG, D, c.globals), gatherRows(dout, D, c.globals)
	forTasks(workers, H, func(h int, scratch *[]T) {
		for c0 := 0; c0 < g; c0 += B {
			m := min(g, c0+B) - c0
			buf := grow(scratch, 2*m*n+m*dh)
			P, dP, tmp := c.gq[(h*g+c0)*n:][:m*n], buf[:m*n], buf[2*m*n:]
			Pd := P
			if drop.threshold != 0 {
				Pd = buf[m*n : 2*m*n]
				dropRows(drop, dinv, h, c.globals[c0:c0+m], P, Pd)
			}
			gemm(ex, true, false, n, dh, m, 1, Pd, n, dog[c0*D+h*dh:], D, 1, gr.VG[h*dh:], D)
			gemm(ex, false, true, m, n, dh, 1, dog[c0*D+h*dh:], D, in.VG[h*dh:], D, 0, dP, n)
			for k := range m {
				i := c.globals[c0+k]
				p, dp := P[k*n:(k+1)*n], dP[k*n:(k+1)*n]
				if drop.threshold != 0 {
					dropScaled(drop, dinv, h, i, 0, p, dp, dp)
				}
				mulSub(p, dp, dot(p, dp))
			}
			gemm(ex, false, false, m, dh, n, scale, P, n, in.KG[h*dh:], D, 0, tmp, dh)
			for k := range m {
				i := c.globals[c0+k]
				copy(gr.QG[i*D+h*dh:i*D+(h+1)*dh], tmp[k*dh:(k+1)*dh])
			}
			gemm(ex, true, false, n, dh, m, scale, P, n, qg[c0*D+h*dh:], D, 1, gr.KG[h*dh:], D)
		}
	})
	return gr
}

// forTasks runs fn(task) for every task on at most workers goroutines, each
// with a scratch slice of its own.
func forTasks[T Float](workers, tasks int, fn func(task int, scratch *[]T)) {
	parallel.ForScratch(context.Background(), workers, tasks, fn)
}
