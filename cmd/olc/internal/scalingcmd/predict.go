package scalingcmd

import (
	"context"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/olc-toolkit/olc/cmd/olc/internal/cmdutil"
	"github.com/olc-toolkit/olc/scaling"
)

// PredictOptions are the options of 'olc scaling predict'.
type PredictOptions struct {
	IO      *cmdutil.IOStreams
	FitPath string
	At      []string
	JSON    bool
}

func newCmdPredict(ios *cmdutil.IOStreams, runF func(context.Context, *PredictOptions) error) *cobra.Command {
	opts := &PredictOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "predict --fit fit.json --at N=1e9,D=2e10",
		Short: "Predict the loss at new sizes from a saved fit, with its bootstrap interval",
		Long: `Evaluate a fit saved by 'olc scaling fit --out' at the points given with --at
(repeat it for several points). The interval is the 2.5% and 97.5% percentiles
of the bootstrap fits' values at the point: the uncertainty of the law, not
the run-to-run scatter about it.`,
		Example: `  olc scaling predict --fit fit.json --at N=1e9,D=2e10
  olc scaling predict --fit ctx.json --at c=65536 --at c=131072 --json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.FitPath == "" {
				return cmdutil.Usagef("--fit is required: a file written by 'olc scaling fit --out'")
			}
			if len(opts.At) == 0 {
				return cmdutil.Usagef("--at is required, e.g. --at N=1e9,D=2e10")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runPredict(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.FitPath, "fit", "", "a fit written by 'olc scaling fit --out' (required)")
	cmd.Flags().StringArrayVar(&opts.At, "at", nil, "a point, e.g. N=1e9,D=2e10 (repeatable)")
	cmdutil.AddJSONFlag(cmd, &opts.JSON)
	return cmd
}

// PredictionJSON is one prediction.
type PredictionJSON struct {
	At    map[string]float64 `json:"at"`
	Value scaling.Estimate   `json:"value"`
}

// PredictJSON is what 'olc scaling predict --json' prints.
type PredictJSON struct {
	Law         string           `json:"law"`
	Transform   string           `json:"transform"`
	Predictions []PredictionJSON `json:"predictions"`
}

func runPredict(_ context.Context, opts *PredictOptions) error {
	f, err := os.Open(opts.FitPath)
	if err != nil {
		return cmdutil.Usagef("--fit: %v", err)
	}
	defer f.Close()
	res, err := scaling.ReadResult(f)
	if err != nil {
		return cmdutil.Usagef("--fit %s: %v", opts.FitPath, err)
	}
	out := PredictJSON{Law: res.LawName, Transform: string(res.Transform)}
	vars := res.Law.Vars()
	for _, at := range opts.At {
		point, err := parsePoint(at, vars)
		if err != nil {
			return err
		}
		x := make([]float64, len(vars))
		for i, v := range vars {
			x[i] = point[v]
		}
		out.Predictions = append(out.Predictions, PredictionJSON{At: point, Value: res.PredictAt(x)})
	}
	if opts.JSON {
		return cmdutil.PrintJSON(opts.IO.Out, out)
	}
	name := "loss"
	if c := res.Columns["loss"]; c != "" {
		name = c
	}
	fmt.Fprintf(opts.IO.Out, "%s: %s\n", res.LawName, res.Formula)
	tw := tabwriter.NewWriter(opts.IO.Out, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "at\t%s\t95%% interval\n", name)
	for _, p := range out.Predictions {
		var at []string
		for _, v := range vars {
			at = append(at, fmt.Sprintf("%s=%.4g", v, p.At[v]))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", strings.Join(at, " "), num(p.Value.Value), interval(p.Value))
	}
	return tw.Flush()
}

// parsePoint reads "N=1e9,D=2e10" into values for every variable of the
// law.
func parsePoint(s string, vars []string) (map[string]float64, error) {
	out := map[string]float64{}
	for _, pair := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, cmdutil.Usagef("--at %q: %q is not variable=value", s, pair)
		}
		known := false
		for _, name := range vars {
			known = known || name == k
		}
		if !known {
			return nil, cmdutil.Usagef("--at %q: the law has the variables %s, not %s", s, strings.Join(vars, ", "), k)
		}
		x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || !(x > 0) || math.IsInf(x, 0) {
			return nil, cmdutil.Usagef("--at %q: %s=%s is not a positive number", s, k, v)
		}
		out[k] = x
	}
	for _, v := range vars {
		if _, ok := out[v]; !ok {
			return nil, cmdutil.Usagef("--at %q: give a value for %s (the law's variables: %s)", s, v, strings.Join(vars, ", "))
		}
	}
	return out, nil
}
