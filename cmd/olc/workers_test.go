package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/olc-toolkit/olc/experiments/pgstore/pgtest"
)

// storeBackends are the stores workers share: a SQLite file on this
// machine (the default store) and a PostgreSQL database, given to the
// workers through OLC_STORE as a Kubernetes Job or a Slurm array would.
var storeBackends = []struct {
	name string
	// store returns the store's --store value, or "" for the default.
	store func(t *testing.T) string
}{
	{"sqlite", func(*testing.T) string { return "" }},
	{"postgres", func(t *testing.T) string { return pgtest.URL(t) }},
}

// worker is an olc process (the built binary) started in the background.
type worker struct {
	cmd         *exec.Cmd
	out, errOut bytes.Buffer
	done        chan struct{}
	code        int
}

// startWorker starts olc with args in dir, with OLC_STORE=store when store
// is not empty and the extra environment env, in a process group of its
// own (so that killing it kills its objective too, as when a machine dies).
func startWorker(t *testing.T, dir, store string, env []string, args ...string) *worker {
	t.Helper()
	if store != "" {
		env = append(env, "OLC_STORE="+store)
	}
	return startCmd(t, dir, env, olc, args...)
}

// startCmd starts a program in dir with the extra environment env, in a
// process group of its own, and kills the group when the test ends.
func startCmd(t *testing.T, dir string, env []string, name string, args ...string) *worker {
	t.Helper()
	w := &worker{cmd: exec.Command(name, args...), done: make(chan struct{})}
	w.cmd.Dir = dir
	w.cmd.Env = append(os.Environ(), env...)
	w.cmd.Stdout, w.cmd.Stderr = &w.out, &w.errOut
	w.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		w.cmd.Wait()
		w.code = w.cmd.ProcessState.ExitCode()
		close(w.done)
	}()
	t.Cleanup(func() {
		syscall.Kill(-w.cmd.Process.Pid, syscall.SIGKILL)
		<-w.done
	})
	return w
}

// wait waits for the worker to end, failing the test after a while.
func (w *worker) wait(t *testing.T) {
	t.Helper()
	select {
	case <-w.done:
	case <-time.After(3 * time.Minute):
		t.Fatalf("worker %v did not end\n%s%s", w.cmd.Args, w.out.String(), w.errOut.String())
	}
}

// storeArgs returns the --store flag for in-process commands.
func storeArgs(store string) []string {
	if store == "" {
		return nil
	}
	return []string{"--store", store}
}

// exportStudy exports the study "cmd" (or name) of a store.
func exportStudy(t *testing.T, dir, store, name string) exported {
	t.Helper()
	r := runOLC(t, dir, append([]string{"optimize", "export", "--study", name}, storeArgs(store)...)...)
	var e exported
	if err := json.Unmarshal([]byte(r.stdout), &e); err != nil {
		t.Fatalf("export: %v\n%s", err, r.stderr)
	}
	return e
}

// TestWorkersShareAStudy: four olc processes start at once on one study
// in one store, as the workers of a Slurm array or a Kubernetes Job
// would: the study is created once; the grid's points each complete
// exactly once with trial numbers 0..n-1 and no gaps; a Bayesian study
// proposes no point twice and stops at its target exactly; every worker
// reports the whole study, and nothing is left running.
func TestWorkersShareAStudy(t *testing.T) {
	for _, b := range storeBackends {
		for _, c := range []struct {
			sampler, params string
			target          int
		}{
			{"grid", "[params.a]\ntype = \"int\"\nlow = 1\nhigh = 16\n", 16},
			{"bayes", "[params.a]\ntype = \"float\"\nlow = 0.0\nhigh = 10.0\n", 12},
		} {
			t.Run(b.name+"/"+c.sampler, func(t *testing.T) {
				store := b.store(t)
				dir := t.TempDir()
				writeFile(t, filepath.Join(dir, "obj.sh"), "#!/bin/sh\nsleep 0.05\necho \"{\\\"loss\\\": $1}\"\n", 0o755)
				writeFile(t, filepath.Join(dir, "s.toml"), fmt.Sprintf(`[study]
name = "cmd"
metric = "loss"
sampler = %q
trials = %d
parallel = 2

%s
[objective]
kind = "command"
command = ["./obj.sh", "{a}"]
`, c.sampler, c.target, c.params), 0o644)
				workers := make([]*worker, 4)
				for i := range workers {
					workers[i] = startWorker(t, dir, store, nil, "optimize", "--config", "s.toml", "--json")
				}
				ran, active := 0, 0
				for i, w := range workers {
					w.wait(t)
					var res struct{ Target, Complete, Failed, Running, Started int }
					err := json.Unmarshal(w.out.Bytes(), &res)
					ran += res.Started
					if res.Started > 0 {
						active++
					}
					if w.code != 0 || err != nil || res.Complete != c.target || res.Failed != 0 || res.Running != 0 || strings.Contains(w.errOut.String(), "locked") {
						t.Errorf("worker %d: exit %d, %v\n%s%s", i, w.code, err, w.out.String(), w.errOut.String())
					}
				}
				if ran != c.target {
					t.Errorf("the workers ran %d trials, want %d", ran, c.target)
				}
				e := exportStudy(t, dir, store, "cmd")
				seen := map[string]bool{}
				for i, tr := range e.Trials {
					if tr.Number != i {
						t.Errorf("trial %d has number %d", i, tr.Number)
					}
					if tr.State != "complete" {
						t.Errorf("trial %d is %s", tr.Number, tr.State)
					}
					k := fmt.Sprint(tr.Params["a"])
					if seen[k] {
						t.Errorf("a=%s ran twice", k)
					}
					seen[k] = true
				}
				if len(e.Trials) != c.target {
					t.Errorf("%d trials for a target of %d", len(e.Trials), c.target)
				}
				// Status names the processes that ran the study's trials.
				r := runOLC(t, dir, append([]string{"optimize", "status", "--study", "cmd", "--json"}, storeArgs(store)...)...)
				var st struct {
					Workers []struct {
						Host             string
						PID              int
						Trials, Complete int
						Running          []int
					}
				}
				if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
					t.Fatalf("%v\n%s", err, r.stderr)
				}
				host, _ := os.Hostname()
				sum, pids := 0, map[int]bool{}
				for _, w := range st.Workers {
					sum += w.Trials
					pids[w.PID] = true
					if w.Host != host || w.PID <= 0 || len(w.Running) != 0 || w.Complete != w.Trials {
						t.Errorf("worker %+v", w)
					}
				}
				if len(st.Workers) != active || len(pids) != active || sum != c.target {
					t.Errorf("status shows %d workers (%d pids) with %d trials, want %d with %d", len(st.Workers), len(pids), sum, active, c.target)
				}
			})
		}
	}
}

// gridStudy writes a grid study "cmd" over a = 1..n whose objective
// sleeps for sleep seconds, or for ten minutes while the file "hang"
// exists when it starts.
func gridStudy(t *testing.T, dir string, n int, sleep string) {
	writeFile(t, filepath.Join(dir, "obj.sh"), fmt.Sprintf("#!/bin/sh\nif [ -e hang ]; then sleep 600; fi\nsleep %s\necho \"{\\\"loss\\\": $1}\"\n", sleep), 0o755)
	writeFile(t, filepath.Join(dir, "s.toml"), fmt.Sprintf(`[study]
name = "cmd"
metric = "loss"
sampler = "grid"
parallel = 1

[params.a]
type = "int"
low = 1
high = %d

[objective]
kind = "command"
command = ["./obj.sh", "{a}"]
`, n), 0o644)
}

// checkGrid checks that each of the n grid points completed exactly once
// and that the trial numbers have no gaps.
func checkGrid(t *testing.T, e exported, n int) {
	t.Helper()
	done := map[string]int{}
	for i, tr := range e.Trials {
		if tr.Number != i {
			t.Errorf("trial %d has number %d", i, tr.Number)
		}
		if tr.State == "complete" {
			done[fmt.Sprint(tr.Params["a"])]++
		}
	}
	for a := 1; a <= n; a++ {
		if k := fmt.Sprint(a); done[k] != 1 {
			t.Errorf("grid point a=%s completed %d times", k, done[k])
		}
	}
}

// TestKilledWorkerIsReplaced: a worker on "machine A" is killed with
// SIGKILL (its objective with it) in the middle of a trial. Workers on
// machines B and C (OLC_HOST tells them apart, so the dead process is
// judged by its heartbeat alone, as across machines) mark the trial failed
// once its heartbeat is older than the staleness window and run it again;
// every grid point completes exactly once and nothing else is lost.
func TestKilledWorkerIsReplaced(t *testing.T) {
	for _, b := range storeBackends {
		t.Run(b.name, func(t *testing.T) {
			store := b.store(t)
			dir := t.TempDir()
			gridStudy(t, dir, 8, "0.05")
			writeFile(t, filepath.Join(dir, "hang"), "", 0o644)
			tune := []string{"--heartbeat", "200ms", "--stale-after", "2s"}
			a := startWorker(t, dir, store, []string{"OLC_HOST=machine-a"}, append([]string{"optimize", "--config", "s.toml"}, tune...)...)
			waitFor(t, "machine A's first trial", func() bool {
				r := runOLC(t, dir, append([]string{"optimize", "status", "--study", "cmd", "--json"}, storeArgs(store)...)...)
				return strings.Contains(r.stdout, `"owner": "machine-a:`)
			})
			killed := time.Now()
			syscall.Kill(-a.cmd.Process.Pid, syscall.SIGKILL)
			a.wait(t)
			os.Remove(filepath.Join(dir, "hang"))
			var ws []*worker
			for _, h := range []string{"machine-b", "machine-c"} {
				ws = append(ws, startWorker(t, dir, store, []string{"OLC_HOST=" + h}, append([]string{"optimize", "--config", "s.toml"}, tune...)...))
			}
			for _, w := range ws {
				w.wait(t)
				if w.code != 0 || !strings.Contains(w.out.String(), "trials: 8 of 8 complete") {
					t.Errorf("worker: exit %d\n%s%s", w.code, w.out.String(), w.errOut.String())
				}
			}
			e := exportStudy(t, dir, store, "cmd")
			checkGrid(t, e, 8)
			lost := e.Trials[0]
			if lost.State != "failed" || lost.Reason != "lost" || !strings.Contains(lost.Error, "no heartbeat from machine-a:") {
				t.Errorf("machine A's trial: %s %s %q", lost.State, lost.Reason, lost.Error)
			}
			// Judged lost only once its silence passed the window.
			if _, age, ok := strings.Cut(lost.Error, " for "); !ok {
				t.Errorf("lost trial's error %q gives no silence", lost.Error)
			} else if d, err := time.ParseDuration(age); err != nil || d < 2*time.Second || d > 20*time.Second {
				t.Errorf("the lost trial was judged after %q of silence, want 2s (the window) to 20s", age)
			}
			if took := time.Since(killed); took > time.Minute {
				t.Errorf("the study ended %v after the kill", took)
			}
			if len(e.Trials) != 9 {
				t.Errorf("%d trials: want the 8 points and the lost one", len(e.Trials))
			}
		})
	}
}

// TestPostgresRestartMidStudy: the PostgreSQL server stops for a few
// seconds while four workers run a study, then starts again; the workers
// wait for it, retrying with backoff, and carry on: every grid point
// completes exactly once, no trial is lost or duplicated, every worker
// ends well.
func TestPostgresRestartMidStudy(t *testing.T) {
	pgtest.CanCtl(t)
	store := pgtest.URL(t)
	dir := t.TempDir()
	const n = 24
	gridStudy(t, dir, n, "0.2")
	var workers []*worker
	for range 4 {
		workers = append(workers, startWorker(t, dir, store, nil, "optimize", "--config", "s.toml"))
	}
	ctx := context.Background()
	waitFor(t, "a third of the study", func() bool {
		conn, err := pgx.Connect(ctx, store)
		if err != nil {
			return false
		}
		defer conn.Close(ctx)
		var done int
		conn.QueryRow(ctx, `SELECT COUNT(*) FROM trials WHERE state = 'complete'`).Scan(&done)
		return done >= n/3
	})
	pgtest.Ctl(t, "stop")
	time.Sleep(3 * time.Second)
	pgtest.Ctl(t, "start")
	retried := false
	for i, w := range workers {
		w.wait(t)
		if w.code != 0 || !strings.Contains(w.out.String(), fmt.Sprintf("trials: %d of %d complete", n, n)) {
			t.Errorf("worker %d: exit %d\n%s%s", i, w.code, w.out.String(), w.errOut.String())
		}
		retried = retried || strings.Contains(w.errOut.String(), "trying again in")
	}
	if !retried {
		t.Error("no worker reported waiting for the server")
	}
	e := exportStudy(t, dir, store, "cmd")
	checkGrid(t, e, n)
	for _, tr := range e.Trials {
		if tr.State != "complete" {
			t.Errorf("trial %d is %s (%s): %s", tr.Number, tr.State, tr.Reason, tr.Error)
		}
	}
}

// TestWorkersShareAnAblation: four olc ablate processes on one ablation
// run every variant × seed pair exactly once between them, and each
// reports the whole study.
func TestWorkersShareAnAblation(t *testing.T) {
	for _, b := range storeBackends {
		t.Run(b.name, func(t *testing.T) {
			store := b.store(t)
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "planted.sh"), plantedScript, 0o755)
			writeFile(t, filepath.Join(dir, "abl.toml"), plantedAblation, 0o644)
			var workers []*worker
			for range 4 {
				workers = append(workers, startWorker(t, dir, store, nil, "ablate", "--config", "abl.toml", "--json"))
			}
			for i, w := range workers {
				w.wait(t)
				var res ablateJSON
				if err := json.Unmarshal(w.out.Bytes(), &res); w.code != 0 || err != nil || res.Complete != 24 || res.Failed != 0 {
					t.Errorf("worker %d: exit %d, %v: %+v\n%s", i, w.code, err, res, w.errOut.String())
				}
			}
			e := exportStudy(t, dir, store, "planted")
			pairs := map[string]int{}
			for i, tr := range e.Trials {
				if tr.Number != i || tr.State != "complete" {
					t.Errorf("trial %d: number %d, %s", i, tr.Number, tr.State)
				}
				pairs[fmt.Sprint(tr.Params["a"], tr.Params["b"], tr.Params["seed"])]++
			}
			if len(e.Trials) != 24 || len(pairs) != 24 {
				t.Errorf("%d trials over %d variant × seed pairs, want 24 and 24", len(e.Trials), len(pairs))
			}
		})
	}
}

// olc bench store: worker processes on each backend complete the trials
// asked for, without duplicates or errors, with every store call timed.
func TestBenchStore(t *testing.T) {
	r := runBinary(t, t.TempDir(), "bench", "store", "--postgres", pgtest.ServerURL(t), "--workers", "1,3", "--sqlite-workers", "2", "--trials", "60", "--json")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	var out struct {
		Results []struct {
			Backend      string
			Workers      int
			Complete     int
			TrialsPerSec float64 `json:"trials_per_second"`
			Errors       int
			Duplicates   int
			Deadlocks    int
			Latencies    []struct {
				Op    string
				Calls int
			}
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	want := []string{"sqlite/2", "postgres/1", "postgres/3"}
	if len(out.Results) != len(want) {
		t.Fatalf("%d results, want %d:\n%s", len(out.Results), len(want), r.stdout)
	}
	for i, res := range out.Results {
		if got := fmt.Sprintf("%s/%d", res.Backend, res.Workers); got != want[i] {
			t.Errorf("result %d is %s, want %s", i, got, want[i])
		}
		if res.Complete != 60 || res.Errors != 0 || res.Duplicates != 0 || res.TrialsPerSec <= 0 || len(res.Latencies) < 3 {
			t.Errorf("%s/%d: %+v", res.Backend, res.Workers, res)
		}
		if (res.Backend == "postgres") != (res.Deadlocks == 0) {
			t.Errorf("%s/%d: deadlocks %d (-1 where the store counts none)", res.Backend, res.Workers, res.Deadlocks)
		}
	}
	if r := runBinary(t, t.TempDir(), "bench", "store", "--postgres", "mysql://x", "--sqlite-workers", "1"); r.code != 2 || !strings.Contains(r.stderr, "not a postgres:// URL") {
		t.Errorf("--postgres mysql://x: exit %d\n%s", r.code, r.stderr)
	}
}
