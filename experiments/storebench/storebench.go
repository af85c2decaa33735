// Package storebench measures how fast workers move trials through an
// experiment store: each worker runs a study with the real
// [experiments.Runner] (random search over one parameter, so a proposal
// costs next to nothing) and an objective that returns at once, so that
// what is measured is the store: trial creation, the reads that keep each
// worker's view of the study current, heartbeats and the finish. Every
// call to the store is timed.
//
// 'olc bench store' runs Work in separate processes, all on one study, and
// merges their reports with Merge.
package storebench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/internal/sample"
	"github.com/olc-toolkit/olc/optimize"
)

// Ops are the store's calls a worker makes, as reported.
var Ops = []string{"create_trial", "finish_trial", "trials", "heartbeat", "expire_trial"}

// Report is what one worker measured.
type Report struct {
	// Started and Complete count the trials this worker ran.
	Started, Complete int
	// Seconds is the worker's time from Start to the end of its run.
	Seconds float64
	// Calls holds each op's latencies in milliseconds.
	Calls map[string][]float64
	// Errors are the store's errors that reached the runner.
	Errors []string
	// Collisions counts creations refused because another worker had
	// just taken the proposal (ErrClaimed) or filled the study
	// (ErrStudyFull): answers, not errors, but each costs a round trip.
	Collisions int
	// Retries counts the store's own retries (PostgreSQL: a lost
	// connection, a serialization failure or a deadlock).
	Retries int
}

// Timed wraps a store, timing its calls.
type Timed struct {
	experiments.Store
	mu         sync.Mutex
	calls      map[string][]float64
	errors     []string
	collisions int
}

// NewTimed returns st with its calls timed.
func NewTimed(st experiments.Store) *Timed {
	return &Timed{Store: st, calls: map[string][]float64{}}
}

func (s *Timed) note(op string, start time.Time, err error) {
	ms := float64(time.Since(start).Nanoseconds()) / 1e6
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[op] = append(s.calls[op], ms)
	// ErrClaimed and ErrStudyFull are answers, not failures; ErrNotRunning
	// (a trial taken for lost) is reported.
	switch {
	case err == nil:
	case errors.Is(err, experiments.ErrClaimed), errors.Is(err, experiments.ErrStudyFull):
		s.collisions++
	default:
		s.errors = append(s.errors, op+": "+err.Error())
	}
}

// CreateTrial implements experiments.Store.
func (s *Timed) CreateTrial(ctx context.Context, t *experiments.Trial) error {
	start := time.Now()
	err := s.Store.CreateTrial(ctx, t)
	s.note("create_trial", start, err)
	return err
}

// FinishTrial implements experiments.Store.
func (s *Timed) FinishTrial(ctx context.Context, t *experiments.Trial) error {
	start := time.Now()
	err := s.Store.FinishTrial(ctx, t)
	s.note("finish_trial", start, err)
	return err
}

// Trials implements experiments.Store.
func (s *Timed) Trials(ctx context.Context, studyID int64, from int) ([]experiments.Trial, error) {
	start := time.Now()
	ts, err := s.Store.Trials(ctx, studyID, from)
	s.note("trials", start, err)
	return ts, err
}

// TrialsSince implements experiments.SelectiveStore, reading all the
// trials from the lowest number asked for when the wrapped store is not
// selective.
func (s *Timed) TrialsSince(ctx context.Context, studyID int64, from int, also []int) ([]experiments.Trial, error) {
	start := time.Now()
	var ts []experiments.Trial
	var err error
	if sel, ok := s.Store.(experiments.SelectiveStore); ok {
		ts, err = sel.TrialsSince(ctx, studyID, from, also)
	} else {
		low := from
		for _, n := range also {
			low = min(low, n)
		}
		ts, err = s.Store.Trials(ctx, studyID, low)
	}
	s.note("trials", start, err)
	return ts, err
}

// Heartbeat implements experiments.Store.
func (s *Timed) Heartbeat(ctx context.Context, at time.Time, ids ...int64) error {
	start := time.Now()
	err := s.Store.Heartbeat(ctx, at, ids...)
	s.note("heartbeat", start, err)
	return err
}

// ExpireTrial implements experiments.Store.
func (s *Timed) ExpireTrial(ctx context.Context, id int64, heartbeat, at time.Time, msg string) error {
	start := time.Now()
	err := s.Store.ExpireTrial(ctx, id, heartbeat, at, msg)
	s.note("expire_trial", start, err)
	return err
}

// Now implements experiments.Clock when the wrapped store does.
func (s *Timed) Now(ctx context.Context) (time.Time, error) {
	if c, ok := s.Store.(experiments.Clock); ok {
		return c.Now(ctx)
	}
	return time.Now(), nil
}

// Space is the study's search space: one float.
func Space() *optimize.Space {
	sp, err := optimize.NewSpace(optimize.Param{Name: "x", Kind: optimize.Float, Low: 0, High: 1})
	if err != nil {
		panic(err) // a constant space
	}
	return sp
}

// NewStudy returns the bench's study called name, to create once before
// the workers start.
func NewStudy(name string) *experiments.Study {
	return &experiments.Study{Name: name, Direction: optimize.Minimize, Metric: "loss", Sampler: "random", Config: "# olc bench store", Identity: "{}", Created: time.Now().UTC()}
}

// Work waits until start, then runs the study with the runner until it
// holds target complete trials, on st timed; seed tells workers' samplers
// apart. retries, when not nil, reads the store's retry count at the end.
func Work(ctx context.Context, st experiments.Store, study *experiments.Study, target int, seed uint64, start time.Time, retries func() int) (*Report, error) {
	sampler, err := optimize.NewRandom(Space(), seed, false)
	if err != nil {
		return nil, err
	}
	timed := NewTimed(st)
	r := &experiments.Runner{
		Store: timed, Study: study, Space: Space(), Sampler: sampler, Trials: target,
		Objective: experiments.ObjectiveFunc(func(_ context.Context, tr experiments.TrialRun) (experiments.Outcome, error) {
			return experiments.Outcome{Metrics: map[string]float64{"loss": tr.Params["x"].(float64)}}, nil
		}),
	}
	time.Sleep(time.Until(start))
	begin := time.Now()
	sum, err := r.Run(ctx)
	if err != nil {
		return nil, fmt.Errorf("run: %w", err)
	}
	rep := &Report{Started: sum.Started, Seconds: time.Since(begin).Seconds(), Calls: timed.calls, Errors: timed.errors, Collisions: timed.collisions}
	trials, err := st.Trials(ctx, study.ID, 0)
	if err != nil {
		return nil, err
	}
	owner := experiments.Host() + ":" + strconv.Itoa(os.Getpid())
	for _, t := range trials {
		if t.Owner == owner && t.State == optimize.Complete {
			rep.Complete++
		}
	}
	if retries != nil {
		rep.Retries = retries()
	}
	return rep, nil
}

// Latency is an op's latency over all workers, in milliseconds.
type Latency struct {
	Op    string  `json:"op"`
	Calls int     `json:"calls"`
	P50   float64 `json:"p50_ms"`
	P99   float64 `json:"p99_ms"`
	// PerTrial is the number of calls per complete trial.
	PerTrial float64 `json:"per_trial"`
}

// Result is one configuration's outcome: several workers on one store.
type Result struct {
	Backend  string `json:"backend"`
	Workers  int    `json:"workers"`
	Trials   int    `json:"trials"`
	Complete int    `json:"complete"`
	// Seconds runs from the first trial's start to the last one's end:
	// the study's time, without the workers' start-up or the wait of
	// workers that had no trial left for the others' last ones.
	Seconds      float64   `json:"seconds"`
	TrialsPerSec float64   `json:"trials_per_second"`
	Latencies    []Latency `json:"latencies"`
	Errors       int       `json:"errors"`
	Collisions   int       `json:"collisions"`
	FirstError   string    `json:"first_error,omitempty"`
	Retries      int       `json:"retries"`
	// Deadlocks is the database's own count of deadlocks during the run
	// (PostgreSQL's pg_stat_database), or -1 when the store keeps none.
	Deadlocks int64 `json:"deadlocks"`
	// Duplicates counts trial numbers or complete trials beyond the
	// target: both must be 0.
	Duplicates int `json:"duplicates"`
}

// Merge sums the workers' reports into a Result; trials are the study's
// trials read after the run, to check numbers and the target.
func Merge(backend string, target int, reps []*Report, trials []experiments.Trial) Result {
	res := Result{Backend: backend, Workers: len(reps), Trials: len(trials), Deadlocks: -1}
	all := map[string][]float64{}
	for _, r := range reps {
		res.Errors += len(r.Errors)
		if res.FirstError == "" && len(r.Errors) > 0 {
			res.FirstError = r.Errors[0]
		}
		res.Retries += r.Retries
		res.Collisions += r.Collisions
		for op, l := range r.Calls {
			all[op] = append(all[op], l...)
		}
	}
	var first, last time.Time
	seen := map[int]bool{}
	for i, t := range trials {
		if first.IsZero() || t.Started.Before(first) {
			first = t.Started
		}
		if t.Finished.After(last) {
			last = t.Finished
		}
		if t.Number != i || seen[t.Number] {
			res.Duplicates++
		}
		seen[t.Number] = true
		if t.State == optimize.Complete {
			res.Complete++
		}
	}
	if res.Complete > target {
		res.Duplicates += res.Complete - target
	}
	if !last.IsZero() {
		res.Seconds = last.Sub(first).Seconds()
	}
	if res.Seconds > 0 {
		res.TrialsPerSec = float64(res.Complete) / res.Seconds
	}
	for _, op := range Ops {
		l := all[op]
		if len(l) == 0 {
			continue
		}
		slices.Sort(l)
		lat := Latency{Op: op, Calls: len(l), P50: sample.Quantile(l, 0.5), P99: sample.Quantile(l, 0.99)}
		if res.Complete > 0 {
			lat.PerTrial = float64(len(l)) / float64(res.Complete)
		}
		res.Latencies = append(res.Latencies, lat)
	}
	return res
}
