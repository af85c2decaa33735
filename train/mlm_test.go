package train

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/olc-toolkit/olc/model"
)

// TestMLMRun trains a tiny masked-LM on repetitive text: the training
// loss falls well below the uniform guess, the held-out perplexity is
// finite and below the vocabulary size, and PerplexityByLength scores
// every length asked for.
func TestMLMRun(t *testing.T) {
	dir := t.TempDir()
	text := strings.Repeat("the cat sat on the mat. the dog ate the log. ", 150)
	if err := os.WriteFile(filepath.Join(dir, "a.txt"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := `
[model]
hidden_size = 16
num_hidden_layers = 1
num_attention_heads = 2
intermediate_size = 32
attention_window = 8
max_position_embeddings = 140
hidden_dropout_prob = 0.0
attention_probs_dropout_prob = 0.0
[data]
text_files = ["a.txt"]
held_out = 0.1
[optimizer]
lr = 1e-2
[schedule]
decay = "constant"
warmup = 0
[train]
task = "mlm"
steps = 60
batch = 4
eval_every = 0
checkpoint_every = 0
[output]
name = "mlm"
dir = "runs"
`
	c, err := ParseConfig(filepath.Join(dir, "train.toml"), []byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(c)
	if err != nil {
		t.Fatal(err)
	}
	res, err := tr.Run(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	uniform := math.Log(260)
	last := 0.0
	for _, l := range res.Losses[len(res.Losses)-10:] {
		last += l / 10
	}
	t.Logf("loss %.3f → %.3f (uniform %.3f); held-out perplexity %.2f", res.Losses[0], last, uniform, res.Eval.Perplexity)
	if !(last < uniform/2) {
		t.Errorf("mean loss of the last 10 steps %.3f, uniform guessing %.3f", last, uniform)
	}
	if p := res.Eval.Perplexity; !(p > 1 && p < 20) {
		t.Errorf("held-out perplexity %g", p)
	}
	rows, err := PerplexityByLength(context.Background(), tr.Model, model.ByteTokenizer{}, text[:3000], []int{32, 64, 128}, 0.15, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		if r.Length != []int{32, 64, 128}[i] || r.Masked == 0 || math.IsNaN(r.Perplexity) || r.Sequences != 3000/(r.Length-2) {
			t.Errorf("row %+v", r)
		}
	}
	if _, err := PerplexityByLength(context.Background(), tr.Model, model.ByteTokenizer{}, text, []int{1000}, 0.15, 1, 1); err == nil {
		t.Error("a length beyond the model's was accepted")
	}
}
