package ablation

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/optimize"
)

// RunOptions tune Run; the zero value runs with the config's settings.
type RunOptions struct {
	// Fresh starts the ablation afresh, keeping an existing study of the
	// same name as <name>.1, <name>.2, … (see experiments.OpenStudy).
	Fresh bool
	// RunsDir, when set, holds the trials' folders (RunsDir/<name>/<n>).
	RunsDir string
	// MinEffect is the effect the power analysis sizes for; 0 means half
	// the largest observed effect of each metric.
	MinEffect float64
	// OnEvent, when set, receives the runner's trial events.
	OnEvent func(experiments.Event)
	// MaxFailures, HeartbeatInterval and StaleAfter tune the runner (see
	// experiments.Runner).
	MaxFailures                   int
	HeartbeatInterval, StaleAfter time.Duration
}

// Result is a run's outcome: the study, the counts and the analysis.
type Result struct {
	Name     string  `json:"name"`
	Design   Design  `json:"design"`
	Seeds    []int64 `json:"seeds"`
	Complete int     `json:"complete"`
	Failed   int     `json:"failed"`
	// Pending counts the pairs whose last attempt was interrupted or
	// lost (a killed process): running the ablation again runs them.
	Pending int              `json:"pending,omitempty"`
	Metrics []MetricAnalysis `json:"metrics"`
	// Failures are the pairs that failed and that no retry completed,
	// with the last attempt's error (a diverged run's non-finite metric,
	// a crash), so that a variant that cannot train is seen as such.
	Failures []Failure `json:"failures,omitempty"`
	// Study is the ablation's study in the experiment record.
	Study *experiments.Study `json:"-"`
}

// A Failure is a variant × seed pair that failed on every attempt.
type Failure struct {
	Variant string `json:"variant"`
	Seed    int64  `json:"seed"`
	Error   string `json:"error"`
}

// Identity is the ablation's identity in the experiment record: a rerun
// with another identity is refused (a *experiments.ChangedError) rather
// than mixing results of different ablations.
func (c *Config) Identity() experiments.Identity {
	variants := make([]map[string]any, len(c.Variants))
	for i, v := range c.Variants {
		variants[i] = map[string]any{"name": v.Name, "values": v.Values}
	}
	metrics := make([]string, len(c.Metrics))
	for i, m := range c.Metrics {
		metrics[i] = m.Name + ":" + m.Goal
	}
	return experiments.Identity{
		Direction: direction(c.Metrics[0]), Metric: c.Metrics[0].Name, Sampler: "ablation",
		SamplerOptions: map[string]any{"ablation": map[string]any{"design": c.Design, "seeds": c.Seeds, "seed_key": c.SeedKey, "variants": variants, "metrics": metrics}},
		Space:          c.Space, Objective: c.ObjectiveIdentity,
	}
}

func direction(m Metric) optimize.Direction {
	if m.Goal == "maximize" {
		return optimize.Maximize
	}
	return optimize.Minimize
}

// Run runs the ablation c on store (resuming its study when it exists:
// pairs already complete are not run again) and analyses what the study
// holds. It returns the result with the runner's error when the run
// stopped early (experiments.ErrInterrupted, a *experiments.FailuresError).
func Run(ctx context.Context, store experiments.Store, c *Config, opts RunOptions) (*Result, error) {
	id := c.Identity()
	study, _, _, err := experiments.OpenStudy(ctx, store, &experiments.Study{
		Name: c.Name, Direction: id.Direction, Metric: id.Metric, Sampler: "ablation",
		Config: c.Text, Identity: id.String(), Created: time.Now().UTC(),
	}, opts.Fresh)
	if err != nil {
		return nil, err
	}
	// A trial that does not report every metric stops the run at once
	// (its pair stays to run again), rather than after every pair.
	runCtx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	objective := experiments.ObjectiveFunc(func(ctx context.Context, r experiments.TrialRun) (experiments.Outcome, error) {
		out, err := c.Objective.Run(ctx, r)
		if err != nil {
			return out, err
		}
		if err := c.missingMetric(out.Metrics); err != nil {
			stop(err)
			return out, err
		}
		return out, nil
	})
	runner := &experiments.Runner{
		Store: store, Study: study, Space: c.Space,
		Sampler:   &Sampler{Variants: c.Variants, Seeds: c.Seeds, SeedKey: c.SeedKey},
		Objective: objective, Trials: len(c.Variants) * len(c.Seeds),
		Parallel: c.Parallel, MaxRetries: c.MaxRetries, MaxFailures: opts.MaxFailures, RunsDir: opts.RunsDir,
		HeartbeatInterval: opts.HeartbeatInterval, StaleAfter: opts.StaleAfter, OnEvent: opts.OnEvent,
	}
	_, runErr := runner.Run(runCtx)
	if runCtx.Err() != nil && ctx.Err() == nil {
		return nil, context.Cause(runCtx) // a metric was missing
	}
	res, err := Report(context.WithoutCancel(ctx), store, c, study, opts.MinEffect)
	if err != nil {
		return nil, errors.Join(runErr, err)
	}
	return res, runErr
}

// missingMetric returns the problem with the first metric of c that
// metrics lacks, naming those it has, or nil.
func (c *Config) missingMetric(metrics map[string]float64) error {
	for i, m := range c.Metrics {
		if _, ok := metrics[m.Name]; ok {
			continue
		}
		msg := fmt.Sprintf("the objective did not report %q; it reported %s", m.Name, strings.Join(slices.Sorted(maps.Keys(metrics)), ", "))
		if len(metrics) == 0 {
			msg = fmt.Sprintf("the objective did not report %q; it reported no metric", m.Name)
		}
		if c.metricErr != nil {
			return c.metricErr(i, msg)
		}
		return errors.New(msg)
	}
	return nil
}

// Report analyses what the study of ablation c holds, running nothing.
func Report(ctx context.Context, store experiments.Store, c *Config, study *experiments.Study, minEffect float64) (*Result, error) {
	trials, err := store.Trials(ctx, study.ID, 0)
	if err != nil {
		return nil, err
	}
	return ReportTrials(c, study, trials, minEffect)
}

// ReportTrials analyses an ablation study's trials. It refuses metrics
// that no complete trial reported, naming those they did report.
func ReportTrials(c *Config, study *experiments.Study, trials []experiments.Trial, minEffect float64) (*Result, error) {
	obs, complete, failures := Observations(trials)
	res := &Result{Name: c.Name, Design: c.Design, Seeds: c.Seeds, Complete: complete, Study: study}
	for _, f := range failures {
		if f.Requeue {
			res.Pending++
			continue
		}
		res.Failed++
		name := fmt.Sprint(f.Variant)
		if f.Variant >= 0 && f.Variant < len(c.Variants) {
			name = c.Variants[f.Variant].Name
		}
		res.Failures = append(res.Failures, Failure{Variant: name, Seed: f.Seed, Error: f.Error})
	}
	if complete > 0 {
		reported := map[string]bool{}
		for _, o := range obs {
			for k := range o.Metrics {
				reported[k] = true
			}
		}
		for _, m := range c.Metrics {
			if !reported[m.Name] {
				return nil, fmt.Errorf("no complete trial reported the metric %q; the trials reported %s", m.Name, strings.Join(slices.Sorted(maps.Keys(reported)), ", "))
			}
		}
	}
	var err error
	if res.Metrics, err = Analyze(c.Design, c.Components, c.Variants, c.Metrics, obs, minEffect); err != nil {
		return nil, err
	}
	return res, nil
}

// Observations turns an ablation study's trials into observations: one
// per complete trial, its variant and seed read from its proposal key (a
// retry from the key of the trial it runs again). It also counts the
// complete trials and returns the pairs that failed with no retry
// completing them, each with its last attempt's error, in the order of
// their first trial.
func Observations(trials []experiments.Trial) (obs []Observation, complete int, failed []FailedPair) {
	byNumber := map[int]*experiments.Trial{}
	for i := range trials {
		byNumber[trials[i].Number] = &trials[i]
	}
	done := map[string]bool{}
	keyOf := func(t *experiments.Trial) string {
		for t.RetryOf >= 0 && byNumber[t.RetryOf] != nil && t.Claim == "retry:"+fmt.Sprint(t.RetryOf) {
			t = byNumber[t.RetryOf]
		}
		return t.Claim
	}
	for i := range trials {
		t := &trials[i]
		v, seed, ok := ParseKey(keyOf(t))
		if !ok || t.State != optimize.Complete {
			continue
		}
		complete++
		done[Key(v, seed)] = true
		obs = append(obs, Observation{Variant: v, Seed: seed, Metrics: t.Metrics})
	}
	at := map[string]int{}
	for i := range trials {
		t := &trials[i]
		k := keyOf(t)
		v, seed, ok := ParseKey(k)
		if !ok || t.State != optimize.Failed || done[k] {
			continue
		}
		// A pair counts once however often it failed; its last error.
		if j, seen := at[k]; seen {
			failed[j].Error, failed[j].Requeue = t.Error, t.Reason.Requeue()
			continue
		}
		at[k] = len(failed)
		failed = append(failed, FailedPair{Variant: v, Seed: seed, Error: t.Error, Requeue: t.Reason.Requeue()})
	}
	return obs, complete, failed
}

// A FailedPair is a variant × seed pair no attempt of which completed.
// Requeue says its last attempt was interrupted or lost, so that the
// next run of the ablation runs it again.
type FailedPair struct {
	Variant int
	Seed    int64
	Error   string
	Requeue bool
}
