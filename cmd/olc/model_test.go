package main_test

import (
	"encoding/json"
	"github.com/olc-toolkit/olc/internal/amx"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/olc-toolkit/olc/internal/qafixture"
	"github.com/olc-toolkit/olc/model"
)

func TestModelInitInfo(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "tiny.toml"), "vocab_size = 260\nhidden_size = 16\nnum_hidden_layers = 2\nnum_attention_heads = 2\nintermediate_size = 32\nattention_window = [4, 8]\nmax_position_embeddings = 130\n", 0o644)
	r := runOLC(t, dir, "model", "init", "--config", "tiny.toml", "--out", "m", "--seed", "3")
	if r.code != 0 || !strings.Contains(r.stdout, "wrote m/{config.json,model.safetensors}") {
		t.Fatalf("init: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, f := range []string{"config.json", "model.safetensors"} {
		if _, err := os.Stat(filepath.Join(dir, "m", f)); err != nil {
			t.Fatal(err)
		}
	}
	r = runOLC(t, dir, "model", "info", "m", "--seq-len", "1000", "--json")
	var info struct {
		Total  int `json:"total_params"`
		Groups []struct{ Params int }
		Memory struct {
			Inference            int64 `json:"inference_bytes"`
			Training             int64 `json:"training_bytes"`
			TrainingCheckpointed int64 `json:"training_checkpointed_bytes"`
		}
		Config struct {
			AttentionWindow []int `json:"attention_window"`
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &info); err != nil {
		t.Fatalf("info --json: %v\n%s", err, r.stdout)
	}
	sum := 0
	for _, g := range info.Groups {
		sum += g.Params
	}
	if info.Total != sum || info.Total == 0 || info.Config.AttentionWindow[1] != 8 || !(info.Memory.TrainingCheckpointed < info.Memory.Training) {
		t.Errorf("info: %+v", info)
	}
	// An existing model is not overwritten without --force.
	if r := runOLC(t, dir, "model", "init", "--config", "tiny.toml", "--out", "m"); r.code != 2 || !strings.Contains(r.stderr, "--force") {
		t.Errorf("init over a model: exit %d, %s", r.code, r.stderr)
	}
	writeFile(t, filepath.Join(dir, "bad.toml"), "hidden_size = 10\nnum_attention_heads = 3\n", 0o644)
	r = runOLC(t, dir, "model", "init", "--config", "bad.toml", "--out", "b")
	if r.code != 2 || !strings.Contains(r.stderr, "bad.toml:1: hidden_size: 10 is not a multiple of num_attention_heads (3)") {
		t.Errorf("bad config: exit %d, %s", r.code, r.stderr)
	}
}

// A checkpoint without the head a command needs is refused (exit 2), not
// run with a random head: olc qa and olc serve need the question-answering
// head, olc eval --text the masked-LM head.
func TestCommandsRefuseAMissingHead(t *testing.T) {
	dir := t.TempDir()
	cfg := model.DefaultConfig()
	cfg.VocabSize, cfg.HiddenSize, cfg.NumHiddenLayers, cfg.NumAttentionHeads, cfg.IntermediateSize = 260, 8, 1, 2, 16
	cfg.MaxPositionEmbeddings, cfg.AttentionWindow = 66, model.Windows{PerLayer: []int{8}, Scalar: true}
	m := model.New[float32](cfg)
	m.Init(1)
	for _, c := range []struct {
		head model.Head
		args []string
		want string
	}{
		{model.HeadQA, []string{"qa", "--model", "m", "--doc", "doc.txt", "--question", "What?"}, "no question-answering head (qa_outputs)"},
		{model.HeadQA, []string{"serve", "--model", "m", "--addr", "127.0.0.1:0"}, "no question-answering head (qa_outputs)"},
		{model.HeadLM, []string{"eval", "--model", "m", "--text", "doc.txt", "--lengths", "64"}, "no masked-LM head (lm_head)"},
	} {
		tensors := map[string]model.Tensor{}
		for _, p := range m.Params() {
			if !strings.HasPrefix(p.Name, string(c.head)+".") {
				tensors["longformer."+p.Name] = model.F32Tensor(p.Shape, p.W)
			}
		}
		if err := os.MkdirAll(filepath.Join(dir, "m"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := model.WriteSafetensorsFile(filepath.Join(dir, "m", model.WeightsFile), tensors, nil); err != nil {
			t.Fatal(err)
		}
		js, _ := m.Config.JSON()
		writeFile(t, filepath.Join(dir, "m", model.ConfigFile), string(js), 0o644)
		writeFile(t, filepath.Join(dir, "doc.txt"), "The pass key is 42.", 0o644)
		r := runOLC(t, dir, c.args...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("olc %s: exit %d\n%s", strings.Join(c.args, " "), r.code, r.stderr)
		}
	}
}

// olc model run: the reference's inputs and outputs. Padding a sequence
// leaves its real tokens' outputs as they were; the heads' scores come
// with the architectures the model was saved for; bad inputs exit 2.
func TestModelRun(t *testing.T) {
	dir := t.TempDir()
	for arch, cfg := range map[string]string{
		"qa":  `{"architectures": ["LongformerForQuestionAnswering"], "vocab_size": 60, "hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 32, "attention_window": [4, 6], "max_position_embeddings": 40}`,
		"mlm": `{"architectures": ["LongformerForMaskedLM"], "vocab_size": 60, "hidden_size": 16, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 32, "attention_window": 4, "max_position_embeddings": 40}`,
	} {
		writeFile(t, filepath.Join(dir, arch+".json"), cfg, 0o644)
		if r := runOLC(t, dir, "model", "init", "--config", arch+".json", "--out", arch, "--seed", "3"); r.code != 0 {
			t.Fatalf("init %s: %s", arch, r.stderr)
		}
	}
	writeFile(t, filepath.Join(dir, "in.json"), `{"inputs": [
		{"input_ids": [0, 7, 8, 9, 10, 11, 12, 13, 2], "global_attention_mask": [1, 1, 0, 0, 0, 0, 0, 0, 0]},
		{"input_ids": [0, 7, 8, 9, 10, 11, 12, 13, 2, 1, 1, 1], "attention_mask": [1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0], "global_attention_mask": [1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]}]}`, 0o644)
	var out struct {
		Outputs []struct {
			LastHiddenState [][]float64 `json:"last_hidden_state"`
			StartLogits     []float64   `json:"start_logits"`
			EndLogits       []float64   `json:"end_logits"`
			Logits          [][]float64 `json:"logits"`
		}
	}
	r := runOLC(t, dir, "model", "run", "--model", "qa", "--input", "in.json", "--float64", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &out); r.code != 0 || err != nil || len(out.Outputs) != 2 {
		t.Fatalf("run: exit %d, %v\n%s", r.code, err, r.stderr)
	}
	a, b := out.Outputs[0], out.Outputs[1]
	if len(a.LastHiddenState) != 9 || len(a.LastHiddenState[0]) != 16 || len(a.StartLogits) != 9 || len(b.EndLogits) != 12 || a.Logits != nil {
		t.Fatalf("shapes: %d × %d hidden, %d start, %d end, logits %v", len(a.LastHiddenState), len(a.LastHiddenState[0]), len(a.StartLogits), len(b.EndLogits), a.Logits != nil)
	}
	worst := 0.0
	for i := range 9 {
		for j := range 16 {
			worst = max(worst, math.Abs(a.LastHiddenState[i][j]-b.LastHiddenState[i][j]))
		}
		worst = max(worst, math.Abs(a.StartLogits[i]-b.StartLogits[i]), math.Abs(a.EndLogits[i]-b.EndLogits[i]))
	}
	if worst > 1e-12 {
		t.Errorf("padding changed the real tokens' outputs by %g", worst)
	}
	// The same as the Go API computes.
	m, _, err := model.Load[float64](filepath.Join(dir, "qa"), model.LoadOptions{Heads: []model.Head{model.HeadQA}})
	if err != nil {
		t.Fatal(err)
	}
	st, err := m.Forward([]int{0, 7, 8, 9, 10, 11, 12, 13, 2}, []int8{2, 2, 1, 1, 1, 1, 1, 1, 1}, model.Options{})
	if err != nil {
		t.Fatal(err)
	}
	start, _ := m.QALogits(st)
	for i := range 9 {
		if start[i] != a.StartLogits[i] || st.Hidden[i*16] != a.LastHiddenState[i][0] {
			t.Fatalf("token %d: olc model run and the Go API differ", i)
		}
	}
	r = runOLC(t, dir, "model", "run", "--model", "mlm", "--input", "in.json", "--json")
	out.Outputs = nil // a decoded slice keeps its old elements' absent fields
	if err := json.Unmarshal([]byte(r.stdout), &out); r.code != 0 || err != nil || len(out.Outputs[0].Logits) != 9 || len(out.Outputs[0].Logits[0]) != 60 || out.Outputs[0].StartLogits != nil {
		t.Errorf("masked-LM run: exit %d, %v\n%s", r.code, err, r.stderr)
	}
	if r := runOLC(t, dir, "model", "run", "--model", "mlm", "--input", "in.json"); r.code != 0 || !strings.Contains(r.stdout, "input 1: 12 tokens, hidden 16") {
		t.Errorf("text output: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, c := range []struct{ input, want string }{
		{`{"inputs": [{"input_ids": [0, 99], "global_attention_mask": [1, 0]}]}`, "inputs[0]: model: token 1 has id 99, outside the vocabulary [0, 60)"},
		{`{"inputs": [{"input_ids": [0, 5, 2]}]}`, "needs exactly three separators"},
		{`{"inputs": [{"input_ids": [0, 5], "attention_mask": [1]}]}`, "inputs[0]: 1 attention_mask values for 2 input_ids"},
		{`{"inputs": [{"input_ids": [0, 5], "global_attention_mask": [2, 0]}]}`, "mask values must be 0 or 1"},
		{`{"inputs": [{"input_ids": [0, 5], "token_type_ids": [0, 0]}]}`, `unknown field "token_type_ids"`},
		{`{"inputs": []}`, "no inputs"},
	} {
		writeFile(t, filepath.Join(dir, "bad.json"), c.input, 0o644)
		if r := runOLC(t, dir, "model", "run", "--model", "qa", "--input", "bad.json"); r.code != 2 || !strings.Contains(r.stderr, c.want) || !strings.Contains(r.stderr, "bad.json") {
			t.Errorf("%s: exit %d\n%s", c.input, r.code, r.stderr)
		}
	}
}

// olc model run on a checkpoint written by the reference gives the
// reference's outputs (model/testdata/parity: transformers' own code).
func TestModelRunMatchesTheReference(t *testing.T) {
	fixture, err := filepath.Abs("../../model/testdata/parity/qa-f64")
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(fixture, "outputs.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fx struct {
		Inputs []struct {
			AttentionMask []int `json:"attention_mask"`
		} `json:"inputs"`
		Outputs []struct {
			StartLogits []float64 `json:"start_logits"`
		} `json:"outputs"`
	}
	var raw struct {
		Inputs json.RawMessage `json:"inputs"`
	}
	if json.Unmarshal(data, &fx) != nil || json.Unmarshal(data, &raw) != nil {
		t.Fatal("outputs.json does not parse")
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "in.json"), `{"inputs": `+string(raw.Inputs)+`}`, 0o644)
	r := runOLC(t, dir, "model", "run", "--model", fixture, "--input", "in.json", "--float64", "--json")
	var out struct {
		Outputs []struct {
			StartLogits []float64 `json:"start_logits"`
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); r.code != 0 || err != nil || len(out.Outputs) != len(fx.Outputs) {
		t.Fatalf("exit %d, %v\n%s", r.code, err, r.stderr)
	}
	for i := range out.Outputs {
		for j, want := range fx.Outputs[i].StartLogits {
			if fx.Inputs[i].AttentionMask[j] == 1 && math.Abs(out.Outputs[i].StartLogits[j]-want) > 1e-9 {
				t.Errorf("input %d token %d: start logit %v, the reference %v", i, j, out.Outputs[i].StartLogits[j], want)
			}
		}
	}
}

// olc model convert: the reference's pytorch_model.bin becomes a
// safetensors folder with the same tensors, which gives the reference's
// outputs; bad input exits 2.
func TestModelConvert(t *testing.T) {
	fixture, err := filepath.Abs("../../model/testdata/parity/mlm-f32")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	for _, f := range []string{model.ConfigFile, model.PytorchFile} {
		data, err := os.ReadFile(filepath.Join(fixture, f))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(in, f), string(data), 0o644)
	}
	writeFile(t, filepath.Join(in, "vocab.json"), `{"<s>": 0}`, 0o644)
	r := runOLC(t, dir, "model", "convert", "--in", "in", "--out", "out")
	if r.code != 0 || !strings.Contains(r.stdout, "copied [config.json vocab.json]") {
		t.Fatalf("convert: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	got, _, err := model.ReadSafetensorsFile(filepath.Join(dir, "out", model.WeightsFile))
	if err != nil {
		t.Fatal(err)
	}
	want, _, err := model.ReadSafetensorsFile(filepath.Join(fixture, model.WeightsFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d tensors, want %d", len(got), len(want))
	}
	for k, w := range want {
		if g := got[k]; g.DType != w.DType || string(g.Data) != string(w.Data) {
			t.Errorf("tensor %s differs after the conversion", k)
		}
	}
	if r := runOLC(t, dir, "model", "convert", "--in", "in", "--out", "out"); r.code != 2 || !strings.Contains(r.stderr, "--force") {
		t.Errorf("converting over a model: exit %d\n%s", r.code, r.stderr)
	}
	writeFile(t, filepath.Join(dir, "bad", model.ConfigFile), `{"hidden_size": 32, "num_attention_heads": 4, "num_hidden_layers": 1, "vocab_size": 64, "attention_window": 8}`, 0o644)
	data, _ := os.ReadFile(filepath.Join(fixture, model.PytorchFile))
	writeFile(t, filepath.Join(dir, "bad", model.PytorchFile), string(data), 0o644)
	if r := runOLC(t, dir, "model", "convert", "--in", "bad", "--out", "bad2"); r.code != 2 || !strings.Contains(r.stderr, "does not fit its config") {
		t.Errorf("a checkpoint that does not fit its config: exit %d\n%s", r.code, r.stderr)
	}
	writeFile(t, filepath.Join(dir, "evil", model.ConfigFile), "{}", 0o644)
	writeFile(t, filepath.Join(dir, "evil", model.PytorchFile), "not a zip", 0o644)
	if r := runOLC(t, dir, "model", "convert", "--in", "evil", "--out", "evil2"); r.code != 2 || !strings.Contains(r.stderr, "not a PyTorch zip checkpoint") {
		t.Errorf("not a checkpoint: exit %d\n%s", r.code, r.stderr)
	}
}

// TestModelRunText: --text and --question run the folder's RoBERTa
// tokenizer and the model on <s> question </s></s> text </s>, with the
// reference's global attention on the question, and give what the
// reference gave on those tokens (model/testdata/parity/qa-pipeline,
// whose last case fits one window).
func TestModelRunText(t *testing.T) {
	fixture, cases := qafixture.Load(t)
	c := cases[len(cases)-1]
	if len(c.Windows) != 1 {
		t.Fatalf("the last case has %d windows", len(c.Windows))
	}
	dir := t.TempDir()
	r := runOLC(t, dir, "model", "run", "--model", fixture, "--text", c.Context, "--question", c.Question, "--json")
	var out struct {
		Tokens []struct {
			ID         int
			Text       string
			Sequence   string
			Start, End int
		}
		Outputs []struct {
			StartLogits []float64 `json:"start_logits"`
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); r.code != 0 || err != nil || len(out.Outputs) != 1 {
		t.Fatalf("exit %d, %v\n%s", r.code, err, r.stderr)
	}
	ids := make([]int, len(out.Tokens))
	for i, tk := range out.Tokens {
		ids[i] = tk.ID
		src := map[string]string{"question": c.Question, "text": c.Context}[tk.Sequence]
		if tk.Sequence != "" && string([]rune(src)[tk.Start:tk.End]) != tk.Text {
			t.Errorf("token %d %q: characters [%d, %d) of the %s are %q", i, tk.Text, tk.Start, tk.End, tk.Sequence, string([]rune(src)[tk.Start:tk.End]))
		}
	}
	if !slices.Equal(ids, c.Windows[0].InputIDs) {
		t.Fatalf("tokens %v, the reference's %v", ids, c.Windows[0].InputIDs)
	}
	worst := 0.0
	for i, v := range out.Outputs[0].StartLogits {
		worst = math.Max(worst, math.Abs(v-c.Windows[0].StartLogits[i]))
	}
	if worst > 1e-5 {
		t.Errorf("start logits differ from the reference's by %.3g", worst)
	}
	// The same ids through --input, without global_attention_mask: the
	// reference's default global attention on the question.
	in, _ := json.Marshal(map[string]any{"inputs": []any{map[string]any{"input_ids": ids}}})
	writeFile(t, filepath.Join(dir, "in.json"), string(in), 0o644)
	r = runOLC(t, dir, "model", "run", "--model", fixture, "--input", "in.json", "--json")
	if err := json.Unmarshal([]byte(r.stdout), &out); r.code != 0 || err != nil {
		t.Fatalf("--input: exit %d, %v\n%s", r.code, err, r.stderr)
	}
	for i, v := range out.Outputs[0].StartLogits {
		if math.Abs(v-c.Windows[0].StartLogits[i]) > 1e-5 {
			t.Fatalf("--input: start logit %d is %v, the reference's %v", i, v, c.Windows[0].StartLogits[i])
		}
	}
	// Text output names the tokens; a folder without a tokenizer is refused.
	if r := runOLC(t, dir, "model", "run", "--model", fixture, "--text", "Hello world"); r.code != 0 || !strings.Contains(r.stdout, `6 tokens: 0:"<s>"(0) 1:"H"(76) 2:"ell"(699) 3:"o"(115) 4:"world"(999) 5:"</s>"(2)`) {
		t.Errorf("text output: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	bare := filepath.Join(filepath.Dir(fixture), "qa-f32")
	if r := runOLC(t, dir, "model", "run", "--model", bare, "--text", "Hello"); r.code != 2 || !strings.Contains(r.stderr, "has no tokenizer for its 64-token vocabulary") {
		t.Errorf("no tokenizer: exit %d\n%s", r.code, r.stderr)
	}
	// olc qa answers as the pipeline does.
	writeFile(t, filepath.Join(dir, "doc.txt"), c.Context, 0o644)
	r = runOLC(t, dir, "qa", "--model", fixture, "--doc", "doc.txt", "--question", c.Question, "--json")
	var a struct{ Answer string }
	if err := json.Unmarshal([]byte(r.stdout), &a); r.code != 0 || err != nil || a.Answer == "" {
		t.Errorf("olc qa: exit %d, %v\n%s", r.code, err, r.stderr)
	}
}

// TestBadTokenizerRefused: a folder whose vocab.json and merges.txt
// disagree is refused by every command that reads it, exit 2, naming the
// file and line.
func TestBadTokenizerRefused(t *testing.T) {
	dir := t.TempDir()
	fixture := filepath.Join("..", "..", "model", "testdata")
	hf := filepath.Join(dir, "hf")
	if err := os.MkdirAll(hf, 0o755); err != nil {
		t.Fatal(err)
	}
	for from, to := range map[string]string{
		filepath.Join("parity", "qa-pipeline", model.ConfigFile):  model.ConfigFile,
		filepath.Join("parity", "qa-pipeline", model.WeightsFile): model.WeightsFile,
		filepath.Join("roberta", model.VocabFile):                 model.VocabFile,
		filepath.Join("roberta", model.MergesFile):                model.MergesFile,
	} {
		data, err := os.ReadFile(filepath.Join(fixture, from))
		if err != nil {
			t.Fatal(err)
		}
		if to == model.MergesFile {
			data = []byte(strings.Replace(string(data), "\n", "\nĠt zzz\n", 1)) // line 2
		}
		writeFile(t, filepath.Join(hf, to), string(data), 0o644)
	}
	writeFile(t, filepath.Join(dir, "doc.txt"), "Some text.", 0o644)
	for _, args := range [][]string{
		{"qa", "--model", "hf", "--doc", "doc.txt", "--question", "What?"},
		{"model", "run", "--model", "hf", "--text", "Some text."},
	} {
		r := runOLC(t, dir, args...)
		if r.code != 2 || !strings.Contains(r.stderr, "merges.txt:2:") || !strings.Contains(r.stderr, `"zzz" is not in the vocabulary`) {
			t.Errorf("%v: exit %d\n%s", args, r.code, r.stderr)
		}
	}
}

// --precision and train.precision: an unknown precision exits 2 naming
// what is allowed; bf16 answers where the AMX tile unit is, and exits 2
// saying why where it is not.
func TestPrecisionFlags(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "qa.json"), `{"architectures": ["LongformerForQuestionAnswering"], "vocab_size": 260, "hidden_size": 32, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 64, "attention_window": 8, "max_position_embeddings": 130}`, 0o644)
	if r := runOLC(t, dir, "model", "init", "--config", "qa.json", "--out", "m", "--seed", "3"); r.code != 0 {
		t.Fatalf("init: %s", r.stderr)
	}
	writeFile(t, filepath.Join(dir, "doc.txt"), strings.Repeat("The pass key is 42. ", 10), 0o644)
	qa := []string{"qa", "--model", "m", "--doc", "doc.txt", "--question", "What is the pass key?", "--json"}
	for _, args := range [][]string{
		append(slices.Clone(qa), "--precision", "fp8"),
		{"eval", "--model", "m", "--text", "doc.txt", "--precision", "half"},
		{"bench", "model", "--lengths", "64", "--precision", "fp16"},
	} {
		if r := runOLC(t, dir, args...); r.code != 2 || !strings.Contains(r.stderr, "allowed are float32 and bf16") {
			t.Errorf("olc %s: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
		}
	}
	r := runOLC(t, dir, append(slices.Clone(qa), "--precision", "bf16")...)
	if amx.Available() {
		var out struct{ Answer string }
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &out) != nil {
			t.Errorf("qa in bf16: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
	} else if r.code != 2 || !strings.Contains(r.stderr, "not available here") {
		t.Errorf("qa in bf16 without AMX: exit %d\n%s", r.code, r.stderr)
	}
	writeFile(t, filepath.Join(dir, "t.toml"), "[train]\nprecision = \"fp16\"\n", 0o644)
	if r := runOLC(t, dir, "train", "--config", "t.toml"); r.code != 2 || !strings.Contains(r.stderr, "train.precision") {
		t.Errorf("train with precision fp16: exit %d\n%s", r.code, r.stderr)
	}
}

// olc bench model on a tiny config: a forward and a forward+backward row
// per length, each with its median time, the step's ratio to the forward
// pass, and a roofline whose shares add up to the pass; a bad --repeats
// exits 2.
func TestBenchModel(t *testing.T) {
	r := runOLC(t, t.TempDir(), "bench", "model", "--lengths", "96,160", "--hidden", "32", "--heads", "2", "--window", "16",
		"--layers", "1", "--repeats", "2", "--checkpoint-at", "128", "--json")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	var out struct {
		Rows []struct {
			Pass       string
			SeqLen     int     `json:"seq_len"`
			Seconds    float64 `json:"seconds"`
			PerForward float64 `json:"per_forward"`
		}
		Checkpoint struct {
			IdenticalGrads bool `json:"identical_gradients"`
		}
		Roofline struct {
			SeqLen  int `json:"seq_len"`
			Forward []struct {
				Share float64
			}
			ForwardSeconds float64 `json:"forward_seconds"`
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if len(out.Rows) != 4 {
		t.Fatalf("%d rows, want 4\n%s", len(out.Rows), r.stdout)
	}
	for i, row := range out.Rows {
		want := []string{"forward", "forward+backward"}[i%2]
		if row.Pass != want || row.SeqLen != []int{96, 160}[i/2] || row.Seconds <= 0 {
			t.Errorf("row %d: %+v", i, row)
		}
		if per := row.Seconds / out.Rows[i/2*2].Seconds; want == "forward+backward" && math.Abs(row.PerForward-per) > 1e-9*per {
			t.Errorf("row %d: per_forward %g, want %g", i, row.PerForward, per)
		}
	}
	if !out.Checkpoint.IdenticalGrads {
		t.Error("checkpointing changed the gradients")
	}
	share := 0.0
	for _, o := range out.Roofline.Forward {
		share += o.Share
	}
	if out.Roofline.SeqLen != 160 || out.Roofline.ForwardSeconds <= 0 || math.Abs(share-1) > 1e-9 {
		t.Errorf("roofline at %d tokens, %.3g s, shares adding up to %g", out.Roofline.SeqLen, out.Roofline.ForwardSeconds, share)
	}
	if r := runOLC(t, t.TempDir(), "bench", "model", "--lengths", "64", "--repeats", "0"); r.code != 2 || !strings.Contains(r.stderr, "--repeats") {
		t.Errorf("--repeats 0: exit %d\n%s", r.code, r.stderr)
	}
}
