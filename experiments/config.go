package experiments

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/olc-toolkit/olc/internal/tomlconf"
	"github.com/olc-toolkit/olc/optimize"
	"github.com/olc-toolkit/olc/optimize/functions"
)

// ConfigError is a problem in a config file: the file, the line (0 when
// unknown), the key path as the file spells it, and what is allowed. It is
// the one error type of every config olc reads.
type ConfigError = tomlconf.Error

// External is the objective kind of a study whose trials another program
// evaluates, asking for them and telling their results ('olc optimize
// ask' and 'tell'); such a study has no objective to run.
const External = "external"

// Samplers lists the sampler names a config may give.
var Samplers = []string{"grid", "random", "bayes", "cmaes"}

// Config is a study's TOML config:
//
//	[study]
//	name = "demo"            # letters, digits, '-', '_', '.'
//	direction = "minimize"   # or "maximize"
//	metric = "value"         # the objective's metric to optimize
//	sampler = "random"       # grid | random | bayes | cmaes
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
//	patience = 10            # stalled trials before probes (0: never)
//	local_every = 2          # one proposal in this many from a local model (0: never)
//
//	[objective]
//	kind = "builtin"         # builtin | command | a registered kind ("train")
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
	// CMAES is [sampler.cmaes]: the population size (0: the default).
	CMAESPopSize int
	// Bayes are [sampler.bayes]'s options: optimize.DefaultBayesOptions
	// for the space, with the keys the config gives.
	Bayes optimize.BayesOptions
	// nInitialSet records that the config gives n_initial (which may then
	// not exceed the trials).
	nInitialSet bool
	Objective   ObjectiveConfig
	// Enqueue are the points of the [[enqueue]] tables, run first.
	Enqueue []optimize.Params
	// Pruner is the [pruner] table.
	Pruner PrunerConfig
	doc    *tomlconf.Doc
	// paramKey, when set, names the key of the document that gives a
	// parameter (ObjectiveTable's callers have no [params] table).
	paramKey func(param string) string
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
	// WarmStart names another study of the store whose complete trials,
	// over the same space and objective, the sampler's model starts from.
	WarmStart string
	// Metrics and Directions are the study's objectives when it has
	// several (metrics = [...]); Metric and Direction are then the first's.
	Metrics    []string
	Directions []optimize.Direction
}

// PrunerConfig is the [pruner] table: how trials are stopped early from
// their intermediate values.
type PrunerConfig struct {
	// Kind is "median", "asha" or "" (no pruning).
	Kind string
	// Metric is the intermediate metric judged (default the study's) and
	// Direction its direction (default the study's).
	Metric    string
	Direction optimize.Direction
	// The median pruner's settings.
	StartupTrials, WarmupSteps, MinTrials int
	// ASHA's settings: the first rung's step (0: the first step any trial
	// reports) and η.
	MinResource, ReductionFactor int
}

// Pruners lists the pruner kinds a config may give.
var Pruners = []string{"median", "asha"}

// Build returns the pruner, or nil when the config has none.
func (p *PrunerConfig) Build() optimize.Pruner {
	switch p.Kind {
	case "median":
		return &optimize.MedianPruner{StartupTrials: p.StartupTrials, WarmupSteps: p.WarmupSteps, MinTrials: p.MinTrials}
	case "asha":
		return &optimize.ASHA{MinResource: p.MinResource, ReductionFactor: p.ReductionFactor}
	}
	return nil
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
	// TrainConfig is the config file of a registered kind (kind "train":
	// the train config), as written (relative to the study config's
	// folder).
	TrainConfig string
}

// ParamKeyError is a parameter of a registered kind's objective (kind
// "train") that names no key of its config, or (from a [ValueChecker])
// whose value the config refuses.
type ParamKeyError struct{ Param, Msg string }

func (e *ParamKeyError) Error() string { return e.Param + ": " + e.Msg }

// A ValueChecker is an objective that can tell, before any trial runs,
// whether it accepts a set of parameter values (kind "train": the train
// config with them applied validates). The problems it finds are
// *[ParamKeyError] values, joined.
type ValueChecker interface {
	CheckValues(params map[string]any) error
}

// A MetricLister is an objective that can tell, before any trial runs,
// which metrics it reports when given a set of parameter values (kind
// "train": the evaluation's metrics of its task, the final loss and the
// throughput), so that a config asking for another is refused at once.
type MetricLister interface {
	ListMetrics(params map[string]any) ([]string, error)
}

// TrainConfigPath resolves the train config's path.
func (c *Config) TrainConfigPath() string {
	if filepath.IsAbs(c.Objective.TrainConfig) {
		return c.Objective.TrainConfig
	}
	return filepath.Join(filepath.Dir(c.File), c.Objective.TrainConfig)
}

// Dir returns the command's working folder as an absolute path: Workdir
// taken from the config file's folder.
func (c *Config) Dir() string {
	dir := c.Objective.Workdir
	if !filepath.IsAbs(dir) {
		dir = filepath.Join(filepath.Dir(c.File), dir)
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return dir
}

// LoadConfig reads and checks the config at path.
func LoadConfig(path string) (*Config, error) {
	data, err := tomlconf.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseConfig(path, data)
}

// ParseConfig checks a config's text; file names it in errors. All the
// problems found are returned, joined, each a *ConfigError.
func ParseConfig(file string, data []byte) (*Config, error) {
	d, err := tomlconf.Parse(file, data)
	if err != nil {
		return nil, err
	}
	c := &Config{File: file, Text: string(data), doc: d}
	root := d.Root()
	root.Only("study", "params", "sampler", "objective", "enqueue", "pruner")

	st, _ := root.Required("study", "a config starts with a [study] table holding at least name and trials")
	c.parseStudy(st)
	c.parseParams(root)
	samplers, _ := root.Table("sampler")
	samplers.Only("random", "bayes", "cmaes")
	cma, _ := samplers.Table("cmaes")
	cma.Only("popsize")
	if cma.Has("popsize") {
		n := cma.Int("popsize", 0)
		if n < 2 || n > 100_000 {
			d.Fail("sampler.cmaes.popsize", "must be an integer from 2 to 100000 (got %d)", n)
		}
		c.CMAESPopSize = int(min(max(n, 2), 100_000))
	}
	rnd, _ := samplers.Table("random")
	rnd.Only("qmc")
	c.Random.QMC = rnd.Bool("qmc")
	c.parseBayes(samplers)
	c.parseObjective(root)
	c.parseEnqueue(root)
	c.parsePruner(root)
	if err := d.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Config) parseStudy(s tomlconf.Section) {
	d := c.doc
	s.Only("name", "direction", "metric", "metrics", "directions", "sampler", "trials", "parallel", "seed", "max_retries", "warm_start")
	c.Study.Name = s.Str("name", "")
	switch {
	case !s.Has("name"):
		d.Fail("study.name", "missing; name the study (letters, digits, '-', '_', '.')")
	case len(c.Study.Name) > optimize.MaxNameLen:
		d.Fail("study.name", "is %d characters long; allowed: at most %d (the name is a folder of the trials' logs)", len(c.Study.Name), optimize.MaxNameLen)
	case !optimize.ValidName(c.Study.Name):
		d.Fail("study.name", "%q is not a valid name; allowed: letters, digits, '-', '_', '.', not starting with '-' or '.'", c.Study.Name)
	}
	dir := s.Str("direction", "minimize")
	if x, ok := optimize.ParseDirection(dir); ok {
		c.Study.Direction = x
	} else {
		d.Fail("study.direction", "unknown direction %q; allowed: minimize, maximize", dir)
	}
	c.Study.Metric = s.Str("metric", "value")
	if c.Study.Metric == "" {
		d.Fail("study.metric", "must not be empty")
	}
	if s.Has("metrics") {
		c.parseObjectives(s)
	} else if s.Has("directions") {
		d.Fail("study.directions", "goes with metrics = [...], the study's several objectives")
	}
	c.Study.Sampler = s.Str("sampler", "random")
	if !validSampler(c.Study.Sampler) {
		d.Fail("study.sampler", "unknown sampler %q; allowed: %s", c.Study.Sampler, strings.Join(Samplers, ", "))
	}
	if s.Has("trials") {
		n := s.Int("trials", 0)
		if n <= 0 {
			d.Fail("study.trials", "must be a positive integer (got %d)", n)
		}
		c.Study.Trials = int(min(n, math.MaxInt32))
	}
	p := s.Int("parallel", 1)
	if p < 1 || p > 1024 {
		d.Fail("study.parallel", "must be an integer from 1 to 1024 (got %d)", p)
	}
	c.Study.Parallel = int(min(max(p, 1), 1024))
	seed := s.Int("seed", 0)
	if seed < 0 {
		d.Fail("study.seed", "must be a non-negative integer (got %d)", seed)
	}
	c.Study.Seed = uint64(max(seed, 0))
	r := s.Int("max_retries", 0)
	if r < 0 || r > 100 {
		d.Fail("study.max_retries", "must be an integer from 0 to 100 (got %d)", r)
	}
	c.Study.MaxRetries = int(min(max(r, 0), 100))
	if s.Has("warm_start") {
		c.Study.WarmStart = s.Str("warm_start", "")
		switch {
		case !optimize.ValidName(c.Study.WarmStart):
			d.Fail("study.warm_start", "%q is not a study name; give the name of a study of the same store", c.Study.WarmStart)
		case c.Study.WarmStart == c.Study.Name:
			d.Fail("study.warm_start", "names the study itself; give another study of the same store")
		}
	}
}

// parsePruner reads [pruner].
func (c *Config) parsePruner(root tomlconf.Section) {
	d := c.doc
	t, ok := root.Table("pruner")
	if !ok {
		return
	}
	p := &c.Pruner
	p.Kind = t.Str("kind", "")
	switch p.Kind {
	case "median":
		t.Only("kind", "metric", "direction", "startup_trials", "warmup_steps", "min_trials")
	case "asha":
		t.Only("kind", "metric", "direction", "min_resource", "reduction_factor")
	case "":
		d.Fail("pruner.kind", "missing; allowed: %s", strings.Join(Pruners, ", "))
		return
	default:
		d.Fail("pruner.kind", "unknown pruner %q; allowed: %s", p.Kind, strings.Join(Pruners, ", "))
		return
	}
	p.Metric = t.Str("metric", c.Study.Metric)
	if p.Metric == "" {
		d.Fail("pruner.metric", "must not be empty")
	}
	p.Direction = c.Study.Direction
	if t.Has("direction") {
		dir := t.Str("direction", "")
		x, ok := optimize.ParseDirection(dir)
		if !ok {
			d.Fail("pruner.direction", "unknown direction %q; allowed: minimize, maximize", dir)
		}
		p.Direction = x
	} else if p.Metric != c.Study.Metric {
		d.Fail("pruner.direction", "missing; say whether %q, which is not the study's metric, is minimized or maximized", p.Metric)
	}
	intKey := func(key string, def, low, high int64) int {
		v := t.Int(key, def)
		if v < low || v > high {
			d.Fail("pruner."+key, "must be an integer from %d to %d (got %d)", low, high, v)
		}
		return int(min(max(v, low), high))
	}
	switch p.Kind {
	case "median":
		p.StartupTrials = intKey("startup_trials", 5, 0, 1_000_000)
		p.WarmupSteps = intKey("warmup_steps", 0, 0, math.MaxInt32)
		p.MinTrials = intKey("min_trials", 1, 1, 1_000_000)
	case "asha":
		p.MinResource = intKey("min_resource", 0, 0, math.MaxInt32)
		p.ReductionFactor = intKey("reduction_factor", 3, 2, 1000)
	}
}

// parseObjectives reads [study] metrics and directions: several
// objectives, each with its direction (default the study's direction).
func (c *Config) parseObjectives(s tomlconf.Section) {
	d := c.doc
	if s.Has("metric") {
		d.Fail("study.metrics", "give metric (one objective) or metrics (several), not both")
		return
	}
	names, ok := c.strings(s, "metrics")
	if !ok {
		return
	}
	if len(names) < 2 {
		d.Fail("study.metrics", "lists %d metric; give at least two (or metric = \"…\" for one)", len(names))
		return
	}
	for i, n := range names {
		if n == "" || slices.Contains(names[:i], n) {
			d.Fail("study.metrics", "element %d (%q) is empty or repeated", i, n)
			return
		}
	}
	dirs := make([]optimize.Direction, len(names))
	for i := range dirs {
		dirs[i] = c.Study.Direction
	}
	if s.Has("directions") {
		list, ok := c.strings(s, "directions")
		if !ok {
			return
		}
		if len(list) != len(names) {
			d.Fail("study.directions", "lists %d directions for %d metrics; give one per metric", len(list), len(names))
			return
		}
		for i, x := range list {
			dir, ok := optimize.ParseDirection(x)
			if !ok {
				d.Fail("study.directions", "element %d: unknown direction %q; allowed: minimize, maximize", i, x)
				return
			}
			dirs[i] = dir
		}
	}
	c.Study.Metrics, c.Study.Directions = names, dirs
	c.Study.Metric, c.Study.Direction = names[0], dirs[0]
}

// strings reads an array of strings.
func (c *Config) strings(s tomlconf.Section, key string) ([]string, bool) {
	list, ok := s.Map()[key].([]any)
	if !ok {
		c.doc.Fail(s.Key(key), "must be an array of strings, got %s", tomlconf.Describe(s.Map()[key]))
		return nil, false
	}
	out := make([]string, len(list))
	for i, x := range list {
		str, ok := x.(string)
		if !ok {
			c.doc.Fail(s.Key(key), "element %d is %s; every element must be a string", i, tomlconf.Describe(x))
			return nil, false
		}
		out[i] = str
	}
	return out, true
}

// metrics returns the study's metrics: several, or its one.
func (c *Config) metrics() []string {
	if len(c.Study.Metrics) > 1 {
		return c.Study.Metrics
	}
	return []string{c.Study.Metric}
}

// parseEnqueue reads the [[enqueue]] tables: points to run first, each
// giving every parameter.
func (c *Config) parseEnqueue(root tomlconf.Section) {
	points, _ := root.Tables("enqueue")
	if c.Space == nil {
		return
	}
	for _, t := range points {
		p, err := c.Space.Point(t.Map())
		if err != nil {
			c.doc.Fail(t.Path(), "%v", err)
			continue
		}
		c.Enqueue = append(c.Enqueue, p)
	}
}

// parseBayes reads [sampler.bayes].
func (c *Config) parseBayes(samplers tomlconf.Section) {
	d := c.doc
	b, _ := samplers.Table("bayes")
	b.Only("acquisition", "n_initial", "xi", "kappa", "deterministic", "candidates", "patience", "local_every")
	d0 := 0
	if c.Space != nil {
		d0 = c.Space.Len()
	}
	c.Bayes = optimize.DefaultBayesOptions(d0)
	o := &c.Bayes
	o.Acquisition = b.Str("acquisition", o.Acquisition)
	if b.Has("acquisition") && o.Acquisition != optimize.AcquisitionUCB && o.Acquisition != optimize.AcquisitionEI && o.Acquisition != optimize.AcquisitionPI {
		d.Fail("sampler.bayes.acquisition", "unknown acquisition %q; allowed: ucb, ei, pi", o.Acquisition)
	}
	if b.Has("n_initial") {
		n := b.Int("n_initial", 0)
		if n < 1 || n > 1_000_000 {
			d.Fail("sampler.bayes.n_initial", "must be a positive integer (got %d)", n)
		}
		o.NInitial = int(min(max(n, 1), 1_000_000))
		c.nInitialSet = true
	}
	if b.Has("xi") {
		xi, _ := b.Number("xi")
		if !(xi >= 0) || math.IsInf(xi, 0) {
			d.Fail("sampler.bayes.xi", "must be a non-negative number (got %v)", xi)
		}
		o.Xi = max(xi, 0)
	}
	if b.Has("kappa") {
		k, _ := b.Number("kappa")
		if !(k >= 0) || math.IsInf(k, 0) {
			d.Fail("sampler.bayes.kappa", "must be a non-negative number (got %v)", k)
		}
		o.Kappa = max(k, 0)
	}
	o.Deterministic = b.Bool("deterministic")
	if b.Has("candidates") {
		n := b.Int("candidates", 0)
		if n < 16 || n > 1<<20 {
			d.Fail("sampler.bayes.candidates", "must be an integer from 16 to %d (got %d)", 1<<20, n)
		}
		o.Candidates = int(min(max(n, 16), 1<<20))
	}
	// count reads a count from 0 (which means zero) to 1,000,000 into v.
	count := func(key, zero string, v *int) {
		if !b.Has(key) {
			return
		}
		n := b.Int(key, 0)
		if n < 0 || n > 1_000_000 {
			d.Fail("sampler.bayes."+key, "must be an integer from 0 (%s) to 1000000 (got %d)", zero, n)
		}
		*v = int(min(max(n, 0), 1_000_000))
	}
	count("patience", "never probe", &o.Patience)
	count("local_every", "no local proposals", &o.LocalEvery)
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
	optimize.Float:       {"type", "low", "high", "log", "step", "points", "condition"},
	optimize.Int:         {"type", "low", "high", "log", "step", "condition"},
	optimize.Categorical: {"type", "values", "condition"},
}

func (c *Config) parseParams(root tomlconf.Section) {
	d := c.doc
	ps, ok := root.Required("params", "declare at least one parameter, e.g. [params.x] with type = \"float\", low = 0.0, high = 1.0")
	if !ok {
		return
	}
	var params []optimize.Param
	failed := d.Failed()
	for _, name := range ps.Keys() {
		t, ok := ps.Table(name)
		if !ok {
			continue
		}
		path := "params." + name
		if !optimize.ValidName(name) {
			d.Fail(path, "%q is not a valid parameter name; allowed: at most %d letters, digits, '-', '_', '.'", name, optimize.MaxNameLen)
			continue
		}
		p := optimize.Param{Name: name}
		typ := t.Str("type", "")
		kind, ok := optimize.ParseKind(typ)
		if !ok {
			if !t.Has("type") {
				d.Fail(path+".type", "missing; allowed: float, int, categorical")
			} else {
				d.Fail(path+".type", "unknown type %q; allowed: float, int, categorical", typ)
			}
			continue
		}
		p.Kind = kind
		allowed := paramKeys[kind]
		for _, k := range t.Keys() {
			if !slices.Contains(allowed, k) {
				d.Fail(path+"."+k, "not allowed for a %s parameter; allowed: %s", kind, strings.Join(allowed, ", "))
			}
		}
		switch kind {
		case optimize.Float, optimize.Int:
			for _, k := range []string{"low", "high"} {
				if !t.Has(k) {
					d.Fail(path+"."+k, "missing; a %s parameter needs low and high", kind)
				}
			}
			if kind == optimize.Int {
				p.Low, p.High = float64(t.Int("low", 0)), float64(t.Int("high", 0))
				if t.Has("step") {
					p.Step = float64(t.Int("step", 0))
					if p.Step <= 0 {
						d.Fail(path+".step", "must be a positive integer (got %v)", p.Step)
						p.Step = 0
					}
				}
			} else {
				p.Low, _ = t.Number("low")
				p.High, _ = t.Number("high")
				if t.Has("step") {
					p.Step, _ = t.Number("step")
					if !(p.Step > 0) {
						d.Fail(path+".step", "must be a positive number (got %v)", p.Step)
						p.Step = 0
					}
				}
				if t.Has("points") {
					p.Points = int(max(min(t.Int("points", 0), math.MaxInt32), math.MinInt32))
				}
			}
			p.Log = t.Bool("log")
		case optimize.Categorical:
			p.Values = c.values(t, path)
		}
		if t.Has("condition") {
			p.Conditions = c.conditions(t, path)
		}
		if d.Failed() > failed {
			failed = d.Failed()
			continue
		}
		if err := p.Validate(); err != nil {
			var pe *optimize.ParamError
			if errors.As(err, &pe) {
				key := path
				if pe.Key != "" {
					key += "." + pe.Key
				}
				d.Fail(key, "%s", pe.Msg)
			} else {
				d.Fail(path, "%v", err)
			}
			failed = d.Failed()
			continue
		}
		params = append(params, p)
	}
	if len(ps.Map()) == 0 {
		d.Fail("params", "declare at least one parameter, e.g. [params.x] with type = \"float\", low = 0.0, high = 1.0")
		return
	}
	if d.Failed() > 0 {
		return
	}
	space, err := optimize.NewSpace(params...)
	if err != nil {
		var pe *optimize.ParamError
		if errors.As(err, &pe) && pe.Param != "" && pe.Key != "" {
			d.Fail("params."+pe.Param+"."+pe.Key, "%s", pe.Msg)
			return
		}
		d.Fail("params", "%v", err)
		return
	}
	c.Space = space
}

// conditions reads a parameter's condition table: { parent = [values] }
// (or a single value), each to hold for the parameter to be active.
func (c *Config) conditions(t tomlconf.Section, path string) []optimize.Condition {
	tab, ok := t.Map()["condition"].(map[string]any)
	if !ok {
		c.doc.Fail(path+".condition", "must be a table of the parameters it depends on and their values, e.g. condition = { optimizer = [\"sgd\"] }, got %s", tomlconf.Describe(t.Map()["condition"]))
		return nil
	}
	if len(tab) == 0 {
		c.doc.Fail(path+".condition", "is empty; name a parameter and its values, e.g. condition = { optimizer = [\"sgd\"] }")
		return nil
	}
	var out []optimize.Condition
	for _, parent := range slices.Sorted(maps.Keys(tab)) {
		var vals []any
		switch v := tab[parent].(type) {
		case []any:
			vals = v
		case string, int64, float64, bool:
			vals = []any{v}
		default:
			c.doc.Fail(path+".condition."+parent, "must be a value or an array of values of %q, got %s", parent, tomlconf.Describe(v))
			return nil
		}
		out = append(out, optimize.Condition{Param: parent, Values: vals})
	}
	return out
}

// values reads a categorical parameter's values: strings, numbers and
// booleans.
func (c *Config) values(t tomlconf.Section, path string) []any {
	v, ok := t.Map()["values"]
	if !ok {
		c.doc.Fail(path+".values", "missing; list the choices, e.g. values = [\"adam\", \"sgd\"]")
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		c.doc.Fail(path+".values", "must be an array of strings, numbers or booleans, got %s", tomlconf.Describe(v))
		return nil
	}
	if len(list) == 0 {
		c.doc.Fail(path+".values", "must list at least one value")
		return nil
	}
	for i, x := range list {
		switch x.(type) {
		case string, int64, float64, bool:
		default:
			c.doc.Fail(path+".values", "element %d is %s; allowed: strings, numbers, booleans", i, tomlconf.Describe(x))
			return nil
		}
	}
	return list
}

func (c *Config) parseObjective(root tomlconf.Section) {
	d := c.doc
	o, ok := root.Required("objective", "say what to optimize, e.g. [objective] kind = \"builtin\", function = \"branin\"")
	if !ok {
		return
	}
	c.Objective.Kind = o.Str("kind", "")
	switch c.Objective.Kind {
	case "builtin":
		o.Only("kind", "function")
		c.Objective.Function = o.Str("function", "")
		if !o.Has("function") {
			d.Fail("objective.function", "missing; allowed: %s", strings.Join(functions.Names(), ", "))
			return
		}
		_, single := functions.Lookup(c.Objective.Function)
		multi, isMulti := functions.LookupMulti(c.Objective.Function)
		if !single && !isMulti {
			d.Fail("objective.function", "unknown function %q; allowed: %s", c.Objective.Function, strings.Join(append(functions.Names(), functions.MultiNames()...), ", "))
			return
		}
		key := "study.metric"
		if len(c.Study.Metrics) > 1 {
			key = "study.metrics"
		}
		if single {
			if m := c.metrics(); len(m) > 1 || (m[0] != "value" && m[0] != "") {
				d.Fail(key, "builtin functions report the metric \"value\" only, not %s", strings.Join(m, ", "))
			}
		} else {
			var reports []string
			for i := range multi.Objectives {
				reports = append(reports, "f"+strconv.Itoa(i+1))
			}
			for _, m := range c.metrics() {
				if !slices.Contains(reports, m) {
					d.Fail(key, "%s reports the metrics %s, not %q", multi.Name, strings.Join(reports, ", "), m)
					break
				}
			}
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
			d.Fail(key, "%v", err)
		}
	case "command":
		o.Only("kind", "command", "timeout", "workdir", "env")
		c.parseCommand(o)
	case External:
		o.Only("kind")
	default:
		if _, ok := registeredKind(c.Objective.Kind); ok {
			o.Only("kind", "config")
			c.Objective.TrainConfig = o.Str("config", "")
			if c.Objective.TrainConfig == "" {
				d.Fail("objective.config", "missing; the %s config whose keys the parameters override, e.g. config = \"%s.toml\"", c.Objective.Kind, c.Objective.Kind)
			}
			return
		}
		if !o.Has("kind") {
			d.Fail("objective.kind", "missing; allowed: %s", strings.Join(ObjectiveKinds(), ", "))
		} else {
			d.Fail("objective.kind", "unknown kind %q; allowed: %s", c.Objective.Kind, strings.Join(ObjectiveKinds(), ", "))
		}
	}
}

func (c *Config) parseCommand(o tomlconf.Section) {
	d := c.doc
	v, ok := o.Map()["command"]
	if !ok {
		d.Fail("objective.command", "missing; give the program and its arguments, e.g. [\"python3\", \"train.py\", \"--lr\", \"{lr}\"]")
		return
	}
	list, isList := v.([]any)
	if !isList {
		d.Fail("objective.command", "must be an array of strings (the program and its arguments; olc runs no shell), got %s", tomlconf.Describe(v))
		return
	}
	for i, x := range list {
		s, ok := x.(string)
		if !ok {
			d.Fail("objective.command", "element %d is %s; every element must be a string", i, tomlconf.Describe(x))
			return
		}
		c.Objective.Command = append(c.Objective.Command, s)
	}
	if o.Has("timeout") {
		s := o.Str("timeout", "")
		t, err := time.ParseDuration(s)
		switch {
		case s == "":
		case err != nil:
			d.Fail("objective.timeout", "%q is not a duration; write it like \"90s\", \"30m\" or \"2h\"", s)
		case t <= 0:
			d.Fail("objective.timeout", "must be positive (got %s)", s)
		default:
			c.Objective.Timeout = t
		}
	}
	c.Objective.Workdir = o.Str("workdir", "")
	if env, ok := o.Table("env"); ok {
		c.Objective.Env = map[string]string{}
		for _, k := range env.Keys() {
			s, ok := env.Map()[k].(string)
			if !ok {
				d.Fail("objective.env."+k, "must be a string, got %s", tomlconf.Describe(env.Map()[k]))
				continue
			}
			c.Objective.Env[k] = s
		}
	}
	if c.Space != nil {
		cmd := &Command{Argv: c.Objective.Command}
		if err := cmd.Check(c.Space); err != nil {
			d.Fail("objective.command", "%v", err)
		}
	}
}

// Plan is what a checked config runs: the sampler, the objective, the
// number of complete trials wanted and the study's identity.
type Plan struct {
	Sampler   optimize.Sampler
	Objective Objective
	Trials    int
	Identity  Identity
	// Pruner is the [pruner] table's, nil without one or when the
	// objective reports no intermediate values (Notes then say so).
	Pruner optimize.Pruner
	// Notes are warnings to show before the study runs.
	Notes []string
}

// An IntermediateReporter is an objective that can tell, before any trial
// runs, whether it reports intermediate values (for a pruner) and which
// metrics: ok false with the reason when it reports none; names nil when
// it cannot tell which.
type IntermediateReporter interface {
	IntermediateMetrics() (names []string, ok bool, why string)
}

// Plan builds the config's sampler and objective. Call it after any
// overrides of Study (a sampler or trials from flags): it checks what
// depends on them, such as a grid's step and size.
func (c *Config) Plan() (*Plan, error) {
	d := c.doc
	d.Reset()
	p := &Plan{Trials: c.Study.Trials}
	id := Identity{Direction: c.Study.Direction, Metric: c.Study.Metric, Sampler: c.Study.Sampler, Seed: c.Study.Seed, Space: c.Space}
	if len(c.Study.Metrics) > 1 {
		id.Metrics, id.Directions = c.Study.Metrics, c.Study.Directions
	}
	switch c.Study.Sampler {
	case "grid":
		g, err := optimize.NewGrid(c.Space)
		if err != nil {
			c.paramError(err, "a grid")
			return nil, d.Err()
		}
		p.Sampler = g
		if p.Trials == 0 {
			p.Trials = g.Size()
		}
	case "random":
		r, err := optimize.NewRandom(c.Space, c.Study.Seed, c.Random.QMC)
		if err != nil {
			c.paramError(err, "random")
			return nil, d.Err()
		}
		p.Sampler = r
		id.SamplerOptions = map[string]any{"random": map[string]any{"qmc": c.Random.QMC}}
	case "bayes":
		if c.nInitialSet && p.Trials > 0 && c.Bayes.NInitial > p.Trials {
			d.Fail("sampler.bayes.n_initial", "%d start-up points exceed the %d trials wanted; the model would never be used", c.Bayes.NInitial, p.Trials)
			return nil, d.Err()
		}
		bs, err := optimize.NewBayes(c.Space, c.Study.Seed, c.Bayes)
		if err != nil {
			c.paramError(err, "bayes")
			return nil, d.Err()
		}
		p.Sampler = bs
		o := bs.Options()
		bo := map[string]any{
			"acquisition": o.Acquisition, "n_initial": o.NInitial, "xi": o.Xi, "kappa": o.Kappa,
			"deterministic": o.Deterministic, "candidates": o.Candidates,
		}
		// Patience and LocalEvery came later: at their defaults they
		// stay out of the identity, so that studies stored before them
		// resume.
		def := optimize.DefaultBayesOptions(c.Space.Len())
		if o.Patience != def.Patience {
			bo["patience"] = o.Patience
		}
		if o.LocalEvery != def.LocalEvery {
			bo["local_every"] = o.LocalEvery
		}
		id.SamplerOptions = map[string]any{"bayes": bo}
	case "cmaes":
		if len(c.Study.Metrics) > 1 {
			d.Fail("study.sampler", "cmaes optimizes one metric; for several (study.metrics) use bayes (ParEGO), random or grid")
			return nil, d.Err()
		}
		cs, err := optimize.NewCMAES(c.Space, c.Study.Seed, c.CMAESPopSize)
		if err != nil {
			c.paramError(err, "cmaes")
			return nil, d.Err()
		}
		p.Sampler = cs
		id.SamplerOptions = map[string]any{"cmaes": map[string]any{"popsize": cs.PopSize()}}
	default:
		d.Fail("study.sampler", "unknown sampler %q; allowed: %s", c.Study.Sampler, strings.Join(Samplers, ", "))
		return nil, d.Err()
	}
	if p.Trials <= 0 {
		d.Fail("study.trials", "missing; say how many complete trials the %s sampler should run (or pass --trials)", c.Study.Sampler)
		return nil, d.Err()
	}
	obj, oid, ok := c.objective()
	if !ok {
		return nil, d.Err()
	}
	p.Objective, id.Objective = obj, oid
	p.Identity = id
	if p.Pruner = c.Pruner.Build(); p.Pruner != nil {
		ok, why := true, ""
		if ir, is := obj.(IntermediateReporter); is {
			var list []string
			list, ok, why = ir.IntermediateMetrics()
			if ok && list != nil && !slices.Contains(list, c.Pruner.Metric) {
				d.Fail("pruner.metric", "the objective's intermediate values are %s; %q is not among them", strings.Join(list, ", "), c.Pruner.Metric)
				return nil, d.Err()
			}
		} else if obj == nil {
			ok, why = false, "trials told by 'olc optimize tell' report no intermediate values"
		}
		if !ok {
			p.Notes = append(p.Notes, fmt.Sprintf("%s: [pruner] is ignored: %s; the study runs without pruning", c.File, why))
			p.Pruner = nil
		}
	}
	return p, nil
}

// objective builds the objective of the parsed [objective] table and the
// identity it gives a study; problems go to the document, and ok is then
// false.
func (c *Config) objective() (Objective, map[string]any, bool) {
	d := c.doc
	switch c.Objective.Kind {
	case "builtin":
		b, err := NewBuiltin(c.Objective.Function, c.Space)
		if err != nil {
			d.Fail("objective.function", "%v", err)
			return nil, nil, false
		}
		return b, map[string]any{"kind": "builtin", "function": c.Objective.Function}, true
	case "command":
		cmd := &Command{Argv: c.Objective.Command, Timeout: c.Objective.Timeout, Dir: c.Dir(), Env: c.Objective.Env}
		if err := cmd.CheckProgram(); err != nil {
			key := "objective.command"
			if _, statErr := os.Stat(cmd.Dir); statErr != nil {
				key = "objective.workdir"
			}
			d.Fail(key, "%v", err)
			return nil, nil, false
		}
		env := map[string]any{}
		for k, v := range c.Objective.Env {
			env[k] = v
		}
		return cmd, map[string]any{"kind": "command", "command": c.Objective.Command, "workdir": c.Objective.Workdir, "env": env}, true
	case External:
		if c.paramKey != nil {
			d.Fail("objective.kind", "kind %q is for studies driven by 'olc optimize ask' and 'tell'", External)
			return nil, nil, false
		}
		return nil, map[string]any{"kind": External}, true
	default:
		build, ok := registeredKind(c.Objective.Kind)
		if !ok {
			d.Fail("objective.kind", "kind %q is not part of this program; allowed: %s", c.Objective.Kind, strings.Join(ObjectiveKinds(), ", "))
			return nil, nil, false
		}
		o, err := build(c.TrainConfigPath(), c.Space.Names())
		if err != nil {
			var pe *ParamKeyError
			if errors.As(err, &pe) {
				key := "params." + pe.Param
				if c.paramKey != nil {
					key = c.paramKey(pe.Param)
				}
				d.Fail(key, "%s", pe.Msg)
				return nil, nil, false
			}
			d.Fail("objective.config", "%v", err)
			return nil, nil, false
		}
		if ml, ok := o.(MetricLister); ok && c.paramKey == nil {
			// A study: its metric must be one the objective reports.
			if names, err := ml.ListMetrics(nil); err == nil {
				for _, m := range c.metrics() {
					if !slices.Contains(names, m) {
						key := "study.metric"
						if len(c.Study.Metrics) > 1 {
							key = "study.metrics"
						}
						d.Fail(key, "the objective (kind %q, %s) does not report %q; it reports %s", c.Objective.Kind, c.Objective.TrainConfig, m, strings.Join(names, ", "))
						return nil, nil, false
					}
				}
			}
		}
		return o, map[string]any{"kind": c.Objective.Kind, "config": c.Objective.TrainConfig}, true
	}
}

// ObjectiveTable reads and builds the [objective] table of a config that
// is not a study's (an ablation's) with the code that reads a study's, so
// that every kind, and every check of it, is the same: root is the
// document's root, space the parameters the objective will be given (for
// placeholders, builtin functions and a registered kind's keys) and metric
// the metric it must report. Problems are added to root's document (with
// file and line, as for a study); obj is nil when there were any. ident
// describes the objective by its keys, as a study's identity does.
// paramKey names the key that gives a parameter, for an objective that
// refuses one (nil: params.<name>).
func ObjectiveTable(file string, root tomlconf.Section, space *optimize.Space, metric string, paramKey func(param string) string) (obj Objective, ident map[string]any, cfg ObjectiveConfig) {
	c := &Config{File: file, Space: space, doc: root.Doc(), paramKey: paramKey}
	c.Study.Metric = metric
	before := c.doc.Failed()
	c.parseObjective(root)
	if c.doc.Failed() > before {
		return nil, nil, c.Objective
	}
	obj, ident, ok := c.objective()
	if !ok {
		return nil, nil, c.Objective
	}
	return obj, ident, c.Objective
}

func (c *Config) paramError(err error, what string) {
	var pe *optimize.ParamError
	if errors.As(err, &pe) && pe.Param != "" {
		key := "params." + pe.Param
		if pe.Key != "" {
			key += "." + pe.Key
		}
		c.doc.Fail(key, "%s", pe.Msg)
		return
	}
	if errors.As(err, &pe) && pe.Key != "" {
		c.doc.Fail("sampler."+what+"."+pe.Key, "%s", pe.Msg)
		return
	}
	if errors.As(err, &pe) {
		c.doc.Fail("params", "%s (%s)", pe.Msg, what)
		return
	}
	c.doc.Fail("params", "%v", err)
}
