package train

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/internal/tomlconf"
	"github.com/olc-toolkit/olc/model"
	"github.com/olc-toolkit/olc/optimize"
)

// NewTrainer builds a trainer for a config: the model (BERT's random init
// from the seed, or train.init), the tokenizer (the byte tokenizer from
// scratch, the folder's with train.init) and the data.
func NewTrainer(c *Config) (*Trainer, error) {
	var tok model.Tokenizer = model.ByteTokenizer{}
	if c.Train.Init == "" && c.Model.VocabSize < tok.VocabSize() {
		return nil, &ConfigError{File: c.File, Key: "model.vocab_size", Msg: fmt.Sprintf("the byte tokenizer needs %d ids, not %d", tok.VocabSize(), c.Model.VocabSize)}
	}
	var lf *Longformer
	if c.Train.Init != "" {
		// The head this run trains may be new: a QA run from a base or
		// masked-LM checkpoint starts its span head afresh.
		head := model.HeadQA
		if c.Train.Task == "mlm" {
			head = model.HeadLM
		}
		var err error
		if lf, err = LoadLongformer(c.Path(c.Train.Init), head, true); err != nil {
			return nil, err
		}
		c.Model = lf.M.Config
		tok = lf.Tok
	} else {
		m := model.New[float32](c.Model)
		m.Init(c.Train.Seed)
		lf = &Longformer{M: m}
	}
	lf.Checkpoint = c.Train.Checkpointing
	// The saved model says which head this run trains.
	lf.M.Config.Architectures = []string{model.ArchQA}
	if c.Train.Task == "mlm" {
		lf.M.Config.Architectures = []string{model.ArchMLM}
	}
	data, err := LoadData(c, tok)
	if err != nil {
		return nil, err
	}
	return &Trainer{Cfg: c, Tok: tok, Model: lf, Data: data}, nil
}

// Objective is the objective kind "train" of olc optimize and olc ablate:
// each trial trains with the config at Path, its parameters overriding
// keys by dotted path ("optimizer.lr", "model.attention_window",
// "model.global_attention"). It reports the final evaluation
// (eval_exact, eval_f1, eval_loss, or eval_perplexity for mlm) with
// final_loss and tokens_per_s, and each periodic evaluation as an
// intermediate value.
type Objective struct {
	Path string
}

func init() {
	experiments.RegisterObjective("train", func(path string, params []string) (experiments.Objective, error) {
		return NewObjective(path, params)
	})
}

// NewObjective checks that the train config at path reads and that every
// parameter names one of its keys, and returns the objective.
func NewObjective(path string, params []string) (*Objective, error) {
	if _, err := LoadConfig(path); err != nil {
		return nil, err
	}
	for _, p := range params {
		if err := CheckKey(p); err != nil {
			return nil, &experiments.ParamKeyError{Param: p, Msg: err.Error()}
		}
	}
	return &Objective{Path: path}, nil
}

// CheckKey reports whether a dotted path names a key of the train config
// (section.key, the model's keys under "model").
func CheckKey(path string) error {
	sec, key, ok := strings.Cut(path, ".")
	if !ok || key == "" {
		return fmt.Errorf("not a train-config key: want section.key, such as optimizer.lr or model.attention_window")
	}
	c := DefaultConfig()
	v, tag := c.section(sec)
	if v == nil {
		return fmt.Errorf("no section %q in a train config; the sections are %s", sec, strings.Join(Sections, ", "))
	}
	if keys := tomlconf.Keys(v, tag); !slices.Contains(keys, key) {
		return fmt.Errorf("no key %q in [%s] of a train config; the keys are %s", key, sec, strings.Join(keys, ", "))
	}
	return nil
}

// config reads the train config with the parameters applied.
func (o *Objective) config(params map[string]any) (*Config, error) {
	data, err := os.ReadFile(o.Path)
	if err != nil {
		return nil, err
	}
	var over []Override
	for _, k := range slices.Sorted(maps.Keys(params)) {
		over = append(over, Override{Key: k, Value: params[k], Source: fmt.Sprintf("parameter %s = %s", k, optimize.FormatValue(params[k]))})
	}
	return ParseConfig(o.Path, data, over...)
}

// CheckValues implements experiments.ValueChecker: the train config with
// params applied must validate. A problem at a parameter's key (its type,
// its range) is blamed on that parameter; any other (a key of the file
// that the values make invalid) is returned as the config reports it.
func (o *Objective) CheckValues(params map[string]any) error {
	_, err := o.config(params)
	if err == nil {
		return nil
	}
	var errs []error
	for _, e := range tomlconf.Unjoin(err) {
		var ce *ConfigError
		if errors.As(e, &ce) {
			if _, ok := params[ce.Key]; ok {
				errs = append(errs, &experiments.ParamKeyError{Param: ce.Key, Msg: ce.Msg})
				continue
			}
		}
		errs = append(errs, e)
	}
	return errors.Join(errs...)
}

// ListMetrics implements experiments.MetricLister: what Run reports for
// a trial with these parameters.
func (o *Objective) ListMetrics(params map[string]any) ([]string, error) {
	c, err := o.config(params)
	if err != nil {
		return nil, err
	}
	names := []string{"final_loss", "steps", "tokens_per_s"}
	for k := range evalMetrics(c, &EvalInfo{}) {
		names = append(names, k)
	}
	slices.Sort(names)
	return names, nil
}

// Run implements experiments.Objective.
func (o *Objective) Run(ctx context.Context, r experiments.TrialRun) (experiments.Outcome, error) {
	var out experiments.Outcome
	c, err := o.config(r.Params)
	if err != nil {
		return out, err
	}
	dir := r.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "olc-train-"); err != nil {
			return out, err
		}
		defer os.RemoveAll(dir)
	}
	// Each attempt trains from scratch in the trial's folder.
	c.Output.Dir, c.Output.Name = dir, "train"
	os.RemoveAll(filepath.Join(dir, "train"))
	out.LogPath = dir
	t, err := NewTrainer(c)
	if err != nil {
		return out, err
	}
	// A pruner stops the run at an evaluation by cancelling its context.
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	pruned := false
	t.Hooks.Eval = func(e EvalInfo) {
		m := evalMetrics(c, &e)
		out.Intermediate = append(out.Intermediate, experiments.Intermediate{Step: e.Step, Metrics: m})
		if r.Report != nil && !pruned {
			if r.Report(e.Step, maps.Clone(m)) {
				pruned = true
				stop()
			}
		}
	}
	res, err := t.Run(runCtx, false)
	if pruned && ctx.Err() == nil {
		return out, experiments.ErrPruned
	}
	if err != nil {
		return out, err
	}
	if res.Stopped == StopInterrupted {
		return out, errors.Join(context.Canceled, ctx.Err())
	}
	out.Metrics = map[string]float64{"final_loss": res.FinalLoss, "tokens_per_s": res.TokensPerS, "steps": float64(res.Steps)}
	if res.Eval != nil {
		for k, v := range evalMetrics(c, res.Eval) {
			out.Metrics[k] = v
		}
	}
	return out, nil
}

func evalMetrics(c *Config, e *EvalInfo) map[string]float64 {
	if c.Train.Task == "mlm" {
		return map[string]float64{"eval_loss": e.Loss, "eval_perplexity": e.Perplexity}
	}
	return map[string]float64{"eval_loss": e.Loss, "eval_exact": e.Exact, "eval_f1": e.F1}
}

// IntermediateMetrics implements experiments.IntermediateReporter: the
// evaluation's metrics at each train.eval_every steps, or none when the
// trainer evaluates only at the end.
func (o *Objective) IntermediateMetrics() ([]string, bool, string) {
	c, err := o.config(nil)
	if err != nil {
		return nil, true, ""
	}
	if c.Train.EvalEvery <= 0 {
		return nil, false, fmt.Sprintf("%s sets train.eval_every = 0, so the trainer evaluates only at the end", o.Path)
	}
	names := slices.Sorted(maps.Keys(evalMetrics(c, &EvalInfo{})))
	return names, true, ""
}
