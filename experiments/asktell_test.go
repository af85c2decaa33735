package experiments_test

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/experiments/sqlitestore"
	"github.com/olc-toolkit/olc/optimize"
)

func TestAskTell(t *testing.T) {
	ctx := context.Background()
	store, err := sqlitestore.Open(ctx, filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	f := newFixture(t, store, "grid")

	// Queued points come first, in order, once each.
	for i, p := range []optimize.Params{{"x1": 3.0, "x2": 4.0}, {"x1": -5.0, "x2": 0.0}} {
		added, err := store.Enqueue(ctx, f.study.ID, &experiments.Queued{Key: experiments.ConfigKey(p), Params: p})
		if err != nil || !added {
			t.Fatalf("enqueue %d: %v, %v", i, added, err)
		}
	}
	if added, err := store.Enqueue(ctx, f.study.ID, &experiments.Queued{Key: experiments.ConfigKey(optimize.Params{"x1": 3.0, "x2": 4.0})}); err != nil || added {
		t.Errorf("the same config point queued twice: %v, %v", added, err)
	}
	queue, err := store.Queue(ctx, f.study.ID)
	if err != nil || len(queue) != 2 {
		t.Fatalf("Queue = %v, %v", queue, err)
	}

	// Eight processes ask at once: distinct trials, the queue's points
	// once each, the grid's first six points once each.
	var mu sync.Mutex
	var asked []*experiments.Trial
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr, err := experiments.Ask(ctx, store, f.study, f.sampler(t), experiments.AskOptions{Queue: queue})
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			asked = append(asked, tr)
			mu.Unlock()
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	queued := 0
	for _, tr := range asked {
		k := optimize.FormatValue(tr.Params["x1"]) + "," + optimize.FormatValue(tr.Params["x2"])
		if seen[k] {
			t.Errorf("point %s asked twice", k)
		}
		seen[k] = true
		if tr.Params.Equal(queue[0].Params) || tr.Params.Equal(queue[1].Params) {
			queued++
		}
	}
	if len(asked) != 8 || queued != 2 {
		t.Errorf("asked %d trials, %d of them queued points; want 8 and 2", len(asked), queued)
	}
	// Asked one by one after that, the grid runs out having given each
	// of its points once (some of which the racing asks skipped), those
	// the queue gave included.
	for {
		tr, err := experiments.Ask(ctx, store, f.study, f.sampler(t), experiments.AskOptions{Queue: queue})
		if errors.Is(err, experiments.ErrStudyDone) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		asked = append(asked, tr)
	}
	grid := map[string]int{}
	for _, tr := range f.trials(t) {
		grid[optimize.FormatValue(tr.Params["x1"])+","+optimize.FormatValue(tr.Params["x2"])]++
	}
	if len(grid) != 256 || len(asked) != 256 {
		t.Errorf("%d grid points in %d trials, want 256 in 256", len(grid), len(asked))
	}
	for k, n := range grid {
		if n != 1 {
			t.Errorf("grid point %s asked %d times", k, n)
		}
	}

	// Tell: complete, failed, pruned; bad reports change nothing.
	n := asked[0].Number
	bad := []experiments.Told{
		{Number: n, Metrics: map[string]float64{"value": math.NaN()}},
		{Number: n, Metrics: map[string]float64{"value": 1, "other": math.Inf(1)}},
		{Number: n, Metrics: map[string]float64{"loss": 1}},
		{Number: 9999, Metrics: map[string]float64{"value": 1}},
		{Number: -1, Metrics: map[string]float64{"value": 1}},
		{Number: n, State: optimize.Running},
	}
	for _, r := range bad {
		var te *experiments.TellError
		if _, err := experiments.Tell(ctx, store, f.study, r); !errors.As(err, &te) {
			t.Errorf("Tell(%+v) = %v, want a TellError", r, err)
		}
	}
	if got := f.trials(t)[n]; got.State != optimize.Running {
		t.Fatalf("a refused tell changed trial %d: %s", n, got.State)
	}
	if _, err := experiments.Tell(ctx, store, f.study, experiments.Told{Number: n, Metrics: map[string]float64{"value": 2.5, "aux": 1}}); err != nil {
		t.Fatal(err)
	}
	var te *experiments.TellError
	if _, err := experiments.Tell(ctx, store, f.study, experiments.Told{Number: n, Metrics: map[string]float64{"value": 1}}); !errors.As(err, &te) {
		t.Errorf("second tell = %v, want a TellError", err)
	}
	if _, err := experiments.Tell(ctx, store, f.study, experiments.Told{Number: asked[1].Number, State: optimize.Failed, Error: "OOM"}); err != nil {
		t.Fatal(err)
	}
	if _, err := experiments.Tell(ctx, store, f.study, experiments.Told{Number: asked[2].Number, State: optimize.Pruned}); err != nil {
		t.Fatal(err)
	}
	trials := f.trials(t)
	if tr := trials[n]; tr.State != optimize.Complete || tr.Value != 2.5 || tr.Metrics["aux"] != 1 {
		t.Errorf("told trial = %s %v %v", tr.State, tr.Value, tr.Metrics)
	}
	if tr := trials[asked[1].Number]; tr.State != optimize.Failed || tr.Error != "OOM" || tr.Reason != experiments.ReasonError {
		t.Errorf("failed trial = %s %q %q", tr.State, tr.Error, tr.Reason)
	}
	if tr := trials[asked[2].Number]; tr.State != optimize.Pruned {
		t.Errorf("pruned trial = %s", tr.State)
	}

	// A capped study says when it is done.
	c := experiments.CountStates(trials)
	if _, err := experiments.Ask(ctx, store, f.study, f.sampler(t), experiments.AskOptions{Cap: c.Complete + c.Running}); !errors.Is(err, experiments.ErrStudyDone) {
		t.Errorf("ask past the cap = %v, want ErrStudyDone", err)
	}
}

func TestAskLease(t *testing.T) {
	ctx := context.Background()
	store := experiments.NewMemoryStore()
	f := newFixture(t, store, "random")
	short, err := experiments.Ask(ctx, store, f.study, f.sampler(t), experiments.AskOptions{Lease: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	long, err := experiments.Ask(ctx, store, f.study, f.sampler(t), experiments.AskOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// An asked trial outlives the heartbeat staleness of run trials.
	later := time.Now().Add(2 * experiments.DefaultStaleAfter)
	if why := experiments.LostReason(long, later, 0); why != "" {
		t.Errorf("a trial within its lease is lost: %s", why)
	}
	if why := experiments.LostReason(short, later, 0); why == "" {
		t.Error("a trial past its lease is not lost")
	}
	if why := experiments.LostReason(long, time.Now().Add(experiments.DefaultLease+time.Minute), 0); why == "" {
		t.Error("a trial past the default lease is not lost")
	}
	time.Sleep(1100 * time.Millisecond)
	// The next ask expires the abandoned trial; telling it is refused.
	if _, err := experiments.Ask(ctx, store, f.study, f.sampler(t), experiments.AskOptions{}); err != nil {
		t.Fatal(err)
	}
	trials := f.trials(t)
	if tr := trials[short.Number]; tr.State != optimize.Failed || tr.Reason != experiments.ReasonLost {
		t.Errorf("abandoned trial = %s %s, want failed lost", tr.State, tr.Reason)
	}
	if tr := trials[long.Number]; tr.State != optimize.Running {
		t.Errorf("trial within its lease = %s", tr.State)
	}
	var te *experiments.TellError
	if _, err := experiments.Tell(ctx, store, f.study, experiments.Told{Number: short.Number, Metrics: map[string]float64{"value": 1}}); !errors.As(err, &te) {
		t.Errorf("tell of an expired trial = %v, want a TellError", err)
	}
}

func TestRunnerRunsQueueAndWarmStart(t *testing.T) {
	ctx := context.Background()
	store := experiments.NewMemoryStore()
	f := newFixture(t, store, "random")
	first := optimize.Params{"x1": 1.0, "x2": 2.0}
	if _, err := store.Enqueue(ctx, f.study.ID, &experiments.Queued{Key: "a", Params: first}); err != nil {
		t.Fatal(err)
	}
	r := f.runner(t, experiments.ObjectiveFunc(sphere), 3)
	if _, err := r.Run(ctx); err != nil {
		t.Fatal(err)
	}
	trials := f.trials(t)
	if !trials[0].Params.Equal(first) || trials[0].Claim == "" {
		t.Errorf("first trial = %v (claim %q), want the queued point", trials[0].Params, trials[0].Claim)
	}
	// Resumed, it does not run the point again.
	r = f.runner(t, experiments.ObjectiveFunc(sphere), 5)
	if _, err := r.Run(ctx); err != nil {
		t.Fatal(err)
	}
	runs := 0
	for _, tr := range f.trials(t) {
		if tr.Params.Equal(first) {
			runs++
		}
	}
	if runs != 1 {
		t.Errorf("the queued point ran %d times, want 1", runs)
	}
}
