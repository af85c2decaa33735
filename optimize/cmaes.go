package optimize

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"

	"gonum.org/v1/gonum/mat"
)

// CMAES is the covariance matrix adaptation evolution strategy,
// (µ/µ_w, λ)-CMA-ES with cumulative step-size adaptation, as in Hansen's
// tutorial ("The CMA Evolution Strategy: A Tutorial", arXiv:1604.00772,
// 2016, Table 1 and Algorithm 1, positive recombination weights).
//
// It searches the float and int parameters in the unit cube of the
// space's own scales (log parameters on the log scale), starting from the
// centre with step size 0.3 (Hansen's advice for a box: the optimum within
// m ± 3σ); a draw outside the cube is drawn again, up to 100 times, then
// clipped. Ints and stepped floats are rounded when the point is mapped to
// parameters. Categorical parameters are drawn uniformly at random for
// each proposal, as Optuna's CmaEsSampler does with its independent
// sampler.
//
// The state is not kept between calls but replayed from the history, so
// that a resumed study and processes sharing one propose alike: generation
// g's λ points are drawn from the distribution updated with the first λ
// proposals of each earlier generation, once all of them finished;
// complete trials are ranked by value, pruned ones after them by their
// last value, failed ones last. While a generation's first λ trials run,
// further proposals come from the same generation (parallel workers keep
// busy) and inform nothing. A proposal's Key is "cmaes:<g>:<k>".
type CMAES struct {
	space  *Space
	seed   uint64
	cont   []int // indices of the float and int parameters
	lambda int

	mu sync.Mutex
	// cache[g] is the state after generation g, updated with the trials
	// fingerprinted fp: a replay reuses it while the history agrees.
	cache []cmaCached
}

type cmaCached struct {
	fp    []cmaMember
	state *cmaState
}

// cmaMember identifies a trial's outcome in a generation.
type cmaMember struct {
	number int
	state  State
	value  uint64 // the value's bits
}

var _ Sampler = (*CMAES)(nil)

// NewCMAES returns CMA-ES over space. Its population size λ is
// 4 + ⌊3 ln n⌋ for n float and int parameters (popsize when positive).
// It fails when the space has no float or int parameter.
func NewCMAES(space *Space, seed uint64, popsize int) (*CMAES, error) {
	c := &CMAES{space: space, seed: seed}
	for i, p := range space.Params() {
		if p.Kind != Categorical {
			c.cont = append(c.cont, i)
		}
	}
	if len(c.cont) == 0 {
		return nil, &ParamError{Msg: "cmaes needs at least one float or int parameter (for categoricals alone use grid or random)"}
	}
	c.lambda = 4 + int(3*math.Log(float64(len(c.cont))))
	if popsize > 0 {
		if popsize < 2 {
			return nil, &ParamError{Key: "popsize", Msg: "must be at least 2"}
		}
		c.lambda = popsize
	}
	return c, nil
}

// Name returns "cmaes".
func (c *CMAES) Name() string { return "cmaes" }

// PopSize returns λ.
func (c *CMAES) PopSize() int { return c.lambda }

// cmaState is the search distribution: mean m, step size σ, covariance C
// = B D² Bᵀ, and the evolution paths.
type cmaState struct {
	n              int
	m, pc, ps      []float64
	sigma          float64
	c              *mat.SymDense
	b              *mat.Dense
	d              []float64
	gen            int
	weights        []float64
	mueff          float64
	cc, cs, c1, cm float64
	damps, chiN    float64
}

// clone returns a deep copy of s.
func (s *cmaState) clone() *cmaState {
	c := *s
	c.m, c.pc, c.ps, c.d = slices.Clone(s.m), slices.Clone(s.pc), slices.Clone(s.ps), slices.Clone(s.d)
	c.c = mat.NewSymDense(s.n, nil)
	c.c.CopySym(s.c)
	c.b = mat.DenseCopyOf(s.b)
	return &c
}

func newCMAState(n, lambda int) *cmaState {
	s := &cmaState{n: n, m: make([]float64, n), pc: make([]float64, n), ps: make([]float64, n), sigma: 0.3}
	for i := range s.m {
		s.m[i] = 0.5
	}
	s.c = mat.NewSymDense(n, nil)
	s.b = mat.NewDense(n, n, nil)
	s.d = make([]float64, n)
	for i := range n {
		s.c.SetSym(i, i, 1)
		s.b.Set(i, i, 1)
		s.d[i] = 1
	}
	mu := lambda / 2
	s.weights = make([]float64, mu)
	sum, sq := 0.0, 0.0
	for i := range mu {
		s.weights[i] = math.Log(float64(lambda+1)/2) - math.Log(float64(i+1))
		sum += s.weights[i]
	}
	for i := range s.weights {
		s.weights[i] /= sum
		sq += s.weights[i] * s.weights[i]
	}
	s.mueff = 1 / sq
	fn := float64(n)
	s.cc = (4 + s.mueff/fn) / (fn + 4 + 2*s.mueff/fn)
	s.cs = (s.mueff + 2) / (fn + s.mueff + 5)
	s.c1 = 2 / ((fn+1.3)*(fn+1.3) + s.mueff)
	s.cm = math.Min(1-s.c1, 2*(s.mueff-2+1/s.mueff)/((fn+2)*(fn+2)+s.mueff))
	s.damps = 1 + 2*math.Max(0, math.Sqrt((s.mueff-1)/(fn+1))-1) + s.cs
	s.chiN = math.Sqrt(fn) * (1 - 1/(4*fn) + 1/(21*fn*fn))
	return s
}

// sample returns point k of the current generation in the unit cube of
// the continuous parameters.
func (c *CMAES) sample(s *cmaState, k int) []float64 {
	rnd := rand.New(rand.NewPCG(mix(c.seed^0x5ca1ab1e), mix(uint64(s.gen)<<32|uint64(k))))
	z := make([]float64, s.n)
	x := make([]float64, s.n)
	for range 100 {
		for i := range z {
			z[i] = rnd.NormFloat64() * s.d[i]
		}
		inside := true
		for i := range x {
			v := 0.0
			for j := range z {
				v += s.b.At(i, j) * z[j]
			}
			x[i] = s.m[i] + s.sigma*v
			if x[i] < 0 || x[i] >= 1 {
				inside = false
			}
		}
		if inside {
			return x
		}
	}
	for i := range x {
		x[i] = math.Min(math.Max(x[i], 0), math.Nextafter(1, 0))
	}
	return x
}

// update moves the distribution to the generation's points ranked best
// first.
func (s *cmaState) update(ranked [][]float64) {
	n := s.n
	old := slices.Clone(s.m)
	yw := make([]float64, n)
	ys := make([][]float64, len(s.weights))
	for i, w := range s.weights {
		y := make([]float64, n)
		for j := range y {
			y[j] = (ranked[i][j] - old[j]) / s.sigma
			yw[j] += w * y[j]
		}
		ys[i] = y
	}
	for j := range s.m {
		s.m[j] = old[j] + s.sigma*yw[j]
	}
	// C^{-1/2} <y>_w = B D⁻¹ Bᵀ <y>_w.
	t := make([]float64, n)
	for i := range n {
		v := 0.0
		for j := range n {
			v += s.b.At(j, i) * yw[j]
		}
		t[i] = v / s.d[i]
	}
	norm := 0.0
	for i := range n {
		v := 0.0
		for j := range n {
			v += s.b.At(i, j) * t[j]
		}
		s.ps[i] = (1-s.cs)*s.ps[i] + math.Sqrt(s.cs*(2-s.cs)*s.mueff)*v
		norm += s.ps[i] * s.ps[i]
	}
	norm = math.Sqrt(norm)
	s.gen++
	hs := 0.0
	if norm/math.Sqrt(1-math.Pow(1-s.cs, 2*float64(s.gen))) < (1.4+2/float64(n+1))*s.chiN {
		hs = 1
	}
	for i := range n {
		s.pc[i] = (1-s.cc)*s.pc[i] + hs*math.Sqrt(s.cc*(2-s.cc)*s.mueff)*yw[i]
	}
	dh := (1 - hs) * s.cc * (2 - s.cc)
	for i := range n {
		for j := i; j < n; j++ {
			v := (1+s.c1*dh-s.c1-s.cm)*s.c.At(i, j) + s.c1*s.pc[i]*s.pc[j]
			for k, w := range s.weights {
				v += s.cm * w * ys[k][i] * ys[k][j]
			}
			s.c.SetSym(i, j, v)
		}
	}
	s.sigma *= math.Exp(s.cs / s.damps * (norm/s.chiN - 1))
	s.sigma = math.Min(math.Max(s.sigma, 1e-12), 1)
	var eig mat.EigenSym
	if eig.Factorize(s.c, true) {
		vals := eig.Values(nil)
		for i := range vals {
			s.d[i] = math.Sqrt(math.Max(vals[i], 1e-20))
		}
		eig.VectorsTo(s.b)
	}
}

// Propose implements Sampler.
func (c *CMAES) Propose(ctx context.Context, h *History) (Proposal, error) {
	if err := ctx.Err(); err != nil {
		return Proposal{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	// The history's proposals by generation and index.
	type member struct {
		k int
		o Observation
	}
	gens := map[int][]member{}
	for _, o := range h.Trials {
		if o.Retry || o.Given {
			continue
		}
		g, k, ok := cmaKey(o.Key)
		if ok {
			gens[g] = append(gens[g], member{k, o})
		}
	}
	byKOf := func(g int) map[int]Observation {
		byK := make(map[int]Observation, len(gens[g]))
		for _, m := range gens[g] {
			byK[m.k] = m.o
		}
		return byK
	}
	fingerprint := func(byK map[int]Observation) ([]cmaMember, bool) {
		fp := make([]cmaMember, c.lambda)
		for k := range fp {
			o, ok := byK[k]
			if !ok || o.State == Running {
				return nil, false
			}
			fp[k] = cmaMember{o.Number, o.State, math.Float64bits(o.Value)}
		}
		return fp, true
	}
	// Skip the generations the cache holds as the history has them.
	s := newCMAState(len(c.cont), c.lambda)
	g := 0
	for ; g < len(c.cache); g++ {
		fp, done := fingerprint(byKOf(g))
		if !done || !slices.Equal(c.cache[g].fp, fp) {
			break
		}
	}
	c.cache = c.cache[:g]
	if g > 0 {
		s = c.cache[g-1].state.clone()
	}
	for {
		byK := byKOf(s.gen)
		// The generation is done when its first λ proposals finished.
		done := true
		for k := range c.lambda {
			o, ok := byK[k]
			if !ok || o.State == Running {
				done = false
				break
			}
		}
		if !done {
			k := 0
			for skip := max(h.Skip, 0); ; k++ {
				if _, taken := byK[k]; taken {
					continue
				}
				if skip == 0 {
					break
				}
				skip--
			}
			x := c.sample(s, k)
			return Proposal{Params: c.params(x, s.gen, k), Key: "cmaes:" + strconv.Itoa(s.gen) + ":" + strconv.Itoa(k)}, nil
		}
		fp, _ := fingerprint(byK)
		type scored struct {
			x    []float64
			rank int // 0 complete, 1 pruned, 2 failed
			v    float64
		}
		pts := make([]scored, c.lambda)
		for k := range c.lambda {
			o := byK[k]
			sc := scored{x: c.sample(s, k), rank: 2, v: math.Inf(1)}
			v := o.Value
			if h.Direction == Maximize {
				v = -v
			}
			switch {
			case o.State == Complete && !math.IsNaN(v):
				sc.rank, sc.v = 0, v
			case o.State == Pruned && !math.IsNaN(v):
				sc.rank, sc.v = 1, v
			}
			pts[k] = sc
		}
		slices.SortStableFunc(pts, func(a, b scored) int {
			if a.rank != b.rank {
				return a.rank - b.rank
			}
			switch {
			case a.v < b.v:
				return -1
			case a.v > b.v:
				return 1
			}
			return 0
		})
		ranked := make([][]float64, len(pts))
		for i := range pts {
			ranked[i] = pts[i].x
		}
		s.update(ranked)
		c.cache = append(c.cache, cmaCached{fp: fp, state: s.clone()})
	}
}

// params maps a point of the continuous parameters' cube to parameters,
// drawing the categorical ones.
func (c *CMAES) params(x []float64, gen, k int) Params {
	u := make([]float64, c.space.Len())
	rnd := rand.New(rand.NewPCG(mix(c.seed^0xca7e6051), mix(uint64(gen)<<32|uint64(k))))
	for i := range u {
		u[i] = rnd.Float64()
	}
	for j, i := range c.cont {
		u[i] = x[j]
	}
	return c.space.FromUnit(u)
}

// cmaKey parses "cmaes:<g>:<k>".
func cmaKey(key string) (g, k int, ok bool) {
	rest, found := strings.CutPrefix(key, "cmaes:")
	if !found {
		return 0, 0, false
	}
	a, b, found := strings.Cut(rest, ":")
	if !found {
		return 0, 0, false
	}
	g, err1 := strconv.Atoi(a)
	k, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil || g < 0 || k < 0 {
		return 0, 0, false
	}
	return g, k, true
}

// String describes the sampler.
func (c *CMAES) String() string {
	return fmt.Sprintf("cmaes(λ=%d, %d continuous parameters)", c.lambda, len(c.cont))
}
