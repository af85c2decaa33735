package experiments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/olc-toolkit/olc/optimize"
	"github.com/olc-toolkit/olc/optimize/functions"
)

// paramIdentity is the canonical form of a parameter in a study's identity.
type paramIdentity struct {
	Name   string          `json:"name"`
	Type   string          `json:"type"`
	Low    float64         `json:"low,omitempty"`
	High   float64         `json:"high,omitempty"`
	Log    bool            `json:"log,omitempty"`
	Step   float64         `json:"step,omitempty"`
	Points int             `json:"points,omitempty"`
	Values optimize.Values `json:"values,omitempty"`
	// Condition maps the parameters this one depends on to their values.
	Condition map[string]optimize.Values `json:"condition,omitempty"`
}

// Identity is what makes two runs the same study: the search space, the
// objective, the direction, the metric and the sampler with its settings.
// A study refuses to resume under a config with another identity.
type Identity struct {
	Direction optimize.Direction `json:"direction"`
	Metric    string             `json:"metric"`
	// Metrics and Directions are a study's objectives when it has several
	// (Metric and Direction are then the first's); nil otherwise.
	Metrics    []string             `json:"metrics,omitempty"`
	Directions []optimize.Direction `json:"directions,omitempty"`
	Sampler    string               `json:"sampler"`
	Seed       uint64               `json:"seed"`
	// SamplerOptions are the sampler's settings by name.
	SamplerOptions map[string]any `json:"sampler_options,omitempty"`
	Space          *optimize.Space
	// Objective describes the objective by its config keys.
	Objective map[string]any `json:"objective"`
}

// String returns the identity's canonical JSON.
func (id Identity) String() string {
	params := []paramIdentity{}
	if id.Space != nil {
		for _, p := range id.Space.Params() {
			pi := paramIdentity{p.Name, p.Kind.String(), p.Low, p.High, p.Log, p.Step, p.Points, p.Values, nil}
			for _, c := range p.Conditions {
				if pi.Condition == nil {
					pi.Condition = map[string]optimize.Values{}
				}
				pi.Condition[c.Param] = c.Values
			}
			params = append(params, pi)
		}
	}
	v := struct {
		Direction      optimize.Direction   `json:"direction"`
		Metric         string               `json:"metric"`
		Metrics        []string             `json:"metrics,omitempty"`
		Directions     []optimize.Direction `json:"directions,omitempty"`
		Sampler        string               `json:"sampler"`
		Seed           uint64               `json:"seed"`
		SamplerOptions map[string]any       `json:"sampler_options,omitempty"`
		Params         []paramIdentity      `json:"params"`
		Objective      map[string]any       `json:"objective"`
	}{id.Direction, id.Metric, id.Metrics, id.Directions, id.Sampler, id.Seed, id.SamplerOptions, params, id.Objective}
	b, err := json.Marshal(v)
	if err != nil {
		panic("experiments: identity does not encode: " + err.Error())
	}
	return string(b)
}

// DiffIdentities lists the differences between two identities' JSON as
// "key: old → new" lines, keys as configs spell them (params.x.high).
func DiffIdentities(old, new string) []string {
	a, b := flattenIdentity(old), flattenIdentity(new)
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	sorted := make([]string, 0, len(keys))
	for k := range keys {
		sorted = append(sorted, k)
	}
	slices.Sort(sorted)
	var out []string
	for _, k := range sorted {
		va, oka := a[k]
		vb, okb := b[k]
		switch {
		case !oka:
			out = append(out, fmt.Sprintf("%s: added (%s)", k, vb))
		case !okb:
			out = append(out, fmt.Sprintf("%s: removed (was %s)", k, va))
		case va != vb:
			out = append(out, fmt.Sprintf("%s: %s → %s", k, va, vb))
		}
	}
	return out
}

func flattenIdentity(s string) map[string]string {
	var v map[string]any
	out := map[string]string{}
	if json.Unmarshal([]byte(s), &v) != nil {
		out["identity"] = s
		return out
	}
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, w := range x {
				walk(join(prefix, k), w)
			}
		default:
			b, _ := json.Marshal(x)
			out[prefix] = string(b)
		}
	}
	for k, w := range v {
		switch k {
		case "params":
			list, _ := w.([]any)
			for i, p := range list {
				m, _ := p.(map[string]any)
				name, _ := m["name"].(string)
				if name == "" {
					name = strconv.Itoa(i)
				}
				// Declaration order matters to builtin objectives and grids.
				out["params."+name+".position"] = strconv.Itoa(i + 1)
				for pk, pv := range m {
					if pk != "name" {
						walk("params."+name+"."+pk, pv)
					}
				}
			}
		case "direction", "metric", "metrics", "directions", "sampler", "seed":
			walk("study."+k, w)
		case "sampler_options":
			walk("sampler", w)
		default:
			walk(k, w)
		}
	}
	return out
}

func join(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

// ChangedError is returned by OpenStudy when a study exists under the name
// with another identity.
type ChangedError struct {
	Study   string
	Changes []string
}

func (e *ChangedError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "study %q exists with a different search space, objective or sampler, so it cannot resume:", e.Study)
	for i, c := range e.Changes {
		if i == 10 {
			fmt.Fprintf(&b, "\n  … and %d more", len(e.Changes)-i)
			break
		}
		b.WriteString("\n  " + c)
	}
	return b.String()
}

// OpenStudy returns the study s.Name of the store: created from s when
// there is none, the stored one when its identity equals s.Identity, and a
// *ChangedError otherwise. With fresh, an existing study is first renamed
// to the first free name among s.Name.1, s.Name.2, …, which archived
// returns.
func OpenStudy(ctx context.Context, store Store, s *Study, fresh bool) (st *Study, created bool, archived string, err error) {
	old, err := store.Study(ctx, s.Name)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return nil, false, "", err
	case fresh:
		for k := 1; ; k++ {
			archived = s.Name + "." + strconv.Itoa(k)
			err := store.RenameStudy(ctx, s.Name, archived)
			if errors.Is(err, ErrStudyExists) {
				continue
			}
			if err != nil {
				return nil, false, "", err
			}
			break
		}
	case old.Identity != s.Identity:
		return nil, false, "", &ChangedError{Study: s.Name, Changes: DiffIdentities(old.Identity, s.Identity)}
	default:
		return old, false, "", nil
	}
	c := *s
	if err := store.CreateStudy(ctx, &c); err != nil {
		if errors.Is(err, ErrStudyExists) {
			// Another process created it meanwhile: resume that one.
			return OpenStudy(ctx, store, s, false)
		}
		return nil, false, "", err
	}
	return &c, true, archived, nil
}

// ObjectivesOf returns a study's metrics and their directions: several
// for a multi-objective study, else its one metric and direction.
func ObjectivesOf(s *Study) ([]string, []optimize.Direction) {
	var id struct {
		Metrics    []string             `json:"metrics"`
		Directions []optimize.Direction `json:"directions"`
	}
	if json.Unmarshal([]byte(s.Identity), &id) == nil && len(id.Metrics) > 1 && len(id.Directions) == len(id.Metrics) {
		return id.Metrics, id.Directions
	}
	return []string{s.Metric}, []optimize.Direction{s.Direction}
}

// SpaceOf returns the search space recorded in a study's identity.
func SpaceOf(s *Study) (*optimize.Space, error) {
	var id struct {
		Params []struct {
			Name      string                     `json:"name"`
			Type      string                     `json:"type"`
			Low       float64                    `json:"low"`
			High      float64                    `json:"high"`
			Log       bool                       `json:"log"`
			Step      float64                    `json:"step"`
			Points    int                        `json:"points"`
			Values    optimize.Values            `json:"values"`
			Condition map[string]optimize.Values `json:"condition"`
		} `json:"params"`
	}
	if err := json.Unmarshal([]byte(s.Identity), &id); err != nil {
		return nil, fmt.Errorf("study %q: read its search space: %w", s.Name, err)
	}
	params := make([]optimize.Param, 0, len(id.Params))
	for _, p := range id.Params {
		kind, ok := optimize.ParseKind(p.Type)
		if !ok {
			return nil, fmt.Errorf("study %q: parameter %q has unknown type %q", s.Name, p.Name, p.Type)
		}
		q := optimize.Param{Name: p.Name, Kind: kind, Low: p.Low, High: p.High, Log: p.Log, Step: p.Step, Points: p.Points}
		q.Values = p.Values
		for _, parent := range slices.Sorted(maps.Keys(p.Condition)) {
			q.Conditions = append(q.Conditions, optimize.Condition{Param: parent, Values: p.Condition[parent]})
		}
		params = append(params, q)
	}
	return optimize.NewSpace(params...)
}

// KnownOptimum returns the known minimum of a study's objective when it is
// a builtin test function minimized over its parameters, with the
// function's name: what its best values should approach.
func KnownOptimum(s *Study) (function string, min float64, ok bool) {
	var id struct {
		Objective struct {
			Kind     string `json:"kind"`
			Function string `json:"function"`
		} `json:"objective"`
		Params []json.RawMessage `json:"params"`
	}
	if s.Direction != optimize.Minimize || json.Unmarshal([]byte(s.Identity), &id) != nil || id.Objective.Kind != "builtin" {
		return "", 0, false
	}
	f, found := functions.Lookup(id.Objective.Function)
	if !found || !f.AcceptsDim(len(id.Params)) {
		return "", 0, false
	}
	return f.Name, f.Min(len(id.Params)), true
}
