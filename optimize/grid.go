package optimize

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"
)

// MaxGridSize is the largest grid NewGrid accepts.
const MaxGridSize = 100_000

// Grid is exhaustive grid search: every combination of the parameters' grid
// values, in a fixed order with the last parameter varying fastest. It skips
// every point that a trial of the history already has (running, complete,
// failed or pruned), so a resumed study covers each point once.
//
// A float parameter needs Step (values Low, Low+Step, … up to and including
// High when it falls on the step) or Points (evenly spaced, both ends
// included, on the log scale when Log is set); an int parameter takes every
// value from Low to High by its step; a categorical one takes its Values.
//
// Propose costs O(new trials·d) amortized: the grid remembers which points
// it has seen.
type Grid struct {
	space  *Space
	axes   [][]any
	lookup []map[any]int
	size   int

	mu     sync.Mutex
	taken  []uint64 // bitset over grid indices
	cursor int      // no free index below it
	hist   historyCursor
	// For a conditional space, skip marks the indices that repeat another
	// point (an inactive parameter off its first grid value), and count is
	// the number of distinct points.
	skip  []uint64
	count int
}

var _ Sampler = (*Grid)(nil)

// NewGrid builds the grid over space. It returns a *ParamError when a float
// parameter has neither step nor points, or when the grid would have more
// than MaxGridSize points.
func NewGrid(space *Space) (*Grid, error) {
	g := &Grid{space: space, size: 1}
	for _, p := range space.Params() {
		axis, err := gridAxis(p)
		if err != nil {
			return nil, err
		}
		if g.size > MaxGridSize/len(axis) {
			return nil, &ParamError{Msg: fmt.Sprintf("the grid would have more than %d points (%s); coarsen a step or points, or use random search", MaxGridSize, describeGridSize(space))}
		}
		g.size *= len(axis)
		lk := make(map[any]int, len(axis))
		for i, v := range axis {
			lk[v] = i
		}
		g.axes = append(g.axes, axis)
		g.lookup = append(g.lookup, lk)
	}
	g.taken = make([]uint64, (g.size+63)/64)
	g.count = g.size
	if space.Conditional() {
		// A point is kept when each of its inactive parameters is at its
		// first grid value: one representative per distinct point.
		g.skip = make([]uint64, len(g.taken))
		params := space.Params()
		for i := range g.size {
			full := make(Params, len(params))
			rest := i
			idx := make([]int, len(params))
			for d := len(g.axes) - 1; d >= 0; d-- {
				n := len(g.axes[d])
				idx[d] = rest % n
				full[params[d].Name] = g.axes[d][idx[d]]
				rest /= n
			}
			for d, on := range space.Active(full) {
				if !on && idx[d] != 0 {
					g.skip[i/64] |= 1 << (i % 64)
					g.count--
					break
				}
			}
		}
		copy(g.taken, g.skip)
	}
	return g, nil
}

// describeGridSize spells out the grid's size as a product of axis lengths.
func describeGridSize(space *Space) string {
	s := ""
	total := 1.0
	for i, p := range space.Params() {
		axis, _ := gridAxis(p)
		if i > 0 {
			s += " × "
		}
		s += strconv.Itoa(len(axis))
		total *= float64(len(axis))
	}
	return s + " = " + strconv.FormatFloat(total, 'g', 4, 64)
}

// gridAxis returns the grid values of one parameter.
func gridAxis(p Param) ([]any, error) {
	switch p.Kind {
	case Float:
		switch {
		case p.Step > 0:
			n := p.stepCount()
			if n > MaxGridSize {
				return nil, &ParamError{Param: p.Name, Key: "step", Msg: fmt.Sprintf("gives %d grid values; the grid may have at most %d points", n, MaxGridSize)}
			}
			axis := make([]any, n)
			for k := range n {
				axis[k] = p.stepValue(k)
			}
			return axis, nil
		case p.Points >= 2:
			if p.Points > MaxGridSize {
				return nil, &ParamError{Param: p.Name, Key: "points", Msg: fmt.Sprintf("the grid may have at most %d points", MaxGridSize)}
			}
			axis := make([]any, p.Points)
			last := float64(p.Points - 1)
			for k := range p.Points {
				t := float64(k) / last
				var x float64
				if p.Log {
					x = math.Exp(math.Log(p.Low) + t*(math.Log(p.High)-math.Log(p.Low)))
				} else {
					x = p.Low + t*(p.High-p.Low)
				}
				axis[k] = x
			}
			axis[0], axis[p.Points-1] = p.Low, p.High
			return axis, nil
		}
		return nil, &ParamError{Param: p.Name, Key: "step", Msg: "a grid over a float parameter needs step or points"}
	case Int:
		lo, hi, step := int64(p.Low), int64(p.High), p.intStep()
		n := (hi-lo)/step + 1
		if n > MaxGridSize {
			return nil, &ParamError{Param: p.Name, Key: "step", Msg: fmt.Sprintf("gives %d grid values; the grid may have at most %d points", n, MaxGridSize)}
		}
		axis := make([]any, n)
		for k := range n {
			axis[k] = lo + k*step
		}
		return axis, nil
	case Categorical:
		return append([]any(nil), p.Values...), nil
	}
	return nil, &ParamError{Param: p.Name, Key: "type", Msg: "unknown kind"}
}

// Name returns "grid".
func (g *Grid) Name() string { return "grid" }

// Size returns the number of grid points (distinct ones, in a
// conditional space).
func (g *Grid) Size() int { return g.count }

// Point returns the grid point of index i, 0 <= i < the product of the
// axes' lengths (Size() but for a conditional space, whose repeated
// points Propose skips), without its inactive parameters.
func (g *Grid) Point(i int) Params {
	if i < 0 || i >= g.size {
		panic(fmt.Sprintf("optimize: grid index %d out of range [0, %d)", i, g.size))
	}
	params := g.space.Params()
	p := make(Params, len(params))
	for d := len(g.axes) - 1; d >= 0; d-- {
		n := len(g.axes[d])
		p[params[d].Name] = g.axes[d][i%n]
		i /= n
	}
	return g.space.Prune(p)
}

// Index returns the grid index of p, and false when p is not a grid point.
func (g *Grid) Index(p Params) (int, bool) {
	i := 0
	for d, param := range g.space.Params() {
		v, present := p[param.Name]
		if !present && g.skip != nil {
			i *= len(g.axes[d]) // inactive: its first grid value
			continue
		}
		k, ok := g.lookup[d][v]
		if !ok {
			return 0, false
		}
		i = i*len(g.axes[d]) + k
	}
	return i, true
}

// keyIndex returns the grid index in a proposal key "grid:<index>".
func (g *Grid) keyIndex(key string) (int, bool) {
	rest, ok := strings.CutPrefix(key, "grid:")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(rest)
	if err != nil || i < 0 || i >= g.size {
		return 0, false
	}
	return i, true
}

// Propose returns the first grid point, in grid order, that no trial of h
// has; its Key is "grid:<index>". It returns ErrExhausted when every point
// has a trial.
func (g *Grid) Propose(ctx context.Context, h *History) (Proposal, error) {
	if err := ctx.Err(); err != nil {
		return Proposal{}, err
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	from, reset := g.hist.next(h)
	if reset {
		clear(g.taken)
		copy(g.taken, g.skip)
		g.cursor = 0
	}
	for _, o := range h.Trials[from:] {
		if o.Retry {
			continue // its point is an earlier trial's
		}
		i, ok := g.keyIndex(o.Key)
		if !ok {
			i, ok = g.Index(o.Params)
		}
		if ok {
			g.taken[i/64] |= 1 << (i % 64)
		}
	}
	g.hist.done(h)
	for g.cursor < g.size && g.taken[g.cursor/64]&(1<<(g.cursor%64)) != 0 {
		g.cursor++
	}
	if g.cursor >= g.size {
		return Proposal{}, ErrExhausted
	}
	i := g.cursor
	for skip := h.Skip; skip > 0; {
		// The Skip-th free point after the first, or the last free one.
		k := i + 1
		for k < g.size && g.taken[k/64]&(1<<(k%64)) != 0 {
			k++
		}
		if k >= g.size {
			break
		}
		i = k
		skip--
	}
	// Mark it now, so that a caller proposing twice without recording the
	// first proposal still gets distinct points.
	g.taken[i/64] |= 1 << (i % 64)
	return Proposal{Params: g.Point(i), Key: "grid:" + strconv.Itoa(i)}, nil
}
