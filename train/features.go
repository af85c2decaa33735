package train

import (
	"fmt"

	"github.com/olc-toolkit/olc/model"
)

// Window sets how a question and its context become model inputs.
type Window struct {
	// MaxLen is the model input length in tokens (question, context and
	// four special tokens).
	MaxLen int
	// Stride is the overlap, in tokens, between consecutive windows of a
	// context too long for one (as the stride of Hugging Face's
	// tokenizers); 0 means no overlap.
	Stride int
	// MaxQuestion truncates questions to this many tokens (64 when 0).
	MaxQuestion int
	// Global puts global attention on <s> and the question, as the
	// released QA models do.
	Global bool
}

// Feature is one window of one example, ready for the model: <s> question
// </s></s> context-window </s>.
type Feature struct {
	Example  int // index of the example
	IDs      []int
	Mask     []int8
	CtxStart int // index of the first context token
	// Offsets are the byte ranges in the example's context of the tokens
	// from CtxStart on (the last token, </s>, has none).
	Offsets [][2]int
	// Words are the word indices of those tokens (nil for a tokenizer
	// without words).
	Words []int
	// Start and End are the answer's first and last tokens; both 0 (the
	// <s> token, as in Hugging Face's training) when the window does not
	// hold a whole answer or the question has none.
	Start, End int
}

// MakeFeatures tokenizes an example into windows covering its context.
// The first gold answer is the training label.
func MakeFeatures(tok model.Tokenizer, ex *Example, idx int, w Window) ([]Feature, error) {
	mq := w.MaxQuestion
	if mq == 0 {
		mq = 64
	}
	q := tok.Encode(ex.Question)
	if len(q.IDs) > mq {
		q.IDs, q.Offsets = q.IDs[:mq], q.Offsets[:mq]
	}
	c := tok.Encode(ex.Context)
	budget := w.MaxLen - len(q.IDs) - 4
	if budget < 1 {
		return nil, fmt.Errorf("train: a %d-token window has no room for the context after a %d-token question", w.MaxLen, len(q.IDs))
	}
	if w.Stride >= budget {
		return nil, fmt.Errorf("train: stride %d must be less than the %d context tokens of a window", w.Stride, budget)
	}
	span := [2]int{-1, -1}
	if !ex.IsImpossible && len(ex.Spans) > 0 {
		span = ex.Spans[0]
	}
	var out []Feature
	for lo := 0; ; lo += budget - w.Stride {
		hi := min(len(c.IDs), lo+budget)
		f := Feature{Example: idx}
		f.IDs = append(f.IDs, tok.BOS())
		f.IDs = append(f.IDs, q.IDs...)
		f.IDs = append(f.IDs, tok.EOS(), tok.EOS())
		f.CtxStart = len(f.IDs)
		f.IDs = append(f.IDs, c.IDs[lo:hi]...)
		f.IDs = append(f.IDs, tok.EOS())
		f.Offsets = append(f.Offsets, c.Offsets[lo:hi]...)
		if c.Words != nil {
			f.Words = c.Words[lo:hi]
		}
		f.Mask = make([]int8, len(f.IDs))
		for i := range f.Mask {
			f.Mask[i] = model.MaskLocal
			if w.Global && i < f.CtxStart-2 {
				f.Mask[i] = model.MaskGlobal
			}
		}
		if span[0] >= 0 {
			s, e := -1, -1
			for i, off := range f.Offsets {
				if s < 0 && off[1] > span[0] {
					s = i
				}
				if off[0] < span[1] {
					e = i
				}
			}
			// The window holds the answer when its first and last bytes
			// are inside.
			if s >= 0 && e >= s && f.Offsets[s][0] <= span[0] && f.Offsets[e][1] >= span[1] {
				f.Start, f.End = f.CtxStart+s, f.CtxStart+e
			}
		}
		out = append(out, f)
		if hi == len(c.IDs) {
			break
		}
	}
	return out, nil
}
