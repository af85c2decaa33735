package train

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/olc-toolkit/olc/internal/tomlconf"
)

var update = flag.Bool("update", false, "rewrite the golden files")

// TestParseConfigErrors: every bad config names the file, the line, the
// key and what is allowed.
func TestParseConfigErrors(t *testing.T) {
	for _, c := range []struct{ toml, want string }{
		{"[trian]\nsteps = 1", "t.toml:1: trian: unknown key; the sections are: model, data, optimizer, schedule, train, output"},
		{"[train]\nstep = 1", "t.toml:2: train.step: unknown key; allowed in [train]: task, steps, batch"},
		{"[train]\nsteps = 0", "t.toml:2: train.steps: must be at least 1"},
		{"[train]\ntask = \"cls\"", "t.toml:2: train.task: must be qa or mlm"},
		{"[optimizer]\nlr = -1.0", "t.toml:2: optimizer.lr: must be > 0"},
		{"[optimizer]\nbeta2 = 1.0", "t.toml:2: optimizer.beta2: must be in [0, 1)"},
		{"[optimizer]\nlr = \"fast\"", `t.toml:2: optimizer.lr: must be a number, got a string ("fast")`},
		{"[schedule]\ndecay = \"step\"", "t.toml:2: schedule.decay: must be cosine, linear or constant"},
		{"[model]\nhidden = 64", "t.toml:2: model.hidden: unknown key; allowed in [model]: vocab_size, hidden_size"},
		{"[model]\nnum_attention_heads = 3", "t.toml:1: model.hidden_size: 128 is not a multiple of num_attention_heads (3)"},
		{"[model]\nattention_window = [8, 8, 8]", "t.toml:2: model.attention_window: has 3 values for 2 layers"},
		{"[model]\nattention_window = [8, 9]", "t.toml:2: model.attention_window[1]: 9 is not an even positive number"},
		{"[model]\nattention_window = \"big\"", `t.toml:2: model.attention_window: must be an even integer, or an array of them, one per layer; got a string ("big")`},
		{"[data]\ntask = \"sudoku\"", "t.toml:2: data.task: unknown task \"sudoku\"; allowed: passkey"},
		{"[data]\nlengths = \"10\"", "t.toml:2: data.lengths: length \"10\""},
		{"[data]\nmax_len = 99999", "t.toml:2: data.max_len: must be in [0, 2176]"},
		{"[data]\ntext_files = \"a.txt\"", `t.toml:2: data.text_files: must be an array of strings, got a string ("a.txt")`},
		{"[train]\nsteps = \"many\"", `t.toml:2: train.steps: must be an integer, got a string ("many")`},
		{"[train]\nsteps = 1.5", `t.toml:2: train.steps: must be an integer, got a float (1.5)`},
		{"[train]\nseed = -1", `t.toml:2: train.seed: must be a non-negative integer, got an integer (-1)`},
		{"[train]\nsteps = 99999999999", `t.toml:2: train.steps: 99999999999 is out of range`},
		{"[output]\nname = \"a/b\"", "t.toml:2: output.name: \"a/b\" is not a plain folder name"},
		{"[output]\nname = \"" + strings.Repeat("x", 200) + "\"", "t.toml:2: output.name: is 200 characters long; allowed: at most 94"},
		{"steps = 3", "t.toml:1: steps: unknown key; the sections are"},
		{"train = 3", "t.toml:1: train: must be a table, got an integer (3)"},
		{"[train\n", "t.toml:1: invalid TOML"},
		{"[data]\ntask = \"passkey\"\ntrain_file = \"x.json\"", "t.toml:3: data.train_file: give data.task or data.train_file, not both"},
	} {
		_, err := ParseConfig("t.toml", []byte(c.toml))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want it to contain %q", c.toml, err, c.want)
		}
		var ce *ConfigError
		if err != nil && !errors.As(err, &ce) {
			t.Errorf("%q: %T is not a ConfigError", c.toml, err)
		}
	}
}

// TestParseConfigEveryProblem: one pass reports every problem, with its
// line.
func TestParseConfigEveryProblem(t *testing.T) {
	_, err := ParseConfig("t.toml", []byte(`[optimizer]
lr = "abc"
beta1 = 2.0

[train]
steps = 0
batch = "eight"
stepz = 3

[model]
hidden_size = 0
`))
	if err == nil {
		t.Fatal("no error")
	}
	var lines []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		lines = append(lines, e.Error())
	}
	got := strings.Join(lines, "\n")
	for _, want := range []string{
		`t.toml:2: optimizer.lr: must be a number, got a string ("abc")`,
		"t.toml:3: optimizer.beta1: must be in [0, 1)",
		"t.toml:6: train.steps: must be at least 1",
		`t.toml:7: train.batch: must be an integer, got a string ("eight")`,
		`t.toml:8: train.stepz: unknown key`,
		"t.toml:11: model.hidden_size: must be a positive integer",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("errors lack %q:\n%s", want, got)
		}
	}
	if len(lines) != 6 {
		t.Errorf("%d problems reported, want 6:\n%s", len(lines), got)
	}
}

// TestParseConfigOverrides: dotted overrides reach every section,
// including the model's keys, and their problems are blamed on them.
func TestParseConfigOverrides(t *testing.T) {
	c, err := ParseConfig("t.toml", []byte("[optimizer]\nlr = 0.01\n"),
		Override{Key: "optimizer.lr", Value: 0.003}, Override{Key: "model.attention_window", Value: int64(32)},
		Override{Key: "model.global_attention", Value: false}, Override{Key: "train.batch", Value: int64(2)})
	if err != nil {
		t.Fatal(err)
	}
	if c.Optimizer.LR != 0.003 || c.Model.Window(0) != 32 || c.Model.GlobalAttention || c.Train.Batch != 2 {
		t.Errorf("overrides not applied: lr %g, window %d, global %v, batch %d", c.Optimizer.LR, c.Model.Window(0), c.Model.GlobalAttention, c.Train.Batch)
	}
	for _, o := range []struct {
		o    Override
		want string
	}{
		{Override{"optimizer.lr", "abc", "--set optimizer.lr=abc"}, `--set optimizer.lr=abc: must be a number, got a string ("abc")`},
		{Override{"nosuch.key", int64(1), "--set nosuch.key=1"}, "--set nosuch.key=1: unknown key; the sections are: model, data"},
		{Override{"optimizer.nosuch", int64(1), "--set optimizer.nosuch=1"}, "--set optimizer.nosuch=1: unknown key; allowed in [optimizer]: lr, weight_decay"},
		{Override{"lr", 1.0, "--set lr=1"}, "--set lr=1: unknown key; the sections are"},
		{Override{"optimizer.lr", -1.0, "--set optimizer.lr=-1"}, "--set optimizer.lr=-1: must be > 0"},
		{Override{"optimizer.lr.x", 1.0, "--set optimizer.lr.x=1"}, "--set optimizer.lr.x=1: optimizer.lr is a float (0.01), not a table"},
	} {
		_, err := ParseConfig("t.toml", []byte("[optimizer]\nlr = 0.01\n"), o.o)
		if err == nil || err.Error() != o.want && !strings.HasPrefix(err.Error(), o.want) {
			t.Errorf("%s: %v, want %q", o.o.Source, err, o.want)
		}
		if err != nil && strings.Contains(err.Error(), "t.toml") {
			t.Errorf("%s: the file is blamed: %v", o.o.Source, err)
		}
	}
}

func TestParseConfigByteOrderMark(t *testing.T) {
	c, err := ParseConfig("t.toml", []byte("\xEF\xBB\xBF[train]\nsteps = 7\n"))
	if err != nil || c.Train.Steps != 7 {
		t.Errorf("a config with a byte-order mark: %v", err)
	}
}

// TestTrainFileAlone: data.train_file alone trains on it; data.task is
// passkey only by default.
func TestTrainFileAlone(t *testing.T) {
	c, err := ParseConfig("t.toml", []byte("[data]\ntrain_file = \"train.json\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if c.Data.Task != "" || c.Data.TrainFile != "train.json" {
		t.Errorf("task %q, train file %q", c.Data.Task, c.Data.TrainFile)
	}
	if c, _ := ParseConfig("t.toml", nil); c.Data.Task != "passkey" {
		t.Errorf("default task %q, want passkey", c.Data.Task)
	}
}

// TestReferenceConfig: examples/train-reference.toml is what WriteDefaults
// writes, documents every key of every section, and reads back as the
// defaults.
func TestReferenceConfig(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteDefaults(&buf); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "examples", "train-reference.toml")
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	file, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(file, buf.Bytes()) {
		t.Errorf("%s differs from WriteDefaults (go test ./train -update rewrites it)", path)
	}
	d, err := tomlconf.Parse(path, file)
	if err != nil {
		t.Fatal(err)
	}
	def := DefaultConfig()
	for _, sec := range Sections {
		v, tag := def.section(sec)
		table, ok := d.Root().Table(sec)
		if !ok {
			t.Errorf("no [%s]", sec)
			continue
		}
		for _, f := range tomlconf.Fields(v, tag) {
			if !table.Has(f.Key) {
				t.Errorf("%s.%s is not documented", sec, f.Key)
			}
			if f.Doc == "" && sec != "model" {
				t.Errorf("%s.%s has no doc", sec, f.Key)
			}
		}
	}
	c, err := ParseConfig(path, file)
	if err != nil {
		t.Fatal(err)
	}
	c.File = ""
	if !reflect.DeepEqual(*c, def) {
		t.Errorf("the reference reads as\n%+v\nnot the defaults\n%+v", *c, def)
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

func TestParseOverrides(t *testing.T) {
	got, err := ParseOverrides("--set", []string{"optimizer.lr=3e-4", " train.steps = 7", "output.name=run-1", "model.global_attention=false"})
	if err != nil {
		t.Fatal(err)
	}
	want := []Override{
		{Key: "optimizer.lr", Value: 3e-4, Source: "--set optimizer.lr=3e-4"},
		{Key: "train.steps", Value: int64(7), Source: "--set  train.steps = 7"},
		{Key: "output.name", Value: "run-1", Source: "--set output.name=run-1"},
		{Key: "model.global_attention", Value: false, Source: "--set model.global_attention=false"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseOverrides = %#v\nwant %#v", got, want)
	}
	_, err = ParseOverrides("--set", []string{"optimizer.lr", "=3", `data.train_file="x`})
	errs := tomlconf.Unjoin(err)
	if len(errs) != 3 {
		t.Fatalf("%d errors, want 3: %v", len(errs), err)
	}
	for i, want := range []string{"--set optimizer.lr: want section.key=value", "--set =3: want section.key=value", `--set data.train_file="x: not a TOML value`} {
		var ce *ConfigError
		if !errors.As(errs[i], &ce) || !strings.HasPrefix(errs[i].Error(), want) {
			t.Errorf("error %d = %v, want a ConfigError starting %q", i, errs[i], want)
		}
	}
}
