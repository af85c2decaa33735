package optimizecmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/olc-toolkit/olc/cmd/olc/internal/cmdutil"
	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/optimize"
)

// AskOptions are the options of 'olc optimize ask'.
type AskOptions struct {
	IO         *cmdutil.IOStreams
	StorePath  string
	Study      string
	ConfigPath string
	Lease      time.Duration
}

// AskJSON is what 'olc optimize ask' prints: the trial to evaluate, or
// Done (Trial null) when the study needs no more trials.
type AskJSON struct {
	Study  string          `json:"study"`
	Trial  *int            `json:"trial"`
	Params optimize.Params `json:"params,omitempty"`
	Done   bool            `json:"done,omitempty"`
	Reason string          `json:"reason,omitempty"`
}

func newCmdAsk(ios *cmdutil.IOStreams) *cobra.Command {
	opts := &AskOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "ask (--study NAME | --config study.toml) [--lease 1h]",
		Short: "Record the study's next trial as running and print it as JSON, for a program that evaluates it",
		Long: `Ask for the study's next trial: the first enqueued point not yet run, or the
sampler's proposal given every trial so far (running ones included). It is
recorded as running and printed as one line of JSON:

  {"study":"s","trial":7,"params":{"lr":0.0031,"layers":4}}

Evaluate it, then report with 'olc optimize tell --study s --trial 7 --value …'.
A trial not told within --lease counts as abandoned: the next ask or run marks
it failed (lost). With --config the study is created when it does not exist
(objective kind "external" says that only ask and tell drive it); with a
target (study.trials) ask prints {"study":…,"trial":null,"done":true} once as
many trials are complete or running.`,
		Example: `  olc optimize ask --config study.toml
  olc optimize ask --study s
  olc optimize tell --study s --trial 7 --value 0.231
  olc optimize tell --study s --trial 8 --metrics '{"loss": 0.2, "acc": 0.93}'
  olc optimize tell --study s --trial 9 --state failed --error "CUDA out of memory"`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if (opts.Study == "") == (opts.ConfigPath == "") {
				return cmdutil.Usagef("give the study: --study NAME for one in the store, or --config study.toml (which creates it when needed)")
			}
			if opts.Lease <= 0 {
				return cmdutil.Usagef("--lease must be positive, not %s", opts.Lease)
			}
			return runAsk(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Study, "study", "", "the study")
	cmd.Flags().StringVarP(&opts.ConfigPath, "config", "c", "", "the study's config (creates the study when needed)")
	cmd.Flags().DurationVar(&opts.Lease, "lease", experiments.DefaultLease, "how long the trial may go untold before it counts as abandoned")
	cmdutil.AddStoreFlag(cmd, &opts.StorePath)
	return cmd
}

func runAsk(ctx context.Context, opts *AskOptions) error {
	var cfg *experiments.Config
	var err error
	if opts.ConfigPath != "" {
		if cfg, err = experiments.LoadConfig(opts.ConfigPath); err != nil {
			return err
		}
	}
	var store cmdutil.Store
	if cfg != nil {
		store, err = cmdutil.OpenStore(ctx, opts.StorePath, opts.IO.ErrOut)
	} else {
		store, err = openForChange(ctx, opts.StorePath, opts.IO)
	}
	if err != nil {
		return err
	}
	defer store.Close()
	var study *experiments.Study
	if cfg == nil {
		if study, err = findStudy(ctx, store, opts.StorePath, opts.Study); err != nil {
			return err
		}
		if cfg, err = experiments.ConfigOf(study); err != nil {
			return fmt.Errorf("study %q: %w", study.Name, err)
		}
	}
	target := cfg.Study.Trials
	if target == 0 {
		cfg.Study.Trials = 1 // no target: the sampler does not depend on it
	}
	plan, err := cfg.Plan()
	if err != nil {
		return err
	}
	if cfg.Study.Sampler == "grid" && target == 0 {
		target = plan.Trials
	}
	warm, err := cfg.WarmStart(ctx, store)
	if err != nil {
		return err
	}
	if study == nil {
		study, _, _, err = experiments.OpenStudy(ctx, store, &experiments.Study{
			Name: cfg.Study.Name, Direction: cfg.Study.Direction, Metric: cfg.Study.Metric,
			Sampler: cfg.Study.Sampler, Seed: cfg.Study.Seed, Config: cfg.Text,
			Identity: plan.Identity.String(), Created: time.Now().UTC(),
		}, false)
		var changed *experiments.ChangedError
		if errors.As(err, &changed) {
			return &cmdutil.UsageError{Err: fmt.Errorf("%w\nask with the config the study was created with, or with --study %s", err, cfg.Study.Name)}
		}
		if err != nil {
			return err
		}
		if err := cfg.EnqueuePoints(ctx, store, study); err != nil {
			return err
		}
	}
	queue, err := store.Queue(ctx, study.ID)
	if err != nil {
		return err
	}
	t, err := experiments.Ask(ctx, store, study, plan.Sampler, experiments.AskOptions{Lease: opts.Lease, Cap: target, Queue: queue, WarmStart: warm})
	if errors.Is(err, experiments.ErrStudyDone) {
		return printCompact(opts.IO, AskJSON{Study: study.Name, Done: true, Reason: strings.TrimPrefix(err.Error(), experiments.ErrStudyDone.Error()+": ")})
	}
	if err != nil {
		return err
	}
	return printCompact(opts.IO, AskJSON{Study: study.Name, Trial: &t.Number, Params: t.Params})
}

// printCompact prints v as one line of JSON.
func printCompact(ios *cmdutil.IOStreams, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(ios.Out, "%s\n", b)
	return err
}

// TellOptions are the options of 'olc optimize tell'.
type TellOptions struct {
	IO        *cmdutil.IOStreams
	StorePath string
	Study     string
	Trial     int
	Value     string
	Metrics   string
	State     string
	Error     string
	JSON      bool
}

// TellJSON is what 'olc optimize tell --json' prints.
type TellJSON struct {
	Study   string             `json:"study"`
	Trial   int                `json:"trial"`
	State   optimize.State     `json:"state"`
	Value   *float64           `json:"value"`
	Metrics map[string]float64 `json:"metrics"`
}

func newCmdTell(ios *cmdutil.IOStreams) *cobra.Command {
	opts := &TellOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "tell --study NAME --trial N (--value V | --metrics JSON | --state failed|pruned)",
		Short: "Record the result of a trial given by 'olc optimize ask'",
		Long: `Record the end of a running trial: its value (the study's metric), or all its
metrics as a JSON object holding the study's metric, or that it failed or was
pruned (metrics optional). The trial must still be running; a trial told
already, or expired past its lease, is refused, as are non-finite values.
Nothing is stored when the report is refused (exit 2).`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireStudy(opts.Study); err != nil {
				return err
			}
			if !cmd.Flags().Changed("trial") {
				return cmdutil.Usagef("--trial is required: the number 'olc optimize ask' printed")
			}
			told, err := parseTell(opts)
			if err != nil {
				return err
			}
			return runTell(cmd.Context(), opts, told)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Study, "study", "", "the study (required)")
	f.IntVar(&opts.Trial, "trial", -1, "the trial's number (required)")
	f.StringVar(&opts.Value, "value", "", "the study's metric")
	f.StringVar(&opts.Metrics, "metrics", "", "the metrics as a JSON object, e.g. '{\"loss\": 0.2, \"acc\": 0.9}'")
	cmdutil.StringEnumFlag(cmd, &opts.State, "state", "complete", []string{"complete", "failed", "pruned"}, "how the trial ended")
	f.StringVar(&opts.Error, "error", "", "why a failed trial failed")
	cmdutil.AddStoreFlag(cmd, &opts.StorePath)
	cmdutil.AddJSONFlag(cmd, &opts.JSON)
	return cmd
}

// parseTell checks tell's flags.
func parseTell(opts *TellOptions) (experiments.Told, error) {
	told := experiments.Told{Number: opts.Trial, State: optimize.State(opts.State), Error: opts.Error}
	if opts.Value != "" && opts.Metrics != "" {
		return told, cmdutil.Usagef("give --value or --metrics, not both")
	}
	if told.State == optimize.Complete && opts.Value == "" && opts.Metrics == "" {
		return told, cmdutil.Usagef("a complete trial needs --value or --metrics (or give --state failed or pruned)")
	}
	if opts.Error != "" && told.State != optimize.Failed {
		return told, cmdutil.Usagef("--error goes with --state failed")
	}
	if opts.Value != "" {
		v, err := strconv.ParseFloat(strings.TrimSpace(opts.Value), 64)
		if err != nil {
			return told, cmdutil.Usagef("--value %q is not a number", opts.Value)
		}
		told.Metrics = map[string]float64{"": v} // the study's metric, named once the study is read
	}
	if opts.Metrics != "" {
		var raw map[string]any
		if err := json.Unmarshal([]byte(opts.Metrics), &raw); err != nil {
			return told, cmdutil.Usagef("--metrics is not a JSON object of numbers: %v", err)
		}
		told.Metrics = map[string]float64{}
		for k, v := range raw {
			x, ok := v.(float64)
			if !ok {
				return told, cmdutil.Usagef("--metrics: %q is %v, not a number", k, v)
			}
			told.Metrics[k] = x
		}
	}
	return told, nil
}

func runTell(ctx context.Context, opts *TellOptions, told experiments.Told) error {
	store, study, err := openStudy(ctx, opts.StorePath, opts.IO, opts.Study)
	if err != nil {
		return err
	}
	defer store.Close()
	if v, ok := told.Metrics[""]; ok {
		told.Metrics = map[string]float64{study.Metric: v}
	}
	t, err := experiments.Tell(ctx, store, study, told)
	var te *experiments.TellError
	if errors.As(err, &te) {
		return &cmdutil.UsageError{Err: err}
	}
	if err != nil {
		return err
	}
	out := TellJSON{Study: study.Name, Trial: t.Number, State: t.State, Metrics: t.Metrics}
	if !math.IsNaN(t.Value) {
		out.Value = &t.Value
	}
	if opts.JSON {
		return printCompact(opts.IO, out)
	}
	fmt.Fprintf(opts.IO.Out, "trial %d of study %s: %s", t.Number, study.Name, t.State)
	if out.Value != nil {
		fmt.Fprintf(opts.IO.Out, ", %s = %s", study.Metric, formatValue(t.Value))
	}
	fmt.Fprintln(opts.IO.Out)
	return nil
}

// EnqueueOptions are the options of 'olc optimize enqueue'.
type EnqueueOptions struct {
	IO        *cmdutil.IOStreams
	StorePath string
	Study     string
	Params    []string
}

func newCmdEnqueue(ios *cmdutil.IOStreams) *cobra.Command {
	opts := &EnqueueOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "enqueue --study NAME --params JSON [--params JSON …]",
		Short: "Queue points for a study to run before its sampler's proposals",
		Long: `Queue points, each a JSON object giving every parameter, for the study to run
first: the next runs and asks take them in order before the sampler's
proposals, each exactly once however many workers share the study. A config's
[[enqueue]] tables do the same.`,
		Example: `  olc optimize enqueue --study demo --params '{"lr": 0.001, "layers": 4, "optimizer": "adam"}'`,
		Args:    cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireStudy(opts.Study); err != nil {
				return err
			}
			if len(opts.Params) == 0 {
				return cmdutil.Usagef("--params is required: a JSON object giving every parameter")
			}
			return runEnqueue(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Study, "study", "", "the study (required)")
	cmd.Flags().StringArrayVar(&opts.Params, "params", nil, "a point as a JSON object of parameter values (repeatable)")
	cmdutil.AddStoreFlag(cmd, &opts.StorePath)
	return cmd
}

func runEnqueue(ctx context.Context, opts *EnqueueOptions) error {
	store, study, err := openStudy(ctx, opts.StorePath, opts.IO, opts.Study)
	if err != nil {
		return err
	}
	defer store.Close()
	space, err := experiments.SpaceOf(study)
	if err != nil {
		return err
	}
	// Every point is checked before any is queued.
	var points []optimize.Params
	for i, s := range opts.Params {
		var raw optimize.Params
		if err := json.Unmarshal([]byte(s), &raw); err != nil {
			return cmdutil.Usagef("--params #%d is not a JSON object: %v", i+1, err)
		}
		p, err := space.Point(raw)
		if err != nil {
			return cmdutil.Usagef("--params #%d: %v", i+1, err)
		}
		points = append(points, p)
	}
	for _, p := range points {
		q := &experiments.Queued{Key: "cli:" + strconv.FormatInt(time.Now().UnixNano(), 10), Params: p}
		if _, err := store.Enqueue(ctx, study.ID, q); err != nil {
			return err
		}
		fmt.Fprintf(opts.IO.Out, "queued %s for study %s\n", formatParams(p, space), study.Name)
	}
	return nil
}
