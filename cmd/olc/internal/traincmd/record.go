package traincmd

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"time"

	"github.com/olc-toolkit/olc/cmd/olc/internal/cmdutil"
	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/optimize"
	"github.com/olc-toolkit/olc/train"
)

// recorder keeps a training run in the experiment store: a study
// "train.<name>" with one trial per invocation (a resumption is a new
// trial), running while it trains, complete with the final evaluation and
// the periodic ones as intermediate values.
type recorder struct {
	store experiments.Store
	trial *experiments.Trial
}

func startRecord(ctx context.Context, path string, c *train.Config, resumed bool) (*recorder, error) {
	st, err := cmdutil.OpenStore(ctx, path, nil)
	if err != nil {
		return nil, err
	}
	name := "train." + c.Output.Name
	metric, dir := "eval_exact", optimize.Maximize
	if c.Train.Task == "mlm" {
		metric, dir = "eval_perplexity", optimize.Minimize
	}
	study, err := st.Study(ctx, name)
	if errors.Is(err, experiments.ErrNotFound) {
		text, _ := os.ReadFile(c.File)
		study = &experiments.Study{Name: name, Direction: dir, Metric: metric, Sampler: "train", Seed: c.Train.Seed, Config: string(text), Identity: "{}", Created: time.Now()}
		err = st.CreateStudy(ctx, study)
	}
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("record the run in %s: %w", cmdutil.StoreName(path), err)
	}
	now := time.Now()
	host := experiments.Host()
	tr := &experiments.Trial{StudyID: study.ID, State: optimize.Running, Value: math.NaN(), Attempt: 1, RetryOf: -1,
		Started: now, Heartbeat: now, LogPath: c.RunDir(), Owner: fmt.Sprintf("%s:%d", host, os.Getpid()),
		Params: optimize.Params{
			"optimizer.lr": c.Optimizer.LR, "train.batch": int64(c.Train.Batch), "train.steps": int64(c.Train.Steps),
			"model.hidden_size": int64(c.Model.HiddenSize), "model.num_hidden_layers": int64(c.Model.NumHiddenLayers),
			"model.attention_window": int64(c.Model.Window(0)), "model.global_attention": c.Model.GlobalAttention,
			"train.seed": int64(c.Train.Seed), "resumed": resumed,
		}}
	if err := st.CreateTrial(ctx, tr); err != nil {
		st.Close()
		return nil, fmt.Errorf("record the run in %s: %w", cmdutil.StoreName(path), err)
	}
	return &recorder{store: st, trial: tr}, nil
}

// finish records the outcome; an interrupted run is recorded as failed
// with reason "interrupted" (its checkpoint resumes it).
func (r *recorder) finish(res *train.Result, evals []train.EvalInfo, runErr error) error {
	st := r.store
	defer st.Close()
	t := r.trial
	t.Finished = time.Now()
	for _, e := range evals {
		m := map[string]float64{"eval_loss": e.Loss, "eval_exact": e.Exact, "eval_f1": e.F1}
		if e.Perplexity > 0 {
			m = map[string]float64{"eval_loss": e.Loss, "eval_perplexity": e.Perplexity}
		}
		t.Intermediate = append(t.Intermediate, experiments.Intermediate{Step: e.Step, Metrics: m})
	}
	switch {
	case runErr != nil:
		t.State, t.Error, t.Reason = optimize.Failed, runErr.Error(), experiments.ReasonError
	case res.Stopped == train.StopInterrupted:
		t.State, t.Error, t.Reason = optimize.Failed, "interrupted; resume with --resume", experiments.ReasonInterrupted
	default:
		t.State = optimize.Complete
		t.Metrics = map[string]float64{"final_loss": res.FinalLoss, "tokens_per_s": res.TokensPerS, "steps": float64(res.Steps)}
		if n := len(t.Intermediate); res.Eval != nil && n > 0 {
			for k, v := range t.Intermediate[n-1].Metrics {
				t.Metrics[k] = v
			}
		}
		if v, ok := t.Metrics["eval_exact"]; ok {
			t.Value = v
		} else if v, ok := t.Metrics["eval_perplexity"]; ok {
			t.Value = v
		} else {
			t.State, t.Error, t.Reason = optimize.Failed, "no evaluation data", experiments.ReasonError
		}
	}
	// The record is written even when the run's context was cancelled.
	return st.FinishTrial(context.WithoutCancel(context.Background()), t)
}
