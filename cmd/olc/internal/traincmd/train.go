// Package traincmd implements 'olc train', 'olc data generate', 'olc eval'
// and 'olc qa'.
package traincmd

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/olc-toolkit/olc/cmd/olc/internal/cmdutil"
	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/train"
)

// TrainOptions are the options of 'olc train'.
type TrainOptions struct {
	IO            *cmdutil.IOStreams
	Config        string
	Resume        bool
	JSON          bool
	Progress      bool
	Set           []string
	Store         string
	PrintDefaults bool
}

// NewCmdTrain returns 'olc train'. runF, when not nil, replaces the run
// (for tests of flag parsing).
func NewCmdTrain(ios *cmdutil.IOStreams, runF func(context.Context, *TrainOptions) error) *cobra.Command {
	opts := &TrainOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "train --config train.toml",
		Short: "Train a Longformer on the CPU (question answering or masked LM)",
		Long: `Train a Longformer from a TOML config with sections [model] (the model
config's keys and ablation switches), [data] (a synthetic task, your own
SQuAD-format files, or text files for mlm), [optimizer] (AdamW),
[schedule] (warm-up, then cosine, linear or constant decay), [train]
(steps, batches, evaluation, checkpoints, early stopping, time limit) and
[output] (name, dir). --print-defaults prints every key with its default
and meaning (the same as examples/train-reference.toml); a config gives
only what it changes. To train on your own data:

  [data]
  train_file = "train.json"   # SQuAD v1.1 or v2.0
  eval_file = "dev.json"

Metrics go to DIR/NAME/metrics.jsonl (one JSON object a line), checkpoints
(weights, optimizer moments, state) to DIR/NAME/checkpoint, the final model
to DIR/NAME/model. --resume continues from the checkpoint bit-exactly: the
same losses as an uninterrupted run. Ctrl-C saves a checkpoint and exits.
--set section.key=value overrides a config key (repeatable).`,
		Example: `  olc data generate --task passkey --length 1024-2048 --n 5000 --out passkey.json
  olc train --config train.toml
  olc train --config train.toml --resume --json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runTrain(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.Config, "config", "c", "", "the train config (TOML, required)")
	f.BoolVar(&opts.Resume, "resume", false, "continue from the run's checkpoint")
	cmdutil.AddJSONFlag(cmd, &opts.JSON)
	f.BoolVar(&opts.Progress, "progress", false, "show the progress bar even when stderr is not a terminal")
	f.StringArrayVar(&opts.Set, "set", nil, "override a config key: section.key=value (TOML value)")
	cmdutil.AddStoreFlag(cmd, &opts.Store)
	f.BoolVar(&opts.PrintDefaults, "print-defaults", false, "print every section and key of a train config with its default and meaning, and exit")
	return cmd
}

// usageError makes the errors of a train config, its data and a resume
// that cannot continue usage errors (exit code 2): they are the user's to
// fix, and nothing ran.
func usageError(err error) error {
	var de *train.DataError
	var re *train.ResumeError
	if errors.As(err, &de) || errors.As(err, &re) {
		return &cmdutil.UsageError{Err: err}
	}
	return err
}

func runTrain(ctx context.Context, opts *TrainOptions) error {
	if opts.PrintDefaults {
		return train.WriteDefaults(opts.IO.Out)
	}
	if opts.Config == "" {
		return cmdutil.Usagef("--config is required (olc train --print-defaults shows every key)")
	}
	sets, err := train.ParseOverrides("--set", opts.Set)
	if err != nil {
		return err
	}
	c, err := train.LoadConfig(opts.Config, sets...)
	if err != nil {
		return err
	}
	t, err := train.NewTrainer(c)
	if err != nil {
		return usageError(err)
	}
	if lf, ok := t.Model.(*train.Longformer); ok && len(lf.FreshHeads) > 0 {
		fresh := lf.FreshHeads
		fmt.Fprintf(opts.IO.ErrOut, "olc: %s has no %s: this run starts them afresh\n", c.Train.Init, strings.Join(fresh, ", "))
	}
	bar := cmdutil.NewProgress(opts.IO, opts.Progress, "train "+c.Output.Name)
	defer bar.Finish()
	t.Hooks.Step = func(s train.StepInfo) {
		bar.Set(trainFraction(c, s), fmt.Sprintf("step %d of %d, loss %.4f, %.0f tokens/s", s.Step, s.Steps, s.Loss, s.TokensPerS))
	}
	var evals []train.EvalInfo
	t.Hooks.Eval = func(e train.EvalInfo) {
		evals = append(evals, e)
		if c.Train.Task == "mlm" {
			bar.Note("step %d: eval loss %.4f, perplexity %.3f", e.Step, e.Loss, e.Perplexity)
		} else {
			bar.Note("step %d: eval exact %.1f, f1 %.1f, loss %.4f", e.Step, e.Exact, e.F1, e.Loss)
		}
	}
	// The run enters the store at its first step (a run that cannot
	// start leaves no record).
	var rec *recorder
	var recErr error
	step := t.Hooks.Step
	t.Hooks.Step = func(s train.StepInfo) {
		if rec == nil && recErr == nil {
			rec, recErr = startRecord(ctx, opts.Store, c, opts.Resume)
		}
		step(s)
	}
	res, err := t.Run(ctx, opts.Resume)
	if rec != nil {
		recErr = errors.Join(recErr, rec.finish(res, evals, err))
	}
	if recErr != nil && err == nil {
		err = recErr
	}
	if err != nil {
		return usageError(err)
	}
	bar.Finish()
	interrupted := error(nil)
	if res.Stopped == train.StopInterrupted {
		interrupted = fmt.Errorf("%w: checkpoint saved in %s; continue with --resume", experiments.ErrInterrupted, filepath.Join(res.RunDir, "checkpoint"))
	}
	if opts.JSON {
		return errors.Join(cmdutil.PrintJSON(opts.IO.Out, res), interrupted)
	}
	out := opts.IO.Out
	fmt.Fprintf(out, "run %s: %d steps (%s), %.0f s, %.0f tokens/s, final loss %.4f\n", res.Name, res.Steps, res.Stopped, res.Seconds, res.TokensPerS, res.FinalLoss)
	if e := res.Eval; e != nil {
		if c.Train.Task == "mlm" {
			fmt.Fprintf(out, "eval: loss %.4f, perplexity %.3f\n", e.Loss, e.Perplexity)
		} else {
			fmt.Fprintf(out, "eval: exact %.2f, f1 %.2f (loss %.4f)\n", e.Exact, e.F1, e.Loss)
		}
	}
	if res.Stopped == train.StopInterrupted {
		fmt.Fprintf(out, "checkpoint saved in %s/checkpoint; continue with --resume\n", res.RunDir)
	} else {
		fmt.Fprintf(out, "model: %s\nmetrics: %s/metrics.jsonl, study train.%s in %s\n", res.ModelDir, res.RunDir, res.Name, cmdutil.StoreName(opts.Store))
	}
	return interrupted
}

// trainFraction is how far a run is towards whichever of its limits stops
// it first: the steps, or the time limit.
func trainFraction(c *train.Config, s train.StepInfo) float64 {
	f := float64(s.Step) / float64(max(s.Steps, 1))
	if c.Train.TimeLimit > 0 {
		f = max(f, s.Seconds/c.Train.TimeLimit)
	}
	return f
}
