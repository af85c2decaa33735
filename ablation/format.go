package ablation

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
)

// Formats are the report formats WriteReport writes.
var Formats = []string{"text", "md", "csv"}

// WriteReport writes the result as a text table, a Markdown table (for
// papers) or CSV: per metric, the variants' means with their intervals and
// the components' effects with their tests.
func WriteReport(w io.Writer, format string, r *Result) error {
	switch format {
	case "text":
		return writeText(w, r)
	case "md":
		return writeMarkdown(w, r)
	case "csv":
		return writeCSV(w, r)
	}
	return fmt.Errorf("unknown format %q; allowed: %s", format, strings.Join(Formats, ", "))
}

func f(x float64, prec int) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "-"
	}
	return strconv.FormatFloat(x, 'f', prec, 64)
}

func p(x float64) string {
	switch {
	case math.IsNaN(x):
		return "-"
	case x < 1e-4:
		return "<1e-4"
	}
	return strconv.FormatFloat(x, 'f', 4, 64)
}

func ci(c [2]float64, prec int) string {
	if math.IsNaN(c[0]) {
		return "-"
	}
	return "[" + f(c[0], prec) + ", " + f(c[1], prec) + "]"
}

// pending says how many pairs a rerun would run again, if any.
func pending(r *Result) string {
	if r.Pending == 0 {
		return ""
	}
	return fmt.Sprintf(", %d interrupted (run the ablation again to resume them)", r.Pending)
}

// oneLine shortens an error to its first line, at most 160 characters.
func oneLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
}

func verdict(e Effect) string {
	switch {
	case e.N < 2:
		return "too few seeds"
	case e.constant:
		return "exact: the same on every seed"
	case e.Significant:
		return "significant"
	}
	return "not distinguishable from zero"
}

func writeText(w io.Writer, r *Result) error {
	fmt.Fprintf(w, "ablation %s: %s, %d seeds, %d complete, %d failed%s\n", r.Name, r.Design, len(r.Seeds), r.Complete, r.Failed, pending(r))
	if len(r.Failures) > 0 {
		fmt.Fprintln(w, "failed pairs (no attempt completed):")
		for _, f := range r.Failures {
			fmt.Fprintf(w, "  %s, seed %d: %s\n", f.Variant, f.Seed, oneLine(f.Error))
		}
	}
	for _, m := range r.Metrics {
		fmt.Fprintf(w, "\n%s (%s)\n", m.Name, m.Goal)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  variant\tn\tmean\tstd\t95% CI")
		for _, v := range m.Variants {
			fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\t%s\n", v.Variant, v.N, f(v.Mean, 4), f(v.Std, 4), ci(v.CI, 4))
		}
		tw.Flush()
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  component\tdiff\t95% CI\tp (t)\tp (Wilcoxon)\tp (Holm)\td_z\tn\tseeds needed\tverdict")
		for _, e := range m.Effects {
			need := "-"
			if e.SeedsNeeded > 0 && !e.Significant {
				need = strconv.Itoa(e.SeedsNeeded)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", e.Component, f(e.Diff, 4), ci(e.CI, 4), p(e.PT), p(e.PWilcoxon), p(e.PAdjusted), f(e.DZ, 2), e.N, need, verdict(e))
		}
		tw.Flush()
		if slices.ContainsFunc(m.Effects, func(e Effect) bool { return e.SeedsNeeded > 0 && !e.Significant }) {
			fmt.Fprintf(w, "  seeds needed: for a paired t-test to detect a difference of %s with %.0f%% power, from each component's spread\n", f(m.Effects[0].MinEffect, 4), 100*Power)
		}
		if len(m.Anova) > 0 {
			tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "  source\tSS\tdf\tF\tp\teffect")
			for _, a := range m.Anova {
				fmt.Fprintf(tw, "  %s\t%.4g\t%d\t%s\t%s\t%s\n", a.Source, a.SS, a.DF, f(a.F, 2), p(a.P), f(a.Effect, 4))
			}
			tw.Flush()
		}
	}
	fmt.Fprintf(w, "\ndiff = %s, paired by seed; 95%% CI: not adjusted; significant: Holm-adjusted t-test p < %.2f\n", r.Design.Difference(), Alpha)
	return nil
}

func writeMarkdown(w io.Writer, r *Result) error {
	fmt.Fprintf(w, "**Ablation %s** (%s, %d seeds; %d complete, %d failed%s)\n", r.Name, r.Design, len(r.Seeds), r.Complete, r.Failed, pending(r))
	for _, f := range r.Failures {
		fmt.Fprintf(w, "\n- failed: %s, seed %d: %s", f.Variant, f.Seed, oneLine(f.Error))
	}
	if len(r.Failures) > 0 {
		fmt.Fprintln(w)
	}
	for _, m := range r.Metrics {
		fmt.Fprintf(w, "\n| %s (%s) | n | mean | 95%% CI |\n|---|---:|---:|---|\n", m.Name, m.Goal)
		for _, v := range m.Variants {
			fmt.Fprintf(w, "| %s | %d | %s | %s |\n", v.Variant, v.N, f(v.Mean, 4), ci(v.CI, 4))
		}
		fmt.Fprintf(w, "\n| component | Δ %s | 95%% CI | p (Holm) | d_z | n |\n|---|---:|---|---:|---:|---:|\n", m.Name)
		for _, e := range m.Effects {
			mark := ""
			if e.Significant {
				mark = " *"
			}
			fmt.Fprintf(w, "| %s | %s%s | %s | %s | %s | %d |\n", e.Component, f(e.Diff, 4), mark, ci(e.CI, 4), p(e.PAdjusted), f(e.DZ, 2), e.N)
		}
	}
	fmt.Fprintf(w, "\n\\* significant at %.2f after Holm's adjustment (paired t-test over seeds).\n", Alpha)
	return nil
}

func writeCSV(w io.Writer, r *Result) error {
	cw := csv.NewWriter(w)
	cw.Write([]string{"metric", "goal", "component", "diff", "ci_low", "ci_high", "p_t", "p_wilcoxon", "p_adjusted", "significant", "d_z", "n", "seeds_needed", "min_effect", "verdict"})
	g := func(x float64) string {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return ""
		}
		return strconv.FormatFloat(x, 'g', 10, 64)
	}
	for _, m := range r.Metrics {
		for _, e := range m.Effects {
			cw.Write([]string{m.Name, m.Goal, e.Component, g(e.Diff), g(e.CI[0]), g(e.CI[1]), g(e.PT), g(e.PWilcoxon), g(e.PAdjusted),
				strconv.FormatBool(e.Significant), g(e.DZ), strconv.Itoa(e.N), strconv.Itoa(e.SeedsNeeded), g(e.MinEffect), verdict(e)})
		}
	}
	cw.Flush()
	return cw.Error()
}
