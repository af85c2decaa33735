package sqlitestore_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/experiments/sqlitestore"
	"github.com/olc-toolkit/olc/optimize"
)

// benchRunner runs b.N trials of the builtin sphere, a near no-op, through
// the full runner with parallel workers, and reports trials per second:
// the store's overhead per trial (create, finish, heartbeat).
func benchRunner(b *testing.B, store experiments.Store, parallel int) {
	ctx := context.Background()
	space, _ := optimize.NewSpace(
		optimize.Param{Name: "x1", Kind: optimize.Float, Low: -5, High: 5},
		optimize.Param{Name: "x2", Kind: optimize.Float, Low: -5, High: 5},
	)
	st := &experiments.Study{Name: "bench", Direction: optimize.Minimize, Metric: "value", Sampler: "random", Created: time.Now()}
	if err := store.CreateStudy(ctx, st); err != nil {
		b.Fatal(err)
	}
	obj, err := experiments.NewBuiltin("sphere", space)
	if err != nil {
		b.Fatal(err)
	}
	sampler, _ := optimize.NewRandom(space, 1, false)
	r := &experiments.Runner{Store: store, Study: st, Space: space, Sampler: sampler, Objective: obj, Trials: b.N, Parallel: parallel}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	sum, err := r.Run(ctx)
	elapsed := time.Since(start)
	if err != nil || sum.Complete != b.N {
		b.Fatalf("run: %v, %+v", err, sum)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "trials/s")
}

func BenchmarkRunnerSQLiteParallel4(b *testing.B) {
	s, err := sqlitestore.Open(context.Background(), filepath.Join(b.TempDir(), "olc.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	benchRunner(b, s, 4)
}

func BenchmarkRunnerSQLiteParallel1(b *testing.B) {
	s, err := sqlitestore.Open(context.Background(), filepath.Join(b.TempDir(), "olc.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	benchRunner(b, s, 1)
}

// BenchmarkRunnerMemoryParallel4 is the same run without a database: the
// ratio to the SQLite benchmark is the store's share of the cost.
func BenchmarkRunnerMemoryParallel4(b *testing.B) {
	benchRunner(b, experiments.NewMemoryStore(), 4)
}
