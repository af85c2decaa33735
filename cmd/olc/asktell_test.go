package main_test

import (
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const askConfig = `[study]
name = "ext"
sampler = "bayes"
trials = 12
metric = "loss"
%s
[params.x]
type = "float"
low = -5.0
high = 10.0

[params.n]
type = "int"
low = 1
high = 8

[[enqueue]]
x = 1
n = 3

[objective]
kind = "external"
`

type asked struct {
	Study  string
	Trial  *int
	Params map[string]any
	Done   bool
}

func ask(t *testing.T, dir string, args ...string) asked {
	t.Helper()
	r := runOLC(t, dir, append([]string{"optimize", "ask"}, args...)...)
	if r.code != 0 {
		t.Fatalf("ask %v: exit %d: %s", args, r.code, r.stderr)
	}
	var a asked
	if err := json.Unmarshal([]byte(r.stdout), &a); err != nil || strings.Count(r.stdout, "\n") != 1 {
		t.Fatalf("ask printed %q: %v", r.stdout, err)
	}
	return a
}

func TestAskTellCLI(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "s.toml"), strings.Replace(askConfig, "%s", "", 1), 0o644)
	// The config's point first, then the sampler's.
	a := ask(t, dir, "--config", "s.toml")
	if *a.Trial != 0 || a.Params["x"] != 1.0 || a.Params["n"] != 3.0 {
		t.Fatalf("first ask = %+v, want trial 0 at the enqueued point", a)
	}
	if r := runOLC(t, dir, "optimize", "enqueue", "--study", "ext", "--params", `{"x": 2.5, "n": 8}`); r.code != 0 {
		t.Fatalf("enqueue: exit %d: %s", r.code, r.stderr)
	}
	if a = ask(t, dir, "--study", "ext"); *a.Trial != 1 || a.Params["x"] != 2.5 || a.Params["n"] != 8.0 {
		t.Fatalf("second ask = %+v, want the point enqueued by hand", a)
	}
	// Resuming from the config does not queue its point again.
	if a = ask(t, dir, "--config", "s.toml"); *a.Trial != 2 || a.Params["x"] == 1.0 {
		t.Fatalf("third ask = %+v, want a proposal", a)
	}
	tell := func(args ...string) result {
		return runOLC(t, dir, append([]string{"optimize", "tell", "--study", "ext"}, args...)...)
	}
	if r := tell("--trial", "0", "--value", "0.25"); r.code != 0 || !strings.Contains(r.stdout, "trial 0 of study ext: complete, loss = 0.25") {
		t.Fatalf("tell: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := tell("--trial", "1", "--metrics", `{"loss": 0.5, "acc": 0.9}`, "--json"); r.code != 0 || decode(t, r.stdout)["value"] != 0.5 {
		t.Fatalf("tell --metrics: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	// Bad input: exit 2, nothing stored.
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--trial", "0", "--value", "1"}, "trial 0 of study \"ext\" is complete, not running"},
		{[]string{"--trial", "2", "--value", "nan"}, "not a finite number"},
		{[]string{"--trial", "2", "--value", "+Inf"}, "not a finite number"},
		{[]string{"--trial", "2", "--value", "abc"}, `--value "abc" is not a number`},
		{[]string{"--trial", "2", "--metrics", `{"acc": 1}`}, `needs the study's metric "loss"`},
		{[]string{"--trial", "2", "--metrics", `[1]`}, "not a JSON object"},
		{[]string{"--trial", "2", "--value", "1", "--metrics", `{"loss": 1}`}, "not both"},
		{[]string{"--trial", "2"}, "needs --value or --metrics"},
		{[]string{"--trial", "2", "--state", "done"}, "allowed: complete, failed, pruned"},
		{[]string{"--trial", "2", "--value", "1", "--error", "x"}, "--error goes with --state failed"},
		{[]string{"--trial", "7", "--value", "1"}, "has no trial 7"},
		{[]string{"--value", "1"}, "--trial is required"},
	} {
		if r := tell(c.args...); r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("tell %v: exit %d, %q; want 2 and %q", c.args, r.code, r.stderr, c.want)
		}
	}
	if r := runOLC(t, dir, "optimize", "tell", "--study", "nope", "--trial", "2", "--value", "1"); r.code != 2 || !strings.Contains(r.stderr, `no study "nope"`) {
		t.Errorf("tell to the wrong study: exit %d, %q", r.code, r.stderr)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--params", `{"x": 20, "n": 1}`}, "outside [-5, 10]"},
		{[]string{"--params", `{"x": 1}`}, `"n" is missing`},
		{[]string{"--params", `{"x": 1, "n": 1, "z": 2}`}, `"z" is not in the space`},
		{[]string{"--params", `{"x": 1, "n": 1.5}`}, "want an int"},
	} {
		r := runOLC(t, dir, append([]string{"optimize", "enqueue", "--study", "ext"}, c.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("enqueue %v: exit %d, %q; want 2 and %q", c.args, r.code, r.stderr, c.want)
		}
	}
	if r := runOLC(t, dir, "optimize", "--config", "s.toml"); r.code != 2 || !strings.Contains(r.stderr, "ask") {
		t.Errorf("running an external study: exit %d, %q", r.code, r.stderr)
	}
	var st statusJSON
	if r := runOLC(t, dir, "optimize", "status", "--study", "ext", "--json"); r.code != 0 || json.Unmarshal([]byte(r.stdout), &st) != nil {
		t.Fatalf("status: exit %d: %s", r.code, r.stderr)
	}
	if st.Complete != 2 || st.Running != 1 {
		t.Errorf("status after the bad input: %+v, want 2 complete, 1 running", st)
	}
	if r := tell("--trial", "2", "--state", "failed", "--error", "CUDA out of memory"); r.code != 0 {
		t.Fatalf("tell failed: exit %d: %s", r.code, r.stderr)
	}
	// A loop to the target: then ask says done.
	for i := 0; ; i++ {
		a := ask(t, dir, "--study", "ext")
		if a.Done {
			if i != 10 {
				t.Errorf("done after %d more asks, want 10", i)
			}
			break
		}
		x, n := a.Params["x"].(float64), a.Params["n"].(float64)
		v := (x-2)*(x-2) + (n-5)*(n-5)/10
		if r := tell("--trial", strconv.Itoa(*a.Trial), "--value", strconv.FormatFloat(v, 'g', -1, 64)); r.code != 0 {
			t.Fatalf("tell: exit %d: %s", r.code, r.stderr)
		}
	}

	// A warm start: another study over the same space starts from ext's
	// trials; over another space it is refused before anything is stored.
	warm := strings.Replace(strings.Replace(askConfig, "%s", `warm_start = "ext"`, 1), `name = "ext"`, `name = "ext2"`, 1)
	writeFile(t, filepath.Join(dir, "w.toml"), strings.Replace(warm, "[[enqueue]]\nx = 1\nn = 3\n", "", 1), 0o644)
	if a := ask(t, dir, "--config", "w.toml"); *a.Trial != 0 {
		t.Errorf("warm-started ask = %+v", a)
	}
	writeFile(t, filepath.Join(dir, "w2.toml"), strings.Replace(strings.Replace(warm, `name = "ext2"`, `name = "ext3"`, 1), "high = 8", "high = 9", 1), 0o644)
	if r := runOLC(t, dir, "optimize", "ask", "--config", "w2.toml"); r.code != 2 || !strings.Contains(r.stderr, "study.warm_start") || !strings.Contains(r.stderr, "another space") {
		t.Errorf("warm start over another space: exit %d, %q", r.code, r.stderr)
	}
	if got := strings.Join(listed(t, dir), " "); got != "ext ext2" {
		t.Errorf("studies = %q, want ext ext2 (nothing stored for the refused one)", got)
	}
}
