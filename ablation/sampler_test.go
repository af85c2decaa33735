package ablation

import (
	"context"
	"errors"
	"testing"

	"github.com/olc-toolkit/olc/optimize"
)

func TestSamplerProposesEveryPairOnce(t *testing.T) {
	variants, err := Plan(LeaveOneOut, map[string]any{"steps": int64(10)}, ab, false)
	if err != nil {
		t.Fatal(err)
	}
	s := &Sampler{Variants: variants, Seeds: []int64{7, 8}, SeedKey: "seed"}
	ctx := context.Background()
	h := &optimize.History{}
	// A resumed study already ran variant 1 on seed 7.
	h.Trials = append(h.Trials, optimize.Observation{Number: 0, Key: Key(1, 7), State: optimize.Complete})
	var got []string
	for {
		p, err := s.Propose(ctx, h)
		if errors.Is(err, optimize.ErrExhausted) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		v, seed, ok := ParseKey(p.Key)
		if !ok || p.Params["seed"] != seed || p.Params["steps"] != int64(10) {
			t.Fatalf("proposal %+v", p)
		}
		if (v == 1) != (p.Params["a"] == false) {
			t.Errorf("variant %d has params %v", v, p.Params)
		}
		got = append(got, p.Key)
		h.Trials = append(h.Trials, optimize.Observation{Number: len(h.Trials), Key: p.Key, State: optimize.Running})
	}
	want := []string{"ablation:0:7", "ablation:2:7", "ablation:0:8", "ablation:1:8", "ablation:2:8"}
	if len(got) != len(want) {
		t.Fatalf("proposed %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("proposed %v, want %v (seed by seed, the finished pair skipped)", got, want)
		}
	}
	if variants[1].Values["a"] != false || len(variants[0].Values) != 1 {
		t.Errorf("proposals changed the variants: %v", variants[:2])
	}
}

func TestParseKey(t *testing.T) {
	for _, c := range []struct {
		key  string
		v    int
		seed int64
		ok   bool
	}{{"ablation:3:-2", 3, -2, true}, {"grid:4", 0, 0, false}, {"ablation:x:1", 0, 0, false}, {"ablation:1", 0, 0, false}, {"ablation:-1:1", 0, 0, false}} {
		v, seed, ok := ParseKey(c.key)
		if ok != c.ok || (ok && (v != c.v || seed != c.seed)) {
			t.Errorf("ParseKey(%q) = %d, %d, %v", c.key, v, seed, ok)
		}
	}
}
