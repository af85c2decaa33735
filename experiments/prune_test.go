package experiments_test

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/optimize"
)

// curveObjective reports value(params) + 10/step at steps 1…10 and
// stops when told to.
func curveObjective(ctx context.Context, r experiments.TrialRun) (experiments.Outcome, error) {
	x1, x2 := r.Params["x1"].(float64), r.Params["x2"].(float64)
	base := x1*x1 + x2*x2
	var out experiments.Outcome
	for step := 1; step <= 10; step++ {
		v := base + 10/float64(step)
		m := map[string]float64{"value": v}
		out.Intermediate = append(out.Intermediate, experiments.Intermediate{Step: step, Metrics: m})
		if r.Report != nil && r.Report(step, m) {
			return out, experiments.ErrPruned
		}
	}
	out.Metrics = map[string]float64{"value": base + 1}
	return out, nil
}

func TestRunnerPrunes(t *testing.T) {
	for _, pr := range []optimize.Pruner{
		&optimize.MedianPruner{StartupTrials: 3, MinTrials: 1},
		&optimize.ASHA{MinResource: 1, ReductionFactor: 3},
	} {
		t.Run(pr.Name(), func(t *testing.T) {
			store := experiments.NewMemoryStore()
			f := newFixture(t, store, "random")
			r := f.runner(t, experiments.ObjectiveFunc(curveObjective), 30)
			r.Pruner = pr
			sum, err := r.Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			trials := f.trials(t)
			c := experiments.CountStates(trials)
			if c.Complete+c.Pruned != 30 || c.Pruned < 5 || c.Failed != 0 || sum.Pruned != c.Pruned {
				t.Fatalf("%+v (summary %+v): want 30 complete or pruned, at least 5 pruned", c, sum.Counts)
			}
			best := experiments.Best(trials, optimize.Minimize)
			for _, tr := range trials {
				if tr.State != optimize.Pruned {
					continue
				}
				n := len(tr.Intermediate)
				if n == 0 || n == 10 || !math.IsNaN(tr.Value) || !strings.Contains(tr.Error, "pruned at step "+strconv.Itoa(tr.Intermediate[n-1].Step)+" by the "+pr.Name()) {
					t.Errorf("pruned trial %d: %d steps, value %v, error %q", tr.Number, n, tr.Value, tr.Error)
				}
				// A pruned trial would not have been the best.
				x1, x2 := tr.Params["x1"].(float64), tr.Params["x2"].(float64)
				if x1*x1+x2*x2+1 < best.Value {
					t.Errorf("trial %d was pruned but would have been the best (%v < %v)", tr.Number, x1*x1+x2*x2+1, best.Value)
				}
			}
		})
	}
}

func TestCommandPruned(t *testing.T) {
	for _, c := range []struct {
		name, trap string
		term       bool
	}{
		{"stops on SIGTERM", `trap 'echo term > "$OLC_TRIAL_DIR/term"; exit 143' TERM`, true},
		{"killed after the grace", `trap 'echo ignored > "$OLC_TRIAL_DIR/term"' TERM`, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := script(t, c.trap+`
i=1
while [ $i -le 200 ]; do
  echo "{\"step\": $i, \"loss\": $i}"
  sleep 0.02
  i=$((i+1))
done
echo '{"loss": 0}'
`)
			cmd := &experiments.Command{Argv: []string{path}, Grace: 300 * time.Millisecond}
			dir := filepath.Join(t.TempDir(), "trial")
			var seen []int
			start := time.Now()
			out, err := cmd.Run(context.Background(), experiments.TrialRun{Study: "s", Number: 0, Attempt: 1, Params: optimize.Params{}, Metric: "loss", Dir: dir,
				Report: func(step int, m map[string]float64) bool {
					if m["loss"] != float64(step) {
						t.Errorf("step %d reported loss %v", step, m["loss"])
					}
					seen = append(seen, step)
					return step == 5
				}})
			if !errors.Is(err, experiments.ErrPruned) {
				t.Fatalf("Run = %v, want ErrPruned", err)
			}
			if len(seen) != 5 || len(out.Intermediate) < 5 || out.Intermediate[4].Step != 5 {
				t.Errorf("reported %v, intermediate %d values; want steps 1–5", seen, len(out.Intermediate))
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("pruned trial took %s; it runs 4 s when not stopped", d)
			}
			b, _ := os.ReadFile(filepath.Join(dir, "term"))
			if got := strings.TrimSpace(string(b)); (c.term && got != "term") || (!c.term && got != "ignored") {
				t.Errorf("the program's trap wrote %q", got)
			}
		})
	}
}
