package experiments_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/internal/tomlconf"
	"github.com/olc-toolkit/olc/optimize"
)

// sumObjective is a registered kind's objective: the sum of the params.
type sumObjective struct{ path string }

func (o *sumObjective) Run(_ context.Context, r experiments.TrialRun) (experiments.Outcome, error) {
	s := 0.0
	for _, v := range r.Params {
		s += v.(float64)
	}
	return experiments.Outcome{Metrics: map[string]float64{"value": s}}, nil
}

func init() {
	experiments.RegisterObjective("fake", func(path string, params []string) (experiments.Objective, error) {
		if _, err := os.Stat(path); err != nil {
			return nil, err
		}
		for _, p := range params {
			if !strings.HasPrefix(p, "x") {
				return nil, &experiments.ParamKeyError{Param: p, Msg: "not a key of the fake config"}
			}
		}
		return &sumObjective{path: path}, nil
	})
}

func TestRegisteredObjectiveKind(t *testing.T) {
	if kinds := experiments.ObjectiveKinds(); !slices.Equal(kinds[:2], []string{"builtin", "command"}) || !slices.Contains(kinds, "fake") {
		t.Fatalf("ObjectiveKinds() = %v", kinds)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "fake.toml"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	study := "[study]\nname = \"s\"\ntrials = 3\n[params.x1]\ntype = \"float\"\nlow = 0.0\nhigh = 1.0\n"
	cfg, err := experiments.ParseConfig(filepath.Join(dir, "s.toml"), []byte(study+"[objective]\nkind = \"fake\"\nconfig = \"fake.toml\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := cfg.Plan()
	if err != nil {
		t.Fatal(err)
	}
	o, ok := plan.Objective.(*sumObjective)
	if !ok || o.path != filepath.Join(dir, "fake.toml") {
		t.Fatalf("objective %#v, want the fake kind's with the resolved path", plan.Objective)
	}
	if got := plan.Identity.Objective["kind"]; got != "fake" {
		t.Errorf("identity kind %v", got)
	}
	out, err := o.Run(context.Background(), experiments.TrialRun{Params: optimize.Params{"x1": 0.25}})
	if err != nil || out.Metrics["value"] != 0.25 {
		t.Errorf("Run = %v, %v", out, err)
	}

	for _, c := range []struct{ objective, key, msg string }{
		{"kind = \"fake\"\n", "objective.config", "missing; the fake config"},
		{"kind = \"fake\"\nconfig = \"f.toml\"\nfunction = \"x\"\n", "objective.function", "unknown key"},
		{"kind = \"fake\"\nconfig = \"none.toml\"\n", "objective.config", "no such file"},
		{"kind = \"nope\"\n", "objective.kind", "allowed: builtin, command, external, fake"},
	} {
		cfg, err := experiments.ParseConfig(filepath.Join(dir, "s.toml"), []byte(study+"[objective]\n"+c.objective))
		if err == nil {
			_, err = cfg.Plan()
		}
		var ce *experiments.ConfigError
		if !errors.As(err, &ce) || ce.Key != c.key || !strings.Contains(ce.Msg, c.msg) {
			t.Errorf("%q: %v, want %s: …%s…", c.objective, err, c.key, c.msg)
		}
	}
	bad := strings.Replace(study, "x1", "lr", -1)
	cfg, err = experiments.ParseConfig(filepath.Join(dir, "s.toml"), []byte(bad+"[objective]\nkind = \"fake\"\nconfig = \"fake.toml\"\n"))
	if err == nil {
		_, err = cfg.Plan()
	}
	var ce *experiments.ConfigError
	if !errors.As(err, &ce) || ce.Key != "params.lr" {
		t.Errorf("a parameter the kind refuses: %v, want it blamed on params.lr", err)
	}
}

func TestRegisterObjectiveTwicePanics(t *testing.T) {
	for _, kind := range []string{"fake", "builtin", "command"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("registering %q did not panic", kind)
				}
			}()
			experiments.RegisterObjective(kind, func(string, []string) (experiments.Objective, error) { return nil, nil })
		}()
	}
}

// TestObjectiveTable: another config (an ablation's) reads its [objective]
// table with the study's code and checks, against its own parameters.
func TestObjectiveTable(t *testing.T) {
	space, err := optimize.NewSpace(
		optimize.Param{Name: "lr", Kind: optimize.Categorical, Values: optimize.Values{0.1, 0.01}},
		optimize.Param{Name: "seed", Kind: optimize.Int, Low: 1, High: 5},
	)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	parse := func(text string) (experiments.Objective, map[string]any, error) {
		d, err := tomlconf.Parse(filepath.Join(dir, "abl.toml"), []byte(text))
		if err != nil {
			t.Fatal(err)
		}
		obj, id, _ := experiments.ObjectiveTable(filepath.Join(dir, "abl.toml"), d.Root(), space, "loss", nil)
		return obj, id, d.Err()
	}
	obj, id, err := parse("[objective]\nkind = \"command\"\ncommand = [\"sh\", \"-c\", \"echo {lr} {seed}\"]\n")
	if err != nil || obj == nil || id["kind"] != "command" {
		t.Fatalf("command objective: %v, %v, %v", obj, id, err)
	}
	if cmd, ok := obj.(*experiments.Command); !ok || cmd.Dir != dir {
		t.Errorf("objective %#v, want a command run in the config's folder", obj)
	}
	for _, c := range []struct{ text, key, msg string }{
		{"[objective]\nkind = \"command\"\ncommand = [\"sh\", \"{steps}\"]\n", "objective.command", "placeholder {steps} names no parameter"},
		{"[objective]\nkind = \"shell\"\n", "objective.kind", "unknown kind \"shell\""},
		{"[other]\nx = 1\n", "objective", "missing"},
	} {
		obj, _, err := parse(c.text)
		var ce *experiments.ConfigError
		if obj != nil || !errors.As(err, &ce) || ce.Key != c.key || !strings.Contains(ce.Msg, c.msg) || ce.File != filepath.Join(dir, "abl.toml") {
			t.Errorf("%q: %v, %v; want %s: …%s…", c.text, obj, err, c.key, c.msg)
		}
	}
}
