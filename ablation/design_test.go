package ablation

import (
	"reflect"
	"strings"
	"testing"
)

var comps = []Component{
	{Name: "global_attention", Ablate: map[string]any{"model.global_attention": false}},
	{Name: "feedforward", Ablate: map[string]any{"model.feedforward": false}},
	{Name: "layer_norm", Ablate: map[string]any{"model.layer_norm": false}},
}

func names(vs []Variant) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.Name
	}
	return out
}

func TestPlan(t *testing.T) {
	base := map[string]any{"train.steps": int64(600)}
	cases := []struct {
		design Design
		names  []string
		// values of variant 1
		second map[string]any
	}{
		{LeaveOneOut, []string{"full", "no global_attention", "no feedforward", "no layer_norm"},
			map[string]any{"train.steps": int64(600), "model.global_attention": false}},
		{AddOneIn, []string{"minimal", "only global_attention", "only feedforward", "only layer_norm"},
			map[string]any{"train.steps": int64(600), "model.feedforward": false, "model.layer_norm": false}},
		{Factorial, []string{"full", "no global_attention", "no feedforward", "no global_attention, feedforward",
			"no layer_norm", "no global_attention, layer_norm", "no feedforward, layer_norm", "no global_attention, feedforward, layer_norm"},
			map[string]any{"train.steps": int64(600), "model.global_attention": false}},
	}
	for _, c := range cases {
		vs, err := Plan(c.design, base, comps, false)
		if err != nil {
			t.Fatalf("%s: %v", c.design, err)
		}
		if got := names(vs); !reflect.DeepEqual(got, c.names) {
			t.Errorf("%s: variants %q, want %q", c.design, got, c.names)
		}
		if !reflect.DeepEqual(vs[1].Values, c.second) {
			t.Errorf("%s: variant 1 values %v, want %v", c.design, vs[1].Values, c.second)
		}
	}
	if base["model.global_attention"] != nil {
		t.Error("Plan changed the base values")
	}
	vs, _ := Plan(AddOneIn, nil, comps, false)
	if !vs[1].Has("global_attention") || vs[1].Has("feedforward") || vs[0].Has("layer_norm") {
		t.Errorf("Has: %+v", vs[:2])
	}
}

func TestPlanRefuses(t *testing.T) {
	nine := make([]Component, 9)
	for i := range nine {
		nine[i] = Component{Name: string(rune('a' + i)), Ablate: map[string]any{"k" + string(rune('a'+i)): 0}}
	}
	clash := []Component{{Name: "a", Ablate: map[string]any{"lr": 0.1}}, {Name: "b", Ablate: map[string]any{"lr": 0.2}}}
	for _, c := range []struct {
		design Design
		comps  []Component
		want   string
	}{
		{LeaveOneOut, nil, "no components"},
		{LeaveOneOut, []Component{comps[0], comps[0]}, `two components are named "global_attention"`},
		{LeaveOneOut, []Component{{Name: "x"}}, `component "x" sets no key`},
		{"one-at-a-time", comps, `unknown design "one-at-a-time"; allowed: leave-one-out, add-one-in, factorial`},
		{Factorial, nine, "a factorial design of 9 components runs 512 variants on every seed; at most 8 components (256 variants) unless allowed"},
		{AddOneIn, clash, `components "a" and "b" set lr to different values (0.1 and 0.2)`},
	} {
		if _, err := Plan(c.design, nil, c.comps, false); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.design, err, c.want)
		}
	}
	// Leave-one-out never ablates two at once: the clash does not arise.
	if _, err := Plan(LeaveOneOut, nil, clash, false); err != nil {
		t.Errorf("leave-one-out with components setting one key: %v", err)
	}
	if vs, err := Plan(Factorial, nil, nine, true); err != nil || len(vs) != 512 {
		t.Errorf("allowed large factorial: %d variants, %v", len(vs), err)
	}
}
