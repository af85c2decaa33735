package main_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// scriptStudy returns a random-search study of trials trials, parallel at
// a time, over one float parameter a, whose objective is the command (a
// TOML array) with the extra [objective] lines.
func scriptStudy(name string, trials, parallel int, command, extra string) string {
	return fmt.Sprintf(`[study]
name = %q
metric = "loss"
trials = %d
parallel = %d

[params.a]
type = "float"
low = 0.0
high = 1.0

[objective]
kind = "command"
command = %s
%s`, name, trials, parallel, command, extra)
}

// marked lists the processes whose environment holds mark (ORPHAN_MARK=…).
func marked(mark string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		var pid int
		if _, err := fmt.Sscan(e.Name(), &pid); err != nil {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil {
			continue
		}
		for _, kv := range bytes.Split(env, []byte{0}) {
			if string(kv) == mark {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

func TestKilledOptimizeTakesItsObjectivesAlong(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("children die with olc on Linux only (PR_SET_PDEATHSIG)")
	}
	dir := t.TempDir()
	mark := "ORPHAN_MARK=" + dir
	// The objective starts a child of its own, as a shell script or a
	// launcher does: both must go.
	writeFile(t, filepath.Join(dir, "obj.sh"), "#!/bin/sh\nsleep 300 &\nsleep 300\n", 0o755)
	writeFile(t, filepath.Join(dir, "s.toml"), scriptStudy("orphans", 4, 2, `["./obj.sh"]`, fmt.Sprintf("env = { ORPHAN_MARK = %q }\n", dir)), 0o644)
	cmd := exec.Command(olc, "optimize", "--config", "s.toml")
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Two trials, each a supervisor, a shell and two sleeps.
	waitFor(t, "two running objectives", func() bool { return len(marked(mark)) >= 8 })
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	deadline := time.Now().Add(15 * time.Second)
	for len(marked(mark)) > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if left := marked(mark); len(left) > 0 {
		for _, pid := range left {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		t.Fatalf("%d objective processes outlived the killed olc by 15 s", len(left))
	}

	// status says the trials that seem to run are lost, and why.
	r := runBinary(t, dir, "optimize", "status", "--study", "orphans")
	if r.code != 0 || strings.Count(r.stdout, "LOST, process") != 2 || !strings.Contains(r.stdout, "is gone") ||
		!strings.Contains(r.stdout, "the next run of the study marks them failed and runs them again") {
		t.Errorf("status: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = runBinary(t, dir, "optimize", "status", "--study", "orphans", "--json")
	var st struct {
		RunningTrials []struct{ Lost string } `json:"running_trials"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &st); err != nil || len(st.RunningTrials) != 2 {
		t.Fatalf("status --json: %v\n%s", err, r.stdout)
	}
	for _, rt := range st.RunningTrials {
		if !strings.Contains(rt.Lost, "is gone") {
			t.Errorf("running trial's lost = %q", rt.Lost)
		}
	}
}

func TestConfigFaultsAreRefusedUpFront(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "notexec.sh"), "#!/bin/sh\necho '{\"loss\": 1}'\n", 0o644)
	study := func(name, command string) string { return scriptStudy(name, 3, 1, command, "") }
	cases := []struct {
		name, config string
		want         []string
	}{
		{"no such program", study("s", `["pyhton3", "train.py"]`), []string{"bad.toml:", "objective.command", `program "pyhton3" not found in PATH`}},
		{"no such script", study("s", `["./nosuch.sh"]`), []string{"objective.command", "nosuch.sh does not exist"}},
		{"not executable", study("s", `["./notexec.sh"]`), []string{"objective.command", "notexec.sh is not executable"}},
		{"name of 300 characters", study(strings.Repeat("n", 300), `["sh", "-c", "true"]`), []string{"bad.toml:2: study.name: is 300 characters long; allowed: at most 100"}},
		{"name of 5000 characters", study(strings.Repeat("n", 5000), `["sh", "-c", "true"]`), []string{"study.name: is 5000 characters long"}},
		{"no such workdir", strings.Replace(study("s", `["sh", "-c", "true"]`), "[objective]\n", "[objective]\nworkdir = \"nowhere\"\n", 1), []string{"objective.workdir", "nowhere does not exist"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			writeFile(t, filepath.Join(dir, "bad.toml"), c.config, 0o644)
			store := filepath.Join(t.TempDir(), "s.db")
			r := runBinary(t, dir, "optimize", "--config", "bad.toml", "--store", store)
			if r.code != 2 {
				t.Errorf("exit %d, want 2\n%s", r.code, r.stderr)
			}
			for _, w := range c.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr %q lacks %q", r.stderr, w)
				}
			}
			if len(r.stderr) > 2000 {
				t.Errorf("the message is %d bytes long", len(r.stderr))
			}
			if _, err := os.Stat(store); err == nil {
				t.Errorf("a store was created at %s", store)
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(store), "runs")); err == nil {
				t.Errorf("trial folders were created")
			}
		})
	}
}

func TestTrialDirFromAnotherFolder(t *testing.T) {
	dir := t.TempDir()
	// The objective writes into its trial folder and reports what it saw.
	writeFile(t, filepath.Join(dir, "sub", "obj.sh"), `#!/bin/sh
case "$OLC_TRIAL_DIR" in /*) ;; *) echo "relative: $OLC_TRIAL_DIR" >&2; exit 1 ;; esac
echo artifact > "$OLC_TRIAL_DIR/artifact.txt" || exit 1
echo '{"loss": 1}'
`, 0o755)
	writeFile(t, filepath.Join(dir, "sub", "study.toml"), scriptStudy("tdir", 2, 1, `["./obj.sh"]`, ""), 0o644)
	r := runBinary(t, dir, "optimize", "--config", "sub/study.toml", "--json")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for n := range 2 {
		b, err := os.ReadFile(filepath.Join(dir, ".olc", "runs", "tdir", fmt.Sprint(n), "artifact.txt"))
		if err != nil || string(b) != "artifact\n" {
			t.Errorf("trial %d's artifact: %q, %v", n, b, err)
		}
	}
	var rec struct {
		Env []string `json:"env"`
	}
	b, _ := os.ReadFile(filepath.Join(dir, ".olc", "runs", "tdir", "0", "command.json"))
	json.Unmarshal(b, &rec)
	for _, kv := range rec.Env {
		if v, ok := strings.CutPrefix(kv, "OLC_TRIAL_DIR="); ok && !filepath.IsAbs(v) {
			t.Errorf("command.json records %s", kv)
		}
	}
}

func TestDamagedStore(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "s.toml"), fmt.Sprintf(branin, "random", 40), 0o644)
	if r := runBinary(t, dir, "optimize", "--config", "s.toml"); r.code != 0 {
		t.Fatalf("optimize: %s", r.stderr)
	}
	path := filepath.Join(dir, ".olc", "olc.db")
	b, err := os.ReadFile(path)
	if err != nil || len(b) < 3*4096 {
		t.Fatalf("store of %d bytes: %v", len(b), err)
	}
	for i := 4096; i < 4096+64; i++ { // garbage over the second page's header
		b[i] = 0x5A
	}
	writeFile(t, path, string(b), 0o644)
	for _, args := range [][]string{
		{"optimize", "status"},
		{"optimize", "status", "--study", "b"},
		{"optimize", "export", "--study", "b"},
		{"optimize", "--config", "s.toml", "--trials", "50"},
	} {
		r := runBinary(t, dir, args...)
		if r.code != 2 || !strings.Contains(r.stderr, "the store .olc/olc.db is damaged (database disk image is malformed)") || !strings.Contains(r.stderr, ".recover") {
			t.Errorf("olc %s: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
		}
		after, _ := os.ReadFile(path)
		if !bytes.Equal(after, b) {
			t.Fatalf("olc %s wrote to the damaged store", strings.Join(args, " "))
		}
		for _, side := range []string{"-wal", "-shm"} {
			if _, err := os.Stat(path + side); err == nil {
				t.Errorf("olc %s created %s", strings.Join(args, " "), path+side)
			}
		}
	}
	// An empty file is not turned into a store by a command that reads.
	empty := filepath.Join(dir, "empty.db")
	writeFile(t, empty, "", 0o644)
	r := runBinary(t, dir, "optimize", "status", "--store", "empty.db")
	if r.code != 2 || !strings.Contains(r.stderr, "empty.db is not an olc store (the file is empty)") {
		t.Errorf("status on an empty file: exit %d\n%s", r.code, r.stderr)
	}
	if st, _ := os.Stat(empty); st.Size() != 0 {
		t.Errorf("status wrote %d bytes into the empty file", st.Size())
	}
}

func TestExportIntoFolder(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "s.toml"), fmt.Sprintf(branin, "random", 5), 0o644)
	if r := runBinary(t, dir, "optimize", "--config", "s.toml"); r.code != 0 {
		t.Fatalf("optimize: %s", r.stderr)
	}
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"optimize", "export", "--study", "b", "--out", "out"},
		{"optimize", "export", "--study", "b", "--format", "csv", "--out", "out"},
		{"optimize", "plot", "--study", "b", "--out", "out"},
	} {
		if r := runBinary(t, dir, args...); r.code != 0 {
			t.Errorf("olc %s: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
		}
	}
	var names []string
	ents, _ := os.ReadDir(out)
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "b.csv b.json b.png" {
		t.Errorf("the folder holds %v, want b.csv b.json b.png and no temporary file", names)
	}
	// A file in the way of a folder's name is an error, with nothing left.
	r := runBinary(t, dir, "optimize", "export", "--study", "b", "--out", "s.toml/x.json")
	if r.code == 0 {
		t.Errorf("export under a file succeeded")
	}
}

// stopWith starts olc in dir, waits for ready, sends sig and returns the
// exit code and the output.
func stopWith(t *testing.T, dir string, sig syscall.Signal, ready func() bool, args ...string) result {
	t.Helper()
	cmd := exec.Command(olc, args...)
	cmd.Dir = dir
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "olc to get going", ready)
	cmd.Process.Signal(sig)
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("olc %s did not stop within 60 s of %v", strings.Join(args, " "), sig)
	}
	return result{cmd.ProcessState.ExitCode(), out.String(), errOut.String()}
}

func TestInterruptedCommandsExit130(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("signals as on Linux")
	}
	dir := t.TempDir()
	cfg := strings.Replace(strings.Replace(tinyTrain, "steps = 4", "steps = 100000", 1), "eval_every = 2", "eval_every = 0", 1)
	writeFile(t, filepath.Join(dir, "train.toml"), cfg, 0o644)
	metrics := filepath.Join(dir, "runs", "tiny", "metrics.jsonl")
	r := stopWith(t, dir, syscall.SIGINT, func() bool {
		b, _ := os.ReadFile(metrics)
		return bytes.Count(b, []byte("\n")) >= 2
	}, "train", "--config", "train.toml")
	if r.code != 130 || !strings.Contains(r.stdout, "checkpoint saved") || !strings.Contains(r.stderr, "interrupted") {
		t.Errorf("train after SIGINT: exit %d, want 130\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "runs", "tiny", "checkpoint")); err != nil {
		t.Errorf("no checkpoint after the interruption: %v", err)
	}

	commandStudy(t, dir, 2)
	writeFile(t, filepath.Join(dir, "hang"), "", 0o644)
	r = stopWith(t, dir, syscall.SIGTERM, func() bool { return status(t, dir).Running == 2 }, "optimize", "--config", "s.toml")
	if r.code != 143 || !strings.Contains(r.stderr, "interrupted") {
		t.Errorf("optimize after SIGTERM: exit %d, want 143\n%s", r.code, r.stderr)
	}
}

// runOLCEnv is runOLC with extra environment variables.
func runOLCEnv(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(olc, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	cmd.Run()
	return result{cmd.ProcessState.ExitCode(), out.String(), errOut.String()}
}

func TestProgressWithoutTerminal(t *testing.T) {
	dir := t.TempDir()
	cfg := strings.Replace(strings.Replace(tinyTrain, "steps = 4", "steps = 40", 1), "eval_every = 2", "eval_every = 20", 1)
	writeFile(t, filepath.Join(dir, "train.toml"), cfg, 0o644)
	// stderr is a pipe: periodic lines instead of a bar.
	r := runOLCEnv(t, dir, []string{"OLC_PROGRESS_INTERVAL=1ms"}, "train", "--config", "train.toml")
	if r.code != 0 {
		t.Fatalf("train: exit %d\n%s", r.code, r.stderr)
	}
	lines := 0
	for _, l := range strings.Split(r.stderr, "\n") {
		if strings.HasPrefix(l, "train tiny: ") && strings.Contains(l, "%, step ") && strings.Contains(l, " of 40, loss ") && strings.Contains(l, "tokens/s") && strings.Contains(l, " elapsed") {
			lines++
		}
	}
	if lines < 5 || !strings.Contains(r.stderr, "left") || !strings.Contains(r.stderr, "step 20: eval exact") {
		t.Errorf("%d progress lines, want one a step; stderr:\n%s", lines, r.stderr)
	}
	if strings.Contains(r.stderr, "\r") || strings.Contains(r.stderr, "\x1b[") {
		t.Errorf("a bar was drawn on a pipe:\n%q", r.stderr)
	}
	// The default interval is 10 s: a run of a second prints no line.
	r = runBinary(t, dir, "train", "--config", "train.toml", "--set", "output.name=quiet", "--set", "train.steps=2")
	if strings.Contains(r.stderr, "train quiet: ") {
		t.Errorf("progress lines within the first 10 s:\n%s", r.stderr)
	}

	// A failed trial gets a line with its cause and its logs.
	writeFile(t, filepath.Join(dir, "fail.sh"), "#!/bin/sh\necho 'starting' >&2\necho 'ValueError: lr must be positive' >&2\nexit 3\n", 0o755)
	writeFile(t, filepath.Join(dir, "s.toml"), scriptStudy("failing", 2, 1, `["./fail.sh"]`, ""), 0o644)
	r = runBinary(t, dir, "optimize", "--config", "s.toml", "--max-failures", "2")
	want := "olc: trial 0 failed: exit status 3: ValueError: lr must be positive (logs: "
	if !strings.Contains(r.stderr, want) || !strings.Contains(r.stderr, filepath.Join(".olc", "runs", "failing", "0")+")") {
		t.Errorf("stderr lacks %q and the log folder:\n%s", want, r.stderr)
	}
	if !strings.Contains(r.stderr, "the last one failed with: exit status 3: ValueError: lr must be positive") {
		t.Errorf("the final error hides the cause:\n%s", r.stderr)
	}
}
