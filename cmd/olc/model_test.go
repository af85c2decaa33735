package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
