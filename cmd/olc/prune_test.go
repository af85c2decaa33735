package main_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestPruningCLI: a command study with a median pruner stops poor trials
// at their intermediate lines, stores them pruned with their curve, and
// counts them towards the target; a pruner on a builtin function is
// ignored with a note.
func TestPruningCLI(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "curve.sh"), `#!/bin/sh
i=1
while [ $i -le 8 ]; do
  echo "{\"step\": $i, \"loss\": $(awk "BEGIN{print ($1-3)^2 + 8/$i}")}"
  i=$((i+1))
done
echo "{\"loss\": $(awk "BEGIN{print ($1-3)^2 + 1}")}"
`, 0o755)
	writeFile(t, filepath.Join(dir, "s.toml"), `[study]
name = "p"
metric = "loss"
trials = 16
seed = 2

[params.x]
type = "float"
low = 0.0
high = 10.0

[pruner]
kind = "median"
startup_trials = 3

[objective]
kind = "command"
command = ["./curve.sh", "{x}"]
`, 0o644)
	r := runOLC(t, dir, "optimize", "--config", "s.toml")
	if r.code != 0 || !strings.Contains(r.stdout, "of 16 complete or pruned") {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	e := runOLC(t, dir, "optimize", "export", "--study", "p", "--format", "json")
	var ex struct {
		Trials []struct {
			State        string
			Error        string
			Params       map[string]float64
			Intermediate []struct{ Step int }
		}
	}
	if err := json.Unmarshal([]byte(e.stdout), &ex); err != nil {
		t.Fatalf("%v: %s", err, e.stdout)
	}
	pruned, complete := 0, 0
	for _, tr := range ex.Trials {
		switch tr.State {
		case "pruned":
			pruned++
			if n := len(tr.Intermediate); n == 0 || n == 8 || !strings.Contains(tr.Error, "pruned at step") || !strings.Contains(tr.Error, "median") {
				t.Errorf("pruned trial: %d steps, %q", n, tr.Error)
			}
		case "complete":
			complete++
		default:
			t.Errorf("a trial is %s: %s", tr.State, tr.Error)
		}
	}
	if pruned == 0 || complete < 3 || pruned+complete != 16 {
		t.Errorf("%d pruned, %d complete; want some pruned, 16 in all", pruned, complete)
	}
	if st := runOLC(t, dir, "optimize", "status", "--study", "p", "--json"); decode(t, st.stdout)["pruned"] != float64(pruned) {
		t.Errorf("status: %s", st.stdout)
	}

	writeFile(t, filepath.Join(dir, "b.toml"), `[study]
name = "b"
trials = 3
[params.x]
type = "float"
low = 0.0
high = 1.0
[pruner]
kind = "asha"
[objective]
kind = "builtin"
function = "sphere"
`, 0o644)
	r = runOLC(t, dir, "optimize", "--config", "b.toml", "--json")
	if r.code != 0 || !strings.Contains(r.stderr, "[pruner] is ignored: builtin functions report their value only") || decode(t, r.stdout)["complete"] != 3.0 {
		t.Errorf("builtin with a pruner: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestPruningTrain: the trainer's evaluations feed the pruner in-process,
// and a pruned trial stops training at the evaluation that judged it.
func TestPruningTrain(t *testing.T) {
	dir := t.TempDir()
	cfg := strings.Replace(strings.Replace(tinyTrain, "steps = 4", "steps = 12", 1), "checkpoint_every = 2", "checkpoint_every = 0", 1)
	writeFile(t, filepath.Join(dir, "train.toml"), cfg, 0o644)
	study := `[study]
name = "lr"
sampler = "random"
direction = "maximize"
metric = "eval_f1"
trials = 8
seed = 4

[params."optimizer.lr"]
type = "float"
low = 1e-6
high = 1.0
log = true

[pruner]
kind = "asha"
metric = "%s"
direction = "minimize"
reduction_factor = 2

[objective]
kind = "train"
config = "train.toml"
`
	writeFile(t, filepath.Join(dir, "s.toml"), strings.Replace(study, "%s", "eval_loss", 1), 0o644)
	r := runOLC(t, dir, "optimize", "--config", "s.toml", "--json")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if d := decode(t, r.stdout); d["pruned"].(float64) < 1 || d["complete"].(float64)+d["pruned"].(float64) != 8 {
		t.Errorf("result: %s", r.stdout)
	}
	e := runOLC(t, dir, "optimize", "export", "--study", "lr", "--format", "json")
	var ex struct {
		Trials []struct {
			State        string
			Metrics      map[string]float64
			Intermediate []struct{ Step int }
		}
	}
	if err := json.Unmarshal([]byte(e.stdout), &ex); err != nil {
		t.Fatal(err)
	}
	for i, tr := range ex.Trials {
		n := len(tr.Intermediate)
		switch {
		case tr.State == "pruned" && (n == 0 || tr.Intermediate[n-1].Step >= 12):
			t.Errorf("trial %d pruned after %d evaluations", i, n)
		case tr.State == "complete" && tr.Metrics["steps"] != 12:
			t.Errorf("complete trial %d trained %v steps", i, tr.Metrics["steps"])
		}
	}

	// A metric the evaluations do not report is refused; a trainer that
	// evaluates only at the end runs without pruning.
	writeFile(t, filepath.Join(dir, "s2.toml"), strings.Replace(strings.Replace(study, "%s", "final_loss", 1), `name = "lr"`, `name = "lr2"`, 1), 0o644)
	if r := runOLC(t, dir, "optimize", "--config", "s2.toml"); r.code != 2 || !strings.Contains(r.stderr, `pruner.metric: the objective's intermediate values are eval_exact, eval_f1, eval_loss; "final_loss" is not among them`) {
		t.Errorf("pruner on final_loss: exit %d, %q", r.code, r.stderr)
	}
	writeFile(t, filepath.Join(dir, "train.toml"), strings.Replace(cfg, "eval_every = 2", "eval_every = 0", 1), 0o644)
	writeFile(t, filepath.Join(dir, "s3.toml"), strings.Replace(strings.Replace(strings.Replace(study, "%s", "eval_loss", 1), `name = "lr"`, `name = "lr3"`, 1), "trials = 8", "trials = 1", 1), 0o644)
	if r := runOLC(t, dir, "optimize", "--config", "s3.toml"); r.code != 0 || !strings.Contains(r.stderr, "train.eval_every = 0") || !strings.Contains(r.stderr, "runs without pruning") {
		t.Errorf("pruner without evaluations: exit %d, %q", r.code, r.stderr)
	}
}

// TestCMAESStudy: sampler = "cmaes" runs a study over floats, an int and
// a categorical, and resumes where it stopped.
func TestCMAESStudy(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "c.toml"), `[study]
name = "c"
sampler = "cmaes"
trials = 30
[params.x1]
type = "float"
low = -5.0
high = 10.0
[params.x2]
type = "float"
low = 0.0
high = 15.0
[sampler.cmaes]
popsize = 6
[objective]
kind = "builtin"
function = "branin"
`, 0o644)
	r := runOLC(t, dir, "optimize", "--config", "c.toml", "--trials", "12", "--json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	r = runOLC(t, dir, "optimize", "cmaes", "--config", "c.toml", "--json")
	if r.code != 0 || decode(t, r.stdout)["resumed"] != 12.0 {
		t.Fatalf("resume: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	best := decode(t, r.stdout)["best"].(map[string]any)["value"].(float64)
	if best > 2 {
		t.Errorf("CMA-ES best on Branin after 30 trials: %v (minimum 0.398)", best)
	}
	writeFile(t, filepath.Join(dir, "bad.toml"), `[study]
name = "d"
sampler = "cmaes"
trials = 3
[params.c]
type = "categorical"
values = [1, 2]
[sampler.cmaes]
popsize = 1
[objective]
kind = "builtin"
function = "sphere"
`, 0o644)
	if r := runOLC(t, dir, "optimize", "--config", "bad.toml"); r.code != 2 || !strings.Contains(r.stderr, "sampler.cmaes.popsize: must be an integer from 2") {
		t.Errorf("bad popsize: exit %d, %q", r.code, r.stderr)
	}
	writeFile(t, filepath.Join(dir, "bad.toml"), `[study]
name = "d"
sampler = "cmaes"
trials = 3
[params.c]
type = "categorical"
values = [1, 2]
[objective]
kind = "builtin"
function = "sphere"
`, 0o644)
	if r := runOLC(t, dir, "optimize", "--config", "bad.toml"); r.code != 2 || !strings.Contains(r.stderr, "cmaes needs at least one float or int parameter") {
		t.Errorf("categoricals only: exit %d, %q", r.code, r.stderr)
	}
}
