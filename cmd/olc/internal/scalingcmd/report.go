package scalingcmd

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/olc-toolkit/olc/scaling"
)

// num formats a number compactly: 4 significant digits.
func num(v float64) string { return fmt.Sprintf("%.4g", v) }

// interval formats an estimate's 95% interval, or "-" without one.
func interval(e scaling.Estimate) string {
	if !e.HasInterval() {
		return "-"
	}
	return fmt.Sprintf("[%s, %s]", num(e.CI[0]), num(e.CI[1]))
}

func se(e scaling.Estimate) string {
	if !e.HasInterval() {
		return "-"
	}
	return num(e.SE)
}

// printFit writes the text report of a fit.
func printFit(w io.Writer, r *scaling.Result, source string) {
	fmt.Fprintf(w, "%s: %s\n", r.LawName, r.Formula)
	lossDesc := "least squares"
	if r.Loss == scaling.Huber {
		lossDesc = fmt.Sprintf("Huber loss (delta %g)", r.Delta)
	}
	target := "log loss"
	if r.Transform == scaling.Complement {
		target = "log(1 - metric)"
	}
	if sc := r.Screen; sc != nil {
		fmt.Fprintf(w, "%d points from %s; %s on %s; %d starts screened on %d random points, %d converged; the best of their optima (and %d others that might win) refitted on all points\n",
			r.NPoints, source, lossDesc, target, r.Starts, sc.Points, r.StartsConverged, sc.Refitted-1)
	} else {
		fmt.Fprintf(w, "%d points from %s; %s on %s; %d starts, %d converged\n", r.NPoints, source, lossDesc, target, r.Starts, r.StartsConverged)
	}
	conv := "converged"
	if !r.Converged {
		conv = "NOT converged"
	}
	fmt.Fprintf(w, "winning start: %s after %d L-BFGS iterations, gradient norm %.2g (%s)\n\n", conv, r.Iterations, r.GradNorm, statusText(r.Status))

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "parameter\tvalue\tstd. error\t95% interval")
	for _, n := range r.ParamNames {
		e := r.Params[n]
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", n, num(e.Value), se(e), interval(e))
	}
	tw.Flush()
	fmt.Fprintf(w, "\nfit: objective %.6g, RMSE(log) %.4g, R²(log) %.4f, Jacobian condition number %.3g\n", r.Objective, r.RMSELog, r.R2Log, r.Condition)

	if x := r.Exponents; x != nil {
		fmt.Fprintf(w, "\ncompute-optimal scaling (C = 6ND): N_opt = G·(C/6)^a, D_opt = (C/6)^b / G\n")
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "\tvalue\tstd. error\t95% interval")
		fmt.Fprintf(tw, "a\t%s\t%s\t%s\n", num(x.A.Value), se(x.A), interval(x.A))
		fmt.Fprintf(tw, "b\t%s\t%s\t%s\n", num(x.B.Value), se(x.B), interval(x.B))
		fmt.Fprintf(tw, "G\t%s\t%s\t%s\n", num(x.G.Value), se(x.G), interval(x.G))
		tw.Flush()
	}
	if len(r.Optimal) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "compute (FLOPs)\tN_opt\tD_opt\ttokens/param\tloss at optimum")
		for _, o := range r.Optimal {
			fmt.Fprintf(tw, "%.3g\t%s %s\t%s %s\t%s %s\t%s %s\n", o.Compute,
				num(o.N.Value), interval(o.N), num(o.D.Value), interval(o.D),
				num(o.TokensPerParam.Value), interval(o.TokensPerParam), num(o.Loss.Value), interval(o.Loss))
		}
		tw.Flush()
	}
	if h := r.Holdout; h != nil {
		by := "largest-compute"
		if vars := r.Law.Vars(); len(vars) == 1 {
			by = "largest-" + vars[0]
		}
		fmt.Fprintf(w, "\nholdout: fitted without the %d %s points, then predicting them: RMSE(log) %.4g, mean abs. error %.2f%%, max %.2f%%\n",
			h.K, by, h.RMSELog, 100*h.MAPE, 100*h.MaxAPE)
		tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "point\tat\tobserved\tpredicted\terror")
		for _, p := range h.Points {
			var at []string
			for _, v := range r.Law.Vars() {
				at = append(at, fmt.Sprintf("%s=%.3g", v, p.X[v]))
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%+.2f%%\n", p.Label, strings.Join(at, " "), num(p.Observed), num(p.Predicted), 100*(p.Predicted-p.Observed)/p.Observed)
		}
		tw.Flush()
	}
	if b := r.Bootstrap; b != nil && b.Subsets > 0 {
		fmt.Fprintf(w, "\nintervals: bag of little bootstraps, %d resamples over %d random subsets of %d points (seed %d), %d failed; 95%% percentile intervals and standard errors averaged over the subsets\n", b.Resamples, b.Subsets, b.SubsetPoints, b.Seed, b.Failed)
	} else if b != nil {
		fmt.Fprintf(w, "\nintervals: %d bootstrap resamples of the points (seed %d), %d failed, %d degenerate; 95%% percentile intervals\n", b.Resamples, b.Seed, b.Failed, b.Degenerate)
	} else {
		fmt.Fprintf(w, "\nno bootstrap: no intervals (--bootstrap N)\n")
	}
	for _, warn := range r.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
}

// statusText says in words why the winning start's L-BFGS run stopped.
func statusText(status string) string {
	switch status {
	case "GradientThreshold":
		return "stopped on the gradient tolerance"
	case "Failure":
		return "the line search stalled at the limit of floating-point precision"
	case "FunctionConvergence":
		return "the objective stopped changing"
	case "IterationLimit":
		return "stopped at the iteration limit"
	}
	return status
}
