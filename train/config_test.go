package train

import (
	"strings"
	"testing"
)

// TestParseConfigErrors: every bad config names the file and the key.
func TestParseConfigErrors(t *testing.T) {
	for _, c := range []struct{ toml, want string }{
		{"[trian]\nsteps = 1", "t.toml: trian: unknown section"},
		{"[train]\nstep = 1", "t.toml: train.step: unknown key; the keys of [train] are"},
		{"[train]\nsteps = 0", "t.toml: train.steps: must be at least 1"},
		{"[train]\ntask = \"cls\"", "t.toml: train.task: must be qa or mlm"},
		{"[optimizer]\nlr = -1.0", "t.toml: optimizer.lr: must be > 0"},
		{"[optimizer]\nbeta2 = 1.0", "t.toml: optimizer.beta2: must be in [0, 1)"},
		{"[schedule]\ndecay = \"step\"", "t.toml: schedule.decay: must be cosine, linear or constant"},
		{"[model]\nhidden = 64", "t.toml: model.hidden: unknown key; the keys of [model] are"},
		{"[model]\nnum_attention_heads = 3", "t.toml: model.hidden_size"},
		{"[data]\ntask = \"sudoku\"", "t.toml: data.task: unknown task"},
		{"[data]\nlengths = \"10\"", "t.toml: data.lengths: length \"10\""},
		{"[data]\nmax_len = 99999", "t.toml: data.max_len: must be in [0, 2176]"},
		{"[train]\nsteps = \"many\"", "t.toml: train.steps"},
		{"[output]\nname = \"a/b\"", "t.toml: output.name: must be a plain folder name"},
		{"steps = 3", "t.toml: steps: unknown section"},
		{"[train\n", "t.toml:1: invalid TOML"},
	} {
		_, err := ParseConfig("t.toml", []byte(c.toml), nil)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want it to contain %q", c.toml, err, c.want)
		}
	}
}

// TestParseConfigOverrides: dotted overrides reach every section,
// including the model's keys.
func TestParseConfigOverrides(t *testing.T) {
	c, err := ParseConfig("t.toml", []byte("[optimizer]\nlr = 0.01\n"), map[string]any{
		"optimizer.lr": 0.003, "model.attention_window": int64(32), "model.global_attention": false, "train.batch": int64(2),
	})
	if err != nil {
		t.Fatal(err)
	}
	if c.Optimizer.LR != 0.003 || c.Model.Window(0) != 32 || c.Model.GlobalAttention || c.Train.Batch != 2 {
		t.Errorf("overrides not applied: lr %g, window %d, global %v, batch %d", c.Optimizer.LR, c.Model.Window(0), c.Model.GlobalAttention, c.Train.Batch)
	}
	if _, err := ParseConfig("t.toml", nil, map[string]any{"lr": 1.0}); err == nil || !strings.Contains(err.Error(), "t.toml: lr: an override must be a dotted path") {
		t.Errorf("a bare override key: %v", err)
	}
	if _, err := ParseConfig("t.toml", nil, map[string]any{"optimizer.lr": "fast"}); err == nil || !strings.Contains(err.Error(), "optimizer.lr") {
		t.Errorf("a string learning rate: %v", err)
	}
}

// TestSchedule checks warm-up and the decays at their ends and middles.
func TestSchedule(t *testing.T) {
	c := DefaultConfig()
	c.Optimizer.LR, c.Schedule.Warmup, c.Train.Steps, c.Schedule.MinLRRatio = 1, 10, 110, 0.1
	for _, x := range []struct {
		decay string
		step  int
		want  float64
	}{
		{"cosine", 5, 0.5}, {"cosine", 10, 1}, {"cosine", 60, 0.55}, {"cosine", 110, 0.1},
		{"linear", 60, 0.55}, {"linear", 110, 0.1}, {"constant", 80, 1},
	} {
		c.Schedule.Decay = x.decay
		if got := c.lr(x.step); got < x.want-1e-12 || got > x.want+1e-12 {
			t.Errorf("%s at step %d: lr %g, want %g", x.decay, x.step, got, x.want)
		}
	}
}
