package train

import "math"

// PipelineAnswer is the answer transformers' question-answering pipeline
// picks: the window, its tokens, the byte range of the context they
// stand for (widened to whole words) and the score.
type PipelineAnswer struct {
	Window     int // index into the windows
	Tokens     [2]int
	Start, End int // byte range in the context
	// Score is the product of the start and end probabilities of the
	// span, each a softmax over the window's context tokens and <s>.
	Score float64
	// Logits is the span's start + end logit.
	Logits float64
}

// PipelineBest decodes QA logits as transformers' question-answering
// pipeline does (select_starts_ends and decode_spans, top_k 1, no
// impossible answer, align_to_words): in each window, start and end
// logits outside the context (but on <s>) are set to -10000, each is
// turned into probabilities by a softmax over the window, <s>'s are
// zeroed, and the span start ≤ end < start+maxAnswerLen with the largest
// product of probabilities is the window's candidate, kept when both its
// tokens are in the context (or <s>); the best-scoring candidate over the
// windows wins, the first on a tie. Its characters run from the start of
// the start token's word to the end of the end token's word, as far as
// the window holds those words. ok is false when no window has a
// candidate.
func PipelineBest(windows []Feature, logits [][2][]float32, maxAnswerLen int) (best PipelineAnswer, ok bool) {
	best.Score = math.Inf(-1)
	for k, f := range windows {
		n := len(f.IDs)
		allowed := func(i int) bool { return f.IDs[i] == f.IDs[0] || (i >= f.CtxStart && i < f.CtxStart+len(f.Offsets)) }
		probs := func(l []float32) []float64 {
			p := make([]float64, n)
			m := math.Inf(-1)
			for i := range n {
				p[i] = -10000
				if allowed(i) {
					p[i] = float64(l[i])
				}
				m = math.Max(m, p[i])
			}
			var sum float64
			for i := range p {
				p[i] = math.Exp(p[i] - m)
				sum += p[i]
			}
			for i := range p {
				p[i] /= sum
			}
			p[0] = 0
			return p
		}
		ps, pe := probs(logits[k][0]), probs(logits[k][1])
		bs, bi, bj := -1.0, 0, 0
		for i := range n {
			for j := i; j < min(n, i+maxAnswerLen); j++ {
				if s := ps[i] * pe[j]; s > bs {
					bs, bi, bj = s, i, j
				}
			}
		}
		// A candidate on a token outside the context, or on <s>, is
		// dropped (the pipeline's desired_spans).
		if bi < f.CtxStart || bj >= f.CtxStart+len(f.Offsets) || !(bs > best.Score) {
			continue
		}
		best = PipelineAnswer{Window: k, Tokens: [2]int{bi, bj}, Score: bs,
			Logits: float64(logits[k][0][bi]) + float64(logits[k][1][bj])}
		best.Start, best.End = f.Offsets[bi-f.CtxStart][0], f.Offsets[bj-f.CtxStart][1]
		if f.Words != nil {
			best.Start = wordSpan(f, f.Words[bi-f.CtxStart])[0]
			best.End = wordSpan(f, f.Words[bj-f.CtxStart])[1]
		}
		ok = true
	}
	return best, ok
}

// wordSpan returns the byte range of a word's tokens in a window.
func wordSpan(f Feature, word int) [2]int {
	span := [2]int{-1, -1}
	for i, w := range f.Words {
		if w != word {
			continue
		}
		if span[0] < 0 {
			span[0] = f.Offsets[i][0]
		}
		span[1] = f.Offsets[i][1]
	}
	return span
}
