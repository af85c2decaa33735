package ablation

import (
	"context"
	"errors"
	"fmt"

	"github.com/pelletier/go-toml/v2"

	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/internal/tomlconf"
)

// Spec is an ablation given in Go rather than in a TOML file: what
// [ablation], [base] and [[components]] of a config hold.
type Spec struct {
	// Name names the ablation's study; Design defaults to LeaveOneOut.
	Name   string
	Design Design
	// Seeds are the seeds every variant runs with, paired across the
	// variants; SeedKey is the parameter that gives the seed to the
	// objective ("" for an objective that takes none).
	Seeds   []int64
	SeedKey string
	// Metrics are the metrics analysed, the first also the study's.
	Metrics []Metric
	// Base holds the values every variant starts from; Components what
	// each component's removal sets.
	Base       map[string]any
	Components []Component
	// Parallel is the number of trials run at once (default 1);
	// MaxRetries how often a failed trial runs again.
	Parallel, MaxRetries int
	// AllowLarge lets a factorial design exceed MaxFactorialComponents.
	AllowLarge bool
}

// NewConfig checks s with the rules of a config file and plans it, with
// objective as the objective: the Config that Run takes. Its Text is s
// written as TOML (what the experiment record keeps, so that 'olc ablate
// report' reads an ablation run through the API). Problems are
// *tomlconf.Error values naming the key, joined.
func NewConfig(s Spec, objective experiments.Objective) (*Config, error) {
	if objective == nil {
		return nil, errors.New("ablation: no objective")
	}
	if s.SeedKey != "" {
		if _, ok := s.Base[s.SeedKey]; ok {
			return nil, tomlconf.Errorf("ablation spec", "base."+s.SeedKey, "the seed comes from Seeds; remove it from Base")
		}
		for i, c := range s.Components {
			if _, ok := c.Ablate[s.SeedKey]; ok {
				return nil, tomlconf.Errorf("ablation spec", fmt.Sprintf("components[%d].ablate.%s", i, s.SeedKey), "the seed comes from Seeds; a component cannot set it")
			}
		}
	}
	text, err := s.toml()
	if err != nil {
		return nil, fmt.Errorf("ablation spec: %w", err)
	}
	const file = "ablation spec"
	c, err := parse(file, text, s.AllowLarge, false)
	if err != nil {
		// The lines are those of the generated text: drop them.
		for _, e := range tomlconf.Unjoin(err) {
			var te *tomlconf.Error
			if errors.As(e, &te) {
				te.Line = 0
			}
		}
		return nil, err
	}
	c.SeedKey, c.Objective = s.SeedKey, objective
	c.ObjectiveIdentity = map[string]any{"kind": "go", "type": fmt.Sprintf("%T", objective)}
	if c.Space, err = c.space(); err != nil {
		return nil, tomlconf.Errorf(file, "components", "%v", err)
	}
	c.metricErr = func(i int, msg string) error {
		return tomlconf.Errorf(file, fmt.Sprintf("ablation.metrics[%d].name", i), "%s", msg)
	}
	return c, nil
}

// Ablate runs the ablation s of objective in memory, every variant on
// every seed, and returns its analysis: the Go counterpart of olc
// ablate. For a run that is recorded and resumable, give the Config from
// NewConfig to Run with a store.
func Ablate(ctx context.Context, objective experiments.Objective, s Spec) (*Result, error) {
	c, err := NewConfig(s, objective)
	if err != nil {
		return nil, err
	}
	return Run(ctx, experiments.NewMemoryStore(), c, RunOptions{})
}

// toml writes s as the text of an ablation config.
func (s Spec) toml() ([]byte, error) {
	a := map[string]any{"name": s.Name, "seeds": s.Seeds}
	if s.Design != "" {
		a["design"] = string(s.Design)
	}
	if s.Parallel != 0 {
		a["parallel"] = s.Parallel
	}
	if s.MaxRetries != 0 {
		a["max_retries"] = s.MaxRetries
	}
	metrics := make([]map[string]any, len(s.Metrics))
	for i, m := range s.Metrics {
		metrics[i] = map[string]any{"name": m.Name, "goal": m.Goal}
	}
	a["metrics"] = metrics
	comps := make([]map[string]any, len(s.Components))
	for i, c := range s.Components {
		comps[i] = map[string]any{"name": c.Name, "ablate": c.Ablate}
		if c.Ablate == nil {
			comps[i]["ablate"] = map[string]any{}
		}
	}
	doc := map[string]any{"ablation": a, "components": comps}
	if len(s.Base) > 0 {
		doc["base"] = s.Base
	}
	return toml.Marshal(doc)
}
