package experiments_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/optimize"
)

const goodConfig = `# a study
[study]
name = "demo"
direction = "maximize"
metric = "acc"
sampler = "random"
trials = 50
parallel = 2
seed = 7
max_retries = 1

[params.lr]
type = "float"
low = 1e-5
high = 1e-1
log = true

[params.layers]
type = "int"
low = 1
high = 8

[params.opt]
type = "categorical"
values = ["adam", "sgd", 3, true]

[params.dropout]
type = "float"
low = 0
high = 0.5
step = 0.1

[sampler.random]
qmc = true

[objective]
kind = "command"
command = ["sh", "train.sh", "--lr", "{lr}"]
timeout = "30m"
workdir = "scripts"
env = { CUDA_VISIBLE_DEVICES = "0", MODE = "fast" }
`

func TestParseConfig(t *testing.T) {
	exp := t.TempDir()
	if err := os.Mkdir(filepath.Join(exp, "scripts"), 0o755); err != nil {
		t.Fatal(err)
	}
	c, err := experiments.ParseConfig(filepath.Join(exp, "study.toml"), []byte(goodConfig))
	if err != nil {
		t.Fatal(err)
	}
	want := experiments.StudyConfig{Name: "demo", Direction: optimize.Maximize, Metric: "acc", Sampler: "random", Trials: 50, Parallel: 2, Seed: 7, MaxRetries: 1}
	if !reflect.DeepEqual(c.Study, want) {
		t.Errorf("Study = %+v, want %+v", c.Study, want)
	}
	// Parameters keep the order the file declares them in.
	if got := strings.Join(c.Space.Names(), ","); got != "lr,layers,opt,dropout" {
		t.Errorf("parameter order = %s", got)
	}
	lr, _ := c.Space.Param("lr")
	if !lr.Log || lr.Low != 1e-5 || lr.Kind != optimize.Float {
		t.Errorf("lr = %+v", lr)
	}
	opt, _ := c.Space.Param("opt")
	if len(opt.Values) != 4 || opt.Values[2] != int64(3) || opt.Values[3] != true {
		t.Errorf("opt values = %#v", opt.Values)
	}
	if !c.Random.QMC || c.Objective.Timeout != 30*time.Minute || c.Objective.Env["MODE"] != "fast" {
		t.Errorf("objective = %+v, random = %+v", c.Objective, c.Random)
	}
	if c.Dir() != filepath.Join(exp, "scripts") {
		t.Errorf("Dir = %s", c.Dir())
	}
	plan, err := c.Plan()
	if err != nil {
		t.Fatal(err)
	}
	if plan.Trials != 50 || plan.Sampler.Name() != "random" {
		t.Errorf("plan = %+v", plan)
	}
	cmd, ok := plan.Objective.(*experiments.Command)
	if !ok || cmd.Dir != filepath.Join(exp, "scripts") || cmd.Timeout != 30*time.Minute {
		t.Errorf("objective = %#v", plan.Objective)
	}
}

func TestConfigWithByteOrderMark(t *testing.T) {
	c, err := experiments.ParseConfig("bom.toml", []byte("\xEF\xBB\xBF"+configWith(nil)))
	if err != nil || c.Study.Name != "s" {
		t.Errorf("a config with a byte-order mark: %v", err)
	}
}

func TestGridTrialsDefault(t *testing.T) {
	c, err := experiments.ParseConfig("g.toml", []byte(`
[study]
name = "g"
sampler = "grid"
[params.x1]
type = "float"
low = -5.0
high = 10.0
points = 4
[params.x2]
type = "int"
low = 0
high = 2
[objective]
kind = "builtin"
function = "branin"
`))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := c.Plan()
	if err != nil {
		t.Fatal(err)
	}
	if plan.Trials != 12 {
		t.Errorf("trials = %d, want the grid size 12", plan.Trials)
	}
}

// base is a valid config whose parts the bad-input cases replace.
var base = map[string]string{
	"study":     "[study]\nname = \"s\"\ntrials = 5\n",
	"params":    "[params.x1]\ntype = \"float\"\nlow = -5.0\nhigh = 10.0\n\n[params.x2]\ntype = \"float\"\nlow = 0.0\nhigh = 15.0\n",
	"objective": "[objective]\nkind = \"builtin\"\nfunction = \"branin\"\n",
}

func configWith(parts map[string]string) string {
	var b strings.Builder
	for _, k := range []string{"study", "params", "objective", "extra"} {
		v, ok := parts[k]
		if !ok {
			v = base[k]
		}
		b.WriteString(v + "\n")
	}
	return b.String()
}

func TestConfigErrors(t *testing.T) {
	cases := []struct {
		name  string
		parts map[string]string
		plan  bool // the error comes from Plan
		key   string
		line  int
		msg   string
	}{
		{"unknown key", map[string]string{"study": "[study]\nname = \"s\"\ntrials = 5\ntrails = 6\n"}, false, "study.trails", 4, "unknown key; allowed in [study]: name, direction"},
		{"unknown table", map[string]string{"extra": "[search]\nx = 1\n"}, false, "search", 19, "unknown key; the sections are: study, params, sampler, objective"},
		{"wrong type", map[string]string{"study": "[study]\nname = \"s\"\ntrials = \"50\"\n"}, false, "study.trials", 3, `must be an integer, got a string ("50")`},
		{"trials zero", map[string]string{"study": "[study]\nname = \"s\"\ntrials = 0\n"}, false, "study.trials", 3, "must be a positive integer"},
		{"bad name", map[string]string{"study": "[study]\nname = \"my study\"\ntrials = 5\n"}, false, "study.name", 2, "not a valid name"},
		{"bad direction", map[string]string{"study": "[study]\nname = \"s\"\ntrials = 5\ndirection = \"down\"\n"}, false, "study.direction", 4, "allowed: minimize, maximize"},
		{"unknown sampler", map[string]string{"study": "[study]\nname = \"s\"\ntrials = 5\nsampler = \"tpe\"\n"}, false, "study.sampler", 4, "allowed: grid, random, bayes"},
		{"low >= high", map[string]string{"params": "[params.x1]\ntype = \"float\"\nlow = 10.0\nhigh = 10.0\n[params.x2]\ntype = \"float\"\nlow = 0.0\nhigh = 1.0\n"}, false, "params.x1.low", 7, "must be less than high"},
		{"log low <= 0", map[string]string{"params": "[params.x1]\ntype = \"float\"\nlow = 0.0\nhigh = 1.0\nlog = true\n[params.x2]\ntype = \"float\"\nlow = 0.0\nhigh = 1.0\n"}, false, "params.x1.log", 9, "a log scale needs low > 0"},
		{"empty values", map[string]string{"params": "[params.c]\ntype = \"categorical\"\nvalues = []\n", "objective": "[objective]\nkind = \"command\"\ncommand = [\"run\"]\n"}, false, "params.c.values", 7, "at least one value"},
		{"missing type", map[string]string{"params": "[params.x1]\nlow = 0.0\nhigh = 1.0\n"}, false, "params.x1.type", 5, "missing; allowed: float, int, categorical"},
		{"key of another kind", map[string]string{"params": "[params.x1]\ntype = \"int\"\nlow = 0\nhigh = 3\npoints = 4\n[params.x2]\ntype = \"float\"\nlow = 0.0\nhigh = 1.0\n"}, false, "params.x1.points", 9, "not allowed for a int parameter; allowed: type, low, high, log, step"},
		{"int bound float", map[string]string{"params": "[params.x1]\ntype = \"int\"\nlow = 0.5\nhigh = 3\n[params.x2]\ntype = \"int\"\nlow = 0\nhigh = 3\n"}, false, "params.x1.low", 7, "must be an integer, got a float (0.5)"},
		{"wrong param count", map[string]string{"params": "[params.x1]\ntype = \"float\"\nlow = 0.0\nhigh = 1.0\n"}, false, "objective.function", 0, "branin takes 2 parameters, the search space has 1"},
		{"unknown function", map[string]string{"objective": "[objective]\nkind = \"builtin\"\nfunction = \"brannin\"\n"}, false, "objective.function", 0, `unknown function "brannin"; allowed: ackley, branin`},
		{"unknown kind", map[string]string{"objective": "[objective]\nkind = \"shell\"\n"}, false, "objective.kind", 0, "allowed: builtin, command"},
		{"command as string", map[string]string{"objective": "[objective]\nkind = \"command\"\ncommand = \"python3 train.py\"\n"}, false, "objective.command", 0, "must be an array of strings (the program and its arguments; olc runs no shell)"},
		{"bad placeholder", map[string]string{"objective": "[objective]\nkind = \"command\"\ncommand = [\"python3\", \"--lr={lr}\"]\n"}, false, "objective.command", 0, "placeholder {lr} names no parameter; allowed: {x1}, {x2}"},
		{"bad timeout", map[string]string{"objective": "[objective]\nkind = \"command\"\ncommand = [\"run\"]\ntimeout = \"10 minutes\"\n"}, false, "objective.timeout", 0, `write it like "90s"`},
		{"builtin metric", map[string]string{"study": "[study]\nname = \"s\"\ntrials = 5\nmetric = \"loss\"\n"}, false, "study.metric", 4, `report the metric "value" only`},
		{"invalid toml", map[string]string{"study": "[study]\nname = \"s\ntrials = 5\n"}, false, "", 2, "invalid TOML"},
		{"duplicate key", map[string]string{"study": "[study]\nname = \"s\"\nname = \"t\"\n"}, false, "name", 3, "invalid TOML: key name is already defined"},
		{"grid needs step", map[string]string{"study": "[study]\nname = \"s\"\nsampler = \"grid\"\n"}, true, "params.x1.step", 5, "a grid over a float parameter needs step or points"},
		{"grid too large", map[string]string{"study": "[study]\nname = \"s\"\nsampler = \"grid\"\n", "params": "[params.x1]\ntype = \"float\"\nlow = 0.0\nhigh = 1.0\npoints = 1000\n[params.x2]\ntype = \"int\"\nlow = 0\nhigh = 100\n"}, true, "params", 0, "more than 100000 points (1000 × 101"},
		{"random without trials", map[string]string{"study": "[study]\nname = \"s\"\n"}, true, "study.trials", 1, "missing; say how many complete trials"},
		{"bayes unknown acquisition", map[string]string{"extra": "[sampler.bayes]\nacquisition = \"ts\"\n"}, false, "sampler.bayes.acquisition", 0, "unknown acquisition \"ts\"; allowed: ucb, ei, pi"},
		{"bayes negative kappa", map[string]string{"extra": "[sampler.bayes]\nkappa = -1.0\n"}, false, "sampler.bayes.kappa", 0, "non-negative"},
		{"bayes negative xi", map[string]string{"extra": "[sampler.bayes]\nxi = -0.5\n"}, false, "sampler.bayes.xi", 0, "non-negative"},
		{"bayes unknown key", map[string]string{"extra": "[sampler.bayes]\nbeta = 1\n"}, false, "sampler.bayes.beta", 0, "unknown key; allowed in [sampler.bayes]: acquisition"},
		{"bayes few candidates", map[string]string{"extra": "[sampler.bayes]\ncandidates = 3\n"}, false, "sampler.bayes.candidates", 0, "from 16"},
		{"bayes negative patience", map[string]string{"extra": "[sampler.bayes]\npatience = -1\n"}, false, "sampler.bayes.patience", 0, "from 0 (never probe)"},
		{"bayes negative local_every", map[string]string{"extra": "[sampler.bayes]\nlocal_every = -2\n"}, false, "sampler.bayes.local_every", 0, "from 0 (no local proposals)"},
		{"unknown pruner", map[string]string{"extra": "[pruner]\nkind = \"hyperband\"\n"}, false, "pruner.kind", 0, `unknown pruner "hyperband"; allowed: median, asha`},
		{"pruner without kind", map[string]string{"extra": "[pruner]\nmetric = \"value\"\n"}, false, "pruner.kind", 0, "missing; allowed: median, asha"},
		{"median key on asha", map[string]string{"extra": "[pruner]\nkind = \"asha\"\nwarmup_steps = 3\n"}, false, "pruner.warmup_steps", 0, "unknown key"},
		{"asha eta 1", map[string]string{"extra": "[pruner]\nkind = \"asha\"\nreduction_factor = 1\n"}, false, "pruner.reduction_factor", 0, "from 2 to 1000"},
		{"pruner metric without direction", map[string]string{"extra": "[pruner]\nkind = \"median\"\nmetric = \"loss\"\n"}, false, "pruner.direction", 0, `say whether "loss"`},
		{"pruner bad direction", map[string]string{"extra": "[pruner]\nkind = \"median\"\ndirection = \"up\"\n"}, false, "pruner.direction", 0, "allowed: minimize, maximize"},
		{"enqueue outside", map[string]string{"extra": "[[enqueue]]\nx1 = 20.0\nx2 = 1.0\n"}, false, "enqueue[0]", 0, `"x1": 20 is outside [-5, 10]`},
		{"enqueue missing", map[string]string{"extra": "[[enqueue]]\nx1 = 1.0\n"}, false, "enqueue[0]", 0, `"x2" is missing`},
		{"enqueue unknown", map[string]string{"extra": "[[enqueue]]\nx1 = 1.0\nx2 = 1\nx3 = 1\n"}, false, "enqueue[0]", 0, `"x3" is not in the space`},
		{"warm start itself", map[string]string{"study": "[study]\nname = \"s\"\ntrials = 5\nwarm_start = \"s\"\n"}, false, "study.warm_start", 4, "names the study itself"},
		{"n_initial > trials", map[string]string{"study": "[study]\nname = \"s\"\ntrials = 5\nsampler = \"bayes\"\n", "extra": "[sampler.bayes]\nn_initial = 8\n"}, true, "sampler.bayes.n_initial", 0, "8 start-up points exceed the 5 trials"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := experiments.ParseConfig("study.toml", []byte(configWith(c.parts)))
			if c.plan {
				if err != nil {
					t.Fatalf("ParseConfig: %v", err)
				}
				_, err = cfg.Plan()
			}
			var ce *experiments.ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("error = %v, want a ConfigError", err)
			}
			if ce.File != "study.toml" || ce.Key != c.key || (c.line > 0 && ce.Line != c.line) || !strings.Contains(ce.Msg, c.msg) {
				t.Errorf("error = %q (file %q line %d key %q)\nwant line %d key %q and message containing %q", err, ce.File, ce.Line, ce.Key, c.line, c.key, c.msg)
			}
			if !strings.HasPrefix(err.Error(), "study.toml:") {
				t.Errorf("error %q does not start with the file", err)
			}
		})
	}
}

func TestConfigReportsEveryProblem(t *testing.T) {
	_, err := experiments.ParseConfig("s.toml", []byte("[study]\nname = \"s\"\ntrials = -1\nparallel = 0\n"+base["params"]+base["objective"]))
	if err == nil {
		t.Fatal("no error")
	}
	for _, want := range []string{"s.toml:3: study.trials", "s.toml:4: study.parallel"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestLoadConfigMissingFile(t *testing.T) {
	_, err := experiments.LoadConfig(filepath.Join(t.TempDir(), "nope.toml"))
	var ce *experiments.ConfigError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "cannot read the config: no such file or directory") {
		t.Errorf("LoadConfig of a missing file = %v", err)
	}
	_ = os.Remove
}

func TestParseBayesConfig(t *testing.T) {
	c, err := experiments.ParseConfig("b.toml", []byte(configWith(map[string]string{
		"study": "[study]\nname = \"s\"\ntrials = 40\nsampler = \"bayes\"\n",
		"extra": "[sampler.bayes]\nacquisition = \"ei\"\nn_initial = 12\nxi = 0.0\nkappa = 3\ndeterministic = true\ncandidates = 512\npatience = 7\nlocal_every = 3\n",
	})))
	if err != nil {
		t.Fatal(err)
	}
	plan, err := c.Plan()
	if err != nil {
		t.Fatal(err)
	}
	b, ok := plan.Sampler.(*optimize.Bayes)
	if !ok {
		t.Fatalf("sampler %T, want *optimize.Bayes", plan.Sampler)
	}
	o := b.Options()
	if o.Acquisition != "ei" || o.NInitial != 12 || o.Xi != 0 || o.Kappa != 3 || !o.Deterministic || o.Candidates != 512 || o.Patience != 7 || o.LocalEvery != 3 {
		t.Errorf("options %+v", o)
	}
	// The options belong to the study's identity: changing one is a
	// different study.
	c2, _ := experiments.ParseConfig("b.toml", []byte(strings.Replace(c.Text, "kappa = 3", "kappa = 2", 1)))
	p2, err := c2.Plan()
	if err != nil {
		t.Fatal(err)
	}
	if d := experiments.DiffIdentities(plan.Identity.String(), p2.Identity.String()); len(d) != 1 || !strings.Contains(d[0], "sampler.bayes.kappa: 3 → 2") {
		t.Errorf("identity diff = %v", d)
	}
	// patience and local_every join the identity only away from their
	// defaults, so that studies stored before they existed still resume.
	for _, tt := range []struct {
		key, text string
		in        bool
	}{
		{"patience", strings.Replace(c.Text, "patience = 7", "patience = 10", 1), false},
		{"patience", c.Text, true},
		{"local_every", strings.Replace(c.Text, "local_every = 3", "local_every = 2", 1), false},
		{"local_every", c.Text, true},
	} {
		c3, _ := experiments.ParseConfig("b.toml", []byte(tt.text))
		p3, err := c3.Plan()
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(p3.Identity.String(), `"`+tt.key+`"`); got != tt.in {
			t.Errorf("%s in the identity = %v, want %v: %s", tt.key, got, tt.in, p3.Identity.String())
		}
	}
}
