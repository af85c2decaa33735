package experiments

import (
	"context"
	"fmt"

	"github.com/olc-toolkit/olc/optimize"
)

// Recommendation is the best trial of a study by its sampler's model: for
// a noisy objective, the complete trial with the best posterior mean,
// rather than the best observed value, which favours lucky draws.
type Recommendation struct {
	Trial *Trial
	// Mean is the trial's posterior mean, in the metric's units, and Low
	// and High bound its 95% posterior interval (±Inf where unbounded).
	Mean, Low, High float64
}

// Recommend asks the sampler for the best trial by its model. It returns
// nil when the sampler has no model (grid, random) or assumes a noiseless
// objective, in which case the best observed value is the answer.
func Recommend(ctx context.Context, s optimize.Sampler, study *Study, trials []Trial) (*Recommendation, error) {
	r, ok := s.(optimize.Recommender)
	if !ok {
		return nil, nil
	}
	h := history(study, trials)
	rec, ok, err := r.Recommend(ctx, h)
	if err != nil || !ok {
		return nil, err
	}
	if rec.Number < 0 || rec.Number >= len(trials) || trials[rec.Number].Number != rec.Number {
		return nil, fmt.Errorf("recommend: trial %d is not in the study", rec.Number)
	}
	return &Recommendation{Trial: &trials[rec.Number], Mean: rec.Mean, Low: rec.Low, High: rec.High}, nil
}

// ConfigOf returns the config a study was created from, with its sampler
// (which a flag may have chosen).
func ConfigOf(study *Study) (*Config, error) {
	cfg, err := ParseConfig(study.Name+" (stored config)", []byte(study.Config))
	if err != nil {
		return nil, err
	}
	cfg.Study.Sampler = study.Sampler
	return cfg, nil
}

// SamplerOf rebuilds a study's sampler from the config it was created with.
func SamplerOf(study *Study) (optimize.Sampler, error) {
	cfg, err := ConfigOf(study)
	if err != nil {
		return nil, err
	}
	if cfg.Study.Trials == 0 {
		cfg.Study.Trials = 1 // the sampler does not depend on it
	}
	plan, err := cfg.Plan()
	if err != nil {
		return nil, err
	}
	return plan.Sampler, nil
}
