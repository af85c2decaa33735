package train

import (
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/olc-toolkit/olc/internal/tomlconf"
	"github.com/olc-toolkit/olc/model"
	"github.com/olc-toolkit/olc/optimize"
)

// Config is a training run, read from TOML: sections [model], [data],
// [optimizer], [schedule], [train] and [output]. WriteDefaults prints
// every key with its default and meaning (olc train --print-defaults).
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
	Task        string   `toml:"task" doc:"synthetic task: passkey, niah, niah-multikey, kv, vt; left out (or \"\") when train_file is given"`
	TrainFile   string   `toml:"train_file" doc:"your own SQuAD-format JSON (v1.1 or v2.0) to train on, instead of a task"`
	EvalFile    string   `toml:"eval_file" doc:"SQuAD-format JSON to evaluate on (with train_file)"`
	TextFiles   []string `toml:"text_files" doc:"plain-text files for train.task = \"mlm\""`
	Lengths     string   `toml:"lengths" doc:"synthetic context lengths in bytes: \"1024-2048\" (drawn uniformly) or \"1024,2048\""`
	EvalLengths string   `toml:"eval_lengths" doc:"lengths of the synthetic eval set (default: lengths)"`
	EvalDepths  string   `toml:"eval_depths" doc:"needle depths of the synthetic eval set, fractions: \"0,0.5,1\" (default: random)"`
	NTrain      int      `toml:"n_train" doc:"synthetic training examples"`
	NEval       int      `toml:"n_eval" doc:"synthetic eval examples per length and depth"`
	Filler      string   `toml:"filler" doc:"a text file for the haystack (default: olc's own sentences)"`
	Keys        int      `toml:"keys" doc:"needles (niah-multikey) or chain length (vt); 0: the task's default"`
	MaxLen      int      `toml:"max_len" doc:"tokens per window; 0: the model's maximum"`
	Stride      int      `toml:"stride" doc:"tokens shared by consecutive windows of a long context"`
	HeldOut     float64  `toml:"held_out" doc:"mlm: fraction of each text file held out for evaluation"`
	SkipInvalid bool     `toml:"skip_invalid" doc:"leave out SQuAD items whose answer_start is wrong (default: refuse the file)"`
}

// OptimizerConfig is AdamW's (decoupled weight decay, not applied to biases
// and LayerNorm parameters).
type OptimizerConfig struct {
	LR          float64 `toml:"lr" doc:"peak learning rate"`
	WeightDecay float64 `toml:"weight_decay" doc:"decoupled weight decay (not on biases and LayerNorm)"`
	Beta1       float64 `toml:"beta1" doc:"AdamW's first-moment decay, in [0, 1)"`
	Beta2       float64 `toml:"beta2" doc:"AdamW's second-moment decay, in [0, 1)"`
	Eps         float64 `toml:"eps" doc:"AdamW's epsilon"`
	ClipNorm    float64 `toml:"clip_norm" doc:"global gradient-norm clipping; 0 turns it off"`
}

// ScheduleConfig is the learning-rate schedule: linear warm-up, then
// cosine, linear or no decay to MinLRRatio·lr at the last step.
type ScheduleConfig struct {
	Warmup     int     `toml:"warmup" doc:"steps of linear warm-up"`
	Decay      string  `toml:"decay" doc:"after warm-up: cosine, linear or constant"`
	MinLRRatio float64 `toml:"min_lr_ratio" doc:"the learning rate at the last step, as a fraction of lr"`
}

// TrainConfig is the loop's.
type TrainConfig struct {
	Task          string  `toml:"task" doc:"qa (extractive question answering) or mlm (masked language modelling)"`
	Steps         int     `toml:"steps" doc:"optimizer steps"`
	Batch         int     `toml:"batch" doc:"examples per micro-batch"`
	Accumulate    int     `toml:"accumulate" doc:"micro-batches per optimizer step"`
	EvalEvery     int     `toml:"eval_every" doc:"evaluate every k steps; 0: only at the end"`
	CkptEvery     int     `toml:"checkpoint_every" doc:"checkpoint every k steps; 0: only at the end"`
	Seed          uint64  `toml:"seed" doc:"seeds the init, the data order, dropout and the synthetic data"`
	Threads       int     `toml:"threads" doc:"data-parallel replicas (and cores used)"`
	Checkpointing bool    `toml:"gradient_checkpointing" doc:"recompute activations in the backward pass: less memory, about 30% more time"`
	MaskProb      float64 `toml:"mask_prob" doc:"mlm: fraction of tokens masked"`
	// Early stopping: stop when the eval metric has not improved for
	// Patience evaluations (0: never).
	Patience   int    `toml:"patience" doc:"stop after this many evaluations without improvement; 0: never"`
	StopMetric string `toml:"stop_metric" doc:"the metric of early stopping: exact, f1 or loss"`
	// TimeLimit stops training (with an evaluation and a checkpoint) after
	// this many seconds; 0: none.
	TimeLimit float64 `toml:"time_limit" doc:"stop (evaluate, checkpoint, save) after this many seconds; 0: no limit"`
	// Init starts from a model folder instead of a random init.
	Init string `toml:"init" doc:"a model folder to start from ([model] is then ignored)"`
	// MaxAnswerLen bounds decoded answers, in tokens.
	MaxAnswerLen int `toml:"max_answer_length" doc:"longest answer decoded, in tokens"`
	// Precision is the matrix products' arithmetic (model.Precision):
	// float32, or bf16 on the AMX tile unit with float32 weights,
	// gradients and optimizer state.
	Precision string `toml:"precision" doc:"float32, or bf16 (bfloat16 products on the AMX tile unit; weights, gradients and optimizer state stay float32)"`
}

// OutputConfig names the run: metrics and checkpoints go to Dir/Name.
type OutputConfig struct {
	Name string `toml:"name" doc:"the run's name: its folder and its study train.<name> in the store"`
	Dir  string `toml:"dir" doc:"the folder of runs, relative to this file"`
}

// Sections are a train config's tables, in the order WriteDefaults writes
// them.
var Sections = []string{"model", "data", "optimizer", "schedule", "train", "output"}

// DefaultConfig returns the defaults: a tiny passkey run.
func DefaultConfig() Config {
	m := model.DefaultConfig()
	m.VocabSize, m.HiddenSize, m.NumHiddenLayers, m.NumAttentionHeads, m.IntermediateSize = 260, 128, 2, 4, 512
	m.AttentionWindow = model.Windows{PerLayer: []int{64}, Scalar: true}
	m.MaxPositionEmbeddings = 2178
	m.HiddenDropoutProb, m.AttentionProbsDropoutProb = 0, 0
	return Config{
		Model:     m,
		Data:      DataConfig{Task: "passkey", Lengths: "1024-2048", NTrain: 20000, NEval: 20, Stride: 128, HeldOut: 0.05},
		Optimizer: OptimizerConfig{LR: 1e-3, WeightDecay: 0.01, Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, ClipNorm: 1},
		Schedule:  ScheduleConfig{Warmup: 50, Decay: "cosine"},
		Train:     TrainConfig{Task: "qa", Steps: 1000, Batch: 8, Accumulate: 1, EvalEvery: 100, CkptEvery: 100, Seed: 1, Threads: 2, MaskProb: 0.15, StopMetric: "exact", MaxAnswerLen: 30, Precision: "float32"},
		Output:    OutputConfig{Name: "run", Dir: filepath.Join(".olc", "runs")},
	}
}

// ConfigError is a problem in a train config: the file, the line, the key
// path and what is allowed (the one config error type of olc).
type ConfigError = tomlconf.Error

// section returns the part of c that a section decodes into, with its tag.
func (c *Config) section(name string) (v any, tag string) {
	switch name {
	case "model":
		return &c.Model, "json"
	case "data":
		return &c.Data, "toml"
	case "optimizer":
		return &c.Optimizer, "toml"
	case "schedule":
		return &c.Schedule, "toml"
	case "train":
		return &c.Train, "toml"
	case "output":
		return &c.Output, "toml"
	}
	return nil, ""
}

// WriteDefaults writes the default train config as TOML, every section and
// key with its meaning: the reference olc train --print-defaults prints
// and examples/train-reference.toml holds.
func WriteDefaults(w io.Writer) error {
	c := DefaultConfig()
	intro := []string{
		"# olc train: every section and key of a train config, with its default.",
		"# Leave out what you do not change; unknown keys are errors. Paths are",
		"# relative to this file. Override any key with --set section.key=value.",
	}
	heads := map[string]string{
		"model":     "# The Longformer (Hugging Face LongformerConfig names) and its ablation switches.",
		"data":      "# Where examples come from: a synthetic task, your SQuAD-format files, or text (mlm).",
		"optimizer": "# AdamW.",
		"schedule":  "# The learning rate: linear warm-up, then decay to min_lr_ratio·lr at the last step.",
		"train":     "# The loop: steps, batches, evaluation, checkpoints, early stopping, limits.",
		"output":    "# Metrics go to dir/name/metrics.jsonl, checkpoints to dir/name/checkpoint, the model to dir/name/model.",
	}
	if _, err := fmt.Fprintln(w, strings.Join(intro, "\n")); err != nil {
		return err
	}
	for _, name := range Sections {
		v, tag := c.section(name)
		if _, err := fmt.Fprintf(w, "\n%s\n", heads[name]); err != nil {
			return err
		}
		if err := tomlconf.WriteTable(w, name, v, tag); err != nil {
			return err
		}
	}
	return nil
}

// LoadConfig reads and parses the train config at path, with overrides
// applied (see ParseConfig).
func LoadConfig(path string, overrides ...Override) (*Config, error) {
	data, err := tomlconf.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseConfig(path, data, overrides...)
}

// ParseOverrides turns command-line assignments section.key=value into
// overrides, each blamed on "flag assignment" when wrong. Values are TOML
// (numbers, booleans, quoted strings, arrays); a bare word is a string
// (see tomlconf.ParseValue). A malformed assignment is a *ConfigError.
func ParseOverrides(flag string, assignments []string) ([]Override, error) {
	var out []Override
	var errs []error
	for _, s := range assignments {
		src := flag + " " + s
		k, v, ok := strings.Cut(s, "=")
		if !ok || strings.TrimSpace(k) == "" {
			errs = append(errs, &ConfigError{Flag: src, Msg: "want section.key=value, e.g. " + flag + " optimizer.lr=3e-4"})
			continue
		}
		val, err := tomlconf.ParseValue(v)
		if err != nil {
			errs = append(errs, &ConfigError{Flag: src, Msg: err.Error()})
			continue
		}
		out = append(out, Override{Key: strings.TrimSpace(k), Value: val, Source: src})
	}
	return out, errors.Join(errs...)
}

// Override sets one key of a train config by its dotted path ("optimizer.lr",
// "model.attention_window"), the way --set and an optimize trial do.
// Source names it in errors ("--set optimizer.lr=abc"); problems with it
// are blamed on Source, not the file.
type Override struct {
	Key    string
	Value  any
	Source string
}

// ParseConfig parses a TOML train config, applies overrides and validates
// the result. Every problem found is reported, each a *ConfigError with
// the file, the line and the key (or the override's source).
func ParseConfig(file string, data []byte, overrides ...Override) (*Config, error) {
	d, err := tomlconf.Parse(file, data)
	if err != nil {
		return nil, err
	}
	for _, o := range overrides {
		src := o.Source
		if src == "" {
			src = "override " + o.Key
		}
		d.Set(o.Key, o.Value, src)
	}
	c := DefaultConfig()
	c.File = file
	root := d.Root()
	root.Only(Sections...)
	for _, name := range Sections {
		sec, ok := root.Table(name)
		if !ok {
			continue
		}
		v, tag := c.section(name)
		sec.Decode(v, tag)
	}
	// data.task defaults to passkey only when no file of one's own is given.
	if data, _ := root.Table("data"); data.Has("train_file") && !data.Has("task") {
		c.Data.Task = ""
	}
	// The values are checked too, but for keys whose type was wrong (they
	// kept their defaults).
	c.check(func(key, format string, args ...any) {
		if !d.HasError(key) {
			d.Fail(key, format, args...)
		}
	})
	if err := d.Err(); err != nil {
		return nil, err
	}
	return &c, nil
}

// Validate checks every value and reports every problem, each a
// *ConfigError naming the key.
func (c *Config) Validate() error {
	var errs []error
	c.check(func(key, format string, args ...any) {
		errs = append(errs, tomlconf.Errorf(c.File, key, format, args...))
	})
	return errors.Join(errs...)
}

// check reports every bad value to bad, by key path.
func (c *Config) check(bad func(key, format string, args ...any)) {
	for _, e := range tomlconf.Unjoin(c.Model.Validate("")) {
		var ce *tomlconf.Error
		if errors.As(e, &ce) {
			bad("model."+ce.Key, "%s", ce.Msg)
		} else {
			bad("model", "%v", e)
		}
	}
	d, o, s, t := &c.Data, &c.Optimizer, &c.Schedule, &c.Train
	switch t.Task {
	case "qa":
		switch {
		case d.Task == "" && d.TrainFile == "":
			bad("data", "a qa run needs data.task (one of %s) or data.train_file", strings.Join(Tasks, ", "))
		case d.Task != "" && d.TrainFile != "":
			bad("data.train_file", "give data.task or data.train_file, not both: leave data.task out (or \"\") to train on your file")
		case d.Task != "" && !slices.Contains(Tasks, d.Task):
			bad("data.task", "unknown task %q; allowed: %s", d.Task, strings.Join(Tasks, ", "))
		}
		if d.Task != "" {
			if _, err := ParseLengths(d.Lengths); err != nil {
				bad("data.lengths", "%v", err)
			}
			if d.EvalLengths != "" {
				if _, err := ParseLengths(d.EvalLengths); err != nil {
					bad("data.eval_lengths", "%v", err)
				}
			}
			if d.NTrain < 1 {
				bad("data.n_train", "must be at least 1, not %d", d.NTrain)
			}
		}
		if d.EvalDepths != "" {
			if _, err := ParseDepths(d.EvalDepths); err != nil {
				bad("data.eval_depths", "%v", err)
			}
		}
	case "mlm":
		if len(d.TextFiles) == 0 {
			bad("data.text_files", "an mlm run needs at least one text file")
		}
		if !(t.MaskProb > 0 && t.MaskProb < 1) {
			bad("train.mask_prob", "must be in (0, 1), not %g", t.MaskProb)
		}
		if !(d.HeldOut > 0 && d.HeldOut < 1) {
			bad("data.held_out", "must be in (0, 1), not %g", d.HeldOut)
		}
	default:
		bad("train.task", "must be qa or mlm, not %q", t.Task)
	}
	if max := c.Model.MaxTokens(); c.Model.MaxPositionEmbeddings > 0 && (d.MaxLen < 0 || d.MaxLen > max) {
		bad("data.max_len", "must be in [0, %d] (the model's max_position_embeddings − pad_token_id − 1), not %d", max, d.MaxLen)
	}
	if d.Stride < 0 {
		bad("data.stride", "must not be negative, not %d", d.Stride)
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
			bad(p.k, "must be %s, not %g", p.want, p.v)
		}
	}
	if !slices.Contains([]string{"cosine", "linear", "constant"}, s.Decay) {
		bad("schedule.decay", "must be cosine, linear or constant, not %q", s.Decay)
	}
	for _, p := range []struct {
		k   string
		v   int
		min int
	}{{"schedule.warmup", s.Warmup, 0}, {"train.steps", t.Steps, 1}, {"train.batch", t.Batch, 1}, {"train.accumulate", t.Accumulate, 1},
		{"train.eval_every", t.EvalEvery, 0}, {"train.checkpoint_every", t.CkptEvery, 0}, {"train.threads", t.Threads, 1},
		{"train.patience", t.Patience, 0}, {"train.max_answer_length", t.MaxAnswerLen, 1},
		{"data.n_eval", d.NEval, 0}, {"data.keys", d.Keys, 0}} {
		if p.v < p.min {
			bad(p.k, "must be at least %d, not %d", p.min, p.v)
		}
	}
	if t.Threads > 1024 {
		bad("train.threads", "must be at most 1024, not %d", t.Threads)
	}
	if _, err := model.ParsePrecision(t.Precision); err != nil {
		bad("train.precision", "%v", err)
	}
	if !slices.Contains([]string{"exact", "f1", "loss"}, t.StopMetric) {
		bad("train.stop_metric", "must be exact, f1 or loss, not %q", t.StopMetric)
	}
	// The run's name is a folder and, as train.<name>, a study's name.
	switch n := c.Output.Name; {
	case len(n) > optimize.MaxNameLen-len("train."):
		bad("output.name", "is %d characters long; allowed: at most %d", len(n), optimize.MaxNameLen-len("train."))
	case !optimize.ValidName(n):
		bad("output.name", "%q is not a plain folder name; allowed: letters, digits, '-', '_', '.', not starting with '-' or '.'", n)
	}
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
