package main_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const moConfig = `[study]
name = "bc"
sampler = "%s"
metrics = ["f1", "f2"]
directions = ["minimize", "minimize"]
trials = 24

[params.x1]
type = "float"
low = 0.0
high = 1.0

[params.x2]
type = "float"
low = 0.0
high = 1.0

[objective]
kind = "builtin"
function = "branin-currin"
`

// TestParetoStudy: a study of two objectives reports its Pareto front
// (run, status, best, export, plot), every front trial undominated and
// every other complete trial dominated by one of them.
func TestParetoStudy(t *testing.T) {
	for _, sampler := range []string{"bayes", "random"} {
		t.Run(sampler, func(t *testing.T) {
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "s.toml"), strings.Replace(moConfig, "%s", sampler, 1), 0o644)
			r := runOLC(t, dir, "optimize", "--config", "s.toml", "--json")
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			var res struct {
				Best        any
				Metrics     []string
				ParetoFront []struct {
					Trial  int
					Values map[string]float64
				} `json:"pareto_front"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
				t.Fatal(err)
			}
			if res.Best != nil || strings.Join(res.Metrics, ",") != "f1,f2" || len(res.ParetoFront) == 0 {
				t.Fatalf("result: %s", r.stdout)
			}
			e := runOLC(t, dir, "optimize", "export", "--study", "bc", "--format", "json")
			var ex struct {
				Metrics []string
				Trials  []struct {
					Number  int
					State   string
					Metrics map[string]float64
					Pareto  bool
				}
			}
			if err := json.Unmarshal([]byte(e.stdout), &ex); err != nil {
				t.Fatal(err)
			}
			dominates := func(a, b map[string]float64) bool {
				return a["f1"] <= b["f1"] && a["f2"] <= b["f2"] && (a["f1"] < b["f1"] || a["f2"] < b["f2"])
			}
			onFront := map[int]bool{}
			for _, f := range res.ParetoFront {
				onFront[f.Trial] = true
			}
			for _, a := range ex.Trials {
				if a.Pareto != onFront[a.Number] {
					t.Errorf("trial %d: export says pareto %v, the result %v", a.Number, a.Pareto, onFront[a.Number])
				}
				dominated := false
				for _, b := range ex.Trials {
					if b.State == "complete" && dominates(b.Metrics, a.Metrics) {
						dominated = true
					}
				}
				if a.State == "complete" && dominated == a.Pareto {
					t.Errorf("trial %d (%v): dominated %v but pareto %v", a.Number, a.Metrics, dominated, a.Pareto)
				}
			}
			for i := 1; i < len(res.ParetoFront); i++ {
				if res.ParetoFront[i].Values["f1"] < res.ParetoFront[i-1].Values["f1"] {
					t.Errorf("front not ordered by f1: %v", res.ParetoFront)
				}
			}
			st := runOLC(t, dir, "optimize", "status", "--study", "bc")
			b := runOLC(t, dir, "optimize", "best", "--study", "bc")
			for _, out := range []string{st.stdout, b.stdout} {
				if !strings.Contains(out, "Pareto front:") || !strings.Contains(out, "F1") {
					t.Errorf("text output lacks the front:\n%s", out)
				}
			}
			if p := runOLC(t, dir, "optimize", "plot", "--study", "bc", "--out", "bc.png"); p.code != 0 {
				t.Fatalf("plot: %s", p.stderr)
			}
			if st, err := os.Stat(filepath.Join(dir, "bc.png")); err != nil || st.Size() < 10000 {
				t.Errorf("plot: %v", err)
			}
		})
	}
}

func TestParetoConfigErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		from, to, want string
	}{
		{`metrics = ["f1", "f2"]`, `metrics = ["f1"]`, "study.metrics: lists 1 metric"},
		{`metrics = ["f1", "f2"]`, `metrics = ["f1", "f1"]`, "empty or repeated"},
		{`metrics = ["f1", "f2"]`, "metric = \"f1\"\nmetrics = [\"f1\", \"f2\"]", "give metric (one objective) or metrics (several), not both"},
		{`directions = ["minimize", "minimize"]`, `directions = ["minimize"]`, "lists 1 directions for 2 metrics"},
		{`directions = ["minimize", "minimize"]`, `directions = ["minimize", "up"]`, `unknown direction "up"`},
		{`metrics = ["f1", "f2"]`, `metrics = ["f1", "loss"]`, `branin-currin reports the metrics f1, f2, not "loss"`},
		{`sampler = "%s"`, `sampler = "cmaes"`, "cmaes optimizes one metric"},
	} {
		writeFile(t, filepath.Join(dir, "bad.toml"), strings.Replace(strings.Replace(moConfig, c.from, c.to, 1), "%s", "random", 1), 0o644)
		r := runOLC(t, dir, "optimize", "--config", "bad.toml")
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%s: exit %d, %q; want 2 and %q", c.to, r.code, r.stderr, c.want)
		}
	}
}
