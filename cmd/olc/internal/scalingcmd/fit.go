package scalingcmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/olc-toolkit/olc/internal/atomicfile"
	"github.com/olc-toolkit/olc/optimize"

	"github.com/spf13/cobra"

	"github.com/olc-toolkit/olc/cmd/olc/internal/cmdutil"
	"github.com/olc-toolkit/olc/internal/plotstyle"
	"github.com/olc-toolkit/olc/scaling"
	"github.com/olc-toolkit/olc/scaling/scalingplot"
)

// FitOptions are the options of 'olc scaling fit'.
type FitOptions struct {
	IO          *cmdutil.IOStreams
	DataPath    string
	Study       string
	StorePath   string
	Law         string
	Columns     map[string]string
	FlopsColumn string
	Bootstrap   int
	Seed        uint64
	Loss        string
	Delta       float64
	Compute     []float64
	Holdout     int
	Transform   string
	PlotPath    string
	OutPath     string
	JSON        bool
	Progress    bool
	Workers     int
	// StartStride keeps every k-th start of the law's grid (hidden; for
	// quick looks and tests, the full grid is the method).
	StartStride int
}

func newCmdFit(ios *cmdutil.IOStreams, runF func(context.Context, *FitOptions) error) *cobra.Command {
	opts := &FitOptions{IO: ios}
	var columns, compute string
	cmd := &cobra.Command{
		Use:   "fit (--data runs.csv | --study NAME) --law LAW",
		Short: "Fit a scaling law to a CSV table or a study's trials",
		Long: `Fit a scaling law to points from a CSV table with a header row, or from the
complete trials of a study in the store (columns are looked up among each
trial's parameters and metrics).

--columns maps the law's variables (N, D, x, c) and loss to column names;
unmapped ones are looked up under their own names. When the law needs D and
the table has none, --flops-column names training FLOPs C and D = C/(6N).
For metrics that rise with scale (accuracy, EM) --transform complement fits
1 - metric and reports predictions on the metric's scale.

olc refuses laws the data cannot identify (too few points for the
parameters, too few distinct sizes, N and D that move in lockstep) and says
which laws they can. The text report and --json give every parameter with
its bootstrap standard error and 95% percentile interval, the winning start's
gradient norm and iteration count, the fit in log space, the compute-optimal
exponents and, for each --compute budget, the optimal N, D and tokens per
parameter with their intervals.`,
		Example: `  olc scaling fit --data runs.csv --law chinchilla --compute 1e21,1e23 --plot fit.png --out fit.json
  olc scaling fit --data runs.csv --law chinchilla --columns N=params,D=tokens,loss=val_loss --holdout 5
  olc scaling fit --data ctx.csv --law context --columns c=context_length --plot ctx.svg
  olc scaling fit --study sweep --law kaplan-n --columns N=n_params,loss=eval_loss
  olc scaling fit --data acc.csv --law kaplan-n --transform complement --columns loss=accuracy`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.Columns, err = parseColumns(columns); err != nil {
				return err
			}
			if opts.Compute, err = parseBudgets(compute); err != nil {
				return err
			}
			if err := opts.validate(); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runFit(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.DataPath, "data", "", "a CSV table with a header row")
	f.StringVar(&opts.Study, "study", "", "fit the complete trials of this study instead of a table")
	cmdutil.AddStoreFlag(cmd, &opts.StorePath)
	f.StringVar(&opts.Law, "law", "", "the law: "+strings.Join(scaling.LawNames(), ", ")+", or auto: every law the data identify (required)")
	f.StringVar(&columns, "columns", "", "variable=column pairs, e.g. N=params,D=tokens,loss=loss (defaults: the variables' own names and loss)")
	f.StringVar(&opts.FlopsColumn, "flops-column", "", "a column of training FLOPs (orders --holdout, groups the plot; gives D = C/(6N) when D is missing)")
	f.IntVar(&opts.Bootstrap, "bootstrap", 1000, "bootstrap resamples for the intervals (0: none)")
	f.Uint64Var(&opts.Seed, "seed", 0, "seed of the bootstrap's resampling")
	cmdutil.StringEnumFlag(cmd, &opts.Loss, "loss", string(scaling.Huber), []string{string(scaling.Huber), string(scaling.LeastSquares)}, "the loss on log residuals")
	f.Float64Var(&opts.Delta, "delta", 1e-3, "the Huber loss's threshold")
	f.StringVar(&compute, "compute", "", "compute budgets in FLOPs, e.g. 1e21,1e23: report the compute-optimal N and D for each")
	f.IntVar(&opts.Holdout, "holdout", 0, "also fit without the K largest-compute points and report the error on them")
	cmdutil.StringEnumFlag(cmd, &opts.Transform, "transform", string(scaling.NoTransform), []string{string(scaling.NoTransform), string(scaling.Complement)}, "complement fits 1 - metric (accuracy, EM)")
	f.StringVar(&opts.PlotPath, "plot", "", "draw the fit to this image (.png, .svg or .pdf)")
	f.StringVar(&opts.OutPath, "out", "", "write the fit (the --json object) to this file, for 'olc scaling predict'")
	cmdutil.AddJSONFlag(cmd, &opts.JSON)
	f.BoolVar(&opts.Progress, "progress", false, "show a progress bar on stderr even when it is not a terminal")
	f.IntVar(&opts.Workers, "workers", 0, "goroutines for the starts and resamples (default: all cores)")
	f.IntVar(&opts.StartStride, "start-stride", 1, "use every k-th start of the law's grid (a quick, less thorough fit)")
	f.MarkHidden("start-stride")
	return cmd
}

func (o *FitOptions) validate() error {
	switch {
	case o.DataPath == "" && o.Study == "":
		return cmdutil.Usagef("give the points with --data FILE.csv or --study NAME")
	case o.DataPath != "" && o.Study != "":
		return cmdutil.Usagef("--data and --study both given; choose one")
	case o.Law == "":
		return cmdutil.Usagef("--law is required; choose one of %s", strings.Join(scaling.LawNames(), ", "))
	case o.Bootstrap < 0:
		return cmdutil.Usagef("--bootstrap must be 0 or more, not %d", o.Bootstrap)
	case o.Holdout < 0:
		return cmdutil.Usagef("--holdout must be 0 or more, not %d", o.Holdout)
	case !(o.Delta > 0) || math.IsInf(o.Delta, 0):
		return cmdutil.Usagef("--delta must be a positive number, not %v", o.Delta)
	}
	if o.Law == "auto" {
		if o.PlotPath != "" || o.OutPath != "" {
			return cmdutil.Usagef("--law auto fits several laws; --plot and --out need one (run again with the law you choose)")
		}
		for k := range o.Columns {
			if k != "loss" && !slices.Contains(scaling.AllVars, k) {
				return cmdutil.Usagef("--columns %s=…: the laws' variables are %s, and loss", k, strings.Join(scaling.AllVars, ", "))
			}
		}
	} else if _, err := scaling.LawByName(o.Law); err != nil {
		return cmdutil.Usagef("--law: %v (or auto)", err)
	}
	law, _ := scaling.LawByName(o.Law)
	for k := range o.Columns {
		if law != nil && k != "loss" && !slices.Contains(law.Vars(), k) {
			return cmdutil.Usagef("--columns %s=…: the law %s has the variables %s, and loss", k, law.Name(), strings.Join(law.Vars(), ", "))
		}
	}
	for _, p := range []string{o.PlotPath} {
		if p != "" {
			if _, err := plotFormat(p); err != nil {
				return cmdutil.Usagef("--plot: %v", err)
			}
		}
	}
	return nil
}

func parseColumns(s string) (map[string]string, error) {
	out := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for _, pair := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		if !ok || k == "" || v == "" {
			return nil, cmdutil.Usagef("--columns: %q is not variable=column (e.g. N=params,D=tokens,loss=loss)", pair)
		}
		if _, dup := out[k]; dup {
			return nil, cmdutil.Usagef("--columns: %s mapped twice", k)
		}
		out[k] = v
	}
	return out, nil
}

func parseBudgets(s string) ([]float64, error) {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		v, err := strconv.ParseFloat(f, 64)
		if err != nil || !(v > 0) || math.IsInf(v, 0) {
			return nil, cmdutil.Usagef("--compute: %q is not a positive number of FLOPs", f)
		}
		out = append(out, v)
	}
	return out, nil
}

func plotFormat(path string) (string, error) { return plotstyle.FormatOf(path) }

// FitJSON is what --json prints and --out writes: the fit, and where the
// points came from.
type FitJSON struct {
	*scaling.Result
	Source string `json:"source"`
	Plot   string `json:"plot,omitempty"`
}

func runFit(ctx context.Context, opts *FitOptions) error {
	cols := scaling.Columns{Vars: map[string]string{}, Loss: opts.Columns["loss"], Compute: opts.FlopsColumn}
	for k, v := range opts.Columns {
		if k != "loss" {
			cols.Vars[k] = v
		}
	}
	if opts.Law == "auto" {
		return runAnalyze(ctx, opts, cols)
	}
	law, _ := scaling.LawByName(opts.Law)
	data, source, err := loadData(ctx, opts, law.Vars(), false, cols)
	if err != nil {
		return err
	}
	fo := fitOptions(opts)
	fo.Columns = cols.Names(law)
	if opts.StartStride > 1 {
		for i, s := range law.Starts() {
			if i%opts.StartStride == 0 {
				fo.Starts = append(fo.Starts, s)
			}
		}
	}
	if plan := scaling.PlanFit(law, data, fo); plan.Seconds > 10 || plan.ScreenPoints > 0 {
		workers := fo.Workers
		if workers <= 0 {
			workers = runtime.GOMAXPROCS(0)
		}
		fmt.Fprintf(opts.IO.ErrOut, "olc: fit %s: %s; about %s on %d cores\n", law.Name(), plan, cmdutil.Duration(time.Duration(plan.Seconds*float64(time.Second))), workers)
	}
	stop := progress(opts, &fo, law.Name())
	res, err := scaling.Fit(ctx, law, data, fo)
	stop()
	if err != nil {
		return fitError(source, err)
	}
	out := FitJSON{Result: res, Source: source, Plot: opts.PlotPath}
	if opts.PlotPath != "" {
		format, _ := plotFormat(opts.PlotPath)
		var buf bytes.Buffer
		if err := scalingplot.Draw(&buf, format, res, data); err != nil {
			return fmt.Errorf("plot: %w", err)
		}
		if err := atomicfile.Write(opts.PlotPath, buf.Bytes()); err != nil {
			return fmt.Errorf("write the plot: %w", err)
		}
	}
	if opts.OutPath != "" {
		b, err := json.MarshalIndent(out, "", "  ")
		if err != nil {
			return err
		}
		if err := atomicfile.Write(opts.OutPath, append(b, '\n')); err != nil {
			return fmt.Errorf("write the fit: %w", err)
		}
	}
	if opts.JSON {
		return cmdutil.PrintJSON(opts.IO.Out, out)
	}
	printFit(opts.IO.Out, res, source)
	if opts.PlotPath != "" {
		fmt.Fprintf(opts.IO.Out, "plot: %s\n", opts.PlotPath)
	}
	if opts.OutPath != "" {
		fmt.Fprintf(opts.IO.Out, "fit written to %s (use it with 'olc scaling predict --fit %s')\n", opts.OutPath, opts.OutPath)
	}
	return nil
}

// fitOptions maps the flags to scaling.Options.
func fitOptions(opts *FitOptions) scaling.Options {
	fo := scaling.DefaultOptions()
	fo.Loss, fo.Delta, fo.Transform = scaling.LossKind(opts.Loss), opts.Delta, scaling.Transform(opts.Transform)
	fo.Bootstrap, fo.Seed, fo.Compute, fo.Holdout = opts.Bootstrap, opts.Seed, opts.Compute, opts.Holdout
	fo.Workers = opts.Workers
	return fo
}

// progress reports the fit on stderr (a bar on a terminal or with
// --progress, else a line every 10 s), fed by fo.Progress; the returned
// function ends it.
func progress(opts *FitOptions, fo *scaling.Options, name string) func() {
	bar := cmdutil.NewProgress(opts.IO, opts.Progress, "fit "+name)
	fo.Progress = func(done, total int) {
		bar.SetCount(done, total, fmt.Sprintf("%d of %d starts and resamples", done, total))
	}
	return bar.Finish
}

// fitError maps bad data and unidentifiable laws to usage errors (exit 2).
func fitError(source string, err error) error {
	var de *scaling.DataError
	var ie *scaling.IdentifiabilityError
	if errors.As(err, &de) {
		return cmdutil.Usagef("%s: %v", source, de)
	}
	if errors.As(err, &ie) {
		return cmdutil.Usagef("%s: %v", source, ie)
	}
	return fmt.Errorf("%s: %w", source, err)
}

// AnalysisJSON is what --law auto --json prints.
type AnalysisJSON struct {
	*scaling.Analysis
	Source string `json:"source"`
}

// runAnalyze fits every law the data identify.
func runAnalyze(ctx context.Context, opts *FitOptions, cols scaling.Columns) error {
	data, source, err := loadData(ctx, opts, scaling.AllVars, true, cols)
	if err != nil {
		return err
	}
	fo := fitOptions(opts)
	names := map[string]string{"loss": cols.Of("loss")}
	for _, v := range scaling.AllVars {
		names[v] = cols.Of(v)
	}
	fo.Columns = names
	stop := progress(opts, &fo, "every identifiable law")
	a, err := scaling.Analyze(ctx, data, fo)
	stop()
	if err != nil {
		return fitError(source, err)
	}
	if opts.JSON {
		return cmdutil.PrintJSON(opts.IO.Out, AnalysisJSON{Analysis: a, Source: source})
	}
	for i, res := range a.Fits {
		if i > 0 {
			fmt.Fprintln(opts.IO.Out, strings.Repeat("-", 72))
		}
		printFit(opts.IO.Out, res, source)
	}
	if len(a.Fits) == 0 {
		fmt.Fprintln(opts.IO.Out, "no law in olc can be identified from these data")
	}
	if len(a.Skipped) > 0 {
		fmt.Fprintln(opts.IO.Out, strings.Repeat("-", 72))
		for _, s := range a.Skipped {
			fmt.Fprintf(opts.IO.Out, "not fitted: %s: %s\n", s.Law, s.Reason)
		}
	}
	return nil
}

// loadData reads the points of the variables vars (all required unless
// optional) from the table or the study.
func loadData(ctx context.Context, opts *FitOptions, vars []string, optional bool, cols scaling.Columns) (*scaling.Data, string, error) {
	if opts.DataPath != "" {
		f, err := os.Open(opts.DataPath)
		if err != nil {
			return nil, opts.DataPath, cmdutil.Usagef("--data: %v", err)
		}
		defer f.Close()
		var d *scaling.Data
		if optional {
			d, err = scaling.ReadCSVAll(f, cols)
		} else {
			law, _ := scaling.LawByName(opts.Law)
			d, err = scaling.ReadCSV(f, law, cols)
		}
		if err != nil {
			return nil, opts.DataPath, cmdutil.Usagef("%s: %v", opts.DataPath, err)
		}
		return d, opts.DataPath, nil
	}
	source := fmt.Sprintf("study %s", opts.Study)
	study, trials, err := cmdutil.LoadStudy(ctx, opts.StorePath, opts.Study)
	if err != nil {
		return nil, source, err
	}
	var runs []scaling.Record
	for _, t := range trials {
		if t.State == optimize.Complete {
			runs = append(runs, scaling.Record{Label: fmt.Sprintf("trial %d", t.Number), Kind: "trial", Params: t.Params, Metrics: t.Metrics})
		}
	}
	if len(runs) == 0 {
		return nil, source, cmdutil.Usagef("%s: the study %s has no complete trial", source, study.Name)
	}
	var d *scaling.Data
	if optional {
		d, err = scaling.ReadRecordsAll(source, runs, cols)
	} else {
		law, _ := scaling.LawByName(opts.Law)
		d, err = scaling.ReadRecords(source, runs, law, cols)
	}
	if err != nil {
		return nil, source, cmdutil.Usagef("%s: %v", source, err)
	}
	return d, source, nil
}
