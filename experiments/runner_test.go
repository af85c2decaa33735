package experiments_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/experiments/sqlitestore"
	"github.com/olc-toolkit/olc/optimize"
)

func space2(t testing.TB) *optimize.Space {
	s, err := optimize.NewSpace(
		optimize.Param{Name: "x1", Kind: optimize.Float, Low: -5, High: 10, Step: 1},
		optimize.Param{Name: "x2", Kind: optimize.Float, Low: 0, High: 15, Step: 1},
	)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type fixture struct {
	store experiments.Store
	study *experiments.Study
	space *optimize.Space
}

func newFixture(t *testing.T, store experiments.Store, sampler string) *fixture {
	t.Helper()
	f := &fixture{store: store, space: space2(t)}
	st := &experiments.Study{Name: "t", Direction: optimize.Minimize, Metric: "value", Sampler: sampler, Created: time.Now().UTC()}
	if err := store.CreateStudy(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	f.study = st
	return f
}

func (f *fixture) sampler(t *testing.T) optimize.Sampler {
	if f.study.Sampler == "grid" {
		g, err := optimize.NewGrid(f.space)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	r, _ := optimize.NewRandom(f.space, 1, false)
	return r
}

func (f *fixture) runner(t *testing.T, obj experiments.Objective, trials int) *experiments.Runner {
	return &experiments.Runner{Store: f.store, Study: f.study, Space: f.space, Sampler: f.sampler(t), Objective: obj, Trials: trials}
}

func (f *fixture) trials(t *testing.T) []experiments.Trial {
	t.Helper()
	trials, err := f.store.Trials(context.Background(), f.study.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	return trials
}

func sphere(ctx context.Context, r experiments.TrialRun) (experiments.Outcome, error) {
	x1, x2 := r.Params["x1"].(float64), r.Params["x2"].(float64)
	return experiments.Outcome{Metrics: map[string]float64{"value": x1*x1 + x2*x2}}, nil
}

func TestRunnerReachesTarget(t *testing.T) {
	for _, parallel := range []int{1, 4} {
		f := newFixture(t, experiments.NewMemoryStore(), "random")
		r := f.runner(t, experiments.ObjectiveFunc(sphere), 40)
		r.Parallel = parallel
		var events atomic.Int64
		r.OnEvent = func(experiments.Event) { events.Add(1) }
		sum, err := r.Run(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		trials := f.trials(t)
		if sum.Complete != 40 || sum.Started != 40 || len(trials) != 40 || sum.Running != 0 {
			t.Errorf("parallel %d: summary %+v with %d trials", parallel, sum, len(trials))
		}
		if events.Load() != 80 {
			t.Errorf("%d events, want 80", events.Load())
		}
		best := experiments.Best(trials, optimize.Minimize)
		for _, tr := range trials {
			if tr.State != optimize.Complete || tr.Value < best.Value {
				t.Errorf("trial %d: %s %v; best %v", tr.Number, tr.State, tr.Value, best.Value)
			}
		}
		if sum.Best.Number != best.Number {
			t.Errorf("summary best %d, want %d", sum.Best.Number, best.Number)
		}
		// Running again with the same target does nothing.
		sum, err = f.runner(t, experiments.ObjectiveFunc(sphere), 40).Run(context.Background())
		if err != nil || sum.Started != 0 || sum.Resumed != 40 {
			t.Errorf("second run: %+v, %v", sum, err)
		}
	}
}

// TestRunnerDeterministic checks that the same seed gives the same
// proposals in trial order whatever the parallelism.
func TestRunnerDeterministic(t *testing.T) {
	var runs [][]optimize.Params
	for _, parallel := range []int{1, 3} {
		f := newFixture(t, experiments.NewMemoryStore(), "random")
		r := f.runner(t, experiments.ObjectiveFunc(sphere), 30)
		r.Parallel = parallel
		if _, err := r.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		var ps []optimize.Params
		for _, tr := range f.trials(t) {
			ps = append(ps, tr.Params)
		}
		runs = append(runs, ps)
	}
	for i := range runs[0] {
		if !runs[0][i].Equal(runs[1][i]) {
			t.Fatalf("trial %d: %v with parallel 1, %v with parallel 3", i, runs[0][i], runs[1][i])
		}
	}
}

func TestRunnerRetries(t *testing.T) {
	f := newFixture(t, experiments.NewMemoryStore(), "random")
	obj := experiments.ObjectiveFunc(func(ctx context.Context, r experiments.TrialRun) (experiments.Outcome, error) {
		if r.Attempt < 3 && r.Number%2 == 0 {
			return experiments.Outcome{}, fmt.Errorf("flaky failure on attempt %d", r.Attempt)
		}
		return sphere(ctx, r)
	})
	r := f.runner(t, obj, 10)
	r.MaxRetries = 2
	sum, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if sum.Complete != 10 {
		t.Errorf("complete = %d, want 10", sum.Complete)
	}
	trials := f.trials(t)
	for _, tr := range trials {
		if tr.State == optimize.Failed {
			if tr.Reason != experiments.ReasonError || !strings.Contains(tr.Error, "flaky failure") {
				t.Errorf("trial %d: reason %q error %q", tr.Number, tr.Reason, tr.Error)
			}
		}
		if tr.RetryOf >= 0 {
			orig := trials[tr.RetryOf]
			if !orig.Params.Equal(tr.Params) || tr.Attempt != orig.Attempt+1 || tr.Claim != fmt.Sprintf("retry:%d", orig.Number) || orig.State != optimize.Failed {
				t.Errorf("retry %d of %d: attempt %d after %d, claim %q", tr.Number, orig.Number, tr.Attempt, orig.Attempt, tr.Claim)
			}
		}
	}
	// With two retries allowed, no chain may hold more than three attempts.
	for _, tr := range trials {
		if tr.Attempt > 3 {
			t.Errorf("trial %d is attempt %d", tr.Number, tr.Attempt)
		}
	}
}

func TestRunnerGivesUp(t *testing.T) {
	f := newFixture(t, experiments.NewMemoryStore(), "random")
	obj := experiments.ObjectiveFunc(func(ctx context.Context, r experiments.TrialRun) (experiments.Outcome, error) {
		return experiments.Outcome{}, errors.New("command not found: python4")
	})
	r := f.runner(t, obj, 50)
	r.Parallel = 3
	sum, err := r.Run(context.Background())
	var fe *experiments.FailuresError
	if !errors.As(err, &fe) || fe.N < experiments.DefaultMaxFailures || !strings.Contains(fe.Last, "python4") {
		t.Fatalf("Run = %v, want a FailuresError", err)
	}
	if sum.Failed < experiments.DefaultMaxFailures || sum.Failed > experiments.DefaultMaxFailures+2 || sum.Running != 0 {
		t.Errorf("summary %+v", sum)
	}
}

func TestRunnerMetricChecks(t *testing.T) {
	cases := []struct {
		metrics map[string]float64
		want    string
	}{
		{map[string]float64{"loss": 1}, `no metric "value" in what the objective reported (reported: loss)`},
		{map[string]float64{"value": math.NaN()}, `metric "value" is NaN`},
		{map[string]float64{"value": math.Inf(1)}, `metric "value" is +Inf`},
	}
	for _, c := range cases {
		f := newFixture(t, experiments.NewMemoryStore(), "random")
		r := f.runner(t, experiments.ObjectiveFunc(func(context.Context, experiments.TrialRun) (experiments.Outcome, error) {
			return experiments.Outcome{Metrics: c.metrics}, nil
		}), 1)
		r.MaxFailures = 1
		r.Run(context.Background())
		tr := f.trials(t)[0]
		if tr.State != optimize.Failed || !strings.Contains(tr.Error, c.want) {
			t.Errorf("trial: %s %q, want failed with %q", tr.State, tr.Error, c.want)
		}
	}
}

// blockingObjective completes trials at once until stall trials have
// started, then blocks them until the context is cancelled.
type blockingObjective struct {
	mu      sync.Mutex
	started int
	stall   int
	blocked chan struct{}
	once    sync.Once
}

func (b *blockingObjective) Run(ctx context.Context, r experiments.TrialRun) (experiments.Outcome, error) {
	b.mu.Lock()
	b.started++
	n := b.started
	b.mu.Unlock()
	if n > b.stall {
		b.once.Do(func() { close(b.blocked) })
		<-ctx.Done()
		return experiments.Outcome{}, ctx.Err()
	}
	return sphere(ctx, r)
}

// TestRunnerInterruptAndResumeGrid interrupts a parallel grid search,
// checks that nothing is left running, resumes it, and checks that every
// grid point completed exactly once.
func TestRunnerInterruptAndResumeGrid(t *testing.T) {
	for _, backend := range []string{"memory", "sqlite"} {
		t.Run(backend, func(t *testing.T) {
			var store experiments.Store = experiments.NewMemoryStore()
			if backend == "sqlite" {
				s, err := sqlitestore.Open(context.Background(), filepath.Join(t.TempDir(), "olc.db"))
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				store = s
			}
			f := newFixture(t, store, "grid")
			grid, _ := optimize.NewGrid(f.space)
			obj := &blockingObjective{stall: 57, blocked: make(chan struct{})}
			ctx, cancel := context.WithCancel(context.Background())
			go func() { <-obj.blocked; time.Sleep(50 * time.Millisecond); cancel() }()
			r := f.runner(t, obj, grid.Size())
			r.Parallel = 4
			sum, err := r.Run(ctx)
			if !errors.Is(err, experiments.ErrInterrupted) {
				t.Fatalf("Run = %v, want ErrInterrupted", err)
			}
			interrupted := 0
			for _, tr := range f.trials(t) {
				if tr.State == optimize.Running {
					t.Errorf("trial %d left running", tr.Number)
				}
				if tr.State == optimize.Failed {
					if tr.Reason != experiments.ReasonInterrupted {
						t.Errorf("trial %d failed with reason %q", tr.Number, tr.Reason)
					}
					interrupted++
				}
			}
			if interrupted == 0 || sum.Complete != 57 || sum.Interrupted != interrupted {
				t.Errorf("%d interrupted (summary says %d), %d complete; want some interrupted and 57 complete", interrupted, sum.Interrupted, sum.Complete)
			}
			// Resume with an objective that never blocks.
			r2 := f.runner(t, experiments.ObjectiveFunc(sphere), grid.Size())
			r2.Parallel = 4
			sum, err = r2.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if sum.Complete != grid.Size() || sum.Resumed != 57 || sum.Failed != interrupted {
				t.Errorf("after resume: %+v", sum)
			}
			complete := map[int]int{}
			for _, tr := range f.trials(t) {
				if tr.State == optimize.Complete {
					i, ok := grid.Index(tr.Params)
					if !ok {
						t.Fatalf("trial %d is off the grid", tr.Number)
					}
					complete[i]++
				}
			}
			for i := range grid.Size() {
				if complete[i] != 1 {
					t.Errorf("grid point %d completed %d times", i, complete[i])
				}
			}
		})
	}
}

func TestRunnerExpiresLostTrials(t *testing.T) {
	host, _ := os.Hostname()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	cases := []struct {
		name    string
		owner   string
		beat    time.Time
		expired bool
	}{
		{"stale heartbeat", "elsewhere:1", now.Add(-time.Hour), true},
		{"dead process on this host", fmt.Sprintf("%s:%d", host, dead.Process.Pid), now, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, experiments.NewMemoryStore(), "random")
			orphan := &experiments.Trial{StudyID: f.study.ID, Params: optimize.Params{"x1": 1.0, "x2": 2.0}, State: optimize.Running,
				Attempt: 1, RetryOf: -1, Started: c.beat, Heartbeat: c.beat, Owner: c.owner, Value: math.NaN()}
			if err := f.store.CreateTrial(context.Background(), orphan); err != nil {
				t.Fatal(err)
			}
			var expiredEvents int
			r := f.runner(t, experiments.ObjectiveFunc(sphere), 3)
			r.OnEvent = func(e experiments.Event) {
				if e.Kind == experiments.TrialExpired {
					expiredEvents++
				}
			}
			sum, err := r.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			trials := f.trials(t)
			got := trials[0]
			if c.expired {
				if got.State != optimize.Failed || got.Reason != experiments.ReasonLost || !strings.Contains(got.Error, "lost") || sum.Expired != 1 || expiredEvents != 1 {
					t.Errorf("orphan = %s %q %q, summary %+v", got.State, got.Reason, got.Error, sum)
				}
				// It was run again, first.
				if trials[1].RetryOf != 0 || !trials[1].Params.Equal(got.Params) || trials[1].State != optimize.Complete {
					t.Errorf("trial 1 = %+v, want the re-run of trial 0", trials[1])
				}
			}
		})
	}
}

// TestRunnerWaitsForOtherProcesses: a trial that another, live process
// runs (it heartbeats) is neither touched nor run again; the runner counts
// it towards the target and waits for it rather than overshoot, and stops
// when it completes: 3 complete, 2 of them its own.
func TestRunnerWaitsForOtherProcesses(t *testing.T) {
	f := newFixture(t, experiments.NewMemoryStore(), "random")
	ctx := context.Background()
	now := time.Now().UTC()
	other := &experiments.Trial{StudyID: f.study.ID, Params: optimize.Params{"x1": 1.0, "x2": 2.0}, State: optimize.Running,
		Attempt: 1, RetryOf: -1, Started: now, Heartbeat: now, Owner: "elsewhere:1", Value: math.NaN()}
	if err := f.store.CreateTrial(ctx, other); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	go func() { // the other process: heartbeats, then completes its trial
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			if i == 25 {
				fin := *other
				fin.State, fin.Value, fin.Finished, fin.Metrics = optimize.Complete, 5, time.Now().UTC(), map[string]float64{"value": 5}
				if err := f.store.FinishTrial(ctx, &fin); err != nil {
					t.Error(err)
				}
				return
			}
			f.store.Heartbeat(ctx, time.Now().UTC(), other.ID)
		}
	}()
	defer close(stop)
	r := f.runner(t, experiments.ObjectiveFunc(sphere), 3)
	r.HeartbeatInterval = 20 * time.Millisecond // stale after 120 ms of silence
	sum, err := r.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	trials := f.trials(t)
	if trials[0].State != optimize.Complete || trials[0].Owner != "elsewhere:1" {
		t.Errorf("the other process's trial: %s by %s", trials[0].State, trials[0].Owner)
	}
	if len(trials) != 3 || sum.Complete != 3 || sum.Running != 0 || sum.Expired != 0 || sum.Started != 2 {
		t.Errorf("%d trials, summary %+v; want 3 complete, 2 of them started here", len(trials), sum)
	}
}

// TestRunnersShareAStudy: runners sharing one study and store, as
// processes on several machines do, stop at its target exactly and each
// reports the whole study: random, Bayesian and grid (each point once).
func TestRunnersShareAStudy(t *testing.T) {
	for _, sampler := range []string{"random", "bayes", "grid"} {
		t.Run(sampler, func(t *testing.T) {
			st, err := sqlitestore.Open(context.Background(), filepath.Join(t.TempDir(), "olc.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			f := newFixture(t, st, sampler)
			target := 12
			if sampler == "grid" {
				g, _ := optimize.NewGrid(f.space)
				target = g.Size()
			}
			slow := experiments.ObjectiveFunc(func(ctx context.Context, r experiments.TrialRun) (experiments.Outcome, error) {
				time.Sleep(5 * time.Millisecond)
				return sphere(ctx, r)
			})
			sums := make([]*experiments.Summary, 3)
			var wg sync.WaitGroup
			for i := range sums {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := f.runner(t, slow, target)
					r.Parallel = 2
					r.HeartbeatInterval = 20 * time.Millisecond
					var err error
					if sums[i], err = r.Run(context.Background()); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			complete, seen := 0, map[string]bool{}
			for _, tr := range f.trials(t) {
				if tr.State == optimize.Running {
					t.Errorf("trial %d left running", tr.Number)
				}
				if tr.State == optimize.Complete {
					complete++
					k, _ := json.Marshal(tr.Params)
					if sampler == "grid" && seen[string(k)] {
						t.Errorf("grid point %v completed twice", tr.Params)
					} else {
						seen[string(k)] = true
					}
				}
			}
			if complete != target {
				t.Errorf("%d complete trials for a target of %d", complete, target)
			}
			started := 0
			for i, sum := range sums {
				if sum == nil {
					continue
				}
				started += sum.Started
				if sum.Complete != target || sum.Running != 0 {
					t.Errorf("runner %d reports %+v", i, sum)
				}
			}
			// A trial whose runner was starved past the staleness window
			// (a loaded machine, the race detector) is taken for lost and
			// run again: the one trial more it costs is no overshoot.
			lost, all := 0, f.trials(t)
			for _, tr := range all {
				if tr.State == optimize.Failed && tr.Reason == experiments.ReasonLost {
					lost++
				}
			}
			if len(all)-lost != target || started > len(all) || started < target {
				t.Errorf("the runners created %d trials and started %d for %d (%d lost and run again)", len(all), started, target, lost)
				for _, tr := range f.trials(t) {
					if tr.State != optimize.Complete || tr.RetryOf >= 0 {
						t.Logf("trial %d: %s %s %q retry_of %d claim %q", tr.Number, tr.State, tr.Reason, tr.Error, tr.RetryOf, tr.Claim)
					}
				}
			}
		})
	}
}

func TestRunnerHeartbeats(t *testing.T) {
	f := newFixture(t, experiments.NewMemoryStore(), "random")
	advanced := 0
	obj := experiments.ObjectiveFunc(func(ctx context.Context, r experiments.TrialRun) (experiments.Outcome, error) {
		// Wait, up to 10s each, for three heartbeats after the trial started.
		last := time.Time{}
		deadline := time.Now().Add(30 * time.Second)
		for advanced < 3 && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
			tr, _ := f.store.Trials(ctx, f.study.ID, r.Number)
			if hb := tr[0].Heartbeat; hb.After(tr[0].Started) && hb.After(last) {
				last = hb
				advanced++
			}
		}
		return sphere(ctx, r)
	})
	r := f.runner(t, obj, 1)
	r.HeartbeatInterval = 20 * time.Millisecond
	if _, err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if advanced < 3 {
		t.Errorf("the heartbeat advanced %d times while the trial ran, want 3", advanced)
	}
}

// slowSampler makes its second proposal take a while, as a Bayesian
// proposal on a long history does.
type slowSampler struct {
	optimize.Sampler
	calls      int
	from, till time.Time
	mu         sync.Mutex
}

func (s *slowSampler) Propose(ctx context.Context, h *optimize.History) (optimize.Proposal, error) {
	s.mu.Lock()
	s.calls++
	slow := s.calls == 2
	s.mu.Unlock()
	if slow {
		from := time.Now()
		time.Sleep(400 * time.Millisecond)
		s.mu.Lock()
		s.from, s.till = from, time.Now()
		s.mu.Unlock()
	}
	return s.Sampler.Propose(ctx, h)
}

// TestHeartbeatsGoOnDuringAProposal: the runner holds its lock while a
// worker proposes; the heartbeat of the other workers' trials must not wait
// for it, or a slow proposal would make them look lost.
func TestHeartbeatsGoOnDuringAProposal(t *testing.T) {
	f := newFixture(t, experiments.NewMemoryStore(), "random")
	slow := &slowSampler{Sampler: f.sampler(t)}
	var beats []time.Time
	obj := experiments.ObjectiveFunc(func(ctx context.Context, r experiments.TrialRun) (experiments.Outcome, error) {
		if r.Number == 0 {
			last := time.Time{}
			for end := time.Now().Add(700 * time.Millisecond); time.Now().Before(end); time.Sleep(2 * time.Millisecond) {
				tr, _ := f.store.Trials(ctx, f.study.ID, 0)
				if hb := tr[0].Heartbeat; hb.After(last) {
					last = hb
					beats = append(beats, hb)
				}
			}
		}
		return sphere(ctx, r)
	})
	r := f.runner(t, obj, 2)
	r.Sampler, r.Parallel, r.HeartbeatInterval = slow, 2, 20*time.Millisecond
	if _, err := r.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if slow.till.IsZero() {
		t.Fatal("the second proposal never ran")
	}
	during := 0
	for _, b := range beats {
		if b.After(slow.from) && b.Before(slow.till) {
			during++
		}
	}
	// 400 ms at one beat per 20 ms: 20; a heartbeat blocked on the lock
	// gives none.
	if during < 5 {
		t.Errorf("%d heartbeats of trial 0 during the 400 ms proposal, want at least 5", during)
	}
}

// skewedStore is a store whose clock is an hour behind this machine's.
type skewedStore struct{ *experiments.MemoryStore }

const skew = -time.Hour

func (skewedStore) Now(context.Context) (time.Time, error) { return time.Now().Add(skew).UTC(), nil }

// A store with a clock of its own judges staleness: another machine's
// trial that heartbeated a second ago by the store's clock is alive, though
// this machine's clock, an hour ahead, would call it lost; and the times
// the runner records are the store's.
func TestRunnerJudgesByTheStoresClock(t *testing.T) {
	for _, tc := range []struct {
		name  string
		store experiments.Store
		lost  bool
	}{
		{"store clock", skewedStore{experiments.NewMemoryStore()}, false},
		{"no store clock", experiments.NewMemoryStore(), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.store, "random")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			beat := time.Now().Add(skew - time.Second).UTC()
			other := &experiments.Trial{StudyID: f.study.ID, Params: optimize.Params{"x1": 1.0, "x2": 2.0}, State: optimize.Running,
				Attempt: 1, RetryOf: -1, Started: beat, Heartbeat: beat, Owner: "elsewhere:1", Value: math.NaN()}
			if err := f.store.CreateTrial(ctx, other); err != nil {
				t.Fatal(err)
			}
			r := f.runner(t, experiments.ObjectiveFunc(sphere), 2)
			r.OnEvent = func(ev experiments.Event) {
				if ev.Kind == experiments.TrialFinished {
					cancel() // the other trial would keep it waiting
				}
			}
			r.Run(ctx)
			trials := f.trials(t)
			if lost := trials[0].State == optimize.Failed && trials[0].Reason == experiments.ReasonLost; lost != tc.lost {
				t.Errorf("the other machine's trial: %s %s; lost = %v, want %v", trials[0].State, trials[0].Reason, lost, tc.lost)
			}
			var mine *experiments.Trial
			for i := range trials {
				if trials[i].Owner != "elsewhere:1" {
					mine = &trials[i]
					break
				}
			}
			if mine == nil {
				t.Fatal("the runner started no trial")
			}
			want := time.Now()
			if !tc.lost {
				want = want.Add(skew)
			}
			if d := mine.Started.Sub(want); d < -time.Minute || d > time.Minute {
				t.Errorf("the runner's trial started at %v, %v from the clock it should use", mine.Started, d)
			}
		})
	}
}

// A study resumed by another process proposes what an uninterrupted run
// would: the process whose trials it resumes is not racing it.
func TestRunnerResumedByAnotherProcess(t *testing.T) {
	params := func(f *fixture) []optimize.Params {
		var ps []optimize.Params
		for _, tr := range f.trials(t) {
			ps = append(ps, tr.Params)
		}
		return ps
	}
	whole := newFixture(t, experiments.NewMemoryStore(), "random")
	if _, err := whole.runner(t, experiments.ObjectiveFunc(sphere), 20).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	split := newFixture(t, experiments.NewMemoryStore(), "random")
	for i, host := range []string{"first-machine", "second-machine"} {
		t.Setenv(experiments.HostEnv, host)
		if _, err := split.runner(t, experiments.ObjectiveFunc(sphere), 10*(i+1)).Run(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	a, b := params(whole), params(split)
	if len(a) != 20 || len(b) != 20 {
		t.Fatalf("%d and %d trials", len(a), len(b))
	}
	for i := range a {
		if !a[i].Equal(b[i]) {
			t.Fatalf("trial %d: %v uninterrupted, %v resumed by another process", i, a[i], b[i])
		}
	}
	if got := split.trials(t)[15].Owner; !strings.HasPrefix(got, "second-machine:") {
		t.Errorf("trial 15's owner is %q", got)
	}
}
