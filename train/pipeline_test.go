package train

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/olc-toolkit/olc/internal/qafixture"
	"github.com/olc-toolkit/olc/model"
)

// TestPipelineMatchesTransformers: a LongformerForQuestionAnswering folder
// with its RoBERTa tokenizer (model/testdata/parity/qa-pipeline, written
// by pipeline.py from the reference's modeling_longformer.py and the
// question-answering pipeline's own decoding functions) gives the
// pipeline's windows, logits and answer: the same windows token for
// token, logits to 1e-5, the same answer characters and its score to
// 1e-5 relative, on a one-window context, contexts of 11 and 12 windows
// and one with emoji and accents.
func TestPipelineMatchesTransformers(t *testing.T) {
	dir, cases := qafixture.Load(t)
	lf, err := LoadLongformer(dir, model.HeadQA, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := lf.Tok.(*model.Roberta); !ok {
		t.Fatalf("the folder's tokenizer is %T", lf.Tok)
	}
	for _, c := range cases {
		a, err := AnswerQuestion(context.Background(), lf, lf.Tok, c.Context, c.Question, QAOptions{Pipeline: true, Threads: 2})
		if err != nil {
			t.Fatal(err)
		}
		if a.Windows != len(c.Windows) {
			t.Errorf("%q: %d windows, the pipeline's %d", c.Question, a.Windows, len(c.Windows))
		}
		ex := Example{Question: c.Question, Context: c.Context}
		feats, err := MakeFeatures(lf.Tok, &ex, 0, Window{MaxLen: 128, Stride: 64, Global: true, MaxQuestion: 1 << 30})
		if err != nil {
			t.Fatal(err)
		}
		worst := 0.0
		for k, w := range c.Windows {
			if k >= len(feats) || !slices.Equal(feats[k].IDs, w.InputIDs) {
				t.Fatalf("%q: window %d differs from the pipeline's", c.Question, k)
			}
			s, e, err := lf.QALogits(feats[k].IDs, feats[k].Mask)
			if err != nil {
				t.Fatal(err)
			}
			for i := range s {
				worst = math.Max(worst, math.Max(math.Abs(float64(s[i])-w.StartLogits[i]), math.Abs(float64(e[i])-w.EndLogits[i])))
			}
		}
		if worst > 1e-5 {
			t.Errorf("%q: logits differ by %.3g", c.Question, worst)
		}
		if a.Answer != c.Answer.Answer || a.Start != c.Answer.Start || a.End != c.Answer.End {
			t.Errorf("%q: answer %q [%d, %d), the pipeline's %q [%d, %d)", c.Question, a.Answer, a.Start, a.End, c.Answer.Answer, c.Answer.Start, c.Answer.End)
		}
		if d := math.Abs(a.Confidence-c.Answer.Score) / c.Answer.Score; d > 1e-5 {
			t.Errorf("%q: score %.9g, the pipeline's %.9g", c.Question, a.Confidence, c.Answer.Score)
		}
		t.Logf("%q: %q [%d, %d) score %.6g (pipeline %.6g), %d windows, logits within %.2g", c.Question, a.Answer, a.Start, a.End, a.Confidence, c.Answer.Score, a.Windows, worst)
	}
}
