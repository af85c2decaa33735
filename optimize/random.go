package optimize

import (
	"context"
	"math/rand/v2"
	"strconv"
	"sync"

	"github.com/olc-toolkit/olc/optimize/qmc"
)

// Random is random search. Each parameter is drawn independently and
// uniformly on its own scale (log-uniform for log parameters, quantized to
// its step), or, with QMC, the points follow a scrambled Halton sequence,
// which covers the cube more evenly than independent draws for the same
// budget.
//
// The j-th point the sampler proposes in a study (retries of failed trials
// do not count) depends only on the seed and j, so the same seed gives the
// same proposals whatever the parallelism, and a resumed study continues
// the sequence where it stopped.
type Random struct {
	space  *Space
	seed   uint64
	halton *qmc.Halton

	mu    sync.Mutex
	index proposalIndex
	u     []float64
}

var _ Sampler = (*Random)(nil)

// NewRandom returns random search over space with the given seed,
// quasi-random when qmc is set. It fails only when qmc is set and the
// space has more than qmc.MaxDim parameters.
func NewRandom(space *Space, seed uint64, quasi bool) (*Random, error) {
	r := &Random{space: space, seed: seed, u: make([]float64, space.Len()), index: proposalIndex{prefix: "random:"}}
	if quasi {
		if space.Len() > qmc.MaxDim {
			return nil, &ParamError{Msg: "qmc supports at most " + strconv.Itoa(qmc.MaxDim) + " parameters"}
		}
		r.halton = qmc.NewHalton(space.Len(), rand.NewPCG(mix(seed), mix(seed^0x9e3779b97f4a7c15)))
	}
	return r, nil
}

// Name returns "random".
func (r *Random) Name() string { return "random" }

// Propose returns the sampler's next point; its Key is "random:<j>".
func (r *Random) Propose(ctx context.Context, h *History) (Proposal, error) {
	if err := ctx.Err(); err != nil {
		return Proposal{}, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	j, _ := r.index.next(h, h.Skip)
	r.Unit(uint64(j), r.u)
	return Proposal{Params: r.space.FromUnit(r.u), Key: "random:" + strconv.Itoa(j)}, nil
}

// Unit writes the j-th point of the sampler's sequence in the unit cube to
// dst, which must have one element per parameter.
func (r *Random) Unit(j uint64, dst []float64) {
	if r.halton != nil {
		r.halton.Point(j, dst)
		return
	}
	rnd := rand.New(rand.NewPCG(mix(r.seed), mix(j+0x632be59bd9b4e019)))
	for i := range dst {
		dst[i] = rnd.Float64()
	}
}

// mix is the SplitMix64 finalizer; it turns nearby integers (seeds, point
// indices) into unrelated PCG seeds.
func mix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
