package optimize

import (
	"context"
	"errors"
	"strconv"
	"strings"
)

// Direction says whether a study minimizes or maximizes its metric.
type Direction string

// The directions.
const (
	Minimize Direction = "minimize"
	Maximize Direction = "maximize"
)

// ParseDirection returns the direction named s.
func ParseDirection(s string) (Direction, bool) {
	switch Direction(s) {
	case Minimize, Maximize:
		return Direction(s), true
	}
	return "", false
}

// Better reports whether a is strictly better than b in direction d.
func (d Direction) Better(a, b float64) bool {
	if d == Maximize {
		return a > b
	}
	return a < b
}

// State is the state of a trial.
type State string

// The trial states. A trial is Running from the moment it is created until
// it ends Complete (it reported the study's metric), Failed (the objective
// failed, timed out, was interrupted or its process died) or Pruned
// (stopped early on purpose).
const (
	Running  State = "running"
	Complete State = "complete"
	Failed   State = "failed"
	Pruned   State = "pruned"
)

// Valid reports whether s is one of the four states.
func (s State) Valid() bool {
	switch s {
	case Running, Complete, Failed, Pruned:
		return true
	}
	return false
}

// Observation is what a sampler sees of one trial.
type Observation struct {
	// Number is the trial's number in its study: 0, 1, 2, …
	Number int
	// Params are the trial's parameters.
	Params Params
	// State is the trial's state when the history was taken.
	State State
	// Values are the study's metrics in order when it has several
	// (History.Objectives), for a complete trial; nil otherwise.
	Values []float64
	// Value is the study's metric when State is Complete; for a Pruned
	// trial, the last value of the metric it reported before it was
	// stopped (NaN when none). It means nothing otherwise.
	Value float64
	// Retry marks a trial that re-runs the parameters of an earlier failed
	// trial rather than a point the sampler proposed.
	Retry bool
	// Given marks a trial that runs a point given by the user (enqueued)
	// rather than one the sampler proposed.
	Given bool
	// Key is the Key of the proposal the trial came from, if any.
	Key string
}

// History is a study as a sampler sees it: its direction and its trials in
// number order, running ones included. A history only grows: trials are
// appended and change state, but are never removed or reordered, which lets
// samplers keep incremental state between calls.
type History struct {
	Direction Direction
	Trials    []Observation
	// Skip asks samplers whose proposals carry keys and do not depend on
	// the other trials (grid points, the j-th random point) for the
	// proposal after the next Skip free ones. A caller racing other
	// processes for the same proposals, which the store grants once by
	// their key, sets it at random among the number of racers, so that
	// they rarely ask for the same key at once. Samplers whose proposals
	// depend on the other trials (Bayesian optimization) ignore it: their
	// j-th key must go to a proposal made with the j proposals before it in
	// view, so that racing processes never propose the same point. It is 0
	// for a study run by one process, whose proposals are then the same
	// whatever the timing.
	Skip int
	// Objectives, when the study has several metrics, are their
	// directions, in the order of Observation.Values (Direction is then
	// the first's). Samplers with a model optimize random scalarizations
	// of them (ParEGO); the others ignore them.
	Objectives []Direction
	// Prior are complete trials of other studies over the same space and
	// objective (a warm start): samplers with a model (Bayesian
	// optimization) fit it to them as well, and count them towards their
	// start-up points; the others ignore them. Their Numbers mean nothing
	// here.
	Prior []Observation
}

// Proposal is a point a sampler proposes.
type Proposal struct {
	// Params is the point.
	Params Params
	// Key, when not empty, identifies the proposal within its study, such
	// as a grid index. A store refuses a second trial with the same key, so
	// two processes sharing a study never run the same proposal twice.
	Key string
}

// Sampler proposes the next point to evaluate from a study's history.
// Implementations are safe for use by one goroutine at a time; the runner
// serializes calls.
type Sampler interface {
	// Name returns the sampler's name as configs spell it.
	Name() string
	// Propose returns the next point. It returns ErrExhausted when the
	// sampler has nothing left to propose.
	Propose(ctx context.Context, h *History) (Proposal, error)
}

// ErrExhausted is returned by Propose when a finite sampler, such as a grid,
// has proposed every point it has.
var ErrExhausted = errors.New("optimize: every point of the search space has been proposed")

// historyCursor tracks how much of an append-only history a sampler has
// absorbed, and notices when it is handed a different history.
type historyCursor struct {
	n    int // observations absorbed
	last int // Number of the last absorbed observation
}

// next returns the index from which h has new observations; reset is true
// when h is not a continuation of what was absorbed before.
func (c *historyCursor) next(h *History) (from int, reset bool) {
	if c.n > len(h.Trials) || (c.n > 0 && h.Trials[c.n-1].Number != c.last) {
		*c = historyCursor{}
		return 0, true
	}
	return c.n, false
}

func (c *historyCursor) done(h *History) {
	c.n = len(h.Trials)
	if c.n > 0 {
		c.last = h.Trials[c.n-1].Number
	}
}

// proposalIndex numbers a sampler's proposals within a study: a proposal
// takes the lowest index that no earlier proposal of the history holds
// (by its key, prefix followed by the index; a proposal without such a key
// holds the lowest free index), skipping History.Skip free ones. A caller
// that proposes again before recording the last proposal gets the next
// free index, not the same one.
type proposalIndex struct {
	prefix  string
	hist    historyCursor
	taken   map[int]bool // indices held by the history or pending
	pending []int        // proposals made since the history last grew
	low     int          // every index below low is taken
}

// next returns the index of the proposal to make from h, after skip free
// ones; reset is true when h is not a continuation of the history seen
// before.
func (p *proposalIndex) next(h *History, skip int) (j int, reset bool) {
	from, reset := p.hist.next(h)
	if reset || p.taken == nil {
		p.taken, p.pending, p.low = map[int]bool{}, nil, 0
	}
	var keys []int
	keyless := 0
	for _, o := range h.Trials[from:] {
		if o.Retry || o.Given {
			continue
		}
		if k, ok := strings.CutPrefix(o.Key, p.prefix); ok && p.prefix != "" {
			if n, err := strconv.Atoi(k); err == nil && n >= 0 {
				keys = append(keys, n)
				continue
			}
		}
		keyless++
	}
	p.hist.done(h)
	if len(keys)+keyless > 0 {
		// The history grew: proposals made meanwhile were recorded (and
		// are among its keys) or given up.
		for _, j := range p.pending {
			delete(p.taken, j)
		}
		p.pending, p.low = p.pending[:0], 0
		for _, k := range keys {
			p.taken[k] = true
		}
		for range keyless {
			p.taken[p.free(0)] = true
		}
	}
	j = p.free(max(skip, 0))
	p.taken[j] = true
	p.pending = append(p.pending, j)
	return j, reset
}

// free returns the lowest index not taken, after skip free ones.
func (p *proposalIndex) free(skip int) int {
	for p.taken[p.low] {
		p.low++
	}
	j := p.low
	for ; p.taken[j] || skip > 0; j++ {
		if !p.taken[j] {
			skip--
		}
	}
	return j
}
