package train

import "math"

// Span is a decoded answer: byte offsets into the context, its score
// (start logit + end logit) and its probability.
type Span struct {
	Start, End int // byte range [Start, End) in the context
	Score      float64
	// Prob is the softmax probability of the span among the candidate
	// spans of its window (and, with AllowNoAnswer, that window's
	// no-answer score). Windows overlap, so a softmax over all windows
	// would count shared spans twice.
	Prob float64
	// NoAnswer is set when the no-answer score beat every span (only
	// with AllowNoAnswer).
	NoAnswer bool
	// NullScore is the lowest no-answer score (start and end logit of
	// <s>) over the windows.
	NullScore float64
}

// Decoder picks answers from QA logits.
type Decoder struct {
	// MaxAnswerLen is the longest answer, in tokens (30 when 0).
	MaxAnswerLen int
	// AllowNoAnswer lets the no-answer score win (SQuAD v2.0 style) when
	// it exceeds the best span's score by more than NullThreshold.
	AllowNoAnswer bool
	NullThreshold float64
	// SkipCutSpans leaves out the spans that touch an edge where a window
	// cuts the document (its first context token when it starts after the
	// document's start, its last when it ends before the document's end):
	// such a span may be the tail or head of a longer answer, cut mid-word,
	// which an overlapping window holds whole. It matters for tokenizers
	// that cut words (bytes); the reference decoding keeps them.
	SkipCutSpans bool
}

// Best returns the best span over an example's windows: start ≤ end, at
// most MaxAnswerLen tokens, both inside the context, scored by start +
// end logit, as the reference implementation decodes. logits[k] holds the
// start and end logits of windows[k].
func (d Decoder) Best(windows []Feature, logits [][2][]float32) Span {
	maxLen := d.MaxAnswerLen
	if maxLen == 0 {
		maxLen = 30
	}
	best := Span{Score: math.Inf(-1), NullScore: math.Inf(1)}
	bestLSE, nullLSE := 0.0, 0.0
	for k, f := range windows {
		st, en := logits[k][0], logits[k][1]
		null := float64(st[0]) + float64(en[0])
		n := len(f.Offsets)
		first, last := 0, n-1 // the span starts and ends allowed
		if d.SkipCutSpans && n > 0 {
			if f.Offsets[0][0] > 0 || k > 0 {
				first = 1
			}
			if k < len(windows)-1 && windows[k+1].Example == f.Example {
				last = n - 2
			}
		}
		wbest, wi, wj := math.Inf(-1), 0, 0
		for i := first; i < n; i++ {
			for j := i; j < min(last+1, i+maxLen); j++ {
				if s := float64(st[f.CtxStart+i]) + float64(en[f.CtxStart+j]); s > wbest {
					wbest, wi, wj = s, i, j
				}
			}
		}
		// The window's log-sum-exp over its candidates, shifted by its
		// largest for stability.
		m := wbest
		if d.AllowNoAnswer {
			m = math.Max(m, null)
		}
		var sum float64
		for i := first; i < n; i++ {
			for j := i; j < min(last+1, i+maxLen); j++ {
				sum += math.Exp(float64(st[f.CtxStart+i]) + float64(en[f.CtxStart+j]) - m)
			}
		}
		if d.AllowNoAnswer {
			sum += math.Exp(null - m)
		}
		lse := m + math.Log(sum)
		if null < best.NullScore {
			best.NullScore, nullLSE = null, lse
		}
		if wbest > best.Score {
			best.Score, best.Start, best.End = wbest, f.Offsets[wi][0], f.Offsets[wj][1]
			bestLSE = lse
		}
	}
	if d.AllowNoAnswer && (best.NullScore > best.Score+d.NullThreshold || math.IsInf(best.Score, -1)) {
		best.NoAnswer = true
		best.Prob = math.Exp(best.NullScore - nullLSE)
		best.Start, best.End = 0, 0
		return best
	}
	best.Prob = math.Exp(best.Score - bestLSE)
	return best
}
