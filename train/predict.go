package train

import (
	"context"
	"maps"
	"math"
	"slices"
	"sync/atomic"

	"github.com/olc-toolkit/olc/internal/parallel"
	"github.com/olc-toolkit/olc/model"
)

// Prediction is a model's answer to one example.
type Prediction struct {
	ID   string
	Text string
	Span Span
}

// PredictResult holds the predictions of a data set and the mean QA loss
// of its labelled windows (the eval loss).
type PredictResult struct {
	Predictions []Prediction
	Loss        float64
	Windows     int
}

// Predict answers every example with the model, window by window, the
// best span over all windows winning; threads examples run at a time
// (QALogits must be safe for concurrent use, as inference on a Longformer
// is). It stops early when ctx is done. progress, when not nil, is called
// with the number of examples answered so far, from any goroutine.
func Predict(ctx context.Context, m Model, tok model.Tokenizer, examples []Example, w Window, dec Decoder, threads int, progress func(done, total int)) (*PredictResult, error) {
	var done atomic.Int64
	preds := make([]Prediction, len(examples))
	losses := make([]float64, len(examples))
	counts := make([]int, len(examples))
	errs := make([]error, len(examples))
	parallel.ForN(max(1, threads), len(examples), func(i int) {
		if errs[i] = ctx.Err(); errs[i] != nil {
			return
		}
		ex := &examples[i]
		feats, err := MakeFeatures(tok, ex, i, w)
		if err != nil {
			errs[i] = err
			return
		}
		logits := make([][2][]float32, len(feats))
		for k, f := range feats {
			s, e, err := m.QALogits(f.IDs, f.Mask)
			if err != nil {
				errs[i] = err
				return
			}
			logits[k] = [2][]float32{s, e}
			losses[i] += (crossEntropy(s, f.Start) + crossEntropy(e, f.End)) / 2
			counts[i]++
		}
		sp := dec.Best(feats, logits)
		text := ""
		if !sp.NoAnswer {
			text = ex.Context[sp.Start:sp.End]
		}
		preds[i] = Prediction{ID: ex.ID, Text: text, Span: sp}
		if progress != nil {
			progress(int(done.Add(1)), len(examples))
		}
	})
	if err := firstError(errs); err != nil {
		return nil, err
	}
	res := &PredictResult{Predictions: preds}
	for i := range losses {
		res.Loss += losses[i]
		res.Windows += counts[i]
	}
	if res.Windows > 0 {
		res.Loss /= float64(res.Windows)
	}
	return res, nil
}

// crossEntropy is −log softmax(logits)[label], in float64.
func crossEntropy(logits []float32, label int) float64 {
	mx := math.Inf(-1)
	for _, v := range logits {
		mx = math.Max(mx, float64(v))
	}
	var s float64
	for _, v := range logits {
		s += math.Exp(float64(v) - mx)
	}
	return mx + math.Log(s) - float64(logits[label])
}

// PredictionMap maps question ids to answer texts, the official
// predictions file's form.
func PredictionMap(preds []Prediction) map[string]string {
	m := make(map[string]string, len(preds))
	for _, p := range preds {
		m[p.ID] = p.Text
	}
	return m
}

// Cell is one (context length, depth) cell of an accuracy table.
type Cell struct {
	Length int     `json:"length"`
	Depth  float64 `json:"depth"`
	N      int     `json:"n"`
	Exact  float64 `json:"exact"` // percent
	F1     float64 `json:"f1"`    // percent
}

// Grid is accuracy by context length × needle depth, for synthetic tasks.
type Grid struct {
	Lengths []int     `json:"lengths"`
	Depths  []float64 `json:"depths"`
	Cells   []Cell    `json:"cells"` // row-major: length, then depth
}

// AccuracyGrid tabulates per-question scores by the examples' Meta:
// rows by nominal context length, each example in the row of the nearest
// of lengths, columns by needle depth, nearest of depths. Nil lengths are
// the data's distinct nominal lengths (rounded to 256 bytes when there
// are more than 12); nil depths its distinct depths, or 0, 0.1, …, 1 when
// there are more than 11. Examples without Meta are left out.
func AccuracyGrid(examples []Example, s Scores, lengths []int, depths []float64) Grid {
	if lengths == nil {
		set := map[int]bool{}
		for _, ex := range examples {
			if ex.Meta != nil {
				set[ex.Meta.Nominal] = true
			}
		}
		if len(set) > 12 {
			round := map[int]bool{}
			for l := range set {
				round[(l+128)/256*256] = true
			}
			set = round
		}
		lengths = slices.Sorted(maps.Keys(set))
	}
	if depths == nil {
		set := map[float64]bool{}
		for _, ex := range examples {
			if ex.Meta != nil {
				set[ex.Meta.Depth] = true
			}
		}
		if len(set) > 11 {
			depths = []float64{0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1}
		} else {
			depths = slices.Sorted(maps.Keys(set))
		}
	}
	g := Grid{Lengths: lengths, Depths: depths, Cells: make([]Cell, len(lengths)*len(depths))}
	if len(lengths) == 0 || len(depths) == 0 {
		return g
	}
	for i := range g.Cells {
		g.Cells[i].Length, g.Cells[i].Depth = lengths[i/len(depths)], depths[i%len(depths)]
	}
	nearest := func(x float64, xs []float64) int {
		best := 0
		for i, v := range xs {
			if math.Abs(v-x) < math.Abs(xs[best]-x) {
				best = i
			}
		}
		return best
	}
	lf := make([]float64, len(lengths))
	for i, l := range lengths {
		lf[i] = float64(l)
	}
	for _, ex := range examples {
		if ex.Meta == nil {
			continue
		}
		c := &g.Cells[nearest(float64(ex.Meta.Nominal), lf)*len(depths)+nearest(ex.Meta.Depth, depths)]
		sc := s.PerQuestion[ex.ID]
		c.N++
		c.Exact += sc[0]
		c.F1 += sc[1]
	}
	for i := range g.Cells {
		if c := &g.Cells[i]; c.N > 0 {
			c.Exact, c.F1 = 100*c.Exact/float64(c.N), 100*c.F1/float64(c.N)
		}
	}
	return g
}

// firstError returns the first non-nil error.
func firstError(errs []error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
