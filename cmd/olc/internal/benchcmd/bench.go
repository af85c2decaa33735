// Package benchcmd implements 'olc bench', which measures olc's components
// on reference problems.
package benchcmd

import (
	"context"
	"fmt"
	"io"
	"math"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/olc-toolkit/olc/cmd/olc/internal/cmdutil"
	"github.com/olc-toolkit/olc/optimize/benchmark"
)

// NewCmdBench returns 'olc bench'.
func NewCmdBench(ios *cmdutil.IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure olc on reference problems",
		Args:  cmdutil.NoArgs,
		RunE:  cmdutil.ShowHelp,
	}
	cmd.AddCommand(newCmdOptimize(ios, nil), newCmdPareto(ios), newCmdScaling(ios, nil), newCmdModel(ios, nil), newCmdServe(ios, nil), newCmdStore(ios, nil), newCmdStoreWorker(ios))
	return cmd
}

// OptimizeOptions are the options of 'olc bench optimize'.
type OptimizeOptions struct {
	IO        *cmdutil.IOStreams
	Functions []string
	Samplers  []string
	Budgets   []int
	Seeds     int
	Timing    []int
	timing    string
	Repeats   int
	JSON      bool
	Progress  bool
}

func newCmdOptimize(ios *cmdutil.IOStreams, runF func(context.Context, *OptimizeOptions) error) *cobra.Command {
	opts := &OptimizeOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "optimize",
		Short: "Simple regret of the samplers on test functions, and Bayesian optimization's overhead",
		Long: `Run each sampler on test functions with known optima over many seeds, and
print the median and interquartile range of the simple regret (best value
found minus the optimum) at each budget, with the ratio of random search's
median regret to each sampler's. A second table gives the time Bayesian
optimization takes to propose one point from its global model after 100, 250
and 500 observations of Hartmann6, split into the model fit and the
acquisition's maximization (a local proposal fits only 20 trials).

Functions are name or name:dimension (for functions of any dimension).
Samplers are bayes-ucb, bayes-ei, bayes-pi, cmaes, random and grid (grid runs only
where the budget gives at least 4 points per dimension).`,
		Example: `  olc bench optimize
  olc bench optimize --functions branin --samplers bayes-ucb,random --budgets 30 --seeds 5
  olc bench optimize --json > bench.json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Seeds < 1 {
				return cmdutil.Usagef("--seeds must be positive, not %d", opts.Seeds)
			}
			if len(opts.Budgets) == 0 {
				return cmdutil.Usagef("--budgets needs at least one budget")
			}
			for _, b := range opts.Budgets {
				if b < 1 {
					return cmdutil.Usagef("--budgets: %d is not a positive number of evaluations", b)
				}
			}
			opts.Timing = nil
			for _, f := range strings.Split(opts.timing, ",") {
				if f = strings.TrimSpace(f); f == "" {
					continue
				}
				n, err := strconv.Atoi(f)
				if err != nil || n < 2 {
					return cmdutil.Usagef("--timing: %q is not a number of observations (2 or more)", f)
				}
				opts.Timing = append(opts.Timing, n)
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runOptimize(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&opts.Functions, "functions", []string{"branin", "hartmann6", "ackley:5", "rosenbrock:5", "levy:5"}, "test functions, name or name:dimension")
	f.StringSliceVar(&opts.Samplers, "samplers", []string{"bayes-ucb", "bayes-ei", "bayes-pi", "random", "grid"}, "samplers to compare")
	f.IntSliceVar(&opts.Budgets, "budgets", []int{30, 100}, "numbers of evaluations at which to report the regret")
	f.IntVar(&opts.Seeds, "seeds", 20, "runs per function and sampler")
	f.StringVar(&opts.timing, "timing", "100,250,500", "history sizes at which to time a Bayesian proposal (none: --timing=)")
	f.IntVar(&opts.Repeats, "timing-repeats", 3, "repeats of each timing (the median is reported)")
	cmdutil.AddJSONFlag(cmd, &opts.JSON)
	f.BoolVar(&opts.Progress, "progress", false, "show a progress bar on stderr even when it is not a terminal")
	return cmd
}

func problems(specs []string) ([]*benchmark.Problem, error) {
	var out []*benchmark.Problem
	for _, spec := range specs {
		name, dimStr, _ := strings.Cut(spec, ":")
		dim := 0
		if dimStr != "" {
			d, err := strconv.Atoi(dimStr)
			if err != nil || d < 1 {
				return nil, cmdutil.Usagef("--functions %q: the dimension must be a positive integer", spec)
			}
			dim = d
		}
		p, err := benchmark.NewProblem(name, dim)
		if err != nil {
			return nil, cmdutil.Usagef("--functions %q: %v", spec, err)
		}
		out = append(out, p)
	}
	return out, nil
}

func samplers(names []string) ([]benchmark.Sampler, error) {
	var out []benchmark.Sampler
	for _, n := range names {
		switch {
		case strings.HasPrefix(n, "bayes-"):
			acq := strings.TrimPrefix(n, "bayes-")
			if acq != "ucb" && acq != "ei" && acq != "pi" {
				return nil, cmdutil.Usagef("--samplers %q: unknown acquisition; allowed: bayes-ucb, bayes-ei, bayes-pi, cmaes, random, grid", n)
			}
			out = append(out, benchmark.Bayes(acq))
		case n == "random":
			out = append(out, benchmark.Random)
		case n == "cmaes":
			out = append(out, benchmark.CMAES)
		case n == "grid":
			out = append(out, benchmark.Grid)
		default:
			return nil, cmdutil.Usagef("--samplers %q: unknown sampler; allowed: bayes-ucb, bayes-ei, bayes-pi, cmaes, random, grid", n)
		}
	}
	return out, nil
}

// Report is what 'olc bench optimize --json' prints.
type Report struct {
	Seeds   int         `json:"seeds"`
	Budgets []int       `json:"budgets"`
	Regret  []RegretRow `json:"regret"`
	Timing  []TimingRow `json:"timing"`
	Machine Machine     `json:"machine"`
	Kernels Kernels     `json:"kernels"`
	Elapsed float64     `json:"elapsed_s"`
}

// RegretRow is one line of the regret table: a benchmark result with the
// function's optimum, and random search's ratio as a number or null (for
// random search itself; JSON has no NaN).
type RegretRow struct {
	benchmark.Result
	Optimum float64  `json:"optimum"`
	Ratio   *float64 `json:"random_over_this"`
}

// TimingRow is one line of the timing table.
type TimingRow struct {
	Dim          int     `json:"dim"`
	Observations int     `json:"observations"`
	Refit        bool    `json:"refit"`
	FitS         float64 `json:"fit_s"`
	AcquisitionS float64 `json:"acquisition_s"`
	TotalS       float64 `json:"total_s"`
}

// Machine describes where the numbers were measured.
type Machine struct {
	CPUs int    `json:"cpus"`
	Go   string `json:"go"`
	OS   string `json:"os"`
	Arch string `json:"arch"`
}

func runOptimize(ctx context.Context, opts *OptimizeOptions) error {
	probs, err := problems(opts.Functions)
	if err != nil {
		return err
	}
	samps, err := samplers(opts.Samplers)
	if err != nil {
		return err
	}
	start := time.Now()
	cfg := benchmark.Options{Problems: probs, Samplers: samps, Budgets: opts.Budgets, Seeds: opts.Seeds}
	bar := cmdutil.NewProgress(opts.IO, opts.Progress, "bench optimize")
	cfg.Progress = func(done, total int) {
		bar.SetCount(done, total, fmt.Sprintf("%d of %d runs", done, total))
	}
	results, err := benchmark.Run(ctx, cfg)
	bar.Finish()
	if err != nil {
		return err
	}
	rep := &Report{Seeds: opts.Seeds, Budgets: opts.Budgets,
		Machine: Machine{CPUs: runtime.NumCPU(), Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH}, Kernels: kernels()}
	optimum := map[string]float64{}
	for _, p := range probs {
		optimum[p.Name] = p.Optimum()
	}
	for _, r := range results {
		row := RegretRow{Result: r, Optimum: optimum[r.Problem]}
		if !math.IsNaN(r.RandomRatio) && !math.IsInf(r.RandomRatio, 0) {
			v := r.RandomRatio
			row.Ratio = &v
		}
		rep.Regret = append(rep.Regret, row)
	}
	if len(opts.Timing) > 0 {
		ts, err := benchmark.ProposeTimes(ctx, opts.Timing, opts.Repeats)
		if err != nil {
			return err
		}
		for _, t := range ts {
			rep.Timing = append(rep.Timing, TimingRow{Dim: t.Dim, Observations: t.Observations, Refit: t.Refit,
				FitS: t.Fit.Seconds(), AcquisitionS: t.Acquisition.Seconds(), TotalS: t.Total.Seconds()})
		}
	}
	rep.Elapsed = time.Since(start).Seconds()
	if opts.JSON {
		return cmdutil.PrintJSON(opts.IO.Out, rep)
	}
	return printReport(opts.IO.Out, rep)
}

func printReport(w io.Writer, rep *Report) error {
	fmt.Fprintf(w, "Simple regret (best found − optimum) over %d seeds; ratio = random search's median regret / the sampler's\n\n", rep.Seeds)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "function\toptimum\tsampler\tbudget\tmedian\tq1\tq3\tmean best\trandom/this\t")
	for _, r := range rep.Regret {
		ratio := "-"
		if r.Ratio != nil {
			ratio = strconv.FormatFloat(*r.Ratio, 'g', 3, 64)
		}
		fmt.Fprintf(tw, "%s\t%.6g\t%s\t%d\t%.3g\t%.3g\t%.3g\t%.6g\t%s\t\n", r.Problem, r.Optimum, r.Sampler, r.Budget, r.Median, r.Q1, r.Q3, r.MeanBest, ratio)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(rep.Timing) > 0 {
		fmt.Fprintf(w, "\nTime to propose one point (bayes, Hartmann6, %d-d; median of repeats)\n\n", rep.Timing[0].Dim)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "observations\trefit\tfit (s)\tacquisition (s)\ttotal (s)\t")
		for _, t := range rep.Timing {
			fmt.Fprintf(tw, "%d\t%v\t%.3f\t%.3f\t%.3f\t\n", t.Observations, t.Refit, t.FitS, t.AcquisitionS, t.TotalS)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "\n%d CPUs, %s, %.0f s; %s\n", rep.Machine.CPUs, rep.Machine.Go, rep.Elapsed, rep.Kernels)
	return nil
}
