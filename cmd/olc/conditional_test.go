package main_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const condConfig = `[study]
name = "cond"
metric = "loss"
sampler = "%s"
trials = %d

[params.optimizer]
type = "categorical"
values = ["sgd", "adam"]

[params.momentum]
type = "float"
low = 0.0
high = 0.9
points = 3
condition = { optimizer = ["sgd"] }

[params.lr]
type = "float"
low = 0.001
high = 0.1
log = true
points = 2

[objective]
kind = "command"
command = ["./obj.sh", "--opt={optimizer}", "--momentum={momentum}", "--lr={lr}"]
`

// TestConditionalStudy: a conditional parameter is left out of the trials
// where its condition fails (the command gets no argument for it, the
// export an empty cell), the grid runs each distinct point once, and the
// other samplers run; bad conditions are refused with the key.
func TestConditionalStudy(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "obj.sh"), `#!/bin/sh
echo "args: $*" >&2
echo "{\"loss\": $#}"
`, 0o755)
	for _, c := range []struct {
		sampler string
		trials  int
	}{{"grid", 8}, {"random", 6}, {"bayes", 12}, {"cmaes", 8}} {
		writeFile(t, filepath.Join(dir, c.sampler+".toml"), strings.Replace(strings.Replace(strings.Replace(condConfig, "%s", c.sampler, 1), "%d", strconv.Itoa(c.trials), 1), `name = "cond"`, `name = "cond-`+c.sampler+`"`, 1), 0o644)
		r := runOLC(t, dir, "optimize", "--config", c.sampler+".toml")
		if r.code != 0 {
			t.Fatalf("%s: exit %d: %s", c.sampler, r.code, r.stderr)
		}
		e := runOLC(t, dir, "optimize", "export", "--study", "cond-"+c.sampler, "--format", "csv")
		lines := strings.Split(strings.TrimSpace(e.stdout), "\n")
		header := strings.Split(lines[0], ",")
		col := map[string]int{}
		for i, h := range header {
			col[h] = i
		}
		rows := map[string]bool{}
		for _, l := range lines[1:] {
			f := strings.Split(l, ",")
			opt, mom, loss := f[col["params.optimizer"]], f[col["params.momentum"]], f[col["metrics.loss"]]
			// The command counts its arguments: 3 with momentum, 2 without.
			if (opt == "sgd") != (mom != "") || (opt == "sgd" && loss != "3") || (opt == "adam" && loss != "2") {
				t.Errorf("%s: row %s", c.sampler, l)
			}
			key := opt + "/" + mom + "/" + f[col["params.lr"]]
			if c.sampler == "grid" && rows[key] {
				t.Errorf("grid ran %s twice", key)
			}
			rows[key] = true
		}
		if c.sampler == "grid" && len(rows) != 8 {
			t.Errorf("grid ran %d distinct points, want 8 (3 momenta × 2 rates for sgd, 2 rates for adam)", len(rows))
		}
		out := filepath.Join(dir, c.sampler+".png")
		if p := runOLC(t, dir, "optimize", "plot", "--study", "cond-"+c.sampler, "--out", out); p.code != 0 {
			t.Errorf("%s: plot: %s", c.sampler, p.stderr)
		} else if st, err := os.Stat(out); err != nil || st.Size() < 10000 {
			t.Errorf("%s: plot %v", c.sampler, err)
		}
	}
	for _, c := range []struct {
		from, to, want string
	}{
		{`condition = { optimizer = ["sgd"] }`, `condition = { optimiser = ["sgd"] }`, `params.momentum.condition: names "optimiser", which is not a parameter`},
		{`condition = { optimizer = ["sgd"] }`, `condition = { optimizer = ["rmsprop"] }`, `params.momentum.condition: optimizer = "rmsprop" can never hold`},
		{`condition = { optimizer = ["sgd"] }`, `condition = { lr = 0.5 }`, `lr = 0.5 can never hold`},
		{`condition = { optimizer = ["sgd"] }`, `condition = 3`, "params.momentum.condition: must be a table"},
		{`values = ["sgd", "adam"]`, "values = [\"sgd\", \"adam\"]\ncondition = { momentum = [0.0] }", "params.optimizer.condition: the conditions form a cycle"},
	} {
		writeFile(t, filepath.Join(dir, "bad.toml"), strings.Replace(strings.Replace(strings.Replace(condConfig, "%s", "random", 1), "%d", "3", 1), c.from, c.to, 1), 0o644)
		r := runOLC(t, dir, "optimize", "--config", "bad.toml")
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%s: exit %d, %q; want 2 and %q", c.to, r.code, r.stderr, c.want)
		}
	}
	writeFile(t, filepath.Join(dir, "b.toml"), `[study]
name = "b"
trials = 2
[params.x]
type = "float"
low = 0.0
high = 1.0
[params.y]
type = "float"
low = 0.0
high = 1.0
condition = { x = 0.5 }
[objective]
kind = "builtin"
function = "branin"
`, 0o644)
	if r := runOLC(t, dir, "optimize", "--config", "b.toml"); r.code != 2 || !strings.Contains(r.stderr, "builtin functions take every parameter") {
		t.Errorf("builtin with a condition: exit %d, %q", r.code, r.stderr)
	}
}
