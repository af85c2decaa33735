package ablation

import (
	"context"
	"maps"
	"strconv"
	"strings"
	"sync"

	"github.com/olc-toolkit/olc/optimize"
)

// A Sampler proposes every (variant, seed) pair of an ablation once, seed
// by seed (all variants of the first seed, then of the second, …), so that
// a run stopped early leaves complete pairs. Each proposal's parameters
// are the variant's values with the seed under SeedKey; its key is
// "ablation:<variant>:<seed>", so that a store refuses to run a pair twice
// and a resumed run skips the pairs the history holds. It returns
// optimize.ErrExhausted when every pair has a trial.
type Sampler struct {
	Variants []Variant
	Seeds    []int64
	// SeedKey is the parameter that carries the seed: "seed" for command
	// objectives, "train.seed" for kind "train", "" for an objective that
	// takes none (a builtin function: every seed then gives the same
	// value, and the analysis says so).
	SeedKey string

	mu    sync.Mutex
	taken map[string]bool
	next  int
}

var _ optimize.Sampler = (*Sampler)(nil)

// Name returns "ablation".
func (s *Sampler) Name() string { return "ablation" }

// Len is the number of pairs.
func (s *Sampler) Len() int { return len(s.Variants) * len(s.Seeds) }

// Key returns the proposal key of variant v on seed.
func Key(v int, seed int64) string {
	return "ablation:" + strconv.Itoa(v) + ":" + strconv.FormatInt(seed, 10)
}

// ParseKey reads a proposal key back; ok is false for keys of other
// samplers.
func ParseKey(key string) (v int, seed int64, ok bool) {
	rest, found := strings.CutPrefix(key, "ablation:")
	if !found {
		return 0, 0, false
	}
	vs, ss, found := strings.Cut(rest, ":")
	if !found {
		return 0, 0, false
	}
	v, err1 := strconv.Atoi(vs)
	seed, err2 := strconv.ParseInt(ss, 10, 64)
	return v, seed, err1 == nil && err2 == nil && v >= 0
}

// Propose returns the next pair that no trial of h has.
func (s *Sampler) Propose(ctx context.Context, h *optimize.History) (optimize.Proposal, error) {
	if err := ctx.Err(); err != nil {
		return optimize.Proposal{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.taken == nil {
		s.taken = map[string]bool{}
	}
	for _, o := range h.Trials {
		if !o.Retry && o.Key != "" {
			s.taken[o.Key] = true
		}
	}
	for ; s.next < s.Len(); s.next++ {
		v, seed := s.next%len(s.Variants), s.Seeds[s.next/len(s.Variants)]
		k := Key(v, seed)
		if s.taken[k] {
			continue
		}
		s.taken[k] = true
		params := optimize.Params(maps.Clone(s.Variants[v].Values))
		if params == nil {
			params = optimize.Params{}
		}
		if s.SeedKey != "" {
			params[s.SeedKey] = seed
		}
		return optimize.Proposal{Params: params, Key: k}, nil
	}
	return optimize.Proposal{}, optimize.ErrExhausted
}
