package ablation

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/internal/tomlconf"
	"github.com/olc-toolkit/olc/optimize"
)

const goodConfig = `[ablation]
name = "planted"
design = "leave-one-out"
seeds = [1, 2, 3]
parallel = 2
metrics = [ { name = "acc", goal = "maximize" }, { name = "loss", goal = "minimize" } ]

[objective]
kind = "command"
command = ["sh", "obj.sh", "{a}", "{b}", "{seed}"]

[base]
a = true
b = 1
steps = 600

[[components]]
name = "a"
ablate = { a = false }

[[components]]
name = "b"
ablate = { b = 0 }
`

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "obj.sh"), []byte("echo '{\"acc\": 1}'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "abl.toml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestParseConfig(t *testing.T) {
	c, err := LoadConfig(writeConfig(t, goodConfig), false)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != "planted" || c.Design != LeaveOneOut || len(c.Seeds) != 3 || c.Parallel != 2 || len(c.Metrics) != 2 || c.Metrics[1].Goal != "minimize" {
		t.Errorf("config %+v", c)
	}
	if len(c.Variants) != 3 || c.Variants[1].Name != "no a" || c.Variants[1].Values["a"] != false || c.Variants[2].Values["b"] != int64(0) {
		t.Errorf("variants %+v", c.Variants)
	}
	if c.SeedKey != "seed" || c.Space.Len() != 4 || c.Space.Names()[3] != "seed" {
		t.Errorf("seed key %q, space %v", c.SeedKey, c.Space.Names())
	}
	if p, _ := c.Space.Param("a"); p.Kind != optimize.Categorical || len(p.Values) != 2 {
		t.Errorf("parameter a = %+v, want a categorical of true and false", p)
	}
	if _, ok := c.Objective.(*experiments.Command); !ok || c.ObjectiveIdentity["kind"] != "command" {
		t.Errorf("objective %#v", c.Objective)
	}
}

func TestParseConfigErrors(t *testing.T) {
	cases := []struct {
		name     string
		from, to string
		key      string
		line     int
		msg      string
	}{
		{"duplicate component", "name = \"b\"\nablate = { b = 0 }", "name = \"a\"\nablate = { b = 0 }", "components[1].name", 22, `component "a" is already components[0]`},
		{"component without keys", "ablate = { b = 0 }", "ablate = {}", "components[1].ablate", 23, "sets no key"},
		{"unknown design", `design = "leave-one-out"`, `design = "one-at-a-time"`, "ablation.design", 3, `unknown design "one-at-a-time"; allowed: leave-one-out, add-one-in, factorial`},
		{"empty seeds", "seeds = [1, 2, 3]", "seeds = []", "ablation.seeds", 4, "must be a non-empty array of integers"},
		{"duplicated seed", "seeds = [1, 2, 3]", "seeds = [1, 2, 1]", "ablation.seeds[2]", 4, "seed 1 is listed twice"},
		{"bad goal", `goal = "minimize"`, `goal = "lower"`, "ablation.metrics[1].goal", 6, `must be "maximize" or "minimize"`},
		{"no base value", "b = 1\n", "", "base", 12, `b has no base value; a command objective needs one for every key a component sets ("b" sets it)`},
		{"placeholder", `"{seed}"]`, `"{seed}", "{lr}"]`, "objective.command", 10, "placeholder {lr} names no parameter"},
		{"unknown key", "parallel = 2", "paralel = 2", "ablation.paralel", 5, "unknown key"},
		{"no components", "[[components]]\nname = \"a\"\nablate = { a = false }\n\n[[components]]\nname = \"b\"\nablate = { b = 0 }\n", "", "components", 0, "missing; give each component"},
		{"bad value", "steps = 600", "steps = [600]", "base.steps", 15, "must be a string, a number or a boolean"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(goodConfig, c.from) {
				t.Fatalf("the good config lacks %q", c.from)
			}
			path := writeConfig(t, strings.Replace(goodConfig, c.from, c.to, 1))
			_, err := LoadConfig(path, false)
			var found bool
			for _, e := range tomlconf.Unjoin(err) {
				var ce *experiments.ConfigError
				if errors.As(e, &ce) && ce.Key == c.key && strings.Contains(ce.Msg, c.msg) && ce.File == path && (c.line == 0 || ce.Line == c.line) {
					found = true
				}
			}
			if !found {
				t.Errorf("error %v\nwant %s:%d: %s: …%s…", err, path, c.line, c.key, c.msg)
			}
		})
	}
}
