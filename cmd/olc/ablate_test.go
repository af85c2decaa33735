package main_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
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
