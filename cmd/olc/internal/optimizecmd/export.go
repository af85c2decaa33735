package optimizecmd

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/olc-toolkit/olc/internal/atomicfile"

	"github.com/spf13/cobra"

	"github.com/olc-toolkit/olc/cmd/olc/internal/cmdutil"
	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/experiments/report"
)

// ExportOptions are the options of 'olc optimize export'.
type ExportOptions struct {
	IO        *cmdutil.IOStreams
	StorePath string
	Study     string
	Format    string
	Out       string
}

func newCmdExport(ios *cmdutil.IOStreams, runF func(context.Context, *ExportOptions) error) *cobra.Command {
	opts := &ExportOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "export --study NAME [--format json|csv] [--out FILE]",
		Short: "Export a study's trials as JSON or CSV",
		Long: `Export every trial of a study, in number order.

JSON: {"study", "direction", "metric", "sampler", "trials": [{"number", "state",
"params", "metrics", "value", "attempt", "retry_of", "started", "finished",
"duration_s", "error", "reason", "log_path", "intermediate"}]}; value is null
unless the trial is complete. CSV: one row per trial, a params.<name> column
per parameter and a metrics.<name> column per metric.`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := requireStudy(opts.Study); err != nil {
				return err
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runExport(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringVar(&opts.Study, "study", "", "the study (required)")
	cmdutil.StringEnumFlag(cmd, &opts.Format, "format", "json", report.Formats, "the output format")
	cmd.Flags().StringVarP(&opts.Out, "out", "o", "", "write to this file instead of stdout (a folder: FOLDER/<study>.<format>)")
	cmdutil.AddStoreFlag(cmd, &opts.StorePath)
	return cmd
}

func runExport(ctx context.Context, opts *ExportOptions) error {
	study, trials, err := cmdutil.LoadStudy(ctx, opts.StorePath, opts.Study)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := report.Export(&buf, opts.Format, study, trials); err != nil {
		return err
	}
	if opts.Out == "" || opts.Out == "-" {
		_, err := opts.IO.Out.Write(buf.Bytes())
		return err
	}
	path, err := outputFile(opts.Out, study.Name+"."+opts.Format)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, buf.Bytes()); err != nil {
		return err
	}
	if path != opts.Out {
		fmt.Fprintln(opts.IO.ErrOut, "olc: wrote", path)
	}
	return nil
}

// PlotJSON is what 'olc optimize plot --json' prints.
type PlotJSON struct {
	Studies []string `json:"studies"`
	Plot    string   `json:"plot"`
}

// PlotOptions are the options of 'olc optimize plot'.
type PlotOptions struct {
	IO        *cmdutil.IOStreams
	StorePath string
	Studies   []string
	Out       string
	JSON      bool
}

func newCmdPlot(ios *cmdutil.IOStreams, runF func(context.Context, *PlotOptions) error) *cobra.Command {
	opts := &PlotOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "plot --study NAME [--study NAME …] [--out FILE.png|.svg|.pdf]",
		Short: "Plot a study (best so far, value against each parameter), or compare studies",
		Long: `Plot one study: the best value so far against the trial number, and the
value against each parameter. With several --study flags (or a comma-separated
list), plot their best-so-far curves on one set of axes instead.`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(opts.Studies) == 0 {
				return requireStudy("")
			}
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return runPlot(cmd.Context(), opts)
		},
	}
	cmd.Flags().StringSliceVar(&opts.Studies, "study", nil, "the study; give several to compare them (required)")
	cmd.Flags().StringVarP(&opts.Out, "out", "o", "", "the image; its extension picks the format (default <store folder>/plots/<study>.png; a folder: FOLDER/<study>.png)")
	cmdutil.AddStoreFlag(cmd, &opts.StorePath)
	cmdutil.AddJSONFlag(cmd, &opts.JSON)
	return cmd
}

func runPlot(ctx context.Context, opts *PlotOptions) error {
	names := opts.Studies
	out := opts.Out
	if out == "" {
		out = filepath.Join(cmdutil.WorkDir(opts.StorePath), "plots", strings.Join(names, "-vs-")+".png")
	} else {
		var err error
		if out, err = outputFile(out, strings.Join(names, "-vs-")+".png"); err != nil {
			return err
		}
	}
	format, err := report.FormatOf(out)
	if err != nil {
		return &cmdutil.UsageError{Err: err}
	}
	var buf bytes.Buffer
	if len(names) == 1 {
		study, trials, err := cmdutil.LoadStudy(ctx, opts.StorePath, names[0])
		if err != nil {
			return err
		}
		space, err := experiments.SpaceOf(study)
		if err != nil {
			return err
		}
		if err := report.Plot(&buf, format, study, space, trials); err != nil {
			return fmt.Errorf("plot study %q: %w", names[0], err)
		}
	} else {
		var studies []*experiments.Study
		var trials [][]experiments.Trial
		for _, n := range names {
			s, ts, err := cmdutil.LoadStudy(ctx, opts.StorePath, n)
			if err != nil {
				return err
			}
			studies, trials = append(studies, s), append(trials, ts)
		}
		if err := report.PlotCompare(&buf, format, studies, trials); err != nil {
			return &cmdutil.UsageError{Err: err}
		}
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	if err := atomicfile.Write(out, buf.Bytes()); err != nil {
		return err
	}
	if opts.JSON {
		return cmdutil.PrintJSON(opts.IO.Out, PlotJSON{Studies: names, Plot: out})
	}
	fmt.Fprintln(opts.IO.Out, out)
	return nil
}

// outputFile returns the file an --out flag names: out itself, or
// out/name when out is a folder (or ends with a slash, creating it).
func outputFile(out, name string) (string, error) {
	if st, err := os.Stat(out); err == nil && st.IsDir() {
		return filepath.Join(out, name), nil
	}
	if strings.HasSuffix(out, "/") {
		if err := os.MkdirAll(out, 0o755); err != nil {
			return "", err
		}
		return filepath.Join(out, name), nil
	}
	return out, nil
}
