package scalingcmd

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/olc-toolkit/olc/internal/atomicfile"

	"github.com/spf13/cobra"

	"github.com/olc-toolkit/olc/cmd/olc/internal/cmdutil"
	"github.com/olc-toolkit/olc/scaling"
)

// GenerateOptions are the options of 'olc scaling generate'.
type GenerateOptions struct {
	IO      *cmdutil.IOStreams
	Law     string
	Params  string
	Noise   float64
	Seed    uint64
	OutPath string
}

func newCmdGenerate(ios *cmdutil.IOStreams, runF func(context.Context, *GenerateOptions) error) *cobra.Command {
	opts := &GenerateOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "generate --law LAW",
		Short: "Write a synthetic table of runs drawn from a law, to try fits on known truth",
		Long: `Write a CSV table of synthetic runs: the law's loss at a realistic design of
sizes, times exp(noise·ε) with ε standard normal. The parameters default to
published fits (chinchilla: Hoffmann et al. 2022, E=1.69 A=406.4 B=410.7
alpha=0.34 beta=0.28; kaplan: Kaplan et al. 2020; context: Xiong et al. 2023's
7B model, alpha=25.4 beta=0.45 gamma=1.56). Laws of N and D use the 25 x 10
grid of N in [1e7, 1e10] and D in [1e8, 1e12] and get a column C = 6ND.`,
		Example: `  olc scaling generate --law chinchilla --noise 0.02 --seed 1 --out runs.csv
  olc scaling generate --law context --params alpha=30,beta=0.5,gamma=1.4 > ctx.csv`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Law == "" {
				return cmdutil.Usagef("--law is required; choose one of %s", strings.Join(scaling.LawNames(), ", "))
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runGenerate(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Law, "law", "", "the law: "+strings.Join(scaling.LawNames(), ", ")+" (required)")
	cmd.Flags().StringVar(&opts.Params, "params", "", "name=value pairs overriding the reference parameters")
	cmd.Flags().Float64Var(&opts.Noise, "noise", 0.02, "standard deviation of the log noise")
	cmd.Flags().Uint64Var(&opts.Seed, "seed", 0, "seed of the noise")
	cmd.Flags().StringVarP(&opts.OutPath, "out", "o", "", "write the table to this file (default: stdout)")
	return cmd
}

func runGenerate(_ context.Context, opts *GenerateOptions) error {
	law, err := scaling.LawByName(opts.Law)
	if err != nil {
		return cmdutil.Usagef("--law: %v", err)
	}
	if !(opts.Noise >= 0) || math.IsInf(opts.Noise, 0) {
		return cmdutil.Usagef("--noise must be 0 or more, not %v", opts.Noise)
	}
	params, design := scaling.Reference(law)
	if strings.TrimSpace(opts.Params) != "" {
		for _, pair := range strings.Split(opts.Params, ",") {
			k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
			i := -1
			for j, n := range law.Params() {
				if n == strings.TrimSpace(k) {
					i = j
				}
			}
			if !ok || i < 0 {
				return cmdutil.Usagef("--params %q: the law %s has the parameters %s", pair, law.Name(), strings.Join(law.Params(), ", "))
			}
			x, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil || math.IsNaN(x) || math.IsInf(x, 0) {
				return cmdutil.Usagef("--params %q: %q is not a number", pair, v)
			}
			params[i] = x
		}
	}
	d, err := scaling.Generate(law, params, design, opts.Noise, opts.Seed)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := scaling.WriteCSV(&buf, law, d); err != nil {
		return err
	}
	if opts.OutPath == "" {
		_, err := opts.IO.Out.Write(buf.Bytes())
		return err
	}
	if err := atomicfile.Write(opts.OutPath, buf.Bytes()); err != nil {
		return fmt.Errorf("write %s: %w", opts.OutPath, err)
	}
	fmt.Fprintf(opts.IO.ErrOut, "%d runs of %s written to %s\n", d.Len(), law.Name(), opts.OutPath)
	return nil
}
