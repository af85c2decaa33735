package benchcmd

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/olc-toolkit/olc/cmd/olc/internal/cmdutil"
	"github.com/olc-toolkit/olc/optimize/benchmark"
)

// ParetoOptions are the options of 'olc bench pareto'.
type ParetoOptions struct {
	IO       *cmdutil.IOStreams
	Problems []string
	Samplers []string
	Budgets  []int
	Seeds    int
	JSON     bool
}

// ParetoReport is what 'olc bench pareto --json' prints.
type ParetoReport struct {
	Seeds   int                  `json:"seeds"`
	Budgets []int                `json:"budgets"`
	Results []benchmark.HVResult `json:"hypervolume"`
	Elapsed float64              `json:"elapsed_s"`
}

func newCmdPareto(ios *cmdutil.IOStreams) *cobra.Command {
	opts := &ParetoOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "pareto",
		Short: "Measure the samplers on two-objective test problems: hypervolume of the front found",
		Long: `Run each sampler on multi-objective test problems (branin-currin, zdt1:d) for
each seed, and report the hypervolume of the points found, from the problem's
usual reference point, at each budget: median and quartiles over the seeds,
the median's share of the true front's hypervolume, and on how many seeds the
sampler beat random search's run of the same seed. bayes is ParEGO (random
augmented-Chebyshev scalarizations).`,
		Example: `  olc bench pareto
  olc bench pareto --problems zdt1:6 --budgets 50,100 --seeds 5`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Seeds < 1 {
				return cmdutil.Usagef("--seeds must be positive, not %d", opts.Seeds)
			}
			for _, b := range opts.Budgets {
				if b < 1 || b > 10000 {
					return cmdutil.Usagef("--budgets: %d is not from 1 to 10000", b)
				}
			}
			return runPareto(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&opts.Problems, "problems", []string{"branin-currin", "zdt1:4"}, "problems, name or name:dimension")
	f.StringSliceVar(&opts.Samplers, "samplers", []string{"bayes-ucb", "random"}, "samplers to compare (bayes-ucb, bayes-ei, bayes-pi, random)")
	f.IntSliceVar(&opts.Budgets, "budgets", []int{25, 50}, "numbers of evaluations at which to report the hypervolume")
	f.IntVar(&opts.Seeds, "seeds", 10, "runs per problem and sampler")
	cmdutil.AddJSONFlag(cmd, &opts.JSON)
	return cmd
}

func runPareto(ctx context.Context, opts *ParetoOptions) error {
	var probs []*benchmark.MultiProblem
	for _, spec := range opts.Problems {
		name, d, _ := strings.Cut(spec, ":")
		dim := 0
		if d != "" {
			n, err := strconv.Atoi(d)
			if err != nil || n < 1 {
				return cmdutil.Usagef("--problems %q: the dimension must be a positive integer", spec)
			}
			dim = n
		}
		p, err := benchmark.NewMultiProblem(name, dim)
		if err != nil {
			return cmdutil.Usagef("--problems %q: %v", spec, err)
		}
		probs = append(probs, p)
	}
	for _, n := range opts.Samplers {
		if n == "grid" || n == "cmaes" {
			return cmdutil.Usagef("--samplers %q: allowed for several objectives: bayes-ucb, bayes-ei, bayes-pi, random", n)
		}
	}
	samps, err := samplers(opts.Samplers)
	if err != nil {
		return err
	}
	start := time.Now()
	res, err := benchmark.RunPareto(ctx, probs, samps, opts.Budgets, opts.Seeds)
	if err != nil {
		return err
	}
	rep := ParetoReport{Seeds: opts.Seeds, Budgets: opts.Budgets, Results: res, Elapsed: time.Since(start).Seconds()}
	if opts.JSON {
		return cmdutil.PrintJSON(opts.IO.Out, rep)
	}
	w := opts.IO.Out
	fmt.Fprintf(w, "hypervolume of the front found (higher is better), %d seeds; wins: seeds on which the sampler beat random search\n", opts.Seeds)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "PROBLEM\tSAMPLER\tBUDGET\tMEDIAN\tQ1\tQ3\tOF MAX\tWINS\t")
	for _, r := range res {
		share, wins := "-", "-"
		if r.MaxHV > 0 {
			share = fmt.Sprintf("%.1f%%", 100*r.Share)
		}
		if r.Sampler != "random" {
			wins = fmt.Sprintf("%d/%d", r.Wins, r.Seeds)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%.4g\t%.4g\t%.4g\t%s\t%s\t\n", r.Problem, r.Sampler, r.Budget, r.Median, r.Q1, r.Q3, share, wins)
	}
	tw.Flush()
	fmt.Fprintf(w, "took %s\n", time.Duration(rep.Elapsed*float64(time.Second)).Round(time.Second))
	return nil
}
