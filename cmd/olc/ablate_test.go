package main_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// plantedScript reports accuracy 0.8, 0.10 less without component a (b is
// worth nothing), plus noise shared by every variant of a seed (from the
// seed) and a little of each run (from the variant and seed).
const plantedScript = `#!/bin/sh
a=$1; b=$2; seed=$3
awk -v a="$a" -v b="$b" -v seed="$seed" 'BEGIN {
  srand(seed); shared = 0.1 * (rand() + rand() + rand() - 1.5) * 2
  srand(seed * 7 + (a == "true") * 3 + b + 11); own = 0.01 * (rand() - 0.5)
  acc = 0.8 + shared + own - (a == "true" ? 0 : 0.10)
  printf "{\"acc\": %.6f, \"loss\": %.6f}\n", acc, 1 - acc
}'
`

const plantedAblation = `[ablation]
name = "planted"
design = "leave-one-out"
seeds = [1, 2, 3, 4, 5, 6, 7, 8]
parallel = 2
metrics = [ { name = "acc", goal = "maximize" }, { name = "loss", goal = "minimize" } ]

[objective]
kind = "command"
command = ["./planted.sh", "{a}", "{b}", "{seed}"]

[base]
a = true
b = 1

[[components]]
name = "a"
ablate = { a = false }

[[components]]
name = "b"
ablate = { b = 0 }
`

type ablateJSON struct {
	Name     string  `json:"name"`
	Design   string  `json:"design"`
	Seeds    []int64 `json:"seeds"`
	Complete int     `json:"complete"`
	Failed   int     `json:"failed"`
	Metrics  []struct {
		Metric   string `json:"metric"`
		Goal     string `json:"goal"`
		Variants []struct {
			Variant string     `json:"variant"`
			N       int        `json:"n"`
			Mean    float64    `json:"mean"`
			CI      [2]float64 `json:"ci"`
		} `json:"variants"`
		Effects []struct {
			Component   string     `json:"component"`
			Diff        float64    `json:"diff"`
			CI          [2]float64 `json:"ci"`
			PT          *float64   `json:"p_t"`
			PWilcoxon   *float64   `json:"p_wilcoxon"`
			PAdjusted   *float64   `json:"p_adjusted"`
			Significant bool       `json:"significant"`
			DZ          *float64   `json:"d_z"`
			N           int        `json:"n"`
			SeedsNeeded int        `json:"seeds_needed"`
		} `json:"effects"`
	} `json:"metrics"`
}

func TestAblatePlantedEffects(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "planted.sh"), plantedScript, 0o755)
	writeFile(t, filepath.Join(dir, "abl.toml"), plantedAblation, 0o644)

	r := runOLC(t, dir, "ablate", "plan", "--config", "abl.toml")
	if r.code != 0 || !strings.Contains(r.stdout, "3 variants × 8 seeds = 24 trials") || !strings.Contains(r.stdout, "no a") {
		t.Fatalf("plan: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runOLC(t, dir, "ablate", "--config", "abl.toml", "--json")
	if r.code != 0 {
		t.Fatalf("ablate: exit %d\n%s", r.code, r.stderr)
	}
	var res ablateJSON
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if res.Name != "planted" || res.Design != "leave-one-out" || res.Complete != 24 || res.Failed != 0 || len(res.Metrics) != 2 {
		t.Fatalf("result %+v", res)
	}
	acc := res.Metrics[0]
	a, b := acc.Effects[0], acc.Effects[1]
	if a.Component != "a" || !a.Significant || a.CI[0] > -0.10 || a.CI[1] < -0.10 || a.PT == nil || a.PWilcoxon == nil || a.PAdjusted == nil || a.DZ == nil || a.N != 8 {
		t.Errorf("component a: %+v", a)
	}
	if b.Significant || b.CI[0] > 0 || b.CI[1] < 0 || b.SeedsNeeded < 2 {
		t.Errorf("component b: %+v", b)
	}
	// Resume: nothing runs again; report gives the same JSON.
	again := runOLC(t, dir, "ablate", "--config", "abl.toml", "--json")
	rep := runOLC(t, dir, "ablate", "report", "--name", "planted", "--format", "json")
	if again.code != 0 || rep.code != 0 || again.stdout != r.stdout || rep.stdout != r.stdout {
		t.Errorf("rerun (exit %d) and report (exit %d) differ from the run:\n%s\n%s\n%s%s", again.code, rep.code, again.stdout, rep.stdout, again.stderr, rep.stderr)
	}
	st := runOLC(t, dir, "optimize", "status", "--study", "planted", "--json")
	if st.code != 0 || !strings.Contains(st.stdout, `"complete": 24`) {
		t.Errorf("status of the ablation's study: exit %d\n%s%s", st.code, st.stdout, st.stderr)
	}
	text := runOLC(t, dir, "ablate", "report", "--name", "planted")
	if text.code != 0 || !strings.Contains(text.stdout, "significant") || !strings.Contains(text.stdout, "not distinguishable from zero") {
		t.Errorf("text report:\n%s%s", text.stdout, text.stderr)
	}
	pl := runOLC(t, dir, "ablate", "report", "--name", "planted", "--plot", "effects.png")
	if png, err := os.ReadFile(filepath.Join(dir, "effects.png")); pl.code != 0 || err != nil || !bytes.HasPrefix(png, []byte("\x89PNG")) || !strings.Contains(pl.stderr, "wrote the effects plot to effects.png") {
		t.Errorf("report --plot: exit %d, %v\n%s", pl.code, err, pl.stderr)
	}
	if pl := runOLC(t, dir, "ablate", "report", "--name", "planted", "--plot", "effects.gif"); pl.code != 2 || !strings.Contains(pl.stderr, "--plot: cannot tell the plot format") {
		t.Errorf("report --plot effects.gif: exit %d\n%s", pl.code, pl.stderr)
	}
	md := runOLC(t, dir, "ablate", "report", "--name", "planted", "--format", "md")
	if md.code != 0 || !strings.Contains(md.stdout, "| component | Δ acc |") {
		t.Errorf("markdown report:\n%s", md.stdout)
	}
}

func TestAblateBadInput(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "planted.sh"), plantedScript, 0o755)
	for _, c := range []struct{ from, to, want string }{
		{"name = \"b\"\nablate = { b = 0 }", "name = \"a\"\nablate = { b = 0 }", `components[1].name: component "a" is already components[0]`},
		{"ablate = { b = 0 }", "ablate = {}", "components[1].ablate: sets no key"},
		{`design = "leave-one-out"`, `design = "loo"`, `ablation.design: unknown design "loo"`},
		{"seeds = [1, 2, 3, 4, 5, 6, 7, 8]", "seeds = [1, 1]", "ablation.seeds[1]: seed 1 is listed twice"},
		{"seeds = [1, 2, 3, 4, 5, 6, 7, 8]", "seeds = []", "ablation.seeds: must be a non-empty array"},
		{`"{seed}"]`, `"{seed}", "{lr}"]`, "placeholder {lr} names no parameter; allowed: {a}, {b}, {seed}"},
		{"b = 1\n", "b = 1\nseed = 3\n", "bad.toml:15: base.seed: the seed comes from ablation.seeds"},
	} {
		writeFile(t, filepath.Join(dir, "bad.toml"), strings.Replace(plantedAblation, c.from, c.to, 1), 0o644)
		r := runOLC(t, dir, "ablate", "--config", "bad.toml", "--store", filepath.Join(dir, "s.db"))
		if r.code != 2 || !strings.Contains(r.stderr, "bad.toml:") || !strings.Contains(r.stderr, c.want) || r.stdout != "" {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", c.to, r.code, r.stderr, c.want)
		}
	}
	r := runOLC(t, dir, "ablate", "report", "--name", "nothing", "--store", filepath.Join(dir, "none.db"))
	if r.code != 2 || !strings.Contains(r.stderr, "no store at") {
		t.Errorf("report on a missing store: exit %d, %s", r.code, r.stderr)
	}
}

// TestAblateTrainObjective runs a leave-one-out ablation of kind train:
// the seed reaches the trainer as train.seed and each component's keys as
// train-config overrides, and the train config's checks run before
// anything does.
func TestAblateTrainObjective(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "train.toml"), strings.Replace(tinyTrain, "steps = 4", "steps = 2", 1), 0o644)
	const abl = `[ablation]
name = "tiny-components"
seeds = [1, 2]
metrics = [ { name = "final_loss", goal = "minimize" }, { name = "eval_f1", goal = "maximize" } ]

[objective]
kind = "train"
config = "train.toml"

[base]
"train.steps" = 3

[[components]]
name = "global_attention"
ablate = { "model.global_attention" = false }

[[components]]
name = "feedforward"
ablate = { "model.feedforward" = false }
`
	writeFile(t, filepath.Join(dir, "abl.toml"), abl, 0o644)
	r := runOLC(t, dir, "ablate", "--config", "abl.toml", "--json")
	if r.code != 0 {
		t.Fatalf("ablate: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	var res ablateJSON
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("%v\n%s", err, r.stdout)
	}
	if res.Complete != 6 || res.Failed != 0 || len(res.Metrics) != 2 || len(res.Metrics[0].Effects) != 2 {
		t.Fatalf("result %+v", res)
	}
	// The trials' stored parameters and losses: the seed and the
	// component's key reached the trainer (each changes the loss); the
	// full variant leaves the components' keys to the train config.
	r = runOLC(t, dir, "optimize", "export", "--study", "tiny-components", "--format", "csv")
	rows, err := csv.NewReader(strings.NewReader(r.stdout)).ReadAll()
	if r.code != 0 || err != nil || len(rows) != 7 {
		t.Fatalf("export: exit %d, %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	for _, k := range []string{"params.train.seed", "params.model.feedforward", "params.model.global_attention", "params.train.steps", "metrics.final_loss", "metrics.steps"} {
		if _, ok := col[k]; !ok {
			t.Fatalf("the export lacks %s: %v", k, rows[0])
		}
	}
	loss := map[string]string{}
	for _, row := range rows[1:] {
		if row[col["metrics.steps"]] != "3" {
			t.Errorf("a trial ran %s steps, not the base's 3", row[col["metrics.steps"]])
		}
		loss[row[col["params.train.seed"]]+"/"+row[col["params.model.feedforward"]]+"/"+row[col["params.model.global_attention"]]] = row[col["metrics.final_loss"]]
	}
	if len(loss) != 6 {
		t.Fatalf("want 6 distinct (seed, feedforward, global attention) cells: %v", loss)
	}
	if loss["1//"] == loss["2//"] || loss["1//"] == loss["1/false/"] || loss["1//"] == loss["1//false"] {
		t.Errorf("the seed or the feed-forward switch did not reach the trainer: %v", loss)
	}

	// The train config's own checks, blamed on the ablation's keys.
	for _, c := range []struct{ from, to, want string }{
		{`"model.feedforward" = false`, `"model.feedforwrd" = false`, `abl.toml:19: components[1].ablate.model.feedforwrd: no key "feedforwrd" in [model]`},
		{`"model.feedforward" = false`, `"model.feedforward" = "off"`, `abl.toml:19: components[1].ablate.model.feedforward: must be true or false`},
		{`"train.steps" = 3`, `"train.steps" = 0`, `abl.toml:11: base.train.steps: must be at least 1`},
		{`name = "eval_f1"`, `name = "eval_exakt"`, `abl.toml:4: ablation.metrics[1].name: the objective does not report "eval_exakt" (variant "full"); it reports eval_exact, eval_f1, eval_loss, final_loss`},
	} {
		bad := strings.Replace(abl, c.from, c.to, 1)
		if bad == abl {
			t.Fatalf("%q is not in the config", c.from)
		}
		writeFile(t, filepath.Join(dir, "bad.toml"), strings.ReplaceAll(bad, `name = "tiny-components"`, `name = "bad"`), 0o644)
		r := runOLC(t, dir, "ablate", "--config", "bad.toml")
		want := strings.Replace(c.want, "abl.toml", "bad.toml", 1)
		if r.code != 2 || !strings.Contains(r.stderr, want) || r.stdout != "" {
			t.Errorf("%s: exit %d, stderr %q; want 2 and %q", c.to, r.code, r.stderr, want)
		}
	}
	if st := runOLC(t, dir, "optimize", "status", "--study", "bad"); st.code == 0 {
		t.Errorf("a refused ablation left a study:\n%s", st.stdout)
	}
}

// TestAblateMissingMetric: a command objective that does not report a
// metric stops the run after its first trial, naming what it did report,
// and leaves that pair to run again.
func TestAblateMissingMetric(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "planted.sh"), plantedScript, 0o755)
	cfg := strings.Replace(strings.Replace(plantedAblation, `name = "loss"`, `name = "los"`, 1), "parallel = 2", "parallel = 1", 1)
	writeFile(t, filepath.Join(dir, "abl.toml"), cfg, 0o644)
	r := runOLC(t, dir, "ablate", "--config", "abl.toml", "--json")
	if r.code != 2 || !strings.Contains(r.stderr, `abl.toml:6: ablation.metrics[1].name: the objective did not report "los"; it reported acc, loss`) || r.stdout != "" {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	st := runOLC(t, dir, "optimize", "status", "--study", "planted", "--json")
	if st.code != 0 || !strings.Contains(st.stdout, `"complete": 0`) {
		t.Errorf("status after the refusal: exit %d\n%s%s", st.code, st.stdout, st.stderr)
	}
	// Fixed, the same ablation resumes and completes every pair.
	writeFile(t, filepath.Join(dir, "abl.toml"), strings.Replace(cfg, `name = "los"`, `name = "loss"`, 1), 0o644)
	r = runOLC(t, dir, "ablate", "--config", "abl.toml", "--json", "--new")
	if r.code != 0 || !strings.Contains(r.stdout, `"complete": 24`) {
		t.Errorf("after the fix: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// startSlowAblation starts the olc binary on the planted ablation, each
// trial first sleeping for the given seconds, in a new folder.
func startSlowAblation(t *testing.T, sleep string, stdout, stderr *bytes.Buffer) (string, *exec.Cmd) {
	t.Helper()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "planted.sh"), strings.Replace(plantedScript, "a=$1;", "sleep "+sleep+"; a=$1;", 1), 0o755)
	writeFile(t, filepath.Join(dir, "abl.toml"), plantedAblation, 0o644)
	cmd := exec.Command(olc, "ablate", "--config", "abl.toml")
	cmd.Dir = dir
	if stdout != nil {
		cmd.Stdout, cmd.Stderr = stdout, stderr
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return dir, cmd
}

// TestKilledAblationResumes kills olc ablate with SIGKILL part way and
// runs it again: every variant × seed pair completes exactly once, the
// pairs finished before the kill are not run again, and the trials the
// kill cut short are marked lost.
func TestKilledAblationResumes(t *testing.T) {
	dir, cmd := startSlowAblation(t, "0.2", nil, nil)
	trials := func() exported {
		r := runOLC(t, dir, "optimize", "export", "--study", "planted")
		var e exported
		json.Unmarshal([]byte(r.stdout), &e)
		return e
	}
	complete := func(e exported) map[string]int {
		done := map[string]int{}
		for _, tr := range e.Trials {
			if tr.State == "complete" {
				done[fmt.Sprint(tr.Params["a"], tr.Params["b"], tr.Params["seed"])]++
			}
		}
		return done
	}
	waitFor(t, "6 complete pairs", func() bool { return len(complete(trials())) >= 6 })
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	before := trials()
	r := runBinary(t, dir, "ablate", "--config", "abl.toml", "--json")
	if r.code != 0 || !strings.Contains(r.stdout, `"complete": 24`) {
		t.Fatalf("resume: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	after := trials()
	done := complete(after)
	if len(done) != 24 {
		t.Errorf("%d distinct pairs complete, want 24: %v", len(done), done)
	}
	for k, n := range done {
		if n != 1 {
			t.Errorf("pair %s completed %d times", k, n)
		}
	}
	// The trials complete before the kill are the same trials after it.
	states := map[int]string{}
	for _, tr := range after.Trials {
		states[tr.Number] = tr.State
		if tr.State == "failed" && tr.Reason != "lost" {
			t.Errorf("trial %d failed with %q: %s", tr.Number, tr.Reason, tr.Error)
		}
	}
	for _, tr := range before.Trials {
		if tr.State == "complete" && states[tr.Number] != "complete" {
			t.Errorf("trial %d was complete before the kill and is %s after", tr.Number, states[tr.Number])
		}
	}
}

// TestAblateBuiltin: a builtin function takes the numbers the variants
// give it and no seed; each difference is exact (the same on every seed)
// and is reported so, untested.
func TestAblateBuiltin(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "b.toml"), `[ablation]
name = "branin-parts"
seeds = [1, 2, 3]
metrics = [ { name = "value", goal = "minimize" } ]
[objective]
kind = "builtin"
function = "branin"
[base]
x1 = 3.0
x2 = 2.0
[[components]]
name = "x1"
ablate = { x1 = 0.0 }
`, 0o644)
	r := runOLC(t, dir, "ablate", "--config", "b.toml", "--json")
	var res ablateJSON
	if r.code != 0 || json.Unmarshal([]byte(r.stdout), &res) != nil || res.Complete != 6 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// branin(0, 2) − branin(3, 2), by hand from its formula.
	e := res.Metrics[0].Effects[0]
	if math.Abs(e.Diff-34.957578572796834) > 1e-9 || e.CI[0] != e.Diff || e.PT != nil || e.Significant {
		t.Errorf("effect %+v", e)
	}
}

// TestInterruptedAblation: Ctrl-C stops olc ablate with exit status 130,
// its running trials recorded as interrupted, the analysis of what is
// complete printed, and the same command resumes to every pair.
func TestInterruptedAblation(t *testing.T) {
	var stdout, stderr bytes.Buffer
	dir, cmd := startSlowAblation(t, "0.5", &stdout, &stderr)
	waitFor(t, "2 complete trials", func() bool {
		r := runOLC(t, dir, "optimize", "status", "--study", "planted", "--json")
		var st statusJSON
		json.Unmarshal([]byte(r.stdout), &st)
		return st.Complete >= 2 && st.Running > 0
	})
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 || !strings.Contains(stderr.String(), "run the same command again to resume the ablation") || !strings.Contains(stdout.String(), "ablation planted: leave-one-out") || !strings.Contains(stdout.String(), "0 failed, ") || !strings.Contains(stdout.String(), "interrupted (run the ablation again to resume them)") {
		t.Fatalf("interrupted: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	writeFile(t, filepath.Join(dir, "planted.sh"), plantedScript, 0o755) // the rest without the wait
	r := runBinary(t, dir, "ablate", "--config", "abl.toml", "--json")
	if r.code != 0 || !strings.Contains(r.stdout, `"complete": 24`) {
		t.Fatalf("resume: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}
