package model

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/olc-toolkit/olc/internal/bom"
	"github.com/olc-toolkit/olc/internal/tomlconf"
)

// Config is a Longformer's configuration, with the field names of Hugging
// Face's LongformerConfig (config.json) plus switches for ablations.
type Config struct {
	VocabSize             int     `json:"vocab_size" doc:"token ids (the byte tokenizer needs 260)"`
	HiddenSize            int     `json:"hidden_size" doc:"width of the hidden states"`
	NumHiddenLayers       int     `json:"num_hidden_layers" doc:"layers"`
	NumAttentionHeads     int     `json:"num_attention_heads" doc:"attention heads; hidden_size must be a multiple"`
	IntermediateSize      int     `json:"intermediate_size" doc:"width of the feed-forward block"`
	AttentionWindow       Windows `json:"attention_window" doc:"sliding window w (w/2 tokens each side), even; or a list, one per layer"`
	MaxPositionEmbeddings int     `json:"max_position_embeddings" doc:"positions; the longest input is this − pad_token_id − 1 tokens"`
	LayerNormEps          float64 `json:"layer_norm_eps" doc:"LayerNorm's epsilon"`
	HiddenDropoutProb     float64 `json:"hidden_dropout_prob" doc:"dropout on hidden states"`
	// AttentionProbsDropoutProb is the dropout on attention probabilities.
	AttentionProbsDropoutProb float64 `json:"attention_probs_dropout_prob" doc:"dropout on attention probabilities"`
	PadTokenID                int     `json:"pad_token_id" doc:"the padding token"`
	BosTokenID                int     `json:"bos_token_id" doc:"<s>"`
	EosTokenID                int     `json:"eos_token_id" doc:"</s>"`
	SepTokenID                int     `json:"sep_token_id" doc:"the separator between question and context"`
	TypeVocabSize             int     `json:"type_vocab_size" doc:"token types"`
	// HiddenAct is the feed-forward activation; only "gelu" (exact, erf).
	HiddenAct string `json:"hidden_act" doc:"feed-forward activation: gelu (exact, with erf) only"`
	ModelType string `json:"model_type" doc:"longformer"`
	// Architectures names the task a checkpoint was trained for, as
	// Hugging Face's config.json does: LongformerForQuestionAnswering or
	// LongformerForMaskedLM (the head the other task needs is untrained).
	// It is not a key of TOML configs.
	Architectures []string `json:"architectures,omitempty" toml:"-"`

	// Ablation switches, each on by default.

	// GlobalAttention turns global attention on; off, global tokens attend
	// like any other.
	GlobalAttention bool `json:"global_attention" doc:"ablation: global attention on the question (off: local only)"`
	// SeparateGlobalProjections gives global attention its own query, key
	// and value projections; off, it uses the local ones.
	SeparateGlobalProjections bool `json:"separate_global_projections" doc:"ablation: own query/key/value projections for global attention"`
	// FeedForward keeps each layer's feed-forward block.
	FeedForward bool `json:"feedforward" doc:"ablation: each layer's feed-forward block"`
	// LayerNorm keeps the layer norms (embeddings and both per layer).
	LayerNorm bool `json:"layer_norm" doc:"ablation: the layer norms"`
}

// Windows are the attention windows, one per layer (w/2 tokens on each
// side). In config.json it is an int (every layer) or a list.
type Windows struct {
	PerLayer []int
	// Scalar records that the file gave one int for every layer.
	Scalar bool
}

// UnmarshalJSON reads an int or a list of ints.
func (w *Windows) UnmarshalJSON(b []byte) error {
	var one int
	if err := json.Unmarshal(b, &one); err == nil {
		*w = Windows{PerLayer: []int{one}, Scalar: true}
		return nil
	}
	var list []int
	if err := json.Unmarshal(b, &list); err != nil {
		return fmt.Errorf("attention_window: want an int or a list of ints, got %s", b)
	}
	*w = Windows{PerLayer: list}
	return nil
}

// UnmarshalConfig reads the value of a TOML config: an integer or an
// array of integers.
func (w *Windows) UnmarshalConfig(v any) error {
	switch x := v.(type) {
	case int64:
		*w = Windows{PerLayer: []int{int(min(max(x, math.MinInt32), math.MaxInt32))}, Scalar: true}
		return nil
	case []any:
		list := make([]int, len(x))
		for i, e := range x {
			n, ok := e.(int64)
			if !ok {
				return fmt.Errorf("element %d is %s; allowed: an even integer, or an array of them, one per layer", i, tomlconf.Describe(e))
			}
			list[i] = int(min(max(n, math.MinInt32), math.MaxInt32))
		}
		*w = Windows{PerLayer: list}
		return nil
	}
	return fmt.Errorf("must be an even integer, or an array of them, one per layer; got %s", tomlconf.Describe(v))
}

// ConfigValue returns the value a TOML config writes: an int or a list.
func (w Windows) ConfigValue() any {
	if w.Scalar && len(w.PerLayer) > 0 {
		return w.PerLayer[0]
	}
	return w.PerLayer
}

// MarshalJSON writes an int when the file gave one, else the list.
func (w Windows) MarshalJSON() ([]byte, error) {
	if w.Scalar && len(w.PerLayer) > 0 {
		return json.Marshal(w.PerLayer[0])
	}
	return json.Marshal(w.PerLayer)
}

// The architectures of Config.Architectures that name olc's heads.
const (
	ArchQA  = "LongformerForQuestionAnswering"
	ArchMLM = "LongformerForMaskedLM"
)

// TrainedFor reports whether the checkpoint's config says it was trained
// with the head of arch, and known whether it says anything at all.
func (c *Config) TrainedFor(arch string) (trained, known bool) {
	return slices.Contains(c.Architectures, arch), len(c.Architectures) > 0
}

// Window returns the attention window of layer l.
func (c *Config) Window(l int) int {
	if c.AttentionWindow.Scalar || len(c.AttentionWindow.PerLayer) == 1 {
		return c.AttentionWindow.PerLayer[0]
	}
	return c.AttentionWindow.PerLayer[l]
}

// MaxWindow returns the largest window over the layers.
func (c *Config) MaxWindow() int { return slices.Max(c.AttentionWindow.PerLayer) }

// HeadDim returns hidden_size / num_attention_heads.
func (c *Config) HeadDim() int { return c.HiddenSize / c.NumAttentionHeads }

// DefaultConfig returns longformer-base-4096's configuration (the
// reference's defaults with its vocabulary, positions, epsilon and one
// token type), with every ablation switch on.
func DefaultConfig() Config {
	c := ReferenceConfig()
	c.VocabSize, c.MaxPositionEmbeddings, c.LayerNormEps, c.TypeVocabSize = 50265, 4098, 1e-5, 1
	return c
}

// ReferenceConfig returns what Hugging Face's LongformerConfig gives the
// fields a config.json leaves out (transformers v4.31: vocab_size 30522,
// max_position_embeddings 512, type_vocab_size 2, layer_norm_eps 1e-12,
// attention_window 512, …), with every ablation switch on. config.json
// files are read over it, so that a checkpoint means here what it means
// to the reference.
func ReferenceConfig() Config {
	return Config{
		VocabSize: 30522, HiddenSize: 768, NumHiddenLayers: 12, NumAttentionHeads: 12,
		IntermediateSize: 3072, AttentionWindow: Windows{PerLayer: []int{512}, Scalar: true},
		MaxPositionEmbeddings: 512, LayerNormEps: 1e-12, HiddenDropoutProb: 0.1,
		AttentionProbsDropoutProb: 0.1, PadTokenID: 1, BosTokenID: 0, EosTokenID: 2, SepTokenID: 2,
		TypeVocabSize: 2, HiddenAct: "gelu", ModelType: "longformer",
		GlobalAttention: true, SeparateGlobalProjections: true, FeedForward: true, LayerNorm: true,
	}
}

// unsupportedKeys checks the keys of a config.json that the reference
// reads and olc does not implement: each must be absent or hold the value
// olc computes with; anything else is refused by name rather than ignored.
func unsupportedKeys(file string, data []byte) []error {
	var raw map[string]json.RawMessage
	if json.Unmarshal(data, &raw) != nil {
		return nil // the typed decoding reports it
	}
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &ConfigError{File: file, Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	str := func(key string) (string, bool) {
		var v string
		if m, ok := raw[key]; ok && json.Unmarshal(m, &v) == nil {
			return v, true
		}
		return "", false
	}
	flag := func(key string) bool {
		var v bool
		m, ok := raw[key]
		return ok && json.Unmarshal(m, &v) == nil && v
	}
	if m, ok := raw["attention_dilation"]; ok {
		var one int
		var list []int
		switch {
		case json.Unmarshal(m, &one) == nil && one == 1:
		case json.Unmarshal(m, &list) == nil && !slices.ContainsFunc(list, func(d int) bool { return d != 1 }):
		default:
			bad("attention_dilation", "%s is not supported; olc implements undilated windows (1 for every layer)", m)
		}
	}
	if v, ok := str("attention_mode"); ok && v != "longformer" && v != "sliding_chunks" {
		bad("attention_mode", "%q is not supported; olc implements the sliding-chunks attention of Hugging Face's Longformer (\"longformer\")", v)
	}
	if v, ok := str("position_embedding_type"); ok && v != "absolute" {
		bad("position_embedding_type", "%q is not supported; olc implements absolute position embeddings", v)
	}
	for _, key := range []string{"is_decoder", "add_cross_attention"} {
		if flag(key) {
			bad(key, "true is not supported: olc's Longformer is an encoder without cross-attention")
		}
	}
	if m, ok := raw["tie_word_embeddings"]; ok {
		var tied bool
		if json.Unmarshal(m, &tied) == nil && !tied {
			bad("tie_word_embeddings", "false is not supported: olc's masked-LM head decodes with the word embeddings")
		}
	}
	return errs
}

// A ConfigError names the file, the line, the key and what is allowed: the
// one config error type of olc.
type ConfigError = tomlconf.Error

// Validate checks the configuration; file names it in the errors, all of
// which are *ConfigError values joined.
func (c *Config) Validate(file string) error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &ConfigError{File: file, Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	positive := map[string]int{
		"vocab_size": c.VocabSize, "hidden_size": c.HiddenSize, "num_hidden_layers": c.NumHiddenLayers,
		"num_attention_heads": c.NumAttentionHeads, "intermediate_size": c.IntermediateSize,
		"max_position_embeddings": c.MaxPositionEmbeddings, "type_vocab_size": c.TypeVocabSize,
	}
	keys := make([]string, 0, len(positive))
	for k := range positive {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if positive[k] <= 0 {
			bad(k, "must be a positive integer, not %d", positive[k])
		}
	}
	if c.HiddenSize > 0 && c.NumAttentionHeads > 0 && c.HiddenSize%c.NumAttentionHeads != 0 {
		bad("hidden_size", "%d is not a multiple of num_attention_heads (%d)", c.HiddenSize, c.NumAttentionHeads)
	}
	w := c.AttentionWindow.PerLayer
	switch {
	case len(w) == 0:
		bad("attention_window", "missing: give an even positive int, or one per layer")
	case len(w) > 1 && len(w) != c.NumHiddenLayers:
		bad("attention_window", "has %d values for %d layers; give one int or one per layer", len(w), c.NumHiddenLayers)
	}
	for i, v := range w {
		if v <= 0 || v%2 != 0 {
			key := "attention_window"
			if len(w) > 1 {
				key = fmt.Sprintf("attention_window[%d]", i)
			}
			bad(key, "%d is not an even positive number (each token sees w/2 tokens on each side)", v)
		}
	}
	if !(c.LayerNormEps > 0) {
		bad("layer_norm_eps", "must be positive, not %g", c.LayerNormEps)
	}
	for _, d := range []struct {
		k string
		p float64
	}{{"attention_probs_dropout_prob", c.AttentionProbsDropoutProb}, {"hidden_dropout_prob", c.HiddenDropoutProb}} {
		if !(d.p >= 0 && d.p < 1) {
			bad(d.k, "must be in [0, 1), not %g", d.p)
		}
	}
	for _, id := range []struct {
		k string
		v int
	}{{"pad_token_id", c.PadTokenID}, {"bos_token_id", c.BosTokenID}, {"eos_token_id", c.EosTokenID}, {"sep_token_id", c.SepTokenID}} {
		if c.VocabSize > 0 && (id.v < 0 || id.v >= c.VocabSize) {
			bad(id.k, "%d is outside the vocabulary [0, %d)", id.v, c.VocabSize)
		}
	}
	if c.MaxPositionEmbeddings > 0 && c.MaxPositionEmbeddings < c.PadTokenID+2 {
		bad("max_position_embeddings", "%d leaves no position for a token (positions start at pad_token_id+1 = %d)", c.MaxPositionEmbeddings, c.PadTokenID+1)
	}
	if c.HiddenAct != "gelu" {
		bad("hidden_act", "%q is not supported; olc implements gelu (exact, with erf)", c.HiddenAct)
	}
	if c.ModelType != "" && c.ModelType != "longformer" {
		bad("model_type", "%q is not a Longformer", c.ModelType)
	}
	return errors.Join(errs...)
}

// MaxTokens returns the longest sequence the position table serves:
// max_position_embeddings − pad_token_id − 1.
func (c *Config) MaxTokens() int { return c.MaxPositionEmbeddings - c.PadTokenID - 1 }

// ParseConfig reads a configuration from config.json (Hugging Face's
// format; keys olc does not use are ignored, as a real checkpoint has many)
// or from TOML (olc's own; unknown keys are errors). Fields a config.json
// does not give take the reference's defaults (ReferenceConfig), fields a
// TOML file does not give DefaultConfig's (longformer-base-4096's); keys
// of config.json that the reference reads and olc does not implement are
// refused by name unless they hold the value olc computes with. file names the source in errors and
// picks the format by its extension. Every problem is reported, each a
// *ConfigError with its line where the format tells it.
func ParseConfig(file string, data []byte) (*Config, error) {
	c := DefaultConfig()
	data = bom.Trim(data)
	if strings.EqualFold(filepath.Ext(file), ".toml") {
		d, err := tomlconf.Parse(file, data)
		if err != nil {
			return nil, err
		}
		root := d.Root()
		root.Decode(&c, "json")
		if d.Failed() == 0 {
			root.Adopt(c.Validate(file))
		}
		if err := d.Err(); err != nil {
			return nil, err
		}
		return &c, nil
	}
	c = ReferenceConfig()
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&c); err != nil {
		var te *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &te):
			want := map[string]string{"int": "an integer", "float64": "a number", "bool": "true or false", "string": "a string"}[te.Type.String()]
			if want == "" {
				want = te.Type.String()
			}
			return nil, &ConfigError{File: file, Line: lineAt(data, te.Offset), Key: te.Field, Msg: fmt.Sprintf("must be %s, got a JSON %s", want, te.Value)}
		case errors.As(err, &se):
			return nil, &ConfigError{File: file, Line: lineAt(data, se.Offset), Msg: "invalid JSON: " + se.Error()}
		}
		return nil, &ConfigError{File: file, Msg: err.Error()}
	}
	errs := unsupportedKeys(file, data)
	if err := c.Validate(file); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return &c, nil
}

// lineAt returns the line of a byte offset.
func lineAt(data []byte, off int64) int {
	off = min(max(off, 0), int64(len(data)))
	return bytes.Count(data[:off], []byte("\n")) + 1
}

// LoadConfig reads and validates a configuration file.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read model config: %w", err)
	}
	return ParseConfig(path, data)
}

// JSON returns the configuration as config.json.
func (c *Config) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(c, "", "  ")
	return append(b, '\n'), err
}
