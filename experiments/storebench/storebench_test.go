package storebench_test

import (
	"context"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/experiments/sqlitestore"
	"github.com/olc-toolkit/olc/experiments/storebench"
	"github.com/olc-toolkit/olc/optimize"
)

func TestMerge(t *testing.T) {
	reps := []*storebench.Report{
		{Started: 2, Complete: 2, Seconds: 1, Calls: map[string][]float64{"create_trial": {1, 3}}, Errors: []string{"create_trial: boom"}, Retries: 1, Collisions: 2},
		{Started: 1, Complete: 1, Seconds: 2, Calls: map[string][]float64{"create_trial": {2}, "trials": {5}}},
	}
	t0 := time.Unix(100, 0)
	trials := []experiments.Trial{
		{Number: 0, State: optimize.Complete, Started: t0, Finished: t0.Add(time.Second)},
		{Number: 1, State: optimize.Complete, Started: t0.Add(time.Second), Finished: t0.Add(2 * time.Second)},
		{Number: 1, State: optimize.Complete, Started: t0.Add(time.Second), Finished: t0.Add(1500 * time.Millisecond)},
	}
	r := storebench.Merge("x", 2, reps, trials)
	if r.Workers != 2 || r.Seconds != 2 || r.Complete != 3 || r.TrialsPerSec != 1.5 || r.Errors != 1 || r.FirstError != "create_trial: boom" || r.Retries != 1 || r.Collisions != 2 {
		t.Errorf("Merge = %+v", r)
	}
	// Trial 1 twice, and one complete trial beyond the target of 2.
	if r.Duplicates != 2 {
		t.Errorf("Duplicates = %d, want 2", r.Duplicates)
	}
	if len(r.Latencies) != 2 || r.Latencies[0].Op != "create_trial" || r.Latencies[0].Calls != 3 || r.Latencies[0].P50 != 2 || math.Abs(r.Latencies[0].PerTrial-1) > 1e-12 {
		t.Errorf("Latencies = %+v", r.Latencies)
	}
}

// Two workers in one process on one SQLite study reach its target
// exactly, and every call is timed.
func TestWork(t *testing.T) {
	ctx := context.Background()
	st, err := sqlitestore.Open(ctx, filepath.Join(t.TempDir(), "olc.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	study := storebench.NewStudy("bench")
	if err := st.CreateStudy(ctx, study); err != nil {
		t.Fatal(err)
	}
	rep, err := storebench.Work(ctx, st, study, 50, 1, time.Now(), nil)
	if err != nil {
		t.Fatal(err)
	}
	trials, _ := st.Trials(ctx, study.ID, 0)
	res := storebench.Merge("sqlite", 50, []*storebench.Report{rep}, trials)
	if res.Complete != 50 || res.Duplicates != 0 || res.Errors != 0 || rep.Complete != 50 || len(rep.Calls["create_trial"]) != 50 || len(rep.Calls["finish_trial"]) != 50 {
		t.Errorf("result %+v, report complete %d, calls %d/%d", res, rep.Complete, len(rep.Calls["create_trial"]), len(rep.Calls["finish_trial"]))
	}
}
