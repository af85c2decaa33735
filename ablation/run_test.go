package ablation

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/olc-toolkit/olc/experiments"
)

// plantedObjective is the config's objective replaced by a Go function:
// accuracy 0.8, 0.10 less without a, b worth nothing, noise shared by the
// variants of a seed (sd 0.1) and a little of each run (sd 0.01).
func plantedObjective(calls *atomic.Int64) experiments.Objective {
	return experiments.ObjectiveFunc(func(ctx context.Context, r experiments.TrialRun) (experiments.Outcome, error) {
		calls.Add(1)
		seed := uint64(r.Params["seed"].(int64))
		shared := 0.1 * rand.New(rand.NewPCG(seed, 0)).NormFloat64()
		own := 0.01 * rand.New(rand.NewPCG(seed, uint64(r.Number)+1)).NormFloat64()
		acc := 0.8 + shared + own
		if r.Params["a"] == false {
			acc -= 0.10
		}
		return experiments.Outcome{Metrics: map[string]float64{"acc": acc, "loss": 1 - acc}}, nil
	})
}

func TestRunResumeReport(t *testing.T) {
	text := strings.Replace(goodConfig, "seeds = [1, 2, 3]", "seeds = [1, 2, 3, 4, 5, 6, 7, 8]", 1)
	c, err := LoadConfig(writeConfig(t, text), false)
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int64
	c.Objective = plantedObjective(&calls)
	store := experiments.NewMemoryStore()
	ctx := context.Background()
	res, err := Run(ctx, store, c, RunOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Complete != 24 || res.Failed != 0 || calls.Load() != 24 {
		t.Fatalf("complete %d, failed %d, %d calls; want 24 of each", res.Complete, res.Failed, calls.Load())
	}
	acc := res.Metrics[0]
	if a := acc.Effects[0]; !a.Significant || a.CI[0] > -0.10 || a.CI[1] < -0.10 {
		t.Errorf("a: %+v", a)
	}
	if b := acc.Effects[1]; b.Significant {
		t.Errorf("b: %+v", b)
	}
	if loss := res.Metrics[1]; loss.Goal != "minimize" || loss.Effects[0].Diff < 0.05 {
		t.Errorf("loss rises without a: %+v", loss.Effects[0])
	}
	// A rerun resumes: nothing runs again, and the analysis is the same.
	again, err := Run(ctx, store, c, RunOptions{})
	if err != nil || calls.Load() != 24 {
		t.Fatalf("rerun: %d calls, %v", calls.Load(), err)
	}
	j1, _ := json.Marshal(res)
	j2, _ := json.Marshal(again)
	rep, err := Report(ctx, store, c, res.Study, 0)
	if err != nil {
		t.Fatal(err)
	}
	j3, _ := json.Marshal(rep)
	if string(j1) != string(j2) || string(j1) != string(j3) {
		t.Errorf("run, rerun and report differ:\n%s\n%s\n%s", j1, j2, j3)
	}
	// Another ablation under the same name is refused, not mixed in.
	c2, _ := LoadConfig(writeConfig(t, strings.Replace(text, "steps = 600", "steps = 700", 1)), false)
	c2.Objective = plantedObjective(&calls)
	var changed *experiments.ChangedError
	if _, err := Run(ctx, store, c2, RunOptions{}); !errors.As(err, &changed) {
		t.Errorf("a changed ablation: %v, want a ChangedError", err)
	}
	// A metric the objective never reports is named with those it did.
	c.Metrics = append(c.Metrics, Metric{Name: "f1", Goal: "maximize"})
	if _, err := Report(ctx, store, c, res.Study, 0); err == nil || !strings.Contains(err.Error(), `no complete trial reported the metric "f1"; the trials reported acc, loss`) {
		t.Errorf("missing metric: %v", err)
	}
}

// TestNewConfigChecks: a Spec is checked with a config file's rules, its
// errors naming the key without the generated text's lines, and its
// text is a config that ParseStored reads back to the same plan.
func TestNewConfigChecks(t *testing.T) {
	obj := experiments.ObjectiveFunc(func(context.Context, experiments.TrialRun) (experiments.Outcome, error) {
		return experiments.Outcome{}, nil
	})
	good := Spec{
		Name: "s", Seeds: []int64{1, 2}, SeedKey: "seed", Metrics: []Metric{{Name: "acc", Goal: "maximize"}},
		Base:       map[string]any{"model.ff": true, "lr": 0.1},
		Components: []Component{{Name: "ff", Ablate: map[string]any{"model.ff": false}}},
	}
	c, err := NewConfig(good, obj)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseStored("stored", c.Text)
	if err != nil {
		t.Fatalf("%v\n%s", err, c.Text)
	}
	if len(back.Variants) != 2 || back.Variants[1].Values["model.ff"] != false || back.Variants[1].Values["lr"] != 0.1 || c.Design != LeaveOneOut {
		t.Errorf("the stored text plans %+v", back.Variants)
	}
	if !slices.Contains(c.Space.Names(), "seed") || len(c.Space.Names()) != 3 {
		t.Errorf("space %v", c.Space.Names())
	}
	for _, tc := range []struct {
		edit func(*Spec)
		want string
	}{
		{func(s *Spec) { s.Seeds = []int64{1, 1} }, "ablation spec: ablation.seeds[1]: seed 1 is listed twice"},
		{func(s *Spec) { s.Seeds = nil }, "ablation spec: ablation.seeds: must be a non-empty array"},
		{func(s *Spec) { s.Design = "loo" }, `ablation spec: ablation.design: unknown design "loo"`},
		{func(s *Spec) {
			s.Components = append(s.Components, Component{Name: "ff", Ablate: map[string]any{"lr": 0.0}})
		}, `ablation spec: components[1].name: component "ff" is already components[0]`},
		{func(s *Spec) { s.Components = []Component{{Name: "x"}} }, "ablation spec: components[0].ablate: sets no key"},
		{func(s *Spec) { s.Metrics[0].Goal = "up" }, `ablation spec: ablation.metrics[0].goal: must be "maximize" or "minimize"`},
		{func(s *Spec) { s.Base = map[string]any{"seed": int64(3)} }, "ablation spec: base.seed: the seed comes from Seeds"},
	} {
		s := good
		s.Metrics = slices.Clone(good.Metrics)
		tc.edit(&s)
		_, err := NewConfig(s, obj)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("got %v, want %q", err, tc.want)
		}
	}
	if _, err := NewConfig(good, nil); err == nil {
		t.Error("no objective was accepted")
	}
}

// TestRunFailures: a pair that fails on every attempt is counted once and
// listed with its last error, and the analysis pairs the seeds left.
func TestRunFailures(t *testing.T) {
	obj := experiments.ObjectiveFunc(func(ctx context.Context, r experiments.TrialRun) (experiments.Outcome, error) {
		seed := r.Params["seed"].(int64)
		if r.Params["a"] == false && seed == 2 {
			return experiments.Outcome{}, errors.New("diverged")
		}
		return experiments.Outcome{Metrics: map[string]float64{"acc": float64(seed) / 10}}, nil
	})
	res, err := Ablate(context.Background(), obj, Spec{
		Name: "f", Seeds: []int64{1, 2, 3}, SeedKey: "seed", MaxRetries: 2,
		Metrics: []Metric{{Name: "acc", Goal: "maximize"}}, Base: map[string]any{"a": true},
		Components: []Component{{Name: "a", Ablate: map[string]any{"a": false}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Complete != 5 || res.Failed != 1 || len(res.Failures) != 1 || res.Failures[0] != (Failure{Variant: "no a", Seed: 2, Error: "diverged"}) {
		t.Errorf("complete %d, failed %d, failures %+v", res.Complete, res.Failed, res.Failures)
	}
	if e := res.Metrics[0].Effects[0]; e.N != 2 {
		t.Errorf("effect over %d seeds, want 2", e.N)
	}
}
