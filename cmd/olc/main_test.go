package main_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/olc-toolkit/olc/cmd/olc/internal/cmdutil"
	"github.com/olc-toolkit/olc/cmd/olc/internal/root"
	"github.com/olc-toolkit/olc/internal/supervise"
	"github.com/olc-toolkit/olc/model"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// olc is the binary under test, built once by TestMain.
var olc string

func TestMain(m *testing.M) {
	// Objectives run under a supervisor, olc's own executable run again:
	// in-process runs re-execute this test binary.
	supervise.Init()
	// The supervisors are this test binary: built with -race, each would
	// sleep a second at exit (the race detector's atexit_sleep_ms).
	os.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	flag.Parse()
	dir, err := os.MkdirTemp("", "olc-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	olc = filepath.Join(dir, "olc")
	build := exec.Command("go", "build", "-o", olc, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build olc:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

// runOLC runs olc's command tree in this process, in dir, with test
// streams, and returns its exit code and output: the way output is tested.
// Tests of signals, of killed processes, of the environment and of the
// exit status a shell sees use runBinary.
func runOLC(t *testing.T, dir string, args ...string) result {
	t.Helper()
	return runOLCInput(t, dir, "", args...)
}

// runOLCInput is runOLC with stdin reading input.
func runOLCInput(t *testing.T, dir, input string, args ...string) result {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chdir(dir); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := os.Chdir(wd); err != nil {
			panic(err) // later tests would run in the wrong folder
		}
	}()
	ios, out, errOut := cmdutil.Test()
	ios.In = strings.NewReader(input)
	code := root.Execute(context.Background(), ios, args)
	return result{code, out.String(), errOut.String()}
}

// runBinary runs the olc binary in dir and returns its exit code and
// output.
func runBinary(t *testing.T, dir string, args ...string) result {
	t.Helper()
	cmd := exec.Command(olc, args...)
	cmd.Dir = dir
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errOut.String()}
}

func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		writeFile(t, path, got, 0o644)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("output differs from %s (go test -update rewrites it)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

const branin = `[study]
name = "b"
direction = "minimize"
metric = "value"
sampler = "%s"
trials = %d
seed = 3

[params.x1]
type = "float"
low = -5.0
high = 10.0
step = 2.5

[params.x2]
type = "float"
low = 0.0
high = 15.0
points = 4

[objective]
kind = "builtin"
function = "branin"
`

func TestGoldenOutput(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "random.toml"), fmt.Sprintf(branin, "random", 25), 0o644)
	writeFile(t, filepath.Join(dir, "grid.toml"), strings.Replace(fmt.Sprintf(branin, "grid", 1), "trials = 1\n", "", 1), 0o644)

	r := runOLC(t, dir, "optimize", "--config", "random.toml", "--store", "s.db", "--json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	golden(t, "random.json", r.stdout)
	r = runOLC(t, dir, "optimize", "grid", "--config", "grid.toml", "--store", "g.db")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	golden(t, "grid.txt", r.stdout)
	r = runOLC(t, dir, "optimize", "best", "--study", "b", "--store", "g.db")
	golden(t, "grid-best.txt", r.stdout)

	// Export: trial numbers 0, 1, 2, … in order with the required keys.
	r = runOLC(t, dir, "optimize", "export", "--study", "b", "--store", "g.db", "--format", "json")
	var exp struct {
		Study  string
		Trials []map[string]any
	}
	if err := json.Unmarshal([]byte(r.stdout), &exp); err != nil {
		t.Fatalf("export is not JSON: %v\n%s", err, r.stdout)
	}
	if exp.Study != "b" || len(exp.Trials) != 28 {
		t.Fatalf("export has study %q and %d trials, want b and 28", exp.Study, len(exp.Trials))
	}
	for i, tr := range exp.Trials {
		for _, k := range []string{"number", "state", "params", "metrics", "value", "attempt", "started", "finished", "error"} {
			if _, ok := tr[k]; !ok {
				t.Fatalf("trial %d lacks %q", i, k)
			}
		}
		if tr["number"] != float64(i) || tr["state"] != "complete" {
			t.Fatalf("trial %d: number %v state %v", i, tr["number"], tr["state"])
		}
	}
	r = runOLC(t, dir, "optimize", "export", "--study", "b", "--store", "g.db", "--format", "csv")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 29 || !strings.HasPrefix(lines[0], "number,state,value,params.x1,params.x2,metrics.value,attempt") {
		t.Errorf("csv: %d lines, header %q", len(lines), lines[0])
	}

	for _, ext := range []string{"png", "svg"} {
		out := filepath.Join(dir, "plot."+ext)
		r = runOLC(t, dir, "optimize", "plot", "--study", "b", "--store", "g.db", "--out", out)
		if r.code != 0 || strings.TrimSpace(r.stdout) != out {
			t.Fatalf("plot: exit %d, stdout %q, stderr %s", r.code, r.stdout, r.stderr)
		}
		b, _ := os.ReadFile(out)
		magic := map[string]string{"png": "\x89PNG", "svg": "<?xml"}[ext]
		if !bytes.HasPrefix(b, []byte(magic)) || len(b) < 1000 {
			t.Errorf("%s plot: %d bytes starting %q", ext, len(b), b[:min(len(b), 8)])
		}
	}
}

func TestResumeRaisesTarget(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "s.toml"), fmt.Sprintf(branin, "random", 10), 0o644)
	r := runOLC(t, dir, "optimize", "--config", "s.toml", "--json")
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	first := decode(t, r.stdout)
	r = runOLC(t, dir, "optimize", "--config", "s.toml", "--json", "--trials", "15")
	second := decode(t, r.stdout)
	if r.code != 0 || second["complete"] != 15.0 || second["started"] != 5.0 || second["resumed"] != 10.0 {
		t.Fatalf("resume with --trials 15: exit %d, %v\n%s", r.code, second, r.stderr)
	}
	if !strings.Contains(r.stderr, `resuming study "b"`) {
		t.Errorf("stderr %q does not say it resumes", r.stderr)
	}
	// The same seed gives the same proposals: a fresh study of 15 trials
	// matches the 10 + 5 of the resumed one.
	writeFile(t, filepath.Join(dir, "s.toml"), fmt.Sprintf(branin, "random", 15), 0o644)
	r = runOLC(t, dir, "optimize", "--config", "s.toml", "--store", "other.db", "--json")
	third := decode(t, r.stdout)
	if fmt.Sprint(third["best"]) != fmt.Sprint(second["best"]) {
		t.Errorf("best of an uninterrupted run %v differs from the resumed one %v", third["best"], second["best"])
	}
	_ = first
}

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("not one JSON object: %v\n%s", err, s)
	}
	return m
}

func TestChangedStudyIsRefused(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "s.toml"), fmt.Sprintf(branin, "random", 5), 0o644)
	if r := runOLC(t, dir, "optimize", "--config", "s.toml"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	writeFile(t, filepath.Join(dir, "s.toml"), strings.Replace(fmt.Sprintf(branin, "random", 5), "high = 10.0", "high = 12.0", 1), 0o644)
	r := runOLC(t, dir, "optimize", "--config", "s.toml")
	if r.code != 2 || !strings.Contains(r.stderr, "params.x1.high: 10 → 12") || !strings.Contains(r.stderr, "--new") {
		t.Fatalf("changed space: exit %d, stderr %s", r.code, r.stderr)
	}
	r = runOLC(t, dir, "optimize", "--config", "s.toml", "--new", "--json")
	if r.code != 0 || !strings.Contains(r.stderr, `as "b.1"`) {
		t.Fatalf("--new: exit %d, stderr %s", r.code, r.stderr)
	}
	r = runOLC(t, dir, "optimize", "status", "--json")
	var st struct{ Studies []struct{ Study string } }
	json.Unmarshal([]byte(r.stdout), &st)
	if len(st.Studies) != 2 || st.Studies[0].Study != "b" || st.Studies[1].Study != "b.1" {
		t.Errorf("studies after --new: %+v", st.Studies)
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	good := fmt.Sprintf(branin, "random", 5)
	cases := []struct {
		name   string
		config string
		args   []string
		want   []string
	}{
		{"unknown key", good + "\n[extra]\nx = 1\n", nil, []string{"bad.toml:", "extra", "unknown key"}},
		{"wrong type", strings.Replace(good, "trials = 5", `trials = "5"`, 1), nil, []string{"bad.toml:6: study.trials: must be an integer"}},
		{"low >= high", strings.Replace(good, "low = -5.0", "low = 11.0", 1), nil, []string{"bad.toml:", "params.x1.low", "less than high"}},
		{"trials <= 0", strings.Replace(good, "trials = 5", "trials = 0", 1), nil, []string{"study.trials: must be a positive integer"}},
		{"builtin arity", strings.Replace(good, "function = \"branin\"", "function = \"hartmann6\"", 1), nil, []string{"objective.function", "hartmann6 takes 6 parameters, the search space has 2"}},
		{"unknown function", strings.Replace(good, "branin", "branninn", 1), nil, []string{"objective.function", "unknown function"}},
		{"unknown sampler", strings.Replace(good, `sampler = "random"`, `sampler = "tpe"`, 1), nil, []string{"study.sampler", "allowed: grid, random, bayes, cmaes"}},
		{"grid without step", strings.Replace(strings.Replace(good, "step = 2.5\n", "", 1), `sampler = "random"`, `sampler = "grid"`, 1), nil, []string{"params.x1.step", "needs step or points"}},
		{"grid too large", strings.Replace(strings.Replace(good, "step = 2.5", "step = 0.0001", 1), `sampler = "random"`, `sampler = "grid"`, 1), nil, []string{"params.x1.step", "at most 100000 points"}},
		{"empty values", strings.Replace(good, "[objective]", "[params.c]\ntype = \"categorical\"\nvalues = []\n\n[objective]", 1), nil, []string{"params.c.values", "at least one value"}},
		{"log low <= 0", strings.Replace(good, "low = 0.0\n", "low = 0.0\nlog = true\n", 1), nil, []string{"params.x2.log", "low > 0"}},
		{"bad flag", good, []string{"--trials", "-3"}, []string{"--trials must be positive"}},
		{"bad sampler flag", good, []string{"--sampler", "tpe"}, []string{`invalid argument "tpe" for "--sampler" flag: allowed: grid, random, bayes`}},
		{"unknown flag", good, []string{"--trails", "3"}, []string{"unknown flag: --trails"}},
		{"missing config", "", []string{"--config", "nope.toml"}, []string{"nope.toml: cannot read the config"}},
		{"unwritable store", good, []string{"--store", "/proc/olc/olc.db"}, []string{"/proc/olc/olc.db", "cannot be written", "choose another --store"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := []string{"optimize", "--config", "bad.toml", "--store", filepath.Join(t.TempDir(), "s.db")}
			if c.config != "" {
				writeFile(t, filepath.Join(dir, "bad.toml"), c.config, 0o644)
			}
			args = append(args, c.args...)
			r := runBinary(t, dir, args...)
			if r.code != 2 {
				t.Errorf("exit code %d, want 2; stderr: %s", r.code, r.stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q lacks %q", r.stderr, w)
				}
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
		})
	}
	r := runBinary(t, dir, "optimize", "status", "--study", "x", "--store", filepath.Join(dir, "none.db"))
	if r.code != 2 || !strings.Contains(r.stderr, "no store at") {
		t.Errorf("status on a missing store: exit %d, %s", r.code, r.stderr)
	}
	r = runBinary(t, dir, "frobnicate")
	if r.code != 2 {
		t.Errorf("unknown command: exit %d, %s", r.code, r.stderr)
	}
}

// commandStudy writes a grid study over a script that sleeps; the script
// hangs while the file "hang" exists next to it.
func commandStudy(t *testing.T, dir string, parallel int) {
	writeFile(t, filepath.Join(dir, "obj.sh"), `#!/bin/sh
if [ -e hang ]; then sleep 300; fi
sleep 0.15
echo "{\"step\": 1, \"loss\": $1}"
echo "{\"loss\": $1}"
`, 0o755)
	writeFile(t, filepath.Join(dir, "s.toml"), fmt.Sprintf(`[study]
name = "cmd"
metric = "loss"
sampler = "grid"
parallel = %d

[params.a]
type = "int"
low = 1
high = 12

[objective]
kind = "command"
command = ["./obj.sh", "{a}"]
timeout = "10m"
`, parallel), 0o644)
}

type statusJSON struct {
	Complete, Failed, Running int
	RunningTrials             []struct{ Trial int } `json:"running_trials"`
}

func status(t *testing.T, dir string) statusJSON {
	t.Helper()
	r := runOLC(t, dir, "optimize", "status", "--study", "cmd", "--json")
	var st statusJSON
	if r.code != 0 {
		return st
	}
	json.Unmarshal([]byte(r.stdout), &st)
	return st
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type exported struct {
	Trials []struct {
		Number  int
		State   string
		Reason  string
		Error   string
		Params  map[string]any
		Attempt int
	}
}

func export(t *testing.T, dir string) exported {
	r := runOLC(t, dir, "optimize", "export", "--study", "cmd")
	var e exported
	if err := json.Unmarshal([]byte(r.stdout), &e); err != nil {
		t.Fatalf("export: %v\n%s", err, r.stderr)
	}
	return e
}

// checkGridOnce checks that every point a = 1..12 completed exactly once.
func checkGridOnce(t *testing.T, e exported) {
	t.Helper()
	done := map[float64]int{}
	for _, tr := range e.Trials {
		if tr.State == "complete" {
			done[tr.Params["a"].(float64)]++
		}
	}
	for a := 1.0; a <= 12; a++ {
		if done[a] != 1 {
			t.Errorf("grid point a=%v completed %d times", a, done[a])
		}
	}
}

func TestKilledRunResumes(t *testing.T) {
	dir := t.TempDir()
	commandStudy(t, dir, 2)
	cmd := exec.Command(olc, "optimize", "--config", "s.toml", "--heartbeat", "100ms")
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "4 complete trials", func() bool { return status(t, dir).Complete >= 4 })
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	st := status(t, dir)
	if st.Running == 0 {
		t.Logf("no trial was running when the process died (%+v)", st)
	}
	r := runBinary(t, dir, "optimize", "--config", "s.toml", "--json")
	if r.code != 0 {
		t.Fatalf("resume: exit %d: %s", r.code, r.stderr)
	}
	res := decode(t, r.stdout)
	if res["complete"] != 12.0 || res["expired"] != float64(st.Running) {
		t.Errorf("resume: %v, want 12 complete and %d expired", res, st.Running)
	}
	e := export(t, dir)
	checkGridOnce(t, e)
	for _, tr := range e.Trials {
		if tr.State == "running" {
			t.Errorf("trial %d still running", tr.Number)
		}
		if tr.State == "failed" && (tr.Reason != "lost" || !strings.Contains(tr.Error, "is gone")) {
			t.Errorf("trial %d failed with %q: %s", tr.Number, tr.Reason, tr.Error)
		}
	}
}

func TestInterruptLeavesNothingRunning(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("process groups and signals as on Linux")
	}
	dir := t.TempDir()
	commandStudy(t, dir, 3)
	writeFile(t, filepath.Join(dir, "hang"), "", 0o644)
	cmd := exec.Command(olc, "optimize", "--config", "s.toml")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "3 running trials", func() bool { return status(t, dir).Running == 3 })
	start := time.Now()
	cmd.Process.Signal(os.Interrupt)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 130 {
			t.Errorf("interrupted olc: %v, want exit code 130", err)
		}
	case <-ctx.Done():
		cmd.Process.Kill()
		t.Fatal("olc did not stop within 30s of SIGINT")
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("stopping took %v", d)
	}
	if !strings.Contains(stderr.String(), "interrupted") {
		t.Errorf("stderr %q does not say interrupted", stderr.String())
	}
	e := export(t, dir)
	interrupted := 0
	for _, tr := range e.Trials {
		switch {
		case tr.State == "running":
			t.Errorf("trial %d left running", tr.Number)
		case tr.State == "failed" && tr.Reason == "interrupted":
			interrupted++
		case tr.State == "failed":
			t.Errorf("trial %d failed with %q", tr.Number, tr.Reason)
		}
	}
	if interrupted != 3 {
		t.Errorf("%d trials interrupted, want 3", interrupted)
	}
	// Resume without hanging: the grid completes, each point once.
	os.Remove(filepath.Join(dir, "hang"))
	r := runBinary(t, dir, "optimize", "--config", "s.toml", "--json")
	if r.code != 0 {
		t.Fatalf("resume: %s", r.stderr)
	}
	checkGridOnce(t, export(t, dir))
}

func TestCommandFailuresDoNotStopTheStudy(t *testing.T) {
	dir := t.TempDir()
	// Odd a fails, a = 4 prints garbage, a = 6 a NaN, a = 8 hangs past the
	// timeout: 3 of 12 complete (2, 10, 12), and the study goes on to the end.
	writeFile(t, filepath.Join(dir, "obj.sh"), `#!/bin/sh
case $1 in
  1|3|5|7|9|11) echo "boom on $1" >&2; exit 3 ;;
  4) echo "not json" ;;
  6) echo '{"loss": NaN}' ;;
  8) sleep 30 ;;
  *) echo "{\"loss\": $1}" ;;
esac
`, 0o755)
	writeFile(t, filepath.Join(dir, "s.toml"), `[study]
name = "cmd"
metric = "loss"
sampler = "grid"
parallel = 3

[params.a]
type = "int"
low = 1
high = 12

[objective]
kind = "command"
command = ["./obj.sh", "{a}"]
timeout = "1s"
`, 0o644)
	r := runOLC(t, dir, "optimize", "--config", "s.toml", "--json")
	res := decode(t, r.stdout)
	if res["complete"] != 3.0 || res["failed"] != 9.0 || res["exhausted"] != true {
		t.Fatalf("exit %d, result %v\n%s", r.code, res, r.stderr)
	}
	errs := map[float64]string{}
	for _, tr := range export(t, dir).Trials {
		if tr.State == "failed" {
			errs[tr.Params["a"].(float64)] = tr.Error
		}
	}
	for a, want := range map[float64]string{1: "boom on 1", 4: "printed no JSON object", 6: `metric "loss" is NaN`, 8: "timed out after 1s"} {
		if !strings.Contains(errs[a], want) {
			t.Errorf("a=%v failed with %q, want %q", a, errs[a], want)
		}
	}
	logs, _ := os.ReadFile(filepath.Join(dir, ".olc", "runs", "cmd", "0", "stderr.log"))
	if string(logs) != "boom on 1\n" {
		t.Errorf("trial 0 stderr.log = %q", logs)
	}
}

func TestVersion(t *testing.T) {
	r := runBinary(t, t.TempDir(), "version", "--json")
	v := decode(t, r.stdout)
	if r.code != 0 || v["go"] != runtime.Version() || v["version"] == "" || v["blas"] != "gonum (pure Go)" || v["simd"] != model.SIMD() || v["bf16"] != model.BF16Route() {
		t.Errorf("version: %v", v)
	}
}

func TestBayesStudy(t *testing.T) {
	dir := t.TempDir()
	cfg := strings.Replace(fmt.Sprintf(branin, "random", 20), "step = 2.5\n", "", 1)
	cfg = strings.Replace(cfg, "points = 4\n", "", 1)
	writeFile(t, filepath.Join(dir, "b.toml"), cfg+"\n[sampler.bayes]\nn_initial = 8\ndeterministic = true\n", 0o644)
	// The shortcut sets the sampler; the study runs twice with the same
	// seed in two stores and must propose the same points.
	var exports [2]string
	for i, store := range []string{"a.db", "b.db"} {
		r := runOLC(t, dir, "optimize", "bayes", "--config", "b.toml", "--store", store, "--json")
		if r.code != 0 {
			t.Fatalf("bayes run: exit %d: %s", r.code, r.stderr)
		}
		res := decode(t, r.stdout)
		best := res["best"].(map[string]any)
		// Random search's median regret on Branin after 20 evaluations is
		// about 1.5; a working model does much better.
		if res["sampler"] != "bayes" || res["complete"] != 20.0 || best["value"].(float64) > 1.0 {
			t.Fatalf("bayes result %v", res)
		}
		e := runOLC(t, dir, "optimize", "export", "--study", "b", "--store", store)
		var doc struct {
			Trials []struct{ Params map[string]any }
		}
		json.Unmarshal([]byte(e.stdout), &doc)
		b, _ := json.Marshal(doc.Trials)
		exports[i] = string(b)
	}
	if exports[0] != exports[1] {
		t.Error("the same config and seed gave different proposals")
	}
	r := runOLC(t, dir, "optimize", "--config", "b.toml", "--store", "c.db", "--sampler", "bayes", "--trials", "5")
	if r.code != 2 || !strings.Contains(r.stderr, "sampler.bayes.n_initial: 8 start-up points exceed the 5 trials wanted") {
		t.Errorf("n_initial > trials: exit %d, %s", r.code, r.stderr)
	}
	writeFile(t, filepath.Join(dir, "k.toml"), cfg+"\n[sampler.bayes]\nkappa = -2.0\n", 0o644)
	r = runOLC(t, dir, "optimize", "bayes", "--config", "k.toml", "--store", "d.db")
	if r.code != 2 || !strings.Contains(r.stderr, "k.toml:") || !strings.Contains(r.stderr, "sampler.bayes.kappa") {
		t.Errorf("negative kappa: exit %d, %s", r.code, r.stderr)
	}
}

func TestBench(t *testing.T) {
	r := runOLC(t, t.TempDir(), "bench", "optimize", "--functions", "branin,sphere:3", "--samplers", "bayes-ucb,random,grid",
		"--budgets", "12,16", "--seeds", "2", "--timing=", "--json")
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var rep struct {
		Seeds  int
		Regret []struct {
			Function, Sampler string
			Budget            int
			Median            float64  `json:"median_regret"`
			Ratio             *float64 `json:"random_over_this"`
		}
		Kernels struct{ BLAS, SIMD, BF16 string }
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, r.stdout)
	}
	if rep.Kernels.BLAS != model.Backend || rep.Kernels.SIMD != model.SIMD() || rep.Kernels.BF16 != model.BF16Route() {
		t.Errorf("kernels %+v, want those of olc version", rep.Kernels)
	}
	// 2 functions × 2 budgets × (bayes, random), plus grid on Branin at 16.
	if rep.Seeds != 2 || len(rep.Regret) != 9 {
		t.Fatalf("report: %+v", rep)
	}
	for _, row := range rep.Regret {
		if row.Median < 0 || (row.Sampler == "random") != (row.Ratio == nil) {
			t.Errorf("row %+v", row)
		}
	}
	for _, bad := range [][]string{{"--seeds", "0"}, {"--functions", "nope"}, {"--samplers", "bayes-ts"}, {"--budgets", "0"}} {
		r := runOLC(t, t.TempDir(), append([]string{"bench", "optimize"}, bad...)...)
		if r.code != 2 {
			t.Errorf("bench %v: exit %d, want 2", bad, r.code)
		}
	}
}

// TestBestIsObserved runs Bayesian optimization on a noisy objective:
// (x − 0.5)² plus noise of ±0.05 drawn from the trial's x. Every report
// (run, status, best, all with --json) names the same best trial, the
// one with the lowest observed value, and the model's choice comes
// separately as recommended, with its posterior mean inside its 95%
// interval; the text says which is which.
func TestBestIsObserved(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "noisy.sh"), `#!/bin/sh
awk -v x="$1" 'BEGIN { n = sin(x * 12345.678) * 0.05; printf "{\"loss\": %.6f}\n", (x - 0.5) * (x - 0.5) + n }'
`, 0o755)
	writeFile(t, filepath.Join(dir, "n.toml"), `[study]
name = "noisy"
metric = "loss"
sampler = "bayes"
trials = 24
seed = 3

[params.x]
type = "float"
low = 0
high = 1

[objective]
kind = "command"
command = ["./noisy.sh", "{x}"]

[sampler.bayes]
n_initial = 8
`, 0o644)
	r := runOLC(t, dir, "optimize", "--config", "n.toml", "--json")
	if r.code != 0 {
		t.Fatalf("run: exit %d: %s", r.code, r.stderr)
	}
	type rec struct {
		Trial     int
		Value     float64
		Mean      float64 `json:"posterior_mean"`
		Low, High *float64
	}
	var res struct {
		Best        struct{ Trial int }
		Recommended *rec
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatal(err)
	}
	e := runOLC(t, dir, "optimize", "export", "--study", "noisy", "--format", "json")
	var doc struct {
		Trials []struct {
			Number int
			State  string
			Value  float64
		}
	}
	if err := json.Unmarshal([]byte(e.stdout), &doc); err != nil {
		t.Fatalf("export: %v\n%s", err, e.stdout)
	}
	lowest, at := math.Inf(1), -1
	for _, tr := range doc.Trials {
		if tr.State == "complete" && tr.Value < lowest {
			lowest, at = tr.Value, tr.Number
		}
	}
	if res.Best.Trial != at {
		t.Errorf("run's best is trial %d, the lowest observed is trial %d (%g)", res.Best.Trial, at, lowest)
	}
	for _, cmd := range [][]string{{"status", "--study", "noisy", "--json"}, {"best", "--study", "noisy", "--json"}} {
		r := runOLC(t, dir, append([]string{"optimize"}, cmd...)...)
		var out struct {
			Best        *struct{ Trial int }
			Trial       *int
			Recommended *rec
		}
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
			t.Fatalf("%v: %v\n%s", cmd, err, r.stdout)
		}
		got := -1
		if out.Best != nil {
			got = out.Best.Trial
		} else if out.Trial != nil {
			got = *out.Trial
		}
		if got != at {
			t.Errorf("olc optimize %s: best trial %d, want %d", cmd[0], got, at)
		}
		if (out.Recommended == nil) != (res.Recommended == nil) || (out.Recommended != nil && out.Recommended.Trial != res.Recommended.Trial) {
			t.Errorf("olc optimize %s: recommended %+v, run said %+v", cmd[0], out.Recommended, res.Recommended)
		}
	}
	if res.Recommended == nil {
		t.Fatal("the model did not find the noise (no recommendation)")
	}
	if rc := res.Recommended; rc.Low == nil || rc.High == nil || !(*rc.Low <= rc.Mean && rc.Mean <= *rc.High) || math.Abs(rc.Mean) > 0.06 {
		t.Errorf("recommended %+v: want a posterior mean near the minimum 0, inside its interval", *rc)
	}
	txt := runOLC(t, dir, "optimize", "best", "--study", "noisy")
	if !strings.Contains(txt.stdout, fmt.Sprintf("best: trial %d, value", at)) || !strings.Contains(txt.stdout, "recommended: trial") ||
		!strings.Contains(txt.stdout, "lucky draw") {
		t.Errorf("olc optimize best:\n%s", txt.stdout)
	}
}
