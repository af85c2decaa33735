package optimizecmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/olc-toolkit/olc/cmd/olc/internal/cmdutil"
	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/optimize"
	_ "github.com/olc-toolkit/olc/train" // registers the objective kind "train"
)

// Result is what 'olc optimize --json' prints.
type Result struct {
	Study       string             `json:"study"`
	Sampler     string             `json:"sampler"`
	Direction   optimize.Direction `json:"direction"`
	Metric      string             `json:"metric"`
	Target      int                `json:"target"`
	Complete    int                `json:"complete"`
	Failed      int                `json:"failed"`
	Pruned      int                `json:"pruned"`
	Running     int                `json:"running"`
	Started     int                `json:"started"`
	Resumed     int                `json:"resumed"`
	Expired     int                `json:"expired"`
	Exhausted   bool               `json:"exhausted"`
	Interrupted bool               `json:"interrupted"`
	Error       string             `json:"error,omitempty"`
	Store       string             `json:"store"`
	Best        *BestJSON          `json:"best"`
	Recommended *RecommendedJSON   `json:"recommended,omitempty"`
	// Metrics and ParetoFront, for a study with several objectives
	// (Best is then null: no one trial is best).
	Metrics     []string     `json:"metrics,omitempty"`
	ParetoFront []ParetoJSON `json:"pareto_front,omitempty"`
}

// ParetoJSON is a trial of a multi-objective study's Pareto front.
type ParetoJSON struct {
	Trial   int                `json:"trial"`
	Values  map[string]float64 `json:"values"`
	Params  optimize.Params    `json:"params"`
	Metrics map[string]float64 `json:"-"`
}

// paretoOf returns a multi-objective study's front, or nil for a study
// with one metric.
func paretoOf(study *experiments.Study, trials []experiments.Trial) ([]string, []ParetoJSON) {
	metrics, dirs := experiments.ObjectivesOf(study)
	if len(metrics) < 2 {
		return nil, nil
	}
	front := []ParetoJSON{}
	for _, t := range experiments.ParetoFront(trials, metrics, dirs) {
		v := map[string]float64{}
		for _, m := range metrics {
			v[m] = t.Metrics[m]
		}
		front = append(front, ParetoJSON{Trial: t.Number, Values: v, Params: t.Params})
	}
	return metrics, front
}

// printPareto prints a Pareto front as a table.
func printPareto(w io.Writer, metrics []string, front []ParetoJSON, space *optimize.Space) {
	if len(front) == 0 {
		fmt.Fprintln(w, "Pareto front: no complete trial yet")
		return
	}
	fmt.Fprintf(w, "Pareto front: %d trial(s) no other trial beats in every metric\n", len(front))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprint(tw, "  TRIAL")
	for _, m := range metrics {
		fmt.Fprint(tw, "\t"+strings.ToUpper(m))
	}
	fmt.Fprintln(tw, "\tPARAMS")
	for _, f := range front {
		fmt.Fprintf(tw, "  %d", f.Trial)
		for _, m := range metrics {
			fmt.Fprint(tw, "\t"+formatValue(f.Values[m]))
		}
		fmt.Fprintln(tw, "\t"+formatParamsShort(f.Params, space))
	}
	tw.Flush()
}

// BestJSON is the best trial in JSON output: the complete trial with the
// best observed value, everywhere olc reports a best (run, status, best,
// export, plots).
type BestJSON struct {
	Trial  int             `json:"trial"`
	Value  float64         `json:"value"`
	Params optimize.Params `json:"params"`
}

// RecommendedJSON is the Bayesian model's choice, reported beside the
// best when the model finds the objective noisy: the complete trial with
// the best posterior mean (Mean, with its 95% interval [Low, High];
// null where the interval is unbounded), whose observed value is Value.
// With noise the best observed value is often a lucky draw; the
// recommended trial is the better bet for a rerun.
type RecommendedJSON struct {
	Trial  int             `json:"trial"`
	Value  float64         `json:"value"`
	Params optimize.Params `json:"params"`
	Mean   float64         `json:"posterior_mean"`
	Low    *float64        `json:"low"`
	High   *float64        `json:"high"`
}

func bestJSON(t *experiments.Trial) *BestJSON {
	if t == nil {
		return nil
	}
	return &BestJSON{Trial: t.Number, Value: t.Value, Params: t.Params}
}

// bestOf returns the study's best observed trial and, when the sampler's
// model finds the objective noisy, its recommendation.
func bestOf(ctx context.Context, s optimize.Sampler, study *experiments.Study, trials []experiments.Trial) (*BestJSON, *RecommendedJSON, error) {
	best := bestJSON(experiments.Best(trials, study.Direction))
	if s == nil || best == nil {
		return best, nil, nil
	}
	rec, err := experiments.Recommend(ctx, s, study, trials)
	if err != nil || rec == nil {
		return best, nil, err
	}
	finite := func(v float64) *float64 {
		if math.IsInf(v, 0) || math.IsNaN(v) {
			return nil
		}
		return &v
	}
	t := rec.Trial
	return best, &RecommendedJSON{Trial: t.Number, Value: t.Value, Params: t.Params, Mean: rec.Mean, Low: finite(rec.Low), High: finite(rec.High)}, nil
}

func runOptimize(ctx context.Context, opts *RunOptions) error {
	cfg, err := experiments.LoadConfig(opts.ConfigPath)
	if err != nil {
		return err
	}
	if opts.Sampler != "" {
		cfg.Study.Sampler = opts.Sampler
	}
	if opts.Trials > 0 {
		cfg.Study.Trials = opts.Trials
	}
	if opts.Parallel > 0 {
		cfg.Study.Parallel = opts.Parallel
	}
	plan, err := cfg.Plan()
	if err != nil {
		return err
	}
	for _, n := range plan.Notes {
		fmt.Fprintf(opts.IO.ErrOut, "olc: %s\n", n)
	}
	if plan.Objective == nil {
		return cmdutil.Usagef("%s: objective.kind = %q: the study's trials are evaluated by another program, which drives it with 'olc optimize ask' and 'olc optimize tell'", opts.ConfigPath, experiments.External)
	}
	store, err := cmdutil.OpenStore(ctx, opts.StorePath, opts.IO.ErrOut)
	if err != nil {
		return err
	}
	defer store.Close()
	warm, err := cfg.WarmStart(ctx, store)
	if err != nil {
		return err
	}

	study, created, archived, err := experiments.OpenStudy(ctx, store, &experiments.Study{
		Name: cfg.Study.Name, Direction: cfg.Study.Direction, Metric: cfg.Study.Metric,
		Sampler: cfg.Study.Sampler, Seed: cfg.Study.Seed, Config: cfg.Text,
		Identity: plan.Identity.String(), Created: time.Now().UTC(),
	}, opts.New)
	var changed *experiments.ChangedError
	if errors.As(err, &changed) {
		return &cmdutil.UsageError{Err: fmt.Errorf("%w\nresume it with the config it was created with, or pass --new to start a fresh study %q (the existing one is kept as %s.1, or the next free number)", err, cfg.Study.Name, cfg.Study.Name)}
	}
	if err != nil {
		return err
	}
	switch {
	case archived != "":
		fmt.Fprintf(opts.IO.ErrOut, "olc: kept the previous study %q as %q; starting afresh\n", cfg.Study.Name, archived)
	case !created:
		fmt.Fprintf(opts.IO.ErrOut, "olc: resuming study %q from %s\n", study.Name, cmdutil.StoreName(opts.StorePath))
	}

	if err := cfg.EnqueuePoints(ctx, store, study); err != nil {
		return err
	}
	if len(warm) > 0 {
		fmt.Fprintf(opts.IO.ErrOut, "olc: warm start from study %q: %d complete trials\n", cfg.Study.WarmStart, len(warm))
	}

	runner := &experiments.Runner{
		WarmStart: warm,
		Pruner:    plan.Pruner, PruneMetric: cfg.Pruner.Metric, PruneDirection: cfg.Pruner.Direction,
		Metrics: cfg.Study.Metrics, Directions: cfg.Study.Directions,
		Store: store, Study: study, Space: cfg.Space, Sampler: plan.Sampler, Objective: plan.Objective,
		Trials: plan.Trials, Parallel: cfg.Study.Parallel, MaxRetries: cfg.Study.MaxRetries,
		MaxFailures: opts.MaxFailures, RunsDir: filepath.Join(cmdutil.WorkDir(opts.StorePath), "runs"),
		HeartbeatInterval: opts.Heartbeat, StaleAfter: opts.StaleAfter,
	}
	bar := newProgress(opts.IO, opts.Progress, study)
	runner.OnEvent = bar.event
	sum, runErr := runner.Run(ctx)
	bar.finish()
	if sum == nil {
		return runErr
	}
	res := &Result{
		Study: study.Name, Sampler: study.Sampler, Direction: study.Direction, Metric: study.Metric,
		Target: sum.Target, Complete: sum.Complete, Failed: sum.Failed, Pruned: sum.Pruned, Running: sum.Running,
		Started: sum.Started, Resumed: sum.Resumed, Expired: sum.Expired, Exhausted: sum.Exhausted,
		Interrupted: errors.Is(runErr, experiments.ErrInterrupted), Store: cmdutil.StoreName(opts.StorePath), Best: bestJSON(sum.Best),
	}
	if _, ok := plan.Sampler.(optimize.Recommender); ok && sum.Complete > 0 {
		rctx := context.WithoutCancel(ctx)
		trials, err := store.Trials(rctx, study.ID, 0)
		if err != nil {
			return err
		}
		if res.Best, res.Recommended, err = bestOf(rctx, plan.Sampler, study, trials); err != nil {
			return err
		}
	}
	if len(cfg.Study.Metrics) > 1 {
		trials, err := store.Trials(context.WithoutCancel(ctx), study.ID, 0)
		if err != nil {
			return err
		}
		res.Best, res.Recommended = nil, nil
		res.Metrics, res.ParetoFront = paretoOf(study, trials)
	}
	if runErr != nil {
		res.Error = runErr.Error()
	}
	if opts.JSON {
		if err := cmdutil.PrintJSON(opts.IO.Out, res); err != nil {
			return err
		}
	} else {
		printResult(opts.IO.Out, res, cfg.Space)
	}
	if res.Interrupted {
		return fmt.Errorf("%w: stopped %d running trial(s) and marked them failed; run the same command again to resume the study", experiments.ErrInterrupted, sum.Interrupted)
	}
	return runErr
}

var samplerTitles = map[string]string{"grid": "grid search", "random": "random search", "bayes": "Bayesian optimization", "cmaes": "CMA-ES"}

func printResult(w io.Writer, r *Result, space *optimize.Space) {
	title := samplerTitles[r.Sampler]
	if title == "" {
		title = r.Sampler
	}
	if r.Metrics != nil {
		fmt.Fprintf(w, "study %s: %s, objectives %s\n", r.Study, title, strings.Join(r.Metrics, ", "))
	} else {
		fmt.Fprintf(w, "study %s: %s, %s %s\n", r.Study, title, r.Direction, r.Metric)
	}
	if r.Pruned > 0 {
		fmt.Fprintf(w, "trials: %d of %d complete or pruned (%d complete, %d pruned)", r.Complete+r.Pruned, r.Target, r.Complete, r.Pruned)
	} else {
		fmt.Fprintf(w, "trials: %d of %d complete", r.Complete, r.Target)
	}
	if r.Resumed > 0 {
		fmt.Fprintf(w, " (%d resumed, %d run now)", r.Resumed, r.Started)
	}
	fmt.Fprintf(w, ", %d failed", r.Failed)
	if r.Running > 0 {
		fmt.Fprintf(w, ", %d still running elsewhere", r.Running)
	}
	fmt.Fprintln(w)
	if r.Expired > 0 {
		fmt.Fprintf(w, "note: %d trial(s) of a run that died were marked failed and run again\n", r.Expired)
	}
	if r.Exhausted && r.Complete < r.Target {
		fmt.Fprintf(w, "note: the sampler has no point left; %d of %d trials could complete\n", r.Complete, r.Target)
	}
	if r.Metrics != nil {
		printPareto(w, r.Metrics, r.ParetoFront, space)
	} else {
		printBest(w, r.Best, r.Recommended, space)
	}
	fmt.Fprintf(w, "store: %s\n", r.Store)
}

// printBest prints the best observed trial and, when there is one, the
// model's recommendation, with the one line that tells them apart.
func printBest(w io.Writer, b *BestJSON, rec *RecommendedJSON, space *optimize.Space) {
	if b == nil {
		fmt.Fprintln(w, "best: no complete trial yet")
		return
	}
	fmt.Fprintf(w, "best: trial %d, value %s\n", b.Trial, formatValue(b.Value))
	for _, name := range paramOrder(space, b.Params) {
		fmt.Fprintf(w, "  %s = %s\n", name, optimize.FormatValue(b.Params[name]))
	}
	if rec == nil {
		return
	}
	bound := func(p *float64) string {
		if p == nil {
			return "unbounded"
		}
		return formatValue(*p)
	}
	fmt.Fprintf(w, "recommended: trial %d, posterior mean %s (95%% interval %s to %s), observed %s\n",
		rec.Trial, formatValue(rec.Mean), bound(rec.Low), bound(rec.High), formatValue(rec.Value))
	if rec.Trial != b.Trial {
		for _, name := range paramOrder(space, rec.Params) {
			fmt.Fprintf(w, "  %s = %s\n", name, optimize.FormatValue(rec.Params[name]))
		}
	}
	fmt.Fprintln(w, "(the model finds the objective noisy: the best value observed may be a lucky draw; the recommended trial has the best mean)")
}

// paramOrder returns the names of p's parameters in the space's order, or
// sorted (inactive conditional parameters are not in p).
func paramOrder(space *optimize.Space, p optimize.Params) []string {
	if space != nil {
		var names []string
		for _, n := range space.Names() {
			if _, ok := p[n]; ok {
				names = append(names, n)
			}
		}
		return names
	}
	return slices.Sorted(maps.Keys(p))
}

// formatValue writes a metric with 7 significant digits.
func formatValue(v float64) string {
	if math.IsNaN(v) {
		return "NaN"
	}
	return strconv.FormatFloat(v, 'g', 7, 64)
}

// formatParamsShort writes parameters on one line, floats to 6
// significant digits, for tables.
func formatParamsShort(p optimize.Params, space *optimize.Space) string {
	var parts []string
	for _, name := range paramOrder(space, p) {
		v := optimize.FormatValue(p[name])
		if x, ok := p[name].(float64); ok {
			v = strconv.FormatFloat(x, 'g', 6, 64)
		}
		parts = append(parts, name+"="+v)
	}
	return strings.Join(parts, " ")
}

// formatParams writes parameters on one line, name=value in the space's
// order.
func formatParams(p optimize.Params, space *optimize.Space) string {
	var parts []string
	for _, name := range paramOrder(space, p) {
		parts = append(parts, name+"="+optimize.FormatValue(p[name]))
	}
	return strings.Join(parts, " ")
}
