// Package storetest is the conformance suite every [experiments.Store]
// backend must pass.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/optimize"
)

// Backend opens stores for the suite.
type Backend struct {
	// Open returns a new, empty store.
	Open func(t *testing.T) experiments.Store
	// Reopen, when not nil, returns a second handle on the data of a store
	// returned by Open, as another process would open it.
	Reopen func(t *testing.T, s experiments.Store) experiments.Store
}

// Run runs the conformance suite.
func Run(t *testing.T, b Backend) {
	tests := []struct {
		name string
		fn   func(*testing.T, Backend)
	}{
		{"Studies", testStudies},
		{"Rename", testRename},
		{"Delete", testDelete},
		{"Queue", testQueue},
		{"TrialRoundTrip", testTrialRoundTrip},
		{"Numbering", testNumbering},
		{"Claims", testClaims},
		{"Cap", testCap},
		{"Heartbeat", testHeartbeat},
		{"Finish", testFinish},
		{"Expire", testExpire},
		{"TrialsFrom", testTrialsFrom},
		{"TrialsSince", testTrialsSince},
		{"ConcurrentCreate", testConcurrentCreate},
		{"SecondHandle", testSecondHandle},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, b) })
	}
}

// now returns a time with microsecond precision, the precision every
// backend must keep.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

func newStudy(t *testing.T, s experiments.Store, name string) *experiments.Study {
	t.Helper()
	st := &experiments.Study{
		Name: name, Direction: optimize.Maximize, Metric: "acc", Sampler: "random",
		Seed: 1<<63 + 12345, Config: "[study]\nname = \"ünïcode ✓\"\n", Identity: `{"a":1}`, Created: now(),
	}
	if err := s.CreateStudy(context.Background(), st); err != nil {
		t.Fatalf("CreateStudy: %v", err)
	}
	return st
}

func newTrial(t *testing.T, s experiments.Store, studyID int64, claim string) *experiments.Trial {
	t.Helper()
	tr := &experiments.Trial{
		StudyID: studyID, Claim: claim, State: optimize.Running, Attempt: 1, RetryOf: -1,
		Params: optimize.Params{"x": 1.5}, Started: now(), Heartbeat: now(), Owner: "host:1", Value: math.NaN(),
	}
	if err := s.CreateTrial(context.Background(), tr); err != nil {
		t.Fatalf("CreateTrial: %v", err)
	}
	return tr
}

func testStudies(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.Open(t)
	want := newStudy(t, s, "b-study")
	newStudy(t, s, "a.study")
	if want.ID == 0 {
		t.Error("CreateStudy did not set ID")
	}
	got, err := s.Study(ctx, "b-study")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Study = %+v\nwant %+v", got, want)
	}
	if err := s.CreateStudy(ctx, &experiments.Study{Name: "b-study", Direction: optimize.Minimize, Created: now()}); !errors.Is(err, experiments.ErrStudyExists) {
		t.Errorf("CreateStudy of a taken name = %v, want ErrStudyExists", err)
	}
	if _, err := s.Study(ctx, "nope"); !errors.Is(err, experiments.ErrNotFound) {
		t.Errorf("Study(nope) = %v, want ErrNotFound", err)
	}
	all, err := s.Studies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].Name != "a.study" || all[1].Name != "b-study" {
		t.Errorf("Studies = %v, want a.study and b-study in order", all)
	}
}

func testRename(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.Open(t)
	st := newStudy(t, s, "old")
	newStudy(t, s, "other")
	newTrial(t, s, st.ID, "")
	if err := s.RenameStudy(ctx, "old", "other"); !errors.Is(err, experiments.ErrStudyExists) {
		t.Errorf("rename onto a taken name = %v, want ErrStudyExists", err)
	}
	if err := s.RenameStudy(ctx, "missing", "x"); !errors.Is(err, experiments.ErrNotFound) {
		t.Errorf("rename of a missing study = %v, want ErrNotFound", err)
	}
	if err := s.RenameStudy(ctx, "old", "old.1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Study(ctx, "old"); !errors.Is(err, experiments.ErrNotFound) {
		t.Errorf("old name still resolves: %v", err)
	}
	got, err := s.Study(ctx, "old.1")
	if err != nil || got.ID != st.ID {
		t.Fatalf("Study(old.1) = %v, %v", got, err)
	}
	trials, err := s.Trials(ctx, st.ID, 0)
	if err != nil || len(trials) != 1 {
		t.Errorf("renamed study has %d trials (%v), want 1", len(trials), err)
	}
}

func testDelete(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.Open(t)
	gone := newStudy(t, s, "gone")
	kept := newStudy(t, s, "kept")
	tr := newTrial(t, s, gone.ID, "grid:0")
	tr.State, tr.Value, tr.Finished = optimize.Complete, 1, now()
	tr.Metrics = map[string]float64{"acc": 1}
	tr.Intermediate = []experiments.Intermediate{{Step: 1, Metrics: map[string]float64{"acc": 0.5}}}
	if err := s.FinishTrial(ctx, tr); err != nil {
		t.Fatal(err)
	}
	newTrial(t, s, gone.ID, "")
	newTrial(t, s, kept.ID, "grid:0")
	if err := s.DeleteStudy(ctx, "missing"); !errors.Is(err, experiments.ErrNotFound) {
		t.Errorf("delete of a missing study = %v, want ErrNotFound", err)
	}
	if err := s.DeleteStudy(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Study(ctx, "gone"); !errors.Is(err, experiments.ErrNotFound) {
		t.Errorf("deleted study still resolves: %v", err)
	}
	if trials, err := s.Trials(ctx, gone.ID, 0); len(trials) != 0 || (err != nil && !errors.Is(err, experiments.ErrNotFound)) {
		t.Errorf("deleted study's trials = %d, %v; want none", len(trials), err)
	}
	if err := s.DeleteStudy(ctx, "gone"); !errors.Is(err, experiments.ErrNotFound) {
		t.Errorf("second delete = %v, want ErrNotFound", err)
	}
	if trials, err := s.Trials(ctx, kept.ID, 0); err != nil || len(trials) != 1 {
		t.Errorf("the other study has %d trials (%v), want 1", len(trials), err)
	}
	// The name is free again, with fresh numbers and claims.
	again := newStudy(t, s, "gone")
	if again.ID == gone.ID {
		t.Errorf("new study reuses the deleted one's ID %d", gone.ID)
	}
	if u := newTrial(t, s, again.ID, "grid:0"); u.Number != 0 {
		t.Errorf("new study's first trial is number %d, want 0", u.Number)
	}
	all, err := s.Studies(ctx)
	if err != nil || len(all) != 2 {
		t.Errorf("Studies = %v, %v; want gone and kept", all, err)
	}
}

func testQueue(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.Open(t)
	st := newStudy(t, s, "q")
	other := newStudy(t, s, "other")
	points := []experiments.Queued{
		{Key: "config:a", Params: optimize.Params{"f": 0.5, "n": int64(3), "s": "adam", "b": true}},
		{Key: "cli:1", Params: optimize.Params{"f": 1e-300, "n": int64(-7), "s": "ünï", "b": false}},
	}
	for i := range points {
		added, err := s.Enqueue(ctx, st.ID, &points[i])
		if err != nil || !added || points[i].ID == 0 || points[i].Added.IsZero() {
			t.Fatalf("Enqueue %d = %v, %v (ID %d)", i, added, err, points[i].ID)
		}
	}
	if added, err := s.Enqueue(ctx, st.ID, &experiments.Queued{Key: "config:a", Params: optimize.Params{"f": 9.0}}); err != nil || added {
		t.Errorf("a second point with a taken key: added %v, %v", added, err)
	}
	if added, err := s.Enqueue(ctx, other.ID, &experiments.Queued{Key: "config:a", Params: optimize.Params{"f": 9.0}}); err != nil || !added {
		t.Errorf("the same key in another study: added %v, %v", added, err)
	}
	got, err := s.Queue(ctx, st.ID)
	if err != nil || len(got) != 2 {
		t.Fatalf("Queue = %v, %v", got, err)
	}
	for i := range got {
		if got[i].ID != points[i].ID || got[i].Key != points[i].Key || !got[i].Params.Equal(points[i].Params) || !got[i].Added.Equal(points[i].Added) {
			t.Errorf("queued point %d = %+v, want %+v", i, got[i], points[i])
		}
	}
	if err := s.DeleteStudy(ctx, "q"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Queue(ctx, st.ID); err != nil || len(got) != 0 {
		t.Errorf("a deleted study's queue = %v, %v", got, err)
	}
	if got, err := s.Queue(ctx, other.ID); err != nil || len(got) != 1 {
		t.Errorf("the other study's queue = %v, %v", got, err)
	}
}

func testTrialRoundTrip(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.Open(t)
	st := newStudy(t, s, "s")
	want := &experiments.Trial{
		StudyID: st.ID, Claim: "grid:3", State: optimize.Running, Attempt: 2, RetryOf: 7,
		Params:  optimize.Params{"f": 2.0, "n": int64(-3), "s": "adam", "b": false, "tiny": 1e-300},
		Started: now(), Heartbeat: now().Add(time.Second), Owner: "node-1:4242", Value: math.NaN(),
	}
	if err := s.CreateTrial(ctx, want); err != nil {
		t.Fatal(err)
	}
	if want.ID == 0 || want.Number != 0 {
		t.Errorf("CreateTrial set ID %d, Number %d", want.ID, want.Number)
	}
	got, err := s.Trials(ctx, st.ID, 0)
	if err != nil || len(got) != 1 {
		t.Fatalf("Trials = %v, %v", got, err)
	}
	compareTrial(t, &got[0], want)
}

func compareTrial(t *testing.T, got, want *experiments.Trial) {
	t.Helper()
	if !got.Params.Equal(want.Params) {
		t.Errorf("Params = %#v, want %#v", got.Params, want.Params)
	}
	if math.IsNaN(want.Value) != math.IsNaN(got.Value) || (!math.IsNaN(want.Value) && got.Value != want.Value) {
		t.Errorf("Value = %v, want %v", got.Value, want.Value)
	}
	g, w := *got, *want
	g.Params, w.Params, g.Value, w.Value = nil, nil, 0, 0
	if len(g.Intermediate) == 0 && len(w.Intermediate) == 0 {
		g.Intermediate, w.Intermediate = nil, nil
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("trial = %+v\nwant %+v", g, w)
	}
}

func testNumbering(t *testing.T, b Backend) {
	s := b.Open(t)
	a := newStudy(t, s, "a")
	c := newStudy(t, s, "c")
	for i := range 3 {
		if tr := newTrial(t, s, a.ID, ""); tr.Number != i {
			t.Errorf("study a: trial %d got number %d", i, tr.Number)
		}
	}
	if tr := newTrial(t, s, c.ID, ""); tr.Number != 0 {
		t.Errorf("first trial of study c got number %d", tr.Number)
	}
	tr := &experiments.Trial{StudyID: 9999, State: optimize.Running, Started: now(), Heartbeat: now(), RetryOf: -1}
	if err := s.CreateTrial(context.Background(), tr); err == nil {
		t.Error("CreateTrial in a missing study succeeded")
	}
}

func testClaims(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.Open(t)
	a := newStudy(t, s, "a")
	c := newStudy(t, s, "c")
	newTrial(t, s, a.ID, "grid:0")
	dup := &experiments.Trial{StudyID: a.ID, Claim: "grid:0", State: optimize.Running, Started: now(), Heartbeat: now(), RetryOf: -1}
	if err := s.CreateTrial(ctx, dup); !errors.Is(err, experiments.ErrClaimed) {
		t.Fatalf("second trial with a claim = %v, want ErrClaimed", err)
	}
	if tr := newTrial(t, s, a.ID, "grid:1"); tr.Number != 1 {
		t.Errorf("a refused claim used a number: next trial is %d, want 1", tr.Number)
	}
	newTrial(t, s, c.ID, "grid:0") // claims are per study
	newTrial(t, s, a.ID, "")
	newTrial(t, s, a.ID, "") // empty claims never conflict
}

// testCap: a trial with a Cap is refused (ErrStudyFull, no number used)
// once the study holds Cap trials complete or running; failed trials do
// not count, so a retry fits again; concurrent creators never exceed it.
func testCap(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.Open(t)
	a := newStudy(t, s, "a")
	capped := func(claim string) (*experiments.Trial, error) {
		tr := &experiments.Trial{StudyID: a.ID, Claim: claim, Cap: 2, State: optimize.Running, Attempt: 1, RetryOf: -1,
			Params: optimize.Params{"x": 1.5}, Started: now(), Heartbeat: now(), Owner: "host:1", Value: math.NaN()}
		return tr, s.CreateTrial(ctx, tr)
	}
	first, err := capped("")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := capped(""); err != nil {
		t.Fatal(err)
	}
	if _, err := capped("grid:9"); !errors.Is(err, experiments.ErrStudyFull) {
		t.Fatalf("a third trial with Cap 2 = %v, want ErrStudyFull", err)
	}
	first.State, first.Finished, first.Error, first.Reason = optimize.Failed, now(), "boom", experiments.ReasonError
	if err := s.FinishTrial(ctx, first); err != nil {
		t.Fatal(err)
	}
	retry, err := capped("retry:0") // the failed trial freed its place
	if err != nil || retry.Number != 2 {
		t.Fatalf("a retry after a failure: number %d, %v (the refused trial must not use a number)", retry.Number, err)
	}
	if _, err := capped("grid:9"); !errors.Is(err, experiments.ErrStudyFull) {
		t.Errorf("full again: %v", err)
	}
	// A lost trial frees its place too; a complete one does not.
	if err := s.ExpireTrial(ctx, retry.ID, retry.Heartbeat, now(), "lost"); err != nil {
		t.Fatal(err)
	}
	again, err := capped("retry:2")
	if err != nil || again.Number != 3 {
		t.Fatalf("a retry after an expiry: number %d, %v", again.Number, err)
	}
	again.State, again.Finished, again.Value, again.Metrics = optimize.Complete, now(), 1, map[string]float64{"acc": 1}
	if err := s.FinishTrial(ctx, again); err != nil {
		t.Fatal(err)
	}
	if _, err := capped("grid:9"); !errors.Is(err, experiments.ErrStudyFull) {
		t.Errorf("full with two trials complete or running: %v", err)
	}
	newTrial(t, s, a.ID, "") // no Cap, no limit
	// Concurrent creators with Cap 5 in a fresh study: exactly 5 succeed.
	c := newStudy(t, s, "c")
	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tr := &experiments.Trial{StudyID: c.ID, Cap: 5, State: optimize.Running, Attempt: 1, RetryOf: -1,
				Params: optimize.Params{}, Started: now(), Heartbeat: now(), Owner: "host:1", Value: math.NaN()}
			if err := s.CreateTrial(ctx, tr); err == nil {
				mu.Lock()
				ok++
				mu.Unlock()
			} else if !errors.Is(err, experiments.ErrStudyFull) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok != 5 {
		t.Errorf("%d of 12 concurrent trials with Cap 5 were created", ok)
	}
}

func testHeartbeat(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.Open(t)
	st := newStudy(t, s, "s")
	t1 := newTrial(t, s, st.ID, "")
	t2 := newTrial(t, s, st.ID, "")
	t2.State, t2.Finished, t2.Metrics, t2.Value = optimize.Complete, now(), map[string]float64{"acc": 1}, 1
	if err := s.FinishTrial(ctx, t2); err != nil {
		t.Fatal(err)
	}
	at := now().Add(time.Minute)
	if err := s.Heartbeat(ctx, at, t1.ID, t2.ID); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Trials(ctx, st.ID, 0)
	if !got[0].Heartbeat.Equal(at) {
		t.Errorf("running trial heartbeat = %v, want %v", got[0].Heartbeat, at)
	}
	if got[1].Heartbeat.Equal(at) {
		t.Error("Heartbeat changed a finished trial")
	}
	if err := s.Heartbeat(ctx, at); err != nil {
		t.Errorf("Heartbeat with no trials: %v", err)
	}
}

func testFinish(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.Open(t)
	st := newStudy(t, s, "s")
	tr := newTrial(t, s, st.ID, "")
	tr.State = optimize.Complete
	tr.Metrics = map[string]float64{"acc": 0.75, "loss": 1e-9}
	tr.Value = 0.75
	tr.Intermediate = []experiments.Intermediate{{Step: 1, Metrics: map[string]float64{"acc": 0.5}}, {Step: 2, Metrics: map[string]float64{"acc": 0.7, "loss": 2}}}
	tr.Finished = now().Add(3 * time.Second)
	tr.LogPath = ".olc/runs/s/0"
	if err := s.FinishTrial(ctx, tr); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Trials(ctx, st.ID, 0)
	compareTrial(t, &got[0], tr)
	tr.State = optimize.Failed
	if err := s.FinishTrial(ctx, tr); !errors.Is(err, experiments.ErrNotRunning) {
		t.Errorf("second FinishTrial = %v, want ErrNotRunning", err)
	}
	f := newTrial(t, s, st.ID, "")
	f.State, f.Error, f.Reason, f.Finished = optimize.Failed, "exit status 3\nboom", experiments.ReasonError, now()
	if err := s.FinishTrial(ctx, f); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Trials(ctx, st.ID, 1)
	compareTrial(t, &got[0], f)
}

func testExpire(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.Open(t)
	st := newStudy(t, s, "s")
	tr := newTrial(t, s, st.ID, "")
	at := now()
	if err := s.ExpireTrial(ctx, tr.ID, tr.Heartbeat.Add(-time.Second), at, "lost"); !errors.Is(err, experiments.ErrNotRunning) {
		t.Errorf("ExpireTrial with an old heartbeat = %v, want ErrNotRunning", err)
	}
	if err := s.ExpireTrial(ctx, tr.ID, tr.Heartbeat, at, "process 1 on host died"); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Trials(ctx, st.ID, 0)
	if got[0].State != optimize.Failed || got[0].Reason != experiments.ReasonLost || got[0].Error != "process 1 on host died" || !got[0].Finished.Equal(at) {
		t.Errorf("expired trial = %+v", got[0])
	}
	if err := s.ExpireTrial(ctx, tr.ID, tr.Heartbeat, at, "again"); !errors.Is(err, experiments.ErrNotRunning) {
		t.Errorf("ExpireTrial of a failed trial = %v, want ErrNotRunning", err)
	}
	tr.State, tr.Finished = optimize.Complete, now()
	if err := s.FinishTrial(ctx, tr); !errors.Is(err, experiments.ErrNotRunning) {
		t.Errorf("FinishTrial of an expired trial = %v, want ErrNotRunning", err)
	}
}

func testTrialsFrom(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.Open(t)
	st := newStudy(t, s, "s")
	for range 5 {
		newTrial(t, s, st.ID, "")
	}
	got, err := s.Trials(ctx, st.ID, 3)
	if err != nil || len(got) != 2 || got[0].Number != 3 || got[1].Number != 4 {
		t.Errorf("Trials(from 3) = %v, %v", got, err)
	}
	got, err = s.Trials(ctx, st.ID, 10)
	if err != nil || len(got) != 0 {
		t.Errorf("Trials(from 10) = %v, %v", got, err)
	}
}

// testConcurrentCreate creates trials from many goroutines, half of them
// racing for the same claims: numbers must stay 0..n-1 without gaps or
// duplicates, and each claim must be won exactly once.
func testConcurrentCreate(t *testing.T, b Backend) {
	s := b.Open(t)
	st := newStudy(t, s, "s")
	concurrentCreate(t, []experiments.Store{s}, st.ID)
}

func testSecondHandle(t *testing.T, b Backend) {
	if b.Reopen == nil {
		t.Skip("the backend has no second handle: its data lives in one process")
	}
	ctx := context.Background()
	s := b.Open(t)
	st := newStudy(t, s, "s")
	s2 := b.Reopen(t, s)
	got, err := s2.Study(ctx, "s")
	if err != nil || got.ID != st.ID {
		t.Fatalf("second handle: Study = %v, %v", got, err)
	}
	concurrentCreate(t, []experiments.Store{s, s2}, st.ID)
}

func concurrentCreate(t *testing.T, stores []experiments.Store, studyID int64) {
	ctx := context.Background()
	const workers, each = 8, 25
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := map[string]int{}
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := stores[w%len(stores)]
			for i := range each {
				claim := ""
				if i%2 == 0 {
					claim = fmt.Sprintf("c%d", i)
				}
				tr := &experiments.Trial{StudyID: studyID, Claim: claim, State: optimize.Running, Attempt: 1, RetryOf: -1, Started: now(), Heartbeat: now(), Value: math.NaN()}
				err := s.CreateTrial(ctx, tr)
				if errors.Is(err, experiments.ErrClaimed) {
					continue
				}
				if err != nil {
					errs <- err
					return
				}
				if claim != "" {
					mu.Lock()
					won[claim]++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	trials, err := stores[0].Trials(ctx, studyID, 0)
	if err != nil {
		t.Fatal(err)
	}
	for i, tr := range trials {
		if tr.Number != i {
			t.Fatalf("trial %d has number %d", i, tr.Number)
		}
	}
	wantClaims := (each + 1) / 2
	if want := workers*(each/2) + wantClaims; len(trials) != want {
		t.Errorf("%d trials, want %d", len(trials), want)
	}
	if len(won) != wantClaims {
		t.Errorf("%d claims won, want %d", len(won), wantClaims)
	}
	for c, n := range won {
		if n != 1 {
			t.Errorf("claim %s won %d times", c, n)
		}
	}
}

// testTrialsSince: a SelectiveStore returns the trials from a number on
// and those asked for, in order, as Trials returns them.
func testTrialsSince(t *testing.T, b Backend) {
	ctx := context.Background()
	s := b.Open(t)
	sel, ok := s.(experiments.SelectiveStore)
	if !ok {
		t.Skipf("%T does not implement experiments.SelectiveStore", s)
	}
	st := newStudy(t, s, "s")
	for i := range 6 {
		tr := newTrial(t, s, st.ID, "")
		if i%2 == 1 {
			tr.State, tr.Finished, tr.Value, tr.Metrics = optimize.Complete, now(), float64(i), map[string]float64{"acc": float64(i)}
			tr.Intermediate = []experiments.Intermediate{{Step: 1, Metrics: map[string]float64{"acc": 0.5}}, {Step: 2, Metrics: map[string]float64{"acc": 0.7}}}
			if err := s.FinishTrial(ctx, tr); err != nil {
				t.Fatal(err)
			}
		}
	}
	all, err := s.Trials(ctx, st.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		from int
		also []int
		want []int
	}{
		{4, []int{1, 2}, []int{1, 2, 4, 5}},
		{6, []int{3}, []int{3}},
		{0, nil, []int{0, 1, 2, 3, 4, 5}},
		{6, nil, nil},
		{5, []int{5, 9}, []int{5}},
	} {
		got, err := sel.TrialsSince(ctx, st.ID, c.from, c.also)
		if err != nil {
			t.Fatal(err)
		}
		var nums []int
		for i, g := range got {
			nums = append(nums, g.Number)
			if want := all[g.Number]; !reflect.DeepEqual(g.Intermediate, want.Intermediate) || g.State != want.State || g.ID != want.ID {
				t.Errorf("TrialsSince(%d, %v)[%d] = %+v, want %+v", c.from, c.also, i, g, want)
			}
		}
		if !reflect.DeepEqual(nums, c.want) {
			t.Errorf("TrialsSince(%d, %v) gives trials %v, want %v", c.from, c.also, nums, c.want)
		}
	}
}
