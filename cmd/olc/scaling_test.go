package main_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestScalingFitJSON generates runs from Hoffmann et al.'s law, fits them
// and checks the --json document's keys and that the fit recovers the
// generating parameters; then predicts from the saved fit.
func TestScalingFitJSON(t *testing.T) {
	dir := t.TempDir()
	r := runBinary(t, dir, "scaling", "generate", "--law", "chinchilla", "--noise", "0.01", "--seed", "3", "--out", "runs.csv")
	if r.code != 0 {
		t.Fatalf("generate: exit %d: %s", r.code, r.stderr)
	}
	r = runBinary(t, dir, "scaling", "fit", "--data", "runs.csv", "--law", "chinchilla", "--bootstrap", "30",
		"--compute", "1e21,1e23", "--holdout", "5", "--start-stride", "9", "--json", "--out", "fit.json", "--plot", "fit.svg")
	if r.code != 0 {
		t.Fatalf("fit: exit %d: %s", r.code, r.stderr)
	}
	var fit map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &fit); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, r.stdout)
	}
	for _, k := range []string{"law", "loss", "delta", "n_points", "params", "objective", "rmse_log", "r2_log", "converged", "grad_norm", "iterations", "exponents", "optimal", "holdout"} {
		if _, ok := fit[k]; !ok {
			t.Errorf("--json lacks %q", k)
		}
	}
	if fit["law"] != "chinchilla" || fit["loss"] != "huber" || fit["delta"] != 1e-3 || fit["n_points"] != 250.0 || fit["converged"] != true {
		t.Errorf("law %v loss %v delta %v n_points %v converged %v", fit["law"], fit["loss"], fit["delta"], fit["n_points"], fit["converged"])
	}
	params := fit["params"].(map[string]any)
	want := map[string]float64{"E": 1.69, "A": 406.4, "B": 410.7, "alpha": 0.34, "beta": 0.28}
	for name, truth := range want {
		p, ok := params[name].(map[string]any)
		if !ok {
			t.Fatalf("params lacks %s", name)
		}
		v, se := p["value"].(float64), p["se"].(float64)
		ci := p["ci"].([]any)
		if math.Abs(v-truth) > 4*se || len(ci) != 2 {
			t.Errorf("%s = %v ± %v (ci %v), truth %v", name, v, se, ci, truth)
		}
	}
	opt := fit["optimal"].([]any)
	if len(opt) != 2 {
		t.Fatalf("optimal: %v", opt)
	}
	for _, o := range opt {
		m := o.(map[string]any)
		for _, k := range []string{"compute", "N", "D", "tokens_per_param"} {
			if _, ok := m[k]; !ok {
				t.Errorf("optimal entry lacks %q", k)
			}
		}
	}
	exps := fit["exponents"].(map[string]any)
	a := exps["a"].(map[string]any)["value"].(float64)
	b := exps["b"].(map[string]any)["value"].(float64)
	if math.Abs(a+b-1) > 1e-12 || math.Abs(a-0.28/0.62) > 0.05 {
		t.Errorf("exponents a %v b %v", a, b)
	}
	if h := fit["holdout"].(map[string]any); h["k"] != 5.0 {
		t.Errorf("holdout %v", h)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "fit.svg")); !strings.HasPrefix(string(b), "<?xml") {
		t.Errorf("fit.svg is not an SVG")
	}
	saved, _ := os.ReadFile(filepath.Join(dir, "fit.json"))
	if !json.Valid(saved) || !strings.Contains(string(saved), `"law": "chinchilla"`) {
		t.Errorf("--out did not write the fit")
	}

	// Predict at the fit's own point estimate: the value is the law's.
	r = runBinary(t, dir, "scaling", "predict", "--fit", "fit.json", "--at", "N=1e9,D=2e10", "--json")
	if r.code != 0 {
		t.Fatalf("predict: exit %d: %s", r.code, r.stderr)
	}
	var pred struct {
		Predictions []struct {
			At    map[string]float64
			Value struct {
				Value float64
				CI    []float64
			}
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &pred); err != nil || len(pred.Predictions) != 1 {
		t.Fatalf("predict output %q: %v", r.stdout, err)
	}
	p := pred.Predictions[0]
	g := func(n string) float64 { return params[n].(map[string]any)["value"].(float64) }
	law := g("E") + g("A")/math.Pow(1e9, g("alpha")) + g("B")/math.Pow(2e10, g("beta"))
	if math.Abs(p.Value.Value-law) > 1e-9*law || len(p.Value.CI) != 2 || !(p.Value.CI[0] < law && law < p.Value.CI[1]) {
		t.Errorf("prediction %+v, law gives %v", p.Value, law)
	}
}

// TestScalingGolden: the text reports of a context-law fit and a
// prediction from it, on generated data with fixed seeds.
func TestScalingGolden(t *testing.T) {
	dir := t.TempDir()
	r := runOLC(t, dir, "scaling", "generate", "--law", "context", "--noise", "0.01", "--seed", "1", "--out", "ctx.csv")
	if r.code != 0 {
		t.Fatalf("generate: exit %d: %s", r.code, r.stderr)
	}
	r = runOLC(t, dir, "scaling", "fit", "--data", "ctx.csv", "--law", "context", "--bootstrap", "200", "--seed", "4", "--holdout", "3", "--out", "ctx.json")
	if r.code != 0 {
		t.Fatalf("fit: exit %d: %s", r.code, r.stderr)
	}
	golden(t, "scaling-context.txt", r.stdout)
	r = runOLC(t, dir, "scaling", "predict", "--fit", "ctx.json", "--at", "c=65536", "--at", "c=131072")
	if r.code != 0 {
		t.Fatalf("predict: exit %d: %s", r.code, r.stderr)
	}
	golden(t, "scaling-predict.txt", r.stdout)
}

// TestScalingStudy fits a law to the complete trials of a study: a grid
// over model sizes whose command reports loss = 20·N^-0.1 exactly.
func TestScalingStudy(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "sizes.toml"), `[study]
name = "sizes"
metric = "loss"
sampler = "grid"

[params.N]
type = "float"
low = 1e6
high = 1e9
log = true
points = 7

[objective]
kind = "command"
command = ["awk", "-v", "n={N}", "BEGIN { printf \"{\\\"loss\\\": %.15g}\\n\", 20 * n ^ -0.1 }"]
`, 0o644)
	r := runOLC(t, dir, "optimize", "--config", "sizes.toml", "--store", "s.db")
	if r.code != 0 {
		t.Fatalf("optimize: exit %d: %s", r.code, r.stderr)
	}
	r = runOLC(t, dir, "scaling", "fit", "--study", "sizes", "--store", "s.db", "--law", "power2", "--columns", "x=N", "--bootstrap", "0", "--json")
	if r.code != 0 {
		t.Fatalf("fit: exit %d: %s", r.code, r.stderr)
	}
	var fit struct {
		NPoints int `json:"n_points"`
		Params  map[string]struct{ Value float64 }
	}
	if err := json.Unmarshal([]byte(r.stdout), &fit); err != nil {
		t.Fatal(err)
	}
	if fit.NPoints != 7 || math.Abs(fit.Params["A"].Value-20) > 1e-6 || math.Abs(fit.Params["alpha"].Value-0.1) > 1e-8 {
		t.Errorf("fit of the study: %+v", fit)
	}
	r = runOLC(t, dir, "scaling", "fit", "--study", "sizes", "--store", "s.db", "--law", "power2", "--columns", "x=width")
	if r.code != 2 || !strings.Contains(r.stderr, `trial 0, column "width": no such parameter or metric; the trial has parameters N and metrics loss`) {
		t.Errorf("missing column in a study: exit %d, %s", r.code, r.stderr)
	}
}

func TestScalingBadInput(t *testing.T) {
	dir := t.TempDir()
	ok := "N,D,loss\n1e7,1e9,3.1\n2e7,1e10,2.9\n4e7,1e9,2.8\n8e7,1e11,2.5\n1e8,3e9,2.6\n3e8,1e10,2.4\n1e9,5e10,2.2\n"
	files := map[string]string{
		"ok.csv":       ok,
		"text.csv":     "N,D,loss\n1e7,1e9,3.1\n2e7,1e10,abc\n",
		"neg.csv":      strings.Replace(ok, "2.8", "-2.8", 1),
		"zero.csv":     strings.Replace(ok, "8e7", "0", 1),
		"nan.csv":      strings.Replace(ok, "2.5", "NaN", 1),
		"inf.csv":      strings.Replace(ok, "1e9,5e10", "Inf,5e10", 1),
		"empty.csv":    "N,D,loss\n1e7,,3.1\n",
		"few.csv":      "N,D,loss\n1e7,1e9,3.1\n2e7,1e10,2.9\n4e7,1e9,2.8\n",
		"acc.csv":      "N,D,accuracy\n1e6,1e9,0.80\n1e7,1e10,0.85\n1e8,1e11,0.90\n",
		"lockstep.csv": "N,D,loss\n1e7,2e8,3.1\n2e7,4e8,2.9\n4e7,8e8,2.8\n8e7,1.6e9,2.5\n1e8,2e9,2.6\n3e8,6e9,2.4\n1e9,2e10,2.2\n",
	}
	for name, content := range files {
		writeFile(t, filepath.Join(dir, name), content, 0o644)
	}
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"--data", "text.csv", "--law", "chinchilla"}, []string{"text.csv: row 3, column \"loss\": \"abc\" is not a number"}},
		{[]string{"--data", "neg.csv", "--law", "chinchilla"}, []string{"neg.csv: row 4, column \"loss\": -2.8 is not positive"}},
		{[]string{"--data", "zero.csv", "--law", "chinchilla"}, []string{"zero.csv: row 5, column \"N\": 0 is not positive"}},
		{[]string{"--data", "nan.csv", "--law", "chinchilla"}, []string{"nan.csv: row 5, column \"loss\": NaN is not a finite number"}},
		{[]string{"--data", "inf.csv", "--law", "chinchilla"}, []string{"inf.csv: row 8, column \"N\": Inf is not a finite number"}},
		{[]string{"--data", "empty.csv", "--law", "chinchilla"}, []string{"empty.csv: row 2, column \"D\": empty"}},
		{[]string{"--data", "ok.csv", "--law", "chinchilla", "--columns", "N=params"}, []string{"ok.csv: column \"params\": no such column; the header has N, D, loss"}},
		{[]string{"--data", "ok.csv", "--law", "power"}, []string{"column \"x\": no such column", "--columns x=NAME"}},
		{[]string{"--data", "few.csv", "--law", "chinchilla"}, []string{"5 parameters, so it needs at least 6 points, and there are 3", "kaplan-n"}},
		{[]string{"--data", "acc.csv", "--law", "chinchilla", "--transform", "complement", "--columns", "loss=accuracy"}, []string{"needs at least 6 points", "kaplan-n (L(N) = (N_c/N)^alpha_N, 2 parameters)"}},
		{[]string{"--data", "lockstep.csv", "--law", "chinchilla"}, []string{"N and D vary together"}},
		{[]string{"--data", "ok.csv", "--law", "chinchila"}, []string{"unknown law \"chinchila\"; choose one of"}},
		{[]string{"--data", "ok.csv", "--law", "chinchilla", "--columns", "Q=x"}, []string{"the law chinchilla has the variables N, D, and loss"}},
		{[]string{"--data", "ok.csv", "--law", "chinchilla", "--loss", "l1"}, []string{`invalid argument "l1" for "--loss" flag: allowed: huber, ls`}},
		{[]string{"--data", "ok.csv", "--law", "chinchilla", "--compute", "1e21,x"}, []string{"--compute: \"x\" is not a positive number"}},
		{[]string{"--data", "missing.csv", "--law", "chinchilla"}, []string{"--data: open missing.csv"}},
		{[]string{"--law", "chinchilla"}, []string{"--data FILE.csv or --study NAME"}},
		{[]string{"--data", "ok.csv", "--law", "chinchilla", "--holdout", "3"}, []string{"holding out 3 of 7 points leaves 4"}},
		{[]string{"--study", "nope", "--law", "chinchilla", "--store", "none.db"}, []string{"no store at none.db"}},
	}
	for _, c := range cases {
		r := runOLC(t, dir, append([]string{"scaling", "fit"}, c.args...)...)
		if r.code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %s)", c.args, r.code, r.stderr)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("%v: stderr %q lacks %q", c.args, r.stderr, w)
			}
		}
	}
	// The three-point accuracy example fits the law it can identify.
	r := runOLC(t, dir, "scaling", "fit", "--data", "acc.csv", "--law", "kaplan-n", "--transform", "complement", "--columns", "loss=accuracy", "--bootstrap", "50")
	if r.code != 0 || !strings.Contains(r.stdout, "log(1 - metric)") {
		t.Errorf("kaplan-n on the accuracies: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// --law auto fits what the data identify and says what it did not fit.
	r = runOLC(t, dir, "scaling", "fit", "--data", "acc.csv", "--law", "auto", "--transform", "complement", "--columns", "loss=accuracy", "--bootstrap", "0")
	for _, want := range []string{"kaplan-n: L(N) = (N_c/N)^alpha_N", "kaplan-d: L(D) = (D_c/D)^alpha_D", "not fitted: chinchilla: it has 5 parameters, so it needs at least 6 points, and there are 3"} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("--law auto: exit %d, stdout lacks %q\n%s%s", r.code, want, r.stdout, r.stderr)
		}
	}
	if r := runOLC(t, dir, "scaling", "fit", "--data", "acc.csv", "--law", "auto", "--plot", "x.png"); r.code != 2 {
		t.Errorf("--law auto --plot: exit %d", r.code)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--fit", "ok.csv", "--at", "N=1"}, "not a fit written by olc scaling fit"},
		{[]string{"--at", "N=1"}, "--fit is required"},
	} {
		r := runOLC(t, dir, append([]string{"scaling", "predict"}, c.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("predict %v: exit %d, stderr %q", c.args, r.code, r.stderr)
		}
	}
}
