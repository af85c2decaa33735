package main_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestWorkersShareAStudy: four olc processes (the built binary) run the
// same study on one SQLite store at once, as workers of a Slurm array
// would: the grid's points each complete exactly once with trial numbers
// 0..n-1 and no gaps; a Bayesian study stops at its target exactly; every
// worker reports the whole study, and nothing is left running.
func TestWorkersShareAStudy(t *testing.T) {
	for _, c := range []struct {
		sampler, params string
		target          int
	}{
		{"grid", "[params.a]\ntype = \"int\"\nlow = 1\nhigh = 16\n", 16},
		{"bayes", "[params.a]\ntype = \"float\"\nlow = 0.0\nhigh = 10.0\n", 12},
	} {
		t.Run(c.sampler, func(t *testing.T) {
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
			// The study is created once; the workers all resume it.
			if r := runBinary(t, dir, "optimize", "--config", "s.toml", "--trials", "1"); r.code != 0 {
				t.Fatalf("first trial: %d %s", r.code, r.stderr)
			}
			results := make([]result, 4)
			var wg sync.WaitGroup
			for i := range results {
				wg.Add(1)
				go func() {
					defer wg.Done()
					results[i] = runBinary(t, dir, "optimize", "--config", "s.toml")
				}()
			}
			wg.Wait()
			want := fmt.Sprintf("trials: %d of %d complete (", c.target, c.target)
			ran, active := 0, 1 // the first trial's process
			for i, r := range results {
				var n int
				if _, after, ok := strings.Cut(r.stdout, "resumed, "); ok {
					fmt.Sscanf(after, "%d run now", &n)
				}
				ran += n
				if n > 0 {
					active++
				}
				if r.code != 0 || !strings.Contains(r.stdout, want) || !strings.Contains(r.stdout, "), 0 failed") || strings.Contains(r.stdout+r.stderr, "locked") {
					t.Errorf("worker %d: exit %d\n%s%s", i, r.code, r.stdout, r.stderr)
				}
			}
			if ran != c.target-1 {
				t.Errorf("the workers ran %d trials, want %d", ran, c.target-1)
			}
			e := export(t, dir)
			seen := map[string]bool{}
			for i, tr := range e.Trials {
				if tr.Number != i {
					t.Errorf("trial %d has number %d", i, tr.Number)
				}
				if tr.State != "complete" {
					t.Errorf("trial %d is %s", tr.Number, tr.State)
				}
				k := fmt.Sprint(tr.Params["a"])
				if c.sampler == "grid" && seen[k] {
					t.Errorf("grid point a=%s ran twice", k)
				}
				seen[k] = true
			}
			if len(e.Trials) != c.target {
				t.Errorf("%d trials for a target of %d", len(e.Trials), c.target)
			}
			// Status names the processes that ran the study's trials.
			r := runOLC(t, dir, "optimize", "status", "--study", "cmd", "--json")
			var st struct {
				Workers []struct {
					Host             string
					PID              int
					Trials, Complete int
					Running          []int
				}
			}
			if err := json.Unmarshal([]byte(r.stdout), &st); err != nil {
				t.Fatal(err)
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
