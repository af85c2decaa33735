package scaling

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// A Record is one finished run as an experiment record keeps it: its
// parameters and its metrics by name. A study's complete trials are
// records (package scaling imports no other olc package; the caller
// converts).
type Record struct {
	// Label names the run in messages, e.g. "trial 3"; Kind says what
	// it is ("trial"; "run" when empty).
	Label, Kind string
	// Params are the run's parameters; float64 and int64 values are
	// numbers, others are refused when a column names them.
	Params map[string]any
	// Metrics are the run's final metrics.
	Metrics map[string]float64
}

// ReadRecords takes the points of law from runs, as ReadCSV takes them
// from a table: each column is a numeric parameter or a metric of the run,
// looked up by cols; when the law needs D and cols.Compute names a column,
// a run without D gets D = C/(6·N). source names the runs in messages
// (e.g. "the study sweep").
func ReadRecords(source string, runs []Record, law Law, cols Columns) (*Data, error) {
	return readRecords(source, runs, law.Vars(), false, cols)
}

// ReadRecordsAll is ReadRecords for every variable of AllVars that the
// first run has (for Analyze); only the loss is required.
func ReadRecordsAll(source string, runs []Record, cols Columns) (*Data, error) {
	return readRecords(source, runs, AllVars, true, cols)
}

func readRecords(source string, runs []Record, vars []string, optional bool, cols Columns) (*Data, error) {
	d := &Data{Vars: map[string][]float64{}}
	lookup := func(r *Record, name string) (float64, error) {
		if v, ok := r.Params[name]; ok {
			switch x := v.(type) {
			case float64:
				return x, nil
			case int64:
				return float64(x), nil
			}
			return 0, &DataError{Label: r.Label, Column: name, Msg: fmt.Sprintf("the parameter's value %v is not a number", v)}
		}
		if v, ok := r.Metrics[name]; ok {
			return v, nil
		}
		params := slices.Sorted(maps.Keys(r.Params))
		metrics := slices.Sorted(maps.Keys(r.Metrics))
		kind := cmp.Or(r.Kind, "run")
		return 0, &DataError{Label: r.Label, Column: name, Msg: fmt.Sprintf("no such parameter or metric; the %s has parameters %s and metrics %s", kind, strings.Join(params, ", "), strings.Join(metrics, ", "))}
	}
	if len(runs) == 0 {
		return nil, &DataError{Msg: fmt.Sprintf("%s has no runs to fit", source)}
	}
	if optional {
		// Keep the variables the first run has.
		var kept []string
		for _, v := range vars {
			_, mapped := cols.Vars[v]
			_, err := lookup(&runs[0], cols.Of(v))
			if err == nil || mapped || (v == "D" && cols.Compute != "") {
				kept = append(kept, v)
			}
		}
		vars = kept
	}
	for i := range runs {
		r := &runs[i]
		for _, v := range vars {
			x, err := lookup(r, cols.Of(v))
			if err != nil && v == "D" && cols.Compute != "" {
				var c, n float64
				if c, err = lookup(r, cols.Compute); err == nil {
					if n, err = lookup(r, cols.Of("N")); err == nil {
						x = TokensFromFLOPs(c, n)
					}
				}
			}
			if err != nil {
				return nil, err
			}
			d.Vars[v] = append(d.Vars[v], x)
		}
		y, err := lookup(r, cols.Of("loss"))
		if err != nil {
			return nil, err
		}
		d.Loss = append(d.Loss, y)
		if cols.Compute != "" {
			c, err := lookup(r, cols.Compute)
			if err != nil {
				return nil, err
			}
			d.Compute = append(d.Compute, c)
		}
		d.Labels = append(d.Labels, r.Label)
	}
	return d, nil
}
