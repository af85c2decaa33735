package scaling

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/olc-toolkit/olc/experiments"
	"github.com/olc-toolkit/olc/optimize"
)

// ReadTrials takes the points of law from the complete trials of the study
// named study, as ReadCSV takes them from a table: each column is a numeric
// parameter or a metric of the trial, looked up by cols; when the law
// needs D and cols.Compute names a column, a trial without D gets
// D = C/(6·N). Each point is labelled "trial N".
func ReadTrials(study string, trials []experiments.Trial, law Law, cols Columns) (*Data, error) {
	return readTrials(study, trials, law.Vars(), false, cols)
}

// ReadTrialsAll is ReadTrials for every variable of AllVars that the first
// complete trial has (for Analyze); only the loss is required.
func ReadTrialsAll(study string, trials []experiments.Trial, cols Columns) (*Data, error) {
	return readTrials(study, trials, AllVars, true, cols)
}

func readTrials(study string, trials []experiments.Trial, vars []string, optional bool, cols Columns) (*Data, error) {
	d := &Data{Vars: map[string][]float64{}}
	lookup := func(t *experiments.Trial, name string) (float64, error) {
		if v, ok := t.Params[name]; ok {
			switch x := v.(type) {
			case float64:
				return x, nil
			case int64:
				return float64(x), nil
			}
			return 0, &DataError{Label: fmt.Sprintf("trial %d", t.Number), Column: name, Msg: fmt.Sprintf("the parameter's value %v is not a number", v)}
		}
		if v, ok := t.Metrics[name]; ok {
			return v, nil
		}
		params := slices.Sorted(maps.Keys(t.Params))
		metrics := slices.Sorted(maps.Keys(t.Metrics))
		return 0, &DataError{Label: fmt.Sprintf("trial %d", t.Number), Column: name, Msg: fmt.Sprintf("no such parameter or metric; the trial has parameters %s and metrics %s", strings.Join(params, ", "), strings.Join(metrics, ", "))}
	}
	if optional {
		// Keep the variables the first complete trial has.
		var kept []string
		for i := range trials {
			t := &trials[i]
			if t.State != optimize.Complete {
				continue
			}
			for _, v := range vars {
				_, mapped := cols.Vars[v]
				_, err := lookup(t, cols.Of(v))
				if err == nil || mapped || (v == "D" && cols.Compute != "") {
					kept = append(kept, v)
				}
			}
			break
		}
		vars = kept
	}
	for i := range trials {
		t := &trials[i]
		if t.State != optimize.Complete {
			continue
		}
		for _, v := range vars {
			name := cols.Of(v)
			x, err := lookup(t, name)
			if err != nil && v == "D" && cols.Compute != "" {
				var c, n float64
				if c, err = lookup(t, cols.Compute); err == nil {
					if n, err = lookup(t, cols.Of("N")); err == nil {
						x = TokensFromFLOPs(c, n)
					}
				}
			}
			if err != nil {
				return nil, err
			}
			d.Vars[v] = append(d.Vars[v], x)
		}
		y, err := lookup(t, cols.Of("loss"))
		if err != nil {
			return nil, err
		}
		d.Loss = append(d.Loss, y)
		if cols.Compute != "" {
			c, err := lookup(t, cols.Compute)
			if err != nil {
				return nil, err
			}
			d.Compute = append(d.Compute, c)
		}
		d.Labels = append(d.Labels, fmt.Sprintf("trial %d", t.Number))
	}
	if d.Len() == 0 {
		return nil, &DataError{Msg: fmt.Sprintf("the study %s has no complete trial", study)}
	}
	return d, nil
}
