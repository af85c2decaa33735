package model

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestSafetensorsRoundTrip(t *testing.T) {
	in := map[string]Tensor{
		"a.weight": F32Tensor([]int{2, 3}, []float32{1, -2, 3.5, float32(math.Inf(1)), 0, 1e-30}),
		"b":        F64Tensor([]int{4}, []float64{math.Pi, -1, 0, 1e300}),
		"scalar":   F32Tensor(nil, []float32{7}),
	}
	var buf bytes.Buffer
	if err := WriteSafetensors(&buf, in, map[string]string{"format": "pt"}); err != nil {
		t.Fatal(err)
	}
	hlen := binary.LittleEndian.Uint64(buf.Bytes())
	if (8+hlen)%8 != 0 {
		t.Errorf("data buffer not aligned: header %d bytes", hlen)
	}
	out, meta, err := ReadSafetensors(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if meta["format"] != "pt" || len(out) != 3 {
		t.Fatalf("meta %v, %d tensors", meta, len(out))
	}
	for name, want := range in {
		got := out[name]
		if got.DType != want.DType || !bytes.Equal(got.Data, want.Data) || len(got.Shape) != len(want.Shape) {
			t.Errorf("%s: %+v, want %+v", name, got, want)
		}
	}
	f, _ := out["a.weight"].Float32s()
	if f[2] != 3.5 || !math.IsInf(float64(f[3]), 1) {
		t.Errorf("values %v", f)
	}
}

func TestSafetensorsRejects(t *testing.T) {
	header := func(h string, data int) []byte {
		b := make([]byte, 8)
		binary.LittleEndian.PutUint64(b, uint64(len(h)))
		return append(append(b, h...), make([]byte, data)...)
	}
	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"short", []byte{1, 2}, "header length"},
		{"huge header", header("", 0)[:0], "header length"},
		{"not json", header("{x", 0), "not JSON"},
		{"bad dtype", header(`{"a":{"dtype":"Q8","shape":[1],"data_offsets":[0,1]}}`, 1), "unknown dtype"},
		{"wrong size", header(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}`, 4), "needs 8"},
		{"hole", header(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, 8), "holes or overlaps"},
		{"truncated", header(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}`, 4), "data buffer"},
		{"trailing", header(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, 5), "after the data buffer"},
	}
	for _, c := range cases {
		_, _, err := ReadSafetensors(bytes.NewReader(c.file))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.name, err, c.want)
		}
	}
}

func TestHalfPrecision(t *testing.T) {
	for _, c := range []struct {
		h    uint16
		want float32
	}{{0x3c00, 1}, {0xc000, -2}, {0x7bff, 65504}, {0x0001, 5.960464477539063e-08}, {0x3555, 0.33325195}} {
		if got := halfToFloat32(c.h); got != c.want {
			t.Errorf("half %#x = %v, want %v", c.h, got, c.want)
		}
	}
	bf := Tensor{DType: "BF16", Shape: []int{1}, Data: []byte{0x80, 0x3f}} // 1.0
	if v, _ := bf.Float32s(); v[0] != 1 {
		t.Errorf("bf16 1.0 read as %v", v)
	}
}

func TestConfig(t *testing.T) {
	// A config.json as transformers writes it, with keys olc ignores.
	hf := `{"architectures": ["LongformerForQuestionAnswering"], "attention_window": [8, 8], "hidden_size": 32,
	"num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64, "vocab_size": 300,
	"max_position_embeddings": 66, "initializer_range": 0.02, "model_type": "longformer"}`
	c, err := ParseConfig("config.json", []byte(hf))
	if err != nil {
		t.Fatal(err)
	}
	// Absent fields take LongformerConfig's defaults, not longformer-base's.
	if c.Window(1) != 8 || c.HeadDim() != 16 || c.LayerNormEps != 1e-12 || c.TypeVocabSize != 2 || !c.GlobalAttention || c.MaxTokens() != 64 {
		t.Errorf("parsed %+v", c)
	}
	if d, _ := ParseConfig("config.json", []byte(`{}`)); d == nil || d.VocabSize != 30522 || d.MaxPositionEmbeddings != 512 || d.LayerNormEps != 1e-12 || d.Window(0) != 512 {
		t.Errorf("an empty config.json: %+v", d)
	}
	// Keys the reference reads and olc does not implement: refused by name
	// unless they hold olc's value.
	for _, c := range []struct{ json, key string }{
		{`{"attention_dilation": [1, 2]}`, "attention_dilation"},
		{`{"attention_mode": "tvm"}`, "attention_mode"},
		{`{"position_embedding_type": "relative_key"}`, "position_embedding_type"},
		{`{"is_decoder": true}`, "is_decoder"},
		{`{"add_cross_attention": true}`, "add_cross_attention"},
		{`{"tie_word_embeddings": false}`, "tie_word_embeddings"},
		{`{"hidden_act": "gelu_new"}`, "hidden_act"},
	} {
		_, err := ParseConfig("config.json", []byte(c.json))
		var ce *ConfigError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), c.key) || !strings.Contains(err.Error(), "config.json") {
			t.Errorf("%s: %v, want an error naming %s", c.json, err, c.key)
		}
	}
	for _, ok := range []string{`{"attention_dilation": [1, 1], "attention_mode": "longformer", "position_embedding_type": "absolute", "is_decoder": false, "tie_word_embeddings": true}`} {
		if _, err := ParseConfig("config.json", []byte(ok)); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	b, _ := c.JSON()
	c2, err := ParseConfig("config.json", b)
	if err != nil || c2.Window(0) != 8 || c2.HiddenSize != 32 {
		t.Fatalf("round trip: %+v, %v", c2, err)
	}
	toml := "hidden_size = 64\nnum_attention_heads = 4\nnum_hidden_layers = 2\nattention_window = 16\nfeedforward = false\n"
	c3, err := ParseConfig("model.toml", []byte(toml))
	if err != nil || c3.FeedForward || c3.Window(1) != 16 || c3.IntermediateSize != 3072 {
		t.Fatalf("toml: %+v, %v", c3, err)
	}
	bad := []struct{ file, text, want string }{
		{"model.toml", "hiden_size = 3\n", "model.toml:1: hiden_size: unknown key; allowed: vocab_size, hidden_size"},
		{"model.toml", "\xEF\xBB\xBFhidden_size = 64\nnum_attention_heads = 5\n", "model.toml:1: hidden_size: 64 is not a multiple of num_attention_heads (5)"},
		{"model.toml", "hidden_size = \"big\"\nlayer_norm = 1\n", `model.toml:1: hidden_size: must be an integer, got a string ("big")` + "\nmodel.toml:2: layer_norm: must be true or false, got an integer (1)"},
		{"config.json", `{"hidden_size": 100, "num_attention_heads": 12}`, "config.json: hidden_size: 100 is not a multiple of num_attention_heads (12)"},
		{"config.json", `{"attention_window": 7}`, "attention_window: 7 is not an even positive number"},
		{"config.json", `{"attention_window": [8, 8]}`, "attention_window: has 2 values for 12 layers"},
		{"config.json", `{"hidden_size": "big"}`, "config.json:1: hidden_size: must be an integer, got a JSON string"},
		{"config.json", `{"pad_token_id": 400, "vocab_size": 300}`, "pad_token_id: 400 is outside the vocabulary [0, 300)"},
		{"config.json", `{"hidden_dropout_prob": 1.5}`, "hidden_dropout_prob: must be in [0, 1)"},
		{"config.json", `{"hidden_act": "relu"}`, `hidden_act: "relu" is not supported`},
	}
	for _, b := range bad {
		_, err := ParseConfig(b.file, []byte(b.text))
		if err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s %s: error %v, want %q", b.file, b.text, err, b.want)
		}
	}
}

func TestByteTokenizer(t *testing.T) {
	tok := ByteTokenizer{}
	for _, s := range []string{"", "hello", "naïve café ☕", "\xff\xfe invalid utf-8"} {
		e := tok.Encode(s)
		if got := tok.Decode(e.IDs); got != s {
			t.Errorf("round trip of %q gave %q", s, got)
		}
		for i, off := range e.Offsets {
			if s[off[0]:off[1]] != string([]byte{byte(e.IDs[i] - 4)}) {
				t.Errorf("%q: offset %v of token %d", s, off, i)
			}
		}
	}
	e, start := EncodePair(tok, "Who?", "Ada wrote it.")
	if e.IDs[0] != 0 || e.IDs[5] != 2 || e.IDs[6] != 2 || e.IDs[len(e.IDs)-1] != 2 || start != 7 {
		t.Fatalf("pair %v, context at %d", e.IDs, start)
	}
	if ctx := "Ada wrote it."; ctx[e.Offsets[start][0]:e.Offsets[start+2][1]] != "Ada" {
		t.Errorf("context offsets %v", e.Offsets[start:start+3])
	}
	m := GlobalMask(tok, e.IDs)
	for i, v := range m {
		if want := int8(1); i < 5 && v != 2 || i >= 5 && v != want {
			t.Fatalf("mask %v", m)
		}
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	for _, f64 := range []bool{false, true} {
		dir := t.TempDir()
		cfg := tinyConfig()
		if f64 {
			m := New[float64](cfg)
			m.Init(4)
			if err := m.Save(dir); err != nil {
				t.Fatal(err)
			}
			back, missing, err := Load[float64](dir, LoadOptions{Heads: []Head{HeadQA, HeadLM}})
			if err != nil || len(missing) != 0 {
				t.Fatalf("load: %v, missing %v", err, missing)
			}
			for i, p := range m.Params() {
				if !slices.Equal(p.W, back.Params()[i].W) {
					t.Fatalf("%s differs after the round trip", p.Name)
				}
			}
			continue
		}
		m := New[float32](cfg)
		m.Init(4)
		if err := m.Save(dir); err != nil {
			t.Fatal(err)
		}
		back, _, err := Load[float32](dir, LoadOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range m.Params() {
			if !slices.Equal(p.W, back.Params()[i].W) {
				t.Fatalf("%s differs after the round trip", p.Name)
			}
		}
		if back.Config.Window(1) != 6 || back.Config.HiddenSize != 8 {
			t.Errorf("config after the round trip: %+v", back.Config)
		}
	}
}

func TestLoadTensorsReports(t *testing.T) {
	m := New[float32](tinyConfig())
	m.Init(1)
	tensors := map[string]Tensor{}
	for _, p := range m.Params() {
		tensors["longformer."+p.Name] = F32Tensor(p.Shape, p.W)
	}
	tensors["longformer.pooler.dense.weight"] = F32Tensor([]int{1}, []float32{0})
	tensors["longformer.embeddings.position_ids"] = Tensor{DType: "I64", Shape: []int{1}, Data: make([]byte, 8)}
	delete(tensors, "longformer.qa_outputs.weight")
	delete(tensors, "longformer.qa_outputs.bias")
	missing, err := New[float32](tinyConfig()).LoadTensors("ckpt", tensors)
	if err != nil || !slices.Equal(missing, []string{"qa_outputs.weight", "qa_outputs.bias"}) {
		t.Fatalf("prefixed checkpoint without a QA head: missing %v, %v", missing, err)
	}
	delete(tensors, "longformer.encoder.layer.1.attention.self.key.bias")
	tensors["longformer.encoder.layer.0.attention.self.query.weight"] = F32Tensor([]int{4, 8}, make([]float32, 32))
	tensors["extra.weight"] = F32Tensor([]int{1}, []float32{1})
	tensors["longformer.embeddings.LayerNorm.bias"] = Tensor{DType: "I32", Shape: []int{8}, Data: make([]byte, 32)}
	_, err = New[float32](tinyConfig()).LoadTensors("ckpt", tensors)
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{
		"missing 1 tensor(s): encoder.layer.1.attention.self.key.bias",
		"unexpected 1 tensor(s): extra.weight",
		"longformer.encoder.layer.0.attention.self.query.weight: shape [4 8] in the file, [8 8] expected",
		"longformer.embeddings.LayerNorm.bias: dtype I32 is not a floating-point type",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

// A checkpoint without a head the caller needs is refused, unless the
// caller asks for a fresh one; a head it does not need may be missing.
func TestLoadNeedsItsHeads(t *testing.T) {
	dir := t.TempDir()
	m := New[float32](tinyConfig())
	m.Init(2)
	tensors := map[string]Tensor{}
	for _, p := range m.Params() {
		if !strings.HasPrefix(p.Name, "qa_outputs.") {
			tensors["longformer."+p.Name] = F32Tensor(p.Shape, p.W)
		}
	}
	if err := WriteSafetensorsFile(filepath.Join(dir, WeightsFile), tensors, nil); err != nil {
		t.Fatal(err)
	}
	cfg, _ := m.Config.JSON()
	if err := os.WriteFile(filepath.Join(dir, ConfigFile), cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	var mh *MissingHeadError
	if _, _, err := Load[float32](dir, LoadOptions{Heads: []Head{HeadQA}}); !errors.As(err, &mh) || mh.Head != HeadQA || !strings.Contains(err.Error(), "no question-answering head (qa_outputs)") {
		t.Errorf("QA head needed, missing: %v", err)
	}
	if _, fresh, err := Load[float32](dir, LoadOptions{Heads: []Head{HeadQA}, FreshHeads: true}); err != nil || !slices.Equal(fresh, []string{"qa_outputs.weight", "qa_outputs.bias"}) {
		t.Errorf("fresh QA head: %v, fresh %v", err, fresh)
	}
	if _, fresh, err := Load[float32](dir, LoadOptions{Heads: []Head{HeadLM}}); err != nil || len(fresh) != 0 {
		t.Errorf("LM head needed, present: %v, fresh %v", err, fresh)
	}
}
