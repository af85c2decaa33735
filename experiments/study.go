package experiments

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/olc-toolkit/olc/optimize"
)

// Study is a named experiment.
type Study struct {
	// ID is assigned by the store.
	ID int64
	// Name identifies the study in its store: letters, digits, '-', '_'
	// and '.'.
	Name string
	// Direction and Metric say what the study optimizes.
	Direction optimize.Direction
	Metric    string
	// Sampler names the sampler ("grid", "random", …) and Seed its seed.
	Sampler string
	Seed    uint64
	// Config is the text of the config the study was created from.
	Config string
	// Identity is the canonical JSON of everything that must not change
	// when the study is resumed: the search space, the objective, the
	// direction, the metric and the sampler settings.
	Identity string
	// Created is when the study was created.
	Created time.Time
}

// Reason says why a trial failed.
type Reason string

// The reasons a trial fails.
const (
	// ReasonError: the objective failed (an error, a non-zero exit, a
	// timeout, a missing or non-finite metric). Such trials are retried up
	// to the study's max_retries.
	ReasonError Reason = "error"
	// ReasonInterrupted: the run was interrupted (Ctrl-C) while the trial
	// ran. Such trials are run again when the study resumes.
	ReasonInterrupted Reason = "interrupted"
	// ReasonLost: the process running the trial died (its heartbeat went
	// stale). Such trials are run again when the study resumes.
	ReasonLost Reason = "lost"
)

// Requeue reports whether a trial that failed for this reason is run again
// on resume whatever max_retries says: the failure was not the objective's.
func (r Reason) Requeue() bool { return r == ReasonInterrupted || r == ReasonLost }

// Intermediate is a set of metrics a trial reported at one step before it
// finished (an epoch, an evaluation), for pruning and learning curves.
type Intermediate struct {
	Step    int
	Metrics map[string]float64
}

// Trial is one evaluation of a study's objective.
type Trial struct {
	// ID is assigned by the store.
	ID      int64
	StudyID int64
	// Number is the trial's number in its study, assigned by the store when
	// the trial is created: 0, 1, 2, … without gaps.
	Number int
	// Claim, when not empty, is unique within the study: the store refuses
	// a second trial with the same claim. Grid points and retries are
	// claimed, so processes sharing a study never duplicate them.
	Claim string
	// Cap, when positive, is read by Store.CreateTrial only: the study's
	// target, which complete and running trials together may not exceed,
	// so that processes sharing a study stop at its target exactly.
	Cap    int
	Params optimize.Params
	State  optimize.State
	// Metrics are what the objective reported.
	Metrics map[string]float64
	// Value is the study's metric: finite when State is Complete, NaN
	// otherwise.
	Value        float64
	Intermediate []Intermediate
	// Attempt counts the runs of these parameters: 1 for a proposal,
	// one more for each retry.
	Attempt int
	// RetryOf is the number of the failed trial this one runs again, or -1.
	RetryOf int
	// Started, Finished (zero while running) and Heartbeat (the last sign of
	// life of the process running the trial).
	Started, Finished, Heartbeat time.Time
	// Error is the failure's text, with the log tail for commands; Reason
	// classifies it.
	Error  string
	Reason Reason
	// LogPath is the folder holding the trial's logs, if any.
	LogPath string
	// Owner identifies the process running the trial: "host:pid".
	Owner string
}

// ErrorSummary returns a failed trial's error on one line: the failure
// (the first line of Error), the last line of the log it quotes (the
// program's own last words, such as a Python exception) and the folder of
// its logs.
func (t *Trial) ErrorSummary() string {
	first, rest, _ := strings.Cut(t.Error, "\n")
	s := first
	if _, tail, ok := strings.Cut(rest, " lines ---\n"); ok && strings.HasPrefix(rest, "--- ") {
		lines := strings.Split(strings.TrimRight(tail, "\n"), "\n")
		for i := len(lines) - 1; i >= 0; i-- {
			if last := strings.TrimSpace(lines[i]); last != "" {
				if len(last) > 200 {
					last = last[:197] + "..."
				}
				s += ": " + last
				break
			}
		}
	}
	if t.LogPath != "" {
		s += " (logs: " + t.LogPath + ")"
	}
	return s
}

// Duration returns how long the trial ran, or 0 while it runs.
func (t *Trial) Duration() time.Duration {
	if t.Finished.IsZero() {
		return 0
	}
	return t.Finished.Sub(t.Started)
}

// observation returns what a sampler sees of t: for a pruned trial, the
// last value it reported of the study's metric (NaN when none) as its
// value.
func (t *Trial) observation(metrics []string) optimize.Observation {
	o := optimize.Observation{Number: t.Number, Params: t.Params, State: t.State, Value: t.Value, Retry: t.RetryOf >= 0,
		Given: strings.HasPrefix(t.Claim, "enqueue:"), Key: t.Claim}
	if t.State == optimize.Pruned {
		_, o.Value, _ = CurveOf(t, metrics[0]).Last()
	}
	if len(metrics) > 1 && t.State == optimize.Complete {
		o.Values = make([]float64, len(metrics))
		for i, m := range metrics {
			v, ok := t.Metrics[m]
			if !ok {
				v = math.NaN()
			}
			o.Values[i] = v
		}
	}
	return o
}

// history returns the history a sampler sees of a study's trials.
func history(study *Study, trials []Trial) *optimize.History {
	metrics, dirs := ObjectivesOf(study)
	h := &optimize.History{Direction: study.Direction}
	if len(metrics) > 1 {
		h.Objectives = dirs
	}
	for i := range trials {
		h.Trials = append(h.Trials, trials[i].observation(metrics))
	}
	return h
}

// Best returns the complete trial with the best value in direction d (the
// lowest number among ties), or nil when no trial is complete.
func Best(trials []Trial, d optimize.Direction) *Trial {
	var best *Trial
	for i := range trials {
		t := &trials[i]
		if t.State != optimize.Complete || math.IsNaN(t.Value) {
			continue
		}
		if best == nil || d.Better(t.Value, best.Value) {
			best = t
		}
	}
	return best
}

// Counts is the number of trials in each state.
type Counts struct {
	Running, Complete, Failed, Pruned int
}

// Total returns the number of trials.
func (c Counts) Total() int { return c.Running + c.Complete + c.Failed + c.Pruned }

// Add counts one trial in state s.
func (c *Counts) Add(s optimize.State, n int) {
	switch s {
	case optimize.Running:
		c.Running += n
	case optimize.Complete:
		c.Complete += n
	case optimize.Failed:
		c.Failed += n
	case optimize.Pruned:
		c.Pruned += n
	}
}

// CountStates counts trials by state.
func CountStates(trials []Trial) Counts {
	var c Counts
	for i := range trials {
		c.Add(trials[i].State, 1)
	}
	return c
}

// ParetoFront returns the complete trials of a study with several
// objectives that no other complete trial dominates (better or equal in
// every metric, better in one), ordered by the first metric, best first.
// Of trials with the same values, the lowest number is kept.
func ParetoFront(trials []Trial, metrics []string, dirs []optimize.Direction) []*Trial {
	var pts [][]float64
	var idx []int
	for i := range trials {
		t := &trials[i]
		if t.State != optimize.Complete {
			continue
		}
		v := make([]float64, len(metrics))
		for k, m := range metrics {
			x, ok := t.Metrics[m]
			if !ok {
				x = math.NaN()
			}
			if dirs[k] == optimize.Maximize {
				x = -x
			}
			v[k] = x
		}
		pts, idx = append(pts, v), append(idx, i)
	}
	var front []*Trial
	for _, k := range optimize.ParetoFront(pts) {
		front = append(front, &trials[idx[k]])
	}
	slices.SortStableFunc(front, func(a, b *Trial) int {
		x, y := a.Metrics[metrics[0]], b.Metrics[metrics[0]]
		switch {
		case dirs[0].Better(x, y):
			return -1
		case dirs[0].Better(y, x):
			return 1
		}
		return 0
	})
	return front
}
