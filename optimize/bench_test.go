package optimize_test

import (
	"context"
	"testing"

	"github.com/olc-toolkit/olc/optimize"
)

// benchSpace is a 3-d space with a 30×30×30 = 27,000-point grid.
func benchSpace(b *testing.B) *optimize.Space {
	return mustSpace(b,
		optimize.Param{Name: "lr", Kind: optimize.Float, Low: 1e-5, High: 1e-1, Log: true, Points: 30},
		optimize.Param{Name: "dropout", Kind: optimize.Float, Low: 0, High: 0.29, Step: 0.01},
		optimize.Param{Name: "layers", Kind: optimize.Int, Low: 1, High: 30},
	)
}

// history returns n finished trials proposed by s.
func history(b *testing.B, s optimize.Sampler, n int) *optimize.History {
	h := &optimize.History{Direction: optimize.Minimize}
	for i := range n {
		p, err := s.Propose(context.Background(), h)
		if err != nil {
			b.Fatal(err)
		}
		h.Trials = append(h.Trials, optimize.Observation{Number: i, Params: p.Params, State: optimize.Complete, Value: float64(i), Key: p.Key})
	}
	return h
}

// benchPropose measures one proposal after n finished trials. Warm: the
// sampler has seen the history before and each proposal joins it, as in the
// runner. Cold: a fresh sampler reads the whole history, as for the first
// proposal after a resume.
func benchPropose(b *testing.B, n int, cold bool, newSampler func() optimize.Sampler) {
	ctx := context.Background()
	var h *optimize.History
	var s optimize.Sampler
	reset := func() {
		h = history(b, newSampler(), n)
		s = newSampler()
		if _, err := s.Propose(ctx, h); err != nil {
			b.Fatal(err)
		}
	}
	reset()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if cold {
			b.StopTimer()
			s = newSampler()
			b.StartTimer()
		}
		p, err := s.Propose(ctx, h)
		if err == optimize.ErrExhausted {
			b.StopTimer()
			reset()
			b.StartTimer()
			continue
		}
		if err != nil {
			b.Fatal(err)
		}
		if !cold {
			h.Trials = append(h.Trials, optimize.Observation{Number: len(h.Trials), Params: p.Params, State: optimize.Running, Key: p.Key})
		}
	}
}

func BenchmarkGridPropose10k(b *testing.B) {
	space := benchSpace(b)
	benchPropose(b, 10_000, false, func() optimize.Sampler { return must(optimize.NewGrid(space)) })
}

func BenchmarkGridPropose10kCold(b *testing.B) {
	space := benchSpace(b)
	benchPropose(b, 10_000, true, func() optimize.Sampler { return must(optimize.NewGrid(space)) })
}

func BenchmarkRandomPropose10k(b *testing.B) {
	space := benchSpace(b)
	benchPropose(b, 10_000, false, func() optimize.Sampler { return must(optimize.NewRandom(space, 1, false)) })
}

func BenchmarkRandomPropose10kCold(b *testing.B) {
	space := benchSpace(b)
	benchPropose(b, 10_000, true, func() optimize.Sampler { return must(optimize.NewRandom(space, 1, false)) })
}

func BenchmarkRandomQMCPropose10k(b *testing.B) {
	space := benchSpace(b)
	benchPropose(b, 10_000, false, func() optimize.Sampler { return must(optimize.NewRandom(space, 1, true)) })
}

func BenchmarkRandomQMCPropose10kCold(b *testing.B) {
	space := benchSpace(b)
	benchPropose(b, 10_000, true, func() optimize.Sampler { return must(optimize.NewRandom(space, 1, true)) })
}
