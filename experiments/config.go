package experiments

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/olc-toolkit/olc/optimize"
	"github.com/olc-toolkit/olc/optimize/functions"
)

// Samplers lists the sampler names a config may give.
var Samplers = []string{"grid", "random", "bayes"}

// Config is a study's TOML config:
//
//	[study]
//	name = "demo"            # letters, digits, '-', '_', '.'
//	direction = "minimize"   # or "maximize"
//	metric = "value"         # the objective's metric to optimize
//	sampler = "random"       # grid | random | bayes
//	trials = 50              # complete trials wanted (grid: the grid size)
//	parallel = 1
//	seed = 0
//	max_retries = 0
//
//	[params.x1]
//	type = "float"           # float | int | categorical
//	low = -5.0
//	high = 10.0              # log, step, points, values where they apply
//
//	[sampler.random]
//	qmc = false              # scrambled Halton points instead of pseudo-random
//
//	[sampler.bayes]
//	acquisition = "ucb"      # ucb | ei | pi
//	n_initial = 10           # quasi-random points first (default max(10, 2·d))
//	xi = 0.01                # EI/PI margin, in standard deviations
//	kappa = 2.0              # UCB weight of the standard deviation
//	deterministic = false    # true: the objective has no noise
//	candidates = 2048        # points scored before local refinement
//
//	[objective]
//	kind = "builtin"         # builtin | command
//	function = "branin"
//	# command = ["python3", "train.py", "--lr", "{lr}"]
//	# timeout = "30m"; workdir = "."; env = { KEY = "value" }
//
// A relative workdir is taken from the config file's folder, which is also
// the default working folder of commands.
type Config struct {
	// File is the config's path; Text its content.
	File, Text string
	Study      StudyConfig
	Space      *optimize.Space
	Random     RandomConfig
	Bayes      optimize.BayesOptions
	// BayesNInitialSet records that the config gives n_initial.
	BayesNInitialSet bool
	Objective        ObjectiveConfig
	// NewTrainObjective builds the objective of kind "train" from the
	// train config's path; the train package provides it (set by olc's
	// commands), as experiments cannot import it.
	NewTrainObjective func(path string, params []string) (Objective, error)
	doc               *tomlDoc
}

// StudyConfig is the [study] table.
type StudyConfig struct {
	Name      string
	Direction optimize.Direction
	Metric    string
	Sampler   string
	// Trials is 0 when the config leaves it out (grid: the grid size).
	Trials     int
	Parallel   int
	Seed       uint64
	MaxRetries int
}

// RandomConfig is the [sampler.random] table.
type RandomConfig struct {
	QMC bool
}

// ObjectiveConfig is the [objective] table.
type ObjectiveConfig struct {
	Kind     string
	Function string
	Command  []string
	Timeout  time.Duration
	// Workdir is the working folder as written; Dir resolves it.
	Workdir string
	Env     map[string]string
	// TrainConfig is kind "train"'s train config, as written (relative to
	// the study config's folder).
	TrainConfig string
}

// ParamKeyError is a parameter of a train objective that names no key of
// the train config.
type ParamKeyError struct{ Param, Msg string }

func (e *ParamKeyError) Error() string { return e.Param + ": " + e.Msg }

// TrainConfigPath resolves the train config's path.
func (c *Config) TrainConfigPath() string {
	if filepath.IsAbs(c.Objective.TrainConfig) {
		return c.Objective.TrainConfig
	}
	return filepath.Join(filepath.Dir(c.File), c.Objective.TrainConfig)
}

// Dir returns the command's working folder: Workdir taken from the
// config file's folder.
func (c *Config) Dir() string {
	base := filepath.Dir(c.File)
	if c.Objective.Workdir == "" {
		return base
	}
	if filepath.IsAbs(c.Objective.Workdir) {
		return c.Objective.Workdir
	}
	return filepath.Join(base, c.Objective.Workdir)
}

// LoadConfig reads and checks the config at path.
func LoadConfig(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, &ConfigError{File: path, Msg: fmt.Sprintf("cannot read the config: %v", unwrapPathErr(err))}
	}
	return ParseConfig(path, data)
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// ParseConfig checks a config's text; file names it in errors. All the
// problems found are returned, joined, each a *ConfigError.
func ParseConfig(file string, data []byte) (*Config, error) {
	d, err := parseTOML(file, data)
	if err != nil {
		return nil, err
	}
	c := &Config{File: file, Text: string(data), doc: d}
	root := section{d: d, m: d.root}
	root.only("study", "params", "sampler", "objective")

	st, _ := root.required("study", "a config starts with a [study] table holding at least name and trials")
	c.parseStudy(st)
	c.parseParams(root)
	samplers, _ := root.table("sampler")
	samplers.only("random", "bayes")
	rnd, _ := samplers.table("random")
	rnd.only("qmc")
	c.Random.QMC = rnd.boolean("qmc")
	c.parseBayes(samplers)
	c.parseObjective(root)
	if err := d.err(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Config) parseStudy(s section) {
	d := c.doc
	s.only("name", "direction", "metric", "sampler", "trials", "parallel", "seed", "max_retries")
	c.Study.Name = s.str("name", "")
	switch {
	case !s.has("name"):
		d.fail("study.name", "missing; name the study (letters, digits, '-', '_', '.')")
	case !optimize.ValidName(c.Study.Name):
		d.fail("study.name", "%q is not a valid name; allowed: letters, digits, '-', '_', '.', not starting with '-' or '.'", c.Study.Name)
	}
	dir := s.str("direction", "minimize")
	if x, ok := optimize.ParseDirection(dir); ok {
		c.Study.Direction = x
	} else {
		d.fail("study.direction", "unknown direction %q; allowed: minimize, maximize", dir)
	}
	c.Study.Metric = s.str("metric", "value")
	if c.Study.Metric == "" {
		d.fail("study.metric", "must not be empty")
	}
	c.Study.Sampler = s.str("sampler", "random")
	if !validSampler(c.Study.Sampler) {
		d.fail("study.sampler", "unknown sampler %q; allowed: %s", c.Study.Sampler, strings.Join(Samplers, ", "))
	}
	if s.has("trials") {
		n := s.integer("trials", 0)
		if n <= 0 {
			d.fail("study.trials", "must be a positive integer (got %d)", n)
		}
		c.Study.Trials = int(min(n, math.MaxInt32))
	}
	p := s.integer("parallel", 1)
	if p < 1 || p > 1024 {
		d.fail("study.parallel", "must be an integer from 1 to 1024 (got %d)", p)
	}
	c.Study.Parallel = int(min(max(p, 1), 1024))
	seed := s.integer("seed", 0)
	if seed < 0 {
		d.fail("study.seed", "must be a non-negative integer (got %d)", seed)
	}
	c.Study.Seed = uint64(max(seed, 0))
	r := s.integer("max_retries", 0)
	if r < 0 || r > 100 {
		d.fail("study.max_retries", "must be an integer from 0 to 100 (got %d)", r)
	}
	c.Study.MaxRetries = int(min(max(r, 0), 100))
}

// parseBayes reads [sampler.bayes].
func (c *Config) parseBayes(samplers section) {
	d := c.doc
	b, _ := samplers.table("bayes")
	b.only("acquisition", "n_initial", "xi", "kappa", "deterministic", "candidates")
	o := &c.Bayes
	o.Acquisition = b.str("acquisition", "")
	if b.has("acquisition") && o.Acquisition != optimize.AcquisitionUCB && o.Acquisition != optimize.AcquisitionEI && o.Acquisition != optimize.AcquisitionPI {
		d.fail("sampler.bayes.acquisition", "unknown acquisition %q; allowed: ucb, ei, pi", o.Acquisition)
	}
	if b.has("n_initial") {
		n := b.integer("n_initial", 0)
		if n < 1 || n > 1_000_000 {
			d.fail("sampler.bayes.n_initial", "must be a positive integer (got %d)", n)
		}
		o.NInitial = int(min(max(n, 1), 1_000_000))
		c.BayesNInitialSet = true
	}
	if b.has("xi") {
		xi, _ := b.number("xi")
		if !(xi >= 0) || math.IsInf(xi, 0) {
			d.fail("sampler.bayes.xi", "must be a non-negative number (got %v)", xi)
		}
		o.Xi, o.XiZero = max(xi, 0), xi == 0
	}
	if b.has("kappa") {
		k, _ := b.number("kappa")
		if !(k >= 0) || math.IsInf(k, 0) {
			d.fail("sampler.bayes.kappa", "must be a non-negative number (got %v)", k)
		}
		o.Kappa, o.KappaZero = max(k, 0), k == 0
	}
	o.Deterministic = b.boolean("deterministic")
	if b.has("candidates") {
		n := b.integer("candidates", 0)
		if n < 16 || n > 1<<20 {
			d.fail("sampler.bayes.candidates", "must be an integer from 16 to %d (got %d)", 1<<20, n)
		}
		o.Candidates = int(min(max(n, 16), 1<<20))
	}
}

func validSampler(s string) bool {
	for _, x := range Samplers {
		if s == x {
			return true
		}
	}
	return false
}

var paramKeys = map[optimize.Kind][]string{
	optimize.Float:       {"type", "low", "high", "log", "step", "points"},
	optimize.Int:         {"type", "low", "high", "log", "step"},
	optimize.Categorical: {"type", "values"},
}

func (c *Config) parseParams(root section) {
	d := c.doc
	ps, ok := root.required("params", "declare at least one parameter, e.g. [params.x] with type = \"float\", low = 0.0, high = 1.0")
	if !ok {
		return
	}
	var params []optimize.Param
	failed := len(d.errs)
	for _, name := range ps.keys() {
		t, ok := ps.table(name)
		if !ok {
			continue
		}
		path := "params." + name
		if !optimize.ValidName(name) {
			d.fail(path, "%q is not a valid parameter name; allowed: letters, digits, '-', '_', '.'", name)
			continue
		}
		p := optimize.Param{Name: name}
		typ := t.str("type", "")
		kind, ok := optimize.ParseKind(typ)
		if !ok {
			if !t.has("type") {
				d.fail(path+".type", "missing; allowed: float, int, categorical")
			} else {
				d.fail(path+".type", "unknown type %q; allowed: float, int, categorical", typ)
			}
			continue
		}
		p.Kind = kind
		allowed := paramKeys[kind]
		for _, k := range t.keys() {
			if !contains(allowed, k) {
				d.fail(path+"."+k, "not allowed for a %s parameter; allowed: %s", kind, strings.Join(allowed, ", "))
			}
		}
		switch kind {
		case optimize.Float, optimize.Int:
			for _, k := range []string{"low", "high"} {
				if !t.has(k) {
					d.fail(path+"."+k, "missing; a %s parameter needs low and high", kind)
				}
			}
			if kind == optimize.Int {
				p.Low, p.High = float64(t.integer("low", 0)), float64(t.integer("high", 0))
				if t.has("step") {
					p.Step = float64(t.integer("step", 0))
					if p.Step <= 0 {
						d.fail(path+".step", "must be a positive integer (got %v)", p.Step)
						p.Step = 0
					}
				}
			} else {
				p.Low, _ = t.number("low")
				p.High, _ = t.number("high")
				if t.has("step") {
					p.Step, _ = t.number("step")
					if !(p.Step > 0) {
						d.fail(path+".step", "must be a positive number (got %v)", p.Step)
						p.Step = 0
					}
				}
				if t.has("points") {
					p.Points = int(max(min(t.integer("points", 0), math.MaxInt32), math.MinInt32))
				}
			}
			p.Log = t.boolean("log")
		case optimize.Categorical:
			p.Values = c.values(t, path)
		}
		if len(d.errs) > failed {
			failed = len(d.errs)
			continue
		}
		if err := p.Validate(); err != nil {
			var pe *optimize.ParamError
			if errors.As(err, &pe) {
				key := path
				if pe.Key != "" {
					key += "." + pe.Key
				}
				d.fail(key, "%s", pe.Msg)
			} else {
				d.fail(path, "%v", err)
			}
			failed = len(d.errs)
			continue
		}
		params = append(params, p)
	}
	if len(ps.m) == 0 {
		d.fail("params", "declare at least one parameter, e.g. [params.x] with type = \"float\", low = 0.0, high = 1.0")
		return
	}
	if len(d.errs) > 0 {
		return
	}
	space, err := optimize.NewSpace(params...)
	if err != nil {
		d.fail("params", "%v", err)
		return
	}
	c.Space = space
}

// values reads a categorical parameter's values: strings, numbers and
// booleans.
func (c *Config) values(t section, path string) []any {
	v, ok := t.m["values"]
	if !ok {
		c.doc.fail(path+".values", "missing; list the choices, e.g. values = [\"adam\", \"sgd\"]")
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		c.doc.fail(path+".values", "must be an array of strings, numbers or booleans, got %s", describe(v))
		return nil
	}
	if len(list) == 0 {
		c.doc.fail(path+".values", "must list at least one value")
		return nil
	}
	for i, x := range list {
		switch x.(type) {
		case string, int64, float64, bool:
		default:
			c.doc.fail(path+".values", "element %d is %s; allowed: strings, numbers, booleans", i, describe(x))
			return nil
		}
	}
	return list
}

func (c *Config) parseObjective(root section) {
	d := c.doc
	o, ok := root.required("objective", "say what to optimize, e.g. [objective] kind = \"builtin\", function = \"branin\"")
	if !ok {
		return
	}
	c.Objective.Kind = o.str("kind", "")
	switch c.Objective.Kind {
	case "builtin":
		o.only("kind", "function")
		c.Objective.Function = o.str("function", "")
		if !o.has("function") {
			d.fail("objective.function", "missing; allowed: %s", strings.Join(functions.Names(), ", "))
			return
		}
		if _, ok := functions.Lookup(c.Objective.Function); !ok {
			d.fail("objective.function", "unknown function %q; allowed: %s", c.Objective.Function, strings.Join(functions.Names(), ", "))
			return
		}
		if c.Study.Metric != "value" && c.Study.Metric != "" {
			d.fail("study.metric", "builtin functions report the metric \"value\" only, not %q", c.Study.Metric)
		}
		if c.Space == nil {
			return
		}
		if _, err := NewBuiltin(c.Objective.Function, c.Space); err != nil {
			key := "objective.function"
			for _, p := range c.Space.Params() {
				if p.Kind == optimize.Categorical {
					key = "params." + p.Name + ".type"
				}
			}
			d.fail(key, "%v", err)
		}
	case "command":
		o.only("kind", "command", "timeout", "workdir", "env")
		c.parseCommand(o)
	case "train":
		o.only("kind", "config")
		c.Objective.TrainConfig = o.str("config", "")
		if c.Objective.TrainConfig == "" {
			d.fail("objective.config", "missing; the train config whose keys the parameters override, e.g. config = \"train.toml\"")
		}
	default:
		if !o.has("kind") {
			d.fail("objective.kind", "missing; allowed: builtin, command, train")
		} else {
			d.fail("objective.kind", "unknown kind %q; allowed: builtin, command, train", c.Objective.Kind)
		}
	}
}

func (c *Config) parseCommand(o section) {
	d := c.doc
	v, ok := o.m["command"]
	if !ok {
		d.fail("objective.command", "missing; give the program and its arguments, e.g. [\"python3\", \"train.py\", \"--lr\", \"{lr}\"]")
		return
	}
	list, isList := v.([]any)
	if !isList {
		d.fail("objective.command", "must be an array of strings (the program and its arguments; olc runs no shell), got %s", describe(v))
		return
	}
	for i, x := range list {
		s, ok := x.(string)
		if !ok {
			d.fail("objective.command", "element %d is %s; every element must be a string", i, describe(x))
			return
		}
		c.Objective.Command = append(c.Objective.Command, s)
	}
	if o.has("timeout") {
		s := o.str("timeout", "")
		t, err := time.ParseDuration(s)
		switch {
		case s == "":
		case err != nil:
			d.fail("objective.timeout", "%q is not a duration; write it like \"90s\", \"30m\" or \"2h\"", s)
		case t <= 0:
			d.fail("objective.timeout", "must be positive (got %s)", s)
		default:
			c.Objective.Timeout = t
		}
	}
	c.Objective.Workdir = o.str("workdir", "")
	if env, ok := o.table("env"); ok {
		c.Objective.Env = map[string]string{}
		for _, k := range env.keys() {
			s, ok := env.m[k].(string)
			if !ok {
				d.fail("objective.env."+k, "must be a string, got %s", describe(env.m[k]))
				continue
			}
			c.Objective.Env[k] = s
		}
	}
	if c.Space != nil {
		cmd := &Command{Argv: c.Objective.Command}
		if err := cmd.Check(c.Space); err != nil {
			d.fail("objective.command", "%v", err)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Plan is what a checked config runs: the sampler, the objective, the
// number of complete trials wanted and the study's identity.
type Plan struct {
	Sampler   optimize.Sampler
	Objective Objective
	Trials    int
	Identity  Identity
}

// Plan builds the config's sampler and objective. Call it after any
// overrides of Study (a sampler or trials from flags): it checks what
// depends on them, such as a grid's step and size.
func (c *Config) Plan() (*Plan, error) {
	d := c.doc
	d.errs = nil
	p := &Plan{Trials: c.Study.Trials}
	id := Identity{Direction: c.Study.Direction, Metric: c.Study.Metric, Sampler: c.Study.Sampler, Seed: c.Study.Seed, Space: c.Space}
	switch c.Study.Sampler {
	case "grid":
		g, err := optimize.NewGrid(c.Space)
		if err != nil {
			c.paramError(err, "a grid")
			return nil, d.err()
		}
		p.Sampler = g
		if p.Trials == 0 {
			p.Trials = g.Size()
		}
	case "random":
		r, err := optimize.NewRandom(c.Space, c.Study.Seed, c.Random.QMC)
		if err != nil {
			c.paramError(err, "random")
			return nil, d.err()
		}
		p.Sampler = r
		id.SamplerOptions = map[string]any{"random": map[string]any{"qmc": c.Random.QMC}}
	case "bayes":
		if c.BayesNInitialSet && p.Trials > 0 && c.Bayes.NInitial > p.Trials {
			d.fail("sampler.bayes.n_initial", "%d start-up points exceed the %d trials wanted; the model would never be used", c.Bayes.NInitial, p.Trials)
			return nil, d.err()
		}
		bs, err := optimize.NewBayes(c.Space, c.Study.Seed, c.Bayes)
		if err != nil {
			c.paramError(err, "bayes")
			return nil, d.err()
		}
		p.Sampler = bs
		o := bs.Options()
		id.SamplerOptions = map[string]any{"bayes": map[string]any{
			"acquisition": o.Acquisition, "n_initial": o.NInitial, "xi": o.Xi, "kappa": o.Kappa,
			"deterministic": o.Deterministic, "candidates": o.Candidates,
		}}
	default:
		d.fail("study.sampler", "unknown sampler %q; allowed: %s", c.Study.Sampler, strings.Join(Samplers, ", "))
		return nil, d.err()
	}
	if p.Trials <= 0 {
		d.fail("study.trials", "missing; say how many complete trials the %s sampler should run (or pass --trials)", c.Study.Sampler)
		return nil, d.err()
	}
	switch c.Objective.Kind {
	case "builtin":
		b, err := NewBuiltin(c.Objective.Function, c.Space)
		if err != nil {
			d.fail("objective.function", "%v", err)
			return nil, d.err()
		}
		p.Objective = b
		id.Objective = map[string]any{"kind": "builtin", "function": c.Objective.Function}
	case "command":
		p.Objective = &Command{Argv: c.Objective.Command, Timeout: c.Objective.Timeout, Dir: c.Dir(), Env: c.Objective.Env}
		env := map[string]any{}
		for k, v := range c.Objective.Env {
			env[k] = v
		}
		id.Objective = map[string]any{"kind": "command", "command": c.Objective.Command, "workdir": c.Objective.Workdir, "env": env}
	case "train":
		if c.NewTrainObjective == nil {
			d.fail("objective.kind", "kind \"train\" needs olc's trainer, which this program does not include")
			return nil, d.err()
		}
		o, err := c.NewTrainObjective(c.TrainConfigPath(), c.Space.Names())
		if err != nil {
			var pe *ParamKeyError
			if errors.As(err, &pe) {
				d.fail("params."+pe.Param, "%s", pe.Msg)
				return nil, d.err()
			}
			d.fail("objective.config", "%v", err)
			return nil, d.err()
		}
		p.Objective = o
		id.Objective = map[string]any{"kind": "train", "config": c.Objective.TrainConfig}
	}
	p.Identity = id
	return p, nil
}

func (c *Config) paramError(err error, what string) {
	var pe *optimize.ParamError
	if errors.As(err, &pe) && pe.Param != "" {
		key := "params." + pe.Param
		if pe.Key != "" {
			key += "." + pe.Key
		}
		c.doc.fail(key, "%s", pe.Msg)
		return
	}
	if errors.As(err, &pe) && pe.Key != "" {
		c.doc.fail("sampler."+what+"."+pe.Key, "%s", pe.Msg)
		return
	}
	if errors.As(err, &pe) {
		c.doc.fail("params", "%s (%s)", pe.Msg, what)
		return
	}
	c.doc.fail("params", "%v", err)
}
