package optimize_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/olc-toolkit/olc/optimize"
)

func TestGridAxes(t *testing.T) {
	cases := []struct {
		name string
		p    optimize.Param
		want string
	}{
		{"step includes high", optimize.Param{Name: "x", Kind: optimize.Float, Low: 0, High: 1, Step: 0.25}, "0 0.25 0.5 0.75 1"},
		{"step stops below high", optimize.Param{Name: "x", Kind: optimize.Float, Low: 0, High: 1, Step: 0.3}, "0 0.3 0.6 0.9"},
		{"decimal step", optimize.Param{Name: "x", Kind: optimize.Float, Low: -0.5, High: 0, Step: 0.1}, "-0.5 -0.4 -0.3 -0.2 -0.1 0"},
		{"points", optimize.Param{Name: "x", Kind: optimize.Float, Low: -1, High: 1, Points: 5}, "-1 -0.5 0 0.5 1"},
		{"log points", optimize.Param{Name: "x", Kind: optimize.Float, Low: 1e-4, High: 1, Points: 5, Log: true}, "0.0001 0.001 0.01 0.1 1"},
		{"int", optimize.Param{Name: "n", Kind: optimize.Int, Low: 2, High: 5}, "2 3 4 5"},
		{"int step", optimize.Param{Name: "n", Kind: optimize.Int, Low: 0, High: 10, Step: 4}, "0 4 8"},
		{"categorical", optimize.Param{Name: "c", Kind: optimize.Categorical, Values: []any{"a", int64(3), true}}, "a 3 true"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g, err := optimize.NewGrid(mustSpace(t, c.p))
			if err != nil {
				t.Fatal(err)
			}
			var vals []string
			for i := range g.Size() {
				v := g.Point(i)[c.p.Name]
				if f, ok := v.(float64); ok {
					v = float64(float32(f)) // log points carry rounding in the last bits
					vals = append(vals, fmt.Sprint(float32(f)))
					continue
				}
				vals = append(vals, optimize.FormatValue(v))
			}
			if got := strings.Join(vals, " "); got != c.want {
				t.Errorf("axis = %s, want %s", got, c.want)
			}
			// The ends of a points axis are exact.
			if c.p.Points > 0 {
				if g.Point(0)["x"] != c.p.Low || g.Point(g.Size() - 1)["x"] != c.p.High {
					t.Errorf("ends = %v, %v; want exactly %v, %v", g.Point(0)["x"], g.Point(g.Size() - 1)["x"], c.p.Low, c.p.High)
				}
			}
		})
	}
}

func TestGridErrors(t *testing.T) {
	_, err := optimize.NewGrid(mustSpace(t, optimize.Param{Name: "lr", Kind: optimize.Float, Low: 0, High: 1}))
	var pe *optimize.ParamError
	if !errors.As(err, &pe) || pe.Param != "lr" || !strings.Contains(pe.Msg, "step or points") {
		t.Errorf("grid over a float without step = %v", err)
	}
	big := mustSpace(t,
		optimize.Param{Name: "a", Kind: optimize.Int, Low: 1, High: 1000},
		optimize.Param{Name: "b", Kind: optimize.Int, Low: 1, High: 101},
	)
	if _, err := optimize.NewGrid(big); !errors.As(err, &pe) || !strings.Contains(pe.Msg, "100000") || !strings.Contains(pe.Msg, "1000 × 101") {
		t.Errorf("grid of 101,000 points = %v", err)
	}
	ok := mustSpace(t,
		optimize.Param{Name: "a", Kind: optimize.Int, Low: 1, High: 1000},
		optimize.Param{Name: "b", Kind: optimize.Int, Low: 1, High: 100},
	)
	if g, err := optimize.NewGrid(ok); err != nil || g.Size() != 100_000 {
		t.Errorf("grid of exactly 100,000 points: %v", err)
	}
}

func TestGridOrderAndIndex(t *testing.T) {
	s := mustSpace(t,
		optimize.Param{Name: "a", Kind: optimize.Categorical, Values: []any{"x", "y"}},
		optimize.Param{Name: "b", Kind: optimize.Int, Low: 1, High: 3},
	)
	g, err := optimize.NewGrid(s)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := range g.Size() {
		p := g.Point(i)
		got = append(got, fmt.Sprintf("%v%v", p["a"], p["b"]))
		if j, ok := g.Index(p); !ok || j != i {
			t.Errorf("Index(Point(%d)) = %d, %v", i, j, ok)
		}
	}
	if want := "x1 x2 x3 y1 y2 y3"; strings.Join(got, " ") != want {
		t.Errorf("order = %v, want %s", got, want)
	}
	if _, ok := g.Index(optimize.Params{"a": "z", "b": int64(1)}); ok {
		t.Error("Index of an off-grid point succeeded")
	}
}

// TestGridCoversEveryPointOnce proposes from a history that grows in random
// order, with trials of every state, trials the grid did not propose and
// a history handed over afresh midway (a resumed study): every grid point
// must be proposed exactly once.
func TestGridCoversEveryPointOnce(t *testing.T) {
	s := mustSpace(t,
		optimize.Param{Name: "x", Kind: optimize.Float, Low: 0, High: 1, Step: 0.1},
		optimize.Param{Name: "n", Kind: optimize.Int, Low: 1, High: 7},
		optimize.Param{Name: "c", Kind: optimize.Categorical, Values: []any{"a", "b", false}},
	)
	g, err := optimize.NewGrid(s)
	if err != nil {
		t.Fatal(err)
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	h := &optimize.History{Direction: optimize.Minimize}
	seen := map[int]int{}
	states := []optimize.State{optimize.Running, optimize.Complete, optimize.Failed, optimize.Pruned}
	ctx := context.Background()
	for {
		if len(h.Trials) == 100 {
			// Resume: a new sampler over the same history.
			g, _ = optimize.NewGrid(s)
		}
		if rnd.IntN(10) == 0 {
			// A retry of an earlier trial: same params, not a proposal.
			if len(h.Trials) > 0 {
				o := h.Trials[rnd.IntN(len(h.Trials))]
				h.Trials = append(h.Trials, optimize.Observation{Number: len(h.Trials), Params: o.Params, State: optimize.Running, Retry: true})
			}
			continue
		}
		prop, err := g.Propose(ctx, h)
		if errors.Is(err, optimize.ErrExhausted) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		i, ok := g.Index(prop.Params)
		if !ok {
			t.Fatalf("proposal %v is not a grid point", prop.Params)
		}
		if prop.Key != fmt.Sprintf("grid:%d", i) {
			t.Errorf("key %q for grid index %d", prop.Key, i)
		}
		seen[i]++
		h.Trials = append(h.Trials, optimize.Observation{Number: len(h.Trials), Params: prop.Params, State: states[rnd.IntN(len(states))]})
	}
	if len(seen) != g.Size() {
		t.Errorf("%d of %d points proposed", len(seen), g.Size())
	}
	for i, n := range seen {
		if n != 1 {
			t.Errorf("point %d proposed %d times", i, n)
		}
	}
}

func TestGridSkipsPointsOfAnotherHistory(t *testing.T) {
	s := mustSpace(t, optimize.Param{Name: "n", Kind: optimize.Int, Low: 0, High: 3})
	g, _ := optimize.NewGrid(s)
	h := &optimize.History{Trials: []optimize.Observation{
		{Number: 0, Params: optimize.Params{"n": int64(0)}, State: optimize.Complete},
		{Number: 1, Params: optimize.Params{"n": int64(2)}, State: optimize.Running},
	}}
	p, err := g.Propose(context.Background(), h)
	if err != nil || p.Params["n"] != int64(1) {
		t.Fatalf("Propose = %v, %v; want n = 1", p.Params, err)
	}
	h.Trials = append(h.Trials, optimize.Observation{Number: 2, Params: p.Params, State: optimize.Running})
	p, err = g.Propose(context.Background(), h)
	if err != nil || p.Params["n"] != int64(3) {
		t.Fatalf("Propose = %v, %v; want n = 3", p.Params, err)
	}
	h.Trials = append(h.Trials, optimize.Observation{Number: 3, Params: p.Params, State: optimize.Failed})
	if _, err := g.Propose(context.Background(), h); !errors.Is(err, optimize.ErrExhausted) {
		t.Fatalf("Propose on a covered grid = %v, want ErrExhausted", err)
	}
}

// With History.Skip a grid proposes the free point Skip places after the
// first, or its last free point.
func TestGridSkip(t *testing.T) {
	space, err := optimize.NewSpace(optimize.Param{Name: "a", Kind: optimize.Int, Low: 1, High: 5})
	if err != nil {
		t.Fatal(err)
	}
	g, err := optimize.NewGrid(space)
	if err != nil {
		t.Fatal(err)
	}
	h := &optimize.History{Trials: []optimize.Observation{{Number: 0, Params: optimize.Params{"a": 2}, Key: "grid:1"}}, Skip: 1}
	var keys []string
	for {
		p, err := g.Propose(context.Background(), h)
		if err != nil {
			break
		}
		keys = append(keys, p.Key)
		h.Skip = 10
	}
	want := []string{"grid:2", "grid:4", "grid:3", "grid:0"}
	if !slices.Equal(keys, want) {
		t.Errorf("proposals %v, want %v", keys, want)
	}
}
