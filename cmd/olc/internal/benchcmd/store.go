package benchcmd

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/spf13/cobra"

	"github.com/olc-toolkit/olc/cmd/olc/internal/cmdutil"
	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/experiments/pgstore"
	"github.com/olc-toolkit/olc/experiments/storebench"
)

// StoreOptions are the options of 'olc bench store'.
type StoreOptions struct {
	IO            *cmdutil.IOStreams
	Postgres      string
	Workers       []int
	SQLiteWorkers []int
	workers       string
	sqliteWorkers string
	Trials        int
	JSON          bool
}

func newCmdStore(ios *cmdutil.IOStreams, runF func(context.Context, *StoreOptions) error) *cobra.Command {
	o := &StoreOptions{IO: ios}
	cmd := &cobra.Command{
		Use:   "store [--postgres URL]",
		Short: "Trials per second through the experiment store, from 1 to 16 worker processes",
		Long: `Start N olc worker processes at once on one new study and let them run
--trials trials between them, each with the real runner (random search
over one parameter) and an objective that returns at once, so that what is
measured is the store: trial creation, the reads that keep each worker's
view of the study current, heartbeats and finishes. Reported for each
backend and number of workers: trials per second (complete trials over the
time from the common start to the last worker's end), p50 and p99 of each
store call and its calls per trial, collisions (creations refused because
another worker had just taken the proposal: answers, not errors, but each
costs a round trip), the errors that reached a worker, the store's
retries, the deadlocks the database counted, and duplicate or missing
trial numbers (which must be 0).

PostgreSQL runs in a schema of its own in the database --postgres names
(created and dropped again: the user needs CREATE on the database); SQLite
in a new file.`,
		Example: `  olc bench store --postgres postgres://olc@127.0.0.1:5432/olc
  olc bench store --workers 16 --sqlite-workers 1 --trials 2000 --json`,
		Args: cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.Trials < 1 {
				return cmdutil.Usagef("--trials must be positive, not %d", o.Trials)
			}
			var err error
			if o.Workers, err = workerCounts("--workers", o.workers); err != nil {
				return err
			}
			if o.SQLiteWorkers, err = workerCounts("--sqlite-workers", o.sqliteWorkers); err != nil {
				return err
			}
			if o.Postgres == "" {
				if env := os.Getenv(cmdutil.StoreEnv); pgstore.IsURL(env) {
					o.Postgres = env
				}
			}
			if o.Postgres != "" && !pgstore.IsURL(o.Postgres) {
				return cmdutil.Usagef("--postgres: %q is not a postgres:// URL", o.Postgres)
			}
			if runF != nil {
				return runF(cmd.Context(), o)
			}
			return runStore(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Postgres, "postgres", "", "a PostgreSQL database to measure in (default $OLC_STORE when it is a postgres:// URL; without one, PostgreSQL is left out)")
	f.StringVar(&o.workers, "workers", "1,4,16", "numbers of worker processes on PostgreSQL (\"\": none)")
	f.StringVar(&o.sqliteWorkers, "sqlite-workers", "1,4", "numbers of worker processes on SQLite (\"\": none)")
	f.IntVar(&o.Trials, "trials", 1000, "trials per run, shared by its workers")
	cmdutil.AddJSONFlag(cmd, &o.JSON)
	return cmd
}

// workerCounts parses a list of worker counts such as "1,4,16"; the
// empty list is allowed.
func workerCounts(flag, s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > 256 {
			return nil, cmdutil.Usagef("%s: %q is not a number of workers from 1 to 256", flag, f)
		}
		out = append(out, n)
	}
	return out, nil
}

func runStore(ctx context.Context, o *StoreOptions) error {
	var results []storebench.Result
	dir, err := os.MkdirTemp("", "olc-bench-store-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	for _, n := range o.SQLiteWorkers {
		fmt.Fprintf(o.IO.ErrOut, "olc bench store: SQLite, %d workers\n", n)
		path := filepath.Join(dir, fmt.Sprintf("sqlite-%d.db", n))
		r, err := benchStore(ctx, "sqlite", path, n, o.Trials)
		if err != nil {
			return fmt.Errorf("SQLite, %d workers: %w", n, err)
		}
		results = append(results, r)
	}
	if o.Postgres != "" {
		for _, n := range o.Workers {
			fmt.Fprintf(o.IO.ErrOut, "olc bench store: PostgreSQL, %d workers\n", n)
			r, err := benchPostgres(ctx, o.Postgres, n, o.Trials)
			if err != nil {
				return fmt.Errorf("PostgreSQL, %d workers: %w", n, err)
			}
			results = append(results, r)
		}
	}
	if o.JSON {
		return cmdutil.PrintJSON(o.IO.Out, map[string]any{"results": results, "trials": o.Trials, "kernels": kernels()})
	}
	fmt.Fprintln(o.IO.Out, kernels())
	tw := tabwriter.NewWriter(o.IO.Out, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "backend\tworkers\ttrials\ttrials/s\tcreate p50/p99 ms\tfinish p50/p99 ms\tread p50/p99 ms\treads/trial\tcollisions\terrors\tretries\tdeadlocks\tduplicates\t")
	for _, r := range results {
		lat := map[string]storebench.Latency{}
		for _, l := range r.Latencies {
			lat[l.Op] = l
		}
		dl := "-"
		if r.Deadlocks >= 0 {
			dl = strconv.FormatInt(r.Deadlocks, 10)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.0f\t%.2f / %.2f\t%.2f / %.2f\t%.2f / %.2f\t%.1f\t%d\t%d\t%d\t%s\t%d\t\n", r.Backend, r.Workers, r.Complete, r.TrialsPerSec,
			lat["create_trial"].P50, lat["create_trial"].P99, lat["finish_trial"].P50, lat["finish_trial"].P99,
			lat["trials"].P50, lat["trials"].P99, lat["trials"].PerTrial, r.Collisions, r.Errors, r.Retries, dl, r.Duplicates)
	}
	tw.Flush()
	if o.Postgres == "" {
		fmt.Fprintln(o.IO.Out, "PostgreSQL left out: give --postgres URL (scripts/test-postgres.sh start gives a throwaway server)")
	}
	for _, r := range results {
		if r.FirstError != "" {
			fmt.Fprintf(o.IO.Out, "%s, %d workers: first error: %s\n", r.Backend, r.Workers, r.FirstError)
		}
	}
	return nil
}

// benchPostgres runs one measurement in a new schema of the database.
func benchPostgres(ctx context.Context, base string, workers, trials int) (storebench.Result, error) {
	b := make([]byte, 4)
	rand.Read(b)
	schema := "olc_bench_" + hex.EncodeToString(b)
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		return storebench.Result{}, fmt.Errorf("connect to %s: %w", pgstore.Redact(base), err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		return storebench.Result{}, fmt.Errorf("create schema: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `DROP SCHEMA `+schema+` CASCADE`)
	u, err := url.Parse(base)
	if err != nil {
		return storebench.Result{}, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	deadlocks := func() int64 {
		var n int64
		conn.Exec(ctx, `SELECT pg_stat_clear_snapshot()`)
		conn.QueryRow(ctx, `SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()`).Scan(&n)
		return n
	}
	before := deadlocks()
	res, err := benchStore(ctx, "postgres", u.String(), workers, trials)
	if err != nil {
		return res, err
	}
	time.Sleep(600 * time.Millisecond) // the workers' statistics reach the shared counters
	res.Deadlocks = deadlocks() - before
	return res, nil
}

// benchStore creates the study, runs the workers as child processes from
// one common start, and merges their reports.
func benchStore(ctx context.Context, backend, store string, workers, trials int) (storebench.Result, error) {
	st, err := cmdutil.OpenStore(ctx, store, nil)
	if err != nil {
		return storebench.Result{}, err
	}
	defer st.Close()
	study := storebench.NewStudy("bench")
	if err := st.CreateStudy(ctx, study); err != nil {
		return storebench.Result{}, err
	}
	exe, err := os.Executable()
	if err != nil {
		return storebench.Result{}, err
	}
	// Every worker starts at the same moment, once all have connected.
	start := time.Now().Add(time.Duration(workers)*100*time.Millisecond + 500*time.Millisecond)
	reps := make([]*storebench.Report, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.CommandContext(ctx, exe, "bench", "store-worker", "--store", store, "--study", study.Name,
				"--target", strconv.Itoa(trials), "--seed", strconv.Itoa(i+1), "--start", strconv.FormatInt(start.UnixNano(), 10))
			var out, errOut bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errOut
			if err := cmd.Run(); err != nil {
				errs[i] = fmt.Errorf("worker %d: %w: %s", i, err, errOut.String())
				return
			}
			var rep storebench.Report
			if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
				errs[i] = fmt.Errorf("worker %d: %w", i, err)
				return
			}
			reps[i] = &rep
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return storebench.Result{}, err
		}
	}
	all, err := st.Trials(ctx, study.ID, 0)
	if err != nil {
		return storebench.Result{}, err
	}
	return storebench.Merge(backend, trials, reps, all), nil
}

// newCmdStoreWorker returns the hidden 'olc bench store-worker', one
// worker of 'olc bench store', which prints its report as JSON.
func newCmdStoreWorker(ios *cmdutil.IOStreams) *cobra.Command {
	var store, study string
	var target int
	var seed uint64
	var start int64
	cmd := &cobra.Command{
		Use:    "store-worker",
		Short:  "One worker of 'olc bench store'",
		Hidden: true,
		Args:   cmdutil.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			var retries int
			var mu sync.Mutex
			var st experiments.Store
			var err error
			if pgstore.IsURL(store) {
				st, err = pgstore.Open(ctx, store, pgstore.Options{OnRetry: func(string, int, error, time.Duration) {
					mu.Lock()
					retries++
					mu.Unlock()
				}})
			} else {
				st, err = cmdutil.OpenStore(ctx, store, nil)
			}
			if err != nil {
				return err
			}
			defer st.Close()
			s, err := st.Study(ctx, study)
			if err != nil {
				return err
			}
			rep, err := storebench.Work(ctx, st, s, target, seed, time.Unix(0, start), func() int {
				mu.Lock()
				defer mu.Unlock()
				return retries
			})
			if err != nil {
				return err
			}
			return json.NewEncoder(ios.Out).Encode(rep)
		},
	}
	f := cmd.Flags()
	cmdutil.AddStoreFlag(cmd, &store)
	f.StringVar(&study, "study", "", "the study")
	f.IntVar(&target, "target", 0, "the study's target")
	f.Uint64Var(&seed, "seed", 1, "the sampler's seed")
	f.Int64Var(&start, "start", 0, "when to start, in Unix nanoseconds")
	return cmd
}
