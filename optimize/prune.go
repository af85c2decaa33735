package optimize

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
)

// Curve is a trial's learning curve as a pruner sees it: the values of the
// pruner's metric the trial reported before it ended, by step ascending.
type Curve struct {
	// Number is the trial's number and State its state.
	Number int
	State  State
	Steps  []int
	Values []float64
}

// Last returns the curve's last step and value; ok is false when the
// trial reported none.
func (c *Curve) Last() (step int, value float64, ok bool) {
	if len(c.Steps) == 0 {
		return 0, math.NaN(), false
	}
	return c.Steps[len(c.Steps)-1], c.Values[len(c.Values)-1], true
}

// at returns the value the curve reported at step, if any.
func (c *Curve) at(step int) (float64, bool) {
	i, ok := slices.BinarySearch(c.Steps, step)
	if !ok {
		return 0, false
	}
	return c.Values[i], true
}

// firstFrom returns the value of the first step at or after step.
func (c *Curve) firstFrom(step int) (float64, bool) {
	i, _ := slices.BinarySearch(c.Steps, step)
	if i == len(c.Steps) {
		return 0, false
	}
	return c.Values[i], true
}

// Decision is a pruner's verdict on a running trial at its latest step.
type Decision struct {
	// Prune is set when the trial should stop.
	Prune bool
	// Reason says why, in a line (pruned) or why not yet (kept).
	Reason string
}

// Pruner decides whether a running trial should stop early, from its
// curve so far and the others' (the study's trials in any state, the
// running ones with what they have reported). Implementations hold no
// state between calls: the decision depends on the curves alone, so
// workers sharing a study decide alike, and a resumed study as an
// uninterrupted one.
type Pruner interface {
	// Name returns the pruner's name as configs spell it.
	Name() string
	// Prune judges trial, whose last step is its latest report, against
	// others in direction d.
	Prune(d Direction, trial *Curve, others []Curve) Decision
}

// MedianPruner stops a trial whose best value so far is worse than the
// median of the complete trials' values at the same step (the rule of
// Google Vizier's median stopping, Golovin et al. 2017, as Optuna's
// MedianPruner applies it).
type MedianPruner struct {
	// StartupTrials: no trial is pruned before this many trials are
	// complete.
	StartupTrials int
	// WarmupSteps: no trial is pruned at a step below this.
	WarmupSteps int
	// MinTrials is the least number of complete trials that must have
	// reported at the step (at least 1).
	MinTrials int
}

// Name implements Pruner.
func (p *MedianPruner) Name() string { return "median" }

// Prune implements Pruner.
func (p *MedianPruner) Prune(d Direction, trial *Curve, others []Curve) Decision {
	step, _, ok := trial.Last()
	if !ok {
		return Decision{Reason: "no value reported"}
	}
	if step < p.WarmupSteps {
		return Decision{Reason: fmt.Sprintf("step %d is in the warm-up (%d steps)", step, p.WarmupSteps)}
	}
	complete := 0
	var at []float64
	for i := range others {
		o := &others[i]
		if o.State != Complete || o.Number == trial.Number {
			continue
		}
		complete++
		if v, ok := o.at(step); ok && !math.IsNaN(v) {
			at = append(at, v)
		}
	}
	if complete < p.StartupTrials {
		return Decision{Reason: fmt.Sprintf("%d of %d start-up trials complete", complete, p.StartupTrials)}
	}
	if len(at) < max(p.MinTrials, 1) {
		return Decision{Reason: fmt.Sprintf("%d complete trials reported at step %d", len(at), step)}
	}
	best := math.NaN()
	for _, v := range trial.Values {
		if !math.IsNaN(v) && (math.IsNaN(best) || d.Better(v, best)) {
			best = v
		}
	}
	med := median(at)
	if math.IsNaN(best) || d.Better(med, best) {
		return Decision{Prune: true, Reason: fmt.Sprintf("best value %s by step %d is worse than the median %s of %d complete trials at that step",
			fmtNum(best), step, fmtNum(med), len(at))}
	}
	return Decision{Reason: fmt.Sprintf("best value %s is no worse than the median %s", fmtNum(best), fmtNum(med))}
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// ASHA is asynchronous successive halving (Li et al. 2020, "A System for
// Massively Parallel Hyperparameter Tuning", MLSys): rungs at the steps
// MinResource·η^k; a trial that reaches a rung goes on only when its value
// there is among the best 1/η of the values every trial recorded at that
// rung (its own included), and never waits for other trials. While a rung
// holds fewer than η values a trial goes on only if it is the best there,
// as in Optuna's SuccessiveHalvingPruner. With Bracket > 0, rungs start at
// MinResource·η^Bracket (Hyperband's other brackets).
type ASHA struct {
	// MinResource is the first rung's step; 0 takes the first step any
	// trial reported.
	MinResource int
	// ReductionFactor is η (at least 2).
	ReductionFactor int
	// Bracket shifts the first rung (0: successive halving's most
	// aggressive bracket).
	Bracket int
}

// Name implements Pruner.
func (p *ASHA) Name() string { return "asha" }

// rungs returns the rung steps up to step, the first at r0·η^Bracket.
func (p *ASHA) rungs(r0, step int) []int {
	r := max(r0, 1)
	eta := max(p.ReductionFactor, 2)
	for range p.Bracket {
		r *= eta
	}
	var out []int
	for ; r <= step; r *= eta {
		out = append(out, r)
		if r > math.MaxInt32/eta {
			break
		}
	}
	return out
}

// Prune implements Pruner. A trial is judged once at each rung, by the
// report that reaches it (its value there is that report's): promotion is
// for good, as in ASHA, however good the trials that reach the rung
// later.
func (p *ASHA) Prune(d Direction, trial *Curve, others []Curve) Decision {
	step, _, ok := trial.Last()
	if !ok {
		return Decision{Reason: "no value reported"}
	}
	prev := -1
	if n := len(trial.Steps); n > 1 {
		prev = trial.Steps[n-2]
	}
	eta := max(p.ReductionFactor, 2)
	r0 := p.MinResource
	if r0 <= 0 {
		// Auto: the first step any trial reported.
		r0 = trial.Steps[0]
		for i := range others {
			if len(others[i].Steps) > 0 && others[i].Steps[0] > 0 && others[i].Steps[0] < r0 {
				r0 = others[i].Steps[0]
			}
		}
	}
	var rungs []int
	for _, r := range p.rungs(r0, step) {
		if r > prev {
			rungs = append(rungs, r)
		}
	}
	if len(rungs) == 0 {
		return Decision{Reason: fmt.Sprintf("step %d reaches no new rung", step)}
	}
	for _, r := range rungs {
		v, ok := trial.firstFrom(r)
		if !ok || math.IsNaN(v) {
			return Decision{Prune: true, Reason: fmt.Sprintf("no value at rung %d", r)}
		}
		values := []float64{v}
		for i := range others {
			o := &others[i]
			if o.Number == trial.Number {
				continue
			}
			if w, ok := o.firstFrom(r); ok && !math.IsNaN(w) {
				values = append(values, w)
			}
		}
		sort.Float64s(values)
		if d == Maximize {
			slices.Reverse(values)
		}
		k := len(values)/eta - 1
		if k < 0 {
			k = 0
		}
		if d.Better(values[k], v) {
			return Decision{Prune: true, Reason: fmt.Sprintf("value %s at rung %d (step %d) is not among the best 1/%d of the %d trials there (cut-off %s)",
				fmtNum(v), r, r, eta, len(values), fmtNum(values[k]))}
		}
	}
	return Decision{Reason: "promoted at rung " + strconv.Itoa(rungs[len(rungs)-1])}
}
