// Package ablatecmd implements 'olc ablate': ablation studies over seeds,
// with their statistics.
package ablatecmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/olc-toolkit/olc/ablation"
	"github.com/olc-toolkit/olc/ablation/ablationplot"
	"github.com/olc-toolkit/olc/cmd/olc/internal/cmdutil"
	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/internal/atomicfile"
	"github.com/olc-toolkit/olc/internal/plotstyle"
	"github.com/olc-toolkit/olc/optimize"
	_ "github.com/olc-toolkit/olc/train" // registers the objective kind "train"
)

// AblateOptions are the options of 'olc ablate'.
type AblateOptions struct {
	IO         *cmdutil.IOStreams
	ConfigPath string
	StorePath  string
	JSON       bool
	Progress   bool
	AllowLarge bool
	New        bool
	MinEffect  float64
	PlotPath   string
}

// NewCmdAblate returns 'olc ablate' with its subcommands. runF, when not
// nil, replaces the run (for tests of flag parsing).
func NewCmdAblate(ios *cmdutil.IOStreams, runF func(context.Context, *AblateOptions) error) *cobra.Command {
	opts := &AblateOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "ablate --config ablation.toml",
		Short: "Run an ablation study over seeds: each component's effect with intervals and tests",
		Long: `Run every variant of an ablation (leave-one-out, add-one-in or factorial) on
every seed of its config, paired by seed, and report per metric each
variant's mean with its 95% interval and each component's paired effect:
the difference from its reference with its 95% t interval, the paired
t-test and Wilcoxon signed-rank p-values, Holm's adjustment across the
components, Cohen's d_z, and how many seeds a component that is not
significant would need (80% power). A factorial design adds the ANOVA of
main effects and two-way interactions with the seeds as blocks.

The ablation is a study in the store: running the same command again
resumes it without repeating finished variant × seed pairs, and
'olc ablate report' analyses it again without running anything.`,
		Example: `  olc ablate plan --config ablation.toml
  olc ablate --config ablation.toml --json --plot effects.png
  olc ablate report --name longformer-components --format md`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.ConfigPath == "" {
				return cmdutil.Usagef("--config is required: the ablation's TOML file; see '%s --help'", cmd.CommandPath())
			}
			if opts.MinEffect < 0 {
				return cmdutil.Usagef("--min-effect must not be negative, not %v", opts.MinEffect)
			}
			if err := checkPlot(opts.PlotPath); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runAblate(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.ConfigPath, "config", "c", "", "the ablation's TOML config (required)")
	cmdutil.AddStoreFlag(cmd, &opts.StorePath)
	cmdutil.AddJSONFlag(cmd, &opts.JSON)
	f.BoolVar(&opts.Progress, "progress", false, "show a progress bar on stderr even when it is not a terminal")
	f.BoolVar(&opts.AllowLarge, "allow-large", false, fmt.Sprintf("allow factorial designs of more than %d components", ablation.MaxFactorialComponents))
	f.BoolVar(&opts.New, "new", false, "start the ablation afresh, keeping an existing one as <name>.1, <name>.2, …")
	f.Float64Var(&opts.MinEffect, "min-effect", 0, "the effect the power analysis sizes for (default: half the largest observed effect)")
	f.StringVar(&opts.PlotPath, "plot", "", "draw each metric's effects with their intervals to this image (.png, .svg or .pdf)")
	cmd.AddCommand(newCmdPlan(ios, nil), newCmdReport(ios, nil))
	return cmd
}

func runAblate(ctx context.Context, opts *AblateOptions) error {
	c, err := ablation.LoadConfig(opts.ConfigPath, opts.AllowLarge)
	if err != nil {
		return err
	}
	store, err := cmdutil.OpenStore(ctx, opts.StorePath, opts.IO.ErrOut)
	if err != nil {
		return err
	}
	defer store.Close()
	bar := cmdutil.NewProgress(opts.IO, opts.Progress, "ablation "+c.Name)
	res, runErr := ablation.Run(ctx, store, c, ablation.RunOptions{
		Fresh: opts.New, RunsDir: filepath.Join(cmdutil.WorkDir(opts.StorePath), "runs"), MinEffect: opts.MinEffect,
		OnEvent: func(e experiments.Event) {
			bar.NoteFailedTrial(e)
			bar.SetCount(e.Counts.Complete, e.Target, fmt.Sprintf("%d of %d variant × seed pairs complete, %d failed", min(e.Counts.Complete, e.Target), e.Target, e.Counts.Failed))
		},
	})
	bar.Finish()
	var changed *experiments.ChangedError
	if errors.As(runErr, &changed) {
		return &cmdutil.UsageError{Err: fmt.Errorf("%w\nresume it with the config it was created with, or pass --new to start afresh (the existing one is kept as %s.1, or the next free number)", runErr, c.Name)}
	}
	if res == nil {
		return runErr
	}
	if err := write(opts.IO, res, opts.JSON, "text"); err != nil {
		return err
	}
	if err := drawPlot(opts.IO, opts.PlotPath, res); err != nil {
		return err
	}
	if errors.Is(runErr, experiments.ErrInterrupted) {
		return fmt.Errorf("%w: run the same command again to resume the ablation", runErr)
	}
	return runErr
}

// checkPlot refuses a --plot path whose format is unknown, before
// anything runs.
func checkPlot(path string) error {
	if path == "" {
		return nil
	}
	if _, err := plotstyle.FormatOf(path); err != nil {
		return cmdutil.Usagef("--plot: %v", err)
	}
	return nil
}

// drawPlot draws the effects of res to path (atomically), when given.
func drawPlot(ios *cmdutil.IOStreams, path string, res *ablation.Result) error {
	if path == "" {
		return nil
	}
	format, _ := plotstyle.FormatOf(path)
	var buf bytes.Buffer
	if err := ablationplot.Draw(&buf, format, res); err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	if err := atomicfile.Write(path, buf.Bytes()); err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	fmt.Fprintf(ios.ErrOut, "wrote the effects plot to %s\n", path)
	return nil
}

func write(ios *cmdutil.IOStreams, res *ablation.Result, asJSON bool, format string) error {
	if asJSON || format == "json" {
		return cmdutil.PrintJSON(ios.Out, res)
	}
	return ablation.WriteReport(ios.Out, format, res)
}

// PlanOptions are the options of 'olc ablate plan'.
type PlanOptions struct {
	IO         *cmdutil.IOStreams
	ConfigPath string
	AllowLarge bool
	JSON       bool
}

// PlanJSON is what 'olc ablate plan --json' prints.
type PlanJSON struct {
	Name     string             `json:"name"`
	Design   ablation.Design    `json:"design"`
	Seeds    []int64            `json:"seeds"`
	Variants []ablation.Variant `json:"variants"`
	Trials   int                `json:"trials"`
	Metrics  []ablation.Metric  `json:"metrics"`
}

func newCmdPlan(ios *cmdutil.IOStreams, runF func(context.Context, *PlanOptions) error) *cobra.Command {
	opts := &PlanOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "plan --config ablation.toml",
		Short: "Print an ablation's variants and trial count, running nothing",
		Args:  cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.ConfigPath == "" {
				return cmdutil.Usagef("--config is required: the ablation's TOML file")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runPlan(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVarP(&opts.ConfigPath, "config", "c", "", "the ablation's TOML config (required)")
	cmd.Flags().BoolVar(&opts.AllowLarge, "allow-large", false, fmt.Sprintf("allow factorial designs of more than %d components", ablation.MaxFactorialComponents))
	cmdutil.AddJSONFlag(cmd, &opts.JSON)
	return cmd
}

func runPlan(_ context.Context, opts *PlanOptions) error {
	c, err := ablation.LoadConfig(opts.ConfigPath, opts.AllowLarge)
	if err != nil {
		return err
	}
	if opts.JSON {
		return cmdutil.PrintJSON(opts.IO.Out, PlanJSON{Name: c.Name, Design: c.Design, Seeds: c.Seeds, Variants: c.Variants, Trials: len(c.Variants) * len(c.Seeds), Metrics: c.Metrics})
	}
	w := opts.IO.Out
	fmt.Fprintf(w, "ablation %s: %s, %d variants × %d seeds = %d trials\n", c.Name, c.Design, len(c.Variants), len(c.Seeds), len(c.Variants)*len(c.Seeds))
	if c.SeedKey == "" {
		fmt.Fprintln(w, "the objective takes no seed: every seed gives the same values, and each difference is exact")
	}
	var keys []string
	for _, v := range c.Variants {
		for k := range v.Values {
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	slices.Sort(keys)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "variant\t"+strings.Join(keys, "\t"))
	for _, v := range c.Variants {
		row := []string{v.Name}
		for _, k := range keys {
			x, ok := v.Values[k]
			if !ok {
				row = append(row, "(config)")
				continue
			}
			row = append(row, optimize.FormatValue(x))
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	return tw.Flush()
}

// ReportOptions are the options of 'olc ablate report'.
type ReportOptions struct {
	IO        *cmdutil.IOStreams
	StorePath string
	Name      string
	Format    string
	MinEffect float64
	PlotPath  string
}

func newCmdReport(ios *cmdutil.IOStreams, runF func(context.Context, *ReportOptions) error) *cobra.Command {
	opts := &ReportOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "report --name NAME [--format text|md|csv|json] [--plot FILE]",
		Short: "Analyse a stored ablation again, running nothing",
		Args:  cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Name == "" {
				return cmdutil.Usagef("--name is required: the ablation's name ('olc optimize status' lists the studies)")
			}
			if err := checkPlot(opts.PlotPath); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runReport(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Name, "name", "", "the ablation (required)")
	cmdutil.StringEnumFlag(cmd, &opts.Format, "format", "text", append(slices.Clone(ablation.Formats), "json"), "the output format")
	cmd.Flags().Float64Var(&opts.MinEffect, "min-effect", 0, "the effect the power analysis sizes for (default: half the largest observed effect)")
	cmd.Flags().StringVar(&opts.PlotPath, "plot", "", "draw each metric's effects with their intervals to this image (.png, .svg or .pdf)")
	cmdutil.AddStoreFlag(cmd, &opts.StorePath)
	return cmd
}

func runReport(ctx context.Context, opts *ReportOptions) error {
	study, trials, err := cmdutil.LoadStudy(ctx, opts.StorePath, opts.Name)
	if err != nil {
		return err
	}
	if study.Sampler != "ablation" {
		return cmdutil.Usagef("%q is a study of olc optimize (sampler %s), not an ablation; see 'olc optimize status --study %s'", study.Name, study.Sampler, study.Name)
	}
	c, err := ablation.ParseStored(study.Name+" (stored config)", study.Config)
	if err != nil {
		return err
	}
	res, err := ablation.ReportTrials(c, study, trials, opts.MinEffect)
	if err != nil {
		return err
	}
	if err := write(opts.IO, res, false, opts.Format); err != nil {
		return err
	}
	return drawPlot(opts.IO, opts.PlotPath, res)
}
