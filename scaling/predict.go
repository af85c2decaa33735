package scaling

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
)

// ReadResult reads a Result written as JSON (by 'olc scaling fit --out')
// and checks that its law and parameters are known.
func ReadResult(r io.Reader) (*Result, error) {
	var res Result
	if err := json.NewDecoder(r).Decode(&res); err != nil {
		return nil, fmt.Errorf("not a fit written by olc scaling fit: %w", err)
	}
	law, err := LawByName(res.LawName)
	if err != nil {
		return nil, fmt.Errorf("the fit's law: %w", err)
	}
	res.Law = law
	if !slices.Equal(res.ParamNames, law.Params()) {
		return nil, fmt.Errorf("the fit's parameters %v are not those of the law %s (%v)", res.ParamNames, law.Name(), law.Params())
	}
	for _, n := range res.ParamNames {
		e, ok := res.Params[n]
		if !ok || math.IsNaN(e.Value) {
			return nil, fmt.Errorf("the fit lacks the value of the parameter %s", n)
		}
	}
	if res.Transform == "" {
		res.Transform = NoTransform
	}
	if res.Bootstrap != nil {
		for i, s := range res.Bootstrap.Samples {
			if len(s) != len(res.ParamNames) {
				return nil, fmt.Errorf("bootstrap sample %d has %d values for %d parameters", i, len(s), len(res.ParamNames))
			}
		}
	}
	return &res, nil
}

// PredictAt returns the fitted law's value at x (the variables in the
// order of r.Law.Vars()), on the metric's scale, with the standard error
// and 95% percentile interval of the bootstrap fits' values there: the
// uncertainty of the fitted law, not the scatter of single runs about it.
func (r *Result) PredictAt(x []float64) Estimate {
	v := r.Transform.Back(Predict(r.Law, r.Values(), x))
	if r.Bootstrap == nil || len(r.Bootstrap.Samples) < 2 {
		return pointEstimate(v)
	}
	reps := make([]float64, len(r.Bootstrap.Samples))
	for i, s := range r.Bootstrap.Samples {
		reps[i] = r.Transform.Back(Predict(r.Law, s, x))
	}
	return withInterval(v, reps)
}
