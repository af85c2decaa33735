package main_test

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/experiments/sqlitestore"
	"github.com/olc-toolkit/olc/optimize"
)

// listed returns the names of the studies 'olc optimize list' prints for
// the arguments.
func listed(t *testing.T, dir string, args ...string) []string {
	t.Helper()
	r := runOLC(t, dir, append([]string{"optimize", "list", "--json"}, args...)...)
	if r.code != 0 {
		t.Fatalf("list %v: exit %d: %s", args, r.code, r.stderr)
	}
	var out struct{ Studies []struct{ Study string } }
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatal(err)
	}
	names := []string{}
	for _, s := range out.Studies {
		names = append(names, s.Study)
	}
	return names
}

func TestStudyHousekeeping(t *testing.T) {
	dir := t.TempDir()
	commandStudy(t, dir, 1)
	if r := runOLC(t, dir, "optimize", "--config", "s.toml", "--trials", "3"); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	writeFile(t, filepath.Join(dir, "o.toml"), `[study]
name = "other"
trials = 4
[params.x]
type = "float"
low = 0.0
high = 1.0
[objective]
kind = "builtin"
function = "sphere"
`, 0o644)
	if r := runOLC(t, dir, "optimize", "random", "--config", "o.toml"); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}

	// Listing filters.
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "cmd other"},
		{[]string{"--match", "c*"}, "cmd"},
		{[]string{"--sampler", "random"}, "other"},
		{[]string{"--since", "2h"}, "cmd other"},
		{[]string{"--since", "2999-01-01"}, ""},
		{[]string{"--active"}, ""},
	} {
		if got := strings.Join(listed(t, dir, c.args...), " "); got != c.want {
			t.Errorf("list %v = %q, want %q", c.args, got, c.want)
		}
	}
	if r := runOLC(t, dir, "optimize", "status", "--sampler", "grid"); r.code != 0 || !strings.Contains(r.stdout, "cmd") || strings.Contains(r.stdout, "other") {
		t.Errorf("status --sampler grid: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// Rename; the trials keep their logs.
	if r := runOLC(t, dir, "optimize", "rename", "--study", "cmd", "--to", "cmd2"); r.code != 0 {
		t.Fatalf("rename: exit %d: %s", r.code, r.stderr)
	}
	if r := runOLC(t, dir, "optimize", "best", "--study", "cmd2", "--json"); r.code != 0 || !strings.Contains(r.stdout, filepath.Join("runs", "cmd")) {
		t.Errorf("best of the renamed study: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := runOLC(t, dir, "optimize", "plot", "--study", "cmd2"); r.code != 0 {
		t.Fatalf("plot: exit %d: %s", r.code, r.stderr)
	}
	if r := runOLC(t, dir, "optimize", "plot", "--study", "other"); r.code != 0 {
		t.Fatalf("plot: exit %d: %s", r.code, r.stderr)
	}

	// Bad input: exit 2, nothing changed.
	for _, c := range []struct {
		args  []string
		input string
		want  string
	}{
		{[]string{"rename", "--study", "cmd2", "--to", "other"}, "", `a study called "other" exists`},
		{[]string{"rename", "--study", "nope", "--to", "x"}, "", `no study "nope"`},
		{[]string{"rename", "--study", "cmd2", "--to", "-x"}, "", "not a valid study name"},
		{[]string{"rename", "--study", "cmd2"}, "", "--to is required"},
		{[]string{"delete", "--study", "nope", "--yes"}, "", `no study "nope"`},
		{[]string{"delete", "--study", "cmd2"}, "", "pass --yes"},
		{[]string{"delete"}, "", "--study is required"},
		{[]string{"list", "--match", "["}, "", "not a valid pattern"},
		{[]string{"list", "--since", "yesterday"}, "", "neither a duration"},
		{[]string{"status", "--study", "cmd2", "--active"}, "", "do not go with --study"},
		{[]string{"delete", "--study", "other", "--yes", "--store", "missing.db"}, "", "no store at missing.db"},
	} {
		r := runOLCInput(t, dir, c.input, append([]string{"optimize"}, c.args...)...)
		if r.code != 2 || !strings.Contains(r.stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, r.code, r.stderr, c.want)
		}
	}
	// Declined: exit 1, nothing deleted.
	if r := runOLCInput(t, dir, "n\n", "optimize", "delete", "--study", "cmd2"); r.code != 1 || !strings.Contains(r.stderr, "nothing deleted") {
		t.Errorf("declined delete: exit %d, stderr %q", r.code, r.stderr)
	}
	if got := strings.Join(listed(t, dir), " "); got != "cmd2 other" {
		t.Fatalf("after refused deletes: %q", got)
	}
	for _, p := range []string{"runs/cmd/0", "runs/cmd/2", "plots/cmd2.png", "plots/other.png"} {
		if _, err := os.Stat(filepath.Join(dir, ".olc", p)); err != nil {
			t.Fatalf("before the delete: %v", err)
		}
	}

	// Confirmed.
	r := runOLCInput(t, dir, "y\n", "optimize", "delete", "--study", "cmd2")
	if r.code != 0 || !strings.Contains(r.stderr, `delete study "cmd2" (grid, 3 trials: 3 complete`) {
		t.Fatalf("delete: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if got := strings.Join(listed(t, dir), " "); got != "other" {
		t.Errorf("after delete: %q, want other", got)
	}
	for _, p := range []string{"runs/cmd/0", "runs/cmd/2", "plots/cmd2.png"} {
		if _, err := os.Stat(filepath.Join(dir, ".olc", p)); !os.IsNotExist(err) {
			t.Errorf("%s survives the delete (%v)", p, err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, ".olc", "plots", "other.png")); err != nil {
		t.Errorf("the other study's plot went too: %v", err)
	}
	// The name can be used again, from scratch.
	if r := runOLC(t, dir, "optimize", "--config", "s.toml", "--trials", "1", "--json"); r.code != 0 || decode(t, r.stdout)["complete"] != 1.0 {
		t.Errorf("a new study under the deleted name: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	// A study with a live worker's running trial needs --force.
	ctx := context.Background()
	store, err := sqlitestore.Open(ctx, filepath.Join(dir, ".olc", "olc.db"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Study(ctx, "other")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	live := &experiments.Trial{StudyID: st.ID, State: optimize.Running, Attempt: 1, RetryOf: -1, Params: optimize.Params{"x": 0.5},
		Started: now, Heartbeat: now, Owner: experiments.Host() + ":" + strconv.Itoa(os.Getpid()), Value: math.NaN()}
	if err := store.CreateTrial(ctx, live); err != nil {
		t.Fatal(err)
	}
	store.Close()
	if r := runOLC(t, dir, "optimize", "delete", "--study", "other", "--yes"); r.code != 2 || !strings.Contains(r.stderr, "--force") {
		t.Errorf("delete of a study with a live trial: exit %d, %q", r.code, r.stderr)
	}
	r = runOLC(t, dir, "optimize", "delete", "--study", "other", "--yes", "--force", "--json")
	if r.code != 0 {
		t.Fatalf("forced delete: exit %d: %s", r.code, r.stderr)
	}
	if d := decode(t, r.stdout); d["trials"] != 5.0 || d["study"] != "other" {
		t.Errorf("delete --json = %v", d)
	}
	if got := strings.Join(listed(t, dir), " "); got != "cmd" {
		t.Errorf("after the forced delete: %q, want cmd", got)
	}
}
