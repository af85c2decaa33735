package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const tinyTrain = `
[model]
hidden_size = 16
num_hidden_layers = 2
num_attention_heads = 2
intermediate_size = 32
attention_window = 8
max_position_embeddings = 300
[data]
task = "passkey"
lengths = "150-250"
n_train = 30
n_eval = 4
[train]
steps = 4
batch = 2
eval_every = 2
checkpoint_every = 2
threads = 2
[output]
name = "tiny"
dir = "runs"
`

// TestTrainEvalQA runs the commands end to end at tiny scale: generate,
// train (JSON summary, metrics, model), resume, eval of a model and of a
// predictions file, qa over a document, and the bad inputs.
func TestTrainEvalQA(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "train.toml"), tinyTrain, 0o644)
	r := runOLC(t, dir, "data", "generate", "--task", "passkey", "--length", "200,260", "--depth", "0,0.5,1", "--n", "2", "--seed", "5", "--out", "test.json")
	if r.code != 0 || !strings.Contains(r.stderr, "wrote 12 questions to test.json") {
		t.Fatalf("generate: exit %d\n%s", r.code, r.stderr)
	}
	r = runOLC(t, dir, "train", "--config", "train.toml", "--json")
	if r.code != 0 {
		t.Fatalf("train: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var res struct {
		Steps   int
		Stopped string
		Eval    struct {
			Exact *float64 `json:"eval_exact"`
			Loss  float64  `json:"eval_loss"`
		}
		ModelDir string `json:"model_dir"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil || res.Steps != 4 || res.Stopped != "done" || res.Eval.Loss <= 0 || res.ModelDir != filepath.Join("runs", "tiny", "model") {
		t.Fatalf("train --json: %v\n%s", err, r.stdout)
	}
	m, _ := os.ReadFile(filepath.Join(dir, "runs", "tiny", "metrics.jsonl"))
	if lines := strings.Count(string(m), "\n"); lines != 4+2 { // 4 steps, evaluations at 2 and 4
		t.Errorf("metrics.jsonl has %d lines:\n%s", lines, m)
	}
	// More steps on resume.
	r = runOLC(t, dir, "train", "--config", "train.toml", "--resume", "--set", "train.steps=6")
	if r.code != 0 || !strings.Contains(r.stdout, "run tiny: 6 steps (done)") {
		t.Errorf("resume: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runOLC(t, dir, "eval", "--model", "runs/tiny/model", "--data", "test.json", "--json", "--plot", "heat.svg", "--write-predictions", "preds.json")
	var ev struct {
		Exact, F1 float64
		Total     int
		Grid      struct {
			Lengths []int
			Depths  []float64
			Cells   []struct{ N int }
		} `json:"by_length_depth"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &ev); r.code != 0 || err != nil || ev.Total != 12 || len(ev.Grid.Lengths) != 2 || len(ev.Grid.Depths) != 3 || ev.Grid.Cells[0].N != 2 {
		t.Fatalf("eval --model: exit %d, %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "heat.svg")); err != nil || !strings.Contains(string(b), "<svg") {
		t.Errorf("heat map: %v", err)
	}
	// Scoring the model's own predictions file gives the same figures.
	r2 := runOLC(t, dir, "eval", "--data", "test.json", "--predictions", "preds.json", "--json")
	var ev2 struct{ Exact, F1 float64 }
	if json.Unmarshal([]byte(r2.stdout), &ev2); r2.code != 0 || ev2.Exact != ev.Exact || ev2.F1 != ev.F1 {
		t.Errorf("eval --predictions: exit %d, %s (model: %g, %g)", r2.code, r2.stdout, ev.Exact, ev.F1)
	}
	// A perfect predictions file scores 100.
	writeFile(t, filepath.Join(dir, "gold.json"), goldPredictions(t, filepath.Join(dir, "test.json")), 0o644)
	r = runOLC(t, dir, "eval", "--data", "test.json", "--predictions", "gold.json")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "exact 100.00  f1 100.00  (12 questions)") {
		t.Errorf("gold predictions: %s%s", r.stdout, r.stderr)
	}
	writeFile(t, filepath.Join(dir, "doc.html"), "<html><body><p>"+strings.Repeat("The grass is green. ", 30)+"The pass key is 4242. Remember it.</p></body></html>", 0o644)
	r = runOLC(t, dir, "qa", "--model", "runs/tiny/model", "--doc", "doc.html", "--question", "What is the pass key?", "--json")
	var a struct {
		Answer         *string  `json:"answer"`
		Confidence     *float64 `json:"confidence"`
		ProcessingTime *float64 `json:"processing_time"`
		Windows        int
	}
	if err := json.Unmarshal([]byte(r.stdout), &a); r.code != 0 || err != nil || a.Answer == nil || a.Confidence == nil || a.ProcessingTime == nil || a.Windows < 2 {
		t.Errorf("qa: exit %d, %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	// Bad input: exit 2 with the file and key named.
	writeFile(t, filepath.Join(dir, "bad.toml"), "[train]\nbatchsize = 4\n", 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "--config", "bad.toml"}, "bad.toml:2: train.batchsize: unknown key"},
		{[]string{"train", "--config", "train.toml", "--set", "optimizer.lr=-1"}, "--set optimizer.lr=-1: must be > 0"},
		{[]string{"train", "--config", "train.toml", "--set", "optimizer.lr=abc"}, `--set optimizer.lr=abc: must be a number, got a string ("abc")`},
		{[]string{"train", "--config", "train.toml", "--set", "nosuch.key=1"}, "--set nosuch.key=1: unknown key; the sections are: model, data"},
		{[]string{"train", "--config", "train.toml", "--set", "optimizer.lr"}, "want section.key=value"},
		{[]string{"train", "--config", "train.toml"}, "pass --resume"},
		{[]string{"data", "generate", "--task", "sudoku", "--out", "x.json"}, "unknown task"},
		{[]string{"eval", "--data", "test.json"}, "give one of --model and --predictions"},
		{[]string{"eval", "--data", "missing.json", "--predictions", "preds.json"}, "missing.json"},
		{[]string{"qa", "--model", "runs/tiny/model", "--doc", "doc.html", "--question", "Q", "--context-length", "5000"}, "exceeds the model's"},
		{[]string{"qa", "--model", "runs/tiny/model", "--doc", "doc.html", "--question", "Q", "--context-length", "64", "--stride", "100"}, "a stride of 100 tokens must be less than the"},
		{[]string{"eval", "--model", "runs/tiny/model", "--text", "doc.html", "--lengths", "64"}, "was trained for LongformerForQuestionAnswering: its masked-LM head is untrained"},
	} {
		r := runOLC(t, dir, c.args...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, r.code, r.stderr, c.want)
		}
	}
}

// goldPredictions returns a predictions file with every first gold answer.
func goldPredictions(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Data []struct {
			Paragraphs []struct {
				QAs []struct {
					ID      string
					Answers []struct{ Text string }
				} `json:"qas"`
			}
		}
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	preds := map[string]string{}
	for _, a := range f.Data {
		for _, p := range a.Paragraphs {
			for _, q := range p.QAs {
				preds[q.ID] = q.Answers[0].Text
			}
		}
	}
	out, _ := json.Marshal(preds)
	return string(out)
}

// TestOptimizeTrainObjective runs a grid over two train-config keys with
// the objective kind "train": each trial trains with its overrides and
// reports the evaluation.
func TestOptimizeTrainObjective(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "train.toml"), strings.Replace(tinyTrain, "steps = 4", "steps = 2", 1), 0o644)
	writeFile(t, filepath.Join(dir, "study.toml"), `
[study]
name = "lr-window"
direction = "maximize"
metric = "eval_f1"
sampler = "grid"

[params."optimizer.lr"]
type = "categorical"
values = [0.001, 0.01]

[params."model.global_attention"]
type = "categorical"
values = [true, false]

[objective]
kind = "train"
config = "train.toml"
`, 0o644)
	r := runOLC(t, dir, "optimize", "--config", "study.toml", "--store", "olc.db", "--json")
	if r.code != 0 {
		t.Fatalf("optimize: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var out struct {
		Complete int `json:"complete"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if out.Complete != 4 {
		t.Errorf("%d complete trials, want 4\n%s", out.Complete, r.stdout)
	}
	r = runOLC(t, dir, "optimize", "export", "--study", "lr-window", "--store", "olc.db", "--format", "csv")
	header := strings.SplitN(r.stdout, "\n", 2)[0]
	for _, k := range []string{"params.optimizer.lr", "params.model.global_attention", "metrics.eval_f1", "metrics.eval_exact", "metrics.eval_loss", "metrics.final_loss", "metrics.tokens_per_s"} {
		if !strings.Contains(header, k) {
			t.Errorf("the exported trials lack %s: %s", k, header)
		}
	}
	if n := strings.Count(r.stdout, ",complete,"); n != 4 {
		t.Errorf("%d complete rows in the export:\n%s", n, r.stdout)
	}
	writeFile(t, filepath.Join(dir, "bad.toml"), "[study]\nname = \"b\"\nmetric = \"eval_f1\"\nsampler = \"grid\"\n[params.\"optimizer.lrr\"]\ntype = \"categorical\"\nvalues = [0.1]\n[objective]\nkind = \"train\"\nconfig = \"train.toml\"\n", 0o644)
	r = runOLC(t, dir, "optimize", "--config", "bad.toml", "--store", "olc.db")
	if r.code != 2 || !strings.Contains(r.stderr, `bad.toml:5: params.optimizer.lrr: no key "lrr" in [optimizer]`) {
		t.Errorf("an unknown train key as a parameter: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	writeFile(t, filepath.Join(dir, "bad.toml"), "[study]\nname = \"b\"\nmetric = \"eval_perplexity\"\nsampler = \"grid\"\n[params.\"optimizer.lr\"]\ntype = \"categorical\"\nvalues = [0.1]\n[objective]\nkind = \"train\"\nconfig = \"train.toml\"\n", 0o644)
	r = runOLC(t, dir, "optimize", "--config", "bad.toml", "--store", "olc.db")
	if r.code != 2 || !strings.Contains(r.stderr, `bad.toml:3: study.metric: the objective (kind "train", train.toml) does not report "eval_perplexity"; it reports eval_exact, eval_f1`) {
		t.Errorf("a metric the train objective does not report: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestTrainOnOwnFile: data.train_file alone trains on the file, and
// --print-defaults prints the documented reference.
func TestTrainOnOwnFile(t *testing.T) {
	dir := t.TempDir()
	r := runOLC(t, dir, "data", "generate", "--task", "passkey", "--length", "150,200", "--n", "4", "--seed", "5", "--out", "mine.json")
	if r.code != 0 {
		t.Fatalf("generate: %s", r.stderr)
	}
	cfg := strings.Replace(tinyTrain, "task = \"passkey\"\nlengths = \"150-250\"\nn_train = 30\nn_eval = 4\n", "train_file = \"mine.json\"\neval_file = \"mine.json\"\n", 1)
	if cfg == tinyTrain {
		t.Fatal("the config was not rewritten")
	}
	writeFile(t, filepath.Join(dir, "own.toml"), cfg, 0o644)
	if r := runOLC(t, dir, "train", "--config", "own.toml", "--json"); r.code != 0 {
		t.Fatalf("train on a file of one's own: exit %d\n%s", r.code, r.stderr)
	}
	r = runOLC(t, dir, "train", "--print-defaults")
	ref, err := os.ReadFile(filepath.Join("..", "..", "examples", "train-reference.toml"))
	if err != nil || r.code != 0 || r.stdout != string(ref) {
		t.Errorf("--print-defaults: exit %d, %v; differs from examples/train-reference.toml", r.code, err)
	}
}
