package model

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// parityFixture is outputs.json of testdata/parity: inputs and what
// transformers' own modeling_longformer.py computed for them (written by
// testdata/parity/generate.py).
type parityFixture struct {
	Reference string
	Inputs    []struct {
		InputIDs            []int `json:"input_ids"`
		AttentionMask       []int `json:"attention_mask"`
		GlobalAttentionMask []int `json:"global_attention_mask"`
	}
	Outputs []struct {
		LastHiddenState [][]float64 `json:"last_hidden_state"`
		StartLogits     []float64   `json:"start_logits"`
		EndLogits       []float64   `json:"end_logits"`
		Logits          [][]float64 `json:"logits"`
	}
}

// TestParityWithTheReference loads checkpoints the reference wrote and
// matches every output it computed on the real tokens: hidden states and
// the head's scores, to 1e-5 in float32 and 1e-9 in float64. The f16 and
// bf16 checkpoints store half-precision weights, which olc widens and the
// reference computed with in float32.
func TestParityWithTheReference(t *testing.T) {
	for _, name := range []string{"qa-f32", "qa-f64", "mlm-f32", "mlm-f64", "qa-f16", "qa-bf16"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join("testdata", "parity", name)
			var worst float64
			if name[len(name)-3:] == "f64" {
				worst = parity[float64](t, dir)
				if worst > 1e-9 {
					t.Errorf("largest difference %.3g, want ≤ 1e-9", worst)
				}
			} else {
				worst = parity[float32](t, dir)
				if worst > 1e-5 {
					t.Errorf("largest difference %.3g, want ≤ 1e-5", worst)
				}
			}
			t.Logf("%s: largest difference from the reference %.3g", name, worst)
		})
	}
}

func parity[T Float](t *testing.T, dir string) float64 {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "outputs.json"))
	if err != nil {
		t.Fatal(err)
	}
	var fx parityFixture
	if err := json.Unmarshal(data, &fx); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(filepath.Join(dir, ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	qa := slices.Contains(cfg.Architectures, ArchQA)
	heads := []Head{HeadLM}
	if qa {
		heads = []Head{HeadQA}
	}
	m, _, err := Load[T](dir, LoadOptions{Heads: heads})
	if err != nil {
		t.Fatal(err)
	}
	d, V := m.Config.HiddenSize, m.Config.VocabSize
	worst := 0.0
	cmp := func(what string, got T, want float64) {
		diff := math.Abs(float64(got) - want)
		if math.IsNaN(diff) {
			t.Fatalf("%s: got %v, want %v", what, got, want)
		}
		worst = max(worst, diff)
	}
	for i, in := range fx.Inputs {
		mask := make([]int8, len(in.InputIDs))
		for j := range mask {
			switch {
			case in.AttentionMask[j] == 0:
				mask[j] = MaskPad
			case in.GlobalAttentionMask[j] == 1:
				mask[j] = MaskGlobal
			default:
				mask[j] = MaskLocal
			}
		}
		st, err := m.Forward(in.InputIDs, mask, Options{})
		if err != nil {
			t.Fatal(err)
		}
		out := fx.Outputs[i]
		var start, end, logits []T
		if qa {
			start, end = m.QALogits(st)
		} else {
			logits = m.LMLogits(st)
		}
		for j := range in.InputIDs {
			if in.AttentionMask[j] == 0 {
				continue // padding: its outputs mean nothing
			}
			for k := range d {
				cmp(fmt.Sprintf("input %d token %d hidden %d", i, j, k), st.Hidden[j*d+k], out.LastHiddenState[j][k])
			}
			if qa {
				cmp(fmt.Sprintf("input %d token %d start", i, j), start[j], out.StartLogits[j])
				cmp(fmt.Sprintf("input %d token %d end", i, j), end[j], out.EndLogits[j])
			} else {
				for k := range V {
					cmp(fmt.Sprintf("input %d token %d logit %d", i, j, k), logits[j*V+k], out.Logits[j][k])
				}
			}
		}
	}
	return worst
}

// A masked-LM checkpoint whose decoder is not the word embeddings is
// refused: olc decodes with the word embeddings.
func TestUntiedDecoderRefused(t *testing.T) {
	dir := filepath.Join("testdata", "parity", "mlm-f32")
	tensors, _, err := ReadSafetensorsFile(filepath.Join(dir, WeightsFile))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadConfig(filepath.Join(dir, ConfigFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New[float32](*cfg).LoadTensors("tied", tensors); err != nil {
		t.Fatalf("the tied checkpoint: %v", err)
	}
	dec := tensors["lm_head.decoder.weight"]
	data := slices.Clone(dec.Data)
	data[0] ^= 1
	tensors["lm_head.decoder.weight"] = Tensor{DType: dec.DType, Shape: dec.Shape, Data: data}
	if _, err := New[float32](*cfg).LoadTensors("untied", tensors); err == nil || !strings.Contains(err.Error(), "an untied decoder is not supported") {
		t.Errorf("an untied decoder: %v", err)
	}
}

// pytorch_model.bin, torch.save's zip of a pickle, gives the very tensors
// of model.safetensors; and a folder with only the .bin loads and matches
// the reference as well.
func TestPytorchCheckpoints(t *testing.T) {
	for _, name := range []string{"qa-f32", "qa-f64", "mlm-f32", "mlm-f64", "qa-f16", "qa-bf16"} {
		dir := filepath.Join("testdata", "parity", name)
		st, _, err := ReadSafetensorsFile(filepath.Join(dir, WeightsFile))
		if err != nil {
			t.Fatal(err)
		}
		pt, err := ReadPytorchFile(filepath.Join(dir, PytorchFile))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(pt) != len(st) {
			t.Errorf("%s: %d tensors in the .bin, %d in the safetensors", name, len(pt), len(st))
		}
		for k, a := range st {
			b, ok := pt[k]
			if !ok || a.DType != b.DType || !slices.Equal(a.Shape, b.Shape) || string(a.Data) != string(b.Data) {
				t.Errorf("%s: tensor %s differs (%s %v, %s %v)", name, k, a.DType, a.Shape, b.DType, b.Shape)
			}
		}
	}
	// Only the .bin: the reference's outputs all the same.
	dir := t.TempDir()
	for _, f := range []string{ConfigFile, PytorchFile, "outputs.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", "parity", "qa-f64", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if worst := parity[float64](t, dir); worst > 1e-9 {
		t.Errorf("from pytorch_model.bin: largest difference %.3g", worst)
	}
}
