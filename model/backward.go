package model

import (
	"fmt"
	"runtime"
)

// QALogits returns the start and end logits of every token.
func (m *Model[T]) QALogits(st *State[T]) (start, end []T) {
	n, d := st.N, m.Config.HiddenSize
	y := make([]T, n*2)
	linear(m.exec(), st.Hidden, n, d, m.QA.W.W, m.QA.B.W, 2, y)
	start, end = make([]T, n), make([]T, n)
	for i := range n {
		start[i], end[i] = y[2*i], y[2*i+1]
	}
	return start, end
}

// QALoss returns the question-answering loss, the mean of the start and
// end cross-entropies over the sequence's positions. After a Train forward
// pass it also accumulates the QA head's gradients and returns the
// gradient of the hidden states.
func (m *Model[T]) QALoss(st *State[T], startPos, endPos int) (T, []T, error) {
	n, d := st.N, m.Config.HiddenSize
	if startPos < 0 || startPos >= n || endPos < 0 || endPos >= n {
		return 0, nil, fmt.Errorf("model: answer span [%d, %d] outside the %d tokens", startPos, endPos, n)
	}
	start, end := m.QALogits(st)
	if !st.opts.Train {
		return (softmaxCE(start, startPos, 0, nil) + softmaxCE(end, endPos, 0, nil)) / 2, nil, nil
	}
	gs, ge := make([]T, n), make([]T, n)
	loss := (softmaxCE(start, startPos, 0.5, gs) + softmaxCE(end, endPos, 0.5, ge)) / 2
	dy := make([]T, n*2)
	for i := range n {
		dy[2*i], dy[2*i+1] = gs[i], ge[i]
	}
	dh := linearBackward(m.exec(), st.Hidden, n, d, m.QA.W.W, 2, dy, m.QA.W.G, m.QA.B.G, nil)
	return loss, dh, nil
}

// MLMLoss returns the masked-language-modelling loss, the mean
// cross-entropy over the positions whose label is not negative (the
// decoder tied to the word embeddings) and the number of such positions.
// After a Train forward pass it also accumulates the head's and the word
// embeddings' gradients and returns the gradient of the hidden states.
func (m *Model[T]) MLMLoss(st *State[T], labels []int) (T, int, []T, error) {
	cfg := &m.Config
	n, d, V := st.N, cfg.HiddenSize, cfg.VocabSize
	if len(labels) != n {
		return 0, 0, nil, fmt.Errorf("model: %d labels for %d tokens", len(labels), n)
	}
	var rows []int
	for i, l := range labels {
		if l >= V {
			return 0, 0, nil, fmt.Errorf("model: label %d at token %d is outside the vocabulary", l, i)
		}
		if l >= 0 {
			rows = append(rows, i)
		}
	}
	dh := make([]T, n*d)
	k := len(rows)
	if k == 0 {
		return 0, 0, dh, nil
	}
	x := make([]T, k*d)
	for r, i := range rows {
		copy(x[r*d:(r+1)*d], st.Hidden[i*d:(i+1)*d])
	}
	h := m.lmForward(x, k)
	u, g, z, mu, rs, logits := h.u, h.g, h.z, h.mu, h.rs, h.logits
	var loss T
	scale := 1 / T(k)
	if !st.opts.Train {
		for r, i := range rows {
			loss += softmaxCE(logits[r*V:(r+1)*V], labels[i], 0, nil)
		}
		return loss * scale, k, nil, nil
	}
	dl := make([]T, k*V)
	for r, i := range rows {
		loss += softmaxCE(logits[r*V:(r+1)*V], labels[i], scale, dl[r*V:(r+1)*V])
	}
	loss *= scale
	// Back through the tied decoder, the LayerNorm, GELU and the dense.
	for r := range k {
		axpy(1, dl[r*V:(r+1)*V], m.LMBias.G)
	}
	gemm(m.exec(), true, false, V, d, k, 1, dl, V, z, d, 1, m.Word.G, d)
	dz := make([]T, k*d)
	gemm(m.exec(), false, false, k, d, V, 1, dl, V, m.Word.W, d, 0, dz, d)
	dg, _ := layerNormBackward(m.workers(), g, k, d, m.LMLNG.W, mu, rs, dz, m.LMLNG.G, m.LMLNB.G, nil, nil, nil)
	geluBackward(m.workers(), u, dg)
	dx := linearBackward(m.exec(), x, k, d, m.LMDense.W.W, d, dg, m.LMDense.W.G, m.LMDense.B.G, nil)
	for r, i := range rows {
		copy(dh[i*d:(i+1)*d], dx[r*d:(r+1)*d])
	}
	return loss, k, dh, nil
}

// lmPass holds the masked-LM head's forward pass over k rows: the dense
// layer's output u, its GELU g, the LayerNorm's output z with its means
// and reciprocal deviations, and the logits (k × vocab_size).
type lmPass[T Float] struct {
	u, g, z, mu, rs, logits []T
}

// lmForward runs the masked-LM head (dense, GELU, LayerNorm, the decoder
// tied to the word embeddings, its bias) over k hidden states x.
func (m *Model[T]) lmForward(x []T, k int) lmPass[T] {
	cfg := &m.Config
	d, V := cfg.HiddenSize, cfg.VocabSize
	p := lmPass[T]{u: make([]T, k*d), g: make([]T, k*d), z: make([]T, k*d), mu: make([]T, k), rs: make([]T, k), logits: make([]T, k*V)}
	linear(m.exec(), x, k, d, m.LMDense.W.W, m.LMDense.B.W, d, p.u)
	geluInto(m.workers(), p.g, p.u)
	layerNorm(m.workers(), p.g, k, d, m.LMLNG.W, m.LMLNB.W, cfg.LayerNormEps, p.z, p.mu, p.rs)
	for r := range k {
		copy(p.logits[r*V:(r+1)*V], m.LMBias.W)
	}
	gemm(m.exec(), false, true, k, V, d, 1, p.z, d, m.Word.W, d, 1, p.logits, V)
	return p
}

// LMLogits returns the masked-LM head's logits of every token (n ×
// vocab_size), LongformerForMaskedLM's prediction scores.
func (m *Model[T]) LMLogits(st *State[T]) []T {
	return m.lmForward(st.Hidden, st.N).logits
}

// Backward accumulates the gradients of every encoder parameter given the
// gradient dHidden of the final hidden states, and returns the gradient
// with respect to the input (word) embeddings. The state must come from a
// Train forward pass, and Backward consumes it: the arrays it kept go to
// the next training pass, and only its Hidden stays readable.
func (m *Model[T]) Backward(st *State[T], dHidden []T) ([]T, error) {
	cfg := &m.Config
	if !st.opts.Train || len(st.layers) != len(m.Layers) {
		return nil, fmt.Errorf("model: Backward needs the state of a forward pass with Train, not yet gone back through")
	}
	n, d := st.N, cfg.HiddenSize
	dy := dHidden
	// done hands a finished block's arrays to the next pass, all but the
	// state's output, the caller's gradient and the one going down.
	done := func(c *layerCache[T]) { m.bufs.put([][]T{st.Hidden, dHidden, dy}, c.arrays()...) }
	for l := len(m.Layers) - 1; l >= 0; l-- {
		c := st.layers[l]
		if !st.opts.Checkpoint {
			dy = m.layerBackward(l, c, st.mask, dy, st.opts)
			done(c)
			continue
		}
		// Recompute and go back through one block at a time, so that only
		// one block's activations exist at once.
		f := &layerCache[T]{y1: c.y1}
		m.ffnForward(l, f, st.opts, true)
		dy = m.ffnBackward(l, f, dy)
		// Checkpointing trades time for memory: collect each block's
		// activations before recomputing the next, so that garbage does
		// not take the place of what was saved. (They do not go to the
		// pool, which would keep the feed-forward block's arrays while
		// the attention block's are made.)
		f = nil
		runtime.GC()
		a := m.attnForward(l, c.x, st.mask, st.opts, true, true)
		dy = m.attnBackward(l, a, st.mask, dy, st.opts)
		a = nil
		runtime.GC()
	}
	st.layers = nil
	defer m.bufs.trim()
	if st.embDrp != nil {
		applyMask(m.workers(), dy, st.embDrp)
	}
	demb := dy
	if cfg.LayerNorm {
		demb, _ = layerNormBackward(m.workers(), st.embIn, n, d, m.EmbLNG.W, st.embMu, st.embRs, dy, m.EmbLNG.G, m.EmbLNB.G, nil, nil, nil)
		m.bufs.put([][]T{st.Hidden, dHidden, demb}, dy, st.embIn)
	}
	for i, id := range st.ids {
		row := demb[i*d : (i+1)*d]
		axpy(1, row, m.Word.G[id*d:(id+1)*d])
		p := st.pos[i]
		axpy(1, row, m.Pos.G[p*d:(p+1)*d])
		axpy(1, row, m.Type.G[:d])
	}
	return demb, nil
}

// layerBackward accumulates layer l's parameter gradients and returns the
// gradient of its input.
func (m *Model[T]) layerBackward(l int, c *layerCache[T], mask []int8, dout []T, opts Options) []T {
	return m.attnBackward(l, c, mask, m.ffnBackward(l, c, dout), opts)
}

// ffnBackward goes back through the feed-forward block and returns the
// gradient of its input y1.
func (m *Model[T]) ffnBackward(l int, c *layerCache[T], dout []T) []T {
	cfg := &m.Config
	if !cfg.FeedForward {
		return dout
	}
	ly := &m.Layers[l]
	d, I := cfg.HiddenSize, cfg.IntermediateSize
	n := len(c.y1) / d
	dh2, dffn := m.addNormBackward(c.h2, c.mean2, c.rstd2, ly.LN2G, ly.LN2B, c.drop2, dout)
	df := m.bufs.get(n * I)
	m.timed(OpFeedForwardBack, 2*linearFLOPs(n, I, d), func() {
		linearBackwardTo(m.exec(), c.f, n, I, ly.Out.W.W, d, dffn, ly.Out.W.G, ly.Out.B.G, df, 0)
	})
	m.timed(OpGELUBack, 0, func() { geluBackward(m.workers(), c.u, df) })
	dy1 := dh2 // the residual; dh2 is not used again
	m.timed(OpFeedForwardBack, 2*linearFLOPs(n, d, I), func() {
		linearBackward(m.exec(), c.y1, n, d, ly.Inter.W.W, I, df, ly.Inter.W.G, ly.Inter.B.G, dy1)
	})
	c.dead = append(c.dead, dout, dffn, df)
	return dy1
}

// attnBackward goes back through the attention block and returns the
// gradient of the layer's input.
func (m *Model[T]) attnBackward(l int, c *layerCache[T], mask []int8, dy1 []T, opts Options) []T {
	cfg := &m.Config
	ly := &m.Layers[l]
	n, d := len(mask), cfg.HiddenSize
	dh1, dattn := m.addNormBackward(c.h1, c.mean1, c.rstd1, ly.LN1G, ly.LN1B, c.drop1, dy1)
	da := m.bufs.get(n * d)
	m.timed(OpProjectionsBack, 2*linearFLOPs(n, d, d), func() {
		linearBackwardTo(m.exec(), c.a, n, d, ly.AttnOut.W.W, d, dattn, ly.AttnOut.W.G, ly.AttnOut.B.G, da, 0)
	})
	var g *AttnGrad[T]
	m.timed(OpAttentionBack, 2*m.attnFLOPs(l, mask), func() { g = AttentionBackward(m.attnInput(l, c, mask, opts), c.attn, da) })
	// The cache is consumed: its arrays go back to the pool with the
	// gradients once the layer is done.
	c.dead = append(c.dead, dy1, dattn, da, c.attn.probs, c.attn.gl, c.attn.gq, g.Q, g.K, g.V, g.QG, g.KG, g.VG)
	c.attn = nil
	separate := ly.QG.W != nil && g.QG != nil && &c.qg[0] != &c.q[0]
	if g.QG != nil && !separate {
		// Shared projections: the global queries, keys and values are the
		// local ones.
		axpy(1, g.QG, g.Q)
		axpy(1, g.KG, g.K)
		axpy(1, g.VG, g.V)
	}
	dx := dh1 // the residual; dh1 is not used again
	m.timed(OpProjectionsBack, 6*linearFLOPs(n, d, d), func() {
		linearBackward(m.exec(), c.x, n, d, ly.Q.W.W, d, g.Q, ly.Q.W.G, ly.Q.B.G, dx)
		linearBackward(m.exec(), c.x, n, d, ly.K.W.W, d, g.K, ly.K.W.G, ly.K.B.G, dx)
		linearBackward(m.exec(), c.x, n, d, ly.V.W.W, d, g.V, ly.V.W.G, ly.V.B.G, dx)
	})
	if separate {
		m.timed(OpProjectionsBack, 6*linearFLOPs(n, d, d), func() {
			linearBackward(m.exec(), c.x, n, d, ly.QG.W.W, d, g.QG, ly.QG.W.G, ly.QG.B.G, dx)
			linearBackward(m.exec(), c.x, n, d, ly.KG.W.W, d, g.KG, ly.KG.W.G, ly.KG.B.G, dx)
			linearBackward(m.exec(), c.x, n, d, ly.VG.W.W, d, g.VG, ly.VG.W.G, ly.VG.B.G, dx)
		})
	}
	return dx
}

// addNormBackward goes back through addNorm: it returns the gradient of
// the residual sum (which is also the residual's) and that of the
// sublayer's output (through the dropout mask).
func (m *Model[T]) addNormBackward(sum, mean, rstd []T, g, b *Param[T], drop, dout []T) (dsum, dsub []T) {
	m.timed(OpNormBack, 0, func() {
		cfg := &m.Config
		if cfg.LayerNorm {
			d := cfg.HiddenSize
			var dm []T
			if drop != nil {
				dm = m.bufs.get(len(dout))
			}
			dsum, dsub = layerNormBackward(m.workers(), sum, len(sum)/d, d, g.W, mean, rstd, dout, g.G, b.G, drop, m.bufs.get(len(dout)), dm)
		} else {
			dsum = dout
			if drop != nil {
				dsub = m.bufs.get(len(dout))
				copy(dsub, dout)
				applyMask(m.workers(), dsub, drop)
			}
		}
		// Without dropout the sublayer's gradient is the sum's: the
		// callers read dsub (into a new array) before they add into dsum.
		if drop == nil {
			dsub = dsum
		}
	})
	return dsum, dsub
}
