package optimize_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/olc-toolkit/olc/optimize"
)

// condSpace: an optimizer, SGD's momentum, Adam's β₂, and a learning rate
// for both; the schedule's warm-up only with a "cosine" schedule, itself
// only with SGD (a chain of conditions).
func condSpace(t *testing.T) *optimize.Space {
	return mustSpace(t,
		optimize.Param{Name: "optimizer", Kind: optimize.Categorical, Values: []any{"sgd", "adam"}},
		optimize.Param{Name: "momentum", Kind: optimize.Float, Low: 0, High: 0.99, Points: 3,
			Conditions: []optimize.Condition{{Param: "optimizer", Values: []any{"sgd"}}}},
		optimize.Param{Name: "beta2", Kind: optimize.Float, Low: 0.9, High: 0.999, Points: 2,
			Conditions: []optimize.Condition{{Param: "optimizer", Values: []any{"adam"}}}},
		optimize.Param{Name: "schedule", Kind: optimize.Categorical, Values: []any{"constant", "cosine"},
			Conditions: []optimize.Condition{{Param: "optimizer", Values: []any{"sgd"}}}},
		optimize.Param{Name: "warmup", Kind: optimize.Int, Low: 0, High: 2,
			Conditions: []optimize.Condition{{Param: "schedule", Values: []any{"cosine"}}}},
		optimize.Param{Name: "lr", Kind: optimize.Float, Low: 1e-4, High: 1, Log: true, Points: 2},
	)
}

func TestConditionalSpace(t *testing.T) {
	s := condSpace(t)
	for _, c := range []struct {
		p    optimize.Params
		want string // "" valid
	}{
		{optimize.Params{"optimizer": "adam", "beta2": 0.95, "lr": 0.1}, ""},
		{optimize.Params{"optimizer": "sgd", "momentum": 0.5, "schedule": "constant", "lr": 0.1}, ""},
		{optimize.Params{"optimizer": "sgd", "momentum": 0.5, "schedule": "cosine", "warmup": int64(1), "lr": 0.1}, ""},
		{optimize.Params{"optimizer": "adam", "beta2": 0.95, "momentum": 0.5, "lr": 0.1}, `"momentum" is given, but its condition does not hold`},
		{optimize.Params{"optimizer": "sgd", "momentum": 0.5, "lr": 0.1}, `"schedule" is missing`},
		{optimize.Params{"optimizer": "sgd", "momentum": 0.5, "schedule": "constant", "warmup": int64(1), "lr": 0.1}, `"warmup" is given`},
	} {
		err := s.Contains(c.p)
		if (err == nil) != (c.want == "") || (err != nil && !strings.Contains(err.Error(), c.want)) {
			t.Errorf("Contains(%v) = %v, want %q", c.p, err, c.want)
		}
	}
	for _, c := range []struct {
		params []optimize.Param
		want   string
	}{
		{[]optimize.Param{{Name: "a", Kind: optimize.Float, Low: 0, High: 1, Conditions: []optimize.Condition{{Param: "nope", Values: []any{1}}}}}, `names "nope", which is not a parameter`},
		{[]optimize.Param{{Name: "c", Kind: optimize.Categorical, Values: []any{"x", "y"}}, {Name: "a", Kind: optimize.Float, Low: 0, High: 1, Conditions: []optimize.Condition{{Param: "c", Values: []any{"z"}}}}}, `c = "z" can never hold: z is not one of its values`},
		{[]optimize.Param{{Name: "n", Kind: optimize.Int, Low: 1, High: 4}, {Name: "a", Kind: optimize.Float, Low: 0, High: 1, Conditions: []optimize.Condition{{Param: "n", Values: []any{7.0}}}}}, "n = 7 can never hold"},
		{[]optimize.Param{
			{Name: "a", Kind: optimize.Categorical, Values: []any{int64(1), int64(2)}, Conditions: []optimize.Condition{{Param: "b", Values: []any{int64(1)}}}},
			{Name: "b", Kind: optimize.Categorical, Values: []any{int64(1), int64(2)}, Conditions: []optimize.Condition{{Param: "a", Values: []any{int64(1)}}}},
		}, "the conditions form a cycle: a → b → a"},
		{[]optimize.Param{{Name: "a", Kind: optimize.Categorical, Values: []any{int64(1), int64(2)}, Conditions: []optimize.Condition{{Param: "a", Values: []any{int64(1)}}}}}, "cannot depend on itself"},
	} {
		if _, err := optimize.NewSpace(c.params...); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewSpace = %v, want %q", err, c.want)
		}
	}
}

// TestConditionalSamplers: every sampler proposes only valid points; the
// grid covers each distinct point once (adam: 2 β₂; sgd: 3 momenta × (1
// constant + 3 warm-ups); times 2 learning rates = 2·(2 + 12) = 28).
func TestConditionalSamplers(t *testing.T) {
	s := condSpace(t)
	g := must(optimize.NewGrid(s))
	if g.Size() != 28 {
		t.Errorf("grid size %d, want 28", g.Size())
	}
	h := &optimize.History{Direction: optimize.Minimize}
	seen := map[string]bool{}
	for i := 0; ; i++ {
		p, err := g.Propose(context.Background(), h)
		if err == optimize.ErrExhausted {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Contains(p.Params); err != nil {
			t.Fatalf("grid point %v: %v", p.Params, err)
		}
		k := fmt.Sprint(p.Params)
		if seen[k] {
			t.Errorf("grid point %s twice", k)
		}
		seen[k] = true
		h.Trials = append(h.Trials, optimize.Observation{Number: i, Params: p.Params, State: optimize.Complete, Key: p.Key})
	}
	if len(seen) != 28 {
		t.Errorf("grid gave %d points, want 28", len(seen))
	}
	// A function where SGD with momentum 0.9 and a cosine warm-up of 2 is
	// best: every sampler must find the conditional optimum's region.
	f := func(p optimize.Params) float64 {
		v := math.Abs(math.Log10(p["lr"].(float64)) + 2)
		if p["optimizer"] == "adam" {
			return v + 0.5 + (0.999-p["beta2"].(float64))*10
		}
		v += math.Abs(p["momentum"].(float64) - 0.9)
		if p["schedule"] == "cosine" {
			v -= 0.3 * float64(p["warmup"].(int64))
		}
		return v
	}
	cont := mustSpace(t,
		optimize.Param{Name: "optimizer", Kind: optimize.Categorical, Values: []any{"sgd", "adam"}},
		optimize.Param{Name: "momentum", Kind: optimize.Float, Low: 0, High: 0.99, Conditions: []optimize.Condition{{Param: "optimizer", Values: []any{"sgd"}}}},
		optimize.Param{Name: "beta2", Kind: optimize.Float, Low: 0.9, High: 0.999, Conditions: []optimize.Condition{{Param: "optimizer", Values: []any{"adam"}}}},
		optimize.Param{Name: "schedule", Kind: optimize.Categorical, Values: []any{"constant", "cosine"}, Conditions: []optimize.Condition{{Param: "optimizer", Values: []any{"sgd"}}}},
		optimize.Param{Name: "warmup", Kind: optimize.Int, Low: 0, High: 2, Conditions: []optimize.Condition{{Param: "schedule", Values: []any{"cosine"}}}},
		optimize.Param{Name: "lr", Kind: optimize.Float, Low: 1e-4, High: 1, Log: true},
	)
	for _, c := range []struct {
		name string
		s    optimize.Sampler
		want float64
	}{
		{"random", must(optimize.NewRandom(cont, 1, false)), 0.5},
		{"bayes", must(optimize.NewBayes(cont, 1, optimize.DefaultBayesOptions(cont.Len()))), -0.45},
		{"cmaes", must(optimize.NewCMAES(cont, 1, 0)), 0.5},
	} {
		h := run(t, c.s, f, 40, optimize.Minimize)
		for _, o := range h.Trials {
			if err := cont.Contains(o.Params); err != nil {
				t.Fatalf("%s proposed %v: %v", c.name, o.Params, err)
			}
		}
		if b := best(h); b > c.want {
			t.Errorf("%s: best %.3f after 40 evaluations, want below %v (minimum −0.6)", c.name, b, c.want)
		}
	}
}
