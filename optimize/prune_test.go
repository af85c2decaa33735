package optimize_test

import (
	"strings"
	"testing"

	"github.com/olc-toolkit/olc/optimize"
)

func curve(n int, s optimize.State, steps []int, values ...float64) optimize.Curve {
	return optimize.Curve{Number: n, State: s, Steps: steps, Values: values}
}

var steps3 = []int{10, 20, 30}

func TestMedianPruner(t *testing.T) {
	done := []optimize.Curve{
		curve(0, optimize.Complete, steps3, 5, 3, 1),
		curve(1, optimize.Complete, steps3, 6, 4, 2),
		curve(2, optimize.Complete, steps3, 7, 5, 3),
		curve(3, optimize.Pruned, steps3[:1], 100),     // not complete: not counted
		curve(4, optimize.Running, steps3[:2], 0.1, 0), // not complete: not counted
	}
	p := &optimize.MedianPruner{StartupTrials: 3, MinTrials: 1}
	cases := []struct {
		name   string
		p      *optimize.MedianPruner
		dir    optimize.Direction
		trial  optimize.Curve
		others []optimize.Curve
		prune  bool
		why    string
	}{
		// Median at step 20 of 3, 4, 5 is 4.
		{"worse than the median", p, optimize.Minimize, curve(9, optimize.Running, steps3[:2], 6, 4.5), done, true, "median 4 of 3 complete trials"},
		{"equal to the median", p, optimize.Minimize, curve(9, optimize.Running, steps3[:2], 6, 4), done, false, "no worse"},
		{"best so far counts, not the last", p, optimize.Minimize, curve(9, optimize.Running, steps3[:2], 3.5, 4.5), done, false, "no worse"},
		{"maximize", p, optimize.Maximize, curve(9, optimize.Running, steps3[:2], 1, 4.5), done, false, "no worse"},
		{"maximize, worse", p, optimize.Maximize, curve(9, optimize.Running, steps3[:2], 1, 3.5), done, true, "worse than the median 4"},
		{"start-up", p, optimize.Minimize, curve(9, optimize.Running, steps3[:2], 60, 45), done[:2], false, "2 of 3 start-up trials"},
		{"warm-up", &optimize.MedianPruner{WarmupSteps: 25}, optimize.Minimize, curve(9, optimize.Running, steps3[:2], 60, 45), done, false, "warm-up"},
		{"after warm-up", &optimize.MedianPruner{WarmupSteps: 25}, optimize.Minimize, curve(9, optimize.Running, steps3, 60, 45, 30), done, true, "median 2"},
		{"too few at the step", &optimize.MedianPruner{MinTrials: 4}, optimize.Minimize, curve(9, optimize.Running, steps3[:2], 60, 45), done, false, "3 complete trials reported"},
		{"no peer at the step", p, optimize.Minimize, curve(9, optimize.Running, []int{15}, 60), done, false, "0 complete trials reported at step 15"},
		{"even count", p, optimize.Minimize, curve(9, optimize.Running, steps3, 60, 45, 2.6), append(done, curve(5, optimize.Complete, steps3, 1, 1, 4)), true, "median 2.5 of 4"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := c.p.Prune(c.dir, &c.trial, c.others)
			if d.Prune != c.prune || !strings.Contains(d.Reason, c.why) {
				t.Errorf("Prune = %v (%s), want %v (%q)", d.Prune, d.Reason, c.prune, c.why)
			}
		})
	}
}

func TestASHA(t *testing.T) {
	// η = 2, rungs at steps 1, 2, 4, 8.
	p := &optimize.ASHA{MinResource: 1, ReductionFactor: 2}
	all := []int{1, 2, 3, 4, 5, 8}
	others := []optimize.Curve{
		curve(0, optimize.Complete, all, 10, 8, 7, 6, 5, 4),
		curve(1, optimize.Pruned, all[:1], 20),
		curve(2, optimize.Running, all[:2], 12, 9),
		curve(3, optimize.Complete, all, 11, 10, 9, 8, 7, 6),
	}
	cases := []struct {
		name   string
		p      *optimize.ASHA
		dir    optimize.Direction
		trial  optimize.Curve
		others []optimize.Curve
		prune  bool
		why    string
	}{
		// Rung 1 values 10, 20, 12, 11 and 11.5: sorted 10 11 11.5 12 20,
		// the best 5/2 = 2 pass: 11.5 does not.
		{"rung 1, not in the top half", p, optimize.Minimize, curve(9, optimize.Running, all[:1], 11.5), others, true, "not among the best 1/2 of the 5 trials there (cut-off 11)"},
		{"rung 1, in the top half", p, optimize.Minimize, curve(9, optimize.Running, all[:1], 10.5), others, false, "promoted at rung 1"},
		// Judged once per rung: step 3 reaches no new rung whatever its value.
		{"between rungs", p, optimize.Minimize, curve(9, optimize.Running, all[:3], 10.5, 8.5, 100), others, false, "reaches no new rung"},
		// Rung 2: 8, 9, 10 and 8.5: sorted 8 8.5 9 10, 2 pass.
		{"rung 2, promoted", p, optimize.Minimize, curve(9, optimize.Running, all[:2], 10.5, 8.5), others, false, "promoted at rung 2"},
		{"rung 2, pruned", p, optimize.Minimize, curve(9, optimize.Running, all[:2], 10.5, 9.5), others, true, "rung 2"},
		// Rung 4 (values at the first step ≥ 4): 6, 8 and the trial's.
		{"rung 4 by a later step", p, optimize.Minimize, curve(9, optimize.Running, []int{1, 2, 5}, 10.5, 8.5, 7.5), others, true, "rung 4"},
		// While fewer than η trials are at a rung, only the best goes on.
		{"alone at first", p, optimize.Minimize, curve(9, optimize.Running, all[:1], 3), nil, false, "promoted"},
		{"two, the worse", p, optimize.Minimize, curve(9, optimize.Running, all[:1], 3), []optimize.Curve{curve(0, optimize.Running, all[:1], 2)}, true, "cut-off 2"},
		{"three, the worst", &optimize.ASHA{MinResource: 1, ReductionFactor: 3}, optimize.Minimize, curve(9, optimize.Running, all[:1], 3), []optimize.Curve{curve(0, optimize.Running, all[:1], 2), curve(1, optimize.Running, all[:1], 1)}, true, "cut-off 1"},
		{"maximize", p, optimize.Maximize, curve(9, optimize.Running, all[:1], 19), others, false, "promoted"},
		{"maximize, pruned", p, optimize.Maximize, curve(9, optimize.Running, all[:1], 11.5), others, true, "cut-off 12"},
		{"below the first rung", &optimize.ASHA{MinResource: 10, ReductionFactor: 3}, optimize.Minimize, curve(9, optimize.Running, all[:1], 100), others, false, "no new rung"},
		// Auto: the first rung is the first step anyone reported (100).
		{"auto min resource", &optimize.ASHA{ReductionFactor: 2}, optimize.Minimize, curve(9, optimize.Running, []int{100}, 5), []optimize.Curve{curve(0, optimize.Complete, []int{100, 200}, 1, 0.5), curve(1, optimize.Complete, []int{100, 200}, 2, 1)}, true, "rung 100"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := c.p.Prune(c.dir, &c.trial, c.others)
			if d.Prune != c.prune || !strings.Contains(d.Reason, c.why) {
				t.Errorf("Prune = %v (%s), want %v (%q)", d.Prune, d.Reason, c.prune, c.why)
			}
		})
	}
}
