package train

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2"

	"github.com/olc-toolkit/olc/model"
)

// Config is a training run, read from TOML: sections [model], [data],
// [optimizer], [schedule], [train] and [output].
type Config struct {
	// Model is the model config (Hugging Face LongformerConfig names and
	// the ablation switches); ignored when Train.Init names a model
	// folder to start from.
	Model     model.Config    `toml:"-"`
	Data      DataConfig      `toml:"data"`
	Optimizer OptimizerConfig `toml:"optimizer"`
	Schedule  ScheduleConfig  `toml:"schedule"`
	Train     TrainConfig     `toml:"train"`
	Output    OutputConfig    `toml:"output"`
	// File is the config's path; relative data paths are relative to its
	// folder.
	File string `toml:"-"`
}

// DataConfig says where examples come from: a synthetic task, SQuAD-format
// files, or plain text for mlm.
type DataConfig struct {
	Task        string   `toml:"task"`         // a synthetic task (Tasks), or ""
	TrainFile   string   `toml:"train_file"`   // SQuAD-format JSON
	EvalFile    string   `toml:"eval_file"`    // SQuAD-format JSON
	TextFiles   []string `toml:"text_files"`   // plain text, for mlm
	Lengths     string   `toml:"lengths"`      // synthetic context lengths, e.g. "1024-2048" or "1024,2048"
	EvalLengths string   `toml:"eval_lengths"` // defaults to Lengths
	EvalDepths  string   `toml:"eval_depths"`  // e.g. "0,0.25,0.5,0.75,1"; random when empty
	NTrain      int      `toml:"n_train"`      // synthetic training examples
	NEval       int      `toml:"n_eval"`       // synthetic eval examples per length and depth
	Filler      string   `toml:"filler"`       // a text file for the haystack
	Keys        int      `toml:"keys"`         // needles (niah-multikey), chain length (vt)
	MaxLen      int      `toml:"max_len"`      // tokens per window; the model's maximum when 0
	Stride      int      `toml:"stride"`       // overlap of windows
	HeldOut     float64  `toml:"held_out"`     // mlm: fraction of the text held out
	SkipInvalid bool     `toml:"skip_invalid"`
}

// OptimizerConfig is AdamW's (decoupled weight decay, not applied to biases
// and LayerNorm parameters).
type OptimizerConfig struct {
	LR          float64 `toml:"lr"`
	WeightDecay float64 `toml:"weight_decay"`
	Beta1       float64 `toml:"beta1"`
	Beta2       float64 `toml:"beta2"`
	Eps         float64 `toml:"eps"`
	ClipNorm    float64 `toml:"clip_norm"` // global gradient norm; 0 turns clipping off
}

// ScheduleConfig is the learning-rate schedule: linear warm-up, then
// cosine, linear or no decay to MinLRRatio·lr at the last step.
type ScheduleConfig struct {
	Warmup     int     `toml:"warmup"`
	Decay      string  `toml:"decay"`
	MinLRRatio float64 `toml:"min_lr_ratio"`
}

// TrainConfig is the loop's.
type TrainConfig struct {
	Task          string  `toml:"task"` // qa or mlm
	Steps         int     `toml:"steps"`
	Batch         int     `toml:"batch"`
	Accumulate    int     `toml:"accumulate"`
	EvalEvery     int     `toml:"eval_every"`
	CkptEvery     int     `toml:"checkpoint_every"`
	Seed          uint64  `toml:"seed"`
	Threads       int     `toml:"threads"`
	Checkpointing bool    `toml:"gradient_checkpointing"`
	MaskProb      float64 `toml:"mask_prob"`
	// Early stopping: stop when the eval metric has not improved for
	// Patience evaluations (0: never).
	Patience   int    `toml:"patience"`
	StopMetric string `toml:"stop_metric"` // exact, f1 or loss
	// TimeLimit stops training (with an evaluation and a checkpoint) after
	// this many seconds; 0: none.
	TimeLimit float64 `toml:"time_limit"`
	// Init starts from a model folder instead of a random init.
	Init string `toml:"init"`
	// MaxAnswerLen bounds decoded answers, in tokens.
	MaxAnswerLen int `toml:"max_answer_length"`
}

// OutputConfig names the run: metrics and checkpoints go to Dir/Name.
type OutputConfig struct {
	Name string `toml:"name"`
	Dir  string `toml:"dir"`
}

// DefaultConfig returns the defaults: a tiny passkey run.
func DefaultConfig() Config {
	m := model.DefaultConfig()
	m.VocabSize, m.HiddenSize, m.NumHiddenLayers, m.NumAttentionHeads, m.IntermediateSize = 260, 128, 2, 4, 512
	m.AttentionWindow = model.Windows{PerLayer: []int{64}}
	m.MaxPositionEmbeddings = 2178
	m.HiddenDropoutProb, m.AttentionProbsDropoutProb = 0, 0
	return Config{
		Model:     m,
		Data:      DataConfig{Task: "passkey", Lengths: "1024-2048", NTrain: 20000, NEval: 20, Stride: 128, HeldOut: 0.05},
		Optimizer: OptimizerConfig{LR: 1e-3, WeightDecay: 0.01, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, ClipNorm: 1},
		Schedule:  ScheduleConfig{Warmup: 50, Decay: "cosine"},
		Train:     TrainConfig{Task: "qa", Steps: 1000, Batch: 8, Accumulate: 1, EvalEvery: 100, CkptEvery: 100, Seed: 1, Threads: 2, MaskProb: 0.15, StopMetric: "exact", MaxAnswerLen: 30},
		Output:    OutputConfig{Name: "run", Dir: filepath.Join(".olc", "runs")},
	}
}

// ConfigError names the file, the key and what is allowed.
type ConfigError struct {
	File, Key, Msg string
}

func (e *ConfigError) Error() string {
	if e.Key == "" {
		return e.File + ": " + e.Msg
	}
	return e.File + ": " + e.Key + ": " + e.Msg
}

// LoadConfig reads and validates a train config.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read train config: %w", err)
	}
	return ParseConfig(path, data, nil)
}

// ParseConfig parses a TOML train config, applies overrides (dotted key
// paths such as "optimizer.lr" or "model.attention_window", the way an
// optimize trial sets them) and validates the result.
func ParseConfig(file string, data []byte, overrides map[string]any) (*Config, error) {
	var raw map[string]any
	if err := toml.Unmarshal(data, &raw); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			line, _ := de.Position()
			return nil, &ConfigError{File: fmt.Sprintf("%s:%d", file, line), Msg: "invalid TOML: " + de.Error()}
		}
		return nil, &ConfigError{File: file, Msg: "invalid TOML: " + err.Error()}
	}
	if raw == nil {
		raw = map[string]any{}
	}
	sections := []string{"model", "data", "optimizer", "schedule", "train", "output"}
	for k, v := range raw {
		if !slices.Contains(sections, k) {
			return nil, &ConfigError{File: file, Key: k, Msg: "unknown section; the sections are " + strings.Join(sections, ", ")}
		}
		if _, ok := v.(map[string]any); !ok {
			return nil, &ConfigError{File: file, Key: k, Msg: "must be a table ([" + k + "])"}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(overrides)) {
		sec, key, ok := strings.Cut(k, ".")
		if !ok || !slices.Contains(sections, sec) || key == "" {
			return nil, &ConfigError{File: file, Key: k, Msg: "an override must be a dotted path section.key, the sections being " + strings.Join(sections, ", ")}
		}
		t, _ := raw[sec].(map[string]any)
		if t == nil {
			t = map[string]any{}
			raw[sec] = t
		}
		t[key] = overrides[k]
	}
	c := DefaultConfig()
	c.File = file
	// [model]: the model package's own parser (JSON names), over the
	// defaults above.
	if m, ok := raw["model"].(map[string]any); ok && len(m) > 0 {
		base, _ := json.Marshal(c.Model)
		var merged map[string]any
		json.Unmarshal(base, &merged)
		for _, k := range slices.Sorted(maps.Keys(m)) {
			if _, known := merged[k]; !known {
				return nil, &ConfigError{File: file, Key: "model." + k, Msg: "unknown key; the keys of [model] are " + strings.Join(slices.Sorted(maps.Keys(merged)), ", ")}
			}
			merged[k] = m[k]
		}
		b, _ := json.Marshal(merged)
		mc, err := model.ParseConfig("x.json", b)
		if err != nil {
			var ce *model.ConfigError
			if errors.As(err, &ce) {
				return nil, &ConfigError{File: file, Key: "model." + ce.Key, Msg: ce.Msg}
			}
			return nil, &ConfigError{File: file, Key: "model", Msg: err.Error()}
		}
		c.Model = *mc
	}
	delete(raw, "model")
	b, _ := toml.Marshal(raw)
	dec := toml.NewDecoder(bytes.NewReader(b)).DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		var sme *toml.StrictMissingError
		if errors.As(err, &sme) && len(sme.Errors) > 0 {
			k := strings.Join(sme.Errors[0].Key(), ".")
			sec, _, _ := strings.Cut(k, ".")
			return nil, &ConfigError{File: file, Key: k, Msg: "unknown key; the keys of [" + sec + "] are " + strings.Join(tomlKeys(sec), ", ")}
		}
		var de *toml.DecodeError
		if errors.As(err, &de) {
			return nil, &ConfigError{File: file, Key: strings.Join(de.Key(), "."), Msg: de.Error()}
		}
		return nil, &ConfigError{File: file, Msg: err.Error()}
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

// tomlKeys lists a section's keys.
func tomlKeys(section string) []string {
	b, _ := toml.Marshal(DefaultConfig())
	var m map[string]any
	toml.Unmarshal(b, &m)
	t, _ := m[section].(map[string]any)
	var keys []string
	for k := range t {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Validate checks every value and names the first bad key.
func (c *Config) Validate() error {
	bad := func(key, f string, a ...any) error {
		return &ConfigError{File: c.File, Key: key, Msg: fmt.Sprintf(f, a...)}
	}
	d, o, s, t := &c.Data, &c.Optimizer, &c.Schedule, &c.Train
	switch t.Task {
	case "qa":
		if d.Task == "" && d.TrainFile == "" {
			return bad("data", "a qa run needs data.task (one of %s) or data.train_file", strings.Join(Tasks, ", "))
		}
		if d.Task != "" && d.TrainFile != "" {
			return bad("data.train_file", "give data.task or data.train_file, not both")
		}
		if d.Task != "" && !slices.Contains(Tasks, d.Task) {
			return bad("data.task", "unknown task %q; the tasks are %s", d.Task, strings.Join(Tasks, ", "))
		}
		if d.Task != "" {
			if _, err := ParseLengths(d.Lengths); err != nil {
				return bad("data.lengths", "%v", err)
			}
			if d.EvalLengths != "" {
				if _, err := ParseLengths(d.EvalLengths); err != nil {
					return bad("data.eval_lengths", "%v", err)
				}
			}
			if d.NTrain < 1 {
				return bad("data.n_train", "must be at least 1, not %d", d.NTrain)
			}
		}
		if d.EvalDepths != "" {
			if _, err := ParseDepths(d.EvalDepths); err != nil {
				return bad("data.eval_depths", "%v", err)
			}
		}
	case "mlm":
		if len(d.TextFiles) == 0 {
			return bad("data.text_files", "an mlm run needs at least one text file")
		}
		if !(t.MaskProb > 0 && t.MaskProb < 1) {
			return bad("train.mask_prob", "must be in (0, 1), not %g", t.MaskProb)
		}
		if !(d.HeldOut > 0 && d.HeldOut < 1) {
			return bad("data.held_out", "must be in (0, 1), not %g", d.HeldOut)
		}
	default:
		return bad("train.task", "must be qa or mlm, not %q", t.Task)
	}
	if d.MaxLen < 0 || d.MaxLen > c.Model.MaxTokens() {
		return bad("data.max_len", "must be in [0, %d] (the model's max_position_embeddings − pad_token_id − 1), not %d", c.Model.MaxTokens(), d.MaxLen)
	}
	if d.Stride < 0 {
		return bad("data.stride", "must not be negative")
	}
	for _, p := range []struct {
		k    string
		v    float64
		ok   bool
		want string
	}{
		{"optimizer.lr", o.LR, o.LR > 0 && !math.IsInf(o.LR, 0), "> 0"},
		{"optimizer.weight_decay", o.WeightDecay, o.WeightDecay >= 0, "≥ 0"},
		{"optimizer.beta1", o.Beta1, o.Beta1 >= 0 && o.Beta1 < 1, "in [0, 1)"},
		{"optimizer.beta2", o.Beta2, o.Beta2 >= 0 && o.Beta2 < 1, "in [0, 1)"},
		{"optimizer.eps", o.Eps, o.Eps > 0, "> 0"},
		{"optimizer.clip_norm", o.ClipNorm, o.ClipNorm >= 0, "≥ 0 (0: no clipping)"},
		{"schedule.min_lr_ratio", s.MinLRRatio, s.MinLRRatio >= 0 && s.MinLRRatio <= 1, "in [0, 1]"},
		{"train.time_limit", t.TimeLimit, t.TimeLimit >= 0, "≥ 0 seconds"},
	} {
		if !p.ok || math.IsNaN(p.v) {
			return bad(p.k, "must be %s, not %g", p.want, p.v)
		}
	}
	if !slices.Contains([]string{"cosine", "linear", "constant"}, s.Decay) {
		return bad("schedule.decay", "must be cosine, linear or constant, not %q", s.Decay)
	}
	for _, p := range []struct {
		k   string
		v   int
		min int
	}{{"schedule.warmup", s.Warmup, 0}, {"train.steps", t.Steps, 1}, {"train.batch", t.Batch, 1}, {"train.accumulate", t.Accumulate, 1},
		{"train.eval_every", t.EvalEvery, 0}, {"train.checkpoint_every", t.CkptEvery, 0}, {"train.threads", t.Threads, 1},
		{"train.patience", t.Patience, 0}, {"train.max_answer_length", t.MaxAnswerLen, 1}} {
		if p.v < p.min {
			return bad(p.k, "must be at least %d, not %d", p.min, p.v)
		}
	}
	if !slices.Contains([]string{"exact", "f1", "loss"}, t.StopMetric) {
		return bad("train.stop_metric", "must be exact, f1 or loss, not %q", t.StopMetric)
	}
	if c.Output.Name == "" || strings.ContainsAny(c.Output.Name, `/\`) || c.Output.Name == "." || c.Output.Name == ".." {
		return bad("output.name", "must be a plain folder name, not %q", c.Output.Name)
	}
	return nil
}

// Path resolves a path of the config relative to its folder.
func (c *Config) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(filepath.Dir(c.File), p)
}

// RunDir is the run's folder: metrics.jsonl, checkpoint/, model/.
func (c *Config) RunDir() string { return filepath.Join(c.Path(c.Output.Dir), c.Output.Name) }

// ParseLengths parses "1024,2048" or ranges "1024-2048" (each example's
// length drawn uniformly).
func ParseLengths(s string) ([][2]int, error) {
	var out [][2]int
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(strings.TrimSpace(lo))
		if err != nil {
			return nil, fmt.Errorf("length %q: want an integer or a range lo-hi", part)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(strings.TrimSpace(hi)); err != nil {
				return nil, fmt.Errorf("length %q: want an integer or a range lo-hi", part)
			}
		}
		if a < 64 || b < a {
			return nil, fmt.Errorf("length %q: want at least 64 bytes, low ≤ high", part)
		}
		out = append(out, [2]int{a, b})
	}
	return out, nil
}

// ParseDepths parses "0,0.5,1" (fractions of the context).
func ParseDepths(s string) ([]float64, error) {
	var out []float64
	for _, part := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(part), 64)
		if err != nil || v < 0 || v > 1 {
			return nil, fmt.Errorf("depth %q: want a fraction in [0, 1]", part)
		}
		out = append(out, v)
	}
	return out, nil
}
