package serve_test

import (
	"math"
	"testing"

	"github.com/olc-toolkit/olc/internal/qafixture"
	"github.com/olc-toolkit/olc/model"
	"github.com/olc-toolkit/olc/serve"
	"github.com/olc-toolkit/olc/train"
)

// TestAskAHuggingFaceCheckpoint: with a checkpoint that comes with a
// Hugging Face tokenizer, /qa/ask answers as transformers'
// question-answering pipeline does, in its windows
// (model/testdata/parity/qa-pipeline: the reference's answers).
func TestAskAHuggingFaceCheckpoint(t *testing.T) {
	dir, cases := qafixture.Load(t)
	lf, err := train.LoadLongformer(dir, model.HeadQA, false)
	if err != nil {
		t.Fatal(err)
	}
	ts := newServer(t, serve.Options{Model: lf, Tokenizer: lf.Tok, ModelPath: dir})
	tok := ts.user("ada")
	for _, c := range cases[:2] {
		_, doc := ts.upload(tok, "doc.txt", []byte(c.Context))
		var a struct {
			Answer        string
			Confidence    float64
			Start, End    int
			Windows       int
			ContextLength int `json:"context_length"`
		}
		r := ts.do("POST", "/api/v1/qa/ask", tok, map[string]any{"question": c.Question, "doc_id": doc.DocID})
		r.json(t, &a)
		if r.Status != 200 || a.Answer != c.Answer.Answer || a.Start != c.Answer.Start || a.End != c.Answer.End ||
			a.Windows != len(c.Windows) || a.ContextLength != 128 || math.Abs(a.Confidence-c.Answer.Score) > 1e-5*c.Answer.Score {
			t.Errorf("%q: %d %+v, the pipeline's %+v in %d windows of 128 tokens", c.Question, r.Status, a, c.Answer, len(c.Windows))
		}
	}
}
