package optimize_test

import (
	"context"
	"fmt"

	"github.com/olc-toolkit/olc/optimize"
)

// ExampleGrid proposes every point of a small grid once, in order, skipping
// points the history already holds.
func ExampleGrid() {
	space, _ := optimize.NewSpace(
		optimize.Param{Name: "lr", Kind: optimize.Float, Low: 1e-3, High: 1e-1, Log: true, Points: 3},
		optimize.Param{Name: "opt", Kind: optimize.Categorical, Values: []any{"adam", "sgd"}},
	)
	grid, _ := optimize.NewGrid(space)
	h := &optimize.History{Direction: optimize.Minimize}
	for {
		p, err := grid.Propose(context.Background(), h)
		if err == optimize.ErrExhausted {
			break
		}
		fmt.Printf("%s lr=%.3g opt=%v\n", p.Key, p.Params["lr"], p.Params["opt"])
		// A runner records the trial before asking for the next point.
		h.Trials = append(h.Trials, optimize.Observation{Number: len(h.Trials), Params: p.Params, State: optimize.Running, Key: p.Key})
	}
	// Output:
	// grid:0 lr=0.001 opt=adam
	// grid:1 lr=0.001 opt=sgd
	// grid:2 lr=0.01 opt=adam
	// grid:3 lr=0.01 opt=sgd
	// grid:4 lr=0.1 opt=adam
	// grid:5 lr=0.1 opt=sgd
}
