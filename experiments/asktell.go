package experiments

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/olc-toolkit/olc/optimize"
)

// DefaultLease is how long an asked trial may run before it counts as
// abandoned (see Ask).
const DefaultLease = time.Hour

// askOwner is the owner an asked trial records: the asking host, and the
// lease after which the trial counts as lost unless told (or heartbeated).
func askOwner(lease time.Duration) string {
	return Host() + ":ask:" + strconv.FormatInt(int64(lease.Round(time.Second)/time.Second), 10) + "s"
}

// askLease returns the lease of a trial created by Ask, from its owner.
func askLease(owner string) (time.Duration, bool) {
	_, rest, _ := strings.Cut(owner, ":")
	s, ok := strings.CutPrefix(rest, "ask:")
	if !ok {
		return 0, false
	}
	d, err := time.ParseDuration(s)
	return d, err == nil && d > 0
}

// AskOptions configure Ask.
type AskOptions struct {
	// Lease is how long the asked trial may go untold before it counts as
	// abandoned: it is then marked failed (lost) by the next Ask or run of
	// the study, like a trial whose process died. Default DefaultLease.
	Lease time.Duration
	// Cap, when positive, is the study's target: no trial is asked while
	// Cap trials are complete, pruned or running.
	Cap int
	// Queue, when not nil, holds the points to run first (see Enqueued).
	Queue []Queued
	// WarmStart are complete trials of other studies over the same space
	// (see WarmStartOf), for samplers that take them.
	WarmStart []optimize.Observation
}

// ErrStudyDone is returned by Ask when the study holds Cap trials complete
// or running, or the sampler has nothing left to propose.
var ErrStudyDone = errors.New("the study needs no more trials")

// Ask records the sampler's next proposal (or the first point of the
// queue not yet run) as a running trial of the study and returns it, for a
// program that evaluates it itself and reports with Tell. Lost trials are
// expired first, as a Runner does when it starts. Processes asking at
// once get distinct trials (and distinct proposals: a sampler sees the
// others' running trials).
func Ask(ctx context.Context, store Store, study *Study, sampler optimize.Sampler, o AskOptions) (*Trial, error) {
	lease := o.Lease
	if lease <= 0 {
		lease = DefaultLease
	}
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0))
	for attempt := 0; ; attempt++ {
		if attempt == 16 {
			return nil, fmt.Errorf("ask study %q: other processes took every proposal; try again", study.Name)
		}
		trials, now, err := loadExpired(ctx, store, study)
		if err != nil {
			return nil, err
		}
		c := CountStates(trials)
		if o.Cap > 0 && c.Complete+c.Pruned+c.Running >= o.Cap {
			return nil, fmt.Errorf("%w: of its %d trials, %d are complete, %d pruned and %d running", ErrStudyDone, o.Cap, c.Complete, c.Pruned, c.Running)
		}
		t := &Trial{StudyID: study.ID, Attempt: 1, RetryOf: -1, Cap: o.Cap, State: optimize.Running,
			Started: now, Heartbeat: now, Owner: askOwner(lease), Value: math.NaN()}
		if q := nextQueued(o.Queue, trials); q != nil {
			t.Params, t.Claim = q.Params.Clone(), q.Claim()
		} else {
			h := history(study, trials)
			h.Prior = o.WarmStart
			if attempt > 0 {
				h.Skip = rng.IntN(4*attempt + 1)
			}
			prop, err := sampler.Propose(ctx, h)
			if errors.Is(err, optimize.ErrExhausted) {
				return nil, fmt.Errorf("%w: %w", ErrStudyDone, err)
			}
			if err != nil {
				return nil, fmt.Errorf("sampler %s: %w", sampler.Name(), err)
			}
			t.Params, t.Claim = prop.Params, prop.Key
		}
		err = store.CreateTrial(ctx, t)
		if errors.Is(err, ErrClaimed) || errors.Is(err, ErrStudyFull) {
			continue // another process took it: read what it did
		}
		if err != nil {
			return nil, fmt.Errorf("record new trial of study %q: %w", study.Name, err)
		}
		return t, nil
	}
}

// loadExpired reads a study's trials after expiring those of dead
// processes and abandoned asks, and returns them with the time of the
// reading (by the store's clock when it keeps one).
func loadExpired(ctx context.Context, store Store, study *Study) ([]Trial, time.Time, error) {
	now := time.Now().UTC()
	if c, ok := store.(Clock); ok {
		t, err := c.Now(ctx)
		if err != nil {
			return nil, now, fmt.Errorf("read the store's clock: %w", err)
		}
		now = t
	}
	trials, err := store.Trials(ctx, study.ID, 0)
	if err != nil {
		return nil, now, fmt.Errorf("load study %q: %w", study.Name, err)
	}
	expired := false
	for i := range trials {
		why := LostReason(&trials[i], now, 0)
		if why == "" {
			continue
		}
		err := store.ExpireTrial(ctx, trials[i].ID, trials[i].Heartbeat, now, why)
		if err != nil && !errors.Is(err, ErrNotRunning) {
			return nil, now, fmt.Errorf("load study %q: %w", study.Name, err)
		}
		expired = true
	}
	if expired {
		if trials, err = store.Trials(ctx, study.ID, 0); err != nil {
			return nil, now, fmt.Errorf("load study %q: %w", study.Name, err)
		}
	}
	return trials, now, nil
}

// Told is what a program reports of an asked trial.
type Told struct {
	// Number is the trial's number.
	Number int
	// State is Complete (the default), Failed or Pruned.
	State optimize.State
	// Metrics are the trial's metrics: the study's metric among them when
	// State is Complete. Every one must be finite.
	Metrics map[string]float64
	// Error says why a failed trial failed.
	Error string
}

// TellError is a report Tell refuses: a trial that does not exist or is
// not running, a missing or non-finite metric. Nothing is stored.
type TellError struct{ Msg string }

func (e *TellError) Error() string { return e.Msg }

// Tell records the end of a running trial of the study, asked with Ask
// (or run by any process: telling a runner's trial ends it for the
// runner too). It returns a *TellError, storing nothing, when the report
// is refused.
func Tell(ctx context.Context, store Store, study *Study, r Told) (*Trial, error) {
	if r.State == "" {
		r.State = optimize.Complete
	}
	switch r.State {
	case optimize.Complete, optimize.Failed, optimize.Pruned:
	default:
		return nil, &TellError{fmt.Sprintf("state %q cannot be told; allowed: complete, failed, pruned", r.State)}
	}
	for k, v := range r.Metrics {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, &TellError{fmt.Sprintf("metric %q is %v, not a finite number", k, v)}
		}
	}
	v := r.Metrics[study.Metric]
	if r.State == optimize.Complete {
		metrics, _ := ObjectivesOf(study)
		for _, m := range metrics {
			if _, has := r.Metrics[m]; !has {
				return nil, &TellError{fmt.Sprintf("a complete trial needs the study's metric %q (%s)", m, metricNames(r.Metrics))}
			}
		}
	}
	trials, err := store.Trials(ctx, study.ID, max(r.Number, 0))
	if err != nil {
		return nil, fmt.Errorf("load study %q: %w", study.Name, err)
	}
	if r.Number < 0 || len(trials) == 0 || trials[0].Number != r.Number {
		return nil, &TellError{fmt.Sprintf("study %q has no trial %d", study.Name, r.Number)}
	}
	t := trials[0]
	if t.State != optimize.Running {
		return nil, &TellError{fmt.Sprintf("trial %d of study %q is %s, not running: it was told already, or expired%s", t.Number, study.Name, t.State, lostNote(&t))}
	}
	t.State, t.Metrics, t.Value, t.Error, t.Reason = r.State, r.Metrics, math.NaN(), "", ""
	t.Finished = time.Now().UTC()
	if c, ok := store.(Clock); ok {
		if now, err := c.Now(ctx); err == nil {
			t.Finished = now
		}
	}
	switch r.State {
	case optimize.Complete:
		t.Value = v
	case optimize.Failed:
		t.Reason, t.Error = ReasonError, r.Error
		if t.Error == "" {
			t.Error = "told failed"
		}
	}
	if err := store.FinishTrial(ctx, &t); err != nil {
		if errors.Is(err, ErrNotRunning) {
			return nil, &TellError{fmt.Sprintf("trial %d of study %q is no longer running: it expired meanwhile", t.Number, study.Name)}
		}
		return nil, fmt.Errorf("record trial %d of study %q: %w", t.Number, study.Name, err)
	}
	return &t, nil
}

func lostNote(t *Trial) string {
	if t.Reason == ReasonLost {
		return " (" + strings.SplitN(t.Error, "\n", 2)[0] + ")"
	}
	return ""
}
