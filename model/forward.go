package model

import (
	"fmt"
)

// Options control a forward pass.
type Options struct {
	// Train keeps what the backward pass needs and applies dropout.
	Train bool
	// Checkpoint keeps only the inputs of each layer's two blocks
	// (attention, feed-forward) and recomputes one block at a time during
	// the backward pass (gradient checkpointing): less memory, one more
	// forward pass of compute, the same gradients.
	Checkpoint bool
	// Seed seeds the dropout masks (with Train).
	Seed uint64
}

// layerCache holds one layer's activations for the backward pass.
type layerCache[T Float] struct {
	x                   []T // input
	q, k, v, qg, kg, vg []T
	attn                *attnCache[T]
	a                   []T // attention output
	h1, mean1, rstd1    []T // x + dropout(a·Woᵀ) and its LayerNorm statistics
	y1                  []T
	u, f                []T // intermediate pre-activation and GELU
	h2, mean2, rstd2    []T
	drop1, drop2        []T // dropout masks (scaled), nil without dropout
	out                 []T // the layer's output
	// dead holds the backward pass's arrays that are no longer read once
	// the layer is done: the cached probabilities, gradients on the way.
	dead [][]T
}

// arrays returns the cache's arrays, for the pool once the backward pass
// is through the layer: all but its input, which is the layer below's
// output (or the embeddings').
func (c *layerCache[T]) arrays() [][]T {
	a := append([][]T{c.q, c.k, c.v, c.qg, c.kg, c.vg, c.a, c.h1, c.y1, c.u, c.f, c.h2, c.drop1, c.drop2, c.out}, c.dead...)
	if c.attn != nil {
		a = append(a, c.attn.probs, c.attn.gl, c.attn.gq)
	}
	return a
}

// State is a forward pass's outcome: the final hidden states and what the
// backward pass needs.
type State[T Float] struct {
	N      int
	Hidden []T // n × d
	ids    []int
	mask   []int8 // after the global-attention switch
	pos    []int
	embIn  []T // word + position + type embeddings (n × d), input to the LayerNorm
	embMu  []T
	embRs  []T
	embDrp []T
	layers []*layerCache[T]
	opts   Options
}

// Forward runs the encoder over one sequence of token ids with its mask
// (MaskPad, MaskLocal, MaskGlobal per token; nil means every token local).
// Position ids are RoBERTa's, computed from the ids as the reference does
// whatever the mask says: a token whose id is not pad_token_id gets
// pad_token_id + the number of such tokens up to it, one whose id is
// pad_token_id gets pad_token_id. The sequence needs no padding to a multiple
// of the window: the attention kernel handles any length.
func (m *Model[T]) Forward(ids []int, mask []int8, opts Options) (*State[T], error) {
	st, err := m.newState(ids, mask, opts)
	if err != nil {
		return nil, err
	}
	d := m.Config.HiddenSize
	return m.forwardEmbeddings(st, m.embed(st, func(i int) []T { return m.Word.W[ids[i]*d : (ids[i]+1)*d] }))
}

// ForwardEmbeds is Forward from given input embeddings (n × d, the word
// embeddings' place), for probing gradients with respect to them. The
// sequence counts as n tokens of bos_token_id for validation.
func (m *Model[T]) ForwardEmbeds(embeds []T, mask []int8, opts Options) (*State[T], error) {
	d := m.Config.HiddenSize
	n := len(embeds) / d
	ids := make([]int, n)
	for i := range ids {
		ids[i] = m.Config.BosTokenID
	}
	st, err := m.newState(ids, mask, opts)
	if err != nil {
		return nil, err
	}
	return m.forwardEmbeddings(st, m.embed(st, func(i int) []T { return embeds[i*d : (i+1)*d] }))
}

// newState checks one input sequence and sets up its state: the mask after
// the global-attention switch, and the position ids.
func (m *Model[T]) newState(ids []int, mask []int8, opts Options) (*State[T], error) {
	cfg := &m.Config
	n := len(ids)
	if mask == nil {
		mask = make([]int8, n)
		for i := range mask {
			mask[i] = MaskLocal
		}
	}
	if len(mask) != n {
		return nil, fmt.Errorf("model: %d mask values for %d tokens", len(mask), n)
	}
	st := &State[T]{N: n, ids: ids, mask: make([]int8, n), pos: make([]int, n), opts: opts}
	real := 0
	for i, id := range ids {
		if id < 0 || id >= cfg.VocabSize {
			return nil, fmt.Errorf("model: token %d has id %d, outside the vocabulary [0, %d)", i, id, cfg.VocabSize)
		}
		st.mask[i] = mask[i]
		if mask[i] == MaskGlobal && !cfg.GlobalAttention {
			st.mask[i] = MaskLocal
		}
		// RoBERTa's position ids, from the ids as the reference computes
		// them (not from the mask): pad_token_id for the padding id,
		// else pad_token_id + the count of non-padding ids so far.
		if id == cfg.PadTokenID {
			st.pos[i] = cfg.PadTokenID
			continue
		}
		real++
		st.pos[i] = cfg.PadTokenID + real
		if st.pos[i] >= cfg.MaxPositionEmbeddings {
			return nil, fmt.Errorf("model: %d tokens exceed the %d positions of max_position_embeddings", real, cfg.MaxTokens())
		}
	}
	return st, nil
}

// embed returns the embedding sums (n × d) of st's tokens: word(i), the
// word embedding's place, plus the position and token-type embeddings.
func (m *Model[T]) embed(st *State[T], word func(i int) []T) []T {
	d := m.Config.HiddenSize
	emb := m.bufs.get(st.N * d) // every row written
	for i := range st.N {
		row := emb[i*d : (i+1)*d]
		copy(row, word(i))
		axpy(1, m.Pos.W[st.pos[i]*d:(st.pos[i]+1)*d], row)
		axpy(1, m.Type.W[:d], row)
	}
	return emb
}

func (m *Model[T]) forwardEmbeddings(st *State[T], emb []T) (*State[T], error) {
	if !st.opts.Train {
		m.infer(st, emb)
		return st, nil
	}
	cfg := &m.Config
	n, d := st.N, cfg.HiddenSize
	x := emb
	if cfg.LayerNorm {
		st.embIn = emb
		st.embMu, st.embRs = make([]T, n), make([]T, n)
		x = make([]T, n*d)
		layerNorm(m.workers(), emb, n, d, m.EmbLNG.W, m.EmbLNB.W, cfg.LayerNormEps, x, st.embMu, st.embRs)
	}
	st.embDrp = dropoutMask[T](m.workers(), n*d, cfg.HiddenDropoutProb, st.opts.Seed, 0)
	if st.embDrp != nil {
		applyMask(m.workers(), x, st.embDrp)
	}
	for l := range m.Layers {
		c := m.layerForward(l, x, st.mask, st.opts)
		if st.opts.Train {
			if st.opts.Checkpoint {
				// Keep the inputs of the two blocks only; the backward
				// pass recomputes one block at a time.
				st.layers = append(st.layers, &layerCache[T]{x: x, y1: c.y1})
			} else {
				st.layers = append(st.layers, c)
			}
		}
		x = c.out
	}
	st.Hidden = x
	return st, nil
}

// dropoutMask returns a mask of 0 and 1/(1−p) for n values drawn from
// (seed, stream), or nil when p is 0. Each value is a counter-based hash
// of its index, so that the cores draw their parts independently.
func dropoutMask[T Float](workers, n int, p float64, seed, stream uint64) []T {
	if p == 0 {
		return nil
	}
	key := mix64(seed ^ mix64(stream+0x2545f4914f6cdd1d))
	threshold := uint64(p * (1 << 53))
	keep := T(1 / (1 - p))
	m := make([]T, n)
	forRows(workers, n, 1, func(_, lo, hi int) {
		for i := lo; i < hi; i++ {
			if mix64(key+uint64(i)*0x9e3779b97f4a7c15)>>11 >= threshold {
				m[i] = keep
			}
		}
	})
	return m
}

// applyMask multiplies x by mask, on workers goroutines.
func applyMask[T Float](workers int, x, mask []T) {
	forRows(workers, len(x), 1, func(_, lo, hi int) {
		xr := x[lo:hi]
		for i, m := range mask[lo:hi] {
			xr[i] *= m
		}
	})
}

// layerForward runs layer l on x and returns its activations and output.
func (m *Model[T]) layerForward(l int, x []T, mask []int8, opts Options) *layerCache[T] {
	// With checkpointing the forward pass keeps no attention
	// probabilities: the backward pass recomputes them.
	c := m.attnForward(l, x, mask, opts, opts.Train && !opts.Checkpoint, false)
	m.ffnForward(l, c, opts, false)
	return c
}

// hasGlobal reports whether a mask has a global token.
func hasGlobal(mask []int8) bool {
	for _, v := range mask {
		if v == MaskGlobal {
			return true
		}
	}
	return false
}

// attnForward runs layer l's attention block on x: the projections (the
// global ones only when there are global tokens), the attention (keeping
// its probabilities when keep is set), the output projection, dropout, the
// residual and the first LayerNorm, whose output is c.y1. A recompute for
// the backward pass (checkpointing) skips the LayerNorm's output, which
// the backward pass does not read.
func (m *Model[T]) attnForward(l int, x []T, mask []int8, opts Options, keep, recompute bool) *layerCache[T] {
	cfg := &m.Config
	ly := &m.Layers[l]
	n, d := len(mask), cfg.HiddenSize
	c := &layerCache[T]{x: x}
	ds := []dense[T]{ly.Q, ly.K, ly.V}
	if ly.QG.W != nil && hasGlobal(mask) {
		ds = append(ds, ly.QG, ly.KG, ly.VG)
	}
	ys := make([][]T, len(ds))
	flops := 0.0
	for i, p := range ds {
		ys[i] = m.bufs.get(n * p.Out)
		flops += linearFLOPs(n, p.In, p.Out)
	}
	m.timed(OpProjections, flops, func() { linears(m.exec(), x, n, d, ds, ys) })
	c.q, c.k, c.v = ys[0], ys[1], ys[2]
	c.qg, c.kg, c.vg = c.q, c.k, c.v
	if len(ys) > 3 {
		c.qg, c.kg, c.vg = ys[3], ys[4], ys[5]
	}
	in := m.attnInput(l, c, mask, opts)
	c.a = m.bufs.get(n * d)
	m.timed(OpAttention, m.attnFLOPs(l, mask), func() { c.attn = Attention(in, c.a, keep) })
	h := m.bufs.get(n * d)
	m.timed(OpProjections, linearFLOPs(n, d, d), func() { linear(m.exec(), c.a, n, d, ly.AttnOut.W.W, ly.AttnOut.B.W, d, h) })
	c.h1 = h
	c.drop1, c.y1, c.mean1, c.rstd1 = m.addNorm(h, x, ly.LN1G, ly.LN1B, opts, uint64(2*l+1), !recompute)
	c.out = c.y1
	return c
}

// ffnForward runs layer l's feed-forward block on c.y1 and sets c.out (not
// in a recompute for the backward pass).
func (m *Model[T]) ffnForward(l int, c *layerCache[T], opts Options, recompute bool) {
	cfg := &m.Config
	if !cfg.FeedForward {
		c.out = c.y1
		return
	}
	ly := &m.Layers[l]
	d, I := cfg.HiddenSize, cfg.IntermediateSize
	n := len(c.y1) / d
	c.u = m.bufs.get(n * I)
	m.timed(OpFeedForward, linearFLOPs(n, d, I), func() { linear(m.exec(), c.y1, n, d, ly.Inter.W.W, ly.Inter.B.W, I, c.u) })
	m.timed(OpGELU, 0, func() {
		c.f = m.bufs.get(n * I)
		geluInto(m.workers(), c.f, c.u)
	})
	h2 := m.bufs.get(n * d)
	m.timed(OpFeedForward, linearFLOPs(n, I, d), func() { linear(m.exec(), c.f, n, I, ly.Out.W.W, ly.Out.B.W, d, h2) })
	c.h2 = h2
	c.drop2, c.out, c.mean2, c.rstd2 = m.addNorm(h2, c.y1, ly.LN2G, ly.LN2B, opts, uint64(2*l+2), !recompute)
}

// addNorm finishes a sublayer whose output is h: dropout (with a mask
// drawn from stream when training), the residual, then the LayerNorm when
// the config has it. h becomes the residual sum; addNorm returns the
// dropout mask and the normalized output with its statistics (the sum
// itself when there is no LayerNorm; nil when norm is false and there is).
func (m *Model[T]) addNorm(h, residual []T, g, b *Param[T], opts Options, stream uint64, norm bool) (drop, out, mean, rstd []T) {
	m.timed(OpNorm, 0, func() { drop, out, mean, rstd = m.addNormRun(h, residual, g, b, opts, stream, norm) })
	return drop, out, mean, rstd
}

func (m *Model[T]) addNormRun(h, residual []T, g, b *Param[T], opts Options, stream uint64, norm bool) (drop, out, mean, rstd []T) {
	cfg := &m.Config
	d := cfg.HiddenSize
	n := len(h) / d
	if opts.Train {
		drop = dropoutMask[T](m.workers(), n*d, cfg.HiddenDropoutProb, opts.Seed, stream)
	}
	if !cfg.LayerNorm {
		residualNorm(m.workers(), h, residual, drop, n, d, nil, nil, 0, nil, nil, nil)
		return drop, h, nil, nil
	}
	mean, rstd = make([]T, n), make([]T, n)
	if norm {
		out = m.bufs.get(n * d)
	}
	residualNorm(m.workers(), h, residual, drop, n, d, g.W, b.W, cfg.LayerNormEps, out, mean, rstd)
	return drop, out, mean, rstd
}

// attnInput gathers layer l's attention input, with the attention
// dropout of a training pass (stream 1000+l of opts.Seed).
func (m *Model[T]) attnInput(l int, c *layerCache[T], mask []int8, opts Options) *AttnInput[T] {
	cfg := &m.Config
	in := &AttnInput[T]{Q: c.q, K: c.k, V: c.v, QG: c.qg, KG: c.kg, VG: c.vg, Mask: mask,
		N: len(mask), Heads: cfg.NumAttentionHeads, HeadDim: cfg.HeadDim(), HalfWindow: cfg.Window(l) / 2, Threads: m.Threads, BF16: m.Precision == BF16, bufs: m.bufs}
	if opts.Train {
		in.Dropout, in.Seed, in.Stream = cfg.AttentionProbsDropoutProb, opts.Seed, uint64(1000+l)
	}
	return in
}

// inferChunk is the number of rows the inference path pushes through the
// feed-forward block at a time.
const inferChunk = 512

// infer is the forward pass without training: it keeps no activations,
// reuses one set of buffers across the layers (n·d each: the hidden
// states, Q, K, V, the attention output and the sublayer sum, plus the
// global K, V and Q rows when there are global tokens) and runs the
// feed-forward block in chunks of rows, so that its memory is about
// 6·n·d values however deep the model, and no n × intermediate array
// exists. It overwrites emb, which becomes the final hidden states.
func (m *Model[T]) infer(st *State[T], x []T) {
	cfg := &m.Config
	n, d, I := st.N, cfg.HiddenSize, cfg.IntermediateSize
	mu, rs := make([]T, n), make([]T, n)
	if cfg.LayerNorm {
		layerNorm(m.workers(), x, n, d, m.EmbLNG.W, m.EmbLNB.W, cfg.LayerNormEps, x, mu, rs)
	}
	var globals []int
	for i, v := range st.mask {
		if v == MaskGlobal {
			globals = append(globals, i)
		}
	}
	// The arrays come from the model's pool (each pass writes all of
	// them before it reads them) and go back to it at the end, all but
	// the output.
	b := m.bufs
	q, k, v, a, h := b.get(n*d), b.get(n*d), b.get(n*d), b.get(n*d), b.get(n*d)
	var qg, kg, vg []T
	if len(globals) > 0 && m.Layers[0].QG.W != nil {
		qg, kg, vg = b.get(n*d), b.get(n*d), b.get(n*d)
	}
	xg, yg := make([]T, len(globals)*d), make([]T, len(globals)*d)
	// In bf16 the chunks are 4× longer: each chunk packs the weights for
	// the tile unit anew.
	chunk := inferChunk
	if m.Precision == BF16 {
		chunk *= 4
	}
	u := b.get(min(n, chunk) * I)
	for l := range m.Layers {
		ly := &m.Layers[l]
		m.timed(OpProjections, 3*linearFLOPs(n, d, d), func() {
			linears(m.exec(), x, n, d, []dense[T]{ly.Q, ly.K, ly.V}, [][]T{q, k, v})
		})
		in := &AttnInput[T]{Q: q, K: k, V: v, QG: q, KG: k, VG: v, Mask: st.mask, N: n,
			Heads: cfg.NumAttentionHeads, HeadDim: cfg.HeadDim(), HalfWindow: cfg.Window(l) / 2, Threads: m.Threads, BF16: m.Precision == BF16}
		if qg != nil {
			m.timed(OpProjections, 2*linearFLOPs(n, d, d)+linearFLOPs(len(globals), d, d), func() {
				linears(m.exec(), x, n, d, []dense[T]{ly.KG, ly.VG}, [][]T{kg, vg})
				// Global queries only for the global rows.
				for r, i := range globals {
					copy(xg[r*d:(r+1)*d], x[i*d:(i+1)*d])
				}
				linear(m.exec(), xg, len(globals), d, ly.QG.W.W, ly.QG.B.W, d, yg)
				for r, i := range globals {
					copy(qg[i*d:(i+1)*d], yg[r*d:(r+1)*d])
				}
			})
			in.QG, in.KG, in.VG = qg, kg, vg
		}
		m.timed(OpAttention, m.attnFLOPs(l, st.mask), func() { Attention(in, a, false) })
		m.timed(OpProjections, linearFLOPs(n, d, d), func() { linear(m.exec(), a, n, d, ly.AttnOut.W.W, ly.AttnOut.B.W, d, h) })
		m.timed(OpNorm, 0, func() {
			if cfg.LayerNorm {
				residualNorm(m.workers(), h, x, nil, n, d, ly.LN1G.W, ly.LN1B.W, cfg.LayerNormEps, h, mu, rs)
			} else {
				residualNorm(m.workers(), h, x, nil, n, d, nil, nil, 0, nil, nil, nil)
			}
		})
		if !cfg.FeedForward {
			x, h = h, x
			continue
		}
		// x is free: the feed-forward output goes there, chunk by chunk.
		for r0 := 0; r0 < n; r0 += chunk {
			r1 := min(n, r0+chunk)
			rows := r1 - r0
			uc := u[:rows*I]
			m.timed(OpFeedForward, linearFLOPs(rows, d, I), func() { linear(m.exec(), h[r0*d:r1*d], rows, d, ly.Inter.W.W, ly.Inter.B.W, I, uc) })
			m.timed(OpGELU, 0, func() { geluInto(m.workers(), uc, uc) })
			out := x[r0*d : r1*d]
			m.timed(OpFeedForward, linearFLOPs(rows, I, d), func() { linear(m.exec(), uc, rows, I, ly.Out.W.W, ly.Out.B.W, d, out) })
			m.timed(OpNorm, 0, func() {
				if cfg.LayerNorm {
					residualNorm(m.workers(), out, h[r0*d:r1*d], nil, rows, d, ly.LN2G.W, ly.LN2B.W, cfg.LayerNormEps, out, mu[r0:r1], rs[r0:r1])
				} else {
					residualNorm(m.workers(), out, h[r0*d:r1*d], nil, rows, d, nil, nil, 0, nil, nil, nil)
				}
			})
		}
	}
	st.Hidden = x
	b.put([][]T{x}, q, k, v, a, h, qg, kg, vg, u)
	b.trim()
}
