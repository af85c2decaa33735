// Package optimizecmd implements 'olc optimize' and its subcommands.
package optimizecmd

import (
	"context"
	"time"

	"github.com/olc-toolkit/olc/experiments"

	"github.com/spf13/cobra"

	"github.com/olc-toolkit/olc/cmd/olc/internal/cmdutil"
)

// RunOptions are the options of 'olc optimize'.
type RunOptions struct {
	IO         *cmdutil.IOStreams
	ConfigPath string
	StorePath  string
	Trials     int
	Parallel   int
	Sampler    string
	JSON       bool
	Progress   bool
	New        bool
	// MaxFailures, Heartbeat and StaleAfter tune the runner (hidden flags).
	MaxFailures int
	Heartbeat   time.Duration
	StaleAfter  time.Duration
}

// NewCmdOptimize returns 'olc optimize'. runF, when not nil, replaces the
// run (for tests of flag parsing).
func NewCmdOptimize(ios *cmdutil.IOStreams, runF func(context.Context, *RunOptions) error) *cobra.Command {
	opts := &RunOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "optimize --config study.toml",
		Short: "Search hyperparameters over any objective: Bayesian, random or grid search",
		Long: `Run a hyperparameter search study described by a TOML config.

The objective is a builtin test function or any command (your own training
script): olc passes the parameters as {name} placeholders and OLC_PARAM_<NAME>
variables and reads the metrics from the last JSON line the command prints.
Every trial is recorded in the store before olc moves on, so running the same
command again resumes the study: finished trials are kept, trials of a run
that died are marked failed and run again, and a larger --trials raises the
target. Ctrl-C stops cleanly.`,
		Example: `  olc optimize --config study.toml
  olc optimize random --config study.toml --trials 100 --parallel 4
  olc optimize status --study demo
  olc optimize export --study demo --format csv > demo.csv
  olc optimize plot --study demo --out demo.png`,
		Args: cmdutil.NoArgs,
		RunE: runE(opts, runF),
	}
	addRunFlags(cmd, opts)
	cmdutil.StringEnumFlag(cmd, &opts.Sampler, "sampler", "", experiments.Samplers, "the sampler, overriding the config's study.sampler")
	for _, sampler := range experiments.Samplers {
		cmd.AddCommand(newCmdShortcut(ios, sampler, runF))
	}
	cmd.AddCommand(newCmdStatus(ios, nil), newCmdBest(ios, nil), newCmdExport(ios, nil), newCmdPlot(ios, nil),
		newCmdList(ios), newCmdDelete(ios, nil), newCmdRename(ios, nil),
		newCmdAsk(ios), newCmdTell(ios), newCmdEnqueue(ios))
	return cmd
}

func addRunFlags(cmd *cobra.Command, opts *RunOptions) {
	f := cmd.Flags()
	f.StringVarP(&opts.ConfigPath, "config", "c", "", "the study's TOML config (required)")
	cmdutil.AddStoreFlag(cmd, &opts.StorePath)
	f.IntVar(&opts.Trials, "trials", 0, "complete trials wanted, overriding the config's study.trials")
	f.IntVar(&opts.Parallel, "parallel", 0, "trials run at once, overriding the config's study.parallel")
	cmdutil.AddJSONFlag(cmd, &opts.JSON)
	f.BoolVar(&opts.Progress, "progress", false, "show a progress bar on stderr even when it is not a terminal")
	f.BoolVar(&opts.New, "new", false, "start a fresh study under the config's name, keeping an existing one as <name>.1, <name>.2, …")
	f.IntVar(&opts.MaxFailures, "max-failures", 0, "give up after this many failed trials in a row (default 10; -1: never)")
	f.DurationVar(&opts.Heartbeat, "heartbeat", 0, "heartbeat interval of running trials (default 5s)")
	f.DurationVar(&opts.StaleAfter, "stale-after", 0, "silence after which another process's running trial counts as lost (default 6 heartbeats)")
	f.MarkHidden("heartbeat")
	f.MarkHidden("stale-after")
}

// newCmdShortcut returns 'olc optimize <sampler>', which sets the sampler.
func newCmdShortcut(ios *cmdutil.IOStreams, sampler string, runF func(context.Context, *RunOptions) error) *cobra.Command {
	opts := &RunOptions{IO: ios, Sampler: sampler}
	cmd := &cobra.Command{
		Use:   sampler + " --config study.toml",
		Short: "Run the study with the " + sampler + " sampler",
		Args:  cmdutil.NoArgs,
		RunE:  runE(opts, runF),
	}
	addRunFlags(cmd, opts)
	return cmd
}

// runE is the RunE of 'olc optimize' and its shortcuts: check the flags,
// then run (or runF).
func runE(opts *RunOptions, runF func(context.Context, *RunOptions) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		if err := checkRun(cmd, opts); err != nil {
			return err
		}
		if runF != nil {
			return runF(cmd.Context(), opts)
		}
		return runOptimize(cmd.Context(), opts)
	}
}

// checkRun checks the flags of a run.
func checkRun(cmd *cobra.Command, opts *RunOptions) error {
	if opts.ConfigPath == "" {
		return cmdutil.Usagef("--config is required: the study's TOML file; see '%s --help'", cmd.CommandPath())
	}
	if cmd.Flags().Changed("trials") && opts.Trials <= 0 {
		return cmdutil.Usagef("--trials must be positive, not %d", opts.Trials)
	}
	if cmd.Flags().Changed("parallel") && (opts.Parallel < 1 || opts.Parallel > 1024) {
		return cmdutil.Usagef("--parallel must be from 1 to 1024, not %d", opts.Parallel)
	}
	return nil
}
