package experiments

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/olc-toolkit/olc/optimize"
)

// Queued is a point enqueued to run before the sampler's proposals: from a
// config's [[enqueue]] tables or 'olc optimize enqueue'. The trial that
// runs it holds its Claim, so that it runs once however many processes
// share the study.
type Queued struct {
	// ID is assigned by the store, in the order points are added.
	ID int64
	// Key identifies the point within its study: a second point with the
	// same key is not added. A config's points are keyed by their values
	// (resuming a study does not queue them again); points enqueued by
	// hand by the time they were added.
	Key    string
	Params optimize.Params
	Added  time.Time
}

// Claim returns the claim of the trial that runs the point.
func (q *Queued) Claim() string { return "enqueue:" + strconv.FormatInt(q.ID, 10) }

// ConfigKey returns the key of a point enqueued by a config: its values.
func ConfigKey(p optimize.Params) string {
	b, _ := json.Marshal(p) // map keys sorted: canonical
	return "config:" + string(b)
}

// nextQueued returns the first queued point that no trial claims, or nil.
func nextQueued[T Trial | *Trial](queue []Queued, trials []T) *Queued {
	if len(queue) == 0 {
		return nil
	}
	held := map[string]bool{}
	for _, t := range trials {
		var claim string
		switch t := any(t).(type) {
		case Trial:
			claim = t.Claim
		case *Trial:
			claim = t.Claim
		}
		if claim != "" {
			held[claim] = true
		}
	}
	for i := range queue {
		if !held[queue[i].Claim()] {
			return &queue[i]
		}
	}
	return nil
}

// EnqueuePoints adds the config's [[enqueue]] points to the queue of the
// study opened from it; a point queued before is not queued again.
func (c *Config) EnqueuePoints(ctx context.Context, store Store, study *Study) error {
	for _, p := range c.Enqueue {
		if _, err := store.Enqueue(ctx, study.ID, &Queued{Key: ConfigKey(p), Params: p}); err != nil {
			return err
		}
	}
	return nil
}

// WarmStart returns the complete trials of the study the config's
// warm_start names (none without one), reading the store only. A warm
// start that is missing, searches another space or optimizes another
// metric is a *ConfigError.
func (c *Config) WarmStart(ctx context.Context, store Store) ([]optimize.Observation, error) {
	if c.Study.WarmStart == "" {
		return nil, nil
	}
	d := c.doc
	d.Reset()
	other, err := store.Study(ctx, c.Study.WarmStart)
	if errors.Is(err, ErrNotFound) {
		d.Fail("study.warm_start", "no study %q in the store to start from", c.Study.WarmStart)
		return nil, d.Err()
	}
	if err != nil {
		return nil, err
	}
	space, err := SpaceOf(other)
	if err != nil {
		return nil, err
	}
	if !sameSpace(space, c.Space) {
		d.Fail("study.warm_start", "study %q searches another space (%s); a warm start needs the same parameters, types and ranges", other.Name, strings.Join(space.Names(), ", "))
		return nil, d.Err()
	}
	if other.Metric != c.Study.Metric || other.Direction != c.Study.Direction {
		d.Fail("study.warm_start", "study %q %ss %q; this study %ss %q", other.Name, other.Direction, other.Metric, c.Study.Direction, c.Study.Metric)
		return nil, d.Err()
	}
	trials, err := store.Trials(ctx, other.ID, 0)
	if err != nil {
		return nil, err
	}
	var warm []optimize.Observation
	metrics, _ := ObjectivesOf(other)
	for i := range trials {
		if trials[i].State == optimize.Complete {
			warm = append(warm, trials[i].observation(metrics))
		}
	}
	return warm, nil
}

// sameSpace reports whether two spaces have the same parameters.
func sameSpace(a, b *optimize.Space) bool {
	pa, pb := a.Params(), b.Params()
	if len(pa) != len(pb) {
		return false
	}
	for i := range pa {
		x, y := pa[i], pb[i]
		if x.Name != y.Name || x.Kind != y.Kind || x.Low != y.Low || x.High != y.High || x.Log != y.Log || x.Step != y.Step || !slices.Equal(x.Values, y.Values) {
			return false
		}
	}
	return true
}
