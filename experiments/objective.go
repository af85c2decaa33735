package experiments

import (
	"context"
	"fmt"

	"github.com/olc-toolkit/olc/optimize"
	"github.com/olc-toolkit/olc/optimize/functions"
)

// TrialRun is what an objective is asked to evaluate.
type TrialRun struct {
	Study   string
	Number  int
	Attempt int
	Params  optimize.Params
	// Metric is the study's metric, for error messages.
	Metric string
	// Dir is the folder for the trial's logs and artifacts; the objective
	// creates it if it writes anything. Empty when the runner keeps no
	// logs, in which case an objective that needs a folder uses a
	// temporary one.
	Dir string
	// Report, when not nil, takes the intermediate metrics the trial
	// reports at a step, in increasing steps, and returns true when the
	// trial should stop (a pruner judged it): the objective then stops it
	// and returns ErrPruned with what it has (Outcome.Intermediate).
	Report func(step int, metrics map[string]float64) (stop bool)
}

// Outcome is what an objective reports.
type Outcome struct {
	// Metrics are the final metrics; the study's metric among them.
	Metrics map[string]float64
	// Intermediate are metrics reported before the end, by step.
	Intermediate []Intermediate
	// LogPath is the folder holding the trial's logs, if any. Objectives
	// set it also when they fail.
	LogPath string
}

// Objective evaluates trials. Run must return promptly once ctx is
// cancelled, stopping whatever it started.
type Objective interface {
	Run(ctx context.Context, r TrialRun) (Outcome, error)
}

// ObjectiveFunc adapts a function to the Objective interface.
type ObjectiveFunc func(ctx context.Context, r TrialRun) (Outcome, error)

// Run calls f.
func (f ObjectiveFunc) Run(ctx context.Context, r TrialRun) (Outcome, error) { return f(ctx, r) }

// Builtin is the objective of a named test function from package
// optimize/functions. It takes the parameters in the order of its Args and
// reports the metric "value".
type Builtin struct {
	Function *functions.Function
	// Multi, instead of Function, is a problem with several objectives,
	// reported as the metrics f1, f2, …
	Multi *functions.Multi
	Args  []string
}

// NewBuiltin returns the builtin objective name over the space's
// parameters, in declaration order. It fails when the function is unknown,
// takes another number of arguments, or a parameter is categorical.
func NewBuiltin(name string, space *optimize.Space) (*Builtin, error) {
	if space.Conditional() {
		return nil, fmt.Errorf("builtin functions take every parameter; conditions need a command or train objective")
	}
	b := &Builtin{Args: space.Names()}
	f, ok := functions.Lookup(name)
	if ok {
		b.Function = f
		if !f.AcceptsDim(space.Len()) {
			return nil, fmt.Errorf("%s takes %s parameters, the search space has %d", name, f.DimString(), space.Len())
		}
	} else if m, ok := functions.LookupMulti(name); ok {
		b.Multi = m
		if !m.AcceptsDim(space.Len()) {
			return nil, fmt.Errorf("%s takes %s parameters, the search space has %d", name, m.DimString(), space.Len())
		}
	} else {
		return nil, fmt.Errorf("unknown function %q; allowed: %s", name, joinNames(append(functions.Names(), functions.MultiNames()...)))
	}
	for _, p := range space.Params() {
		if p.Kind == optimize.Categorical && !numbers(p.Values) {
			return nil, fmt.Errorf("builtin functions take numbers; %q is a categorical of other values", p.Name)
		}
	}
	return b, nil
}

// numbers reports whether every value is a number (an ablation gives a
// builtin function its parameters as the categoricals of the values its
// variants set).
func numbers(vs optimize.Values) bool {
	for _, v := range vs {
		switch v.(type) {
		case float64, int64:
		default:
			return false
		}
	}
	return true
}

// IntermediateMetrics implements IntermediateReporter: a function has a
// value and no learning curve.
func (b *Builtin) IntermediateMetrics() ([]string, bool, string) {
	return nil, false, "builtin functions report their value only, no intermediate values"
}

// Run evaluates the function.
func (b *Builtin) Run(ctx context.Context, r TrialRun) (Outcome, error) {
	x := make([]float64, len(b.Args))
	for i, name := range b.Args {
		switch v := r.Params[name].(type) {
		case float64:
			x[i] = v
		case int64:
			x[i] = float64(v)
		default:
			return Outcome{}, fmt.Errorf("parameter %q is %v, not a number", name, v)
		}
	}
	if b.Multi != nil {
		m := map[string]float64{}
		for i, v := range b.Multi.Eval(x) {
			m["f"+fmt.Sprint(i+1)] = v
		}
		return Outcome{Metrics: m}, nil
	}
	return Outcome{Metrics: map[string]float64{"value": b.Function.Eval(x)}}, nil
}

func joinNames(names []string) string {
	s := ""
	for i, n := range names {
		if i > 0 {
			s += ", "
		}
		s += n
	}
	return s
}
