package optimizecmd

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/olc-toolkit/olc/internal/atomicfile"

	"github.com/spf13/cobra"

	"github.com/olc-toolkit/olc/cmd/olc/internal/cmdutil"
	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/experiments/report"
)

func newCmdExport(ios *cmdutil.IOStreams, storePath *string) *cobra.Command {
	var name, format, out string
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
			if err := requireStudy(cmd, name); err != nil {
				return err
			}
			if !slices.Contains(report.Formats, format) {
				return cmdutil.Usagef("--format %q: allowed: %s", format, strings.Join(report.Formats, ", "))
			}
			study, trials, err := cmdutil.LoadStudy(cmd.Context(), *storePath, name)
			if err != nil {
				return err
			}
			var buf bytes.Buffer
			if err := report.Export(&buf, format, study, trials); err != nil {
				return err
			}
			if out == "" || out == "-" {
				_, err := ios.Out.Write(buf.Bytes())
				return err
			}
			path, err := outputFile(out, study.Name+"."+format)
			if err != nil {
				return err
			}
			if err := atomicfile.Write(path, buf.Bytes()); err != nil {
				return err
			}
			if path != out {
				fmt.Fprintln(ios.ErrOut, "olc: wrote", path)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "study", "", "the study (required)")
	cmd.Flags().StringVar(&format, "format", "json", "json or csv")
	cmd.Flags().StringVarP(&out, "out", "o", "", "write to this file instead of stdout (a folder: FOLDER/<study>.<format>)")
	return cmd
}

// PlotJSON is what 'olc optimize plot --json' prints.
type PlotJSON struct {
	Studies []string `json:"studies"`
	Plot    string   `json:"plot"`
}

func newCmdPlot(ios *cmdutil.IOStreams, storePath *string) *cobra.Command {
	var names []string
	var out string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "plot --study NAME [--study NAME …] [--out FILE.png|.svg|.pdf]",
		Short: "Plot a study (best so far, value against each parameter), or compare studies",
		Long: `Plot one study: the best value so far against the trial number, and the
value against each parameter. With several --study flags (or a comma-separated
list), plot their best-so-far curves on one set of axes instead.`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) (err error) {
			if len(names) == 0 {
				return requireStudy(cmd, "")
			}
			if out == "" {
				out = filepath.Join(cmdutil.WorkDir(*storePath), "plots", strings.Join(names, "-vs-")+".png")
			} else if out, err = outputFile(out, strings.Join(names, "-vs-")+".png"); err != nil {
				return err
			}
			format, err := report.FormatOf(out)
			if err != nil {
				return &cmdutil.UsageError{Err: err}
			}
			var buf bytes.Buffer
			if len(names) == 1 {
				study, trials, err := cmdutil.LoadStudy(cmd.Context(), *storePath, names[0])
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
					s, ts, err := cmdutil.LoadStudy(cmd.Context(), *storePath, n)
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
			if asJSON {
				return cmdutil.PrintJSON(ios.Out, PlotJSON{Studies: names, Plot: out})
			}
			fmt.Fprintln(ios.Out, out)
			return nil
		},
	}
	cmd.Flags().StringSliceVar(&names, "study", nil, "the study; give several to compare them (required)")
	cmd.Flags().StringVarP(&out, "out", "o", "", "the image; its extension picks the format (default <store folder>/plots/<study>.png; a folder: FOLDER/<study>.png)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the plot's path as JSON")
	return cmd
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
