package ablation

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/internal/tomlconf"
	"github.com/olc-toolkit/olc/optimize"
)

// Config is an ablation's TOML file, checked and planned:
//
//	[ablation]
//	name = "longformer-components"
//	design = "leave-one-out"        # leave-one-out | add-one-in | factorial
//	seeds = [1, 2, 3, 4, 5]          # every variant runs once per seed
//	parallel = 2
//	max_retries = 1
//	metrics = [ { name = "eval_exact", goal = "maximize" } ]
//
//	[objective]                      # as olc optimize's: builtin | command | train
//	kind = "train"
//	config = "passkey.toml"
//
//	[base]                           # fixed values of every variant
//	"train.steps" = 600
//
//	[[components]]
//	name = "global_attention"
//	ablate = { "model.global_attention" = false }
//
// The seed reaches a command objective as the parameter "seed" ({seed},
// OLC_PARAM_SEED) and kind "train" as "train.seed"; a builtin function
// gets no seed (it has no noise to average).
type Config struct {
	// File is the config's path; Text its content.
	File, Text string
	Name       string
	Design     Design
	Seeds      []int64
	Parallel   int
	MaxRetries int
	Metrics    []Metric
	Base       map[string]any
	Components []Component

	// Variants is the design's matrix; SeedKey the parameter that carries
	// the seed ("" for a builtin function); Space the parameters the
	// objective is given (each key a categorical of the values the
	// variants give it, and the seed).
	Variants []Variant
	SeedKey  string
	Space    *optimize.Space
	// Objective is the objective the [objective] table builds, and
	// ObjectiveIdentity its description by its keys.
	Objective         experiments.Objective
	ObjectiveIdentity map[string]any

	// metricErr returns a problem with metrics[i] of the file, with its
	// line, for a metric found missing while running.
	metricErr func(i int, msg string) error
}

// LoadConfig reads and checks the ablation config at path; allowLarge
// lets a factorial design exceed MaxFactorialComponents components.
func LoadConfig(path string, allowLarge bool) (*Config, error) {
	data, err := tomlconf.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseConfig(path, data, allowLarge)
}

// ParseConfig checks an ablation config's text; file names it in errors.
// Every problem found is returned, joined, each a *tomlconf.Error (the
// type of experiments.ConfigError) with the file, the line and the key.
func ParseConfig(file string, data []byte, allowLarge bool) (*Config, error) {
	return parse(file, data, allowLarge, true)
}

// ParseStored reads the config an ablation's study stores, to analyse its
// results again: everything but the objective, which may no longer be
// buildable where the report runs (its program, its train config). Large
// factorial designs are allowed: they ran.
func ParseStored(name, text string) (*Config, error) {
	return parse(name, []byte(text), true, false)
}

func parse(file string, data []byte, allowLarge, objective bool) (*Config, error) {
	d, err := tomlconf.Parse(file, data)
	if err != nil {
		return nil, err
	}
	c := &Config{File: file, Text: string(data), Base: map[string]any{}}
	c.metricErr = func(i int, msg string) error { return d.Errorf(fmt.Sprintf("ablation.metrics[%d].name", i), "%s", msg) }
	root := d.Root()
	root.Only("ablation", "objective", "base", "components")
	a, _ := root.Required("ablation", "an ablation config starts with an [ablation] table holding at least name, seeds and metrics")
	c.parseAblation(a)
	if b, ok := root.Table("base"); ok {
		for _, k := range b.Keys() {
			if v, ok := scalar(b, k); ok {
				c.Base[k] = v
			}
		}
	}
	c.parseComponents(root)
	if d.Failed() > 0 {
		return nil, d.Err()
	}
	kind := ""
	if o, ok := root.Table("objective"); ok {
		kind = o.Str("kind", "")
	}
	switch kind {
	case "builtin":
	case "train":
		c.SeedKey = "train.seed"
	default:
		c.SeedKey = "seed"
	}
	// The seed is the ablation's own parameter.
	if _, ok := c.Base[c.SeedKey]; ok && c.SeedKey != "" {
		d.Fail("base."+c.SeedKey, "the seed comes from ablation.seeds (every variant runs with each); remove %s from [base]", c.SeedKey)
	}
	for i, comp := range c.Components {
		if _, ok := comp.Ablate[c.SeedKey]; ok && c.SeedKey != "" {
			d.Fail(fmt.Sprintf("components[%d].ablate.%s", i, c.SeedKey), "the seed comes from ablation.seeds; a component cannot set %s", c.SeedKey)
		}
	}
	if kind == "command" {
		// A command gets every key of every variant: the keys only
		// components set need a base value for the full variant.
		for _, comp := range c.Components {
			for _, k := range slices.Sorted(maps.Keys(comp.Ablate)) {
				if _, ok := c.Base[k]; !ok {
					d.Fail("base", "%s has no base value; a command objective needs one for every key a component sets (%q sets it)", k, comp.Name)
				}
			}
		}
	}
	if d.Failed() > 0 {
		return nil, d.Err()
	}
	c.Variants, err = Plan(c.Design, c.Base, c.Components, allowLarge)
	if err != nil {
		// The design itself was checked above: what Plan refuses here is
		// the components (clashing keys, too many for a factorial).
		d.Fail("components", "%v", err)
		return nil, d.Err()
	}
	c.Space, err = c.space()
	if err != nil {
		d.Fail("components", "%v", err)
		return nil, d.Err()
	}
	if !objective {
		return c, nil
	}
	c.Objective, c.ObjectiveIdentity, _ = experiments.ObjectiveTable(file, root, c.Space, c.Metrics[0].Name, c.keyOf)
	if vc, ok := c.Objective.(experiments.ValueChecker); ok {
		c.checkValues(d, vc)
	}
	if ml, ok := c.Objective.(experiments.MetricLister); ok && d.Failed() == 0 {
		c.checkMetrics(d, ml)
	}
	if err := d.Err(); err != nil {
		return nil, err
	}
	return c, nil
}

// checkValues asks the objective whether it takes every variant's values
// (with each seed), and blames what it refuses on the key that gives the
// value, once per key and problem.
func (c *Config) checkValues(d *tomlconf.Doc, vc experiments.ValueChecker) {
	seen := map[string]bool{}
	check := func(v Variant, seed int64) {
		params := maps.Clone(v.Values)
		if c.SeedKey != "" {
			params[c.SeedKey] = seed
		}
		err := vc.CheckValues(params)
		if err == nil {
			return
		}
		for _, e := range tomlconf.Unjoin(err) {
			key, msg := "objective.config", e.Error()
			var pe *experiments.ParamKeyError
			if errors.As(e, &pe) {
				key, msg = c.keyOf(pe.Param), pe.Msg
				if pe.Param == c.SeedKey {
					key = "ablation.seeds"
				}
			}
			if !seen[key+"\x00"+msg] {
				seen[key+"\x00"+msg] = true
				d.Fail(key, "%s (variant %q, seed %d)", msg, v.Name, seed)
			}
		}
	}
	for _, v := range c.Variants {
		check(v, c.Seeds[0])
	}
	for _, seed := range c.Seeds[1:] {
		check(c.Variants[0], seed)
	}
}

func (c *Config) parseAblation(a tomlconf.Section) {
	a.Only("name", "design", "seeds", "parallel", "max_retries", "metrics")
	c.Name = a.Str("name", "")
	switch {
	case !a.Has("name"):
		a.Fail("name", "missing; name the ablation (letters, digits, '-', '_', '.')")
	case !optimize.ValidName(c.Name):
		a.Fail("name", "%q is not a valid name; allowed: letters, digits, '-', '_', '.', not starting with '-' or '.', at most %d characters", c.Name, optimize.MaxNameLen)
	}
	c.Design = Design(a.Str("design", string(LeaveOneOut)))
	if !slices.Contains(Designs, c.Design) {
		names := make([]string, len(Designs))
		for i, x := range Designs {
			names[i] = string(x)
		}
		a.Fail("design", "unknown design %q; allowed: %s", c.Design, strings.Join(names, ", "))
	}
	switch v, ok := a.Map()["seeds"]; {
	case !ok:
		a.Fail("seeds", "missing; give the seeds every variant runs with, e.g. seeds = [1, 2, 3, 4, 5]")
	default:
		list, isList := v.([]any)
		if !isList || len(list) == 0 {
			a.Fail("seeds", "must be a non-empty array of integers, got %s", tomlconf.Describe(v))
			break
		}
		seen := map[int64]bool{}
		for i, x := range list {
			s, isInt := x.(int64)
			switch {
			case !isInt:
				a.Fail(fmt.Sprintf("seeds[%d]", i), "must be an integer, got %s", tomlconf.Describe(x))
			case seen[s]:
				a.Fail(fmt.Sprintf("seeds[%d]", i), "seed %d is listed twice; each seed pairs the variants once", s)
			default:
				seen[s] = true
				c.Seeds = append(c.Seeds, s)
			}
		}
	}
	c.Parallel = int(a.Int("parallel", 1))
	if c.Parallel < 1 || c.Parallel > 1024 {
		a.Fail("parallel", "must be from 1 to 1024, not %d", c.Parallel)
	}
	c.MaxRetries = int(a.Int("max_retries", 0))
	if c.MaxRetries < 0 {
		a.Fail("max_retries", "must not be negative, not %d", c.MaxRetries)
	}
	v, ok := a.Map()["metrics"]
	if !ok {
		a.Fail("metrics", `missing; say what to compare, e.g. metrics = [ { name = "eval_exact", goal = "maximize" } ]`)
		return
	}
	list, isList := v.([]any)
	if !isList || len(list) == 0 {
		a.Fail("metrics", "must be a non-empty array of { name, goal } tables, got %s", tomlconf.Describe(v))
		return
	}
	seen := map[string]bool{}
	for i, x := range list {
		key := fmt.Sprintf("metrics[%d]", i)
		m, isTable := x.(map[string]any)
		if !isTable {
			a.Fail(key, "must be a table { name = \"…\", goal = \"maximize\" | \"minimize\" }, got %s", tomlconf.Describe(x))
			continue
		}
		for k := range m {
			if k != "name" && k != "goal" {
				a.Fail(key+"."+k, "unknown key; allowed: name, goal")
			}
		}
		name, _ := m["name"].(string)
		goal, _ := m["goal"].(string)
		switch {
		case name == "":
			a.Fail(key+".name", "missing; the metric the objective reports")
		case seen[name]:
			a.Fail(key+".name", "metric %q is listed twice", name)
		}
		if goal != "maximize" && goal != "minimize" {
			a.Fail(key+".goal", "must be \"maximize\" or \"minimize\", not %s", tomlconf.Describe(m["goal"]))
		}
		seen[name] = true
		c.Metrics = append(c.Metrics, Metric{Name: name, Goal: goal})
	}
}

func (c *Config) parseComponents(root tomlconf.Section) {
	comps, ok := root.Tables("components")
	if !ok {
		if !root.Has("components") {
			root.Fail("components", `missing; give each component with [[components]] name = "…" and ablate = { "key" = value }`)
		}
		return
	}
	seen := map[string]int{}
	for i, s := range comps {
		s.Only("name", "ablate")
		comp := Component{Name: s.Str("name", ""), Ablate: map[string]any{}}
		switch j, dup := seen[comp.Name]; {
		case comp.Name == "":
			s.Fail("name", "missing; name the component (it names its row of the results)")
		case dup:
			s.Fail("name", "component %q is already components[%d]; names must differ", comp.Name, j)
		}
		seen[comp.Name] = i
		ab, ok := s.Table("ablate")
		if ok {
			for _, k := range ab.Keys() {
				if v, ok := scalar(ab, k); ok {
					comp.Ablate[k] = v
				}
			}
		}
		if len(comp.Ablate) == 0 && (ok || !s.Has("ablate")) {
			s.Fail("ablate", `sets no key; give the values that remove the component, e.g. ablate = { "model.feedforward" = false }`)
		}
		c.Components = append(c.Components, comp)
	}
}

// checkMetrics refuses a metric that the objective does not report for
// some variant.
func (c *Config) checkMetrics(d *tomlconf.Doc, ml experiments.MetricLister) {
	for i, m := range c.Metrics {
		for _, v := range c.Variants {
			names, err := ml.ListMetrics(v.Values)
			if err != nil || slices.Contains(names, m.Name) {
				continue
			}
			d.Fail(fmt.Sprintf("ablation.metrics[%d].name", i), "the objective does not report %q (variant %q); it reports %s", m.Name, v.Name, strings.Join(names, ", "))
			break
		}
	}
}

// keyOf names the key of the config that gives a parameter: the first
// component that sets it, else the base.
func (c *Config) keyOf(param string) string {
	for i, comp := range c.Components {
		if _, ok := comp.Ablate[param]; ok {
			return fmt.Sprintf("components[%d].ablate.%s", i, param)
		}
	}
	if _, ok := c.Base[param]; ok {
		return "base." + param
	}
	return "objective"
}

// scalar reads a parameter value: a string, an integer, a float or a
// boolean.
func scalar(s tomlconf.Section, k string) (any, bool) {
	switch v := s.Map()[k].(type) {
	case string, int64, float64, bool:
		return v, true
	default:
		s.Fail(k, "must be a string, a number or a boolean, got %s", tomlconf.Describe(v))
		return nil, false
	}
}

// space returns the parameters the objective is given: each key of any
// variant, a categorical of the values the variants give it (in the order
// they appear), and the seed.
func (c *Config) space() (*optimize.Space, error) {
	values := map[string]optimize.Values{}
	var order []string
	for _, v := range c.Variants {
		for _, k := range slices.Sorted(maps.Keys(v.Values)) {
			if _, ok := values[k]; !ok {
				order = append(order, k)
			}
			if !slices.ContainsFunc(values[k], func(x any) bool { return equalValues(x, v.Values[k]) }) {
				values[k] = append(values[k], v.Values[k])
			}
		}
	}
	var params []optimize.Param
	for _, k := range order {
		params = append(params, optimize.Param{Name: k, Kind: optimize.Categorical, Values: values[k]})
	}
	if c.SeedKey != "" {
		params = append(params, optimize.Param{Name: c.SeedKey, Kind: optimize.Int, Low: float64(slices.Min(c.Seeds)), High: float64(max(slices.Max(c.Seeds), slices.Min(c.Seeds)+1))})
	}
	return optimize.NewSpace(params...)
}
