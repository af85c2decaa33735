package experiments_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/optimize"
)

// script writes an executable shell script and returns its path.
func script(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "objective.sh")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func run(t *testing.T, c *experiments.Command, ctx context.Context, p optimize.Params) (experiments.Outcome, string, error) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "runs", "s", "3")
	out, err := c.Run(ctx, experiments.TrialRun{Study: "s", Number: 3, Attempt: 1, Params: p, Metric: "loss", Dir: dir})
	return out, dir, err
}

func TestCommandSuccess(t *testing.T) {
	path := script(t, `
echo "starting with lr=$1 layers=$OLC_PARAM_LAYERS opt=$OLC_PARAM_OPT_NAME trial=$OLC_TRIAL extra=$EXTRA"
echo '{"step": 1, "loss": 0.9}'
echo 'progress: {not json}'
echo '{"step": 2, "loss": 0.5, "note": "text"}'
echo "a warning" >&2
printf '{"loss": %s, "acc": 0.8, "tag": "final"}\n' "$1"
`)
	c := &experiments.Command{Argv: []string{path, "{lr}", "--name={opt-name}_x"}, Env: map[string]string{"EXTRA": "yes"}}
	p := optimize.Params{"lr": 0.25, "layers": int64(3), "opt-name": "adam"}
	out, dir, err := run(t, c, context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	if out.Metrics["loss"] != 0.25 || out.Metrics["acc"] != 0.8 || len(out.Metrics) != 2 {
		t.Errorf("metrics = %v, want loss 0.25 and acc 0.8", out.Metrics)
	}
	if len(out.Intermediate) != 2 || out.Intermediate[0].Step != 1 || out.Intermediate[1].Metrics["loss"] != 0.5 {
		t.Errorf("intermediate = %+v", out.Intermediate)
	}
	if out.LogPath != dir {
		t.Errorf("LogPath = %q, want %q", out.LogPath, dir)
	}
	stdout, _ := os.ReadFile(filepath.Join(dir, "stdout.log"))
	if !strings.Contains(string(stdout), "starting with lr=0.25 layers=3 opt=adam trial=3 extra=yes") {
		t.Errorf("stdout.log = %q", stdout)
	}
	stderr, _ := os.ReadFile(filepath.Join(dir, "stderr.log"))
	if string(stderr) != "a warning\n" {
		t.Errorf("stderr.log = %q", stderr)
	}
	var rec struct {
		Argv []string
		Env  []string
	}
	b, _ := os.ReadFile(filepath.Join(dir, "command.json"))
	if err := json.Unmarshal(b, &rec); err != nil {
		t.Fatal(err)
	}
	if strings.Join(rec.Argv, " ") != path+" 0.25 --name=adam_x" {
		t.Errorf("command.json argv = %q", rec.Argv)
	}
	if !strings.Contains(strings.Join(rec.Env, " "), "OLC_PARAM_OPT_NAME=adam") {
		t.Errorf("command.json env = %q", rec.Env)
	}
}

func TestCommandFailures(t *testing.T) {
	cases := []struct {
		name    string
		body    string
		argv0   string
		timeout time.Duration
		want    []string
	}{
		{"exit code", "echo 'some output'\necho 'Traceback: boom' >&2\nexit 3\n", "", 0, []string{"exit status 3", "stderr.log", "Traceback: boom"}},
		{"garbage", "echo 'hello'\necho '{broken json'\n", "", 0, []string{"printed no JSON object", "stdout.log", "{broken json"}},
		{"timeout", "echo started\nsleep 30\n", "", 300 * time.Millisecond, []string{"timed out after 300ms", "started"}},
		{"killed", "kill -9 $$\n", "", 0, []string{"killed by signal 9"}},
		{"missing", "", "/nonexistent/train.py", 0, []string{`command not found: program "/nonexistent/train.py": /nonexistent/train.py does not exist`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			argv0 := c.argv0
			if argv0 == "" {
				argv0 = script(t, c.body)
			}
			cmd := &experiments.Command{Argv: []string{argv0}, Timeout: c.timeout, Grace: time.Second}
			start := time.Now()
			_, _, err := run(t, cmd, context.Background(), optimize.Params{})
			if err == nil {
				t.Fatal("Run succeeded")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if time.Since(start) > 10*time.Second {
				t.Errorf("Run took %v", time.Since(start))
			}
		})
	}
}

// TestCommandKillsProcessGroup checks that a timed-out or interrupted
// command takes its children with it.
func TestCommandKillsProcessGroup(t *testing.T) {
	for _, how := range []string{"timeout", "cancel"} {
		t.Run(how, func(t *testing.T) {
			pidFile := filepath.Join(t.TempDir(), "child.pid")
			path := script(t, "sleep 300 &\necho $! > "+pidFile+"\nwait\n")
			c := &experiments.Command{Argv: []string{path}, Grace: time.Second}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if how == "timeout" {
				c.Timeout = 500 * time.Millisecond
			} else {
				time.AfterFunc(500*time.Millisecond, cancel)
			}
			_, _, err := run(t, c, ctx, optimize.Params{})
			if err == nil {
				t.Fatal("Run succeeded")
			}
			if how == "cancel" && !errors.Is(err, context.Canceled) {
				t.Errorf("cancelled Run = %v, want context.Canceled", err)
			}
			b, err := os.ReadFile(pidFile)
			if err != nil {
				t.Fatal(err)
			}
			pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
			deadline := time.Now().Add(5 * time.Second)
			for alive(pid) {
				if time.Now().After(deadline) {
					t.Fatalf("child %d still alive", pid)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

// alive reports whether a process runs: it exists and is not a zombie
// waiting for a reaper.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

func TestParseMetricsNonFinite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stdout.log")
	os.WriteFile(path, []byte(`{"loss": NaN, "acc": Infinity, "x": -Infinity, "y": null, "z": 1}`+"\n"), 0o644)
	m, _, err := experiments.ParseMetrics(path)
	if err != nil {
		t.Fatal(err)
	}
	if !math.IsNaN(m["loss"]) || !math.IsInf(m["acc"], 1) || !math.IsInf(m["x"], -1) || !math.IsNaN(m["y"]) || m["z"] != 1 {
		t.Errorf("metrics = %v", m)
	}
}

func TestParseMetricsLongLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stdout.log")
	long := strings.Repeat("x", 3<<20)
	os.WriteFile(path, []byte(`{"loss": 2}`+"\n"+long+"\n"+`{"loss": 1}`+"\n"+long), 0o644)
	m, _, err := experiments.ParseMetrics(path)
	if err != nil || m["loss"] != 1 {
		t.Errorf("metrics = %v, %v; want loss 1", m, err)
	}
}

func TestParseMetricsLargeObject(t *testing.T) {
	dir := t.TempDir()
	// A metrics line of several MiB (per-example predictions beside the
	// loss) is read whole.
	preds := strings.Repeat("0.125,", 600_000)
	big := `{"loss": 0.5, "preds": [` + preds + `1]}`
	path := filepath.Join(dir, "big.log")
	os.WriteFile(path, []byte(`{"step": 1, "loss": 0.9}`+"\n"+big+"\n"), 0o644)
	m, inter, err := experiments.ParseMetrics(path)
	if err != nil || m["loss"] != 0.5 || len(inter) != 1 {
		t.Fatalf("a %d-byte metrics line: %v, %v, %v", len(big), m, inter, err)
	}
	// One over the limit is reported as what it is.
	huge := `{"loss": 0.5, "preds": [` + strings.Repeat("0.125,", experiments.MaxMetricsLine/6+10) + `1]}`
	path = filepath.Join(dir, "huge.log")
	os.WriteFile(path, []byte(`{"loss": 2}`+"\n"+huge+"\n"), 0o644)
	_, _, err = experiments.ParseMetrics(path)
	if err == nil || !strings.Contains(err.Error(), "stdout line 2, which starts like a JSON object, is 64.0 MiB long, over olc's limit of 64 MiB") {
		t.Errorf("a line over the limit: %v", err)
	}
}

func TestCommandCheck(t *testing.T) {
	space, _ := optimize.NewSpace(
		optimize.Param{Name: "lr", Kind: optimize.Float, Low: 0, High: 1},
		optimize.Param{Name: "batch_size", Kind: optimize.Int, Low: 1, High: 2},
	)
	ok := &experiments.Command{Argv: []string{"python3", "train.py", "--lr={lr}", "--bs", "{batch_size}", `{"json": true}`}}
	if err := ok.Check(space); err != nil {
		t.Errorf("Check: %v", err)
	}
	bad := &experiments.Command{Argv: []string{"python3", "--lr={learning_rate}"}}
	if err := bad.Check(space); err == nil || !strings.Contains(err.Error(), "{learning_rate} names no parameter; allowed: {lr}, {batch_size}") {
		t.Errorf("Check of an unknown placeholder = %v", err)
	}
	if err := (&experiments.Command{}).Check(space); err == nil {
		t.Error("Check of an empty command succeeded")
	}
	clash, _ := optimize.NewSpace(
		optimize.Param{Name: "a-b", Kind: optimize.Float, Low: 0, High: 1},
		optimize.Param{Name: "a_b", Kind: optimize.Float, Low: 0, High: 1},
	)
	if err := (&experiments.Command{Argv: []string{"run"}}).Check(clash); err == nil || !strings.Contains(err.Error(), "OLC_PARAM_A_B") {
		t.Errorf("Check of colliding names = %v", err)
	}
}
