package train

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/olc-toolkit/olc/model"
)

// tinyRun builds a trainer for a tiny passkey run in dir, with dropout on
// so that resumption must reproduce the masks too.
func tinyRun(t *testing.T, dir string, extra string) *Trainer {
	t.Helper()
	cfg := fmt.Sprintf(`
[model]
hidden_size = 16
num_hidden_layers = 2
num_attention_heads = 2
intermediate_size = 32
attention_window = 8
max_position_embeddings = 220
hidden_dropout_prob = 0.1
attention_probs_dropout_prob = 0.1
[data]
task = "passkey"
lengths = "120-180"
n_train = 40
n_eval = 3
[optimizer]
lr = 3e-3
[schedule]
warmup = 2
[train]
steps = 6
batch = 4
accumulate = 2
eval_every = 3
checkpoint_every = 2
threads = 2
%s
[output]
name = "tiny"
dir = %q
`, extra, dir)
	c, err := ParseConfig(filepath.Join(dir, "train.toml"), []byte(cfg))
	if err != nil {
		t.Fatal(err)
	}
	tok := model.ByteTokenizer{}
	m := model.New[float32](c.Model)
	m.Init(c.Train.Seed)
	d, err := LoadData(c, tok)
	if err != nil {
		t.Fatal(err)
	}
	return &Trainer{Cfg: c, Tok: tok, Model: &Longformer{M: m}, Data: d}
}

func weights(m Model) []float32 {
	var w []float32
	for _, p := range m.Params() {
		w = append(w, p.W...)
	}
	return w
}

// TestResumeIsExact: a run stopped after step 3 (as by a crash) and
// resumed gives the same losses and the same final weights, bit for bit,
// as an uninterrupted run; so does one interrupted by its context.
func TestResumeIsExact(t *testing.T) {
	ctx := context.Background()
	a := tinyRun(t, t.TempDir(), "")
	ra, err := a.Run(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	if ra.Stopped != StopDone || ra.Steps != 6 || len(ra.Losses) != 6 {
		t.Fatalf("uninterrupted run: %+v", ra)
	}
	dir := t.TempDir()
	b := tinyRun(t, dir, "")
	b.Hooks.StopAfter = 3
	rb, err := b.Run(ctx, false)
	if err != nil || rb.Stopped != StopInterrupted || rb.Steps != 3 {
		t.Fatalf("stopped run: %+v, %v", rb, err)
	}
	if _, err := tinyRun(t, dir, "").Run(ctx, false); err == nil || !strings.Contains(err.Error(), "--resume") {
		t.Errorf("starting over a checkpoint without --resume: %v", err)
	}
	if _, err := tinyRun(t, dir, "seed = 2").Run(ctx, true); err == nil || !strings.Contains(err.Error(), "config differs") {
		t.Errorf("resuming with another seed: %v", err)
	}
	c := tinyRun(t, dir, "") // a fresh init, overwritten by the checkpoint
	rc, err := c.Run(ctx, true)
	if err != nil || !rc.Resumed || rc.Steps != 6 {
		t.Fatalf("resumed run: %+v, %v", rc, err)
	}
	if got := append(rb.Losses, rc.Losses...); !slices.Equal(got, ra.Losses) {
		t.Errorf("losses differ:\nresumed       %v\nuninterrupted %v", got, ra.Losses)
	}
	if !slices.Equal(weights(c.Model), weights(a.Model)) {
		t.Error("final weights differ from the uninterrupted run's")
	}
	// metrics.jsonl holds each step once.
	b2, _ := os.ReadFile(filepath.Join(dir, "tiny", "metrics.jsonl"))
	for s := 1; s <= 6; s++ {
		if n := strings.Count(string(b2), fmt.Sprintf(`{"step":%d,"loss"`, s)); n != 1 {
			t.Errorf("metrics.jsonl has step %d %d times", s, n)
		}
	}
	// An interruption through the context (Ctrl-C) saves a checkpoint too.
	dir = t.TempDir()
	d := tinyRun(t, dir, "")
	cctx, cancel := context.WithCancel(ctx)
	d.Hooks.Step = func(s StepInfo) {
		if s.Step == 2 {
			cancel()
		}
	}
	rd, err := d.Run(cctx, false)
	if err != nil || rd.Stopped != StopInterrupted || rd.Steps != 2 {
		t.Fatalf("interrupted run: %+v, %v", rd, err)
	}
	e := tinyRun(t, dir, "")
	if _, err := e.Run(ctx, true); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(weights(e.Model), weights(a.Model)) {
		t.Error("weights after an interruption and resumption differ")
	}
}

// TestCheckpointRoundTrip: weights, moments and state come back exactly.
func TestCheckpointRoundTrip(t *testing.T) {
	dir := t.TempDir()
	tr := tinyRun(t, dir, "")
	params := tr.Model.Params()
	opt := &adam{}
	for i, p := range params {
		m, v := make([]float32, p.Size()), make([]float32, p.Size())
		for j := range m {
			m[j], v[j] = float32(i)+float32(j)*1e-3, float32(j)*1e-7
		}
		opt.m, opt.v = append(opt.m, m), append(opt.v, v)
	}
	st := &trainState{Step: 17, Seconds: 3.5, Tokens: 1234, BadEvals: 1, Best: &EvalInfo{Step: 10, Exact: 40}, Signature: "sig"}
	ck := filepath.Join(dir, "ck")
	for range 2 { // the second save swaps the folders
		if err := saveCheckpoint(ck, tr.Model, opt, st); err != nil {
			t.Fatal(err)
		}
	}
	u := tinyRun(t, t.TempDir(), "seed = 9")
	opt2 := &adam{}
	for _, p := range u.Model.Params() {
		opt2.m, opt2.v = append(opt2.m, make([]float32, p.Size())), append(opt2.v, make([]float32, p.Size()))
	}
	got, err := loadCheckpoint(ck, u.Model.Params(), opt2)
	if err != nil {
		t.Fatal(err)
	}
	if got.Step != 17 || got.Tokens != 1234 || got.Best.Exact != 40 || got.Signature != "sig" {
		t.Errorf("state %+v", got)
	}
	if !slices.Equal(weights(u.Model), weights(tr.Model)) {
		t.Error("weights differ after the round trip")
	}
	for i := range opt.m {
		if !slices.Equal(opt.m[i], opt2.m[i]) || !slices.Equal(opt.v[i], opt2.v[i]) {
			t.Fatalf("moments of parameter %d differ", i)
		}
	}
	if ents, _ := os.ReadDir(dir); slices.ContainsFunc(ents, func(e os.DirEntry) bool {
		return strings.HasSuffix(e.Name(), ".new") || strings.HasSuffix(e.Name(), ".old")
	}) {
		t.Error("temporary checkpoint folders left behind")
	}
}

// TestTrainingLearns: a few dozen steps on one small batch of passkey
// examples drive the QA loss well down (the model, the optimizer and the
// labels fit together).
func TestTrainingLearns(t *testing.T) {
	tr := tinyRun(t, t.TempDir(), "")
	tr.Cfg.Train.Steps, tr.Cfg.Train.EvalEvery, tr.Cfg.Train.CkptEvery, tr.Cfg.Train.Accumulate = 40, 0, 0, 1
	tr.Cfg.Optimizer.LR, tr.Cfg.Schedule.Decay = 1e-2, "constant"
	tr.Data.Feats = tr.Data.Feats[:4]
	res, err := tr.Run(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	first, last := res.Losses[0], res.Losses[len(res.Losses)-1]
	t.Logf("loss %.3f → %.3f", first, last)
	if !(last < first/3) {
		t.Errorf("loss went from %.3f to %.3f in 40 steps on one batch", first, last)
	}
}

// TestAdamW checks one AdamW step against the formula by hand, with decay
// on a weight and none on a bias.
func TestAdamW(t *testing.T) {
	w := &model.Param[float32]{Name: "x.weight", W: []float32{1, -2}, G: []float32{0.5, -1}}
	b := &model.Param[float32]{Name: "x.bias", W: []float32{3}, G: []float32{2}}
	a := &adam{m: [][]float32{{0, 0}, {0}}, v: [][]float32{{0, 0}, {0}}}
	o := OptimizerConfig{LR: 0.1, WeightDecay: 0.5, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8}
	a.step([]*model.Param[float32]{w, b}, o, 0.1, 1, 1)
	// Step 1: m̂ = g, v̂ = g², so the Adam update is lr·sign(g) (ε aside);
	// decay subtracts lr·wd·w first.
	want := []float32{1 - 0.05*1 - 0.1, -2 - 0.05*-2 + 0.1, 3 - 0.1}
	got := []float32{w.W[0], w.W[1], b.W[0]}
	for i := range want {
		if d := got[i] - want[i]; d > 1e-6 || d < -1e-6 {
			t.Errorf("parameter %d = %g, want %g", i, got[i], want[i])
		}
	}
}

// Training from a checkpoint without the head of the run's task starts
// that head afresh and says so; loading it to answer questions is refused.
func TestInitWithoutTheHead(t *testing.T) {
	dir := t.TempDir()
	base := tinyRun(t, dir, "")
	tensors := map[string]model.Tensor{}
	for _, p := range base.Model.Params() {
		if !strings.HasPrefix(p.Name, "qa_outputs.") {
			tensors["longformer."+p.Name] = model.F32Tensor(p.Shape, p.W)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "base"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := model.WriteSafetensorsFile(filepath.Join(dir, "base", model.WeightsFile), tensors, nil); err != nil {
		t.Fatal(err)
	}
	js, _ := base.Model.(*Longformer).M.Config.JSON()
	if err := os.WriteFile(filepath.Join(dir, "base", model.ConfigFile), js, 0o644); err != nil {
		t.Fatal(err)
	}
	var mh *model.MissingHeadError
	if _, err := LoadLongformer(filepath.Join(dir, "base"), model.HeadQA, false); !errors.As(err, &mh) {
		t.Errorf("loading for QA: %v, want a *model.MissingHeadError", err)
	}
	c, err := ParseConfig(filepath.Join(dir, "train.toml"), []byte("[data]\ntask = \"passkey\"\nlengths = \"120-180\"\nn_train = 4\nn_eval = 1\n[train]\ninit = \"base\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(c)
	if err != nil {
		t.Fatal(err)
	}
	if fresh := tr.Model.(*Longformer).FreshHeads; !slices.Equal(fresh, []string{"qa_outputs.weight", "qa_outputs.bias"}) {
		t.Errorf("fresh heads %v", fresh)
	}
}

// TestInitFromAHuggingFaceFolder: train.init on a downloaded-style folder
// (config.json, model.safetensors, tokenizer.json) trains with the
// folder's RoBERTa tokenizer, not the byte tokenizer, and the model it
// writes carries that tokenizer, so that olc qa reads it the same way.
func TestInitFromAHuggingFaceFolder(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join("..", "model", "testdata", "parity", "qa-pipeline")
	for _, f := range []string{model.ConfigFile, model.WeightsFile, model.TokenizerFile, model.TokenizerConfigFile} {
		data, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(filepath.Join(dir, "hf"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "hf", f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c, err := ParseConfig(filepath.Join(dir, "train.toml"), []byte("[data]\ntask = \"passkey\"\nlengths = \"70-110\"\nstride = 32\nn_train = 8\nn_eval = 2\n[train]\ninit = \"hf\"\nsteps = 2\nbatch = 2\nthreads = 2\n[output]\nname = \"hf\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := NewTrainer(c)
	if err != nil {
		t.Fatal(err)
	}
	rt, ok := tr.Tok.(*model.Roberta)
	if !ok {
		t.Fatalf("the trainer tokenizes with %T", tr.Tok)
	}
	ex := tr.Data.Feats[0]
	if ex.IDs[0] != rt.BOS() || slices.Max(ex.IDs) < 260 {
		t.Errorf("a training window %v does not look like RoBERTa's ids", ex.IDs[:min(12, len(ex.IDs))])
	}
	res, err := tr.Run(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	lf, err := LoadLongformer(res.ModelDir, model.HeadQA, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := lf.Tok.(*model.Roberta); !ok {
		t.Fatalf("the trained model's tokenizer is %T", lf.Tok)
	}
}
