package benchcmd

import (
	"context"
	"fmt"
	"io"
	"math"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/olc-toolkit/olc/cmd/olc/internal/cmdutil"
	"github.com/olc-toolkit/olc/scaling"
)

// ScalingOptions are the options of 'olc bench scaling'.
type ScalingOptions struct {
	IO                *cmdutil.IOStreams
	Noise             float64
	Seed              uint64
	Bootstrap         int
	Serial            bool
	WarmCheck         int
	Coverage          int
	CoverageResamples int
	CoverageStride    int
	JSON              bool
}

func newCmdScaling(ios *cmdutil.IOStreams, runF func(context.Context, *ScalingOptions) error) *cobra.Command {
	opts := &ScalingOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "scaling",
		Short: "Time the Chinchilla fit and its bootstrap, and check the bootstrap's shortcuts and coverage",
		Long: `Generate 250 runs from Hoffmann et al.'s Chinchilla law (the 25 x 10 grid of
N in [1e7, 1e10] and D in [1e8, 1e12], log noise --noise) and measure:

  - the full-grid fit (4,500 L-BFGS starts) on all cores, and serially
    (--serial), whose ratio is the parallel speed-up;
  - the bootstrap (--bootstrap resamples), each refitted from warm starts;
  - on --warm-check resamples, the warm starts' optimum against the full
    grid's on the same resample;
  - with --coverage R, the coverage of the 95% bootstrap intervals: R
    synthetic data sets, each fitted with --coverage-resamples resamples
    (from every --coverage-stride-th grid start, to keep it affordable),
    counting how often each interval holds the true parameter.`,
		Example: `  olc bench scaling
  olc bench scaling --coverage 200 --json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Bootstrap < 0 || opts.WarmCheck < 0 || opts.Coverage < 0 || opts.CoverageResamples < 10 || opts.CoverageStride < 1 {
				return cmdutil.Usagef("--bootstrap, --warm-check and --coverage must be 0 or more, --coverage-resamples at least 10, --coverage-stride at least 1")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runScaling(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.Float64Var(&opts.Noise, "noise", 0.02, "standard deviation of the log noise of the generated runs")
	f.Uint64Var(&opts.Seed, "seed", 0, "seed of the generated runs and the bootstrap")
	f.IntVar(&opts.Bootstrap, "bootstrap", 1000, "bootstrap resamples to time")
	f.BoolVar(&opts.Serial, "serial", true, "also run the full grid on one core, for the speed-up")
	f.IntVar(&opts.WarmCheck, "warm-check", 5, "resamples on which to compare the warm starts with the full grid")
	f.IntVar(&opts.Coverage, "coverage", 0, "synthetic experiments for the interval coverage check (0: skip)")
	f.IntVar(&opts.CoverageResamples, "coverage-resamples", 200, "bootstrap resamples per coverage experiment")
	f.IntVar(&opts.CoverageStride, "coverage-stride", 45, "use every k-th grid start in the coverage experiments")
	cmdutil.AddJSONFlag(cmd, &opts.JSON)
	return cmd
}

// ScalingBench is what 'olc bench scaling --json' prints.
type ScalingBench struct {
	Points          int                 `json:"points"`
	Noise           float64             `json:"noise"`
	Cores           int                 `json:"cores"`
	Starts          int                 `json:"starts"`
	GridSeconds     float64             `json:"grid_seconds"`
	SerialSeconds   float64             `json:"serial_seconds,omitempty"`
	SpeedUp         float64             `json:"speed_up,omitempty"`
	OneStartSeconds float64             `json:"one_start_seconds,omitempty"`
	Iterations      int                 `json:"iterations"`
	GradNorm        float64             `json:"grad_norm"`
	Params          map[string]float64  `json:"params"`
	Resamples       int                 `json:"resamples"`
	BootstrapSecs   float64             `json:"bootstrap_seconds"`
	BootstrapFailed int                 `json:"bootstrap_failed"`
	WarmChecks      []scaling.WarmCheck `json:"warm_checks"`
	Coverage        *CoverageResult     `json:"coverage,omitempty"`
	Kernels         Kernels             `json:"kernels"`
}

// CoverageResult is the share of 95% intervals that held the truth.
type CoverageResult struct {
	Experiments int                `json:"experiments"`
	Resamples   int                `json:"resamples"`
	Starts      int                `json:"starts"`
	Rate        map[string]float64 `json:"rate"`
	Seconds     float64            `json:"seconds"`
}

func runScaling(ctx context.Context, opts *ScalingOptions) error {
	law := scaling.Chinchilla{}
	truth, design := scaling.Reference(law)
	d, err := scaling.Generate(law, truth, design, opts.Noise, opts.Seed)
	if err != nil {
		return err
	}
	out := ScalingBench{Points: d.Len(), Noise: opts.Noise, Cores: runtime.GOMAXPROCS(0), Starts: len(law.Starts()), Resamples: opts.Bootstrap, Params: map[string]float64{}, Kernels: kernels()}
	say := func(format string, args ...any) {
		if !opts.JSON {
			fmt.Fprintf(opts.IO.Out, format, args...)
		}
	}
	say("Chinchilla fit on %d runs generated from Hoffmann et al.'s law (log noise %g), %d cores; %s\n", d.Len(), opts.Noise, out.Cores, out.Kernels)

	noBoot := scaling.DefaultOptions()
	noBoot.Bootstrap = 0
	res, err := scaling.Fit(ctx, law, d, noBoot)
	if err != nil {
		return err
	}
	out.GridSeconds = res.Seconds.Fit
	out.Iterations, out.GradNorm = res.Iterations, res.GradNorm
	for i, n := range res.ParamNames {
		out.Params[n] = res.Values()[i]
	}
	say("full grid, %d starts on %d workers: %.2f s (winning start: %d iterations, gradient norm %.2g; %d starts converged)\n",
		out.Starts, out.Cores, out.GridSeconds, res.Iterations, res.GradNorm, res.StartsConverged)
	if opts.Serial {
		serial := noBoot
		serial.Workers = 1
		ser, err := scaling.Fit(ctx, law, d, serial)
		if err != nil {
			return err
		}
		out.SerialSeconds = ser.Seconds.Fit
		out.SpeedUp = out.SerialSeconds / out.GridSeconds
		out.OneStartSeconds = out.SerialSeconds / float64(out.Starts)
		say("full grid serially (one start × %d): %.2f s, %.2f ms a start; parallel speed-up %.2f×\n",
			out.Starts, out.SerialSeconds, 1e3*out.OneStartSeconds, out.SpeedUp)
	}
	if opts.Bootstrap > 0 {
		bo := scaling.DefaultOptions()
		bo.Bootstrap, bo.Seed = opts.Bootstrap, opts.Seed
		b, err := scaling.Fit(ctx, law, d, bo)
		if err != nil {
			return err
		}
		out.BootstrapSecs = b.Seconds.Bootstrap
		out.BootstrapFailed = b.Bootstrap.Failed
		say("bootstrap: %d resamples in %.2f s (%d failed)\n", opts.Bootstrap, out.BootstrapSecs, b.Bootstrap.Failed)
	}
	if opts.WarmCheck > 0 {
		idx := make([]int, opts.WarmCheck)
		for i := range idx {
			idx[i] = i * max(1, opts.Bootstrap/opts.WarmCheck)
		}
		wo := scaling.DefaultOptions()
		wo.Seed = opts.Seed
		checks, err := scaling.CheckWarmStarts(ctx, law, d, wo, idx)
		if err != nil {
			return err
		}
		out.WarmChecks = checks
		worst, gap := 0.0, 0.0
		for _, c := range checks {
			worst = math.Max(worst, c.ParamRelDiff)
			gap = math.Max(gap, (c.Warm-c.Grid)/c.Grid)
		}
		say("warm starts (%d) vs the full grid (%d starts) on %d resamples: objective gap at most %.2g (relative), parameters differ by at most %.2g (relative)\n",
			checks[0].WarmStarts, checks[0].GridStarts, len(checks), gap, worst)
	}
	if opts.Coverage > 0 {
		cov, err := coverage(ctx, law, truth, design, opts, opts.IO.ErrOut)
		if err != nil {
			return err
		}
		out.Coverage = cov
		say("coverage of the 95%% intervals over %d synthetic data sets (%d resamples each, %d starts):", cov.Experiments, cov.Resamples, cov.Starts)
		for _, n := range append(law.Params(), "a", "b") {
			say(" %s %.1f%%", n, 100*cov.Rate[n])
		}
		say(" (%.0f s)\n", cov.Seconds)
	}
	if opts.JSON {
		return cmdutil.PrintJSON(opts.IO.Out, out)
	}
	return nil
}

// coverage fits opts.Coverage synthetic data sets and counts how often each
// 95% bootstrap interval holds the truth, for the parameters and the
// compute-optimal exponents.
func coverage(ctx context.Context, law scaling.Chinchilla, truth []float64, design map[string][]float64, opts *ScalingOptions, progress io.Writer) (*CoverageResult, error) {
	var starts [][]float64
	for i, s := range law.Starts() {
		if i%opts.CoverageStride == 0 {
			starts = append(starts, s)
		}
	}
	ta, tb, _ := law.Allocation(truth)
	hits := map[string]int{}
	t0 := time.Now()
	for r := range opts.Coverage {
		d, err := scaling.Generate(law, truth, design, opts.Noise, 1000+uint64(r))
		if err != nil {
			return nil, err
		}
		co := scaling.DefaultOptions()
		co.Bootstrap, co.Seed, co.Starts = opts.CoverageResamples, uint64(r), starts
		res, err := scaling.Fit(ctx, law, d, co)
		if err != nil {
			return nil, fmt.Errorf("coverage experiment %d: %w", r, err)
		}
		in := func(e scaling.Estimate, v float64) bool { return e.HasInterval() && e.CI[0] <= v && v <= e.CI[1] }
		for i, n := range res.ParamNames {
			if in(res.Params[n], truth[i]) {
				hits[n]++
			}
		}
		if in(res.Exponents.A, ta) {
			hits["a"]++
		}
		if in(res.Exponents.B, tb) {
			hits["b"]++
		}
		if progress != nil && (r+1)%10 == 0 {
			fmt.Fprintf(progress, "coverage: %d/%d experiments\n", r+1, opts.Coverage)
		}
	}
	cov := &CoverageResult{Experiments: opts.Coverage, Resamples: opts.CoverageResamples, Starts: len(starts), Rate: map[string]float64{}, Seconds: time.Since(t0).Seconds()}
	for _, n := range append(law.Params(), "a", "b") {
		cov.Rate[n] = float64(hits[n]) / float64(opts.Coverage)
	}
	return cov, nil
}
